"""A day is rebuilt only when its inputs change; a day with nothing delivered copies the day
before; the latest-only marts follow the newest snapshot."""

import datetime as dt
import os
from pathlib import Path

import pandas as pd

from tests.unit.warehouse.conftest import DEFAULTS, Given, review, submission
from warehouse import db

D1, D2, D3 = dt.date(2020, 2, 3), dt.date(2020, 2, 4), dt.date(2020, 2, 5)


def loaded(tmp_path, name: str) -> Given:
    g = Given(tmp_path / name)
    g.file("a", "submissions", "2020-02-03", "f1.csv", [submission("S1"), submission("S2", "PER", row=3)])
    g.file(
        "b",
        "feedback",
        "2020-02-03",
        "MOFA_f.csv",
        [review("S1", "MOFA", 4, 4, 4), review("S2", "MOFA", 2, 3, 2, row=3)],
    )
    return g


def hist(g: Given, mart: str, as_of: dt.date) -> pd.DataFrame:
    with db.connect(g.path) as con:
        return con.execute(
            f"SELECT * EXCLUDE (as_of) FROM hist.{mart} WHERE as_of = ? ORDER BY ALL", [as_of]
        ).df()


def test_unchanged_inputs_are_not_rebuilt_and_changed_ones_are(tmp_path):
    g = loaded(tmp_path, "w.duckdb")
    assert db.build_snapshots(g.path, [D1], DEFAULTS) == [D1]
    assert db.build_snapshots(g.path, [D1], DEFAULTS) == []  # nothing changed
    assert db.build_snapshots(g.path, [D1], {**DEFAULTS, "w_business": 2.0}) == [D1]  # parameters changed
    g.file("c", "submissions", "2020-02-03", "f2.csv", [submission("S3", "THA")])
    assert db.build_snapshots(g.path, [D1], {**DEFAULTS, "w_business": 2.0}) == [D1]  # a load changed
    assert hist(g, "headline", D1)["n_requests"].tolist() == [3]


def test_a_day_with_nothing_delivered_equals_building_it_from_scratch(tmp_path):
    copied = loaded(tmp_path, "copied.duckdb")
    db.build_snapshots(copied.path, [D1, D2, D3], DEFAULTS)  # D2, D3 copy D1
    fresh = loaded(tmp_path, "fresh.duckdb")
    db.build_snapshots(fresh.path, [D3], DEFAULTS)
    for mart in ("headline", "track_summary", "category_summary", "country_summary", "office_routing"):
        pd.testing.assert_frame_equal(hist(copied, mart, D3), hist(fresh, mart, D3))
    for mart in db.LATEST_ONLY:  # kept for the newest day only
        pd.testing.assert_frame_equal(hist(copied, mart, D3), hist(fresh, mart, D3))
        assert hist(copied, mart, D1).empty and hist(copied, mart, D2).empty


def _calls(monkeypatch, name: str) -> list:
    """Record each call of db.<name> (its day), still calling it."""
    real, calls = getattr(db, name), []

    def recorded(con, as_of, *args, **kwargs):
        calls.append(as_of)
        return real(con, as_of, *args, **kwargs)

    monkeypatch.setattr(db, name, recorded)
    return calls


def test_the_next_day_with_nothing_delivered_re_dates_the_latest_only_marts(tmp_path, monkeypatch):
    g = loaded(tmp_path, "w.duckdb")
    db.build_snapshots(g.path, [D1], DEFAULTS)
    computed, built = _calls(monkeypatch, "_materialize_day"), _calls(monkeypatch, "_build_marts")
    assert db.build_snapshots(g.path, [D2], DEFAULTS) == [D2]
    assert computed == built == []  # copied and re-dated: nothing computed
    fresh = loaded(tmp_path, "fresh.duckdb")
    db.build_snapshots(fresh.path, [D2], DEFAULTS)
    for mart in db.MARTS:
        pd.testing.assert_frame_equal(hist(g, mart, D2), hist(fresh, mart, D2))
    for mart in db.LATEST_ONLY:  # moved to the newest day, not kept for D1
        assert hist(g, mart, D1).empty
    with db.connect(g.path) as con:
        assert con.execute("SELECT as_of FROM ops.snapshots WHERE with_latest").fetchall() == [(D2,)]
    # D1's are computed on request as before
    assert db.snapshot_tables(g.path, D1)["submissions"]["submission_id"].tolist() == ["S1", "S2"]

    computed.clear()
    db.build_snapshots(g.path, [D3], {**DEFAULTS, "w_business": 2.0})  # other scoring: computed
    assert computed == [D3]
    computed.clear()
    g.file("c", "submissions", "2020-02-05", "f2.csv", [submission("S3", "THA")])
    db.build_snapshots(g.path, [D3], {**DEFAULTS, "w_business": 2.0})  # a delivery: computed
    assert computed == [D3]
    assert hist(g, "submissions", D3)["submission_id"].tolist() == ["S1", "S2", "S3"]


