"""The "returns no rows" checks pass on a consistent warehouse and catch a broken one."""

from tests.unit.warehouse.conftest import submission
from warehouse import db


def test_checks_pass_on_consistent_data_and_catch_unreconciled_rows(given):
    given.file("a", "submissions", "2020-02-01", "a.csv", [submission("S1"), submission("S2", row=3)])
    given.mart("headline", "2020-02-01")
    assert db.failed_checks(given.path) == {}
    with db.connect(given.path) as con:
        con.execute("UPDATE ops.loads SET rows_read = 3 WHERE sha256 = 'a'")
    assert "rows_reconcile" in db.failed_checks(given.path)


def test_data_checks_are_skipped_only_while_the_warehouse_is_as_they_passed_on(given):
    given.file("a", "submissions", "2020-02-01", "a.csv", [submission("S1"), submission("S2", row=3)])
    given.mart("headline", "2020-02-01")
    assert db.failed_checks(given.path, skip_unchanged=True) == {}  # first time: run, passed
    assert db.failed_checks(given.path, skip_unchanged=True) is None  # nothing changed: skipped
    assert db.failed_checks(given.path) == {}  # asked for in full: run

    # The ledgers a run writes without loading anything are checked every time.
    run = "('2020-02-01', 'r', 'kcity-nightly', TIMESTAMP '2020-02-01 01:00', 'completed', 0, 0, 0, 0, 0)"
    with db.connect(given.path) as con:
        con.execute(
            "INSERT INTO ops.run_ledger (as_of, flow_run_id, flow_name, started_at, status, files_loaded,"
            f" files_rejected, rows_read, rows_loaded, rows_quarantined) VALUES {run}, {run}"
        )
    assert db.failed_checks(given.path, skip_unchanged=True) == {"keys_unique": 1}
    with db.connect(given.path) as con:
        con.execute("DELETE FROM ops.run_ledger")

    # A mart row more: its count changed, the checks run and catch it.
    with db.connect(given.path) as con:
        con.execute("INSERT INTO hist.submissions SELECT * FROM hist.submissions LIMIT 1")
    assert "one_office_per_request" in db.failed_checks(given.path, skip_unchanged=True)
    # A failure records nothing: the next run checks again and fails again.
    assert "one_office_per_request" in db.failed_checks(given.path, skip_unchanged=True)

    # A new day with a delivery: built, the latest marts replaced. (With nothing delivered
    # they would be re-dated as they are, the extra row with them, and the check would fail
    # again: test_snapshot_reuse.)
    given.file("b", "submissions", "2020-02-02", "b.csv", [submission("S3")])
    given.mart("headline", "2020-02-02")
    assert db.failed_checks(given.path, skip_unchanged=True) == {}
    assert db.failed_checks(given.path, skip_unchanged=True) is None
    # A ledger row changed in place, counts unchanged: seen.
    with db.connect(given.path) as con:
        con.execute("UPDATE ops.loads SET rows_read = 3 WHERE sha256 = 'a'")
    assert "rows_reconcile" in db.failed_checks(given.path, skip_unchanged=True)
