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
