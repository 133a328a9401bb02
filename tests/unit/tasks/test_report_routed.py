"""The report lists the best-scored requests of the railway, road and airport offices, at most
ROUTED_LISTED each (tasks/report.py, read_marts): by score, highest first, unscored last,
ties by request id."""

import random

import duckdb

from tasks.report import ROUTED_LISTED, ROUTED_OFFICES, read_marts


def test_each_office_lists_its_best_scored_requests_unscored_last_ties_by_id():
    rng = random.Random(7)
    rows = []
    for n in range(600):
        office = rng.choice([*ROUTED_OFFICES, "pan_government", "ministry"])
        score = rng.choice([None, 1.5, 2.0, 2.25, round(rng.uniform(1, 5), 4)])  # ties and unscored
        rows.append((f"S{n:04d}", "IDN", "Indonesia", "waste", f"P{n}", score, office))
    rows += [(f"R{n}", "PER", "Peru", "energy", "", 3.0, "road") for n in range(3)]  # road: few
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.submissions (submission_id VARCHAR, country_iso3 VARCHAR, country_name VARCHAR, "
        "category VARCHAR, project_title VARCHAR, score DOUBLE, office VARCHAR)"
    )
    con.executemany("INSERT INTO marts.submissions VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    for small in ("headline", "track_summary", "country_summary", "office_routing", "ranking_variants",
                  "rank_stability", "load_report"):  # fmt: skip
        con.execute(f"CREATE TABLE marts.{small} (x INTEGER)")
    con.execute(
        "CREATE TABLE marts.quarantine (source VARCHAR, rule VARCHAR, column_name VARCHAR, "
        "row_number BIGINT, file_name VARCHAR)"
    )
    listed = read_marts(con)["submissions"]
    for office in ROUTED_OFFICES:
        mine = [r for r in rows if r[6] == office]
        expected = sorted(mine, key=lambda r: (r[5] is None, -(r[5] or 0), r[0]))[:ROUTED_LISTED]
        got = [r["submission_id"] for r in listed if r["office"] == office]
        assert sorted(got) == sorted(r[0] for r in expected), office
        assert len(got) == min(len(mine), ROUTED_LISTED)
    assert max(sum(r[6] == o for r in rows) for o in ROUTED_OFFICES) > ROUTED_LISTED  # the cut applies
    assert {r["office"] for r in listed} == set(ROUTED_OFFICES)
