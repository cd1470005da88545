"""Thin Bugzilla REST client over python-bugzilla: returns raw dicts, never touches DuckDB.

python-bugzilla connects (GET /rest/version), owns the session and builds the bug-set query;
this module fills its documented gaps (BUGZILLA_API.md §2.4): paging that survives silent page
caps, id chunking under the 8 KiB URL limit, comments and history inline
(`include_fields=_default,comments,history`), bisecting batches that fail with 400, retries with
exponential backoff and jitter (BMO sends no Retry-After), a timeout on every request, the API
key as a header only, and validation of every response.
"""

from __future__ import annotations

import errno
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import bugzilla
import orjson
import requests
import urllib3

from bzmine.config import Settings
from bzmine.errors import BlockedError, ConfigError, FetchError, RateLimitedError
from bzmine.http import USER_AGENT, check_url, make_session, protect_key
from bzmine.timeutil import format_bmo_time, parse_bmo_time, utcnow

log = logging.getLogger(__name__)

DETAIL_FIELDS = "_default,comments,history"
LIST_FIELDS = "id,last_change_time"
MAX_TARGET = 8000  # stay under BMO's 8 KiB request-target limit
RETRY_STATUSES = {429, 500, 502, 503, 504}


class ApiError(FetchError):
    """Bugzilla answered with its JSON error envelope."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"Bugzilla error {code} (HTTP {status}): {message}")
        self.status, self.code, self.message = status, code, message


@dataclass
class FetchResult:
    bugs: list[dict[str, Any]]
    invisible: list[int] = field(default_factory=list)  # asked for, not returned: private or gone
    skipped: dict[int, str] = field(default_factory=dict)  # bug id -> why (a 400 that bisecting isolated)


# connection failures that say nothing is there to reach (as opposed to a timeout, a reset or a busy server):
# retrying them only makes the user wait (a closed port, an address no route leads to, a host name that does not exist)
_NOTHING_THERE = {
    errno.ECONNREFUSED: "connection refused: nothing listens there",
    errno.ENETUNREACH: "network unreachable: no route to that address",
    errno.EHOSTUNREACH: "host unreachable: no route to that address",
    errno.EADDRNOTAVAIL: "address not available from this machine",
}
_NOTHING_THERE_TEXT = {
    "refused": _NOTHING_THERE[errno.ECONNREFUSED],
    "network is unreachable": _NOTHING_THERE[errno.ENETUNREACH],
    "no route to host": _NOTHING_THERE[errno.EHOSTUNREACH],
    "cannot assign requested address": _NOTHING_THERE[errno.EADDRNOTAVAIL],
    "name or service not known": "no such host name",
    "nodename nor servname": "no such host name",
}


def _nothing_there(exc: BaseException) -> str | None:
    """Why nothing can be reached at that address (refused, unreachable, no such name), or None for failures a retry
    may cure (timeouts, resets, a temporary name-service failure)."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in _NOTHING_THERE:
            return _NOTHING_THERE[e.errno]
        text = str(e).lower()
        for words, why in _NOTHING_THERE_TEXT.items():
            if words in text:
                return why
        e = (
            e.__cause__
            or e.__context__
            or (e.args[0] if e.args and isinstance(e.args[0], BaseException) else None)
        )
    return None


def _is_refused(exc: BaseException) -> bool:
    """Nothing is there to reach (refused, unreachable, no such host): given up after two tries, not six."""
    return _nothing_there(exc) is not None


def _why(exc: BaseException) -> str:
    return _nothing_there(exc) or type(exc).__name__


def _default_timeout(session: requests.Session, timeouts: tuple[float, float]) -> None:
    plain = session.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = timeouts
        return plain(method, url, *args, **kwargs)

    session.request = request  # type: ignore[method-assign,assignment]


BLOCKED = (
    "Bugzilla has blocked this address (HTTP 429) for up to an hour, and every further request renews the "
    "block: wait an hour, then run `bzmine sync` again (it resumes where it stopped). An API key does not lift "
    "an address block."
)


def _is_blocked(exc: BaseException) -> bool:
    resp = getattr(exc, "response", None)
    return getattr(resp, "status_code", None) == 429 or "429" in str(exc)


def _time_ok(value: Any) -> bool:
    try:
        return isinstance(value, str) and parse_bmo_time(value) is not None
    except ValueError:
        return False


