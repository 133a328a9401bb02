"""Each mart's SQL on given staging rows yields the expected rows (CONTRACT 5 rules)."""

import datetime as dt

import pandas as pd

from tests.unit.warehouse.conftest import DEFAULTS, review, submission
from warehouse import db


def records(frame, *cols):
    return [tuple(None if pd.isna(v) else v for v in r) for r in frame[list(cols)].itertuples(index=False)]


def test_latest_version_wins_by_delivery_then_file_name_then_row(given):
    given.file("a", "submissions", "2020-02-01", "a.csv", [submission("S1", "IDN"), submission("S2", "PER")])
    given.file("b", "submissions", "2020-02-03", "a.csv", [submission("S1", "VNM")])
    given.file(
        "c",
        "submissions",
        "2020-02-03",
        "b.csv",
        [submission("S1", "LAO", row=2), submission("S1", "THA", row=3)],
    )
    # the same id twice in one file only happens across files, but row order still breaks ties
    subs = given.mart("submissions", "2020-02-05", order="submission_id")
    assert records(subs, "submission_id", "country_iso3") == [("S1", "THA"), ("S2", "PER")]
    assert records(given.mart("submissions", "2020-02-02", order="submission_id"), "submission_id", "country_iso3") == [
        ("S1", "IDN"), ("S2", "PER"),
    ]  # fmt: skip


def test_withdrawn_requests_are_not_counted_and_deliveries_after_as_of_are_ignored(given):
    given.file("a", "submissions", "2020-02-01", "a.csv", [submission("S1"), submission("S2", "PER")])
    given.file("b", "submissions", "2020-02-05", "b.csv", [submission("S2", "PER", status="withdrawn")])
    assert records(given.mart("headline", "2020-02-04"), "n_countries", "n_requests") == [(2, 2)]
    assert records(given.mart("headline", "2020-02-05"), "n_countries", "n_requests") == [(1, 1)]


def test_summaries_by_track_category_and_office_list_every_row_of_the_contract(given):
    given.file("a", "submissions", "2020-02-01", "a.csv", [
        submission("S1", "IDN", "urban_development", "station_area"),
        submission("S2", "IDN", "urban_development", "new_city"),
        submission("S3", "PER", "urban_development", "airport_relocation"),
        submission("S4", "KEN", "smart_solution", "ai_transport"),
    ])  # fmt: skip
    tracks = given.mart("track_summary", "2020-02-01", order="track")
    assert records(tracks, "track", "n_requests", "n_countries") == [
        ("other", 0, 0), ("smart_solution", 1, 1), ("urban_development", 3, 2),
    ]  # fmt: skip
    cats = given.mart("category_summary", "2020-02-01")
    assert len(cats) == 15
    assert records(cats[cats.category == "new_city"], "n_requests", "n_countries") == [(1, 1)]
    routing = given.mart("office_routing", "2020-02-01").groupby("office")["n_requests"].sum().to_dict()
    assert routing == {"railway": 1, "airport": 1, "road": 1, "urban_policy": 1, "pan_government": 0}


def test_reviews_latest_per_ministry_case_insensitive_and_scores(given):
    given.file(
        "s",
        "submissions",
        "2020-02-01",
        "s.csv",
        [submission("S1"), submission("S2"), submission("S3", "PER")],
    )
    given.file("f1", "feedback", "2020-04-01", "MOFA_a.csv", [
        review("S1", "MOFA", 2, 2, 2, "2020-04-01"),
        review("S1", "MOEF", 4, None, 5),
        review("S2", "MOFA", 3, 4, None),
    ])  # fmt: skip
    # a later review by the same ministry (other case) replaces the first; an earlier one does not
    given.file("f2", "feedback", "2020-04-03", "mofa_b.csv", [
        review("S1", "mofa", 5, 4, 3, "2020-04-02"),
        review("S2", "mofa", 1, 1, 1, "2020-03-30"),
    ])  # fmt: skip
    subs = given.mart("submissions", "2020-04-05", order="submission_id")
    assert records(
        subs, "submission_id", "n_reviews", "avg_cooperation", "avg_prospects", "avg_business", "score"
    ) == [
        ("S1", 2, 4.5, 4.0, 4.0, 4.1667),  # (4.5 + 4 + 4) / 3
        ("S2", 1, 3.0, 4.0, None, 3.5),  # not rated left out
        ("S3", 0, None, None, None, None),
    ]


