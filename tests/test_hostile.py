"""Hostile input, second pass (issue 31): a URL two parsers read differently, a server that echoes the key into bug
data or runs its clock ahead, data that would freeze the harvest, writes through symlinks, crashing user input and
terminal escapes. Every case goes through the CLI against a local hostile server or hostile files."""

from __future__ import annotations

import datetime as dt
import errno
import http.server
import json
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
from click.testing import CliRunner

from bzmine.cli import cli
from tests.helpers import mk_bug

KEY = "Hk3yZ0123456789abcdefghijklmnopqrstuvwxyz"  # 41 characters


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Hostile:
    """A Bugzilla that answers with exactly the bug objects (or bodies) a test gives it, whatever their shape.

    bugs: id -> bug object (comments and history inline), served by listing and detail requests; detail: an optional
    function (asked ids) -> raw body bytes, to send shapes no well-behaved server would; db_time: its clock."""

    def __init__(self, bugs: dict[int, dict[str, Any]] | None = None) -> None:
        self.bugs = bugs or {}
        self.detail: Callable[[list[int]], bytes] | None = None
        self.listing: Callable[[], bytes] | None = None
        self.db_time: Callable[[], str] = _now
        self.seen: list[dict[str, str]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                owner.seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                status, body = owner.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Echo", "you sent " + self.headers.get("X-Bugzilla-Api-Key", "no key"))
                self.send_header("ETag", f'"{hash(body)}"')  # answers with a validator are cached
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def answer(self, target: str) -> tuple[int, bytes]:
        u = urlsplit(target)
        q = parse_qs(u.query)
        if u.path.startswith("/rest/version"):
            return 200, b'{"version": "20260820.1"}'
        if u.path.startswith("/rest/time"):
            t = self.db_time()
            return 200, json.dumps({"db_time": t, "web_time": t}).encode()
        if u.path.startswith("/rest/bug") and "id" in q:
            ids = [int(i) for i in q["id"][0].split(",")]
            if self.detail is not None:
                return 200, self.detail(ids)
            return 200, json.dumps({"bugs": [self.bugs[i] for i in ids if i in self.bugs]}).encode()
        if u.path.startswith("/rest/bug"):
            if self.listing is not None:
                return 200, self.listing()
            since = q.get("last_change_time", [""])[0]
            offset = int(q.get("offset", ["0"])[0])
            rows = [
                {"id": i, "last_change_time": b["last_change_time"]}
                for i, b in sorted(self.bugs.items())
                if b["last_change_time"] >= since
            ]
            return 200, json.dumps({"bugs": rows[offset : offset + 1000]}).encode()
        return 404, b'{"error": true, "code": 32614, "message": "not here"}'

    def __enter__(self) -> Hostile:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _sync(url: str, db: Path, *extra: str) -> Any:
    return CliRunner().invoke(
        cli, ["sync", "--url", url, "--db", str(db), "--no-cache", "--retries", "0", *extra]
    )


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def no_remote_connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Connections blocked except to loopback: an attempt elsewhere is recorded and refused, so no packet leaves
    this machine whatever the code under test does."""
    attempts: list[Any] = []
    plain = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            attempts.append(address)
            raise OSError(errno.ENETUNREACH, "Network is unreachable")  # as on a machine with no route there
        return plain(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


# -- 1. the key goes only where the checked URL says --


@pytest.mark.parametrize(
    "template,why",
    [
        ("http://192.0.2.1\\@127.0.0.1:{port}/", "contains '\\\\'"),
        ("http://192.0.2.1\\@127.0.0.1:{port}", "contains '\\\\'"),
        ("http://user@127.0.0.1:{port}/", "contains '@'"),
        ("http://192.0.2.1:80@127.0.0.1:{port}/", "contains '@'"),
        ("http://127.0.0.1:{port}/?x=@192.0.2.1", "contains '?'"),
        ("http://127.0.0.1:{port}#@192.0.2.1", "contains '#'"),
        ("http://127.0.0.1:{port}/\t", "contains '\\t'"),
        ("http://127.0.0.1:99999/", "port 99999 is out of range"),
    ],
)
def test_a_url_parsers_read_differently_is_refused_before_any_connection(
    template: str, why: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_remote_connections: list[Any]
) -> None:
    with Hostile() as srv:
        url = template.format(port=srv.url.rsplit(":", 1)[1])
        monkeypatch.setenv("BUGZILLA_API_KEY", KEY)
        res = _sync(url, tmp_path / "k.duckdb")
        assert res.exit_code == 1, res.output
        assert "--url is not a valid URL" in res.output and why in res.output, res.output
        assert KEY not in res.output and len(res.output.strip().splitlines()) == 1
        assert srv.seen == [] and no_remote_connections == []  # refused before any connection, anywhere
        assert not (tmp_path / "k.duckdb").exists()


def test_an_unreachable_address_is_said_within_10_seconds(
    tmp_path: Path, no_remote_connections: list[Any]
) -> None:
    """A closed port is refused at once; an address no route leads to fails at once too ("network unreachable"):
    both are given up after two tries, not retried for a minute."""
    import time

    for url, why in (
        ("http://192.0.2.1:9", "network unreachable"),
        ("http://127.0.0.1:9", "connection refused"),
    ):
        started = time.monotonic()
        res = _sync(url, tmp_path / "u.duckdb", "--retries", "6")
        assert time.monotonic() - started < 10, url
        _one_error(res, why, "Check --url")
        assert not (tmp_path / "u.duckdb").exists()
    assert len(no_remote_connections) == 2  # two tries at 192.0.2.1, both stopped before leaving this machine


def test_the_key_header_goes_only_to_the_configured_origin_on_every_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not only on redirects: any request the session prepares for another origin (another port here) goes out
    without the key, and the configured origin gets it on each request."""
    from bzmine.http import make_session, protect_key

    with Hostile() as home, Hostile() as other:
        session = make_session(None)
        protect_key(session, home.url + "/rest", KEY)
        session.get(home.url + "/rest/version", timeout=5)
        session.get(other.url + "/rest/version", timeout=5)
        session.get(other.url.replace("127.0.0.1", "localhost") + "/rest/version", timeout=5)
        session.get(home.url + "/rest/version", headers={"X-Bugzilla-Api-Key": "planted"}, timeout=5)
    assert [h.get("x-bugzilla-api-key") for h in home.seen] == [KEY, KEY]
    assert other.seen and all("x-bugzilla-api-key" not in h for h in other.seen)


# -- 2. the key is scrubbed from every server-provided string before it is stored --


def _escaped(text: str) -> str:
    """text spelled with JSON \\u escapes only: the same string once parsed, different bytes on the wire."""
    return "".join(f"\\u{ord(c):04x}" for c in text)


def test_a_key_echoed_into_bug_data_is_never_stored_or_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = "2025-03-01T10:00:00Z"
    bug = mk_bug(
        501,
        f"Acme: key {KEY} in the summary",
        at,
        "ca@acme.example",
        "ca@acme.example",
        whiteboard=f"[ca-compliance] {KEY}",
        comments=[
            ("ca@acme.example", at, f"echo: X-BUGZILLA-API-KEY: {KEY}"),
            ("ca@acme.example", at, "ESCAPED"),
        ],
        history=[(at, "ca@acme.example", [("status_whiteboard", "", KEY)])],
    )
    bug[f"cf_{KEY}"] = "a field named after the key"
    body = json.dumps({"bugs": [bug]}).replace("ESCAPED", "escaped: " + _escaped(KEY)).encode()
    assert KEY.encode() in body and _escaped(KEY).encode() in body
    with Hostile({501: bug}) as srv:
        srv.detail = lambda ids: body
        monkeypatch.setenv("BUGZILLA_API_KEY", KEY)
        db = tmp_path / "k.duckdb"
        res = _sync(srv.url, db)
        assert res.exit_code == 0, res.output
        assert any(h.get("x-bugzilla-api-key") == KEY for h in srv.seen)  # it was sent, and echoed
    monkeypatch.delenv(
        "BUGZILLA_API_KEY"
    )  # the output checks below must not depend on bzmine's own scrubbing
    stored = json.dumps(
        [_rows(db, f"SELECT * FROM {t}") for t in ("raw_bugs", "raw_comments", "raw_history")], default=str
    )
    assert KEY not in stored and stored.count("REDACTED") >= 5, stored[:500]
    for q in ("SELECT data FROM raw_bugs", "SELECT * FROM incidents", "SELECT * FROM raw_comments"):
        sql = CliRunner().invoke(cli, ["sql", q, "--db", str(db), "--format", "csv"])
        assert sql.exit_code == 0 and "REDACTED" in sql.output and KEY not in sql.output, sql.output
    out = tmp_path / "export"
    exp = CliRunner().invoke(cli, ["export", "--db", str(db), "--format", "csv", "--out", str(out)])
    assert exp.exit_code == 0, exp.output
    assert all(KEY not in p.read_text(encoding="utf-8") for p in out.rglob("*.csv"))


def test_a_key_straddling_the_cut_of_an_error_text_leaves_nothing_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scrub first, then cut: cut first, and 39 of the key's characters would survive the scrubbing."""
    with Hostile() as srv:
        srv.listing = lambda: json.dumps({"nothing": "x" * 70 + KEY}).encode()  # the cut falls inside the key
        monkeypatch.setenv("BUGZILLA_API_KEY", KEY)
        db = tmp_path / "s.duckdb"
        from bzmine.store.db import connect

        connect(db).close()
        res = _sync(srv.url, db)
    assert res.exit_code == 1 and "answer without 'bugs'" in res.output, res.output
    monkeypatch.delenv("BUGZILLA_API_KEY")
    recorded = json.dumps(_rows(db, "SELECT error FROM sync_runs"))
    for text in (res.output, recorded):
        assert not any(KEY[i : i + 8] in text for i in range(len(KEY) - 7)), text


# -- 3. a server clock hours ahead loses nothing --


def test_a_server_clock_hours_ahead_does_not_lose_later_changes(make_server: Any, tmp_path: Path) -> None:
    import copy

    from bzmine.timeutil import format_bmo_time, parse_bmo_time, utcnow

    srv = make_server(clock_offset_s=10 * 3600)
    db = tmp_path / "c.duckdb"
    first = CliRunner().invoke(
        cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q", "--no-parse"]
    )
    assert first.exit_code == 0, first.output
    (wm,) = _rows(db, "SELECT value FROM sync_state WHERE key = 'watermark'")[0]
    newest = max(r.bug["last_change_time"] for r in srv.app.records.values() if not r.bug.get("groups"))
    ahead = parse_bmo_time(wm) - parse_bmo_time(newest)  # type: ignore[operator]
    assert ahead == dt.timedelta(minutes=5), (wm, newest)  # not the server's now + 10 h
    rec = copy.deepcopy(next(r for r in srv.app.records.values() if not r.bug.get("groups")))
    rec.bug["last_change_time"] = format_bmo_time(
        utcnow()
    )  # changed after the first sync, by the right clock
    rec.bug["summary"] = "changed after the first sync"
    srv.app.put(rec)
    second = CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "--no-parse"])
    assert second.exit_code == 0 and "1 changed" in second.output, second.output
    assert _rows(db, f"SELECT data->>'summary' FROM raw_bugs WHERE bug_id = {rec.id}") == [
        ("changed after the first sync",)
    ]


