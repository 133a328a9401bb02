"""What a run loads and which snapshots it builds."""

import datetime as dt

from tasks.inbox import InboxFile
from tasks.plan import canonical_copies, nightly_snapshot_dates, plan_backfill, plan_nightly

D = dt.date


def f(rel: str, sha: str, date: dt.date | None, problem: str | None = None) -> InboxFile:
    return InboxFile("submissions", rel, rel.rsplit("/", 1)[-1], date, sha, 10, problem)


def test_the_same_bytes_load_once_from_the_earliest_copy():
    files = [
        f("submissions/2020-02-09/b.csv", "x", D(2020, 2, 9)),
        f("submissions/2020-02-07/a.csv", "x", D(2020, 2, 7)),
    ]
    assert canonical_copies(files)["x"].rel_path == "submissions/2020-02-07/a.csv"
    plan = plan_nightly(files, loaded={})
    assert [i.rel_path for i in plan] == ["submissions/2020-02-07/a.csv"]


def test_nightly_skips_loaded_content_and_misplaced_files():
    files = [
        f("submissions/2020-02-07/a.csv", "x", D(2020, 2, 7)),
        f("submissions/2020-02-08/b.csv", "y", D(2020, 2, 8)),
        f("submissions/c.csv", "z", None, "not inside a YYYY-MM-DD delivery folder"),
    ]
    plan = plan_nightly(files, loaded={"x": "submissions/2020-02-07/a.csv"})
    assert [i.sha256 for i in plan] == ["y"]


def test_backfill_reloads_the_range_from_raw_when_the_file_is_gone():
    files = [
        f("submissions/2020-02-07/a.csv", "x", D(2020, 2, 7)),
        f("submissions/2020-02-10/c.csv", "z", D(2020, 2, 10)),
    ]
    ledger = [
        {"sha256": "gone", "source": "submissions", "delivery_date": D(2020, 2, 9), "rel_path": "submissions/2020-02-09/g.csv",
         "file_name": "g.csv", "status": "loaded"},
        {"sha256": "bad", "source": "submissions", "delivery_date": D(2020, 2, 9), "rel_path": "submissions/2020-02-09/h.xlsx",
         "file_name": "h.xlsx", "status": "rejected"},
    ]  # fmt: skip
    plan = plan_backfill(
        files,
        {"x": "submissions/2020-02-07/a.csv", "gone": "submissions/2020-02-09/g.csv"},
        ledger,
        D(2020, 2, 8),
    )
    assert [(i.sha256, i.from_file) for i in plan] == [("gone", False), ("z", True)]


def test_backfill_also_loads_earlier_deliveries_not_loaded_yet():
    files = [f("submissions/2020-02-01/a.csv", "x", D(2020, 2, 1))]
    assert [i.sha256 for i in plan_backfill(files, {}, [], D(2020, 2, 5))] == ["x"]


def test_nightly_catches_up_missed_days_but_not_on_a_fresh_warehouse():
    assert nightly_snapshot_dates([], D(2020, 4, 19)) == [D(2020, 4, 19)]
    assert nightly_snapshot_dates([D(2020, 4, 16)], D(2020, 4, 19)) == [
        D(2020, 4, 17),
        D(2020, 4, 18),
        D(2020, 4, 19),
    ]
    assert nightly_snapshot_dates([D(2020, 4, 19)], D(2020, 4, 19)) == [D(2020, 4, 19)]
    assert nightly_snapshot_dates([D(2020, 4, 20)], D(2020, 4, 19)) == [D(2020, 4, 19)]


def test_the_nightly_date_is_the_date_in_seoul():
    from flows.dates import today_in_seoul

    assert today_in_seoul(dt.datetime(2020, 4, 19, 14, 30, tzinfo=dt.UTC)) == D(2020, 4, 19)
    assert today_in_seoul(dt.datetime(2020, 4, 19, 15, 30, tzinfo=dt.UTC)) == D(2020, 4, 20)
