"""A local Bugzilla-compatible REST server that answers as bugzilla.mozilla.org does.

It serves a corpus (see :mod:`bzmine.corpus`) with BMO's paths, parameters, JSON shapes, limits
and errors (`../shared/docs/BUGZILLA_API.md` §1.11), plus knobs for tests and benchmarks:
latency, a smaller silent page cap, an anonymous rate limit with BMO's block behaviour, seeded
random faults, poisoned bugs, bugs that turn private between two syncs and a JSON-lines request log. Only the standard library is used, so
the server starts in-process from a pytest fixture or as `bzmine serve-corpus`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import random
import re
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bzmine.corpus import Record, load_corpus
from bzmine.timeutil import format_bmo_time, parse_bmo_time

log = logging.getLogger(__name__)

BMO_VERSION = "20260820.1"
DOC_URL = "https://bmo.readthedocs.io/en/latest/api/"
MAX_TARGET = 8192  # Varnish rejects longer request targets with a plain-text 414
DEFAULT_CAP = 10000  # max_search_results
EXTRA_FIELDS = ("comments", "history")
CLOSED_STATUSES = {"RESOLVED", "VERIFIED", "CLOSED"}
ANON_SUFFIX = " To see this bug, you must first log in to an account with the appropriate permissions."
SEARCH_CRITERIA = {
    "product",
    "component",
    "whiteboard",
    "status_whiteboard",
    "last_change_time",
    "creation_time",
    "id",
    "bug_id",
    "status",
    "resolution",
    "summary",
    "creator",
    "assigned_to",
    "quicksearch",
}
TOO_MANY_HTML = (
    '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="UTF-8"><title>Too Many Requests</title></head>\n'
    "<body><h1>Too Many Requests</h1><p>You have exceeded the rate limit. "
    "You will be unblocked in {minutes} minutes.</p></body></html>\n"
)


class ApiError(Exception):
    """A BMO error: JSON envelope with code and HTTP status."""

    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class ServerOptions:
    """Knobs of the local server (all off by default: plain BMO behaviour)."""

    latency_ms: float = 0.0
    page_cap: int = DEFAULT_CAP
    rate_limit: int = 0  # anonymous bug/comment reads per 60 s; 0 = off
    rate_limit_all: bool = False  # count every anonymous request (a stricter Bugzilla)
    block_seconds: float = 3600.0
    fault_rate: float = 0.0
    seed: int = 0
    # faults drawn from these kinds only (0 dropped connection, 1 truncated body, 2 non-JSON body, else an HTTP status
    # with an HTML page), and only on these paths (e.g. "/rest/time"); empty: every kind above, every path
    fault_kinds: tuple[int, ...] = ()
    fault_paths: tuple[str, ...] = ()
    api_keys: tuple[str, ...] = ()
    request_log: str | None = None
    poison_ids: frozenset[int] = frozenset()
    stall_ids: frozenset[int] = frozenset()  # detail requests touching these sleep stall_seconds
    stall_seconds: float = 0.0
    hide_emails: bool = False  # anonymous callers see no e-mail addresses
    misbehave: frozenset[str] = frozenset()  # MISBEHAVIOURS: a broken server, for robustness tests
    clock_offset_s: float = 0.0  # /rest/time answers this many seconds ahead (a server with a wrong clock)
    # (bug id, n): from the n-th connection on (each sync connects once, GET /rest/version) the bug is restricted
    # to a group, as an administrator would do on BMO between two syncs (make_private)
    turn_private: tuple[tuple[int, int], ...] = ()


# what a broken server does (`--misbehave KIND`), each on /rest/bug: hang - accept and never answer;
# repeat-page - ignore offset, so every listing page is the first; bad-types - listing ids are strings;
# trickle - send the answer a few bytes at a time, never finishing within any sane time; gzip-bomb - a small
# gzip body that inflates to 300 MiB; huge - a 300 MiB body; bad-utf8 - comment text with invalid UTF-8 bytes
MISBEHAVIOURS = ("hang", "repeat-page", "bad-types", "trickle", "gzip-bomb", "huge", "bad-utf8")
BOMB_BYTES = 300 * 2**20  # past the client's default 256 MiB response limit


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    fault: int = 0  # 1: truncated body, 2: non-JSON body (logged as status 1001 / 1002)
    stream: Callable[[], Iterator[bytes]] | None = (
        None  # body sent piecewise (misbehaviours); length in headers
    )
    pause: float = 0.0  # seconds between streamed pieces


@cache
def _bomb() -> bytes:
    return b"".join(_bomb_pieces())


def _bomb_pieces() -> Iterator[bytes]:
    """A gzip body that inflates to BOMB_BYTES of JSON-ish filler, made piecewise (the server never holds it)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    yield z.compress(b'{"bugs": [')
    piece = b" " * 2**20
    for _ in range(BOMB_BYTES // len(piece)):
        out = z.compress(piece)
        if out:
            yield out
    yield z.compress(b"]}") + z.flush()


def _huge() -> Iterator[bytes]:
    yield b'{"bugs": ['
    piece = b" " * 2**20
    for _ in range(BOMB_BYTES // len(piece)):
        yield piece
    yield b"]}"


def _etag(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode().rstrip("=")


def _split_fields(values: list[str]) -> list[str]:
    # BMO splits a single value on [\s+,] but not repeated values (REST.pm rest_include_exclude)
    if len(values) == 1:
        return [v for v in re.split(r"[\s+,]+", values[0]) if v]
    return [v for v in values if v]


def _id_list(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _parse_date(value: str) -> datetime:
    try:
        dt = parse_bmo_time(value)
    except ValueError:
        dt = None
    if dt is None:
        raise ApiError(56, f"'{value}' is not a legal date/time.")
    return dt


class FakeBugzilla:
    """The application: routing, visibility, fields, paging, errors. Thread-safe."""

    def __init__(self, records: dict[int, Record], options: ServerOptions | None = None) -> None:
        self.records = dict(records)
        self.opts = options or ServerOptions()
        self.lock = threading.RLock()
        self.rng = random.Random(self.opts.seed)
        self.requests: list[dict[str, Any]] = []
        self.errors: list[str] = []  # unexpected exceptions while serving (a server bug, not a client's)
        self._hits: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self._log_fh = open(self.opts.request_log, "a", encoding="utf-8") if self.opts.request_log else None
        self._closed = threading.Event()
        self.stalled = threading.Event()  # a request touching stall_ids began to wait (tests wait for it)
        self._unstall = threading.Event()  # unstall() or close() ends every stall at once
        self.connections = 0  # GET /rest/version answered: one per sync (python-bugzilla connects once)

    # -- corpus changes (tests and benchmarks simulate activity on the server) --
    def put(self, record: Record, committed_late_by: float = 0.0) -> None:
        """Add or replace a bug. committed_late_by (seconds): a change committed late. BMO stamps last_change_time when
        the change's transaction starts, and a search sees the change only once it commits (or once a lagging replica
        has it): the bug's last_change_time becomes now - committed_late_by, earlier than the moment it is visible,
        and possibly earlier than the db_time a sync read meanwhile (its watermark)."""
        if committed_late_by:
            stamp = datetime.now(timezone.utc) - timedelta(seconds=committed_late_by)
            record.bug["last_change_time"] = format_bmo_time(stamp)
        with self.lock:
            self.records[record.id] = record

    def remove(self, bug_id: int) -> None:
        with self.lock:
            self.records.pop(bug_id, None)

    def unstall(self) -> None:
        """End the stalls now, and let later requests through without one (tests drive order with this)."""
        self._unstall.set()

    def make_private(self, bug_id: int, group: str = "ca-confidential") -> None:
        """Restrict a bug to a group now, as BMO records it: the group is added, last_change_time moves and the
        change enters the history. Anonymous callers then no longer find it in searches and get 401 on reads."""
        with self.lock:
            old = self.records[bug_id]
            now = format_bmo_time(datetime.now(timezone.utc))
            bug = {**old.bug, "groups": sorted({*old.bug.get("groups", []), group}), "last_change_time": now}
            change = {"field_name": "bug_group", "removed": "", "added": group}
            history = [*old.history, {"when": now, "who": "admin@example.org", "changes": [change]}]
            self.records[bug_id] = Record(bug, list(old.comments), history)

    def close(self) -> None:
        self._closed.set()
        self._unstall.set()
        if self._log_fh:
            self._log_fh.close()
            self._log_fh = None

    # -- request entry point --
    def handle(self, method: str, target: str, headers: dict[str, str], client: str) -> Response:
        started = time.time()
        resp = self._handle(method, target, headers, client)
        self._record(started, method, target, resp)
        return resp

    def _record(self, started: float, method: str, target: str, resp: Response) -> None:
        parts = urlsplit(target)
        query = [
            (k, "REDACTED" if k.lower() in ("bugzilla_api_key", "api_key") else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
        entry = {
            "time": round(started, 6),
            "method": method,
            "path": parts.path,
            "query": query,
            "status": 0 if resp.drop else (1000 + resp.fault if resp.fault else resp.status),
            "bytes": 0 if resp.drop else len(resp.body),
        }
        with self.lock:
            self.requests.append(entry)
            if self._log_fh:
                self._log_fh.write(json.dumps(entry) + "\n")
                self._log_fh.flush()

    def _handle(self, method: str, target: str, headers: dict[str, str], client: str) -> Response:
        if self.opts.latency_ms:
            time.sleep(self.opts.latency_ms / 1000.0)
        if "hang" in self.opts.misbehave and target.startswith("/rest/bug"):
            self._closed.wait(600)  # until the server stops (bounded): the client must give up by itself
            return Response(503, b"", "text/plain", drop=True)
        if target.startswith("/rest/bug") and self.opts.misbehave & {"trickle", "gzip-bomb", "huge"}:
            if "trickle" in self.opts.misbehave:
                return Response(
                    200,
                    b"",
                    stream=lambda: iter([b'{"bugs": ['] + [b" "] * 100_000),
                    pause=0.2,
                    headers={"Content-Length": "100010"},
                )
            if "huge" in self.opts.misbehave:
                return Response(200, b"", stream=_huge, headers={"Content-Length": str(BOMB_BYTES + 12)})
            return Response(200, _bomb(), headers={"Content-Encoding": "gzip"})
        if len(target.encode()) > MAX_TARGET:
            return Response(414, b"414 URI Too Long\n", "text/plain")
        with self.lock:
            until = self._blocked_until.get(client, 0.0)
            if until > time.time():
                minutes = max(1, round((until - time.time()) / 60))
                return Response(429, TOO_MANY_HTML.format(minutes=minutes).encode(), "text/html")
            fault = self.rng.random() < self.opts.fault_rate if self.opts.fault_rate else False
            if fault and self.opts.fault_paths and urlsplit(target).path not in self.opts.fault_paths:
                fault = False
            kind = self.rng.choice(list(self.opts.fault_kinds) or [500, 502, 503, 0, 1, 2]) if fault else None
        if kind == 0:
            return Response(0, b"", drop=True)
        if kind in (1, 2):
            # a proxy that cuts the body short (1) or answers 200 with an HTML page (2)
            body = (
                b'{"bugs": [{"id": 1, "summ'
                if kind == 1
                else b"<html><body>Service temporarily unavailable</body></html>"
            )
            return Response(
                200, body, "application/json; charset=UTF-8" if kind == 1 else "text/html", fault=kind
            )
        if kind:
            body = b"<html><body><h1>%d Server Error</h1></body></html>\n" % kind
            return Response(kind, body, "text/html")
        parts = urlsplit(target)
        params: dict[str, list[str]] = {}
        for k, v in parse_qsl(parts.query, keep_blank_values=True):
            params.setdefault(k, []).append(v)
        try:
            user = self._auth(headers, params)
            payload = self._route(method, parts.path, params, user, client)
        except ApiError as err:
            body = json.dumps(
                {"error": True, "code": err.code, "message": err.message, "documentation": DOC_URL}
            ).encode()
            return Response(err.status, body)
        try:
            body = json.dumps(payload, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            body = json.dumps(payload).encode()  # lone surrogates can only travel as \uXXXX escapes
        if "bad-utf8" in self.opts.misbehave and b'"text": "' in body:
            body = body.replace(b'"text": "', b'"text": "\xff\xfe', 2)  # two invalid sequences per answer
        tag = _etag(body)
        if headers.get("if-none-match", "").strip('"') == tag:
            return Response(304, b"", headers={"ETag": tag})
        return Response(200, body, headers={"ETag": tag})

    def _auth(self, headers: dict[str, str], params: dict[str, list[str]]) -> str | None:
        # The header wins over query values (BMO Util.pm fix_credentials)
        key = headers.get("x-bugzilla-api-key")
        if key is None:
            for name in ("Bugzilla_api_key", "api_key"):
                if params.get(name):
                    key = params[name][0]
                    break
        if key is None or key == "":
            return None
        if key not in self.opts.api_keys:
            raise ApiError(
                306, "The API key you specified is invalid. Please check that you typed it correctly."
            )
        return f"user-{self.opts.api_keys.index(key)}"

    def _rate_limit(self, user: str | None, client: str) -> None:
        if user is not None or not self.opts.rate_limit:
            return
        now = time.time()
        with self.lock:
            hits = self._hits.setdefault(client, deque())
            while hits and hits[0] <= now - 60:
                hits.popleft()
            hits.append(now)
            if len(hits) > self.opts.rate_limit:
                hits.clear()
                self._blocked_until[client] = now + self.opts.block_seconds
                raise ApiError(32000, "You have exceeded the rate limit.")

    def _route(
        self, method: str, path: str, params: dict[str, list[str]], user: str | None, client: str
    ) -> Any:
        sub = path[len("/rest") :] if path.startswith("/rest/") or path == "/rest" else None
        if method != "GET" or sub is None:
            raise ApiError(32614, f"A REST API resource was not found for '{method} {sub or path}'.", 404)
        sub = sub.rstrip("/") or "/"
        if self.opts.rate_limit_all:
            self._rate_limit(user, client)
        if sub == "/version":
            with self.lock:
                self.connections += 1
                for bug_id, n in self.opts.turn_private:
                    if n == self.connections and bug_id in self.records:
                        self.make_private(bug_id)
            return {"version": BMO_VERSION}
        if sub == "/time":
            now = format_bmo_time(datetime.now(timezone.utc) + timedelta(seconds=self.opts.clock_offset_s))
            return {
                "db_time": now,
                "web_time": now,
                "web_time_utc": now,
                "tz_name": "UTC",
                "tz_short_name": "UTC",
                "tz_offset": "+0000",
            }
        if sub == "/timezone":
            return {"timezone": "+0000"}
        if sub == "/whoami":
            if user is None:
                raise ApiError(410, "You must log in before using this part of Bugzilla.", 401)
            return {
                "id": 1,
                "name": "bzmine@example.org",
                "real_name": "bzmine",
                "nick": "bzmine",
                "mfa_status": False,
                "groups": [],
                "uuid": "bmo-who:local",
            }
        if sub == "/bug":
            return self._search(params, user)
        m = re.fullmatch(r"/bug/([^/]+)(/comment|/history|/attachment)?", sub)
        if m:
            ids = [m.group(1)] + _id_list(params.get("ids", []))
            kind = m.group(2)
            if kind == "/history":
                return self._history(ids, params, user)
            if not self.opts.rate_limit_all:
                self._rate_limit(user, client)
            if kind == "/comment":
                return self._comments(ids, params, user)
            if kind == "/attachment":
                # corpora carry no attachments: the shape BMO returns for bugs without any
                recs = self._batch(ids, params, user)
                return {"bugs": {str(r.id): [] for r in recs}, "attachments": {}}
            return self._get(ids, params, user)
        raise ApiError(32614, f"A REST API resource was not found for 'GET {sub}'.", 404)

    # -- helpers --
    def _visible(self, rec: Record, user: str | None) -> bool:
        return user is not None or not rec.bug.get("groups")

    def _stall(self, ids: list[int]) -> None:
        if self.opts.stall_ids and self.opts.stall_seconds and any(i in self.opts.stall_ids for i in ids):
            self.stalled.set()
            self._unstall.wait(self.opts.stall_seconds)  # ends early on unstall() or when the server stops

    def _lookup(self, ident: str, user: str | None) -> Record:
        with self.lock:
            rec: Record | None = None
            if ident.isdigit():
                rec = self.records.get(int(ident))
            else:
                rec = next((r for r in self.records.values() if r.bug.get("alias") == ident), None)
                if rec is None:
                    raise ApiError(100, f"'{ident}' is not a valid bug number nor an alias to a bug.")
        if rec is None:
            raise ApiError(101, f"Bug {ident} does not exist.", 404)
        if not self._visible(rec, user):
            msg = f"You are not authorized to access bug {rec.id}."
            raise ApiError(102, msg + (ANON_SUFFIX if user is None else ""), 401)
        return rec

    def _comments_of(self, rec: Record, new_since: datetime | None, user: str | None) -> list[dict[str, Any]]:
        out = []
        for c in rec.comments:
            if c.get("is_private"):
                continue  # private comments are dropped for non-insiders
            if new_since is not None and parse_bmo_time(c["creation_time"]) <= new_since:  # type: ignore[operator]
                continue
            out.append(self._scrub(c, user))
        return out

    def _history_of(
        self, rec: Record, new_since: datetime | None, user: str | None = None
    ) -> list[dict[str, Any]]:
        hist = (
            list(rec.history)
            if new_since is None
            else [
                h for h in rec.history if (when := parse_bmo_time(h["when"])) is not None and when > new_since
            ]
        )
        # BMO's webservice_email_filter: `who` loses its domain; added/removed values keep full addresses
        return [self._scrub(h, user) for h in hist]

    def _scrub(self, obj: dict[str, Any], user: str | None) -> dict[str, Any]:
        """BMO with `webservice_email_filter` on, for anonymous callers (realdata/bmo-2026/email_filter_anonymous.json):
        account fields and the email/name of *_detail objects keep only the part before the '@'; ids, nicks and
        real names stay; history added/removed values are untouched."""
        if not self.opts.hide_emails or user is not None:
            return obj

        def local(v: Any) -> Any:
            return v.split("@")[0] if isinstance(v, str) else v

        def detail(d: Any) -> Any:
            return (
                {**d, "email": local(d.get("email")), "name": local(d.get("name"))}
                if isinstance(d, dict)
                else d
            )

        out = dict(obj)
        for k, v in obj.items():
            if k in ("creator", "author", "assigned_to", "qa_contact", "who", "setter", "requestee"):
                out[k] = local(v)
            elif k.endswith("_detail"):
                out[k] = [detail(d) for d in v] if isinstance(v, list) else detail(v)
            elif k in ("cc", "mentors"):
                out[k] = [local(x) for x in v]
            elif k == "flags" and isinstance(v, list):
                out[k] = [{**f, **{kk: local(f[kk]) for kk in ("setter", "requestee") if kk in f}} for f in v]
        return out

    def _fields(self, rec: Record, params: dict[str, list[str]], user: str | None) -> dict[str, Any]:
        include = _split_fields(params.get("include_fields", []))
        exclude = set(_split_fields(params.get("exclude_fields", [])))
        bug = rec.bug
        wanted: set[str] = set()
        if not include:
            include = ["_default"]
        for name in include:
            if name == "_all":
                wanted |= set(bug) | set(EXTRA_FIELDS)
            elif name == "_default":
                wanted |= set(bug)
            elif name == "_extra":
                wanted |= set(EXTRA_FIELDS)
            elif name == "_custom":
                wanted |= {k for k in bug if k.startswith("cf_")}
            else:
                wanted.add(name)
                if f"{name}_detail" in bug:
                    wanted.add(f"{name}_detail")
        wanted -= exclude
        out = {k: v for k, v in bug.items() if k in wanted}
        new_since = _parse_date(params["new_since"][0]) if params.get("new_since") else None
        if "comments" in wanted:
            out["comments"] = self._comments_of(rec, new_since, user)
        if "history" in wanted:
            out["history"] = self._history_of(rec, new_since, user)
        if rec.id in self.opts.poison_ids and wanted & set(EXTRA_FIELDS):
            # Perceval #875: BMO answers 400 for some pages with extra fields
            raise ApiError(-32000, f"Internal error while serialising bug {rec.id}.")
        return self._scrub(out, user)

    # -- endpoints --
    def _get(self, ids: list[str], params: dict[str, list[str]], user: str | None) -> Any:
        seen: list[Record] = []
        for ident in dict.fromkeys(ids):
            seen.append(self._lookup(ident, user))
        self._stall([r.id for r in seen])
        return {"bugs": [self._fields(r, params, user) for r in seen], "faults": []}

    def _batch(self, ids: list[str], params: dict[str, list[str]], user: str | None) -> list[Record]:
        skip = params.get("skip_private", ["0"])[0] in ("1", "true")
        out = []
        for ident in dict.fromkeys(ids):
            try:
                out.append(self._lookup(ident, user))
            except ApiError as err:
                if err.code == 102 and skip:
                    continue
                raise
        self._stall([r.id for r in out])
        return out

    def _comments(self, ids: list[str], params: dict[str, list[str]], user: str | None) -> Any:
        new_since = _parse_date(params["new_since"][0]) if params.get("new_since") else None
        recs = self._batch(ids, params, user)
        return {
            "bugs": {str(r.id): {"comments": self._comments_of(r, new_since, user)} for r in recs},
            "comments": {},
        }

    def _history(self, ids: list[str], params: dict[str, list[str]], user: str | None) -> Any:
        new_since = _parse_date(params["new_since"][0]) if params.get("new_since") else None
        recs = self._batch(ids, params, user)
        return {
            "bugs": [
                {"id": r.id, "alias": r.bug.get("alias"), "history": self._history_of(r, new_since, user)}
                for r in recs
            ]
        }

    def _search(self, params: dict[str, list[str]], user: str | None) -> Any:
        charts = _charts(params)
        if not (set(params) & SEARCH_CRITERIA) and not charts:
            raise ApiError(1000, "You may not search, or create saved searches, without any search terms.")
        if "offset" in params and "limit" not in params:
            raise ApiError(
                50, "The function Bug.search() requires a limit argument, and that argument was not set."
            )
        preds = _predicates(params) + charts
        ids = _id_list(params.get("id", []) + params.get("bug_id", []))  # validated by _predicates
        with self.lock:
            # an id search looks its bugs up (as BMO's index does) instead of scanning the corpus per request
            pool = (
                [self.records[i] for i in {int(x) for x in ids} if i in self.records]
                if ids
                else self.records.values()
            )
            hits = [r for r in pool if self._visible(r, user) and all(p(r) for p in preds)]
        if params.get("count_only", ["0"])[0] in ("1", "true"):
            return {"bug_count": len(hits)}
        order = (params.get("order", ["bug_id"])[0] or "bug_id").strip()
        desc = order.upper().endswith(" DESC")
        key = order[:-5].strip() if desc else order
        if key in ("changeddate", "Last Updated", "delta_ts", "last_change_time"):
            hits.sort(key=lambda r: (r.bug["last_change_time"], r.id), reverse=desc)
        else:
            hits.sort(key=lambda r: r.id, reverse=desc)
        cap = self.opts.page_cap
        limit = cap
        offset = 0
        if "limit" in params:
            try:
                limit = int(params["limit"][0])
            except ValueError:
                raise ApiError(52, "Invalid argument 'limit': must be numeric.") from None
            if limit <= 0:
                limit = cap  # limit=0 deletes offset and is still capped
            else:
                limit = min(limit, cap)
                try:
                    offset = int(params.get("offset", ["0"])[0] or 0)
                except ValueError:
                    raise ApiError(52, "Invalid argument 'offset': must be numeric.") from None
        if "repeat-page" in self.opts.misbehave:
            offset = 0
        page = hits[offset : offset + limit]
        if "bad-types" in self.opts.misbehave:
            return {"bugs": [{**self._fields(r, params, user), "id": f"abc{r.id}"} for r in page]}
        if set(_split_fields(params.get("include_fields", []))) & {"_all", "_extra", *EXTRA_FIELDS}:
            self._stall([r.id for r in page])  # slow serialisation is a detail-request problem
        return {"bugs": [self._fields(r, params, user) for r in page]}


def _predicates(params: dict[str, list[str]]) -> list[Callable[[Record], bool]]:
    preds: list[Callable[[Record], bool]] = []

    def any_of(name: str, values: list[str]) -> None:
        wanted = set(values)
        preds.append(lambda r: r.bug.get(name) in wanted)

    for name in ("product", "component", "resolution", "creator", "assigned_to"):
        if params.get(name):
            any_of(name, params[name])
    if params.get("status"):
        statuses = set(params["status"])

        def status_ok(r: Record) -> bool:
            s = r.bug.get("status")
            return (
                s in statuses
                or ("__open__" in statuses and s not in CLOSED_STATUSES)
                or ("__closed__" in statuses and s in CLOSED_STATUSES)
            )

        preds.append(status_ok)
    wb = params.get("whiteboard") or params.get("status_whiteboard")
    if wb:
        kind = params.get("status_whiteboard_type", ["allwordssubstr"])[0]
        preds.append(_text_match("whiteboard", wb[0], kind))
    if params.get("summary"):
        preds.append(
            _text_match("summary", params["summary"][0], params.get("summary_type", ["allwordssubstr"])[0])
        )
    for name in ("last_change_time", "creation_time"):
        if params.get(name):
            since = _parse_date(params[name][0])
            preds.append(lambda r, n=name, s=since: parse_bmo_time(r.bug[n]) >= s)  # type: ignore[misc]
    ids = _id_list(params.get("id", []) + params.get("bug_id", []))
    if ids:
        if not all(i.isdigit() for i in ids):
            raise ApiError(52, "Invalid argument 'id': must be numeric.")
        idset = {int(i) for i in ids}
        preds.append(lambda r: r.id in idset)
    # python-bugzilla's build_query(status_whiteboard=) sends legacy boolean charts
    for key, vals in params.items():
        m = re.fullmatch(r"field(\d+-\d+-\d+)", key)
        if m and vals[0] == "status_whiteboard":
            value = params.get(f"value{m.group(1)}", [""])[0]
            kind = params.get(f"type{m.group(1)}", ["substring"])[0]
            preds.append(_text_match("whiteboard", value, kind))
    return preds


def _text_match(name: str, value: str, kind: str) -> Callable[[Record], bool]:
    v = value.lower()
    if kind == "allwordssubstr":
        words = v.split()
        return lambda r: all(w in str(r.bug.get(name, "")).lower() for w in words)
    if kind == "anywordssubstr":
        words = v.split()
        return lambda r: any(w in str(r.bug.get(name, "")).lower() for w in words)
    if kind == "equals":
        return lambda r: str(r.bug.get(name, "")) == value
    return lambda r: v in str(r.bug.get(name, "")).lower()


_CHART_FIELDS = {
    "bug_id": "id",
    "delta_ts": "last_change_time",
    "creation_ts": "creation_time",
    "status_whiteboard": "whiteboard",
    "bug_group": "groups",
    "short_desc": "summary",
}


def _charts(params: dict[str, list[str]]) -> list[Callable[[Record], bool]]:
    """Advanced-search custom charts f<n>/o<n>/v<n> (the subset bzmine and its tests use)."""
    preds: list[Callable[[Record], bool]] = []
    for key in params:
        m = re.fullmatch(r"f(\d+)", key)
        if not m:
            continue
        n = m.group(1)
        fname = _CHART_FIELDS.get(params[key][0])
        op = params.get(f"o{n}", ["equals"])[0]
        val = params.get(f"v{n}", [""])[0]
        if fname is None:
            continue
        preds.append(_chart_pred(fname, op, val))
    return preds


def _chart_pred(fname: str, op: str, val: str) -> Callable[[Record], bool]:
    def get(r: Record) -> Any:
        v = r.bug.get(fname)
        if fname in ("last_change_time", "creation_time"):
            return parse_bmo_time(v)
        return v

    cmp_val: Any = val
    if fname == "id":
        cmp_val = int(val) if val.isdigit() else 0
    elif fname in ("last_change_time", "creation_time") and op not in ("isempty", "isnotempty"):
        cmp_val = _parse_date(val)
    ops: dict[str, Callable[[Any], bool]] = {
        "equals": lambda x: x == cmp_val,
        "notequals": lambda x: x != cmp_val,
        "greaterthan": lambda x: x > cmp_val,
        "greaterthaneq": lambda x: x >= cmp_val,
        "lessthan": lambda x: x < cmp_val,
        "lessthaneq": lambda x: x <= cmp_val,
        "substring": lambda x: str(val).lower() in str(x).lower(),
        "isempty": lambda x: not x,
        "isnotempty": lambda x: bool(x),
    }
    fn = ops.get(op, ops["equals"])
    return lambda r: fn(get(r))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the client's
    # delayed ACK add ~40 ms to every keep-alive response
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve("HEAD")

    def _serve(self, method: str) -> None:
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        resp = self.server.app.handle(method, self.path, headers, self.client_address[0])
        if resp.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        if "Content-Length" not in resp.headers:
            self.send_header("Content-Length", str(len(resp.body)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if method == "HEAD" or resp.status == 304:
            return
        if resp.stream is None:
            try:
                self.wfile.write(resp.body)
            except OSError:  # the client hung up mid-body (a size limit, a timeout): nothing to do
                self.close_connection = True
            return
        try:
            for piece in resp.stream():
                if self.server.app._closed.is_set():
                    break
                self.wfile.write(piece)
                if resp.pause:
                    self.wfile.flush()
                    self.server.app._closed.wait(resp.pause)
        except OSError:  # the client gave up (as it should): nothing to do
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s " + format, self.address_string(), *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    app: FakeBugzilla

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Never print: socketserver's default writes a traceback to sys.stderr, which a test running the CLI
        in-process captures as bzmine's own output. A client hanging up is normal (size limits, timeouts, a
        stopped sync) and is dropped; anything else goes to this module's logger."""
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # reset, broken pipe, timeout, a socket closed by stop()
            log.debug("client %s hung up: %s", client_address, exc)
            return
        self.app.errors.append(repr(exc))  # tests can assert there were none
        log.error("error serving %s", client_address, exc_info=True)


class LocalBugzilla:
    """A running local server: `with LocalBugzilla(records) as srv: srv.url`."""

    def __init__(
        self,
        records: dict[int, Record],
        options: ServerOptions | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.app = FakeBugzilla(records, options)
        self.httpd = _Server((host, port), _Handler)
        self.httpd.app = self.app
        self.host, self.port = str(self.httpd.server_address[0]), int(self.httpd.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalBugzilla:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, args=(0.05,), name="bzmine-server", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.app._closed.set()  # release handlers held by --misbehave hang before joining them
        self.httpd.shutdown()
        self.httpd.server_close()
        self.app.close()

    def __enter__(self) -> LocalBugzilla:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_corpus(
    corpus: str | Path, options: ServerOptions, host: str = "127.0.0.1", port: int = 0
) -> LocalBugzilla:
    """Load a corpus (validating it) and bind a server; the caller starts it."""
    return LocalBugzilla(load_corpus(corpus), options, host, port)


def serve_until_stopped(srv: LocalBugzilla) -> None:
    """Serve until Ctrl-C or SIGTERM, then close the socket and the corpus (`bzmine serve-corpus`)."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.httpd.server_close()
        srv.app.close()
