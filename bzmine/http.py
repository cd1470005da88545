"""The only HTTP session: requests-cache with ETag revalidation, key-safe, with a User-Agent."""

from __future__ import annotations

import ipaddress
import json
import logging
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
import requests_cache
from requests_cache import DO_NOT_CACHE, EXPIRE_IMMEDIATELY
from requests_cache.policy.settings import DEFAULT_IGNORED_PARAMS

from bzmine import __version__

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


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the default port filled in: what "the same origin" compares."""
    u = urlsplit(url)
    port = u.port or {"http": 80, "https": 443}.get(u.scheme)
    return (u.scheme.lower(), (u.hostname or "").lower(), port)


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def protect_key(session: requests.Session, base_url: str) -> None:
    """Send the API key only to the configured origin: a redirect to another scheme, host or port loses it.

    requests strips `Authorization` on such redirects but keeps custom headers such as X-BUGZILLA-API-KEY.
    """
    home = origin(base_url)
    plain = session.rebuild_auth

    def rebuild_auth(prepared: requests.PreparedRequest, response: requests.Response) -> None:
        plain(prepared, response)
        if origin(prepared.url or "") != home:
            for name in list(prepared.headers):
                if name.lower() in ("x-bugzilla-api-key", "x-bugzilla-token"):
                    del prepared.headers[name]

    session.rebuild_auth = rebuild_auth  # type: ignore[method-assign]


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
