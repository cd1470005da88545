"""Role lists, dated people and owner standing into the database, so the metric views can join them.

Built-in rows come from `bzmine/data/` and are refreshed when those files change; user files (aliases,
roles) are stored in `config_files` and applied by every later parse and sync (`bzmine config`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from bzmine.errors import ConfigError
from bzmine.store.tx import transaction
from bzmine.timeutil import utcnow

BUILTIN_FILES = ("accounts.json", "people.json", "ca_owners.json", "duty_rules.json")


def builtin_text(name: str) -> str:
    """The text of one shipped file of bzmine/data (its digest says whether the built-in tables are current)."""
    return resources.files("bzmine").joinpath(f"data/{name}").read_text(encoding="utf-8")


def _strs(value: Any, what: str, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
    ):
        raise ConfigError(f"{where}: {what} must be a list of strings")
    return [str(v).strip().lower() for v in value]


def _date(value: Any, what: str, where: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: {what} {value!r} is not a date (YYYY-MM-DD)") from None


def _account_rows(
    data: dict[str, Any], source: str, where: str
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    accounts: list[tuple[Any, ...]] = []
    for role in ("root_program", "bot", "placeholders", "community"):
        for a in _strs(data.get(role), f"'{role}'", where):
            accounts.append((a, "placeholder" if role == "placeholders" else role, None, source))
    cas = data.get("ca") or {}
    if not isinstance(cas, dict):
        raise ConfigError(f"{where}: 'ca' must map a CA name to a list of accounts")
    for ca, accs in cas.items():
        for a in _strs(accs, f"accounts of CA {ca!r}", where):
            accounts.append((a, "ca", ca, source))
    domains = [
        (d, "root_program", source)
        for d in _strs(data.get("root_program_domains"), "'root_program_domains'", where)
    ]
    domains += [
        (d, "freemail", source) for d in _strs(data.get("freemail_domains"), "'freemail_domains'", where)
    ]
    return accounts, domains


def _operator_rows(data: dict[str, Any], source: str, where: str) -> list[tuple[Any, ...]]:
    """'root_program_operators': [{program, domains, ca_owners}] -> (domain, program, ca_owner, source) rows."""
    ops = data.get("root_program_operators") or []
    if not isinstance(ops, list):
        raise ConfigError(
            f"{where}: 'root_program_operators' must be a list of {{program, domains, ca_owners}}"
        )
    rows: list[tuple[Any, ...]] = []
    for n, op in enumerate(ops, 1):
        if not isinstance(op, dict) or not isinstance(op.get("program"), str) or not op["program"].strip():
            raise ConfigError(f"{where}: root_program_operators entry {n} needs a 'program' (a string)")
        domains = _strs(op.get("domains"), f"'domains' of operator {op['program']!r}", where)
        if not domains:
            raise ConfigError(f"{where}: root_program_operators entry {n} ({op['program']}) needs 'domains'")
        owners = op.get("ca_owners") or []
        if not isinstance(owners, list) or not all(isinstance(o, str) for o in owners):
            raise ConfigError(
                f"{where}: 'ca_owners' of operator {op['program']!r} must be a list of CA owner names"
            )
        for d in domains:
            for owner in owners or [None]:
                rows.append((d, op["program"].strip(), owner, source))
    return rows


def _people_rows(data: dict[str, Any], source: str, where: str) -> list[tuple[Any, ...]]:
    people = data.get("people") or []
    if not isinstance(people, list):
        raise ConfigError(
            f"{where}: 'people' must be a list of objects like those in bzmine/data/people.json"
        )
    rows: list[tuple[Any, ...]] = []
    for n, p in enumerate(people, 1):
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            raise ConfigError(f"{where}: people entry {n} needs a 'name' (a string)")
        keys = [("nick", k) for k in _strs(p.get("nicks"), "'nicks'", where)]
        keys += [("id", k) for k in _strs(p.get("ids"), "'ids'", where)]
        keys += [("account", k) for k in _strs(p.get("accounts"), "'accounts'", where)]
        if not keys:
            raise ConfigError(
                f"{where}: people entry {n} ({p['name']}) needs at least one of nicks, ids, accounts"
            )
        roles = p.get("roles")
        if not isinstance(roles, list) or not roles:
            raise ConfigError(f"{where}: people entry {n} ({p['name']}) needs 'roles': [{{role, from, to}}]")
        for r in roles:
            if not isinstance(r, dict) or r.get("role") not in ("root_program",):
                raise ConfigError(
                    f'{where}: people entry {n} ({p["name"]}): each role needs "role": "root_program"'
                )
            start, end = _date(r.get("from"), "'from'", where), _date(r.get("to"), "'to'", where)
            for kind, key in keys:
                rows.append((p["name"], kind, key, r["role"], r.get("program"), start, end, source))
    return rows


def _owner_rows(data: dict[str, Any], source: str, where: str) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for e in data.get("owners") or []:
        if not isinstance(e, dict) or "owner" not in e:
            continue  # shape errors are reported by the parser's loader, which reads the same file
        # the owner's standing, then each lineage name's own (keyed by that name: incidents.lineage_name)
        standings = [(e["owner"], e)] + [
            (name, v) for name, v in (e.get("lineage") or {}).items() if isinstance(v, dict)
        ]
        for key, st in standings:
            rows.append((key, None, str(st.get("status") or "unknown"), None, None, source))
            for ev in st.get("events") or []:
                if isinstance(ev, dict):
                    rows.append(
                        (
                            key,
                            _date(ev.get("date"), "event date", where),
                            str(ev.get("status") or "unknown"),
                            ev.get("by"),
                            ev.get("source"),
                            source,
                        )
                    )
    return rows


def load_builtin(con: duckdb.DuckDBPyConnection) -> None:
    """Refresh the built-in rows when a shipped file changed (checked by their hash)."""
    texts = [builtin_text(n) for n in BUILTIN_FILES]
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()
    rows = con.execute("SELECT value FROM schema_state WHERE key = 'accounts'").fetchall()
    if rows and rows[0][0] == digest:
        return
    accounts, people, owners, duties = (json.loads(t) for t in texts)
    _replace(con, "builtin", accounts, people, owners, "bzmine/data")
    with transaction(con):
        con.execute("DELETE FROM config_duty_rules")
        con.executemany(
            "INSERT INTO config_duty_rules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            duty_rule_rows(duties, "bzmine/data/duty_rules.json"),
        )
    con.execute("INSERT OR REPLACE INTO schema_state VALUES ('accounts', ?)", [digest])


def duty_rule_rows(data: dict[str, Any], where: str) -> list[tuple[Any, ...]]:
    """duty_rules.json as rows of config_duty_rules: one per duty kind and guideline version in force (plus one
    with version null before the first version for duties that name a `before_ccadb` source)."""
    versions = data.get("versions")
    if not isinstance(versions, list) or not versions:
        raise ConfigError(f"{where}: 'versions' must list {{version, from}} objects")
    vs: list[tuple[str, date]] = []
    for v in versions:
        start = _date(v.get("from") if isinstance(v, dict) else None, "version 'from'", where)
        if start is None or not isinstance(v.get("version"), str):
            raise ConfigError(f"{where}: each version needs 'version' (text) and 'from' (YYYY-MM-DD)")
        vs.append((v["version"], start))
    vs.sort(key=lambda x: x[1])
    names = [n for n, _ in vs]
    doc = str(data.get("document") or "CCADB IRG")
    rows: list[tuple[Any, ...]] = []
    for d in data.get("duties") or []:
        if not isinstance(d, dict) or not all(isinstance(d.get(k), str) for k in ("kind", "code", "section")):
            raise ConfigError(f"{where}: each duty needs 'kind', 'code' and 'section'")
        for key in ("from", "until"):
            if d.get(key) is not None and d[key] not in names:
                raise ConfigError(f"{where}: duty {d['kind']}: '{key}' {d[key]!r} is not a listed version")
        if d.get("strength") not in ("MUST", "SHOULD", None) or d.get("owed_by") not in ("ca", "program"):
            raise ConfigError(f"{where}: duty {d['kind']}: strength MUST|SHOULD|null, owed_by ca|program")
        first = names.index(d["from"]) if d.get("from") else 0
        last = names.index(d["until"]) if d.get("until") else len(names) - 1
        common = (d["kind"], d["code"], str(d.get("label") or d["kind"].replace("_", " ")))
        tail = (d.get("hours"), d.get("strength"), d["owed_by"], bool(d.get("waived_by_closure")))
        if d.get("before_ccadb"):
            rows.append((*common, None, None, vs[0][1], *tail, str(d["before_ccadb"])))
        for i in range(first, last + 1):
            until = vs[i + 1][1] if i + 1 < len(vs) else None
            rows.append((*common, vs[i][0], vs[i][1], until, *tail, f"{doc} {vs[i][0]} §{d['section']}"))
    return rows


def read_json(path: str | Path, what: str) -> tuple[str, dict[str, Any]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the {what} file ({exc})") from None
    from bzmine.files import load_json

    data = load_json(text, str(path))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the {what} file must be a JSON object (see docs/ca-identity.md)")
    return text, data


def load_user_accounts(con: duckdb.DuckDBPyConnection, path: str | Path) -> int:
    """Store a roles file (accounts.json shape, plus 'people' as in people.json); it replaces the earlier one."""
    text, data = read_json(path, "roles")
    n = _replace(con, "user", data, data, None, str(path))
    _store_file(con, "roles", path, text)
    return n


def store_user_aliases(
    con: duckdb.DuckDBPyConnection, path: str | Path, text: str, data: dict[str, Any]
) -> None:
    """Store an aliases/owner file the caller has read and checked (bzmine.parsing.set_aliases checks it as the
    parser reads it); the next parse applies it to every bug."""
    with transaction(con):
        con.execute("DELETE FROM config_owner_status WHERE source = 'user'")
        rows = _owner_rows(data, "user", str(path))
        if rows:
            con.executemany("INSERT INTO config_owner_status VALUES (?, ?, ?, ?, ?, ?)", rows)
        con.execute(
            "INSERT OR REPLACE INTO config_files VALUES ('aliases', ?, ?, ?)",
            [str(path), text, utcnow().replace(tzinfo=None)],
        )


def _store_file(con: duckdb.DuckDBPyConnection, name: str, path: str | Path, text: str) -> None:
    con.execute(
        "INSERT OR REPLACE INTO config_files VALUES (?, ?, ?, ?)",
        [name, str(path), text, utcnow().replace(tzinfo=None)],
    )


def reset_user(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the user's files and rows (the built-in tables stay)."""
    with transaction(con):
        for t in (
            "config_accounts",
            "config_domains",
            "config_people",
            "config_owner_status",
            "config_operators",
        ):
            con.execute(f"DELETE FROM {t} WHERE source = 'user'")  # names from the tuple above only
        con.execute("DELETE FROM config_files")


