"""Harvest memory: DuckDB's buffer is capped while a sync writes, and a caller's connection gets its setting back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bzmine.config import Settings
from bzmine.store import raw
from bzmine.store.db import connect
from bzmine.sync import sync


def test_sync_caps_duckdb_memory_while_writing_and_restores_it(
    bmo_server: Any, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    con = connect(tmp_path / "m.duckdb")
    con.execute("SET memory_limit = '3GiB'")
    seen: list[str] = []
    real = raw.upsert_bugs

    def spy(c, *a, **kw):  # type: ignore[no-untyped-def]
        seen.append(c.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
        return real(c, *a, **kw)

    monkeypatch.setattr(raw, "upsert_bugs", spy)
    s = Settings(
        url=bmo_server.url, db=str(tmp_path / "m.duckdb"), cache_path=str(tmp_path / "c"), sync_memory_mb=64
    )
    rep = sync(con, s, quiet=True)
    assert rep.new > 0 and seen
    # DuckDB shows the cap in its own units: 64 MB = 61.0 MiB
    assert all(v.startswith("61") and "MiB" in v for v in seen), seen
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "3.0 GiB"