def test_the_days_layers_are_always_computed_inside_a_transaction(tmp_path, monkeypatch):
    """Outside one, the day's reviews (sorted, in insertion order) ran out of the 400 MB
    limit at 2M requests where the same statement in a transaction did not: a night after
    a backfill, or a day copied while the latest-only marts held other inputs, failed."""
    real, seen = db._materialize_day, []

    def checked(con, as_of, params, **kept):
        ids = {con.execute("SELECT txid_current()").fetchone()[0] for _ in range(2)}
        seen.append((as_of, len(ids) == 1))  # one transaction id: inside a transaction
        return real(con, as_of, params, **kept)

    monkeypatch.setattr(db, "_materialize_day", checked)
    g = loaded(tmp_path, "w.duckdb")
    db.build_snapshots(g.path, [D1], DEFAULTS, latest=False)  # a backfill's day
    db.build_snapshots(g.path, [D1], DEFAULTS)  # the backfill's last step: D1's latest-only marts
    db.build_snapshots(g.path, [D2, D3], DEFAULTS, latest=False)  # copies of D1: nothing computed
    with db.connect(g.path) as con:
        con.execute("UPDATE ops.snapshots SET with_latest = false")  # as after a crash
    db.build_snapshots(g.path, [D3], DEFAULTS)  # D3 unchanged; its latest-only marts built
    db.snapshot_tables(g.path, D2)  # an older day's, on request
    assert seen == [(D1, True), (D1, True), (D3, True), (D2, True)]


def test_new_mart_code_rebuilds_a_day_whose_inputs_did_not_change(tmp_path, monkeypatch):
    g = loaded(tmp_path, "w.duckdb")
    db.build_snapshots(g.path, [D1], DEFAULTS)
    assert db.build_snapshots(g.path, [D1, D2], DEFAULTS) == [D2]  # D1 kept, D2 re-dated
    newer = tmp_path / "db.py"  # this module with one more byte: a fix in the Python that builds the marts
    newer.write_bytes(Path(db.__file__).read_bytes() + b"\n")
    monkeypatch.setattr(db, "__file__", str(newer))
    computed = _calls(monkeypatch, "_materialize_day")
    assert db.build_snapshots(g.path, [D1, D2], DEFAULTS) == [D1, D2]
    assert computed == [D1, D2]  # D1 built again; D2 copies its summary, its latest-only marts are built


def test_an_older_day_gets_its_latest_only_marts_on_request(tmp_path):
    g = loaded(tmp_path, "w.duckdb")
    db.build_snapshots(g.path, [D1, D3], DEFAULTS)
    older = db.snapshot_tables(g.path, D1)["submissions"]
    newest = db.snapshot_tables(g.path, D3)["submissions"]
    assert older["submission_id"].tolist() == newest["submission_id"].tolist() == ["S1", "S2"]
    assert hist(g, "submissions", D1).empty  # computed for the request, not stored


def _published(path, sql: str) -> list:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_second_publish_of_the_same_snapshot_copies_the_file_and_keeps_every_description(tmp_path):
    g = loaded(tmp_path, "w.duckdb")
    db.build_snapshots(g.path, [D1], DEFAULTS)
    out = tmp_path / "kcity.duckdb"
    db.publish(g.path, out)
    undescribed = (
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE schema_name = 'marts' AND coalesce(comment, '') = ''"
    )
    assert _published(out, undescribed) == []
    first_inode = out.stat().st_ino
    assert _published(out, "SELECT count(*) FROM marts.run_ledger") == [(0,)]
    g.file("c", "submissions", "2020-02-03", "f2.csv", [submission("S3", "THA")])  # not yet built
    db.record_run_day(g.path, {
        "as_of": D1, "flow_run_id": "run-2", "flow_name": "kcity-nightly", "started_at": dt.datetime(2020, 2, 3, 1),
        "status": "completed", "files_loaded": 0, "files_rejected": 0, "rows_read": 0, "rows_loaded": 0,
        "rows_quarantined": 0,
    })  # fmt: skip
    db.publish(g.path, out)  # the same snapshot: a copy with the run tables replaced
    assert out.stat().st_ino != first_inode  # swapped in, not written in place
    assert _published(out, undescribed) == []
    assert _published(out, "SELECT flow_run_id FROM marts.run_ledger") == [("run-2",)]  # run tables replaced
    assert _published(out, "SELECT n_requests FROM marts.headline") == [(2,)]  # the snapshot was not


