"""Exports for sharing: the marts of one snapshot as an XLSX workbook or UTF-8-with-BOM CSVs.

Text cells that begin with a formula character (=, +, -, @, tab, CR) are prefixed with an
apostrophe so no spreadsheet runs them. The marts hold no personal data; neither do these.

Tables are streamed from DuckDB in Arrow batches, never held whole (at a million requests
the score breakdown is 8M rows: read into pandas, the export peaked at 4.3 GB). A sheet holds
at most 1,048,576 rows, its header included: a longer table continues on further sheets
(`score_breakdown_2`, ...), no row left out.
"""

from __future__ import annotations

import codecs
import datetime as dt
import decimal
import itertools
import math
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import xlsxwriter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH_ROWS = 65_536
SHEET_ROWS = 1_048_576  # an XLSX sheet's rows, the header included
WIDTH_SAMPLE = 500  # rows a column's width is fitted to


def neutralize(value: object) -> object:
    """'=1+1' -> "'=1+1"; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _neutralized(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with `neutralize` applied to every text column (vectorised)."""
    columns = []
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            starts = pc.is_in(pc.utf8_slice_codeunits(column, 0, 1), value_set=pa.array(FORMULA_START))
            column = pc.if_else(starts, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def _reader(con: duckdb.DuckDBPyConnection, sql: str) -> pa.RecordBatchReader:
    return con.execute(sql).to_arrow_reader(BATCH_ROWS)


def write_csvs(con: duckdb.DuckDBPyConnection, queries: dict[str, str], folder: Path) -> list[Path]:
    """One CSV per query's result, UTF-8 with BOM (so Korean Excel opens it correctly), CRLF."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, sql in queries.items():
        path = folder / f"{name}.csv"
        reader = _reader(con, sql)
        with open(path, "wb") as f:
            f.write(codecs.BOM_UTF8)
            with pacsv.CSVWriter(f, reader.schema, write_options=pacsv.WriteOptions(eol="\r\n")) as out:
                for batch in reader:
                    out.write_batch(_neutralized(batch))
        paths.append(path)
    return paths


def _cell(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _rows(reader: pa.RecordBatchReader) -> Iterator[tuple]:
    for batch in reader:
        yield from zip(*(column.to_pylist() for column in _neutralized(batch).columns), strict=True)


def _width(name: str, values: list) -> int:
    return min(max(len(name), *(len(str(v)) for v in values if v is not None), 6) + 2, 60)


def write_xlsx(con: duckdb.DuckDBPyConnection, queries: dict[str, str], path: Path) -> Path:
    """One sheet per query's result (continued on `<name>_2`, ... beyond a sheet's rows): bold
    frozen header, filter, column widths fitted to the first rows. Written row by row in
    xlsxwriter's constant-memory mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    book.set_properties({"title": "K-City Network selection summary", "created": dt.datetime(2020, 1, 1)})
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp_fmt = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})

    def cell(sheet, i: int, j: int, v: object) -> None:
        v = _cell(v)
        if v is None:
            return
        if isinstance(v, dt.datetime | dt.date):
            fmt = stamp_fmt if isinstance(v, dt.datetime) and (v.hour or v.minute) else date_fmt
            sheet.write_datetime(i, j, v, fmt)
        elif isinstance(v, bool):
            sheet.write_boolean(i, j, v)
        elif isinstance(v, int | float):
            sheet.write_number(i, j, v)
        else:
            sheet.write_string(i, j, str(v))

    for name, sql in queries.items():
        reader = _reader(con, sql)
        names = reader.schema.names
        rows = _rows(reader)
        first = list(itertools.islice(rows, WIDTH_SAMPLE))
        widths = [_width(n, [r[j] for r in first]) for j, n in enumerate(names)]
        sheets, i = [], SHEET_ROWS
        for row in itertools.chain(first, rows):
            if i == SHEET_ROWS:  # a new sheet: the first, or a continuation
                sheets.append(_new_sheet(book, name, len(sheets) + 1, names, widths, bold))
                i = 1
            for j, v in enumerate(row):
                cell(sheets[-1], i, j, v)
            i += 1
        if not sheets:  # no rows: the header alone
            sheets.append(_new_sheet(book, name, 1, names, widths, bold))
            i = 1
        for n, sheet in enumerate(sheets, 1):
            last = SHEET_ROWS - 1 if n < len(sheets) else max(i - 1, 1)
            sheet.autofilter(0, 0, last, max(len(names) - 1, 0))
    book.close()
    return path


def _new_sheet(book, name: str, part: int, names: list[str], widths: list[int], bold):
    title = name[:31] if part == 1 else f"{name[:28]}_{part}"
    sheet = book.add_worksheet(title)
    for j, (column, width) in enumerate(zip(names, widths, strict=True)):
        sheet.set_column(j, j, width)
        sheet.write_string(0, j, column, bold)
    sheet.freeze_panes(1, 0)
    return sheet