def _invalid_bug(b: dict[str, Any]) -> str | None:
    """Why a bug from a detail request cannot be stored as it is (None when it can): checked before any write."""
    for f in ("creation_time", "last_change_time"):
        if not _time_ok(b.get(f)):
            return f"field {f!r} is not a timestamp: {str(b.get(f))[:40]!r}"
    for f in ("summary", "whiteboard", "status", "resolution", "product", "component"):
        if b.get(f) is not None and not isinstance(b.get(f), str):
            return f"field {f!r} should be text, got {type(b.get(f)).__name__}"
    if not isinstance(b["comments"], list) or not isinstance(b["history"], list):
        return "comments and history should be lists"
    seen: set[int] = set()
    for c in b["comments"]:
        if not isinstance(c, dict) or not _is_id(c.get("id")):
            return f"a comment without an id in Bugzilla's range (1 to {MAX_ID}): {str(c)[:60]!r}"
        if c["id"] in seen:
            return f"comment id {c['id']} appears twice"
        seen.add(c["id"])
        count = c.get("count", 0)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_ID:
            return f"comment {c['id']} has a count out of range: {str(count)[:40]!r}"
        if not _time_ok(c.get("creation_time") or c.get("time")):
            return f"comment {c.get('id')} has no valid time"
    for h in b["history"]:
        if (
            not isinstance(h, dict)
            or not isinstance(h.get("who", ""), str)
            or not _time_ok(h.get("when"))
            or not isinstance(h.get("changes", []), list)
        ):
            return f"a history entry with an invalid time or changes: {str(h)[:60]!r}"
    return None


MAX_ID = 2**31 - 1  # Bugzilla's bug and comment ids are SQL INTEGERs: anything larger is not a Bugzilla's


