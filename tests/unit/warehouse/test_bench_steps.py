"""`make bench-steps` (bench/steps.py) rebuilds a warehouse's newest snapshot statement by
statement and says whether every mart came out as the warehouse had it."""

import datetime as dt

import duckdb

from bench import steps
from tests.unit.warehouse.conftest import DEFAULTS, review, submission
from warehouse import db


def test_steps_time_the_rebuild_and_find_a_mart_that_differs(given, capsys):
    given.file("s", "submissions", "2020-02-01", "s.csv", [submission("S1"), submission("S2", "PER")])
    given.file(
        "f",
        "feedback",
        "2020-04-01",
        "MOFA_a.csv",
        [review("S1", "MOFA", 4, 5, 3), review("S2", "KOTRA", 2, 2, 2)],
    )
    db.build_snapshot(given.path, dt.date(2020, 4, 5), DEFAULTS)
    connect = db.connect

    assert steps.run(given.path, min_seconds=0.0) == 0
    out = capsys.readouterr().out
    assert "snapshot as of 2020-04-05" in out and "publish as of 2020-04-05" in out
    assert "CREATE TABLE hist.score_breakdown AS ..." in out  # each statement, timed
    assert "Every mart as of 2020-04-05 is the same" in out
    assert db.connect is connect  # the timing wrapper is put back

    with duckdb.connect(str(given.path)) as con:  # as if an older build had scored PER otherwise
        con.execute("UPDATE hist.country_summary SET score = score + 1 WHERE country_iso3 = 'PER'")
    assert steps.run(given.path, min_seconds=0.0) == 1
    out = capsys.readouterr().out
    assert "DIFFERENT country_summary: 1 row(s) only in the rebuild, 1 only in" in out
    assert "DIFFERENT" not in out.replace("DIFFERENT country_summary", "")