def test_weights_are_a_parameter(given):
    given.file("s", "submissions", "2020-02-01", "s.csv", [submission("S1")])
    given.file("f", "feedback", "2020-04-01", "M_a.csv", [review("S1", "M", 5, 2, None)])
    subs = given.mart("submissions", "2020-04-01", w_cooperation=3.0, w_prospects=1.0, w_business=10.0)
    assert subs["score"].tolist() == [4.25]  # (3*5 + 1*2) / (3+1); business not rated


def test_a_country_code_without_a_name_is_still_counted(given):
    given.file("s", "submissions", "2020-02-01", "s.csv", [submission("X1", "XKX")])  # not in ISO 3166-1
    assert records(
        given.mart("country_summary", "2020-02-01"), "country_iso3", "country_name", "n_requests"
    ) == [
        ("XKX", None, 1),
    ]


def test_country_summary_ranking_with_real_codes(given):
    given.file("s", "submissions", "2020-02-01", "s.csv", [
        submission("A1", "IDN"), submission("A2", "IDN", "smart_solution", "waste"),
        submission("B1", "PER"), submission("C1", "VNM"), submission("D1", "LAO"), submission("E1", "KEN"),
    ])  # fmt: skip
    given.file("f", "feedback", "2020-04-01", "M_a.csv", [
        review("A1", "M", 4, 4, 4), review("A2", "M", 2, 3, None),
        review("B1", "M", 3, 3, 3), review("B1", "N", 3, 3, 4),
        review("C1", "M", 3, 3, 3), review("C1", "N", 3, 3, 4),
        review("D1", "M", 5, None, None),
    ])  # fmt: skip
    c = given.mart("country_summary", "2020-04-01", order="rank NULLS LAST, country_iso3", shortlist_size=3)
    assert records(c, "country_iso3", "n_requests", "n_urban_development", "n_smart_solution", "n_reviews",
                   "avg_cooperation", "avg_prospects", "avg_business", "score", "rank", "shortlisted") == [
        ("LAO", 1, 1, 0, 1, 5.0, None, None, 5.0, 1, True),
        ("IDN", 2, 1, 1, 2, 3.0, 3.5, 4.0, 3.25, 2, True),  # request scores 4 and 2.5
        ("PER", 1, 1, 0, 2, 3.0, 3.0, 3.5, 3.1667, 3, True),  # ties VNM on score and reviews
        ("VNM", 1, 1, 0, 2, 3.0, 3.0, 3.5, 3.1667, 4, False),
        ("KEN", 1, 1, 0, 0, None, None, None, None, None, False),
    ]  # fmt: skip


def test_feedback_before_its_submission_waits_then_counts(given):
    given.file("f", "feedback", "2020-02-01", "M_a.csv", [review("S1", "M", 4, 4, 4, "2020-02-01")])
    head = given.mart("headline", "2020-02-02")
    assert records(head, "n_requests", "n_reviews", "n_reviews_waiting") == [(0, 0, 1)]
    given.file("s", "submissions", "2020-02-03", "s.csv", [submission("S1")])
    head = given.mart("headline", "2020-02-03")
    assert records(head, "n_requests", "n_reviews", "n_reviews_waiting") == [(1, 1, 0)]
    assert given.mart("submissions", "2020-02-03")["score"].tolist() == [4.0]


def test_history_tables_take_new_mart_columns(given):
    given.file("a", "submissions", "2020-02-01", "a.csv", [submission("S1")])
    given.mart("headline", "2020-02-01")
    from warehouse import db

    with db.connect(given.path) as con:
        con.execute("ALTER TABLE hist.headline DROP COLUMN n_shortlisted")  # as an older release built it
        con.execute("UPDATE ops.snapshots SET inputs = 'built by an older release'")  # its mart code differed
    assert records(given.mart("headline", "2020-02-02"), "n_requests", "n_shortlisted") == [(1, 0)]


def five_reviews(sid: str) -> list[dict]:
    return [review(sid, m, c, 3, None) for m, c in (("A", 1), ("B", 4), ("C", 4), ("D", 5), ("E", 4))]


def test_trimmed_mean_drops_highest_and_lowest_with_five_or_more_reviews(given):
    given.file("s", "submissions", "2020-02-01", "s.csv", [submission("S1"), submission("S2", "PER")])
    given.file("f", "feedback", "2020-04-01", "A_x.csv", five_reviews("S1") + five_reviews("S2")[:4])
    plain = given.mart("submissions", "2020-04-01", order="submission_id")
    trimmed = given.mart("submissions", "2020-04-01", order="submission_id", trim_reviews=True)
    assert plain["avg_cooperation"].tolist() == [3.6, 3.5]  # (1+4+4+5+4)/5 ; (1+4+4+5)/4
    assert trimmed["avg_cooperation"].tolist() == [4.0, 3.5]  # drops 1 and 5 ; fewer than 5: kept
    assert trimmed["avg_prospects"].tolist() == [3.0, 3.0]


