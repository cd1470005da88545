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


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []
    redirect_to: str | None = None

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
        if self.redirect_to and self.path.startswith("/rest/version"):  # connect works; what follows is redirected
            body = json.dumps({"version": "20260820.1"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"error": True, "code": 32614, "message": "not here"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

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


def test_api_key_never_follows_a_redirect_to_another_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = type("Other", (_Recorder,), {"seen": [], "redirect_to": None})
    home = type("Home", (_Recorder,), {"seen": []})
    gen_b = _serve(other)
    url_b = next(gen_b)
    home.redirect_to = url_b  # same host, another port: another origin
    gen_a = _serve(home)
    url_a = next(gen_a)
    try:
        monkeypatch.setenv("BUGZILLA_API_KEY", KEY)
        res = CliRunner().invoke(cli, ["sync", "--url", url_a, "--db", str(tmp_path / "k.duckdb"), "--no-cache",
                                       "--retries", "0", "-q"])  # fmt: skip
        assert res.exit_code == 1 and KEY not in res.output
        keyed = [h for h in home.seen if not h["path"].startswith("/rest/version")]
        assert keyed and all(h.get("x-bugzilla-api-key") == KEY for h in keyed)  # the configured origin gets it
        assert other.seen, "the redirect was not followed, so the test proves nothing"
        assert not any("x-bugzilla-api-key" in h for h in other.seen)
        assert not any(KEY in json.dumps(h) for h in other.seen)
    finally:
        for g in (gen_a, gen_b):
            next(g, None)


def test_key_is_not_sent_in_clear_text_to_a_remote_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUGZILLA_API_KEY", KEY)
    res = CliRunner().invoke(cli, ["sync", "--url", "http://bugzilla.example.org", "--db", str(tmp_path / "x.duckdb")])
    assert res.exit_code == 1 and "clear text" in res.output and KEY not in res.output
    assert not (tmp_path / "x.duckdb").exists()


HOSTILE = "Trust $$ \\^_{x}"
BUGS = [
    mk_bug(31, f"{HOSTILE}: bad $x$ certificates", "2025-01-01T00:00:00Z", "a@trust.example", "a@trust.example",
           whiteboard="[ca-compliance] [tag_$with$^math]", comments=[("rp@mozilla.com", "2025-01-02T00:00:00Z", "Why?")]),
    mk_bug(32, "Evil\x1b]0;pwned\x07 CA\x1b[31m: escapes", "2025-01-01T00:00:00Z", "e@evil.example", "e@evil.example"),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sec") / "sec.duckdb"
    con = build_db(path, BUGS)
    con.close()
    return path


@pytest.mark.parametrize("query,message", [
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
])
def test_sql_reads_the_database_only(query: str, message: str, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "written"
    res = CliRunner().invoke(cli, ["sql", query.format(out=out), "--db", str(db)])
    assert res.exit_code == 1, res.output
    assert message in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_sql_allowed_forms_still_work(db: Path) -> None:
    for q in ("SELECT count(*) AS n FROM incidents", "WITH x AS (SELECT 1 AS a) SELECT a FROM x", "DESCRIBE incidents",
              "SUMMARIZE SELECT bug_id FROM incidents", "EXPLAIN SELECT 1", "SELECT count(*) FROM roles"):
        res = CliRunner().invoke(cli, ["sql", q, "--db", str(db), "--as-of", "2025-06-01"])
        assert res.exit_code == 0, (q, res.output)


def test_dollar_signs_in_ca_names_and_tags_do_not_break_the_report(db: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["report", "--db", str(db), "--out", str(tmp_path / "r"), "--as-of", "2025-06-01", "-q"])
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

    fig = plots.plot_action_items(pd.DataFrame({"ca": [HOSTILE, "a$b$c"], "open_action_items": [1, 2],
                                                  "overdue_action_items": [0, 1]}))  # fmt: skip
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert HOSTILE in labels
