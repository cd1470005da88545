"""`bzmine export`: every table as Parquet or CSV, so Spark, Trino or DuckDB elsewhere can read it.

Large tables (more than PARTITION_ROWS rows with a timestamp column) are written as Hive-style
partitions by year (`<table>/year=2024/...`). Paths go to DuckDB as arguments, never inside SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from bzmine.errors import ConfigError
from bzmine.store.db import PRIVATE_ROWS, base_tables

PARTITION_ROWS = 200_000
TIME_COLUMNS = ("created_at", "changed_at", "posted_at", "opened_at", "last_change_time")


@dataclass
class Exported:
    table: str
    rows: int
    path: Path
    partitioned: bool


def export(
    con: duckdb.DuckDBPyConnection,
    out: str | Path,
    fmt: str = "parquet",
    partition_rows: int = PARTITION_ROWS,
    include_private: bool = False,
) -> list[Exported]:
    """Write every base table of the database (raw, parsed, sync log, config) into `out`.

    Private (group-restricted) bugs, which only an API key holder sees, are left out of every table with a
    bug_id unless include_private: an export is meant to be shared.
    """
    if fmt not in ("parquet", "csv"):
        raise ConfigError("--format must be parquet or csv")
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    done = []
    for t, cols in base_tables(con).items():
        rel = con.table(t)
        if "bug_id" in cols and not include_private:
            rel = rel.filter(f"NOT ({PRIVATE_ROWS})")
        rows = rel.count("*").fetchall()[0][0]
        tcol = next((c for c in TIME_COLUMNS if c in cols), None)
        if rows > partition_rows and tcol:
            rel = rel.project(f'*, CAST(year("{tcol}") AS INTEGER) AS year')
            path = outdir / t
            if fmt == "parquet":
                rel.write_parquet(str(path), partition_by=["year"], overwrite=True)
            else:
                rel.write_csv(str(path), partition_by=["year"], overwrite=True)
            done.append(Exported(t, rows, path, True))
        else:
            path = outdir / f"{t}.{fmt}"
            if fmt == "parquet":
                rel.write_parquet(str(path))
            else:
                rel.write_csv(str(path), header=True)
            done.append(Exported(t, rows, path, False))
    return done
