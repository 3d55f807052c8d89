"""National statistics connectors: replayed SSB exchanges, snapshots, fold into observations, precedence, faults.

No test reaches the network: sessions answer from ``tests/fixtures/ssb/`` (one real recorded
response, the rest constructed in its format) through requests-mock; an unexpected URL raises
``NoMockAddress`` instead of going out.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
import requests
import requests_mock

from analysis import build, catalogue, cli, municipalities, observations, paths, precedence, simulate
from analysis.errors import InputError
from analysis.national import fetch, fold, http, jsonstat, mapping, snapshot, ssb
from analysis.national.providers import FetchError

FIXTURES = Path(__file__).parent / "fixtures" / "ssb"
EXCHANGES = json.loads((FIXTURES / "exchanges.json").read_text(encoding="utf-8"))
REAL = EXCHANGES[0]
WHEN = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 12, 2, 12, 0, 0, tzinfo=timezone.utc)
NON_EXISTENT_VALUE = '{"type":"Parameter error","title":"Non-existent value","status":400}'
"""A real SSB error body, recorded by the same spike as the 12134 response (invalid municipality code)."""
ED = "SC: EH: ED: 3C"


def body(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def url_of(table: str, year: str) -> str:
    return next(e["url"] for e in EXCHANGES if f"/tables/{table}/" in e["url"] and e["url"].endswith(f"Tid]={year}"))


def file_of(url: str) -> str:
    return next(e["file"] for e in EXCHANGES if e["url"] == url)


def replay(overrides: dict[str, dict] | None = None, session: requests.Session | None = None):
    """A session answering every recorded exchange; ``overrides`` replaces answers by URL (text, status, exc)."""
    session = session or requests.Session()
    adapter = requests_mock.Adapter(case_sensitive=True)
    for e in EXCHANGES:
        answer = (overrides or {}).get(e["url"], {"text": body(e["file"]), "status_code": e["status"]})
        adapter.register_uri("GET", e["url"], complete_qs=True, **answer)
    session.mount("https://", adapter)
    return session, adapter


@pytest.fixture
def cat():
    return catalogue.load()


def run(root: Path, session, moment=WHEN, texts=("Tromsø", "Kristiansund"), years=(2019, 2022)):
    return fetch.run("ssb", list(texts), list(years), root=root, session=session, moment=moment, progress=False)


# --- the real recorded exchange -------------------------------------------------------------------

def test_real_request_is_built_exactly_and_its_answer_read(cat):
    entries = mapping.load(cat=cat)
    free_income = entries[entries["entry_id"] == "ssb_12134_free_income"]
    [query] = ssb.SSB().plan(free_income, {2024: ["5001", "0301", "4601"]})
    assert query.url == REAL["url"]  # the request form recorded with HTTP 200
    session, _ = replay()
    answer = ssb.SSB().fetch(query, session)
    got = answer.rows.set_index("region_code")["value"].to_dict()
    assert got == {"0301": 81240.0, "4601": 66605.0, "5001": 62853.0}  # as printed in the shared fixture README
    assert set(answer.rows["source_unit"]) == {"kr"} and set(answer.rows["year"]) == {2024}
    assert answer.body == body(REAL["file"])


def test_jsonstat_parse_reads_codes_and_units():
    doc, frame = jsonstat.parse(body(REAL["file"]))
    assert list(frame.columns) == ["KOKkommuneregion0000", "ContentsCode", "Tid", "value"]
    assert jsonstat.categories(doc, "KOKkommuneregion0000") == ["0301", "4601", "5001"]
    assert jsonstat.unit(doc, "ContentsCode", "KOSAG110000") == "kr"


def test_verified_entries_rest_on_a_real_recorded_response(cat):
    """'verified' only where a real (not constructed) recorded exchange answers the entry's own query."""
    entries = mapping.load(cat=cat)
    real_urls = [e["url"] for e in EXCHANGES if not e["constructed"]]
    verified = entries[entries["verification"] == "verified"]
    assert not verified.empty
    for r in verified.itertuples():
        assert any(f"/tables/{r.table_id}/" in u and f"valuecodes[{r.region_dimension}]=" in u
                   and f"valuecodes[ContentsCode]={r.contents_code}" in u for u in real_urls), r.entry_id
    # no U4SSC data point rests on a real response yet: every value entry is unverified
    assert set(entries.loc[entries["role"] == "value", "verification"]) == {"unverified"}


