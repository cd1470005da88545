"""The only HTTP session: requests-cache with ETag revalidation, key-safe, with a User-Agent."""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import requests_cache
from requests_cache import DO_NOT_CACHE, EXPIRE_IMMEDIATELY
from requests_cache.policy.settings import DEFAULT_IGNORED_PARAMS
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from bzmine.version import __version__

USER_AGENT = f"bzmine/{__version__} (+https://github.com/bzmine/bzmine)"
# Keys never reach the cache: these headers/params are redacted in stored requests and cache keys.
SECRET_PARAMS = ("X-BUGZILLA-API-KEY", "Bugzilla_api_key", "api_key", "Bugzilla_token")


def _is_json_success(response: requests.Response) -> bool:
    """Cache only whole, real answers: a body cut short by a proxy, or an error envelope, is never stored
    (a stored bad body would be revalidated by its ETag and served again).

    Detail batches (comments and history inline) are not cached at all: bzmine asks for a bug only when it changed,
    so a stored copy would never be revalidated, and storing them duplicated the database and cost 40 % of a
    full sync's time (benchmarks/RESULTS.md)."""
    if "comments" in parse_qs(urlsplit(response.url or "").query).get("include_fields", [""])[0]:
        return False
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and not body.get("error")


KEY_HEADER = "X-BUGZILLA-API-KEY"
# scheme://host[:port][/path] and nothing else: no userinfo, backslash, query, fragment, space or control character
# (parsers disagree on those, and the one that checks must see the host the one that connects will)
_STRICT_URL = re.compile(
    r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?(?P<path>/[A-Za-z0-9._~!$&'()*+,;=:%/-]*)?",
    re.ASCII,
)


def check_url(url: str) -> str:
    """The base URL, refused unless it is plainly scheme://host[:port][/path] and urllib3 (the parser that connects)
    and urllib.parse (the one that checks) agree on its origin; returns the host. Raises ValueError saying why."""
    m = _STRICT_URL.fullmatch(url)
    if m is None:
        bad = next((c for c in url if c in "\\@?#" or ord(c) <= 32 or ord(c) >= 127), None)
        why = f"it contains {bad!r}" if bad else "it is not scheme://host[:port][/path]"
        raise ValueError(
            f"{why}; give only scheme://host[:port][/path], without user name, query or fragment"
        )
    port = m["port"]
    if port is not None and not 0 < int(port) <= 65535:
        raise ValueError(f"port {port} is out of range (1-65535)")
    if origin(url) != _checked_origin(url):
        raise ValueError("its host is read differently by the URL parsers; give a plain host name")
    return m["host"].strip("[]")


def _checked_origin(url: str) -> tuple[str, str, int | None]:
    u = urlsplit(url)
    port = u.port or {"http": 80, "https": 443}.get(u.scheme)
    return (u.scheme.lower(), (u.hostname or "").lower(), port)


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) as urllib3 reads it (the parser requests connects with), default port filled in: what
    "the same origin" compares."""
    try:
        u = parse_url(url)
    except LocationParseError:
        return ("", "", None)
    scheme = (u.scheme or "").lower()
    port = u.port or {"http": 80, "https": 443}.get(scheme)
    return (scheme, (u.host or "").lower().strip("[]"), port)


def is_loopback(url: str) -> bool:
    host = origin(url)[1]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def protect_key(session: requests.Session, base_url: str, key: str) -> None:
    """Send the API key only to the configured origin: every prepared request (the first, each retry, each
    redirect) gets the header if, and only if, its URL's origin as urllib3 reads it is that of --url.

    The key is never a session header: requests strips `Authorization` on cross-origin redirects but keeps custom
    headers such as X-BUGZILLA-API-KEY, and a URL that two parsers read differently must not carry it anywhere.
    """
    home = origin(base_url)
    plain = session.send

    def send(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        for name in list(request.headers):
            if name.lower() in ("x-bugzilla-api-key", "x-bugzilla-token"):
                del request.headers[name]
        if home[1] and origin(request.url or "") == home:
            request.headers[KEY_HEADER] = key
        return plain(request, **kwargs)

    session.send = send  # type: ignore[method-assign]


def _drop_if_corrupt(path: Path) -> None:
    """A cache file that is not a readable SQLite database is moved aside (with a warning) and a new one made: the
    cache only saves requests, it never holds data that cannot be fetched again."""
    if not path.exists():
        return
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            con.execute("PRAGMA schema_version").fetchone()
            con.execute("PRAGMA quick_check").fetchone()
        finally:
            con.close()
    except sqlite3.Error as exc:
        aside = path.with_suffix(".sqlite.corrupt")
        path.replace(aside)
        logging.getLogger(__name__).warning(
            "HTTP cache %s was unreadable (%s); moved it to %s and started a new one", path, exc, aside
        )


def make_session(cache_path: str | None) -> requests.Session:
    """A CachedSession whose entries expire at once and are revalidated with ETag (304s are cheap).

    Searches and changed bugs are therefore never served stale; `/rest/time` and `/rest/whoami`
    are not cached at all. With cache_path None a plain Session is returned.
    """
    if cache_path is None:
        session = requests.Session()
    else:
        Path(cache_path).parent.mkdir(parents=True, exist_ok=True)
        _drop_if_corrupt(Path(cache_path + ".sqlite"))
        session = requests_cache.CachedSession(
            cache_name=cache_path,
            backend="sqlite",
            expire_after=EXPIRE_IMMEDIATELY,
            urls_expire_after={"*/rest/time": DO_NOT_CACHE, "*/rest/whoami": DO_NOT_CACHE},
            allowable_codes=(200,),
            ignored_parameters=tuple(DEFAULT_IGNORED_PARAMS) + SECRET_PARAMS,
            filter_fn=_is_json_success,
            match_headers=False,
            stale_if_error=False,
        )
    session.headers["User-Agent"] = USER_AGENT
    return session