def _whole_file(path) -> dict:
    """Every table of a published file: its description, columns (with theirs) and rows in
    stored order."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("SELECT table_name, comment FROM duckdb_tables() ORDER BY 1").fetchall()
        return {
            (name, comment): (
                con.execute(
                    "SELECT column_name, data_type, comment FROM duckdb_columns() "
                    "WHERE table_name = ? ORDER BY column_index",
                    [name],
                ).fetchall(),
                con.execute(f"SELECT * FROM marts.{name}").fetchall(),
            )
            for name, comment in tables
        }


def published_on_d1(g: Given, tmp_path, monkeypatch) -> tuple[Path, list]:
    """D1 built and published; the published file's path and the files publishes copy from
    then on."""
    db.build_snapshots(g.path, [D1], DEFAULTS)
    out = tmp_path / "kcity.duckdb"
    db.publish(g.path, out)
    copies = []
    monkeypatch.setattr(
        db.shutil, "copyfile", lambda a, b, _real=db.shutil.copyfile: copies.append(a) or _real(a, b)
    )
    return out, copies


def test_the_next_day_with_nothing_delivered_is_published_as_a_re_dated_copy(tmp_path, monkeypatch):
    g = loaded(tmp_path, "w.duckdb")
    g.file("w", "feedback", "2020-02-03", "MOEF_w.csv", [review("S9", "MOEF", 3, 3, 3)])  # waits for S9
    out, copies = published_on_d1(g, tmp_path, monkeypatch)
    for day, delivered in ((D2, False), (D3, True)):
        if delivered:
            g.file("c", "submissions", "2020-02-05", "f2.csv", [submission("S3", "THA")])
        db.build_snapshots(g.path, [day], DEFAULTS)
        copies.clear()
        db.publish(g.path, out)
        assert copies == ([] if delivered else [out])  # re-dated from the published file, or written anew
        full = tmp_path / f"full-{day}.duckdb"
        db.publish(g.path, full)  # never published there: a full publish
        assert _whole_file(out) == _whole_file(full)
        assert _published(out, "SELECT DISTINCT as_of FROM marts.score_breakdown") == [(day,)]
    assert _published(out, "SELECT n_requests FROM marts.headline") == [(3,)]
    assert _published(out, "SELECT as_of, submission_id FROM marts.reviews_waiting") == [(D3, "S9")]
    assert _published(out, "SELECT count(DISTINCT as_of) FROM marts.country_summary_history") == [(3,)]


def test_setting_up_the_warehouse_again_is_skipped_until_the_sql_or_reference_data_change(
    tmp_path, monkeypatch
):
    path = tmp_path / "w.duckdb"
    db.init_warehouse(path)
    with db.connect(path) as con:
        countries = con.execute("SELECT count(*) FROM ref.countries").fetchone()[0]
        con.execute("DELETE FROM ref.countries")
    db.init_warehouse(path)  # same code: nothing redone
    with db.connect(path) as con:
        assert con.execute("SELECT count(*) FROM ref.countries").fetchone()[0] == 0
    monkeypatch.setattr(db, "_code_version", lambda: "changed")
    db.init_warehouse(path)  # new code: reference tables and macros refreshed
    with db.connect(path) as con:
        assert con.execute("SELECT count(*) FROM ref.countries").fetchone()[0] == countries > 100
        assert con.execute("SELECT version FROM ops.warehouse_code").fetchall() == [("changed",)]


def test_a_published_file_written_to_since_its_publish_is_written_anew_not_copied(tmp_path, monkeypatch):
    import duckdb

    g = loaded(tmp_path, "w.duckdb")
    out, copies = published_on_d1(g, tmp_path, monkeypatch)
    # BI tools open it read-only: the file stays the one published, and is copied.
    assert _published(out, "SELECT n_requests FROM marts.headline") == [(2,)]
    db.publish(g.path, out)
    assert copies == [out]
    # Someone opens it read-write and changes it: the next publishes, of the same snapshot and
    # of the next day with nothing delivered, write every table anew. The first change keeps
    # the file's size and gets its mtime put back: its headers tell it apart.
    for day, change in (
        (D1, "UPDATE marts.headline SET n_requests = 99"),
        (D2, "CREATE TABLE marts.scratch AS SELECT 1 AS x"),
    ):
        before = out.stat()
        with duckdb.connect(str(out)) as con:
            con.execute(change)
        if day == D1:
            os.utime(out, ns=(before.st_atime_ns, before.st_mtime_ns))
            assert out.stat().st_size == before.st_size and out.stat().st_mtime_ns == before.st_mtime_ns
        db.build_snapshots(g.path, [day], DEFAULTS)
        copies.clear()
        db.publish(g.path, out)
        assert copies == []
        full = tmp_path / f"full-{day}.duckdb"
        db.publish(g.path, full)
        assert _whole_file(out) == _whole_file(full)
    assert _published(out, "SELECT as_of, n_requests FROM marts.headline") == [(D2, 2)]
    # Published anew, it is copied again the next day.
    db.build_snapshots(g.path, [D3], DEFAULTS)
    db.publish(g.path, out)
    assert copies == [out]
