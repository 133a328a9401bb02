"""SIGKILL `kcity nightly` at 20+ points spread over reading, loading, building and
publishing: the published file always opens with the previous or the new state, the next
run completes, and the result equals an uninterrupted run."""

import datetime as dt
import os
import shutil
import subprocess
import sys

import duckdb
import pandas as pd
import pytest
from prefect.settings import PREFECT_API_URL

from flows.nightly import nightly
from kcity.sample import write_sample
from tests.integration.helpers import published_tables, query
from warehouse import db

EVE = dt.date(2020, 4, 19)
BEFORE = dt.date(2020, 4, 12)  # the state a crashed run must fall back to (3 feedback files to come)
# (crash point, n-th pass): from BEFORE, the run reads, validates and loads 3 files, builds 7
# days, checks, records, publishes, reports.
POINTS = [
    ("scanned", 1), ("prepared", 1),
    ("read", 1), ("read", 2), ("read", 3),
    ("validated", 1), ("validated", 2), ("validated", 3),
    ("load-before-commit", 1), ("load-before-commit", 2), ("load-before-commit", 3),
    ("load-committed", 1), ("load-committed", 2), ("load-committed", 3),
    ("build-day-inserted", 1), ("build-day-inserted", 4), ("build-committed", 1),
    ("build-latest-mart-committed", 1), ("build-latest-mart-committed", 3), ("build-latest-committed", 1),
    ("checked", 1), ("recorded", 1),
    ("publish-tables-written", 1), ("publish-before-rename", 1), ("publish-renamed", 1), ("reported", 1),
]  # fmt: skip
VOLATILE = {"run_ledger": None, "load_report": ["loaded_at"]}


