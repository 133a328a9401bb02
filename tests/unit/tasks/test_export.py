"""Exported cells can never run as spreadsheet formulas; tables stream in batches and a
table longer than a sheet continues on further sheets, every row kept and in order."""

import csv

import duckdb
import openpyxl
import pytest

from tasks import export
from tasks.export import neutralize, write_csvs, write_xlsx
from warehouse.db import sql_literal

TEXTS = ["=1+1", "+82 2 123", "-2", "@SUM(A1)", "\tx", "\rx", "Smart city", "", "a=b", "'quoted", None]


@pytest.mark.parametrize("text", ["=1+1", "+82 2 123", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_neutralized(text):
    assert neutralize(text) == "'" + text


def test_other_values_are_untouched():
    assert [neutralize(v) for v in ("Smart city", "", 5, -2.5, None)] == ["Smart city", "", 5, -2.5, None]


def _values(texts: list) -> str:
    rows = ", ".join(f"({i}, {sql_literal(t)})" for i, t in enumerate(texts))
    return f"SELECT * FROM (VALUES {rows}) AS t(i, title) ORDER BY i"


def test_text_columns_are_neutralized_in_the_batches_as_neutralize_does(tmp_path):
    con = duckdb.connect()
    (path,) = write_csvs(con, {"t": _values(TEXTS)}, tmp_path)
    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    assert [r[1] for r in rows[1:]] == ["" if t is None else neutralize(t) for t in TEXTS]


def test_xlsx_and_csv_keep_numbers_and_neutralize_text(tmp_path):
    con = duckdb.connect()
    sql = """
        SELECT * FROM (VALUES
            (1, '=HYPERLINK("x")', -1.5::DOUBLE, DATE '2020-04-19', true, 3.25::DECIMAL(18, 4)),
            (2, 'ok', 2.0, DATE '2020-04-18', false, NULL),
            (3, '-dash', NULL, NULL, NULL, 1.0)
        ) AS t(i, title, score, day, shortlisted, avg) ORDER BY i
    """
    book = openpyxl.load_workbook(write_xlsx(con, {"t": sql}, tmp_path / "x.xlsx"))
    sheet = book["t"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F4"
    assert [c.value for c in sheet["B"]][1:] == ['\'=HYPERLINK("x")', "ok", "'-dash"]
    assert [c.value for c in sheet["C"]][1:] == [-1.5, 2, None]
    assert str(sheet["D2"].value.date()) == "2020-04-19"
    assert [c.value for c in sheet["E"]][1:] == [True, False, None]
    assert [c.value for c in sheet["F"]][1:] == [3.25, None, 1]
    (path,) = write_csvs(con, {"t": sql}, tmp_path / "csv")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\r\n") == 4
    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    assert rows[0] == ["i", "title", "score", "day", "shortlisted", "avg"]
    assert [r[1] for r in rows[1:]] == ['\'=HYPERLINK("x")', "ok", "'-dash"]
    assert [r[2] for r in rows[1:]] == ["-1.5", "2", ""]


def test_a_table_longer_than_a_sheet_continues_on_further_sheets_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "SHEET_ROWS", 5)  # a header and 4 rows per sheet
    monkeypatch.setattr(export, "BATCH_ROWS", 3)  # several batches per sheet, across sheets
    con = duckdb.connect()
    queries = {
        "a_long_table_name_over_thirty_one": "SELECT range AS n, 'r' || range AS label FROM range(10) ORDER BY n",
        "empty": "SELECT 1 AS n WHERE false",
    }
    book = openpyxl.load_workbook(write_xlsx(con, queries, tmp_path / "x.xlsx"))
    assert book.sheetnames == [
        "a_long_table_name_over_thirty_o",  # 31 characters at most
        "a_long_table_name_over_thirt_2",
        "a_long_table_name_over_thirt_3",
        "empty",
    ]
    sheets = [book[n] for n in book.sheetnames]
    assert all(s["A1"].value == "n" and s["B1"].value == "label" for s in sheets[:3])  # each with the header
    assert [[c.value for c in r] for r in sheets[3].iter_rows()] == [["n"]]  # no rows: the header alone
    numbers = [c.value for s in sheets[:3] for c in s["A"][1:]]
    assert numbers == list(range(10))  # every row once, in order, over the three sheets
    assert [s.max_row for s in sheets] == [5, 5, 3, 1]
    assert [s.auto_filter.ref for s in sheets] == ["A1:B5", "A1:B5", "A1:B3", "A1:A2"]
    (path, _) = write_csvs(con, queries, tmp_path / "csv")
    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    assert [int(r[0]) for r in rows[1:]] == list(range(10))
