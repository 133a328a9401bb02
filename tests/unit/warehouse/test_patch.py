"""A delivery touching few requests patches the per-request latest-only marts (and the
published copy) instead of rebuilding them: the rows must be those of a build from scratch,
for every kind of change a delivery can bring, and the fallbacks must rebuild."""

import contextlib
import datetime as dt

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.warehouse.conftest import DEFAULTS, Given, review, submission
from warehouse import db

D1, D2, D3, D4 = (dt.date(2020, 2, d) for d in (3, 4, 5, 6))
MINISTRIES = ("MOFA", "MOEF", "KOTRA", "KOICA", "KIND", "moef")


def base(g: Given) -> Given:
    """Six requests, three ministries' reviews (S1 by five: trimming applies), one review
    waiting for S9; a quarantined row in the forms and one in MOFA's file."""
    g.file("a", "submissions", "2020-02-03", "a.csv",
           [submission(f"S{i}", iso3, row=i + 1) for i, iso3 in enumerate(["IDN", "IDN", "PER", "THA", "PER", "VNM"], 1)],
           quarantined=(8,))  # fmt: skip
    g.file("b", "feedback", "2020-02-03", "MOFA_b.csv",
           [review(f"S{i}", "MOFA", i % 5 + 1, 3, 2, row=i + 1) for i in range(1, 7)], quarantined=(8,))  # fmt: skip
    g.file("c", "feedback", "2020-02-03", "MOEF_c.csv",
           [review(f"S{i}", "MOEF", 4, None, i % 3 + 1, row=i + 1) for i in range(1, 5)])  # fmt: skip
    g.file("d", "feedback", "2020-02-03", "KOTRA_d.csv",
           [review("S1", m, 5, 1, 3, row=n + 2) for n, m in enumerate(["KOTRA", "KOICA", "KIND"])]
           + [review("S9", "KOTRA", 2, 2, 2, row=5)])  # fmt: skip
    return g


# One delivery each, on D2, on top of the base built and published on D1.
CHANGES = {
    "new request": ("submissions", "2020-02-04", [submission("S7", "THA")]),
    "edit": (
        "submissions",
        "2020-02-04",
        [submission("S1", "PER", track="smart_solution", category="waste")],
    ),
    "withdrawal": ("submissions", "2020-02-04", [submission("S2", "IDN", status="withdrawn")]),
    "new review": ("feedback", "2020-02-04", [review("S5", "KOTRA", 1, 1, 1)]),
    "newer review": ("feedback", "2020-02-04", [review("S1", "MOFA", 1, 5, None, reviewed="2020-04-02")]),
    "waiting review's request": ("submissions", "2020-02-04", [submission("S9", "VNM")]),
    "new ministry": ("feedback", "2020-02-04", [review("S6", "MOLIT", 5, 5, 5)]),
    "review waiting for a new id": ("feedback", "2020-02-04", [review("S10", "MOFA", 3, 3, 3)]),
    "newer waiting review": (
        "feedback",
        "2020-02-04",
        [review("S9", "KOTRA", 4, 4, 4, reviewed="2020-04-02")],
    ),
    "dated before the held day": (
        "submissions",
        "2020-02-02",
        [submission("S3", "THA"), submission("S8", row=3)],
    ),
    # Not a literal (a NUL ends one): the patch filters by the table of touched ids instead.
    "an id with a NUL character": (
        "submissions",
        "2020-02-04",
        [submission("S\x00", "THA"), submission("S4", row=3)],
    ),
    # A row quarantined too: forms delivered later follow the published quarantine's rows
    # (appended to it); reviews do not (it is written whole).
    "new request and a bad row": ("submissions", "2020-02-04", [submission("S7", "THA")], (3,)),
    "new review and a bad row": ("feedback", "2020-02-04", [review("S5", "KOTRA", 1, 1, 1)], (3,)),
}
# The changes whose quarantined rows would not follow the published ones.
QUARANTINE_WRITTEN = {"new review and a bad row"}
# The changes that move the normalised values of ratings (a ministry's counted ratings
# change): the normalised scores kept for ranking_variants are computed whole again, not
# patched.
MOVE_NORMALISED = {
    "withdrawal",
    "new review",
    "newer review",
    "waiting review's request",
    "new ministry",
    "new review and a bad row",
}
# The changes touching no request that has a review, before or after: no country's score or
# count of reviews moves, and the rankings of the scored countries alone are re-dated (and
# the published reviews waiting for their request).
UNREVIEWED = {"new request", "new request and a bad row"}


