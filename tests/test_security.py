"""What bzmine trusts: nothing from a server or a bug. Key origin, sql lock-down, hostile text in plots and terminals."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from bzmine.cli import cli
from tests.helpers import build_db, mk_bug

KEY = "sekrit-key-0123456789"


def _send_json(handler: http.server.BaseHTTPRequestHandler, status: int, obj: Any) -> None:
    body = json.dumps(obj).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []
    redirect_to: str | None = None

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
        if self.redirect_to and self.path.startswith(
            "/rest/version"
        ):  # connect works; what follows is redirected
            return _send_json(self, 200, {"version": "20260820.1"})
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        _send_json(self, 404, {"error": True, "code": 32614, "message": "not here"})

    def log_message(self, *args: Any) -> None:
        pass


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def test_api_key_never_follows_a_redirect_to_another_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = type("Other", (_Recorder,), {"seen": [], "redirect_to": None})
    home = type("Home", (_Recorder,), {"seen": []})
    gen_b = _serve(other)
    url_b = next(gen_b)
    home.redirect_to = url_b  # same host, another port: another origin
    gen_a = _serve(home)
    url_a = next(gen_a)
    try:
        monkeypatch.setenv("BUGZILLA_API_KEY", KEY)
        res = CliRunner().invoke(
            cli,
            [
                "sync",
                "--url",
                url_a,
                "--db",
                str(tmp_path / "k.duckdb"),
                "--no-cache",
                "--retries",
                "0",
                "-q",
            ],
        )
        assert res.exit_code == 1 and KEY not in res.output
        keyed = [h for h in home.seen if not h["path"].startswith("/rest/version")]
        assert keyed and all(
            h.get("x-bugzilla-api-key") == KEY for h in keyed
        )  # the configured origin gets it
        assert other.seen, "the redirect was not followed, so the test proves nothing"
        assert not any("x-bugzilla-api-key" in h for h in other.seen)
        assert not any(KEY in json.dumps(h) for h in other.seen)
    finally:
        for g in (gen_a, gen_b):
            next(g, None)


def test_key_is_not_sent_in_clear_text_to_a_remote_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUGZILLA_API_KEY", KEY)
    res = CliRunner().invoke(
        cli, ["sync", "--url", "http://bugzilla.example.org", "--db", str(tmp_path / "x.duckdb")]
    )
    assert res.exit_code == 1 and "clear text" in res.output and KEY not in res.output
    assert not (tmp_path / "x.duckdb").exists()


HOSTILE = "Trust $$ \\^_{x}"
BUGS = [
    mk_bug(
        31,
        f"{HOSTILE}: bad $x$ certificates",
        "2025-01-01T00:00:00Z",
        "a@trust.example",
        "a@trust.example",
        whiteboard="[ca-compliance] [tag_$with$^math]",
        comments=[("rp@mozilla.com", "2025-01-02T00:00:00Z", "Why?")],
    ),
    mk_bug(
        32,
        "Evil\x1b]0;pwned\x07 CA\x1b[31m: escapes",
        "2025-01-01T00:00:00Z",
        "e@evil.example",
        "e@evil.example",
    ),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sec") / "sec.duckdb"
    con = build_db(path, BUGS)
    con.close()
    return path


@pytest.mark.parametrize(
    "query,message",
    [
        ("EXPLAIN ANALYZE COPY (SELECT 1) TO '{out}'", "EXPLAIN ANALYZE"),
        ("explain analyze SELECT 1", "EXPLAIN ANALYZE"),
        ("/* hi */ EXPLAIN ANALYSE INSTALL httpfs", "EXPLAIN ANALYZE"),
        ("COPY (SELECT 1) TO '{out}'", "COPY statements are refused"),
        ("INSTALL httpfs", "refused"),
        ("SELECT * FROM read_csv('/etc/passwd')", "query failed"),
        ("SELECT * FROM read_text('/etc/hostname')", "query failed"),
        ("SELECT * FROM glob('/etc/*')", "query failed"),
        ("SELECT * FROM query('SELECT * FROM read_text(''/etc/hostname'')')", "query failed"),
        ("SELECT 1; SELECT 2", "exactly one statement"),
        ("ATTACH '{out}' AS x", "refused"),
    ],
)
def test_sql_reads_the_database_only(query: str, message: str, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "written"
    res = CliRunner().invoke(cli, ["sql", query.format(out=out), "--db", str(db)])
    assert res.exit_code == 1, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_sql_allowed_forms_still_work(db: Path) -> None:
    for q in (
        "SELECT count(*) AS n FROM incidents",
        "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
        "DESCRIBE incidents",
        "SUMMARIZE SELECT bug_id FROM incidents",
        "EXPLAIN SELECT 1",
        "SELECT count(*) FROM roles",
    ):
        res = CliRunner().invoke(cli, ["sql", q, "--db", str(db), "--as-of", "2025-06-01"])
        assert res.exit_code == 0, (q, res.output)


def test_dollar_signs_in_ca_names_and_tags_do_not_break_the_report(db: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["report", "--db", str(db), "--out", str(tmp_path / "r"), "--as-of", "2025-06-01", "-q"]
    )
    assert res.exit_code == 0, res.output
    page = next((tmp_path / "r" / "ca").glob("*.html")).read_text(encoding="utf-8")
    assert "Trust $$" in (tmp_path / "r" / "scorecard.html").read_text(encoding="utf-8") or "Trust $$" in page
    assert all(p.stat().st_size > 2000 for p in (tmp_path / "r" / "img").glob("*.png"))


def test_terminal_output_strips_control_characters(db: Path) -> None:
    for args in (["scorecard", "--as-of", "2025-06-01"], ["sql", "SELECT ca, summary FROM incidents"]):
        res = CliRunner().invoke(cli, [*args, "--db", str(db)])
        assert res.exit_code == 0, res.output
        assert "\x1b" not in res.output and "\x07" not in res.output
        assert "Evil" in res.output
    con = duckdb.connect(str(db), read_only=True)  # the database keeps the text as Bugzilla gave it
    assert "\x1b" in con.execute("SELECT summary FROM incidents WHERE bug_id = 32").fetchone()[0]
    con.close()
    res = CliRunner().invoke(cli, ["sql", "SELECT ca FROM incidents", "--db", str(db), "--format", "json"])
    assert "\\u001b" in res.output  # machine formats keep the data (JSON escapes it)


def test_hostile_labels_render_as_plain_text() -> None:
    from bzmine import plots

    fig = plots.plot_action_items(
        pd.DataFrame({"ca": [HOSTILE, "a$b$c"], "open_action_items": [1, 2], "overdue_action_items": [0, 1]})
    )
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert HOSTILE in labels


class _Echo(http.server.BaseHTTPRequestHandler):
    """A hostile Bugzilla: its clock and its error bodies are whatever the test says (errors echo the headers)."""

    db_time = "2026-11-01T00:00:00Z"

    def _json(self, status: int, obj: Any) -> None:
        _send_json(self, status, obj)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/rest/version"):
            return self._json(200, {"version": "20260820.1"})
        if self.path.startswith("/rest/time"):
            return self._json(200, {"db_time": self.db_time, "web_time": self.db_time})
        echoed = "; ".join(f"{k}: {v}" for k, v in self.headers.items())
        return self._json(400, {"error": True, "code": 51, "message": f"Invalid request. You sent: {echoed}"})

    def log_message(self, *args: Any) -> None:
        pass


def test_key_is_scrubbed_from_everything_a_server_echoes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    handler = type(
        "E", (_Echo,), {"db_time": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    )
    gen = _serve(handler)
    url = next(gen)
    try:
        monkeypatch.setenv("BUGZILLA_API_KEY", KEY)
        db = tmp_path / "e.duckdb"
        from bzmine.store.db import connect

        connect(db).close()
        res = CliRunner().invoke(cli, ["sync", "--url", url, "--db", str(db), "--no-cache", "--retries", "0"])
        assert res.exit_code == 1 and "You sent" in res.output, res.output  # the echo reached us...
        assert KEY not in res.output and "REDACTED" in res.output  # ...without the key
        con = duckdb.connect(str(db), read_only=True)
        stored = json.dumps(con.execute("SELECT * FROM sync_runs").fetchall(), default=str)
        stored += json.dumps(con.execute("SELECT * FROM sync_skipped").fetchall(), default=str)
        con.close()
        assert KEY not in stored and "You sent" in stored
        status = CliRunner().invoke(cli, ["status", "--db", str(db)])
        assert KEY not in status.output
    finally:
        next(gen, None)


def test_a_far_future_server_clock_is_refused(tmp_path: Path) -> None:
    handler = type("F", (_Echo,), {"db_time": "2999-01-01T00:00:00Z"})
    gen = _serve(handler)
    url = next(gen)
    try:
        db = tmp_path / "f.duckdb"
        from bzmine.store.db import connect

        connect(db).close()
        res = CliRunner().invoke(cli, ["sync", "--url", url, "--db", str(db), "--no-cache"])
        assert res.exit_code == 1 and "2999-01-01" in res.output and "more than a day" in res.output
        con = duckdb.connect(str(db), read_only=True)
        assert con.execute("SELECT count(*) FROM sync_state WHERE key = 'watermark'").fetchone() == (0,)
        con.close()
    finally:
        next(gen, None)


def test_malformed_bugs_are_skipped_or_recorded_and_the_rest_kept(
    make_server: Any, corpus: dict[int, Any], tmp_path: Path
) -> None:
    import copy as _copy

    srv = make_server()
    bad = _copy.deepcopy(corpus[min(corpus)])
    bad.history.append(
        {
            "when": "2024-02-30T10:00:00Z",
            "who": "x@y.example",  # an impossible date
            "changes": [{"field_name": "status", "removed": "NEW", "added": "ASSIGNED"}],
        }
    )
    srv.app.put(bad)  # put() bypasses the corpus check: a server can send anything
    odd = _copy.deepcopy(corpus[max(corpus)])
    odd.bug["summary"] = {"not": "a string"}  # survives as a bug naming no CA
    srv.app.put(odd)
    db = tmp_path / "m.duckdb"
    res = CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q"])
    assert res.exit_code == 0, res.output
    status = CliRunner().invoke(
        cli, ["status", "--db", str(db)]
    )  # rejected at sync, before anything is written
    assert f"{bad.id}: invalid data from Bugzilla: a history entry with an invalid time" in status.output
    assert f"{odd.id}: invalid data from Bugzilla: field 'summary' should be text" in status.output
    con = duckdb.connect(str(db), read_only=True)
    visible = [r for r in corpus.values() if not r.bug.get("groups")]
    assert con.execute("SELECT count(*) FROM incidents").fetchone()[0] == len(visible) - 2
    con.close()


def test_a_bug_the_parser_cannot_read_is_a_recorded_failure(tmp_path: Path) -> None:
    """Raw rows written by an older bzmine (before sync validated them) must not stop every later parse."""
    from tests.helpers import build_db

    bugs = [
        mk_bug(41, "Acme: fine", "2025-01-01T00:00:00Z", "a@acme.example", "a@acme.example"),
        mk_bug(42, "Acme: odd", "2025-01-01T00:00:00Z", "a@acme.example", "a@acme.example"),
    ]
    bugs[1]["whiteboard"] = ["not", "text"]
    con = build_db(tmp_path / "o.duckdb", bugs)
    assert con.execute("SELECT bug_id FROM incidents").fetchall() == [(41,)]
    reasons = con.execute("SELECT bug_id, reason FROM parse_failures").fetchall()
    assert len(reasons) == 1 and reasons[0][0] == 42 and reasons[0][1].startswith("bug not parsed:")
    con.close()
    res = CliRunner().invoke(cli, ["parse", "--db", str(tmp_path / "o.duckdb"), "--full", "-q"])
    assert res.exit_code == 0, res.output
    status = CliRunner().invoke(cli, ["status", "--db", str(tmp_path / "o.duckdb")])
    assert "parse failures: 1" in status.output


def test_garbage_http_cache_is_moved_aside_and_rebuilt(make_server: Any, tmp_path: Path) -> None:
    srv = make_server()
    db = tmp_path / "c.duckdb"
    (tmp_path / "http_cache.sqlite").write_bytes(b"this is not a database" * 100)
    res = CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "http_cache.sqlite.corrupt").exists() and (tmp_path / "http_cache.sqlite").exists()


def test_json_nested_past_any_depth_is_an_invalid_body(tmp_path: Path) -> None:
    class Deep(_Echo):
        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/rest/bug"):
                body = b"[" * 200_000 + b"]" * 200_000
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            import datetime as dt

            self.db_time = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            super().do_GET()

    gen = _serve(Deep)
    url = next(gen)
    try:
        res = CliRunner().invoke(
            cli, ["sync", "--url", url, "--db", str(tmp_path / "d.duckdb"), "--no-cache", "--retries", "0"]
        )
        assert res.exit_code == 1 and "answer without 'bugs'" in res.output and "bzmine bug" not in res.output
    finally:
        next(gen, None)