def _is_id(value: Any) -> bool:
    """A bug or comment id in Bugzilla's range (a positive 32-bit integer, never a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


MAX_LISTED = 5_000_000  # a bug set larger than this is a misbehaving server, not CA compliance bugs


def _listed(b: Any, pos: int) -> tuple[int, str]:
    """(id, last_change_time) of one listing entry, validated (ids are positive integers, times BMO timestamps)."""
    if not isinstance(b, dict):
        raise FetchError(f"listing entry {pos} is not an object: {str(b)[:60]!r}. Nothing was written.")
    bug_id, changed = b.get("id"), b.get("last_change_time")
    if isinstance(bug_id, int) and not isinstance(bug_id, bool) and bug_id > MAX_ID:
        raise OutOfRange(bug_id)
    if not isinstance(bug_id, int) or isinstance(bug_id, bool) or bug_id <= 0:
        raise FetchError(
            f"listing entry {pos} has an invalid bug id {str(bug_id)[:40]!r} (expected a positive integer). "
            "Nothing was written; check --url points at a Bugzilla."
        )
    try:
        ok = isinstance(changed, str) and parse_bmo_time(changed) is not None
    except ValueError:
        ok = False
    if not ok:
        raise FetchError(
            f"bug {bug_id} has an invalid last_change_time {str(changed)[:40]!r}. Nothing was written."
        )
    return bug_id, str(changed)


class BugzillaClient:
    """One connection to one Bugzilla. `requests` counts every HTTP attempt made."""

    def __init__(
        self,
        settings: Settings,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        try:
            check_url(settings.url)  # the key's origin check relies on a URL every parser reads alike
        except ValueError as exc:
            raise ConfigError(f"--url is not a valid URL ({exc}): {settings.url!r}") from None
        self.settings = settings
        self.session = session or make_session(settings.cache_path)
        _default_timeout(self.session, settings.timeouts)  # python-bugzilla's own requests carry no timeout
        self.sleep = sleep
        self.requests = 0
        self.invalid_utf8 = 0  # answers whose invalid UTF-8 bytes were replaced with U+FFFD
        self.out_of_range: set[int] = set()  # listed ids past Bugzilla's range, ignored
        self.batch_size = settings.batch_size
        self.session.hooks["response"].append(self._read_bounded)
        self._rng = random.Random()
        try:
            self._connect()
        except Exception as exc:
            exc.requests = self.requests  # type: ignore[attr-defined]  # the run records them (sync)
            raise

    def _connect(self) -> None:
        # api_key=None: python-bugzilla would put the key in every URL; we send the header instead
        try:
            self.bz = self._new_bz()
        except (requests.RequestException, bugzilla.BugzillaError) as exc:
            if _is_blocked(exc):
                raise BlockedError(BLOCKED) from None
            # connect is retried like any request
            self._retry_connect(exc)
        self.session.headers["User-Agent"] = USER_AGENT  # python-bugzilla overwrites it
        if self.settings.api_key:
            protect_key(self.session, self.settings.rest_url, self.settings.api_key)
        q = self.bz.build_query(
            product=list(self.settings.products), component=list(self.settings.components)
        )
        # build_query always appends "id" to include_fields; we choose fields per request
        q.pop("include_fields", None)
        self.base_query = q

    def _new_bz(self) -> bugzilla.Bugzilla:
        """python-bugzilla's connection (GET /rest/version); api_key=None: it would put the key in every URL, we send
        the header instead."""
        self.requests += 1
        return bugzilla.Bugzilla(
            self.settings.rest_url + "/",
            force_rest=True,
            use_creds=False,
            requests_session=self.session,
            api_key=None,
            sslverify=True,
        )

    def _retry_connect(self, first: Exception) -> None:
        last: Exception = first
        deadline = time.monotonic() + self.settings.request_budget
        for attempt in range(1, self.settings.retries + 1):
            if _is_refused(last) and attempt > 1 or time.monotonic() >= deadline:
                break  # nothing listens there (refused twice), or out of time
            self._backoff(attempt)
            try:
                self.bz = self._new_bz()
                return
            except (requests.RequestException, bugzilla.BugzillaError) as exc:
                if _is_blocked(exc):
                    raise BlockedError(BLOCKED) from None
                last = exc
        why = _nothing_there(last) or _scrub(str(last), self.settings.api_key)[:300]
        raise FetchError(
            f"cannot reach Bugzilla at {self.settings.rest_url}: {why}. "
            "Check --url and the network, then run `bzmine sync` again."
        )

    def _read_bounded(self, resp: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        """Read the body here, before requests or the cache do: refuse answers past the size limit (declared or
        after decompression: a small gzip body can inflate to gigabytes) and bodies still arriving after
        --timeout seconds (a per-read timeout never fires on a server that sends a byte a second)."""
        key = self.settings.api_key
        if key:  # a header echoing the key would be stored in the HTTP cache with the answer
            for name, value in list(resp.headers.items()):
                if key in value:
                    resp.headers[name] = value.replace(key, "REDACTED")
        limit = self.settings.max_response_bytes
        mib = f"{limit / 2**20:g} MiB"
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            resp.close()
            raise FetchError(
                f"Bugzilla announced a {int(declared) / 2**20:,.0f} MiB answer to {_path(resp.url)}, more "
                f"than the {mib} limit; refused it. Check --url, or raise --max-response-mb."
            )
        if resp.raw is None or getattr(resp, "_content_consumed", False):
            return resp
        deadline = time.monotonic() + self.settings.timeout
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                piece = resp.raw.read1(65536, decode_content=True)
                if not piece:
                    break
                size += len(piece)
                if size > limit:
                    resp.close()
                    raise FetchError(
                        f"the answer to {_path(resp.url)} grew past the {mib} limit (after decompression); "
                        "refused it. Check --url, or raise --max-response-mb."
                    )
                parts.append(piece)
                if time.monotonic() > deadline:
                    resp.close()
                    raise SlowAnswer(f"answer not finished within {self.settings.timeout:g} s")
        except urllib3.exceptions.HTTPError as exc:
            resp.close()
            raise requests.ConnectionError(f"answer cut short ({type(exc).__name__})") from None
        resp._content = self._scrub_bytes(b"".join(parts))
        resp._content_consumed = True  # type: ignore[attr-defined]
        return resp

    def _scrub_bytes(self, body: bytes) -> bytes:
        """A server may echo the API key anywhere (an error text, a summary, a comment): it is replaced in the raw
        body, before anything reads, caches or stores it."""
        key = self.settings.api_key
        if not key or not body:
            return body
        for form in {key.encode(), json.dumps(key)[1:-1].encode()}:
            body = body.replace(form, b"REDACTED")
        return body

    def _may_hide_key(self, body: bytes) -> bool:
        """Whether JSON escapes in the body could still spell the key (\\u0073... or \\/): then the parsed strings
        are scrubbed one by one too."""
        key = self.settings.api_key or ""
        return bool(key) and (b"\\u" in body or (b"\\/" in body and "/" in key))

    def _json(self, resp: requests.Response) -> Any:
        """The body as JSON, the API key scrubbed from every string in it; invalid UTF-8 is replaced (U+FFFD) and
        counted, never a reason to fail."""
        body = self._parse(resp)
        if body is not None and self._may_hide_key(resp.content) and self._holds_key(body):
            body = _scrub_tree(body, self.settings.api_key or "")
        return body

    def _holds_key(self, body: Any) -> bool:
        """Whether a parsed body holds the key in some string: orjson writes strings back unescaped (but for quotes,
        backslashes and control characters), so one search of its output answers it, 10x faster than a walk."""
        key = self.settings.api_key or ""
        try:
            text = orjson.dumps(body)
        except (TypeError, orjson.JSONEncodeError):  # integers past 64 bits: walk to be sure
            return True
        return any(
            form in text for form in (key.encode(), json.dumps(key, ensure_ascii=False)[1:-1].encode())
        )

    def _parse(self, resp: requests.Response) -> Any:
        if resp.status_code == 304 or not resp.content:
            return None
        try:
            return orjson.loads(
                resp.content
            )  # 3-4x faster than json on 1-10 MB bug batches (benchmarks/RESULTS.md)
        except orjson.JSONDecodeError:
            pass  # invalid UTF-8, numbers past 64 bits, nesting past 1024, or not JSON: the careful path decides
        try:
            text = resp.content.decode("utf-8")
        except UnicodeDecodeError:
            text = resp.content.decode("utf-8", errors="replace")
            self.invalid_utf8 += 1
            log.warning("%s: invalid UTF-8 replaced with U+FFFD", _path(resp.url))
        try:
            return json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or JSON nested past any sane depth: an invalid body
            return None

    # -- one request, validated, with retries --
    def _backoff(self, attempt: int) -> None:
        delay = min(self.settings.backoff_max, self.settings.backoff_base * 2 ** (attempt - 1))
        self.sleep(delay * (0.5 + self._rng.random() / 2))

    def get(self, path: str, params: list[tuple[str, str]], expect: str) -> Any:
        """GET /rest/<path>; return the parsed JSON whose key `expect` must be present."""
        url = f"{self.settings.rest_url}/{path}"
        target = f"{url}?{urlencode(params)}"
        if len(target.encode()) > MAX_TARGET + len(self.settings.rest_url):
            raise FetchError(
                f"request target too long ({len(target)} bytes); this is a bzmine bug, please report it"
            )
        last_problem = ""
        deadline = time.monotonic() + self.settings.request_budget
        refused = 0
        for attempt in range(self.settings.retries + 1):
            if attempt:
                if time.monotonic() >= deadline:
                    last_problem += f" (gave up after {self.settings.request_budget:g} s)"
                    break
                self._backoff(attempt)
            self.requests += 1
            try:
                resp = self.session.get(url, params=params, timeout=self.settings.timeouts)
            except SlowAnswer as exc:
                last_problem = str(exc)
                continue
            except requests.Timeout:
                last_problem = f"no answer within {self.settings.timeout:g} s"
                continue
            except requests.ConnectionError as exc:
                last_problem = f"connection failed ({_why(exc)})"
                refused += _is_refused(exc)
                if refused >= 2:
                    break  # nothing listens there: retrying will not help
                continue
            except requests.RequestException as exc:  # a body that does not decode, a bad redirect, ...
                last_problem = f"{type(exc).__name__}: {self._scrub(str(exc))[:120]}"
                continue
            if resp.status_code == 429:
                raise BlockedError(BLOCKED)  # every further request renews the block: stop at once
            if resp.status_code in RETRY_STATUSES:
                last_problem = f"HTTP {resp.status_code}"
                continue
            body = self._json(resp)
            if isinstance(body, dict) and body.get("error"):
                code = body.get("code")
                message = str(body.get("message", ""))
                if code == 32000 and "rate limit" in message:
                    # the next request would be answered with a block (429 for an hour): stop before it
                    raise RateLimitedError(
                        "Bugzilla rate-limited this address (HTTP 400, code 32000); one more request would get it "
                        "blocked for up to an hour. Set BUGZILLA_API_KEY (authenticated reads are not rate-limited), "
                        "wait a minute, and run `bzmine sync` again: it resumes where it stopped."
                    )
                if code == 306:
                    raise FetchError("Bugzilla rejected the API key (code 306). Check BUGZILLA_API_KEY.")
                raise ApiError(
                    resp.status_code, code if isinstance(code, int) else None, self._scrub(message)
                )
            if resp.status_code != 200 and resp.status_code != 304:
                raise ApiError(resp.status_code, None, f"unexpected answer: {self._scrub(resp.text)[:200]!r}")
            if not isinstance(body, dict) or expect not in body:
                last_problem = f"answer without '{expect}': {self._scrub(resp.text)[:120]!r}"
                continue  # truncated or wrong body: retry, it is usually a proxy hiccup
            return body
        raise FetchError(
            f"GET {path} failed after {self.settings.retries + 1} attempts: {last_problem}. "
            "Nothing was lost; run `bzmine sync` again to resume."
        )

    def _scrub(self, text: str) -> str:
        """Server text may echo the request (headers included): the key never leaves in it."""
        return _scrub(text, self.settings.api_key)

    # -- the request plan --
    def fetch_time(self) -> str:
        """Bugzilla's database time (the next run's watermark), checked against the local clock: a time that is
        invalid or more than a day away would freeze (or skip) every later incremental sync."""
        value = self.get("time", [], "db_time")["db_time"]
        try:
            at = parse_bmo_time(str(value))
        except ValueError:
            at = None
        now = utcnow()
        if at is None or abs((at - now).total_seconds()) > 86400:
            raise FetchError(
                f"Bugzilla's clock says {str(value)[:40]!r}, more than a day from this machine's "
                f"({format_bmo_time(now)}); refusing it as a watermark. Check --url and both clocks."
            )
        return str(value)

    def _query_params(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for k, v in self.base_query.items():
            for item in v if isinstance(v, list) else [v]:
                out.append((k, str(item)))
        return out

    def list_ids(self, since: str | None = None) -> dict[int, str]:
        """Every bug id in the set (changed at or after `since`) -> its last_change_time.

        Pages with order=bug_id and an explicit limit. A short page may be a silent server cap
        (other Bugzillas cap low), so we only stop on an empty page or on a page shorter than a
        cap we have already seen.
        """
        out: dict[int, str] = {}
        offset, cap = 0, None
        limit = self.settings.list_page_size
        while True:
            params = self._query_params() + [
                ("include_fields", LIST_FIELDS),
                ("order", "bug_id"),
                ("limit", str(limit)),
                ("offset", str(offset)),
            ]
            if since:
                params.append(("last_change_time", since))
            bugs = self.get("bug", params, "bugs")["bugs"]
            if not isinstance(bugs, list):
                raise FetchError(
                    f"Bugzilla answered a listing with 'bugs' that is not a list ({type(bugs).__name__}); "
                    "check --url points at a Bugzilla. Nothing was written."
                )
            new = 0
            for n_b, b in enumerate(bugs):
                try:
                    bug_id, changed = _listed(b, offset + n_b)
                except OutOfRange as exc:  # no Bugzilla has such a bug: never asked for, never stored
                    self.out_of_range.add(exc.bug_id)
                    log.warning(
                        "listing entry %s: bug id %s is past Bugzilla's range (%s); ignored",
                        offset + n_b,
                        str(exc.bug_id)[:40],
                        MAX_ID,
                    )
                    new += 1
                    continue
                new += bug_id not in out
                out[bug_id] = changed
            n = len(bugs)
            if n and not new:
                raise FetchError(
                    f"Bugzilla returned the same bugs again at offset {offset} (a server that ignores "
                    "'offset'?); stopping instead of looping. Nothing was written; check --url."
                )
            if len(out) > MAX_LISTED:
                raise FetchError(
                    f"the listing passed {MAX_LISTED:,} bugs without ending; stopping. Check --url and "
                    "--product/--component. Nothing was written."
                )
            if n == 0 or (cap is not None and n < cap):
                return out
            offset += n
            if n < limit and cap is None:
                cap = n  # either the end or a cap: the next page tells
        return out

    def _chunks(self, ids: list[int]) -> Iterator[list[int]]:
        base = len(f"{self.settings.rest_url}/bug?") + len(urlencode(self._query_params())) + 80
        chunk: list[int] = []
        size = base
        for i in ids:
            add = len(str(i)) + 3  # "%2C"
            if chunk and (len(chunk) >= self.batch_size or size + add > MAX_TARGET):
                yield chunk
                chunk, size = [], base
            chunk.append(i)
            size += add
        if chunk:
            yield chunk

    def fetch_bugs(self, ids: list[int]) -> FetchResult:
        """Bugs with comments and history inline, by id. Missing ids are re-asked, then reported invisible."""
        result = FetchResult(bugs=[])
        for chunk in self._chunks(ids):
            self._fetch_chunk(chunk, result)
        return result

    def _fetch_chunk(self, chunk: list[int], result: FetchResult) -> None:
        try:
            bugs = self.get(
                "bug", [("id", ",".join(map(str, chunk))), ("include_fields", DETAIL_FIELDS)], "bugs"
            )["bugs"]
        except ApiError as exc:
            if exc.status != 400:
                raise
            if len(chunk) == 1:
                log.warning("bug %s skipped: %s", chunk[0], exc.message)
                result.skipped[chunk[0]] = f"HTTP 400 code {exc.code}: {exc.message}"
                return
            half = len(chunk) // 2  # bisect: one bad bug must not stop the harvest
            self._fetch_chunk(chunk[:half], result)
            self._fetch_chunk(chunk[half:], result)
            return
        asked = set(chunk)
        if not isinstance(bugs, list):
            for i in chunk:  # stored nowhere; listed by `bzmine status` and asked for again on the next sync
                result.skipped[i] = (
                    f"invalid data from Bugzilla: the answer's 'bugs' is {type(bugs).__name__}, not a list"
                )
            return
        by_id: dict[int, dict[str, Any]] = {}
        strays = 0
        for b in bugs:
            bug_id = b.get("id") if isinstance(b, dict) else None
            if not _is_id(bug_id) or bug_id not in asked:
                strays += 1  # not a bug object, or a bug not asked for: ignored
                continue
            if bug_id in result.skipped:
                continue
            if bug_id in by_id:  # the same bug twice in one answer: once if identical, else neither
                if by_id[bug_id] != b:
                    del by_id[bug_id]
                    result.skipped[bug_id] = "invalid data from Bugzilla: returned twice, with different data"
                continue
            if "comments" not in b or "history" not in b:
                result.skipped[bug_id] = "invalid data from Bugzilla: a bug without comments or history"
                continue
            problem = _invalid_bug(b)
            if problem:  # stored nowhere; listed by `bzmine status` and asked for again on the next sync
                result.skipped[bug_id] = self._scrub(f"invalid data from Bugzilla: {problem}")
                continue
            by_id[bug_id] = b
        if strays:
            log.warning("%s entries of an answer were not bugs asked for; ignored", strays)
        got = list(by_id.values())
        result.bugs.extend(got)
        missing = [i for i in chunk if i not in by_id and i not in result.skipped]
        if not missing:
            return
        if strays and len(chunk) == 1:  # an answer of something else than the bug: not a sign it is private
            result.skipped[chunk[0]] = "invalid data from Bugzilla: the answer held no bug object for it"
            return
        if got or strays:
            # a short answer can be a silent page cap on searches: ask again for the rest, in smaller batches
            self.batch_size = max(1, min(self.batch_size, len(got)))
            for sub in self._chunks(missing):
                self._fetch_chunk(sub, result)
        else:
            result.invisible.extend(missing)


class OutOfRange(Exception):
    """A listed bug id past Bugzilla's range."""

    def __init__(self, bug_id: int) -> None:
        super().__init__(bug_id)
        self.bug_id = bug_id


class SlowAnswer(requests.exceptions.ReadTimeout):
    """A body that kept arriving past --timeout (retried like any timeout)."""


def _path(url: str | None) -> str:
    return urlsplit(url or "").path or "/"


def _scrub(text: str, key: str | None) -> str:
    return text.replace(key, "REDACTED") if key else text


def _scrub_tree(obj: Any, key: str) -> Any:
    """Every string (and object key) in parsed JSON with the API key replaced; iterative, so depth cannot matter."""
    root: list[Any] = [obj]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, at = stack.pop()
        value = parent[at]
        if isinstance(value, str):
            if key in value:
                parent[at] = value.replace(key, "REDACTED")
        elif isinstance(value, list):
            stack.extend((value, i) for i in range(len(value)))
        elif isinstance(value, dict):
            if any(isinstance(k, str) and key in k for k in value):
                value = {_scrub(k, key): v for k, v in value.items()}
                parent[at] = value
            stack.extend((value, k) for k in value)
    return root[0]