def test_mapping_coverage_counts_distinct_data_points(cat):
    entries = mapping.load(cat=cat)
    got = mapping.coverage(entries, cat)
    values = entries[entries["role"] == "value"]
    assert got["covered"] == len(set(values["data_point_id"])) <= got["data_points"] == 112
    assert got["verified_entries"] == (entries["verification"] == "verified").sum()


def test_mapping_errors_name_row_and_column(tmp_path, cat):
    frame = pd.read_csv(mapping.MAP, dtype=str, keep_default_na=False)
    frame.loc[3, "data_point_id"] = "XX: 9Z"
    frame.loc[5, "verification"] = "checked"
    frame.loc[6, "other_selections"] = "Nivaa"
    bad = tmp_path / "map.csv"
    frame.to_csv(bad, index=False)
    with pytest.raises(InputError) as err:
        mapping.load(bad, cat=cat)
    text = str(err.value)
    assert f"{bad}, row 5, column 'data_point_id': unknown data point id; a value entry needs a data point id of " \
           "kpi_catalogue.csv (found 'XX: 9Z')" in text
    assert f"{bad}, row 7, column 'verification': expected one of ['verified', 'unverified'] (found 'checked')" in text
    assert f"{bad}, row 8, column 'other_selections': expected DIMENSION=code[,code...], several separated by ';' " \
           "(found 'Nivaa')" in text


# --- full replay: fetch -> snapshot -> observations -> profile -------------------------------------

@pytest.fixture
def fetched(tmp_path):
    session, adapter = replay()
    result = run(tmp_path / "external", session)
    return result, adapter, tmp_path


def test_fetch_writes_one_complete_snapshot(fetched):
    result, adapter, tmp_path = fetched
    assert result.snapshot == tmp_path / "external" / "ssb" / "2026-12-01T120000Z"
    assert adapter.call_count == 6  # 3 tables x 2 sets of region codes (2019: 1902; 2022: 5401)
    values = pd.read_parquet(result.snapshot / snapshot.VALUES)
    manifest = json.loads((result.snapshot / snapshot.MANIFEST).read_text(encoding="utf-8"))
    assert len(manifest["requests"]) == 6
    for req in manifest["requests"]:
        assert (result.snapshot / req["response"]).read_text(encoding="utf-8") == body(file_of(req["url"]))
    assert {(r, y) for r, y in zip(values["region_code"], values["year"])} == {
        ("1505", 2019), ("1902", 2019), ("1505", 2022), ("5401", 2022)}
    assert [p.name for p in (tmp_path / "external" / "ssb").iterdir()] == ["2026-12-01T120000Z"]


def test_folded_observations_follow_the_renumbering_and_transformation(fetched, cat):
    result, _, tmp_path = fetched
    obs = fold.from_snapshots(tmp_path / "external", cat=cat)
    ed = obs[obs["data_point_id"] == ED].set_index(["municipality", "year"])
    # hand-computed from the constructed fixtures: (03a + 04a) / population x 100 000
    assert ed.loc[("Tromsø", 2019), "value"] == pytest.approx((14000 + 9000) / 77000 * 1e5)
    assert ed.loc[("Tromsø", 2022), "value"] == pytest.approx((14500 + 9750) / 78000 * 1e5)
    assert ed.loc[("Kristiansund", 2019), "value"] == pytest.approx(20000.0)
    assert ed.loc[("Tromsø", 2019), "kommunenummer"] == "5501"
    assert ed.loc[("Tromsø", 2019), "reported_kommunenummer"] == "1902"
    assert ed.loc[("Tromsø", 2022), "reported_kommunenummer"] == "5401"
    assert set(obs["source_type"]) == {"national_statistics"} and set(obs["data_point_id"]) == {ED}
    for row in obs.itertuples():  # table id, query, URL and retrieval time on every row
        assert "table 09429" in row.source and "https://data.ssb.no/api/pxwebapi/v2/tables/09429/data?" in row.source
        assert "query Region=" in row.note and "retrieved 2026-" in row.note and "unverified mapping" in row.note
        assert "07459" in row.note  # the denominator's request
    assert observations.validate(obs, "folded", cat) == []


