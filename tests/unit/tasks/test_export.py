"""Exported cells can never run as spreadsheet formulas."""

import csv

import openpyxl
import pandas as pd
import pytest

from tasks.export import neutralize, write_csvs, write_xlsx


@pytest.mark.parametrize("text", ["=1+1", "+82 2 123", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_neutralized(text):
    assert neutralize(text) == "'" + text


def test_other_values_are_untouched():
    assert [neutralize(v) for v in ("Smart city", "", 5, -2.5, None)] == ["Smart city", "", 5, -2.5, None]


def test_xlsx_and_csv_keep_numbers_and_neutralize_text(tmp_path):
    frame = pd.DataFrame({"title": ["=HYPERLINK(\"x\")", "ok", "-dash"], "score": [-1.5, 2.0, None],
                          "day": pd.to_datetime(["2020-04-19", "2020-04-18", None])})  # fmt: skip
    book = openpyxl.load_workbook(write_xlsx({"t": frame}, tmp_path / "x.xlsx"))
    sheet = book["t"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet["A"]][1:] == ['\'=HYPERLINK("x")', "ok", "'-dash"]
    assert [c.value for c in sheet["B"]][1:] == [-1.5, 2, None]
    assert str(sheet["C2"].value.date()) == "2020-04-19"
    (path,) = write_csvs({"t": frame}, tmp_path / "csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    assert [r[0] for r in rows[1:]] == ['\'=HYPERLINK("x")', "ok", "'-dash"]