def test_trimmed_means_from_the_reviews_equal_the_trimmed_means_through_every_rating(given):
    # The window path (ratings_as_of flags one lowest and one highest rating per criterion with
    # five or more) is what score_breakdown shows; the scores' (sum - min - max) / (n - 2) from
    # the reviews must give the same figures: ties, gaps, exactly five, left-out ministries.
    ministries = ["MOFA", "MOEF", "KOTRA", "KOICA", "KIND", "KOICA2"]
    rows = {
        "S1": [(5, 5, 1), (5, 4, 1), (1, 4, 2), (1, None, 3), (3, 2, 3), (4, 1, None)],  # ties at both ends
        "S2": [(2, 3, 4), (3, 3, 4), (4, 3, 4), (5, 3, 4), (1, 3, 4)],  # exactly five
        "S3": [(2, 5, 1), (3, None, None), (4, 1, 1), (None, 2, 5), (5, 3, None), (1, 4, 2)],  # gaps
        "S4": [(1, 2, 3), (4, 5, 1)],  # fewer than five: plain means
        "S5": [(None, None, None), (2, 2, 2), (3, 3, 3), (3, 4, 3), (5, 1, 5), (4, 4, 4)],
    }
    given.file("s", "submissions", "2020-02-01", "s.csv", [submission(sid) for sid in [*rows, "S6"]])
    reviews = [review(sid, m, *r) for sid, rs in rows.items() for m, r in zip(ministries, rs, strict=False)]
    given.file("f", "feedback", "2020-04-01", "MOFA_t.csv", reviews)
    d = dt.date(2020, 4, 5)
    with db.connect(given.path) as con:
        trimmed_somewhere = con.execute(
            "SELECT count(DISTINCT submission_id) FROM ratings_as_of($d, true, false, NULL) WHERE trimmed",
            {"d": d},
        ).fetchone()[0]
        assert trimmed_somewhere == 4  # S1, S2, S3, S5: the comparison covers real trimming
        for excl in (None, "mofa", "koica", "kind"):
            fast, through = both_paths(con, d, "true, false", excl)
            assert fast == through, excl
            assert len(fast) == 6
        s1 = con.execute(
            "SELECT avg_cooperation, avg_prospects, avg_business "
            "FROM compute_request_scores($d, 1.0, 1.0, 2.0, true, false, NULL) WHERE submission_id = 'S1'",
            {"d": d},
        ).fetchone()
    assert s1 == (3.25, 3.3333, 2.0)  # one 5 and one 1 left out: (5+1+3+4)/4 ; (4+4+2)/3 ; (1+2+3)/3


def test_ministry_normalisation_evens_out_a_harsh_reviewer(given):
    given.file("s", "submissions", "2020-02-01", "s.csv", [submission("S1"), submission("S2", "PER")])
    # ministry H rates everything 2 points lower than L; normalised, the two requests tie
    given.file("f", "feedback", "2020-04-01", "H_x.csv", [
        review("S1", "L", 5, None, None), review("S1", "H", 2, None, None),
        review("S2", "L", 3, None, None), review("S2", "H", 1, None, None),
        review("S2", "L2", 4, None, None), review("S1", "H2", 4, None, None),
    ])  # fmt: skip
    raw = given.mart("submissions", "2020-04-01", order="submission_id")
    norm = given.mart("submissions", "2020-04-01", order="submission_id", normalize_ministries=True)
    assert raw["score"].tolist() == [3.6667, 2.6667]
    assert norm["score"].iloc[0] > norm["score"].iloc[1]  # S1 still ahead: L and H both rank it first
    overall = (5 + 2 + 3 + 1 + 4 + 4) / 6
    assert abs(norm["score"].mean() - overall) < 0.3  # stays on the 1-5 scale, near the overall mean