def test_build_folds_snapshots_and_profile_counts_them(fetched, cat, monkeypatch):
    from analysis import assess, params, profile

    result, _, tmp_path = fetched
    written = build.build(out_dir=tmp_path / "processed", city_dir=tmp_path / "none",
                          external_dir=tmp_path / "external")
    obs = build.load_observations(tmp_path / "processed")
    national = obs[obs["source_type"] == "national_statistics"]
    assert set(national["municipality"]) == {"Tromsø", "Kristiansund", "Ålesund"}  # Ålesund: transcribed 2019 vote
    detail = pd.read_csv(written["national statistics"], dtype=str)
    assert {"table_id", "query", "url", "retrieved_at"} <= set(detail.columns) and detail["url"].notna().all()

    values = params.load("Tromsø", ["include_simulated=false"])
    a = assess.assess(values, obs=obs)
    for name in ("Tromsø", "Kristiansund"):
        prov = profile.provenance(a, name)
        expected = int(((national["municipality"] == name) & national["value"].notna()).sum())
        assert prov["n_national_statistics"] == expected == 3  # ED 2019, ED 2022, voter participation 2019
    alesund = profile.baseline_table(a, "Ålesund", a.municipalities).set_index("data_point_id")
    assert alesund.loc["SC: SH: SI: 4C", "value"] == 54.66  # the factsheet wins; the county's figure is shown beside it
    assert alesund.loc["SC: SH: SI: 4C", "other_sources"].startswith("national_statistics 2019: 60.8 %")
    gaps = profile.data_gaps(a, "Tromsø")
    assert ED not in set(gaps["data_point_id"])  # filled by the connector
    water = gaps.set_index("data_point_id").loc["EN: EN: WS: 3C", "national_source"]
    assert water == "ssb table 11793 (unverified; dimension codes unknown)"
    assert gaps.set_index("data_point_id").loc["SC: SH: SI: 1C", "national_source"] == ""  # no national source


def test_a_newer_snapshot_wins_and_older_ones_stay(fetched, cat):
    result, _, tmp_path = fetched
    first = {p: p.read_bytes() for p in result.snapshot.rglob("*") if p.is_file()}
    url = url_of("07459", "2019")
    doc = json.loads(body(file_of(url)))
    doc["value"] = [24000.0, 70000.0]  # Tromsø's population revised
    session, _ = replay({url: {"text": json.dumps(doc), "status_code": 200}})
    run(tmp_path / "external", session, moment=LATER)
    assert {p: p.read_bytes() for p in result.snapshot.rglob("*") if p.is_file()} == first
    obs = fold.from_snapshots(tmp_path / "external", cat=cat).set_index(["municipality", "year"])
    assert obs.loc[("Tromsø", 2019), "value"] == pytest.approx(23000 / 70000 * 1e5)


