"""The scale-out mode (`make serve-scaled`): the Prefect server on PostgreSQL, two process
workers, the warehouse on DuckLake with its catalog in that PostgreSQL. A backfill spread
over the workers runs one flow run per day on both workers and converges to the warehouse
a nightly built."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from kcity.sample import write_sample
from tests.integration.helpers import comparable, published_tables, query
from tests.integration.prefect_server import Served, free_port
from warehouse import db

EVE = "2020-04-19"
DAYS = ["2020-04-13", "2020-04-14", "2020-04-15", "2020-04-16", "2020-04-17"]


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    data = tmp_path_factory.mktemp("scaled") / "data"
    data.mkdir()
    write_sample(data / "inbox")
    # PostgreSQL's files where its `postgres` user can reach them (pytest's tmp is 0700).
    pg_dir = Path(tempfile.mkdtemp(prefix="kcity-pg-serve-"))
    pg_port = free_port()
    env = {
        "KCITY_PREFECT_DB": "postgres",
        "KCITY_WORKERS": "2",
        "KCITY_WAREHOUSE": "ducklake",
        "KCITY_PG_DIR": str(pg_dir),
        "KCITY_PG_PORT": str(pg_port),
    }
    stack = Served(data, env)
    stack.wait_for_workers(2)
    stack.pg_port = pg_port
    stack.catalog = f"dbname=kcity_lake host=127.0.0.1 port={pg_port} user=postgres"
    yield stack
    stack.stop()
    shutil.rmtree(pg_dir, ignore_errors=True)


def lake_settings(stack: Served, monkeypatch):
    monkeypatch.setenv("KCITY_DATA_DIR", str(stack.data_dir))
    monkeypatch.setenv("KCITY_WAREHOUSE", "ducklake")
    monkeypatch.setenv("KCITY_DUCKLAKE_CATALOG", stack.catalog)
    from kcity.settings import get_settings

    return get_settings()


def test_the_server_keeps_its_state_in_postgresql_with_two_workers(scaled):
    assert "Prefect database: PostgreSQL" in scaled.output()
    with psycopg.connect(f"dbname=prefect host=127.0.0.1 port={scaled.pg_port} user=postgres") as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM deployment").fetchall()}
    assert {"nightly", "backfill", "backfill-day"} <= names
    assert scaled.wait_for_workers(2) == 2
    assert not (scaled.data_dir / "prefect" / "prefect.db").exists()  # no SQLite


def test_a_spread_backfill_runs_one_flow_run_per_day_on_both_workers(scaled, monkeypatch):
    night = scaled.run_from_ui_form("nightly", {"as_of": EVE})
    assert scaled.wait(night["id"], timeout=300)["state"]["type"] == "COMPLETED"
    settings = lake_settings(scaled, monkeypatch)
    after_night = comparable(published_tables(settings.published_db))
    loaded_at = "SELECT delivery_date::VARCHAR, sha256, loaded_at FROM ops.loads WHERE status = 'loaded'"
    with db.connect(settings.internal_db) as con:
        night_loads = {r[1]: r for r in con.execute(loaded_at).fetchall()}

    parent = scaled.run_from_ui_form("backfill", {"start": DAYS[0], "end": DAYS[-1], "spread": True})
    done = scaled.wait(parent["id"], timeout=600)
    assert done["state"]["type"] == "COMPLETED", done["state"]

    children = [
        r
        for r in scaled.api(
            "/flow_runs/filter", {"flow_runs": {"parent_flow_run_id": {"any_": [parent["id"]]}}}
        )
        if r["name"].startswith("backfill-day-")
    ]
    assert sorted(r["name"] for r in children) == [f"backfill-day-{d}" for d in DAYS]
    assert {r["state"]["type"] for r in children} == {"COMPLETED"}

    # Which worker ran each day: each worker logs the flow runs it submits.
    logs = scaled.data_dir / "prefect" / "logs"
    ran_by = {}
    for i in (1, 2):
        text = (logs / f"worker-{i}.log").read_text()
        for run_id in re.findall(r"submitting flow run '([0-9a-f-]+)'", text):
            ran_by[run_id] = i
    assert all(r["id"] in ran_by for r in children), ran_by
    assert {ran_by[r["id"]] for r in children} == {1, 2}, "the days were not spread over both workers"

    # The warehouse (DuckLake): every day rebuilt by its own flow run, checks pass, and the
    # backfill with the same rules converged to what the nightly built.
    assert db.failed_checks(settings.internal_db) == {}
    with db.connect(settings.internal_db) as con:
        ledger = dict(
            con.execute(
                "SELECT as_of::VARCHAR, flow_run_id FROM ops.run_ledger WHERE flow_name = 'kcity-backfill-day'"
            ).fetchall()
        )
        snapshots = [
            r[0] for r in con.execute("SELECT as_of::VARCHAR FROM ops.snapshots ORDER BY 1").fetchall()
        ]
        latest = con.execute("SELECT as_of::VARCHAR FROM ops.snapshots WHERE with_latest").fetchall()
        loads = {r[1]: r for r in con.execute(loaded_at).fetchall()}
    assert ledger == {r["name"].removeprefix("backfill-day-"): r["id"] for r in children}
    assert set(DAYS) <= set(snapshots) and EVE in snapshots
    assert latest == [(EVE,)]
    # Re-loaded: the deliveries dated in the range (KOICA 04-14, MOFA update 04-16, KIND
    # 04-17); every other load is the nightly's, untouched.
    assert loads.keys() == night_loads.keys()
    reloaded = sorted(r[0] for sha, r in loads.items() if r[2] != night_loads[sha][2])
    assert reloaded == ["2020-04-14", "2020-04-16", "2020-04-17"]
    after_backfill = comparable(published_tables(settings.published_db))
    for name, frame in after_night.items():
        if name not in ("run_ledger", "country_summary_history"):
            pd.testing.assert_frame_equal(after_backfill[name], frame, obj=name)
    # The history gained the backfilled days; the night's own day is unchanged.
    history = after_backfill["country_summary_history"]
    assert sorted({str(d.date()) for d in history["as_of"]}) == [*DAYS, EVE]
    eve = history[history["as_of"] == pd.Timestamp(EVE)].reset_index(drop=True)
    pd.testing.assert_frame_equal(eve, after_night["country_summary_history"], obj="history of the eve")
    assert query(settings.published_db, "SELECT n_countries, n_requests FROM marts.headline") == [(23, 80)]
    assert not (scaled.data_dir / "internal" / "warehouse.duckdb").exists()
    assert os.listdir(scaled.data_dir / "lake")


def test_days_run_out_of_order_converge_to_the_sequential_backfill(kcity_env, tmp_path, monkeypatch):
    """Workers may take a spread backfill's days in any order. A day built before an earlier
    day was re-loaded is stale; the parent's repair (build_snapshots over the range) rebuilds
    exactly those days, and the history equals a backfill that ran the days in order."""
    import datetime as dt

    from flows.backfill import backfill, backfill_day
    from flows.nightly import nightly
    from flows.params import Scoring
    from kcity.settings import get_settings

    days = [dt.date(2020, 4, 14), dt.date(2020, 4, 15), dt.date(2020, 4, 16)]
    params = Scoring().sql_params()

    def history(settings) -> pd.DataFrame:
        with db.connect(settings.internal_db) as con:
            frame = con.execute(
                "SELECT * FROM hist.country_summary WHERE as_of BETWEEN ? AND ? ORDER BY ALL",
                [days[0], days[-1]],
            ).df()
        return frame.reset_index(drop=True)

    write_sample(kcity_env.inbox)
    nightly(as_of=dt.date(2020, 4, 19))
    for day in reversed(days):  # 16 and 15 are built before 14 (KOICA) is re-loaded
        backfill_day(day=day)
    assert db.build_snapshots(kcity_env.internal_db, days, params, latest=False) == days[1:]
    assert db.build_snapshots(kcity_env.internal_db, days, params, latest=False) == []
    out_of_order = history(kcity_env)

    monkeypatch.setenv("KCITY_DATA_DIR", str(tmp_path / "sequential"))
    sequential = get_settings()
    write_sample(sequential.inbox)
    nightly(as_of=dt.date(2020, 4, 19))
    backfill(start=days[0], end=days[-1])
    assert len(out_of_order) == 3 * 23
    pd.testing.assert_frame_equal(out_of_order, history(sequential))
