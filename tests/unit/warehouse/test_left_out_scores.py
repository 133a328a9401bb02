"""The scores with one ministry left out, computed in one pass under plain means
(`compute_left_out_scores`), must be, row for row, the scores computed with that ministry's
reviews left out (`compute_request_scores(..., exclude_ministry)`), for every request the
ministry reviewed: any ratings (criteria not rated, reviews rating nothing, a request's only
review), any weights."""

import datetime as dt
import itertools

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.warehouse.conftest import Given, review, submission
from warehouse import db

DAY = dt.date(2020, 2, 3)
MINISTRIES = ("MOFA", "MOEF", "KOTRA", "KOICA", "KIND")
rating = st.one_of(st.none(), st.integers(1, 5))
# Per request: the ministries reviewing it, each with its three ratings.
reviews_of_a_request = st.dictionaries(
    st.sampled_from(MINISTRIES), st.tuples(rating, rating, rating), max_size=5
)
weight = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    requests=st.lists(reviews_of_a_request, min_size=1, max_size=6), weights=st.tuples(weight, weight, weight)
)
def test_one_pass_left_out_scores_equal_the_scores_computed_without_each_ministry(
    tmp_path_factory, requests, weights
):
    g = Given(tmp_path_factory.mktemp("loo") / "w.duckdb")
    g.file("s", "submissions", str(DAY), "s.csv",
           [submission(f"S{i}", row=i + 2) for i in range(len(requests))])  # fmt: skip
    rows = [
        review(f"S{i}", ministry, *ratings, row=n + 2)
        for n, (i, ministry, ratings) in enumerate(
            (i, m, r) for i, request in enumerate(requests) for m, r in sorted(request.items())
        )
    ]
    if rows:
        g.file("f", "feedback", str(DAY), "MOFA_f.csv", rows)
    day = db.sql_literal(DAY)
    w = ", ".join(map(db.sql_literal, weights))
    with duckdb.connect(str(g.path), read_only=True) as con:
        one_pass = con.execute(
            f"SELECT left_out, submission_id, {', '.join(db.SCORE_COLUMNS)} "
            f"FROM compute_left_out_scores({day}, {w})"
        ).fetchall()
        each = list(
            itertools.chain.from_iterable(
                con.execute(
                    f"""
                    SELECT {db.sql_literal(m.lower())}, submission_id, {", ".join(db.SCORE_COLUMNS)}
                    FROM compute_request_scores({day}, {w}, false, false, {db.sql_literal(m.lower())})
                    WHERE submission_id IN (
                        SELECT submission_id FROM reviews_as_of({day}) WHERE ministry_key = {db.sql_literal(m.lower())})
                    """
                ).fetchall()
                for m in MINISTRIES
            )
        )
    assert len(one_pass) == sum(len(r) for r in requests)  # one row per review

    def key(row: tuple) -> tuple:
        return tuple((v is None, v) for v in row)

    assert sorted(one_pass, key=key) == sorted(each, key=key)