def deliver(g: Given, change: str, sha: str = "new0") -> None:
    """The change as a file of its own (named after `sha`: published with its rows' lineage,
    so a build from scratch names its first delivery the same, `from_scratch`)."""
    source, day, rows, *quarantined = CHANGES[change]
    name = f"MOLIT_{sha}.csv" if source == "feedback" else f"{sha}.csv"
    g.file(sha, source, day, name, rows, *quarantined)


def spy(monkeypatch, name: str) -> list:
    calls = []
    real = getattr(db, name)
    monkeypatch.setattr(db, name, lambda *a, **k: calls.append(a) or real(*a, **k))
    return calls


class Recorded:
    """A connection whose statements are recorded (`statements`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, statements: list[str]):
        self._con, self._statements = con, statements

    def execute(self, sql: str, *args):
        self._statements.append(" ".join(sql.split()))
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def record(monkeypatch) -> list[str]:
    """Every statement db's connections execute from now on."""
    statements: list[str] = []
    real = db.connect

    @contextlib.contextmanager
    def recorded(*a, **k):
        with real(*a, **k) as con:
            yield Recorded(con, statements)

    monkeypatch.setattr(db, "connect", recorded)
    return statements


def marts(path, as_of: dt.date) -> dict:
    """Every mart's rows of a day, and the day's layers kept for the next night (the day built
    last: its key is theirs), as sorted rows."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {
            m: con.execute(f"SELECT * FROM hist.{m} WHERE as_of = ? ORDER BY ALL", [as_of]).fetchall()
            for m in db.MARTS
        }
        assert (
            con.execute("SELECT inputs FROM state.day_layers").fetchall()
            == con.execute("SELECT inputs FROM ops.snapshots WHERE as_of = ?", [as_of]).fetchall()
        )
        kept = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'state'"
            ).fetchall()
        }
        for table in db.KEPT_TABLES:
            # the scores with a ministry left out: kept unless the scoring normalises
            tables[table] = (
                con.execute(f"SELECT * FROM state.{table} ORDER BY ALL").fetchall() if table in kept else None
            )
        return tables


def published(path) -> dict:
    """Every published table's description, columns (with theirs) and rows, as sets of rows."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {
            n: (
                con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = ?", [n]).fetchall(),
                con.execute(
                    "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE table_name = ? "
                    "ORDER BY column_index",
                    [n],
                ).fetchall(),
                con.execute(f"SELECT * FROM marts.{n} ORDER BY ALL").fetchall(),
            )
            for n in names
            if n not in ("load_report", "run_ledger")  # when each was loaded and run: differ by design
        }


def in_order(path, table: str) -> bool:
    with duckdb.connect(str(path), read_only=True) as con:
        keys = db.PUBLISH_ORDER[table.split(".")[-1]]
        stored = con.execute(f"SELECT {keys} FROM {table}").fetchall()
    return stored == sorted(stored)


def from_scratch(
    tmp_path, name: str, steps: list[tuple[dt.date, list[str]]], scoring: dict, first: dict | None = None
) -> Given:
    """The same deliveries and builds, day by day (the first with `first` scoring if given),
    without patching: the per-request marts built whole each time."""
    share, db.PATCH_SHARE = db.PATCH_SHARE, 0.0
    try:
        g, n = base(Given(tmp_path / name)), 0
        for step, (day, changes) in enumerate(steps):
            for change in changes:
                deliver(g, change, f"new{n}")
                n += 1
            db.build_snapshots(g.path, [day], first if first and step == 0 else scoring)
    finally:
        db.PATCH_SHARE = share
    return g


