"""Role account lists into the database, so the metric views can join them."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from bzmine.errors import ConfigError


def _rows(data: dict[str, Any], source: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    accounts: list[tuple[Any, ...]] = []
    for role in ("root_program", "bot", "placeholders"):
        for a in data.get(role, []):
            accounts.append((a.strip().lower(), "placeholder" if role == "placeholders" else role, None, source))
    for ca, accs in (data.get("ca") or {}).items():
        for a in accs:
            accounts.append((a.strip().lower(), "ca", ca, source))
    domains = [(d.lower(), "root_program", source) for d in data.get("root_program_domains", [])]
    domains += [(d.lower(), "freemail", source) for d in data.get("freemail_domains", [])]
    return accounts, domains


def load_builtin_accounts(con: duckdb.DuckDBPyConnection) -> None:
    """Refresh the built-in rows when the shipped file changed (checked by its hash)."""
    text = resources.files("bzmine").joinpath("data/accounts.json").read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    rows = con.execute("SELECT value FROM schema_state WHERE key = 'accounts'").fetchall()
    if rows and rows[0][0] == digest:
        return
    _replace(con, json.loads(text), "builtin")
    con.execute("INSERT OR REPLACE INTO schema_state VALUES ('accounts', ?)", [digest])


def load_user_accounts(con: duckdb.DuckDBPyConnection, path: str | Path) -> int:
    """Replace the user's role rows with those of a JSON file shaped like data/accounts.json."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the roles file ({exc}); it must be JSON like bzmine/data/accounts.json") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the roles file must be a JSON object")
    return _replace(con, data, "user")


def _replace(con: duckdb.DuckDBPyConnection, data: dict[str, Any], source: str) -> int:
    accounts, domains = _rows(data, source)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM config_accounts WHERE source = ?", [source])
        con.execute("DELETE FROM config_domains WHERE source = ?", [source])
        if accounts:
            con.executemany("INSERT INTO config_accounts VALUES (?, ?, ?, ?)", accounts)
        if domains:
            con.executemany("INSERT INTO config_domains VALUES (?, ?, ?)", domains)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(accounts)
