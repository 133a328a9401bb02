"""`sql_literal` writes what the bookkeeping statements used to bind (they take no parameters
so that DuckDB's client does not import pandas): each literal must read back as the value
DuckDB binds for the same Python value, on any text a file name or an error can carry."""

import datetime as dt
import math

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from warehouse import db

CON = duckdb.connect()

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(dt.UTC)),
    # Any text but NUL (refused, below) and lone surrogates (no UTF-8 form: DuckDB cannot bind
    # one either, and text decoded from a file never holds one).
    st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"])),
)


@given(VALUES)
@settings(max_examples=400, deadline=None)
@example("'; DROP TABLE ops.run_ledger; --")
@example("a\\'b")  # a backslash is not an escape in a standard string
@example("it''s")
@example("$$ dollar $$")
@example("줄\n바꿈\t'탭'")
@example(dt.datetime(2020, 3, 9, 23, 59, 59, 999999))
def test_a_literal_reads_back_as_the_bound_value(value):
    literal = CON.execute(f"SELECT {db.sql_literal(value)}").fetchone()[0]
    bound = CON.execute("SELECT ?", [value]).fetchone()[0]
    assert literal == bound
    assert type(literal) is type(bound)


@given(st.floats())
@settings(max_examples=400, deadline=None)
@example(-0.00011941610576379302)  # read as a DECIMAL literal, it came back one bit off (CI)
@example(0.1)
@example(5e-324)
def test_a_float_literal_is_the_same_double(value):
    literal = CON.execute(f"SELECT {db.sql_literal(value)}").fetchone()[0]
    bound = CON.execute("SELECT ?", [value]).fetchone()[0]
    assert type(literal) is type(bound) is float
    assert literal == bound == value or math.isnan(literal) and math.isnan(bound) and math.isnan(value)


def test_a_nul_character_is_refused_not_cut():
    with pytest.raises(ValueError, match="NUL"):
        db.sql_literal("before\x00after")


def test_inline_fills_named_parameters_with_literals():
    text = db.inline("SELECT $a AS a, $b AS b, '$c' AS c", {"a": dt.date(2020, 3, 9), "b": "x'y"})
    assert CON.execute(text).fetchone() == (dt.date(2020, 3, 9), "x'y", "$c")


def test_a_run_ledger_row_reads_back_as_given_even_with_a_nul_in_its_message(tmp_path):
    from tasks.runlog import _text

    path = tmp_path / "internal.duckdb"
    db.init_warehouse(path)
    row = {
        "as_of": dt.date(2020, 3, 9), "flow_run_id": "run-'1'", "flow_name": "kcity-nightly",
        "started_at": dt.datetime(2020, 3, 9, 1, 2, 3, 456789), "finished_at": dt.datetime(2020, 3, 9, 1, 4),
        "status": "failed", "files_loaded": 2, "files_rejected": 1, "rows_read": 10, "rows_loaded": 8,
        "rows_quarantined": 2, "message": _text("form.csv: bad byte \x00 at row 3; it's 'quoted'"),
    }  # fmt: skip
    db.record_run_day(path, row)
    db.record_run_day(path, row | {"rows_read": 11})  # replaces the (as_of, flow_run_id) row
    with db.connect(path) as con:
        cur = con.execute(f"SELECT {', '.join(row)} FROM ops.run_ledger")
        got = cur.fetchall()
    assert got == [tuple((row | {"rows_read": 11}).values())]
    assert "\u2400" in got[0][-1]
    with pytest.raises(ValueError, match="NUL"):
        db.record_run_day(path, row | {"message": "raw \x00"})