# -- 4. server data that would freeze the harvest: skipped with a reason, later syncs proceed --

AT = "2025-03-01T10:00:00Z"


def _bugs(*ids: int) -> dict[int, dict[str, Any]]:
    return {
        i: mk_bug(
            i,
            f"Acme: incident {i}",
            AT,
            "ca@acme.example",
            "ca@acme.example",
            comments=[("ca@acme.example", AT, "hi")],
        )
        for i in ids
    }


def _status(db: Path) -> str:
    res = CliRunner().invoke(cli, ["status", "--db", str(db)])
    assert res.exit_code == 0, res.output
    return res.output


@pytest.mark.parametrize(
    "body,reason",
    [
        (b'{"bugs": "no"}', "the answer's 'bugs' is str, not a list"),
        (b'{"bugs": null}', "the answer's 'bugs' is NoneType, not a list"),
        (b'{"bugs": [601, 602]}', "the answer held no bug object for it"),
    ],
)
def test_a_detail_answer_of_the_wrong_shape_skips_its_bugs_and_the_next_sync_heals(
    body: bytes, reason: str, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    with Hostile(_bugs(601, 602)) as srv:
        srv.detail = lambda ids: body
        res = _sync(srv.url, db, "-q")
        assert res.exit_code == 0, res.output
        status = _status(db)
        assert f"601: invalid data from Bugzilla: {reason}" in status and "602: invalid data" in status, (
            status
        )
        assert _rows(db, "SELECT count(*) FROM raw_bugs") == [(0,)]
        srv.detail = None  # the server is fixed: the skipped bugs are asked for again
        res = _sync(srv.url, db, "-q")
    assert res.exit_code == 0, res.output
    assert _rows(db, "SELECT bug_id FROM raw_bugs ORDER BY 1") == [(601,), (602,)]
    assert "skipped bugs" not in _status(db)


def test_a_bug_twice_in_one_answer_is_kept_once_or_skipped_when_the_copies_differ(tmp_path: Path) -> None:
    bugs = _bugs(601, 602)
    other = dict(bugs[602], summary="Acme: another story")
    with Hostile(bugs) as srv:
        srv.detail = lambda ids: json.dumps({"bugs": [bugs[601], bugs[601], bugs[602], other]}).encode()
        res = _sync(srv.url, tmp_path / "d.duckdb", "-q")
    assert res.exit_code == 0, res.output
    assert _rows(tmp_path / "d.duckdb", "SELECT bug_id FROM raw_bugs") == [(601,)]
    assert "602: invalid data from Bugzilla: returned twice, with different data" in _status(
        tmp_path / "d.duckdb"
    )


def test_bug_ids_past_bugzillas_range_are_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bugs = _bugs(601)
    listing = {"bugs": [{"id": 601, "last_change_time": AT}, {"id": 2**63, "last_change_time": AT}]}
    with Hostile(bugs) as srv:
        srv.listing = lambda: json.dumps(
            listing if "offset=0" in srv.seen[-1]["path"] else {"bugs": []}
        ).encode()
        huge = dict(bugs[601], id=2**63)
        srv.detail = lambda ids: json.dumps({"bugs": [bugs[601], huge]}).encode()  # and one not asked for
        res = _sync(srv.url, tmp_path / "h.duckdb", "-q")
    assert res.exit_code == 0, res.output
    assert f"bug id {2**63} is past Bugzilla's range" in caplog.text
    assert all(str(2**63) not in p["path"] for p in srv.seen)  # never asked for
    assert _rows(tmp_path / "h.duckdb", "SELECT bug_id FROM raw_bugs") == [(601,)]


def test_a_comment_id_reused_by_another_bug_skips_that_bug(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    bugs = _bugs(601, 602)
    with Hostile(bugs) as srv:
        assert _sync(srv.url, db, "-q").exit_code == 0
        late = "2025-04-01T10:00:00Z"
        bugs[603] = dict(_bugs(603)[603], last_change_time=late)
        bugs[603]["comments"] = [dict(bugs[603]["comments"][0], id=bugs[601]["comments"][0]["id"])]
        bugs[604] = dict(_bugs(604)[604], last_change_time=late)  # a healthy bug in the same batch
        bugs[604]["comments"] = [dict(bugs[604]["comments"][0], id=bugs[603]["comments"][0]["id"])]
        res = _sync(srv.url, db, "-q")
        assert res.exit_code == 0, res.output
        status = _status(db)
        assert (
            f"603: invalid data from Bugzilla: comment id {bugs[601]['comments'][0]['id']} also belongs to bug 601"
            in status
        )
        assert "604: invalid data" in status  # its comment id is 603's
        assert _rows(db, "SELECT bug_id FROM raw_bugs ORDER BY 1") == [(601,), (602,)]
        bugs[603]["comments"] = [dict(bugs[603]["comments"][0], id=60300)]  # the server is fixed
        bugs[604]["comments"] = [dict(bugs[604]["comments"][0], id=60400)]
        res = _sync(srv.url, db, "-q")
    assert res.exit_code == 0, res.output
    assert _rows(db, "SELECT bug_id FROM raw_bugs ORDER BY 1") == [(601,), (602,), (603,), (604,)]


def test_a_comment_count_past_any_range_skips_the_bug(tmp_path: Path) -> None:
    bugs = _bugs(601, 602)
    bugs[602]["comments"][0]["count"] = 2**40
    db = tmp_path / "n.duckdb"
    with Hostile(bugs) as srv:
        res = _sync(srv.url, db, "-q")
    assert res.exit_code == 0, res.output
    assert f"602: invalid data from Bugzilla: comment 60200 has a count out of range: '{2**40}'" in _status(
        db
    )
    assert _rows(db, "SELECT bug_id FROM raw_bugs") == [(601,)]


# -- 5. report --out never writes through a symbolic link --


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.helpers import build_db

    path = tmp_path_factory.mktemp("hostile") / "small.duckdb"
    build_db(path, list(_bugs(701, 702, 703).values())).close()
    return path


@pytest.mark.parametrize("planted", ["index.html", "img/within_7d.png", "ca", "img"])
def test_report_refuses_a_symlink_planted_in_its_output_folder(
    planted: str, small_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r"
    (out / "img").mkdir(parents=True)
    victim = tmp_path / "victim"
    if planted in ("ca", "img"):
        victim.mkdir()
        if planted == "img":
            (out / "img").rmdir()
    else:
        victim.write_text("precious", encoding="utf-8")
    (out / planted).symlink_to(victim)
    res = CliRunner().invoke(
        cli, ["report", "--db", str(small_db), "--out", str(out), "-q", "--as-of", "2025-06-01"]
    )
    assert res.exit_code == 1, res.output
    assert f"{out / planted} is a symbolic link" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    if victim.is_dir():
        assert list(victim.iterdir()) == []
    else:
        assert victim.read_text(encoding="utf-8") == "precious"
    assert (out / planted).is_symlink()


def test_report_replaces_its_own_files_in_place(small_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    args = ["report", "--db", str(small_db), "--out", str(out), "-q", "--as-of", "2025-06-01"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    hard = tmp_path / "hard-link-to-index"
    hard.hardlink_to(out / "index.html")
    before = hard.read_bytes()
    assert CliRunner().invoke(cli, args).exit_code == 0  # a new file is renamed over the old entry
    assert hard.read_bytes() == before and (out / "index.html").stat().st_ino != hard.stat().st_ino
    assert not [p for p in out.rglob("*.tmp")]


# -- 6. crashes on user input: each a clear one-line error, exit 1 --

DEEP = "[" * 200_000 + "]" * 200_000


def _one_error(res: Any, *words: str) -> None:
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.exit_code == 1 and len(lines) == 1 and lines[0].startswith("Error: "), (
        res.exit_code,
        res.output,
    )
    assert "Traceback" not in res.output and "bzmine bug" not in res.output, res.output
    assert all(w in lines[0] for w in words), lines[0]


@pytest.mark.parametrize("depth_text", [DEEP, '{"aliases": ' + "[" * 150 + "]" * 150 + "}"])
@pytest.mark.parametrize(
    "command", [["parse", "--aliases"], ["parse", "--roles"], ["config", "roles"], ["config", "aliases"]]
)
def test_deeply_nested_json_in_user_files_is_one_line(
    command: list[str], depth_text: str, small_db: Path, tmp_path: Path
) -> None:
    import shutil

    db = tmp_path / "n.duckdb"
    shutil.copy(small_db, db)
    deep = tmp_path / "deep.json"
    deep.write_text(depth_text, encoding="utf-8")
    res = CliRunner().invoke(cli, [*command, str(deep), "--db", str(db)])
    _one_error(res, "deep.json", "nested more than 100 levels")


@pytest.mark.parametrize("kind", ["directory", "utf-16", "binary"])
def test_an_unreadable_api_key_file_is_one_line_on_every_command(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bzmine import config

    key_file = tmp_path / "api_key"
    if kind == "directory":
        key_file.mkdir()
    elif kind == "utf-16":
        key_file.write_text(KEY, encoding="utf-16")
    else:
        key_file.write_bytes(b"\xff\xfe\x00\x81" * 8)
    monkeypatch.setattr(config, "CONFIG_FILE", key_file)
    monkeypatch.delenv("BUGZILLA_API_KEY", raising=False)
    res = _sync("http://127.0.0.1:9", tmp_path / "k.duckdb")
    _one_error(res, str(key_file))
    assert ("not UTF-8 text" if kind != "directory" else "cannot read the API key file") in res.stderr
    other = CliRunner().invoke(
        cli, ["status", "--db", str(tmp_path / "missing.duckdb")]
    )  # any command that errors
    _one_error(other)


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "1e400", ""])
def test_a_bad_read_wait_is_one_line(value: str, small_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BZMINE_READ_WAIT", value)
    res = CliRunner().invoke(cli, ["status", "--db", str(small_db)])
    if value == "":  # unset in effect: the default
        assert res.exit_code == 0, res.output
    else:
        _one_error(res, "$BZMINE_READ_WAIT must be a number")


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("corpus.jsonl", b"\xff" + bytes(range(256)) * 4, "not UTF-8 text"),
        ("corpus.json", b"\xff\xfe{\x00}\x00", "not UTF-8 text"),
        ("corpus.json", DEEP.encode(), "nested more than 100 levels"),
        ("corpus.jsonl", DEEP.encode() + b"\n", "nested more than 100 levels"),
        ("dir/5.json", DEEP.encode(), "nested more than 100 levels"),
        ("dir/5.json", b"\x00\x9b" * 50, "not UTF-8 text"),
    ],
)
def test_serve_corpus_with_a_hostile_file_is_one_line(
    name: str, content: bytes, message: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    res = CliRunner().invoke(cli, ["serve-corpus", str(path.parent if name.startswith("dir/") else path)])
    _one_error(res, message)


def test_serve_corpus_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["serve-corpus", str(tmp_path), "--port", "99999"])
    assert res.exit_code == 2 and "99999 is not in the range 0<=x<=65535" in res.stderr, res.output


@pytest.mark.parametrize("spec", ["abc", "12@0", "12", "@3", "1234567890123456789@2", "12@2;rm"])
def test_serve_corpus_refuses_a_malformed_turn_private(tmp_path: Path, spec: str) -> None:
    """--turn-private takes BUG@N (N >= 1): anything else is a usage error (exit 2) naming the form, before any
    corpus is read or port bound."""
    res = CliRunner().invoke(cli, ["serve-corpus", str(tmp_path), "--turn-private", spec])
    assert res.exit_code == 2, res.output
    assert "give BUG@N" in res.stderr and "Traceback" not in res.output
    assert "serving" not in res.stdout


@pytest.fixture(scope="module")
def truncated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database cut short where the metadata survives but a table's blocks do not: the damage shows only when a
    query reads them ("Could not read enough bytes")."""
    import os
    import shutil

    from tests.helpers import build_db

    folder = tmp_path_factory.mktemp("trunc")
    good = folder / "good.duckdb"
    build_db(good, list(_bugs(801, 802).values())).close()
    con = duckdb.connect(str(good))
    con.execute("CREATE TABLE junk AS SELECT range AS i, repeat('x', 100) AS s FROM range(300000)")
    con.execute("CHECKPOINT")
    con.execute("DROP TABLE junk")
    con.execute("CHECKPOINT")  # frees the blocks at the end: the next metadata lands low in the file
    con.execute("CREATE TABLE tail AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(200000)")
    con.execute("CHECKPOINT")
    con.execute("CREATE TABLE small (a INTEGER)")
    con.execute("CHECKPOINT")
    con.close()
    bad = folder / "bad.duckdb"
    shutil.copy(good, bad)
    os.truncate(bad, good.stat().st_size - 262144)
    return bad


def test_a_truncated_database_is_said_to_be_damaged(truncated_db: Path) -> None:
    res = CliRunner().invoke(cli, ["sql", "SELECT sum(i), max(s) FROM tail", "--db", str(truncated_db)])
    if res.exit_code == 0:
        pytest.skip("this DuckDB version laid the file out so that the cut did not matter")
    _one_error(res, "corrupted", "Could not read enough bytes", "bzmine sync --full")


# -- 7. one sanitiser for every line bzmine prints --

EVIL = "\x1b]0;pwned\x07\x1b[31m\x9b32m\u202eevil\x85"
UNSAFE_CHARS = ("\x1b", "\x07", "\x9b", "\u202e", "\x85")


def _clean_text(text: str) -> bool:
    return not any(c in text for c in UNSAFE_CHARS)


def test_server_text_in_sync_warnings_and_status_is_sanitised(tmp_path: Path) -> None:
    import subprocess
    import sys

    bugs = _bugs(901, 902)
    bugs[902]["creation_time"] = f"2025-01-01 {EVIL}"  # an invalid field, quoted in the skip reason
    db = tmp_path / "e.duckdb"
    with Hostile(bugs) as srv:

        def detail(ids: list[int]) -> bytes:
            if 901 in ids:
                raise_400 = {"error": True, "code": 100, "message": f"bug 901 is broken {EVIL}"}
                return json.dumps(raise_400).encode()
            return json.dumps({"bugs": [bugs[i] for i in ids]}).encode()

        srv.detail = detail
        answer = srv.answer

        def with_400(target: str) -> tuple[int, bytes]:
            status, body = answer(target)
            return (400 if b'"error": true' in body else status), body

        srv.answer = with_400  # type: ignore[method-assign]
        proc = subprocess.run(
            [sys.executable, "-m", "bzmine", "sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    assert "bug 901 skipped: bug 901 is broken ?]0;pwned??[31m?32m?evil?" in proc.stderr, proc.stderr
    assert _clean_text(proc.stderr) and _clean_text(proc.stdout)
    con = duckdb.connect(str(db))
    con.execute("UPDATE sync_runs SET error = ?", [f"a failed run said {EVIL}"])  # as a failed run records it
    con.close()
    status = CliRunner().invoke(cli, ["status", "--db", str(db)])
    assert status.exit_code == 0, status.output
    assert "901: HTTP 400 code 100: bug 901 is broken ?]0;pwned" in status.stdout
    assert "902: invalid data from Bugzilla: field 'creation_time' is not a timestamp" in status.stdout
    assert "error: a failed run said ?]0;pwned" in status.stdout and _clean_text(status.output)


def test_report_warnings_about_glyphs_are_sanitised(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.helpers import build_db

    bugs = [
        mk_bug(
            951 + i,
            f"Evil{EVIL}{i} CA: bad certificates",
            AT,
            "ca@evil.example",
            "ca@evil.example",
            comments=[
                ("rp@mozilla.com", AT, "Why?"),
                ("ca@evil.example", "2025-03-04T00:00:00Z", "Because."),
            ],
        )
        for i in range(3)
    ]
    db = tmp_path / "g.duckdb"
    build_db(db, bugs).close()
    proc = subprocess.run(
        [sys.executable, "-m", "bzmine", "report", "--db", str(db), "--out", str(tmp_path / "r"), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert _clean_text(proc.stderr) and _clean_text(proc.stdout), proc.stderr
    assert "Glyph 27 (?) missing" in proc.stderr  # the warning is shown, without the character it quotes


def test_tables_keep_machine_formats_as_given(small_db: Path, tmp_path: Path) -> None:
    """csv and json keep the data as Bugzilla gave it (JSON escapes it); the table form is sanitised."""
    from tests.helpers import build_db

    db = tmp_path / "m.duckdb"
    build_db(db, [mk_bug(961, f"Odd{EVIL} CA: x", AT, "a@odd.example", "a@odd.example")]).close()
    q = "SELECT summary FROM incidents"
    table = CliRunner().invoke(cli, ["sql", q, "--db", str(db)])
    csv = CliRunner().invoke(cli, ["sql", q, "--db", str(db), "--format", "csv"])
    assert table.exit_code == csv.exit_code == 0
    assert _clean_text(table.stdout) and "Odd?]0;pwned" in table.stdout
    assert "\u202e" in csv.stdout and "\x9b" in csv.stdout


def test_manifest_text_printed_by_cite_and_open_snapshot_is_sanitised(small_db: Path, tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    made = CliRunner().invoke(cli, ["snapshot", "--db", str(small_db), "--out", str(snap)])
    assert made.exit_code == 0, made.output
    manifest = json.loads((snap / "manifest.json").read_text(encoding="utf-8"))
    manifest["server"] = f"https://bugzilla.example/{EVIL}"
    manifest["bzmine_version"] = f"9.9{EVIL}"
    (snap / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for command in (["cite", str(snap)], ["open-snapshot", str(snap)]):
        res = CliRunner().invoke(cli, command)
        assert _clean_text(res.output), (command, res.output)
        if res.exit_code == 0:  # the manifest's text is shown, without what could drive the terminal
            assert "?]0;pwned" in res.stdout, (command, res.output)


# -- 8. the sql statement check matches docs/security.md --


@pytest.mark.parametrize(
    "query",
    [
        "EXPLAIN/**/ANALYZE SELECT 1",
        "EXPLAIN (ANALYZE) SELECT 1",
        "EXPLAIN (FORMAT json, ANALYSE) SELECT 1",
        "explain -- a comment\n analyze SELECT 1",
        "/* a */ EXPLAIN /* b */ (analyze) SELECT 1",
    ],
)
def test_every_spelling_of_explain_analyze_is_refused(query: str, small_db: Path) -> None:
    res = CliRunner().invoke(cli, ["sql", query, "--db", str(small_db)])
    _one_error(res, "refuses EXPLAIN ANALYZE")


def test_plain_explain_still_works(small_db: Path) -> None:
    res = CliRunner().invoke(
        cli, ["sql", "EXPLAIN /* plan only */ SELECT count(*) FROM raw_bugs", "--db", str(small_db)]
    )
    assert res.exit_code == 0, res.output


def test_a_key_echoed_in_a_response_header_never_reaches_the_http_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUGZILLA_API_KEY", KEY)
    db = tmp_path / "h.duckdb"
    with Hostile(_bugs(601)) as srv:
        res = CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "-q"])  # with the cache
    assert res.exit_code == 0, res.output
    cache = b"".join(p.read_bytes() for p in tmp_path.glob("http_cache*"))
    assert b"you sent REDACTED" in cache  # the echoing header was stored...
    assert KEY.encode() not in cache  # ...without the key