def test_cached_answers_keep_their_retrieval_time(tmp_path, monkeypatch):
    import requests_cache

    waits = []
    monkeypatch.setattr(http.RateLimiter, "wait", lambda self: waits.append(1) or 0.0)
    session, adapter = replay(session=requests_cache.CachedSession("t", backend="memory"))
    first = run(tmp_path / "a", session)
    assert len(waits) == 6  # every network call takes a rate-limit slot
    monkeypatch.setattr(ssb, "_now", lambda: "2030-01-01T00:00:00+00:00")
    second = run(tmp_path / "b", session, moment=LATER)
    assert adapter.call_count == 6 and len(waits) == 6  # the second fetch went nowhere and took no slot
    assert all(a.from_cache for a in second.answers) and not any(a.from_cache for a in first.answers)
    for old, new in zip(first.answers, second.answers):  # the time each answer was received, not the time of reuse
        gap = datetime.fromisoformat(new.retrieved_at) - datetime.fromisoformat(old.retrieved_at)
        assert abs(gap.total_seconds()) <= 1 and not new.retrieved_at.startswith("2030")


# --- municipality numbers follow the period of the data -------------------------------------------

def test_region_codes_follow_the_period():
    reg = municipalities.registry()
    tromso, alesund = reg.resolve("Tromsø"), reg.resolve("Ålesund")
    codes, skipped = fetch.regions([tromso], [2019, 2022, 2024])
    assert codes == {2019: ["1902"], 2022: ["5401"], 2024: ["5501"]}
    assert skipped == []
    codes, skipped = fetch.regions([alesund], [2019, 2022])
    assert codes == {2022: ["1507"]}  # 2019: a merger of five municipalities, none of them today's Ålesund
    assert len(skipped) == 1 and "Ålesund 1508 in 2019" in skipped[0] and "merger" in skipped[0]


def test_old_numbers_resolve_in_their_own_years():
    assert [e.kommunenummer for e in fetch.resolve(["1902"], [2019])] == ["5501"]
    assert [e.kommunenummer for e in fetch.resolve(["5401", "Kristiansund"], [2022])] == ["1505", "5501"]


@pytest.mark.parametrize("text, years, expected", [
    ("5401", [2024], "5401 (Tromsø) was valid 2020–2023, not today"),
    ("9999", [2019], "unknown municipality number '9999'"),
])
def test_unknown_number_for_the_period_is_refused(tmp_path, text, years, expected, capsys, monkeypatch):
    monkeypatch.setattr(http, "session", lambda *a, **k: pytest.fail("no request may be sent"))
    code = cli.main(["fetch", "ssb", "--municipality", text, "--years", *map(str, years),
                     "--out", str(tmp_path), "--quiet"])
    assert code == 2 and expected in capsys.readouterr().err
    assert not (tmp_path / "ssb").exists()


def test_transcribed_values_keep_the_number_they_were_published_under(cat):
    obs = fold.load_transcribed(cat=cat).set_index("municipality")
    assert obs.loc["Tromsø", "kommunenummer"] == "5501" and obs.loc["Tromsø", "reported_kommunenummer"] == "5401"
    assert obs.loc["Ålesund", "reported_kommunenummer"] == "1507" and obs.loc["Ålesund", "value"] == 60.8
    assert "fylkesstatistikk" in obs.loc["Ålesund", "source"] and "confidence: medium" in obs.loc["Ålesund", "note"]


# --- precedence ----------------------------------------------------------------------------------

def _row(source_type, year, value, status="reported", dp="A", unit="%"):
    return {"municipality": "Rana", "data_point_id": dp, "year": year, "value": value, "value_text": "",
            "unit": unit, "status": status, "source_type": source_type, "source": f"{source_type} source",
            "note": None}


def test_alesund_conflict_keeps_both_and_shows_the_other(cat):
    obs = build.combine(build.load_published(cat), fold.load_transcribed(cat=cat))
    base = observations.latest(obs).set_index(["municipality", "data_point_id"])
    chosen = base.loc[("Ålesund", "SC: SH: SI: 4C")]
    assert chosen["value"] == 54.66 and chosen["source_type"] == "published"
    assert chosen["other_sources"].startswith("national_statistics 2019: 60.8 % (Møre og Romsdal fylkeskommune")
    assert pd.isna(base.loc[("Tromsø", "SC: SH: SI: 4C"), "other_sources"])  # one source only


