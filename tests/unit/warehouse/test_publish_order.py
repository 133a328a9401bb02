"""marts.score_breakdown is published in (submission_id, ministry, criterion) order without
being sorted when published: the build writes it in that order (the day's reviews are stored
sorted, each review's ratings follow in criterion order) and the publish copies it in
insertion order. Enough rows for DuckDB to scan and insert in parallel (more than one row
group of 122,880), delivered in shuffled order, so nothing but the build's order sorts them."""

import datetime as dt
import random

import duckdb
import pytest

from tests.unit.warehouse.conftest import DEFAULTS, review, submission
from warehouse import db

REQUESTS = 42_000  # x 3 ministries: more reviews than a row group too; ~315k ratings
MINISTRIES = ("MOFA", "moef", "KOTRA")  # a lower-case name sorts after the upper-case ones


def _out_of_order(path, table: str) -> int:
    """Rows that sort before the row stored just before them."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            f"""
            SELECT count(*) FROM (
                SELECT submission_id AS s, ministry AS m, criterion AS c,
                    lag(submission_id) OVER w AS ps, lag(ministry) OVER w AS pm, lag(criterion) OVER w AS pc
                FROM {table} WINDOW w AS (ORDER BY rowid)
            ) WHERE ps > s OR (ps = s AND (pm > m OR (pm = m AND pc > c)))
            """
        ).fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("scoring", [{}, {"trim_reviews": True}], ids=["default", "trimmed"])
def test_score_breakdown_is_published_in_request_ministry_criterion_order(given, tmp_path, scoring):
    rng = random.Random(7)
    ids = [f"S{i}" for i in range(REQUESTS)]
    rng.shuffle(ids)
    given.file("s", "submissions", "2020-02-01", "s.csv", [submission(sid) for sid in ids])
    reviews = [
        # a rating left out now and then: the missing ones are not rows
        review(sid, m, *(rng.choice([None, 1, 2, 3, 4, 5]) for _ in range(3)))
        for sid in ids
        for m in MINISTRIES
    ]
    rng.shuffle(reviews)
    half = len(reviews) // 2
    given.file("f1", "feedback", "2020-04-01", "MOFA_a.csv", reviews[:half])
    given.file("f2", "feedback", "2020-04-02", "MOEF_b.csv", reviews[half:])
    day = dt.date(2020, 4, 5)
    db.build_snapshot(given.path, day, {**DEFAULTS, **scoring})
    out = tmp_path / "kcity.duckdb"
    db.publish(given.path, out)

    rated = sum(r[c] is not None for r in reviews for c in ("cooperation", "prospects", "business"))
    con = duckdb.connect(str(out), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM marts.score_breakdown").fetchone()[0] == rated > 122_880
    finally:
        con.close()
    assert _out_of_order(given.path, "hist.score_breakdown") == 0
    assert _out_of_order(out, "marts.score_breakdown") == 0
    # The next day, nothing delivered: re-dated in place, still in order.
    db.build_snapshot(given.path, day + dt.timedelta(days=1), {**DEFAULTS, **scoring})
    db.publish(given.path, out)
    assert _out_of_order(given.path, "hist.score_breakdown") == 0
    assert _out_of_order(out, "marts.score_breakdown") == 0


def test_insertion_order_is_set_for_its_statements_only_and_a_failure_inside_is_the_error_raised(tmp_path):
    with db.connect(tmp_path / "w.duckdb") as con:

        def kept() -> bool:
            return con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]

        assert not kept()
        with db.insertion_order(con):
            assert kept()
        assert not kept()
        con.execute("CREATE TABLE t (a INTEGER PRIMARY KEY)")
        con.execute("BEGIN TRANSACTION")
        # The failed insert aborts the transaction, which then refuses resetting the setting:
        # the insert's own error is raised, not the aborted transaction's.
        with pytest.raises(duckdb.ConstraintException), db.insertion_order(con):
            con.execute("INSERT INTO t VALUES (1), (1)")
        con.execute("ROLLBACK")
