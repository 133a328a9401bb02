"""The DuckLake backend (KCITY_WAREHOUSE=ducklake, PostgreSQL catalog): the sample end to end
gives the marts of the embedded default, and the writer lock holds across connections."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pandas as pd
import psycopg
import pytest

from flows.nightly import nightly
from kcity.sample import write_sample
from kcity.settings import get_settings
from tests.integration.helpers import comparable, published_tables, query
from warehouse import db as warehouse_db
from warehouse.db import connect
from warehouse.lock import writer_lock

EVE = dt.date(2020, 4, 19)


@pytest.fixture
def lake_env(tmp_path, monkeypatch, postgres):
    """Settings of a data folder whose warehouse is a DuckLake with a fresh catalog database."""
    db = f"lake_{tmp_path.name.lower().replace('-', '_')[:40]}"
    postgres.create_database(db)
    monkeypatch.setenv("KCITY_DATA_DIR", str(tmp_path / "lake-data"))
    monkeypatch.setenv("KCITY_WAREHOUSE", "ducklake")
    monkeypatch.setenv("KCITY_DUCKLAKE_CATALOG", postgres.dsn(db))
    monkeypatch.delenv("KCITY_DUCKLAKE_DATA_PATH", raising=False)
    return get_settings()


def _embedded_then_lake(kcity_env, tmp_path, monkeypatch, postgres, db: str, nights: tuple[dt.date, ...]):
    """The sample's nights on the embedded warehouse, then on a fresh DuckLake (catalog
    database `db`): each published file's tables, and the DuckLake run's settings."""
    tables = []
    for lake in (False, True):
        if lake:
            postgres.create_database(db)
            monkeypatch.setenv("KCITY_DATA_DIR", str(tmp_path / "lake-data"))
            monkeypatch.setenv("KCITY_WAREHOUSE", "ducklake")
            monkeypatch.setenv("KCITY_DUCKLAKE_CATALOG", postgres.dsn(db))
        settings = get_settings() if lake else kcity_env
        write_sample(settings.inbox)
        for night in nights:
            nightly(as_of=night)
        tables.append(comparable(published_tables(settings.published_db)))
    return *tables, settings


def test_sample_on_ducklake_gives_the_embedded_marts(kcity_env, tmp_path, monkeypatch, postgres):
    db = "lake_sample"
    embedded, lake, settings = _embedded_then_lake(kcity_env, tmp_path, monkeypatch, postgres, db, (EVE,))

    assert sorted(lake) == sorted(embedded)
    assert len(embedded["submissions"]) == 80 and len(embedded["score_breakdown"]) > 500
    for name, frame in embedded.items():
        pd.testing.assert_frame_equal(lake[name], frame, check_dtype=True, obj=name)

    # It was DuckLake: no internal DuckDB file; the tables are in the PostgreSQL catalog and
    # their data under the data path.
    assert not (settings.data_dir / "internal" / "warehouse.duckdb").exists()
    with psycopg.connect(postgres.dsn(db)) as conn:
        tables = {
            f"{s}.{t}"
            for s, t in conn.execute(
                "SELECT s.schema_name, t.table_name FROM ducklake_table AS t JOIN ducklake_schema AS s "
                "USING (schema_id) WHERE t.end_snapshot IS NULL"
            ).fetchall()
        }
    assert {"ops.loads", "raw.submission_rows", "stg.feedback", "hist.country_summary"} <= tables
    assert list((settings.data_dir / "lake").rglob("*.parquet"))


def test_a_second_night_on_ducklake_changes_nothing(lake_env):
    write_sample(lake_env.inbox)
    nightly(as_of=EVE)
    first = comparable(published_tables(lake_env.published_db))
    nightly(as_of=EVE)
    second = comparable(published_tables(lake_env.published_db))
    for name in first:
        if name != "run_ledger":  # one row per run
            pd.testing.assert_frame_equal(second[name], first[name], obj=name)
    assert len(second["run_ledger"]) == 2
    assert query(lake_env.published_db, "SELECT sum(rows_read) FROM marts.load_report") == [(342,)]


def test_the_next_night_with_nothing_new_on_ducklake_gives_the_embedded_marts(
    kcity_env, tmp_path, monkeypatch, postgres
):
    """The night after, nothing delivered: the published file is re-dated from a copy, the
    latest-only marts rebuilt on DuckLake (re-dated in the embedded file), and the tables
    equal the embedded run's."""
    nights = (EVE, EVE + dt.timedelta(days=1))
    computed, compute = [], warehouse_db._materialize_day
    monkeypatch.setattr(
        warehouse_db, "_materialize_day", lambda con, d, p, **k: computed.append(d) or compute(con, d, p, **k)
    )
    embedded, lake, settings = _embedded_then_lake(
        kcity_env, tmp_path, monkeypatch, postgres, "lake_next", nights
    )
    assert computed.count(nights[1]) == 1  # the night after, the day's layers: on DuckLake only

    with connect(settings.internal_db) as con:  # the second night had the first's inputs
        (first, second), moved = con.execute(
            f"SELECT list(inputs ORDER BY as_of), list(with_latest ORDER BY as_of) FROM ops.snapshots "
            f"WHERE as_of >= DATE '{EVE}'"
        ).fetchone()
    assert first == second and moved == [False, True]
    assert sorted(lake) == sorted(embedded)
    assert query(settings.published_db, "SELECT DISTINCT as_of FROM marts.score_breakdown") == [(nights[1],)]
    for name, frame in embedded.items():
        if name != "run_ledger":  # the runs' own ids and times
            pd.testing.assert_frame_equal(lake[name], frame, check_dtype=True, obj=name)


def test_the_writer_lock_on_ducklake_makes_a_second_writer_wait(lake_env, caplog):
    """The lock is an advisory lock in the catalog database: a second writer (here a second
    connection, as a run on another host would have) waits and says who holds it."""
    held, order = threading.Event(), []

    def first():
        with writer_lock(lake_env.writer, logging.getLogger("first")):
            held.set()
            time.sleep(1.5)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    assert held.wait(30)
    with caplog.at_level(logging.INFO), writer_lock(lake_env.writer, logging.getLogger("second")):
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"]
    waited = [r.getMessage() for r in caplog.records if r.name == "second"]
    assert any("being written by pid" in m for m in waited), waited
    assert any("Writer lock acquired after" in m for m in waited), waited
