"""The whole flow on the bundled 2020 sample, in a temp folder, read back as BI tools do."""

import datetime as dt
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from flows.backfill import backfill
from flows.nightly import nightly
from kcity.sample import write_sample
from tests.integration.helpers import published_tables, query

EVE = dt.date(2020, 4, 19)


@pytest.fixture
def sample(kcity_env):
    write_sample(kcity_env.inbox)
    return kcity_env


def test_demo_figures_match_the_2020_round(sample):
    summary = nightly(as_of=EVE)
    db = sample.published_db
    assert query(db, "SELECT n_countries, n_requests FROM marts.headline") == [(23, 80)]
    assert query(db, "SELECT track, n_requests, n_countries FROM marts.track_summary ORDER BY track") == [
        ("other", 3, 3), ("smart_solution", 46, 19), ("urban_development", 31, 17),
    ]  # fmt: skip
    assert query(db, "SELECT count(*) FROM marts.country_summary WHERE shortlisted") == [(10,)]
    assert query(db, "SELECT list(rank ORDER BY rank) FROM marts.country_summary WHERE shortlisted") == [
        (list(range(1, 11)),)
    ]
    assert len(summary.shortlist) == 10
    named = dict(
        query(db, "SELECT submission_id, category FROM marts.submissions WHERE country_iso3 = 'PER'")
    )
    assert "airport_relocation" in named.values()
    cats = query(db, "SELECT country_iso3, category FROM marts.submissions")
    for iso3, category in [("IDN", "new_city"), ("MMR", "new_city"), ("PHL", "new_city"),
                           ("AUS", "station_area"), ("IND", "station_area"), ("RUS", "industrial_complex"),
                           ("TUR", "industrial_complex"), ("LAO", "roadmap"), ("PER", "airport_relocation")]:  # fmt: skip
        assert (iso3, category) in cats


def test_load_report_reconciles_and_names_every_problem(sample):
    nightly(as_of=EVE)
    report = published_tables(sample.published_db)["load_report"].set_index("file_name")
    readable = report[report["status"] == "loaded"]
    assert (readable["rows_read"] == readable["rows_loaded"] + readable["rows_quarantined"]).all()
    assert readable["rows_quarantined"].sum() == 4
    assert report.loc["portal_export_0320.xlsx", "status"] == "rejected"
    assert "portal_export_0320.xlsx" in report.loc["portal_export_0320.xlsx", "error"]
    assert report.loc["form_export_0207_resend.csv", "status"] == "duplicate"
    assert report.loc["form_export_latest.csv", "status"] == "ignored"
    assert "YYYY-MM-DD" in report.loc["form_export_latest.csv", "error"]
    quarantine = published_tables(sample.published_db)["quarantine"]
    assert set(quarantine["rule"]) == {"email_format", "category_in_track", "country_known", "score_1_to_5"}
    assert query(sample.published_db, "SELECT submission_id FROM marts.reviews_waiting") == [
        ("KCN-2020-099",)
    ]


def test_published_file_holds_no_personal_data(sample):
    nightly(as_of=EVE)
    inbox_text = "".join(p.read_bytes().decode("utf-8", "ignore") for p in sample.inbox.rglob("*.csv"))
    assert "Contact Person" in inbox_text and "@gov-" in inbox_text  # the sample does carry them
    for name, table in published_tables(sample.published_db).items():
        assert not {"contact_name", "contact_email"} & set(table.columns), name
        text = table.astype("str").to_csv()
        assert "@" not in text, name
        assert "Contact Person" not in text, name
        assert "contact at ministry" not in text, name  # a quarantined raw value


def test_running_the_same_night_twice_changes_nothing(sample):
    nightly(as_of=EVE)
    first = published_tables(sample.published_db)
    nightly(as_of=EVE)
    second = published_tables(sample.published_db)
    assert first.keys() == second.keys()
    for name in first.keys() - {"run_ledger"}:
        pd.testing.assert_frame_equal(first[name], second[name], obj=name)
    # the ledger records runs: the second night adds its own row, nothing else changes
    assert len(second["run_ledger"]) == len(first["run_ledger"]) + 1


def test_backfill_adds_one_snapshot_per_date_and_keeps_current_on_latest(sample):
    nightly(as_of=EVE)
    before = published_tables(sample.published_db)
    backfill(start=dt.date(2020, 4, 1), end=dt.date(2020, 4, 10))
    after = published_tables(sample.published_db)
    history = after["country_summary_history"]
    assert sorted(set(history["as_of"].dt.date)) == [dt.date(2020, 4, d) for d in range(1, 11)] + [EVE]
    assert query(sample.published_db, "SELECT as_of FROM marts.headline") == [(EVE,)]
    for name in ("headline", "country_summary", "submissions", "track_summary", "office_routing"):
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)
    # as of 04-02 no feedback had arrived (MOFA's file is dated 04-03): no scores, no ranks
    assert history[history["as_of"].dt.date == dt.date(2020, 4, 2)]["rank"].isna().all()
    assert history[history["as_of"].dt.date == dt.date(2020, 4, 3)]["rank"].notna().any()
    # backfilling the same range again converges to the same tables
    backfill(start=dt.date(2020, 4, 1), end=dt.date(2020, 4, 10))
    again = published_tables(sample.published_db)
    for name in after.keys() - {"load_report", "run_ledger"}:
        pd.testing.assert_frame_equal(after[name], again[name], obj=name)
    assert len(again["run_ledger"]) == len(after["run_ledger"]) + 10  # one row per day of the range
    cols = ["file_name", "status", "rows_read", "rows_loaded", "rows_quarantined", "error"]
    pd.testing.assert_frame_equal(after["load_report"][cols], again["load_report"][cols])


def test_backfill_revalidates_from_the_raw_record_when_files_are_gone(sample):
    nightly(as_of=EVE)
    before = published_tables(sample.published_db)
    for path in (sample.inbox / "feedback" / "2020-04-10").iterdir():
        path.unlink()
    backfill(start=dt.date(2020, 4, 10), end=dt.date(2020, 4, 10))
    after = published_tables(sample.published_db)
    for name in ("headline", "country_summary", "submissions"):
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def test_missed_nights_are_caught_up(sample):
    nightly(as_of=dt.date(2020, 4, 14))
    nightly(as_of=EVE)
    dates = query(sample.published_db, "SELECT DISTINCT as_of FROM marts.country_summary_history ORDER BY 1")
    assert [d for (d,) in dates] == [dt.date(2020, 4, d) for d in range(14, 20)]


def test_a_reader_holding_the_file_open_is_not_blocked_and_sees_a_consistent_state(sample):
    nightly(as_of=dt.date(2020, 2, 20))  # 2 deliveries in
    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(sample.published_db)!r}, read_only=True)
            q = "SELECT n_requests, (SELECT count(*) FROM marts.submissions) FROM marts.headline"
            print(con.execute(q).fetchall(), flush=True)
            sys.stdin.readline()
            print(con.execute(q).fetchall(), flush=True)
        """)],  # fmt: skip
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    old = reader.stdout.readline().strip()
    nightly(as_of=EVE)  # completes although a reader holds the file
    out, _ = reader.communicate("go\n", timeout=60)
    assert reader.returncode == 0
    assert out.strip() == old  # the open connection still sees the old, complete state
    assert eval(old)[0][0] == eval(old)[0][1] < 80
    # a new connection (a new process: DuckDB shares one instance per file within a process)
    assert query(sample.published_db, "SELECT n_requests FROM marts.headline") == [(80,)]
