"""The local Bugzilla-compatible server, over real HTTP, against BMO's documented behaviour."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import bugzilla
import pytest
import requests

from bzmine.corpus import Record
from tests.conftest import API_KEY, realdata

SHAPES = json.loads((Path(__file__).parent / "fixtures/shapes/bmo_shapes.json").read_text())
TYPES = {"int": int, "str": str, "dict": dict, "list": list, "bool": bool, "null": type(None)}
SEARCH = {"product": "CA Program", "component": "CA Certificate Compliance"}


def get(srv: Any, path: str, params: Any = None, key: str | None = None, **kw: Any) -> requests.Response:
    headers = {"X-BUGZILLA-API-KEY": key} if key else {}
    headers.update(kw.pop("headers", {}))
    return requests.get(f"{srv.url}/rest/{path}", params=params, headers=headers, timeout=60, **kw)


def assert_shape(obj: dict[str, Any], shape: str) -> None:
    for k, t in SHAPES[shape].items():
        assert k in obj, f"{shape}: missing {k}"
        if t != "null":  # nullable fields: any type
            assert isinstance(obj[k], TYPES[t]), f"{shape}.{k}: {type(obj[k]).__name__} != {t}"


def public_ids(corpus: dict[int, Record]) -> list[int]:
    return sorted(i for i, r in corpus.items() if not r.bug["groups"] and r.bug["product"] == "CA Program")


def test_version_time_timezone(bmo_server: Any) -> None:
    assert get(bmo_server, "version").json() == {"version": "20260820.1"}
    t = get(bmo_server, "time").json()
    assert_shape(t, "time")
    assert t["db_time"].endswith("Z") and len(t["db_time"]) == 20
    assert get(bmo_server, "timezone").json() == {"timezone": "+0000"}


def test_search_shape_order_and_private_omitted(bmo_server: Any, corpus: dict[int, Record]) -> None:
    r = get(bmo_server, "bug", SEARCH)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"bugs"}
    ids = [b["id"] for b in body["bugs"]]
    assert ids == public_ids(corpus)
    for b in body["bugs"]:
        assert_shape(b, "bug_default_core")
        assert "comments" not in b and "history" not in b
    # with a key, private bugs appear
    authed = [b["id"] for b in get(bmo_server, "bug", SEARCH, key=API_KEY).json()["bugs"]]
    assert len(authed) > len(ids)
    assert any(corpus[i].bug["groups"] for i in authed)


def test_include_fields_inline_comments_history_and_names(bmo_server: Any, corpus: dict[int, Record]) -> None:
    bugs = get(
        bmo_server, "bug", {**SEARCH, "include_fields": "_default,comments,history", "limit": 3}
    ).json()["bugs"]
    for b in bugs:
        rec = corpus[b["id"]]
        assert b["comments"] == [c for c in rec.comments if not c["is_private"]]
        assert b["history"] == rec.history
        for c in b["comments"]:
            assert_shape(c, "comment")
    only = get(bmo_server, "bug", {**SEARCH, "include_fields": "id,whiteboard", "limit": 2}).json()["bugs"]
    assert all(set(b) == {"id", "whiteboard"} for b in only)
    # repeated include_fields are not split; a user field brings its _detail
    rep = get(
        bmo_server,
        "bug",
        [
            ("product", "CA Program"),
            ("include_fields", "id"),
            ("include_fields", "assigned_to"),
            ("limit", "1"),
        ],
    ).json()
    assert set(rep["bugs"][0]) == {"id", "assigned_to", "assigned_to_detail"}
    # _all includes extras; exclude_fields removes
    allb = get(
        bmo_server, "bug", {**SEARCH, "include_fields": "_all", "exclude_fields": "cc", "limit": 1}
    ).json()["bugs"][0]
    assert "comments" in allb and "history" in allb and "cc" not in allb


def test_paging_limit_offset_and_cap(make_server: Any, corpus: dict[int, Record]) -> None:
    srv = make_server(page_cap=7)
    ids = public_ids(corpus)
    page = get(srv, "bug", {**SEARCH, "limit": 50, "order": "bug_id"}).json()["bugs"]
    assert [b["id"] for b in page] == ids[:7]  # silently capped
    page2 = get(srv, "bug", {**SEARCH, "limit": 5, "offset": 5, "order": "bug_id"}).json()["bugs"]
    assert [b["id"] for b in page2] == ids[5:10]
    # limit=0 drops offset and still caps
    z = get(srv, "bug", {**SEARCH, "limit": 0, "offset": 5}).json()["bugs"]
    assert [b["id"] for b in z] == ids[:7]
    assert get(srv, "bug", {**SEARCH, "limit": 5, "offset": 1000}).json() == {"bugs": []}


def test_order_changeddate_and_count_only(bmo_server: Any, corpus: dict[int, Record]) -> None:
    bugs = get(
        bmo_server, "bug", {**SEARCH, "order": "changeddate", "include_fields": "id,last_change_time"}
    ).json()["bugs"]
    assert [b["last_change_time"] for b in bugs] == sorted(b["last_change_time"] for b in bugs)
    assert get(bmo_server, "bug", {**SEARCH, "count_only": 1}).json() == {
        "bug_count": len(public_ids(corpus))
    }


def test_filters_whiteboard_times_ids(bmo_server: Any, corpus: dict[int, Record]) -> None:
    wb = get(bmo_server, "bug", {"whiteboard": "[ca-compliance]", "include_fields": "id,whiteboard"}).json()[
        "bugs"
    ]
    assert wb and all("[ca-compliance]" in b["whiteboard"].lower() for b in wb)
    pub = [r for r in corpus.values() if not r.bug["groups"]]
    cut = sorted(r.bug["last_change_time"] for r in pub)[len(pub) // 2]
    got = {
        b["id"]
        for b in get(bmo_server, "bug", {"last_change_time": cut, "include_fields": "id"}).json()["bugs"]
    }
    assert got == {r.id for r in pub if r.bug["last_change_time"] >= cut}  # inclusive
    created = sorted(r.bug["creation_time"] for r in pub)[-3]
    got = {
        b["id"]
        for b in get(bmo_server, "bug", {"creation_time": created, "include_fields": "id"}).json()["bugs"]
    }
    assert got == {r.id for r in pub if r.bug["creation_time"] >= created}
    some = [r.id for r in pub][:3]
    assert {b["id"] for b in get(bmo_server, "bug", {"id": ",".join(map(str, some))}).json()["bugs"]} == set(
        some
    )
    rep = get(bmo_server, "bug", [("id", str(some[0])), ("id", str(some[1]))]).json()["bugs"]
    assert {b["id"] for b in rep} == set(some[:2])


@pytest.mark.parametrize(
    "path,params,status,code",
    [
        ("bug", {}, 400, 1000),
        ("bug", {"product": "CA Program", "offset": 2}, 400, 50),
        ("bug", {"product": "CA Program", "last_change_time": "yesterday-ish"}, 400, 56),
        ("bug/999", {}, 404, 101),
        ("nonexistent", {}, 404, 32614),
        ("whoami", {}, 401, 410),
    ],
)
def test_error_envelopes(bmo_server: Any, path: str, params: dict[str, Any], status: int, code: int) -> None:
    r = get(bmo_server, path, params)
    assert r.status_code == status
    body = r.json()
    assert_shape(body, "error")
    assert body["error"] is True and body["code"] == code


def test_private_bug_get_and_batches(bmo_server: Any, corpus: dict[int, Record]) -> None:
    priv = next(i for i, r in corpus.items() if r.bug["groups"])
    pub = next(i for i, r in corpus.items() if not r.bug["groups"])
    r = get(bmo_server, f"bug/{priv}")
    assert r.status_code == 401 and r.json()["code"] == 102 and "must first log in" in r.json()["message"]
    ok = get(bmo_server, f"bug/{priv}", key=API_KEY).json()
    assert set(ok) == {"bugs", "faults"} and ok["bugs"][0]["id"] == priv
    for kind in ("comment", "history"):
        bad = get(bmo_server, f"bug/{pub}/{kind}", {"ids": priv})
        assert bad.status_code == 401 and bad.json()["code"] == 102
        skip = get(bmo_server, f"bug/{pub}/{kind}", {"ids": priv, "skip_private": 1})
        assert skip.status_code == 200
    cb = get(bmo_server, f"bug/{pub}/comment", {"ids": priv, "skip_private": 1}).json()
    assert_shape(cb, "comments_batch")
    assert list(cb["bugs"]) == [str(pub)] and cb["comments"] == {}
    hb = get(bmo_server, f"bug/{pub}/history", {"ids": priv, "skip_private": 1}).json()
    assert [b["id"] for b in hb["bugs"]] == [pub]
    assert_shape(hb["bugs"][0], "history_bug")


def test_get_bug_ids_merge(bmo_server: Any, corpus: dict[int, Record]) -> None:
    a, b = [i for i, r in corpus.items() if not r.bug["groups"]][:2]
    body = get(bmo_server, f"bug/{a}", {"ids": [b, a]}).json()
    assert [x["id"] for x in body["bugs"]] == [a, b] and body["faults"] == []


def test_new_since_is_strict(bmo_server: Any, corpus: dict[int, Record]) -> None:
    rec = next(r for r in corpus.values() if len(r.comments) >= 3 and not r.bug["groups"])
    t = rec.comments[1]["creation_time"]
    cs = get(bmo_server, f"bug/{rec.id}/comment", {"new_since": t}).json()["bugs"][str(rec.id)]["comments"]
    assert cs and all(c["creation_time"] > t for c in cs)
    h = get(bmo_server, f"bug/{rec.id}/history", {"new_since": rec.history[0]["when"]}).json()["bugs"][0][
        "history"
    ]
    assert all(e["when"] > rec.history[0]["when"] for e in h)


def test_api_key_header_wins_and_bad_key(bmo_server: Any) -> None:
    assert get(bmo_server, "whoami", key=API_KEY).status_code == 200
    assert get(bmo_server, "whoami", {"Bugzilla_api_key": API_KEY}).status_code == 200
    assert get(bmo_server, "whoami", {"api_key": API_KEY}).status_code == 200
    # header wins: a good header beats a bad query key
    assert get(bmo_server, "whoami", {"Bugzilla_api_key": "bad"}, key=API_KEY).status_code == 200
    bad = get(bmo_server, "whoami", key="wrong")
    assert bad.status_code == 400 and bad.json()["code"] == 306


def test_etag_304(bmo_server: Any) -> None:
    r = get(bmo_server, "bug", {**SEARCH, "limit": 2})
    tag = r.headers["ETag"]
    again = get(bmo_server, "bug", {**SEARCH, "limit": 2}, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""


def test_uri_too_long_is_plain_414(bmo_server: Any) -> None:
    r = get(bmo_server, "bug", {"id": ",".join(str(1000000 + i) for i in range(1200))})
    assert r.status_code == 414 and r.headers["Content-Type"].startswith("text/plain")


def test_rate_limit_then_block_html_429(make_server: Any, corpus: dict[int, Record]) -> None:
    srv = make_server(rate_limit=5)
    pub = next(i for i, r in corpus.items() if not r.bug["groups"])
    codes = [get(srv, f"bug/{pub}").status_code for _ in range(5)]
    assert codes == [200] * 5
    first = get(srv, f"bug/{pub}")
    assert first.status_code == 400 and first.json()["code"] == 32000
    blocked = get(srv, "bug", SEARCH, key=API_KEY)  # every request, even authenticated searches
    assert blocked.status_code == 429 and blocked.headers["Content-Type"].startswith("text/html")
    assert "Retry-After" not in blocked.headers
    # searches alone do not count (BMO limits anonymous Bug.get and comments only)
    srv2 = make_server(rate_limit=2)
    assert all(get(srv2, "bug", SEARCH).status_code == 200 for _ in range(5))


def test_faults_are_seeded_and_mixed(make_server: Any) -> None:
    srv = make_server(fault_rate=0.5, seed=3)
    outcomes = []
    for _ in range(40):
        try:
            outcomes.append(get(srv, "version").status_code)
        except requests.ConnectionError:
            outcomes.append(0)
    assert 200 in outcomes and {500, 502, 503} & set(outcomes)
    assert 0 in outcomes  # dropped connections
    logged = [e["status"] for e in srv.app.requests]
    assert [200 if x > 1000 else x for x in logged] == outcomes  # 1001/1002: truncated / non-JSON 200 bodies
    assert {1001, 1002} <= set(logged)


def test_poisoned_bug_fails_its_page(make_server: Any, corpus: dict[int, Record]) -> None:
    pid = public_ids(corpus)[2]
    srv = make_server(poison_ids=frozenset({pid}))
    bad = get(srv, "bug", {**SEARCH, "include_fields": "_default,comments,history", "limit": 5})
    assert bad.status_code == 400 and bad.json()["error"] is True
    assert get(srv, "bug", {**SEARCH, "include_fields": "id", "limit": 5}).status_code == 200


def test_request_log_file_redacts_key(make_server: Any, tmp_path: Path) -> None:
    logf = tmp_path / "req.jsonl"
    srv = make_server(request_log=str(logf))
    get(srv, "bug", {**SEARCH, "limit": 1, "Bugzilla_api_key": API_KEY})
    get(srv, "version")
    lines = [json.loads(x) for x in logf.read_text().splitlines()]
    assert [x["path"] for x in lines] == ["/rest/bug", "/rest/version"]
    assert set(lines[0]) == {"time", "method", "path", "query", "status", "bytes"}
    assert API_KEY not in logf.read_text()


def test_python_bugzilla_talks_to_it(bmo_server: Any, corpus: dict[int, Record]) -> None:
    bz = bugzilla.Bugzilla(bmo_server.url + "/rest/", force_rest=True, use_creds=False)
    q = bz.build_query(product="CA Program", component="CA Certificate Compliance")
    q["limit"] = 5
    q["order"] = "bug_id"
    bugs = bz.query(q)
    assert [b.id for b in bugs] == public_ids(corpus)[:5]
    one = bz.getbug(bugs[0].id)
    assert one.summary == corpus[bugs[0].id].bug["summary"]
    with pytest.raises(bugzilla.BugzillaError) as err:
        bz.getbug(999)
    assert "does not exist" in str(err.value)


def _type_name(v: Any) -> str:
    return "null" if v is None else type(v).__name__


@pytest.mark.realdata
def test_conformance_with_real_bmo_bodies(bmo_server: Any, corpus: dict[int, Record]) -> None:
    """Key sets and value types match real BMO responses (../shared/realdata)."""
    real = realdata("bmo-2026")
    pub = public_ids(corpus)
    ours_page = get(
        bmo_server, "bug", {**SEARCH, "include_fields": "_default,comments,history", "limit": 2}
    ).json()
    real_page = json.loads((real / "search_p0_anon.json").read_text())
    rb, ob = real_page["bugs"][0], ours_page["bugs"][0]
    core = set(SHAPES["bug_default_core"]) | {"comments", "history"}
    for k in core:
        assert k in rb and k in ob, k
        if rb[k] is not None and ob[k] is not None:
            assert _type_name(rb[k]) == _type_name(ob[k]), k
    assert set(rb["comments"][0]) == set(ob["comments"][0])
    assert set(rb["history"][0]) == set(ob["history"][0])
    # batched comments and history
    rc = json.loads((real / "comments_batch_anon.json").read_text())
    oc = get(bmo_server, f"bug/{pub[0]}/comment", {"ids": pub[1]}).json()
    assert set(rc) == set(oc)
    rh = json.loads((real / "history_batch_anon.json").read_text())
    oh = get(bmo_server, f"bug/{pub[0]}/history", {"ids": pub[1]}).json()
    assert set(rh["bugs"][0]) == set(oh["bugs"][0])
    # errors and small endpoints
    for name, path, params in [
        ("error_nonexistent_anon", "bug/999", {}),
        ("no_criteria", "bug", {}),
        ("offset_without_limit", "bug", {"product": "CA Program", "offset": 2}),
        ("invalid_resource", "nonexistent", {}),
        ("whoami_anon", "whoami", {}),
    ]:
        realbody = json.loads((real / f"{name}.json").read_text())
        ours = get(bmo_server, path, params).json()
        assert set(realbody) == set(ours) and realbody["code"] == ours["code"], name
    for name in ("time", "version", "timezone"):
        assert set(json.loads((real / f"{name}.json").read_text())) == set(get(bmo_server, name).json())


@pytest.mark.realdata
def test_conformance_with_older_bmo_recordings(bmo_server: Any, corpus: dict[int, Record]) -> None:
    real = realdata("bmo-format")
    pc = json.loads((real / "perceval/bugzilla_rest_bugs_comments.json").read_text())
    some = next(v["comments"][0] for v in pc["bugs"].values() if v["comments"])
    pub = public_ids(corpus)
    ours = get(bmo_server, f"bug/{pub[0]}/comment").json()["bugs"][str(pub[0])]["comments"][0]
    # older BMO had fewer keys: ours must be a superset with the same types
    for k, v in some.items():
        assert k in ours, k
        if v is not None and ours[k] is not None:
            assert _type_name(v) == _type_name(ours[k]), k
    ph = json.loads((real / "perceval/bugzilla_rest_bugs_history.json").read_text())
    entry = ph["bugs"][0]["history"][0]
    oh = get(bmo_server, f"bug/{pub[0]}/history").json()["bugs"][0]["history"][0]
    assert set(entry) == set(oh)


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    """`make sample` must not rewrite the bundled sample: two processes (two hash salts), one seed, equal files."""
    outs = []
    for n in range(2):
        out = tmp_path / f"s{n}"
        env = {**os.environ, "PYTHONHASHSEED": str(n + 1)}
        subprocess.run(
            [sys.executable, "-m", "bzmine", "synth", "--bugs", "12", "--seed", "7", "--out", str(out)],
            check=True,
            env=env,
            capture_output=True,
        )
        outs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outs[0] == outs[1] and len(outs[0]) == 13
