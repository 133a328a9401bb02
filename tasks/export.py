"""Exports for sharing: the marts of one snapshot as an XLSX workbook or UTF-8-with-BOM CSVs.

Text cells that begin with a formula character (=, +, -, @, tab, CR) are prefixed with an
apostrophe so no spreadsheet runs them. The marts hold no personal data; neither do these.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import xlsxwriter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> object:
    """'=1+1' -> "'=1+1"; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot be taken for formulas."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralize, na_action="ignore")
    return out


def write_csvs(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """One CSV per table, UTF-8 with BOM so Korean Excel opens it correctly."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        path = folder / f"{name}.csv"
        safe_frame(frame).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        paths.append(path)
    return paths


def _cell(value: object) -> object:
    if value is None or (not isinstance(value, str | bool) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def write_xlsx(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """One sheet per table: bold frozen header, filter, column widths fitted to the content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({"title": "K-City Network selection summary", "created": dt.datetime(2020, 1, 1)})
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp_fmt = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for name, frame in tables.items():
        sheet = book.add_worksheet(name[:31])
        safe = safe_frame(frame)
        for j, col in enumerate(safe.columns):
            sheet.write_string(0, j, str(col), bold)
            values = safe[col].tolist()
            is_date = pd.api.types.is_datetime64_any_dtype(frame[col])
            for i, v in enumerate(values, start=1):
                v = _cell(v)
                if v is None:
                    continue
                if isinstance(v, dt.datetime | dt.date):
                    fmt = stamp_fmt if isinstance(v, dt.datetime) and (v.hour or v.minute) else date_fmt
                    sheet.write_datetime(i, j, v, fmt)
                elif isinstance(v, bool):
                    sheet.write_boolean(i, j, v)
                elif isinstance(v, int | float) and not is_date:
                    sheet.write_number(i, j, v)
                else:
                    sheet.write_string(i, j, str(v))
            width = max(
                [len(str(col))] + [len(str(v)) for v in values[:500] if v is not None and not pd.isna(v)]
            )
            sheet.set_column(j, j, min(max(width + 2, 8), 60))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(safe), 1), max(len(safe.columns) - 1, 0))
    book.close()
    return path