def test_score_breakdown_reproduces_every_score(given):
    given.file(
        "s",
        "submissions",
        "2020-02-01",
        "s.csv",
        [submission("S1"), submission("S2", "PER"), submission("S3")],
    )
    given.file("f", "feedback", "2020-04-01", "M_x.csv", [
        review("S1", "M", 4, 5, None), review("S1", "N", 2, None, 3),
        review("S2", "M", 3, 3, 3), review("S3", "N", 5, 4, 1),
    ])  # fmt: skip
    parts = given.mart("score_breakdown", "2020-04-01", w_business=2.0)
    countries = given.mart("country_summary", "2020-04-01", w_business=2.0).set_index("country_iso3")
    used = parts[~parts["trimmed"]]
    crit = used.groupby(["country_iso3", "submission_id", "criterion"]).agg(
        v=("value_used", "mean"), w=("weight", "first")
    )
    crit["v"] = crit["v"].round(4)
    req = crit.groupby(["country_iso3", "submission_id"]).apply(
        lambda g: round((g.v * g.w).sum() / g.w.sum(), 4)
    )
    country = req.groupby("country_iso3").mean().round(4)
    assert country.to_dict() == countries["score"].dropna().to_dict()


def test_ranking_variants_and_rank_stability(given):
    given.file(
        "s",
        "submissions",
        "2020-02-01",
        "s.csv",
        [submission("S1"), submission("S2", "PER"), submission("S3", "LAO")],
    )
    given.file("f", "feedback", "2020-04-01", "M_x.csv", [
        review("S1", "M", 5, 5, 5), review("S2", "M", 4, 4, 4), review("S2", "N", 4, 4, 4),
        review("S3", "N", 5, 5, 5),
    ])  # fmt: skip
    variants = given.mart("ranking_variants", "2020-04-01", shortlist_size=2)
    assert sorted(set(variants["method"])) == ["contract_default", "ministry_normalized", "trimmed_mean"]
    assert variants.groupby("method").size().tolist() == [3, 3, 3]
    assert variants.loc[variants["used_for_summary"], "method"].unique().tolist() == ["contract_default"]
    stab = given.mart(
        "rank_stability", "2020-04-01", order="ministry_left_out, country_iso3", shortlist_size=2
    )
    # IDN and LAO tie on 5.0 (one review each; IDN first on iso3) and are shortlisted; without
    # M, IDN has no score and PER falls to... PER keeps N's 4.0: LAO 1st, PER 2nd
    assert records(stab, "ministry_left_out", "country_iso3", "rank", "rank_without", "still_shortlisted") == [
        ("M", "IDN", 1, None, False), ("M", "LAO", 2, 1, True),
        ("N", "IDN", 1, 1, True), ("N", "LAO", 2, None, False),
    ]  # fmt: skip


# The per-request means as the long path computes them (one row per rating, then grouped), for
# ratings_as_of's {flags} (trim, normalize): the fast paths of compute_request_scores must give
# exactly these figures.
THROUGH_RATINGS = """
SELECT
    q.submission_id,
    coalesce(p.n_reviews, 0) AS n_reviews, p.avg_cooperation, p.avg_prospects, p.avg_business
FROM requests_as_of($d) AS q
LEFT JOIN (
    SELECT
        submission_id,
        count(DISTINCT ministry_key) AS n_reviews,
        round(avg(value) FILTER (WHERE criterion = 'cooperation' AND NOT trimmed), 4) AS avg_cooperation,
        round(avg(value) FILTER (WHERE criterion = 'prospects' AND NOT trimmed), 4) AS avg_prospects,
        round(avg(value) FILTER (WHERE criterion = 'business' AND NOT trimmed), 4) AS avg_business
    FROM ratings_as_of($d, {flags}, $excl)
    GROUP BY submission_id
) AS p USING (submission_id)
ORDER BY submission_id
"""


def both_paths(con, d: dt.date, flags: str, excl: str | None) -> tuple[list, list]:
    """The per-request means of compute_request_scores (straight from the reviews) and the same
    means through ratings_as_of's one row per rating, for `flags` ("trim, normalize")."""
    fast = con.execute(
        "SELECT submission_id, n_reviews, avg_cooperation, avg_prospects, avg_business "
        f"FROM compute_request_scores($d, 1.0, 1.0, 2.0, {flags}, $excl) ORDER BY submission_id",
        {"d": d, "excl": excl},
    ).fetchall()
    return fast, con.execute(THROUGH_RATINGS.format(flags=flags), {"d": d, "excl": excl}).fetchall()