def _replace(
    con: duckdb.DuckDBPyConnection,
    source: str,
    accounts_data: dict[str, Any],
    people_data: dict[str, Any],
    owners_data: dict[str, Any] | None,
    where: str,
) -> int:
    accounts, domains = _account_rows(accounts_data, source, where)
    operators = _operator_rows(accounts_data, source, where)
    people = _people_rows(people_data, source, where)
    owners = _owner_rows(owners_data, source, where) if owners_data is not None else None
    with transaction(con):
        con.execute("DELETE FROM config_accounts WHERE source = ?", [source])
        con.execute("DELETE FROM config_domains WHERE source = ?", [source])
        con.execute("DELETE FROM config_people WHERE source = ?", [source])
        con.execute("DELETE FROM config_operators WHERE source = ?", [source])
        if operators:
            con.executemany("INSERT INTO config_operators VALUES (?, ?, ?, ?)", operators)
        if accounts:
            con.executemany("INSERT INTO config_accounts VALUES (?, ?, ?, ?)", accounts)
        if domains:
            con.executemany("INSERT INTO config_domains VALUES (?, ?, ?)", domains)
        if people:
            con.executemany("INSERT INTO config_people VALUES (?, ?, ?, ?, ?, ?, ?, ?)", people)
        if owners is not None:
            con.execute("DELETE FROM config_owner_status WHERE source = ?", [source])
            if owners:
                con.executemany("INSERT INTO config_owner_status VALUES (?, ?, ?, ?, ?, ?)", owners)
    return len(accounts) + len({r[0] for r in people})


def show(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Lines for `bzmine config show`."""
    lines = []
    files = con.execute("SELECT name, path, loaded_at FROM config_files ORDER BY name").fetchall()
    for name, path, at in files:
        lines.append(f"{name}: {path} (stored {at:%Y-%m-%d %H:%M} UTC)")
    if not files:
        lines.append("no user files stored (built-in tables only)")
    for source in ("builtin", "user"):
        acc = con.execute("SELECT count(*) FROM config_accounts WHERE source = ?", [source]).fetchone()
        ppl = con.execute(
            "SELECT count(DISTINCT person) FROM config_people WHERE source = ?", [source]
        ).fetchone()
        own = con.execute(
            "SELECT count(DISTINCT owner) FROM config_owner_status WHERE source = ?", [source]
        ).fetchone()
        ops = con.execute(
            "SELECT count(DISTINCT program) FROM config_operators WHERE source = ?", [source]
        ).fetchone()
        lines.append(
            f"{source}: {acc[0] if acc else 0} listed accounts, {ppl[0] if ppl else 0} people with dated roles, "
            f"{own[0] if own else 0} owners with a standing, {ops[0] if ops else 0} root-store operators"
        )
    return lines