def comparable(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    out = {}
    for name, frame in tables.items():
        if name in VOLATILE and VOLATILE[name] is None:
            continue
        out[name] = frame.drop(columns=VOLATILE.get(name) or []).reset_index(drop=True)
    return out


def _nightly_in(data, as_of: dt.date) -> None:
    old = os.environ.get("KCITY_DATA_DIR")
    os.environ["KCITY_DATA_DIR"] = str(data)
    try:
        nightly(as_of=as_of)
    finally:
        os.environ.pop("KCITY_DATA_DIR") if old is None else os.environ.__setitem__("KCITY_DATA_DIR", old)


def _crash(data, as_of: dt.date, point: str, nth: int, **settings: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCITY_")} | settings
    env |= {"KCITY_DATA_DIR": str(data), "KCITY_CRASH_AT": f"{point}:{nth}", "KCITY_PREFECT_PORT": "1",
            "PREFECT_API_URL": PREFECT_API_URL.value()}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "kcity.cli", "nightly", "--date", str(as_of)], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == -9, f"did not die at {point}:{nth}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"


def _copy_data(start, data) -> None:
    """A copy of a data folder, its published file recorded at the copy's path (the warehouse
    records where it published): the next run may copy that file, as it would in place."""
    shutil.copytree(start, data, symlinks=True)
    with duckdb.connect(str(data / "internal" / "warehouse.duckdb")) as con:
        con.execute("UPDATE ops.publications SET path = ?", [str(data / "kcity.duckdb")])


def _assert_converged(data, expected: dict[str, pd.DataFrame]) -> None:
    """The published tables are those of the uninterrupted run; no temporary file is left."""
    got = comparable(published_tables(data / "kcity.duckdb"))
    assert got.keys() == expected.keys()
    for name in expected:
        pd.testing.assert_frame_equal(got[name], expected[name], obj=name)
    assert [p.name for p in data.iterdir() if ".tmp-" in p.name] == []


def _start_and_expected(base, start: dt.date, end: dt.date) -> tuple:
    """A data folder after the night of `start` (to crash from), and the tables published
    by an uninterrupted run of `end` after it."""
    first, reference = base / "start", base / "reference"
    for data in (first, reference):
        write_sample(data / "inbox")
        _nightly_in(data, start)
    _nightly_in(reference, end)
    return first, comparable(published_tables(reference / "kcity.duckdb"))


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """A warehouse as of BEFORE (to crash from), and the uninterrupted result as of EVE."""
    return _start_and_expected(tmp_path_factory.mktemp("crash"), BEFORE, EVE)


def test_there_are_twenty_or_more_points():
    assert len(POINTS) >= 20
    stages = {p.split("-")[0] for p, _ in POINTS}
    assert {"read", "load", "build", "publish"} <= stages


@pytest.mark.parametrize(("point", "nth"), POINTS, ids=[f"{p}:{n}" for p, n in POINTS])
def test_killed_run_leaves_old_or_new_state_and_the_next_run_converges(states, tmp_path, point, nth):
    start, expected = states
    data = tmp_path / "data"
    _copy_data(start, data)
    before = query(data / "kcity.duckdb", "SELECT as_of, n_requests, n_reviews FROM marts.headline")
    _crash(data, EVE, point, nth)
    after_crash = query(data / "kcity.duckdb", "SELECT as_of, n_requests, n_reviews FROM marts.headline")
    new = [tuple(expected["headline"][["as_of", "n_requests", "n_reviews"]].iloc[0])]
    new = [(pd.Timestamp(new[0][0]).date(), *new[0][1:])]
    assert after_crash in (before, new), after_crash  # never a mix: one or the other, whole
    reviews = query(data / "kcity.duckdb", "SELECT sum(n_reviews) FROM marts.country_summary")
    assert reviews == [(after_crash[0][2],)]
    _nightly_in(data, EVE)
    _assert_converged(data, expected)


NEXT = EVE + dt.timedelta(days=1)  # nothing delivered since EVE: the marts and the file are re-dated
NEXT_POINTS = [("build-committed", 1), ("publish-tables-written", 1), ("publish-before-rename", 1),
               ("publish-renamed", 1)]  # fmt: skip


@pytest.fixture(scope="module")
def next_states(tmp_path_factory):
    """A warehouse as of EVE, and the uninterrupted result of the night after (re-dated)."""
    return _start_and_expected(tmp_path_factory.mktemp("crash-next"), EVE, NEXT)


@pytest.mark.parametrize(("point", "nth"), NEXT_POINTS, ids=[f"{p}:{n}" for p, n in NEXT_POINTS])
def test_a_night_killed_while_re_dating_leaves_old_or_new_state_and_the_next_run_converges(
    next_states, tmp_path, monkeypatch, point, nth
):
    start, expected = next_states
    data = tmp_path / "data"
    _copy_data(start, data)
    _crash(data, NEXT, point, nth)
    dates = {
        t: query(data / "kcity.duckdb", f"SELECT DISTINCT as_of FROM marts.{t}")
        for t in ("headline", "submissions", "score_breakdown", "reviews_waiting")
    }
    assert list(dates.values()) in ([[(EVE,)]] * 4, [[(NEXT,)]] * 4), dates  # one date, never a mix
    copies = []
    monkeypatch.setattr(
        db.shutil, "copyfile", lambda a, b, _real=db.shutil.copyfile: copies.append(a) or _real(a, b)
    )
    _nightly_in(data, NEXT)
    # The file the killed run left in place is re-dated from a copy; one it renamed into place
    # without recording it is written whole.
    assert copies == ([] if point == "publish-renamed" else [data / "kcity.duckdb"]), copies
    _assert_converged(data, expected)


# From BEFORE, patching (every request may be patched): the night's deliveries only add
# loads, so submissions and score_breakdown are patched, in the warehouse and in a copy of
# the published file. The uninterrupted reference builds them whole.
PATCH_POINTS = [("build-day-inserted", 1), ("build-committed", 1), ("build-latest-mart-committed", 1),
                ("build-latest-committed", 1),
                ("publish-tables-written", 1), ("publish-before-rename", 1), ("publish-renamed", 1)]  # fmt: skip


@pytest.mark.parametrize(("point", "nth"), PATCH_POINTS, ids=[f"{p}:{n}" for p, n in PATCH_POINTS])
def test_a_night_killed_while_patching_leaves_old_or_new_state_and_the_next_run_converges(
    states, tmp_path, monkeypatch, point, nth
):
    start, expected = states
    data = tmp_path / "data"
    _copy_data(start, data)
    _crash(data, EVE, point, nth, KCITY_PATCH_SHARE="1")
    if point == "build-latest-committed":  # the killed run did patch
        patched = query(
            data / "internal" / "warehouse.duckdb", "SELECT patched FROM ops.snapshots WHERE with_latest"
        )
        assert patched[0][0] > 0, patched
    dates = {t: query(data / "kcity.duckdb", f"SELECT DISTINCT as_of FROM marts.{t}") for t in ("headline", "submissions", "score_breakdown")}  # fmt: skip
    assert list(dates.values()) in ([[(BEFORE,)]] * 3, [[(EVE,)]] * 3), dates  # one date, never a mix
    monkeypatch.setattr(db, "PATCH_SHARE", 1.0)
    layers, compute = [], db._materialize_day
    monkeypatch.setattr(db, "_materialize_day", lambda *a, **k: layers.append(k) or compute(*a, **k))
    _nightly_in(data, EVE)
    if point == "build-day-inserted":  # rolled back: the next run patched the tables and the kept layers
        patched = query(
            data / "internal" / "warehouse.duckdb",
            "SELECT patched FROM ops.snapshots JOIN state.day_layers USING (inputs) WHERE with_latest",
        )
        assert patched[0][0] > 0 and any(k.get("patch") for k in layers), (patched, layers)
    if point in ("publish-tables-written", "publish-before-rename"):  # the old file still in place:
        # the next run patched a copy of it again (after the rename it is not the file recorded)
        published = query(
            data / "internal" / "warehouse.duckdb",
            "SELECT max_by(patched, published_at) FROM ops.publications",
        )
        assert published[0][0] > 0, published
    _assert_converged(data, expected)