def test_plain_means_from_the_reviews_equal_the_means_through_every_rating(given):
    given.file("s", "submissions", "2020-02-01", "s.csv", [submission(f"S{i}") for i in range(1, 6)])
    given.file("f1", "feedback", "2020-04-01", "MOFA_a.csv", [
        review("S1", "MOFA", 2, 2, 2), review("S1", "MOEF", 4, None, 5), review("S1", "KOTRA", 3, 5, 1),
        review("S2", "MOFA", 3, 4, None), review("S2", "KOTRA", None, None, 4),
        review("S3", "MOEF", 1, 5, 3),  # only MOEF: nothing left when MOEF is left out
        review("S4", "MOFA", None, None, None),  # no rating at all: not a review that counts
        # means of thirds (11/3, 5/3): a path rounding to fewer than 4 places differs
        review("S5", "MOFA", 5, 2, None), review("S5", "MOEF", 4, 1, 1), review("S5", "KOTRA", 2, 2, 5),
    ])  # fmt: skip
    given.file("f2", "feedback", "2020-04-03", "mofa_b.csv", [review("S1", "mofa", 5, 4, 3, "2020-04-02")])
    d = dt.date(2020, 4, 5)
    with db.connect(given.path) as con:
        means = {}
        for excl in (None, "moef", "mofa", "kotra"):
            fast, through = both_paths(con, d, "false, false", excl)
            assert fast == through
            assert len(fast) == 5
            means[excl] = fast
        s1, s2, s3, s4, s5 = con.execute(
            "SELECT submission_id, n_reviews, avg_cooperation, score "
            "FROM compute_request_scores($d, 1.0, 1.0, 2.0, false, false, 'moef') ORDER BY submission_id",
            {"d": d},
        ).fetchall()
    assert s1[:3] == ("S1", 2, 4.0) and s3 == ("S3", 0, None, None) and s4 == ("S4", 0, None, None)
    assert s5[:3] == ("S5", 2, 3.5)
    assert means[None][4] == ("S5", 3, 3.6667, 1.6667, 3.0)  # every ministry: means of thirds


def test_normalised_means_from_the_reviews_equal_the_means_through_every_rating(given):
    # compute_request_scores maps each review's ratings with normalized_rating straight from
    # the reviews (no unpivot); ratings_as_of's one-row-per-rating values must give the same
    # figures: a lenient and a harsh ministry, one with a single rating of a criterion (no
    # spread: the overall mean), one that always gives the same rating, missing ratings, a
    # review without any rating, and each ministry left out in turn.
    given.file("s", "submissions", "2020-02-01", "s.csv", [submission(f"S{i}") for i in range(1, 7)])
    given.file("f1", "feedback", "2020-04-01", "MOFA_a.csv", [
        review("S1", "MOFA", 5, 4, 5), review("S2", "MOFA", 4, 5, None), review("S3", "MOFA", 5, 5, 4),
        review("S1", "MOEF", 2, 1, 2), review("S2", "MOEF", 1, None, 1), review("S4", "MOEF", 3, 2, 1),
        review("S1", "KOTRA", 3, None, None),  # KOTRA's only cooperation rating: no spread
        review("S2", "KIND", 4, 4, 4), review("S3", "KIND", 4, 4, 4), review("S5", "KIND", 4, 4, 4),
        review("S5", "KOICA", None, None, None),  # no rating at all: not a review that counts
    ])  # fmt: skip
    given.file("f2", "feedback", "2020-04-03", "moef_b.csv", [review("S4", "moef", 5, 3, 2, "2020-04-02")])
    d = dt.date(2020, 4, 5)
    with db.connect(given.path) as con:
        moved = con.execute(
            "SELECT count(*) FROM ratings_as_of($d, false, true, NULL) WHERE value <> rating", {"d": d}
        ).fetchone()[0]
        assert moved > 10  # the comparison covers real normalisation
        for excl in (None, "mofa", "moef", "kotra", "kind"):
            fast, through = both_paths(con, d, "false, true", excl)
            assert fast == through, excl
            assert len(fast) == 6
        s5, s6 = con.execute(
            "SELECT n_reviews, avg_cooperation FROM compute_request_scores($d, 1.0, 1.0, 2.0, false, true, NULL) "
            "WHERE submission_id IN ('S5', 'S6') ORDER BY submission_id",
            {"d": d},
        ).fetchall()
    assert s5[0] == 1 and s6 == (0, None)  # KOICA's empty review does not count; S6 has none


