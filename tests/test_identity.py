"""Who a bug is about and who speaks: summary forms, owners, dated roles, stored user files, --ca matching."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from bzmine import metrics as M
from bzmine.cli import cli
from bzmine.parse.ca import ca_key, load_aliases, parse_ca
from tests.conftest import realdata
from tests.helpers import build_db, mk_bug, user

TABLE = load_aliases()


@pytest.mark.parametrize(
    "summary,kind,raw,filed,owner,sub",
    [
        ("DigiCert / ABB: Delayed revocation", "ca", "DigiCert / ABB", "DigiCert", "DigiCert", "ABB"),
        ("QuoVadis / Siemens: OCSP issue", "ca", "QuoVadis / Siemens", "QuoVadis", "DigiCert", "Siemens"),
        (
            "PKIoverheid / QuoVadis: late CRL",
            "ca",
            "PKIoverheid / QuoVadis",
            "PKIoverheid",
            "Government of The Netherlands, PKIoverheid (Logius)",
            "QuoVadis",
        ),
        (
            "Staat der Nederlandend / PKIoverheid: something",
            "ca",
            "Staat der Nederlandend / PKIoverheid",
            "PKIoverheid",
            "Government of The Netherlands, PKIoverheid (Logius)",
            None,
        ),
        (
            "Asseco DS / Certum: CRL",
            "ca",
            "Asseco DS / Certum",
            "Asseco DS / Certum",
            "Asseco Data Systems S.A.",
            None,
        ),
        (
            "T-Systems / DFN-PKI: audit",
            "ca",
            "T-Systems / DFN-PKI",
            "T-Systems",
            "Deutsche Telekom Security GmbH",
            None,
        ),
        (
            "DFN-PKI: OCSP/CRL inconsistencies",
            "ca",
            "DFN-PKI",
            "DFN-PKI",
            "Deutsche Telekom Security GmbH",
            "DFN-PKI",
        ),
        (
            "NETLOCK - Unavailability of the document repository",
            "ca",
            "NETLOCK",
            "NETLOCK",
            "NETLOCK Ltd.",
            None,
        ),
        ("Sectigo \u2013 wrong OID in EV certificates", "ca", "Sectigo", "Sectigo", "Sectigo", None),
        ("Comodo CA: Mis-issued certificates", "ca", "Comodo CA", "Comodo", "Sectigo", None),
        (
            "eMudhra emSign PKI Services: CPS typo",
            "ca",
            "eMudhra emSign PKI Services",
            "eMudhra",
            "eMudhra Technologies Limited",
            None,
        ),
        ("SecureTrust: CRL", "ca", "SecureTrust", "SecureTrust", "Viking Cloud, Inc.", None),
        ("Taiwan-CA: late audit", "ca", "Taiwan-CA", "TWCA", "Taiwan-CA Inc. (TWCA)", None),
        (
            "Microsoft DSRE PKI: OCSP",
            "ca",
            "Microsoft DSRE PKI",
            "Microsoft DSRE PKI",
            "Microsoft Corporation",
            None,
        ),
        (
            "Northwind Trust: bad serials",
            "ca",
            "Northwind Trust",
            None,
            None,
            None,
        ),  # unknown CA: owner set in parse
        (
            "Ernst & Young Poland: KIR OCSP unknown status",
            "auditor",
            "Ernst & Young Poland",
            None,
            None,
            None,
        ),
        ("KPMG Korea: audit concerns", "auditor", "KPMG Korea", None, None, None),
        ("Distrust the WebTrust Audit of Deloitte Anjin South Korea", "auditor", None, None, None, None),
        ("Root CAs operated by Government Entities in Firefox", "program", None, None, None, None),
        ("[meta] Delayed Revocation", "meta", None, None, None, None),
        ("Possible mis-issued cert for alleged phishing site", "unknown", None, None, None, None),
        ("Some CA - text with a dash but an unknown name", "unknown", None, None, None, None),
    ],
)
def test_summary_forms(
    summary: str, kind: str, raw: str | None, filed: str | None, owner: str | None, sub: str | None
) -> None:
    got = parse_ca(summary, TABLE)
    assert (got.subject_kind, got.raw, got.name, got.owner, got.sub_ca) == (kind, raw, filed, owner, sub)


def test_owner_status_is_dated() -> None:
    from bzmine.parse.ca import owner_status

    entry = next(e for e in TABLE.owners if e["owner"] == "TrustCor Systems")
    assert owner_status(entry, "2022-11-29") == "included"
    assert owner_status(entry, "2022-11-30") == "distrusted"
    unknown = next(e for e in TABLE.owners if e["owner"] == "Certicámara")
    assert owner_status(unknown, "2030-01-01") == "unknown"
    removed = next(e for e in TABLE.owners if e["owner"] == "Visa")  # NSS 3.40 removed its root (2018-12)
    assert (
        owner_status(removed, "2018-11-30") == "included"
        and owner_status(removed, "2018-12-01") == "distrusted"
    )


# people: Wayne Thayer's Fastly account spoke for Mozilla until 2020-09-01, and is community afterwards
WAYNE = "wthayer@fastly.example"
CA = "compliance@acme.example"
BUGS = [
    mk_bug(
        11,
        "Comodo CA: old problem",
        "2019-03-01T00:00:00Z",
        CA,
        CA,
        comments=[
            (CA, "2019-03-01T00:00:00Z", "Preliminary report."),
            (WAYNE, "2019-03-02T00:00:00Z", "Please explain the root cause."),  # root program then: a request
        ],
    ),
    mk_bug(
        12,
        "Sectigo: new problem",
        "2022-03-01T00:00:00Z",
        CA,
        CA,
        comments=[
            (CA, "2022-03-01T00:00:00Z", "Preliminary report."),
            (WAYNE, "2022-03-02T00:00:00Z", "Out of curiosity: which profile?"),  # community by then
        ],
    ),
    mk_bug(
        13, "TrustCor: delayed revocation", "2022-06-01T00:00:00Z", "t@trustcor.example", "t@trustcor.example"
    ),
    mk_bug(14, "[meta] Delayed Revocation", "2022-06-01T00:00:00Z", "x@mozilla.com", "nobody@mozilla.org"),
    mk_bug(15, "KPMG Korea: audit concerns", "2022-06-01T00:00:00Z", "x@mozilla.com", "nobody@mozilla.org"),
]
BUGS[0]["creator_detail"] = BUGS[0]["assigned_to_detail"] = user(CA)
BUGS[0]["cc_detail"] = [user(WAYNE, nick="wthayer")]  # the nick is what identifies the person


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    return build_db(tmp_path_factory.mktemp("id") / "id.duckdb", BUGS)


def test_same_person_root_program_before_end_date_community_after(con: duckdb.DuckDBPyConnection) -> None:
    M.snapshot(con, "2023-01-01")
    roles = dict(
        ((b, r), (role, why))
        for b, r, role, why in con.execute("SELECT bug_id, account, role, why FROM roles").fetchall()
    )
    assert roles[(11, WAYNE)][0] == "root_program" and "Wayne Thayer" in roles[(11, WAYNE)][1]
    assert roles[(12, WAYNE)] == ("community", "not root program staff then (Wayne Thayer)")
    asked = con.execute("SELECT bug_id, asker_role FROM response_events ORDER BY bug_id").fetchall()
    assert asked == [(11, "root_program"), (12, "community")]


def test_owner_grouping_and_subject_kinds(con: duckdb.DuckDBPyConnection) -> None:
    card = M.scorecard(con, "2023-01-01")
    assert sorted(card["ca"]) == [
        "Sectigo",
        "TrustCor Systems",
    ]  # Comodo counts for Sectigo; meta/auditor left out
    assert int(card.set_index("ca").loc["Sectigo", "bugs_total"]) == 2
    filed = M.scorecard(con, "2023-01-01", group="filed")
    assert sorted(filed["ca"]) == ["Comodo", "Sectigo", "TrustCor"]
    by_status = M.trends(con, "2023-01-01", "year", "owner_status")
    assert by_status.loc["2022", "distrusted"] == 1 and by_status.loc["2022", "included"] == 1
    assert by_status.loc["2022", "(meta)"] == 1 and by_status.loc["2022", "(auditor)"] == 1
    before = M.trends(con, "2022-11-29", "year", "owner_status")
    assert before.loc["2022", "included"] == 2  # TrustCor was distrusted on 2022-11-30


def test_ca_names_resolve_case_insensitively_and_by_alias(con: duckdb.DuckDBPyConnection) -> None:
    assert M.resolve_cas(con, ["comodo"]) == ["Sectigo"]
    assert M.resolve_cas(con, ["SECTIGO"], group="filed") == [
        "Comodo",
        "Sectigo",
    ]  # an owner stands for its names
    assert M.resolve_cas(con, ["trustcor systems inc."]) == ["TrustCor Systems"]
    with pytest.raises(Exception, match=r"no CA named 'Sectgo'.*did you mean 'Sectigo'"):
        M.resolve_cas(con, ["Sectgo"])


@pytest.mark.parametrize(
    "command", [["scorecard"], ["due"], ["trends"], ["trends", "--by", "ca"], ["report", "--out", "OUT"]]
)
def test_unknown_ca_fails_in_every_command(
    command: list[str], con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    db = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]
    args = [str(tmp_path / "r") if a == "OUT" else a for a in command]
    res = CliRunner().invoke(cli, [*args, "--db", db, "--ca", "Sectgo", "--as-of", "2023-01-01"])
    assert res.exit_code == 1, res.output
    assert "no CA named 'Sectgo'" in res.output and "did you mean 'Sectigo'" in res.output


def test_user_files_are_stored_and_survive_a_full_sync(make_server: Any, tmp_path: Path) -> None:
    srv = make_server()
    db = tmp_path / "u.duckdb"
    run = CliRunner()
    res = run.invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "-q", "--no-cache"])
    assert res.exit_code == 0, res.output
    con = duckdb.connect(str(db), read_only=True)
    some = con.execute(
        "SELECT ca, ca_owner FROM incidents WHERE subject_kind = 'ca' ORDER BY bug_id LIMIT 1"
    ).fetchone()
    con.close()
    aliases = tmp_path / "aliases.json"
    aliases.write_text(json.dumps({"owners": [{"owner": "Umbrella Holdings", "names": {some[0]: []}}]}))
    roles = tmp_path / "roles.json"
    roles.write_text(
        json.dumps(
            {
                "people": [
                    {
                        "name": "Rita Reviewer",
                        "nicks": ["rita"],
                        "roles": [
                            {"role": "root_program", "program": "Apple", "from": "2020-01-01", "to": None}
                        ],
                    }
                ]
            }
        )
    )
    assert run.invoke(cli, ["config", "aliases", str(aliases), "--db", str(db)]).exit_code == 0
    assert run.invoke(cli, ["config", "roles", str(roles), "--db", str(db)]).exit_code == 0
    res = run.invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "-q", "--no-cache", "--full"])
    assert res.exit_code == 0, res.output
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT DISTINCT ca_owner FROM incidents WHERE ca = ?", [some[0]]).fetchall() == [
        ("Umbrella Holdings",)
    ]
    assert con.execute(
        "SELECT count(*) FROM config_people WHERE source = 'user' AND key = 'rita'"
    ).fetchone() == (1,)
    con.close()
    shown = run.invoke(cli, ["config", "show", "--db", str(db)])
    assert "aliases: " + str(aliases) in shown.output and "roles: " + str(roles) in shown.output
    assert run.invoke(cli, ["config", "reset", "--db", str(db)]).exit_code == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM incidents WHERE ca_owner = 'Umbrella Holdings'").fetchone() == (
        0,
    )
    con.close()


@pytest.mark.parametrize(
    "content,message",
    [
        ("{not json", "line 1: not valid JSON"),
        ('{"owners": [{"names": {}}]}', "owners entry 1 needs an 'owner'"),
        ('{"owners": [{"owner": "X", "names": {"X": "Y"}}]}', "spellings of 'X' must be a list"),
        ("[1, 2]", "must be a JSON object"),
    ],
)
def test_bad_aliases_file_is_one_line(
    content: str, message: str, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    db = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]
    f = tmp_path / "a.json"
    f.write_text(content)
    res = CliRunner().invoke(cli, ["config", "aliases", str(f), "--db", str(tmp_path / "missing.duckdb")])
    assert res.exit_code == 1 and "no database at" in res.output
    copy = tmp_path / "c.duckdb"
    import shutil

    con.execute("CHECKPOINT")
    shutil.copy(db, copy)
    res = CliRunner().invoke(cli, ["config", "aliases", str(f), "--db", str(copy)])
    assert res.exit_code == 1 and message in res.output and "Traceback" not in res.output, res.output


@pytest.mark.realdata
def test_real_bugs_owner_agreement_with_the_observatory_mapping() -> None:
    """Our owners against a third-party hand-made mapping (read here, never shipped): under 1 % differ once the
    documented policy differences are set aside (docs/ca-identity.md); under 0.3 % of bugs name no subject."""
    folder = realdata("webpki-observatory")
    bugs = json.loads((folder / "bugs_raw.json").read_text(encoding="utf-8"))
    mapping = json.loads((folder / "bugzilla_ca_mappings.json").read_text(encoding="utf-8"))["mappings"]
    deliberate = {"Swisscom"}  # docs/ca-identity.md: Swisscom's own roots, not SwissSign's
    compared = differ = unknown = 0
    for b in bugs:
        got = parse_ca(b["summary"], TABLE)
        if got.subject_kind == "unknown":
            unknown += 1
        if got.subject_kind != "ca" or got.raw is None:
            continue
        theirs = mapping.get(b["summary"].split(":", 1)[0].strip())
        if not theirs or not theirs.get("ccadb_owner") or got.raw in deliberate:
            continue
        compared += 1
        mine = got.owner or got.name or got.raw
        differ += ca_key(mine) != ca_key(theirs["ccadb_owner"])
    assert compared > 1400
    assert differ / compared < 0.01, (differ, compared)
    assert unknown / len(bugs) < 0.003, unknown


def test_hidden_emails_give_the_same_roles_and_requests(
    make_server: Any, corpus: dict[int, Any], tmp_path: Path
) -> None:
    """BMO's webservice_email_filter (anonymous callers see only local parts; history values keep full addresses):
    roles and requests must come out as with e-mails visible, on the same corpus (whose commenters BMO's comment
    form adds to CC, as the synthetic corpora model)."""
    out = {}
    records = corpus
    for hide in (False, True):
        srv = make_server(records, hide_emails=hide)
        db = tmp_path / f"h{hide}.duckdb"
        res = CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q"])
        assert res.exit_code == 0, res.output
        con = duckdb.connect(str(db))
        if hide:  # the harvest really holds the filtered shapes
            authors = {
                r[0]
                for r in con.execute(
                    "SELECT coalesce(data->>'creator', data->>'author') FROM raw_comments"
                ).fetchall()
            }
            assert authors and not any("@" in a for a in authors)
        M.snapshot(con, "2026-11-01")
        out[hide] = (
            # who speaks for the CA on each bug, by local part (the part both forms share)
            set(
                con.execute(
                    "SELECT bug_id, split_part(account, '@', 1) FROM roles WHERE role = 'ca'"
                ).fetchall()
            ),
            con.execute(
                "SELECT bug_id, kind, asked_at, state, answered_at, response_hours FROM response_events "
                "ORDER BY ALL"
            ).fetchall(),
            # CA accounts whose full address BMO shows somewhere (history values): these must be resolvable
            set(
                con.execute("""SELECT bug_id, split_part(account, '@', 1) FROM roles WHERE role = 'ca' AND account IN (
                                 SELECT lower(unnest(regexp_extract_all(coalesce(added, '') || ' ' || coalesce(removed, ''),
                                        '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+'))) FROM history_changes)""").fetchall()
            ),
        )
        con.close()
    ca_visible, events_visible, resolvable = out[False]
    assert len(events_visible) > 20 and len(resolvable) > 20
    assert (
        resolvable <= out[True][0] <= ca_visible
    )  # every resolvable CA speaker found, nobody wrongly made one
    # requests come out the same on every bug whose CA speakers were all resolved; count how many those are
    same = {
        b
        for b in {e[0] for e in events_visible}
        if {x for x in out[True][0] if x[0] == b} == {x for x in ca_visible if x[0] == b}
    }
    assert [e for e in out[True][1] if e[0] in same] == [e for e in events_visible if e[0] in same]
    assert len(same) >= 0.8 * len({e[0] for e in events_visible}), (
        len(same),
        len({e[0] for e in events_visible}),
    )


# Root-store operators (#26): an account of google.com/apple.com/microsoft.com that never speaks for the company's
# own CA is that program's staff on other CAs' bugs; one that speaks for it stays community elsewhere. Made-up names.
GTS_STAFF = "gts.responder@google.com"  # files and answers Google Trust Services' own bugs
CRP = "crp.reviewer@google.com"  # files against other CAs, comments on a GTS bug too
CRP_LISTED_COMMUNITY = "crp.hobbyist@google.com"  # behaves like CRP; a roles file says community
CRP_LISTED_CA = "gts.lawyer@google.com"  # a roles file lists it for Google Trust Services
FORMER = "former.reviewer@apple.com"  # registry: Apple root program until 2021 only
ACME = "compliance@acme.example"
OP_BUGS = [
    mk_bug(
        31,
        "Google Trust Services: late CRL",
        "2022-01-10T00:00:00Z",
        GTS_STAFF,
        GTS_STAFF,
        comments=[
            (GTS_STAFF, "2022-01-10T00:00:00Z", "We found a late CRL."),
            (CRP, "2022-01-11T00:00:00Z", "Please share the timeline."),
        ],
    ),
    mk_bug(
        32,
        "Acme Trust: misissued certificates",
        "2022-02-01T00:00:00Z",
        CRP,
        ACME,
        comments=[
            (CRP, "2022-02-01T00:00:00Z", "These certificates look wrong."),
            (GTS_STAFF, "2022-02-02T00:00:00Z", "We saw the same as a relying party."),
            (CRP_LISTED_COMMUNITY, "2022-02-03T00:00:00Z", "Any update?"),
            (CRP_LISTED_CA, "2022-02-04T00:00:00Z", "A question."),
            (FORMER, "2022-02-05T00:00:00Z", "Curious about the root cause."),
            (ACME, "2022-02-06T00:00:00Z", "Preliminary report."),
        ],
    ),
    mk_bug(
        33,
        "Acme Trust: old problem",
        "2020-02-01T00:00:00Z",
        FORMER,
        ACME,
        comments=[(FORMER, "2020-02-01T00:00:00Z", "Please explain."), (ACME, "2020-02-03T00:00:00Z", "Ok.")],
    ),
]


@pytest.fixture(scope="module")
def op_con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    from bzmine.store.config import load_user_accounts

    folder = tmp_path_factory.mktemp("op")
    c = build_db(folder / "op.duckdb", OP_BUGS)
    roles = folder / "roles.json"
    roles.write_text(
        json.dumps(
            {
                "community": [CRP_LISTED_COMMUNITY],
                "ca": {"Google Trust Services": [CRP_LISTED_CA]},
                "people": [
                    {
                        "name": "Former Reviewer",
                        "accounts": [FORMER],
                        "roles": [
                            {"role": "root_program", "program": "Apple", "from": None, "to": "2021-01-01"}
                        ],
                    }
                ],
            }
        )
    )
    load_user_accounts(c, roles)
    M.snapshot(c, "2023-01-01")
    return c


def _roles(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, str], tuple[str, str | None]]:
    rows = con.execute("SELECT bug_id, account, role, program FROM roles").fetchall()
    return {(b, a): (role, program) for b, a, role, program in rows}


def test_operator_account_that_never_speaks_for_its_ca_is_root_program_on_other_bugs(
    op_con: duckdb.DuckDBPyConnection,
) -> None:
    roles = _roles(op_con)
    assert roles[(32, CRP)] == ("root_program", "Chrome")
    # on its own company's CA's bug it is not GTS by domain (rule 2), and not root program either (METRICS §1)
    assert roles[(31, CRP)] == ("community", None)
    asked = op_con.execute(
        "SELECT asker_role FROM response_events WHERE bug_id = 32 ORDER BY asked_at"
    ).fetchall()
    assert asked[0] == ("root_program",)  # the filed bug is a root-program request


def test_operator_account_that_speaks_for_its_ca_stays_community_elsewhere(
    op_con: duckdb.DuckDBPyConnection,
) -> None:
    roles = _roles(op_con)
    assert roles[(31, GTS_STAFF)] == ("ca", None)
    assert roles[(32, GTS_STAFF)] == ("community", None)


def test_roles_file_and_registry_override_the_behaviour_rule(op_con: duckdb.DuckDBPyConnection) -> None:
    roles = _roles(op_con)
    assert roles[(32, CRP_LISTED_COMMUNITY)] == ("community", None)  # 'community' in the roles file
    assert roles[(32, CRP_LISTED_CA)] == ("community", None)  # listed for GTS: speaks for its company's CA
    assert roles[(33, FORMER)] == ("root_program", "Apple")  # registry period
    assert roles[(32, FORMER)] == ("community", None)  # after it: not by behaviour either
    listed = {
        (a, p, c, n) for a, p, c, n, _ in op_con.execute("SELECT * FROM root_program_inferred").fetchall()
    }
    assert (CRP, "Chrome", "root_program", 1) in listed
    assert (GTS_STAFF, "Chrome", "speaks for its company's CA", 0) in listed
    assert not any(a == FORMER and n for a, _, _, n in listed)


def test_status_lists_accounts_classified_by_behaviour(op_con: duckdb.DuckDBPyConnection) -> None:
    from bzmine.status import status_lines

    db = op_con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]
    op_con.execute("CHECKPOINT")
    text = "\n".join(status_lines(db))
    assert f"{CRP} (Chrome, 1 bug)" in text, text
    assert GTS_STAFF in text.split("root program by behaviour", 1)[1]
    assert FORMER not in text  # the registry decides that account: not listed as classified by behaviour


SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_bundled_sample_hidden_emails_keep_answered_and_root_program_requests(
    make_server: Any, tmp_path: Path
) -> None:
    """The bundled sample synced anonymously from a server that hides e-mails as BMO does gives answered and
    root-program requests within 10 % of the same sample with e-mails visible (before #26: 106 root-program
    requests visible, 0 hidden)."""
    from bzmine.corpus import load_corpus

    records = load_corpus(SAMPLE)
    got = {}
    for hide in (False, True):
        srv = make_server(records, hide_emails=hide)
        db = tmp_path / f"s{hide}.duckdb"
        res = CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q"])
        assert res.exit_code == 0, res.output
        con = duckdb.connect(str(db))
        M.snapshot(con, "2026-11-01")
        got[hide] = con.execute(
            "SELECT count(*) FILTER (WHERE state = 'answered'), count(*) FILTER (WHERE asker_role = 'root_program') "
            "FROM response_events"
        ).fetchone()
        con.close()
    (answered, rp), (answered_h, rp_h) = got[False], got[True]
    assert answered > 50 and rp > 30, got
    assert abs(answered_h - answered) <= 0.1 * answered, got
    assert abs(rp_h - rp) <= 0.1 * rp, got
    status = CliRunner().invoke(cli, ["status", "--db", str(tmp_path / "sTrue.duckdb")])
    assert "stayed unresolved" in status.output and "BUGZILLA_API_KEY" in status.output, status.output


def _real_roles_db(tmp_path: Path) -> tuple[duckdb.DuckDBPyConnection, list[dict[str, Any]]]:
    """The real bug list (creators only: comment 0 by the creator, no assignee known) in a database."""
    bugs = json.loads((realdata("webpki-observatory") / "bugs_raw.json").read_text(encoding="utf-8"))
    mine = []
    for b in bugs:
        x = mk_bug(
            b["id"],
            b["summary"],
            b["creation_time"],
            b["creator"],
            "nobody@mozilla.org",
            status=b["status"],
            whiteboard=b.get("whiteboard") or "",
            comments=[(b["creator"], b["creation_time"], "Filed.")],
        )
        x["creator_detail"] = b["creator_detail"]
        mine.append(x)
    con = build_db(tmp_path / "real.duckdb", mine)
    M.snapshot(con, "2026-03-15")
    return con, bugs


# the root-program staff named in issue #26, by sha256 prefix of their address (no address in committed files)
NAMED_STAFF = {"8d3755510dc0efc4": "Chrome", "d90135e66287b25f": "Chrome", "d98d9419a03940cb": "Apple"}


@pytest.mark.realdata
def test_real_bugs_root_program_staff_by_behaviour(tmp_path: Path) -> None:
    import hashlib

    con, bugs = _real_roles_db(tmp_path)
    role = {
        (b, a): (r, p)
        for b, a, r, p in con.execute("SELECT bug_id, account, role, program FROM roles").fetchall()
    }
    filed_by_named = [
        (b["id"], NAMED_STAFF[h])
        for b in bugs
        if (h := hashlib.sha256(b["creator"].lower().encode()).hexdigest()[:16]) in NAMED_STAFF
    ]
    assert len(filed_by_named) >= 15  # 4 + 6 Chrome, 8 Apple in the 2026-03 list
    for bug_id, program in filed_by_named:
        creator = next(b["creator"].lower() for b in bugs if b["id"] == bug_id)
        assert role[(bug_id, creator)] == ("root_program", program), bug_id
    # a company account that filed a bug of its own company's CA (Google Trust Services, Apple, Microsoft: their
    # self-reports) is never root program, on any bug: prefixes and domains read here by hand, not by the parser
    own = {"google trust services": ("google.com",), "apple": ("apple.com",), "microsoft": ("microsoft.com",)}
    own_filers = {
        b["creator"].lower()
        for b in bugs
        for prefix, domains in own.items()
        if b["summary"].split(":", 1)[0].strip().lower().startswith(prefix)
        and b["creator"].lower().endswith(domains)
    }
    assert len(own_filers) >= 10
    wrong = {a for (_, a), (r, _) in role.items() if a in own_filers and r == "root_program"}
    assert not wrong, sorted(h[:3] for h in wrong)


def test_subject_status_is_the_lineage_standing_beside_the_owner_today(tmp_path: Path) -> None:
    """Symantec's bugs count as a distrusted CA's incidents (its roots lost trust from 2017-12-01) though DigiCert,
    their owner today, is included; a DigiCert bug stays included; trends --by subject_status offers both."""
    bugs = [
        mk_bug(41, "Symantec: misissued test certificates", "2017-05-01T00:00:00Z", ACME, ACME),
        mk_bug(42, "DigiCert: late revocation", "2017-05-02T00:00:00Z", ACME, ACME),
        mk_bug(43, "KPMG Korea: audit concerns", "2017-05-03T00:00:00Z", ACME, ACME),
    ]
    con = build_db(tmp_path / "lin.duckdb", bugs)
    M.snapshot(con, "2017-11-30")
    rows = con.execute("SELECT bug_id, owner_status, subject_status FROM metric_bugs ORDER BY 1").fetchall()
    assert rows == [(41, "included", "included"), (42, "included", "included"), (43, None, None)]
    M.snapshot(con, "2018-01-01")
    rows = con.execute("SELECT bug_id, owner_status, subject_status FROM metric_bugs ORDER BY 1").fetchall()
    assert rows == [(41, "included", "distrusted"), (42, "included", "included"), (43, None, None)]
    by = M.trends(con, "2018-01-01", "year", "subject_status")
    assert (
        by.loc["2017", "distrusted"] == 1
        and by.loc["2017", "included"] == 1
        and by.loc["2017", "(auditor)"] == 1
    )
    con.execute("CHECKPOINT")
    con.close()
    res = CliRunner().invoke(
        cli,
        ["trends", "--db", str(tmp_path / "lin.duckdb"), "--by", "subject_status", "--as-of", "2018-01-01"],
    )
    assert res.exit_code == 0 and "distrusted" in res.output, res.output


@pytest.mark.realdata
def test_real_bugs_subject_status_per_year_agrees_with_the_observatory(tmp_path: Path) -> None:
    """Included and distrusted subjects per year 2014-2022, on the bugs whose prefix the Observatory maps, each
    within 3 of what its own mapping (status per summary prefix: active/rollup included, distrusted) gives;
    the remaining differences are listed in docs/ca-identity.md."""
    from collections import Counter

    con, bugs = _real_roles_db(tmp_path)
    mapping = json.loads(
        (realdata("webpki-observatory") / "bugzilla_ca_mappings.json").read_text(encoding="utf-8")
    )["mappings"]
    mine = dict(con.execute("SELECT bug_id, subject_status FROM metric_bugs").fetchall())
    theirs_n: Counter[tuple[str, str]] = Counter()
    mine_n: Counter[tuple[str, str]] = Counter()
    for b in bugs:
        m = mapping.get(b["summary"].split(":", 1)[0].strip())
        year = b["creation_time"][:4]
        if not m or not "2014" <= year <= "2022":
            continue
        theirs_n[(year, "distrusted" if m["status"] == "distrusted" else "included")] += 1
        mine_n[(year, str(mine.get(b["id"])))] += 1
    assert sum(theirs_n.values()) > 900
    for year in range(2014, 2023):
        for status in ("included", "distrusted"):
            key = (str(year), status)
            assert abs(mine_n[key] - theirs_n[key]) <= 3, (key, mine_n[key], theirs_n[key])
    # the lineage matters: owner status alone counts Symantec's 2017 bugs as DigiCert's, included
    owner = dict(con.execute("SELECT bug_id, owner_status FROM metric_bugs").fetchall())
    symantec = [b["id"] for b in bugs if b["summary"].split(":", 1)[0].strip() == "Symantec"]
    assert symantec and all(mine[i] == "distrusted" and owner[i] == "included" for i in symantec)


@pytest.mark.realdata
def test_real_bugs_every_listed_owner_has_a_standing_or_says_what_was_searched() -> None:
    folder = realdata("webpki-observatory")
    bugs = json.loads((folder / "bugs_raw.json").read_text(encoding="utf-8"))
    parsed = [parse_ca(b["summary"], TABLE) for b in bugs]
    owners = {p.owner for p in parsed if p.subject_kind == "ca"}
    entries = {e["owner"]: e for e in TABLE.owners}
    assert len(owners) > 70 and owners <= set(entries), sorted(str(o) for o in owners - set(entries))
    for owner in owners:
        e = entries[owner]
        events = e.get("events") or []
        assert all(ev.get("date") and ev.get("source") for ev in events), owner
        if e.get("status") == "unknown":
            assert events or "searched" in str(e.get("no_event_found", "")), owner


def _records(bugs: list[dict[str, Any]]) -> dict[int, Any]:
    from bzmine.corpus import Record

    out = {}
    for b in bugs:
        b = copy.deepcopy(b)
        comments, history = b.pop("comments"), b.pop("history")
        out[b["id"]] = Record(bug=b, comments=comments, history=history)
    return out


def test_hidden_emails_resolve_an_account_by_id_across_bugs_and_role_accounts_by_local_part(
    make_server: Any, tmp_path: Path
) -> None:
    """With e-mails hidden: 'pki' is a local part at two CAs (ambiguous harvest-wide); on bug 53 only the account id
    in cc_detail says which one commented, known from bug 51 where that id's address is in a CC history value. The
    Chrome role account speaks on two bugs without ever appearing in a history value: root program on both."""
    acme, other, crp = "pki@acme.example", "pki@other.example", "chrome-root-program@google.com"
    bugs = [
        mk_bug(
            51,
            "Acme Trust: first",
            "2022-01-01T00:00:00Z",
            acme,
            acme,
            comments=[
                (acme, "2022-01-01T00:00:00Z", "Filed."),
                (crp, "2022-01-02T00:00:00Z", "Please report."),
            ],
            history=[("2022-01-01T00:00:00Z", acme, [("cc", "", acme)])],
        ),
        mk_bug(
            52,
            "Other CA: second",
            "2022-01-01T00:00:00Z",
            other,
            other,
            comments=[(other, "2022-01-01T00:00:00Z", "Filed.")],
            history=[("2022-01-01T00:00:00Z", other, [("cc", "", other)])],
        ),
        mk_bug(
            53,
            "Acme Trust: third",
            "2022-02-01T00:00:00Z",
            crp,
            "nobody@mozilla.org",
            comments=[
                (crp, "2022-02-01T00:00:00Z", "Found this."),
                (acme, "2022-02-02T00:00:00Z", "Looking."),
            ],
        ),
    ]
    bugs[2]["cc_detail"] = [user(acme), user(crp)]  # BMO added the commenters to CC; no history on this bug
    srv = make_server(_records(bugs), hide_emails=True)
    db = tmp_path / "ids.duckdb"
    res = CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q"])
    assert res.exit_code == 0, res.output
    con = duckdb.connect(str(db))
    authors = con.execute("SELECT bug_id, author FROM comment_meta ORDER BY bug_id, count").fetchall()
    assert (53, acme) in authors and (52, other) in authors  # by id on bug 53; by the bug's own history on 52
    assert (53, crp) in authors and (51, crp) in authors  # the role account by its local part
    M.snapshot(con, "2023-01-01")
    roles = {
        (b, a): (r, p)
        for b, a, r, p in con.execute("SELECT bug_id, account, role, program FROM roles").fetchall()
    }
    assert roles[(51, crp)] == roles[(53, crp)] == ("root_program", "Chrome")
    con.close()


def test_lineage_follows_a_sub_ca_and_never_another_owners_name() -> None:
    from bzmine.parse.ca import lineage_name, subject_status

    def status(summary: str, on: str) -> str | None:
        return subject_status(TABLE, parse_ca(summary, TABLE), on)

    assert lineage_name(TABLE, parse_ca("DigiCert / Symantec: legacy roots", TABLE)) == "Symantec"
    assert status("DigiCert / Symantec: legacy roots", "2018-01-01") == "distrusted"
    assert status("DigiCert / Thawte: a brand DigiCert kept", "2018-01-01") == "included"
    assert status("Comodo CA: Mis-issued certificates", "2026-01-01") == "included"  # Sectigo's standing
    assert status("KPMG Korea: audit concerns", "2026-01-01") is None
    assert status("Northwind Trust: bad serials", "2026-01-01") == "unknown"


@pytest.mark.parametrize(
    "content,message",
    [
        ('{"root_program_operators": [{"domains": ["example.com"]}]}', "needs a 'program'"),
        ('{"root_program_operators": [{"program": "Opera"}]}', "(Opera) needs 'domains'"),
        ('{"root_program_operators": {"program": "Opera"}}', "must be a list"),
        ('{"community": "someone@example.com"}', "'community' must be a list of strings"),
    ],
)
def test_bad_operator_entries_in_a_roles_file_are_one_line(
    content: str, message: str, tmp_path: Path
) -> None:
    from bzmine.errors import ConfigError
    from bzmine.store.config import load_user_accounts
    from bzmine.store.db import connect
    from tests.helpers import migrated

    f = tmp_path / "roles.json"
    f.write_text(content)
    con = connect(migrated(tmp_path / "r.duckdb"))
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_user_accounts(con, f)
    con.close()


def test_a_user_operator_makes_its_staff_root_program_by_behaviour(tmp_path: Path) -> None:
    """A roles file adds a root-store operator (a made-up browser that also runs a CA): its reviewer is root program
    on another CA's bug, its CA staff are not."""
    from bzmine.store.config import load_user_accounts

    reviewer, staff = "reviewer@browser.example", "pki@browser.example"
    bugs = [
        mk_bug(61, "Browser CA: late CRL", "2022-01-01T00:00:00Z", staff, staff),
        mk_bug(
            62,
            "Acme Trust: misissuance",
            "2022-01-02T00:00:00Z",
            reviewer,
            ACME,
            comments=[
                (reviewer, "2022-01-02T00:00:00Z", "Found this."),
                (staff, "2022-01-03T00:00:00Z", "Same."),
            ],
        ),
    ]
    con = build_db(tmp_path / "u.duckdb", bugs)
    roles = tmp_path / "roles.json"
    roles.write_text(
        json.dumps(
            {
                "root_program_operators": [
                    {"program": "Browser", "domains": ["browser.example"], "ca_owners": ["Browser CA"]}
                ]
            }
        )
    )
    load_user_accounts(con, roles)
    M.snapshot(con, "2023-01-01")
    got = _roles(con)
    assert got[(62, reviewer)] == ("root_program", "Browser")
    assert got[(62, staff)] == ("community", None)
    assert got[(61, staff)] == ("ca", None)
    con.close()