def test_precedence_is_read_from_the_table(tmp_path, cat):
    table = pd.read_csv(precedence.TABLE, dtype=str)
    table.loc[table["source_type"] == "national_statistics", "precedence"] = "0"
    swapped = tmp_path / "precedence.csv"
    table.to_csv(swapped, index=False)
    obs = build.combine(build.load_published(cat), fold.load_transcribed(cat=cat))
    base = observations.latest(obs, precedence.load(swapped)).set_index(["municipality", "data_point_id"])
    chosen = base.loc[("Ålesund", "SC: SH: SI: 4C")]
    assert chosen["value"] == 60.8 and "published 2020: 54.66 %" in chosen["other_sources"]


def test_simulated_values_never_replace_a_real_source():
    rows = pd.DataFrame([
        _row("national_statistics", 2019, 60.0), _row("simulated", 2020, 50.0),  # A: real 2019 beats simulated 2020
        _row("published", 2020, None, "not_reported", dp="B"), _row("simulated", 2020, 5.0, dp="B"),
        _row("published", 2020, None, "not_reported", dp="C"), _row("national_statistics", 2021, 7.0, dp="C"),
        _row("simulated", 2020, 3.0, dp="D"),
        _row("city-supplied", 2023, 8.0, dp="E"), _row("published", 2020, 9.0, dp="E"),
    ])
    base = observations.latest(rows).set_index("data_point_id")
    assert base.loc["A", "source_type"] == "national_statistics" and pd.isna(base.loc["A", "other_sources"])
    assert "B" not in base.index  # the publication said not reported: nothing is simulated in its place
    assert base.loc["C", "value"] == 7.0  # another real source fills what the publication did not report
    assert base.loc["D", "source_type"] == "simulated"
    assert base.loc["E", "value"] == 9.0 and base.loc["E", "other_sources"] == "city-supplied 2023: 8 % (city-supplied source)"


def test_a_bad_precedence_table_names_the_cell(tmp_path):
    bad = tmp_path / "precedence.csv"
    bad.write_text("source_type,precedence,stand_in,description\npublished,1,no,x\ncity-supplied,one,no,x\n"
                   "national_statistics,3,maybe,x\nsimulated,4,yes,x\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        precedence.load(bad)
    assert f"{bad}, row 3, column 'precedence': expected a whole number (1 first) (found 'one')" in str(err.value)
    assert f"{bad}, row 4, column 'stand_in': expected one of ['yes', 'no'] (found 'maybe')" in str(err.value)


def test_mix_counts_count_national_statistics():
    rows = pd.DataFrame([_row("national_statistics", 2019, 1.0), _row("national_statistics", 2020, 2.0),
                         _row("published", 2020, 3.0, dp="B"), _row("simulated", 2020, 4.0, dp="C")])
    got = simulate.mix_counts(rows).iloc[0]
    assert (got["n_national_statistics"], got["n_published"], got["n_simulated"], got["n_scored"]) == (2, 1, 1, 4)


# --- rate limit ----------------------------------------------------------------------------------

def test_rate_limiter_allows_30_calls_per_minute():
    now, slept = [0.0], []
    limiter = http.RateLimiter(clock=lambda: now[0], sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)))
    for i in range(30):
        now[0] = i * 0.5  # 30 calls within 15 s
        assert limiter.wait() == 0.0
    now[0] = 20.0
    assert limiter.wait() == pytest.approx(40.0)  # the first call, at 0 s, leaves the window at 60 s
    assert slept == [pytest.approx(40.0)]
    now[0] = 200.0
    assert limiter.wait() == 0.0


def test_panel_years_before_the_mergers_are_skipped_and_named():
    codes, skipped = fetch.regions(municipalities.members(), [2019, 2022])
    assert len(codes[2022]) == 17
    merged = sorted(s.split(" in 2019")[0] for s in skipped)
    assert len(codes[2019]) == 17 - len(merged) and "Ålesund 1508" in merged and "Tromsø 5501" not in merged
    assert "1902" in codes[2019] and "5401" in codes[2022]