def test_the_days_tables_serve_the_layers_the_stored_macros_compute(given):
    # While a day's marts are built, its requests, reviews and scores come from two temp
    # tables (one copy of each row: the requests are the scored table without its scores,
    # the counted reviews a flag on all of them). They must serve what the stored macros
    # compute: withdrawn and later-delivered requests, feedback waiting for its submission,
    # a review delivered twice, a review without ratings.
    given.file("a", "submissions", "2020-02-01", "a.csv", [submission(f"S{i}") for i in range(1, 5)])
    given.file("b", "submissions", "2020-02-03", "b.csv", [submission("S3", "PER", status="withdrawn")])
    given.file("c", "submissions", "2020-04-09", "c.csv", [submission("S5", "LAO")])  # after the day
    given.file("f", "feedback", "2020-04-01", "MOFA_a.csv", [
        review("S1", "MOFA", 5, 4, 3), review("S1", "KOTRA", 2, None, 1), review("S2", "MOFA", 4, 4, 4),
        review("S3", "MOFA", 1, 1, 1),  # withdrawn: not counted
        review("S9", "MOFA", 3, 3, 3),  # no submission yet: waiting
        review("S5", "KOTRA", 5, 5, 5),  # its submission comes after the day: waiting
        review("S4", "KIND", None, None, None),
    ])  # fmt: skip
    given.file("g", "feedback", "2020-04-02", "mofa_b.csv", [
        review("S1", "mofa", 1, 2, 3, "2020-04-02"),
        review("S9", "mofa", 2, 2, 2, "2020-03-30", row=3),  # an older version of a waiting review
        review("S5", "kotra", 1, 1, 1, "2020-04-02", row=4),  # a newer one
    ])  # fmt: skip
    d = dt.date(2020, 4, 5)

    def layers(exclude: bool) -> dict[str, str]:
        # The day's tables leave out the columns no mart reads: the stored layers without them.
        def without(layer: str) -> str:
            return f"EXCLUDE ({', '.join(db.DAY_UNUSED[layer])})" if exclude else ""

        reviews = f"SELECT * {without('all_reviews_as_of')} FROM {{}}($d)"
        scores = f"SELECT * {without('requests_as_of')} FROM request_scores($d, 1.0, 1.0, 1.0, false, false,"
        countries = f"FROM country_scores($d, 1.0, 1.0, 1.0, {DEFAULTS['shortlist_size']},"
        return {
            "requests": f"SELECT * {without('requests_as_of')} FROM requests_as_of($d)",
            "requests by track, category and country": "FROM request_groups($d)",
            "all reviews": reviews.format("all_reviews_as_of"),
            "reviews": reviews.format("reviews_as_of"),
            "waiting": reviews.format("waiting_reviews_as_of"),
            "counted reviews and their country": reviews.format("country_reviews_as_of"),
            "scores": f"{scores} NULL)",
            "scores without MOFA": f"{scores} 'mofa')",
            # The run's country scores are a table of the day; any other scoring computed.
            "country scores": f"{countries} false, false, NULL)",
            "country scores without MOFA": f"{countries} false, false, 'mofa')",
            "trimmed country scores": f"{countries} true, false, NULL)",
            "country scores, no shortlist": "FROM country_scores($d, 1.0, 1.0, 1.0, 0, false, false, NULL)",
        }

    with db.connect(given.path) as con:

        def rows(sql: str) -> list[tuple]:
            return sorted(con.execute(sql, {"d": d}).fetchall(), key=repr)

        stored = {name: rows(sql) for name, sql in layers(exclude=True).items()}
        # The stored waiting reviews (versioned among themselves) are every review's latest
        # version whose submission is not known, all columns.
        waiting = rows("SELECT * FROM waiting_reviews_as_of($d)")
        assert waiting == rows(
            "SELECT * FROM all_reviews_as_of($d) WHERE submission_id NOT IN ("
            "SELECT submission_id FROM stg.submissions JOIN ops.loads USING (sha256) WHERE delivery_date <= $d)"
        )
        assert [r[:4] for r in waiting] == [("f", 2, "S9", "MOFA"), ("g", 4, "S5", "kotra")]  # the newest
        db._materialize_day(con, d, DEFAULTS)
        served = {name: rows(sql) for name, sql in layers(exclude=False).items()}
        temp_tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY 1"
        ).fetchall()
    assert served == stored
    assert [len(stored[n]) for n in ("requests", "all reviews", "reviews", "waiting")] == [3, 7, 4, 2]
    assert stored["country scores"] != stored["country scores, no shortlist"]
    assert sum(n for *_, n in stored["requests by track, category and country"]) == 3
    # each row held once, the run's country scores and the requests' counts by group
    assert temp_tables == [
        ("day_country_scores",),
        ("day_request_groups",),
        ("day_request_scores",),
        ("day_reviews",),
    ]