@pytest.fixture
def share(monkeypatch):
    """Patch whatever a delivery touches (the small warehouses here touch a large share)."""
    monkeypatch.setattr(db, "PATCH_SHARE", 1.0)


@pytest.mark.parametrize("scoring", [{}, {"trim_reviews": True}], ids=["default", "trimmed"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_a_delivery_patches_the_per_request_marts_into_the_rows_of_a_full_build(
    tmp_path, monkeypatch, share, change, scoring
):
    params = {**DEFAULTS, **scoring}
    g = base(Given(tmp_path / "w.duckdb"))
    db.build_snapshots(g.path, [D1], params)
    out = tmp_path / "kcity.duckdb"
    db.publish(g.path, out)
    patched_build, patched_publish = spy(monkeypatch, "_patch_latest"), spy(monkeypatch, "_patch_published")
    layers, whole = [], []
    real, real_variants = db._materialize_day, db._variant_scores
    monkeypatch.setattr(db, "_materialize_day", lambda *a, **k: layers.append(k) or real(*a, **k))
    monkeypatch.setattr(db, "_variant_scores", lambda *a: whole.append(real_variants(*a)) or whole[-1])
    appended, real_append = [], db._append_quarantine
    monkeypatch.setattr(db, "_append_quarantine", lambda *a: appended.append(real_append(*a)) or appended[-1])
    reviews, real_reviews = [], db._any_reviews
    monkeypatch.setattr(db, "_any_reviews", lambda *a: reviews.append(real_reviews(*a)) or reviews[-1])
    latest, real_marts = [], db._build_marts
    monkeypatch.setattr(
        db,
        "_build_marts",
        lambda *a, **k: (latest.extend(a[3]) if k.get("replace") else None) or real_marts(*a, **k),
    )
    statements = record(monkeypatch)
    deliver(g, change)
    assert db.build_snapshots(g.path, [D2], params) == [D2]
    db.publish(g.path, out)
    assert (len(patched_build), len(patched_publish)) == (1, 1)
    # The touched requests' staged reviews not looked up when none has a review and no new
    # load is of reviews.
    looked_up = [q for q in statements if q.startswith("CREATE TEMP TABLE touched_feedback")]
    assert len(looked_up) == 1 and ("LIMIT 0" in looked_up[0]) == (change in UNREVIEWED)
    # The latest-only marts built again: the rankings, but for rank_stability's ranks of the
    # scored countries when no touched request has a review (re-dated).
    assert latest == (
        ["ranking_variants"] if change in UNREVIEWED else ["ranking_variants", "rank_stability"]
    )
    # and the published reviews waiting for their request only re-dated
    assert reviews == [change not in UNREVIEWED]
    # The published quarantine: the new rows appended, in its order, unless they would not
    # follow the others.
    assert appended == [change not in QUARANTINE_WRITTEN]
    with duckdb.connect(str(out), read_only=True) as con:
        keys = "source, delivery_date, file_name, row_number, column_name, rule"
        stored = con.execute(f"SELECT {keys} FROM marts.quarantine").fetchall()
        assert stored == sorted(stored) and len(stored) == 2 + len(CHANGES[change][3:])
    # The kept layers patched too: only the touched requests' rows computed; every request's
    # normalised scores only when the normalised values moved.
    assert len(layers) == 1 and layers[0]["patch"] is not None and layers[0]["keep"] is not None
    assert whole == [[(False, True)] if change in MOVE_NORMALISED else []]

    reference = from_scratch(tmp_path, "scratch.duckdb", [(D1, []), (D2, [change])], params)
    assert marts(g.path, D2) == marts(reference.path, D2)
    full = tmp_path / "full.duckdb"
    db.publish(reference.path, full)
    assert published(out) == published(full)
    assert (len(patched_build), len(patched_publish)) == (1, 1)  # the reference was built whole


def test_deliveries_day_after_day_stay_equal_to_full_builds_until_the_share_is_reached(tmp_path, monkeypatch):
    g = base(Given(tmp_path / "w.duckdb"))
    db.build_snapshots(g.path, [D1], DEFAULTS)
    out = tmp_path / "kcity.duckdb"
    db.publish(g.path, out)
    # S1 edited (1 request: its rows now follow S6's), then S7 new (1), then S2 withdrawn and
    # S5 reviewed (2): with a share of 3 of the 7 requests, the third day passes it.
    monkeypatch.setattr(db, "PATCH_SHARE", 3 / 7)
    patched_build, patched_publish = spy(monkeypatch, "_patch_latest"), spy(monkeypatch, "_patch_published")
    days = [(D2, ["edit"]), (D3, ["new request"]), (D4, ["withdrawal", "new review"])]
    delivered: list[str] = []
    for n, (day, changes) in enumerate(days):
        for change in changes:
            deliver(g, change, f"new{len(delivered)}")
            delivered.append(change)
        db.build_snapshots(g.path, [day], DEFAULTS)
        db.publish(g.path, out)
        patching = n < 2
        assert (len(patched_build), len(patched_publish)) == ((n + 1, n + 1) if patching else (2, 2))
        with duckdb.connect(str(g.path), read_only=True) as con:
            assert con.execute("SELECT patched FROM ops.snapshots WHERE with_latest").fetchall() == [
                (n + 1 if patching else 0,)
            ]
            assert con.execute(
                "SELECT patched FROM ops.publications ORDER BY published_at DESC LIMIT 1"
            ).fetchall() == [(n + 1 if patching else 0,)]
        reference = from_scratch(tmp_path, f"scratch{n}.duckdb", [(D1, []), *days[: n + 1]], DEFAULTS)
        assert marts(g.path, day) == marts(reference.path, day)
        full = tmp_path / f"full{n}.duckdb"
        db.publish(reference.path, full)
        assert published(out) == published(full)
        # Patched rows follow the others; built whole again, the file is in order again.
        assert in_order(out, "marts.score_breakdown") is not patching
        assert in_order(out, "marts.submissions") is not patching


def test_a_publish_from_patched_marts_to_a_new_file_is_sorted(tmp_path, share):
    g = base(Given(tmp_path / "w.duckdb"))
    db.build_snapshots(g.path, [D1], DEFAULTS)
    db.publish(g.path, tmp_path / "kcity.duckdb")
    deliver(g, "edit")
    db.build_snapshots(g.path, [D2], DEFAULTS)
    assert not in_order(g.path, "hist.score_breakdown")  # patched rows appended
    elsewhere = tmp_path / "other.duckdb"  # never published there: written whole
    db.publish(g.path, elsewhere)
    assert in_order(elsewhere, "marts.score_breakdown") and in_order(elsewhere, "marts.submissions")


@pytest.mark.parametrize(
    "fallback",
    ["normalised", "a load replaced", "new scoring", "held marts lost", "patching off"],
)
def test_what_cannot_be_patched_is_rebuilt_whole(tmp_path, monkeypatch, share, fallback):
    params = first = {**DEFAULTS, "normalize_ministries": fallback == "normalised"}
    g = base(Given(tmp_path / "w.duckdb"))
    db.build_snapshots(g.path, [D1], params)
    out = tmp_path / "kcity.duckdb"
    db.publish(g.path, out)
    deliver(g, "new review")
    if fallback == "a load replaced":  # the same content loaded again (a backfill): a new loaded_at
        g.file("b", "feedback", "2020-02-03", "MOFA_b.csv",
               [review(f"S{i}", "MOFA", i % 5 + 1, 3, 2, row=i + 1) for i in range(1, 7)], quarantined=(8,))  # fmt: skip
    if fallback == "new scoring":
        params = {**params, "w_business": 2.0}
    if fallback == "patching off":
        monkeypatch.setattr(db, "PATCH_SHARE", 0.0)
    if fallback == "held marts lost":  # as after a run stopped while rebuilding them
        with db.connect(g.path) as con:
            con.execute("UPDATE ops.snapshots SET with_latest = false")
    patched_build, patched_publish = spy(monkeypatch, "_patch_latest"), spy(monkeypatch, "_patch_published")
    db.build_snapshots(g.path, [D2], params)
    db.publish(g.path, out)
    assert (len(patched_build), len(patched_publish)) == (0, 1 if fallback == "held marts lost" else 0)
    reference = from_scratch(tmp_path, "scratch.duckdb", [(D1, []), (D2, ["new review"])], params, first)
    assert marts(g.path, D2) == marts(reference.path, D2)
    full = tmp_path / "full.duckdb"
    db.publish(reference.path, full)
    assert published(out) == published(full)


@pytest.mark.parametrize("kept", ["none", "another day's", "a request short"])
def test_without_the_held_days_layers_kept_they_are_computed_whole_and_the_marts_still_patched(
    tmp_path, monkeypatch, share, kept
):
    """A warehouse from before the layers were kept has none; layers of another inputs key
    (any other day's), or not holding the marts' requests, are not patched from."""
    g = base(Given(tmp_path / "w.duckdb"))
    db.build_snapshots(g.path, [D1], DEFAULTS)
    with db.connect(g.path) as con:
        con.execute("DELETE FROM state.day_layers")
        if kept == "another day's":
            con.execute("INSERT INTO state.day_layers VALUES ('another key')")
        if kept == "a request short":  # kept layers holding other requests than the marts
            con.execute("INSERT INTO state.day_layers SELECT inputs FROM ops.snapshots WHERE with_latest")
            con.execute("DELETE FROM state.day_request_scores WHERE submission_id = 'S3'")
    layers = []
    real = db._materialize_day
    monkeypatch.setattr(db, "_materialize_day", lambda *a, **k: layers.append(k) or real(*a, **k))
    patched_build = spy(monkeypatch, "_patch_latest")
    deliver(g, "new review")
    db.build_snapshots(g.path, [D2], DEFAULTS)
    assert len(patched_build) == 1
    assert [(k["keep"] is not None, k["patch"]) for k in layers] == [(True, None)]
    reference = from_scratch(tmp_path, "scratch.duckdb", [(D1, []), (D2, ["new review"])], DEFAULTS)
    assert marts(g.path, D2) == marts(reference.path, D2)
    # The next delivery patches the layers kept now.
    layers.clear()
    deliver(g, "edit", "new1")
    db.build_snapshots(g.path, [D3], DEFAULTS)
    assert len(patched_build) == 2 and layers[0]["patch"] is not None
    reference = from_scratch(
        tmp_path, "scratch2.duckdb", [(D1, []), (D2, ["new review"]), (D3, ["edit"])], DEFAULTS
    )
    assert marts(g.path, D3) == marts(reference.path, D3)


@pytest.mark.parametrize(
    "scoring",
    [{}, {"trim_reviews": True}, {"normalize_ministries": True}],
    ids=["default", "trimmed", "normalised"],
)
def test_the_rankings_served_from_the_kept_scores_equal_those_computed_from_the_reviews(
    tmp_path, share, scoring
):
    """The newest day's rankings read the kept scores (the run's, and with each ministry left
    out); an older day's are computed from the reviews (`snapshot_reader`). The same day
    both ways must give the same rows, patched or not."""
    params = {**DEFAULTS, **scoring}
    g = base(Given(tmp_path / "w.duckdb"))
    db.build_snapshots(g.path, [D1], params)
    deliver(g, "new ministry")
    deliver(g, "newer review", "new1")
    db.build_snapshots(g.path, [D2], params)  # patched (unless normalised)
    db.build_snapshots(g.path, [D3], params)  # nothing new: D2's latest-only marts re-dated
    rankings = ("ranking_variants", "rank_stability")
    with db.snapshot_reader(g.path, D2) as (con, queries):
        computed = {m: con.execute(f"SELECT * EXCLUDE (as_of) FROM ({queries[m]}) ORDER BY ALL").fetchall() for m in rankings}  # fmt: skip
    with duckdb.connect(str(g.path), read_only=True) as con:
        for mart in rankings:
            kept = con.execute(f"SELECT * EXCLUDE (as_of) FROM hist.{mart} ORDER BY ALL").fetchall()
            assert kept == computed[mart]
            assert len(kept) >= 4
        left_out = (
            con.execute(
                f"SELECT count(DISTINCT left_out), count(*) FILTER (WHERE l.score IS DISTINCT FROM s.score) "
                f"FROM state.{db.LOO_TABLE} AS l JOIN state.day_request_scores AS s USING (submission_id)"
            ).fetchone()
            if not scoring.get("normalize_ministries")
            else None
        )
    if left_out is not None:  # six ministries; scores that move when one is left out
        assert left_out[0] == 6 and left_out[1] > 0


def stopped_before_the_latest_only_marts(monkeypatch, g: Given, day: dt.date) -> None:
    """A build of `day` stopped where it rebuilds the latest-only marts (the days committed)."""
    real = db._build_marts

    def stopped(con, as_of, params, names, replace=False):
        if replace:
            raise RuntimeError("stopped")
        return real(con, as_of, params, names, replace)

    monkeypatch.setattr(db, "_build_marts", stopped)
    with pytest.raises(RuntimeError):
        db.build_snapshots(g.path, [day], DEFAULTS)
    monkeypatch.setattr(db, "_build_marts", real)


def test_a_run_stopped_after_patching_rebuilds_the_latest_only_marts_whole(tmp_path, monkeypatch, share):
    g = base(Given(tmp_path / "w.duckdb"))
    db.build_snapshots(g.path, [D1], DEFAULTS)
    deliver(g, "edit")
    stopped_before_the_latest_only_marts(monkeypatch, g, D2)  # patched and committed, rankings not rebuilt
    patched_build = spy(monkeypatch, "_patch_latest")
    db.build_snapshots(g.path, [D2], DEFAULTS)
    assert patched_build == []
    with duckdb.connect(str(g.path), read_only=True) as con:
        assert con.execute("SELECT as_of, patched FROM ops.snapshots WHERE with_latest").fetchall() == [
            (D2, 0)
        ]
    assert in_order(g.path, "hist.score_breakdown")
    reference = from_scratch(tmp_path, "scratch.duckdb", [(D1, []), (D2, ["edit"])], DEFAULTS)
    assert marts(g.path, D2) == marts(reference.path, D2)


def test_a_first_build_stopped_before_its_latest_only_marts_is_built_next_time(tmp_path, monkeypatch):
    """The layers are kept (committed with the days) while no `submissions` exists yet."""
    g = base(Given(tmp_path / "w.duckdb"))
    stopped_before_the_latest_only_marts(monkeypatch, g, D1)
    db.build_snapshots(g.path, [D1], DEFAULTS)
    assert marts(g.path, D1) == marts(from_scratch(tmp_path, "scratch.duckdb", [(D1, [])], DEFAULTS).path, D1)


day_changes = st.lists(
    st.lists(st.sampled_from(sorted(CHANGES)), min_size=0, max_size=3), min_size=1, max_size=3
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=day_changes, trim=st.booleans())
def test_any_deliveries_day_by_day_give_the_tables_of_a_full_build(tmp_path_factory, monkeypatch, days, trim):
    monkeypatch.setattr(db, "PATCH_SHARE", 1.0)
    tmp = tmp_path_factory.mktemp("days")
    params = {**DEFAULTS, "trim_reviews": trim}
    g = base(Given(tmp / "w.duckdb"))
    db.build_snapshots(g.path, [D1], params)
    out = tmp / "kcity.duckdb"
    db.publish(g.path, out)
    steps = [(D1 + dt.timedelta(days=n + 1), changes) for n, changes in enumerate(days)]
    delivered = 0
    for day, changes in steps:
        for change in changes:
            deliver(g, change, f"new{delivered}")
            delivered += 1
        db.build_snapshots(g.path, [day], params)
        db.publish(g.path, out)
    reference = from_scratch(tmp, "scratch.duckdb", [(D1, []), *steps], params)
    assert marts(g.path, day) == marts(reference.path, day)
    full = tmp / "full.duckdb"
    db.publish(reference.path, full)
    assert published(out) == published(full)