def test_server_errors_are_retried_with_backoff():
    """A real HTTP exchange on localhost (not the network): 503 twice, then the answer; urllib3 retries."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            status, text = (503, "busy") if len(hits) < 3 else (200, body(REAL["file"]))
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        s = http.session(None, retries=http.retry_policy(total=3, backoff=0))
        response = s.get(f"http://127.0.0.1:{server.server_port}/tables/12134/data", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200 and len(hits) == 3
    assert response.text == body(REAL["file"])


def test_requests_are_split_to_keep_urls_short(cat):
    entries = mapping.load(cat=cat)
    pop = entries[entries["entry_id"] == "ssb_07459_population"]
    codes = [e.kommunenummer for e in municipalities.registry().current()]
    queries = ssb.SSB().plan(pop, {2024: codes})
    assert len(queries) == -(-len(codes) // ssb.MAX_REGIONS)
    assert sorted(c for q in queries for c in q.selection("Region")) == sorted(codes)
    assert max(len(q.url) for q in queries) < 1000


# --- faults: clear message, non-zero exit, nothing written, earlier snapshots untouched ------------

def _changed(table: str, year: str, change) -> dict:
    doc = json.loads(body(file_of(url_of(table, year))))
    change(doc)
    return {"text": json.dumps(doc), "status_code": 200}


def _rename_region(doc):
    doc["dimension"]["KOMMUNE"] = doc["dimension"].pop("Region")
    doc["id"][0] = "KOMMUNE"


def _new_dimension(doc):
    doc["dimension"] = {"Region": doc["dimension"]["Region"],
                        "Kjonn": {"label": "kjønn", "category": {"index": {"1": 0, "2": 1}, "label": {"1": "M", "2": "K"}}},
                        **{k: v for k, v in doc["dimension"].items() if k != "Region"}}
    doc["id"].insert(1, "Kjonn")
    doc["size"].insert(1, 2)
    doc["value"] = [v for v in doc["value"] for _ in range(2)]


def _new_code(doc):
    region = doc["dimension"]["Region"]["category"]
    region["index"]["1506"] = 2
    region["label"]["1506"] = "Molde"
    per_region = len(doc["value"]) // doc["size"][0]
    doc["size"][0] += 1
    doc["value"] += [1.0] * per_region


FAULTS = {
    "no network": ({"exc": requests.exceptions.ConnectionError("Name or service not known")},
                   "cannot reach https://data.ssb.no/api/pxwebapi/v2 (no network connection?)"),
    "timeout": ({"exc": requests.exceptions.ReadTimeout("read timed out")}, "no answer within 60 s (timeout)"),
    "HTTP error": ({"text": NON_EXISTENT_VALUE, "status_code": 400}, "HTTP 400 from SSB: Non-existent value"),
    "server error": ({"text": "<html>busy</html>", "status_code": 503}, "HTTP 503 from SSB: <html>busy</html>"),
    "missing dimension": ("rename_region", "the table has changed: dimension 'Region' is missing from the answer"),
    "new dimension": ("new_dimension", "the table has changed: dimension 'Kjonn' (2 categories) is not in the mapping"),
    "new code": ("new_code", "the table has changed: dimension 'Region' has new codes ['1506']"),
    "empty answer": ("empty", "empty answer: the table returned no values"),
    "malformed JSON-stat": ("short", "malformed JSON-stat answer: 'value' holds 1 numbers but the dimensions give 4 cells"),
    "not JSON": ({"text": "<html>maintenance</html>", "status_code": 200}, "malformed JSON-stat answer: not JSON"),
}
CHANGES = {"rename_region": _rename_region, "new_dimension": _new_dimension, "new_code": _new_code,
           "empty": lambda d: d.__setitem__("value", [None] * len(d["value"])), "short": lambda d: d.__setitem__("value", [1.0])}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_stops_the_fetch_and_writes_nothing(fault, tmp_path, capsys, monkeypatch):
    root = tmp_path / "external"
    session, _ = replay()
    earlier = run(root, session).snapshot  # a good snapshot from before
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".cache" not in p.parts}
    answer, expected = FAULTS[fault]
    url = url_of("09429", "2022")  # the fifth of six requests: four answers were already received
    if isinstance(answer, str):
        answer = _changed("09429", "2022", CHANGES[answer])
    broken, _ = replay({url: answer})
    monkeypatch.setattr(http, "session", lambda *a, **k: broken)
    code = cli.main(["fetch", "ssb", "--municipality", "Tromsø", "Kristiansund", "--years", "2019", "2022",
                     "--out", str(root), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"ssb table 09429: {expected}" in err and f"request: {url}" in err
    assert [p.name for p in (root / "ssb").iterdir()] == [earlier.name]  # no partial or hidden folder left
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".cache" not in p.parts} == before


def test_fetch_error_carries_provider_table_and_request():
    err = FetchError("ssb", "07459", "https://x/7", "HTTP 400 from SSB: Non-existent value")
    assert str(err) == "ssb table 07459: HTTP 400 from SSB: Non-existent value; request: https://x/7"
    assert isinstance(err, InputError)


def test_fetch_command_with_replayed_answers(tmp_path, capsys, monkeypatch):
    session, _ = replay()
    monkeypatch.setattr(http, "session", lambda *a, **k: session)
    code = cli.main(["fetch", "ssb", "--municipality", "5501", "1505", "--years", "2019", "2022",
                     "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    # 2 regions x 2 years x (1 population + 2 education levels + 1 free income) = 16 values
    assert "ssb: 6 queries, 16 values for Kristiansund 1505, Tromsø 5501, years 2019–2022" in out
    assert "skipped: mapping entry ssb_11793_freshwater (EN: EN: WS: 3C, table 11793): dimension codes unknown" in out
    [folder] = (tmp_path / "ssb").iterdir()
    assert f"wrote snapshot: {folder}" in out


def test_a_failed_write_leaves_no_folder(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    session, _ = replay()
    with pytest.raises(OSError, match="disk full"):
        run(tmp_path, session)
    assert list((tmp_path / "ssb").iterdir()) == []


def test_snapshots_are_never_overwritten(fetched):
    result, _, tmp_path = fetched
    session, _ = replay()
    with pytest.raises(InputError, match="never overwritten"):
        run(tmp_path / "external", session, moment=WHEN)


def test_provider_without_client_is_named(tmp_path, capsys):
    assert cli.main(["fetch", "fhi", "--out", str(tmp_path), "--quiet"]) == 2
    assert "provider 'fhi' is named in the mapping but has no client yet" in capsys.readouterr().err


def test_bad_years_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["fetch", "ssb", "--years", "2022-2019"])
    assert exit_.value.code == 2 and "expected years between 1900 and 2100, first ≤ last" in capsys.readouterr().err


def test_constructed_fixtures_say_so():
    for e in EXCHANGES:
        doc = json.loads(body(e["file"]))
        assert doc["note"][0].startswith("CONSTRUCTED TEST FIXTURE") == e["constructed"]
        real = json.loads(body(REAL["file"]))
        assert list(doc) == list(real) and list(doc["dimension"]["ContentsCode"]) == list(
            real["dimension"]["ContentsCode"])


def test_docs_state_the_mapping_coverage(cat):
    cov = mapping.coverage(mapping.load(cat=cat), cat)
    docs = " ".join((paths.ROOT / "docs" / "data.md").read_text(encoding="utf-8").split())
    readme = " ".join((paths.ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"**{cov['covered']} of the {cov['data_points']} data points**" in docs
    assert f"**{cov['verified_data_points']} data point entries are verified, {cov['verified_entries']} entry in all**" in docs
    assert f"source for {cov['covered']} of the {cov['data_points']} data points" in readme
    fetchable = mapping.fetchable(mapping.load(cat=cat), set(fetch.PROVIDERS))
    assert "only three entries can be fetched" in readme and fetchable.sum() == 3
