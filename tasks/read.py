"""Read one inbox file into a frame of raw text with the contract's column names.

CSV (UTF-8, UTF-8 with BOM, CP949), JSON array, JSON Lines and XLSX (first sheet).
Every value stays text (blank -> missing); Excel date cells become ISO text.
The index is the row number a person sees: the spreadsheet row for CSV/XLSX
(header = row 1), the line for JSON Lines, the element (from 1) for a JSON array.
A file that cannot be read at all yields `error` instead of rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
from prefect import task

from kcity.faults import crash_point
from schemas import feedback, submission

SPECS = {"submissions": submission, "feedback": feedback}
csv.field_size_limit(64 * 1024 * 1024)  # long descriptions load; a runaway unclosed quote still ends at EOF
_HEADER_JUNK = re.compile(r"[ \t\-\.]+")


class UnreadableFile(Exception):
    """The file as a whole cannot be read; the message says why."""


@dataclass
class RawFile:
    """What reading one file gave: raw text rows, or the reason it could not be read."""

    source: str
    rows: pd.DataFrame | None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    # Rows whose shape is wrong before any column rule applies (ragged CSV, broken JSON line).
    shape_problems: pd.DataFrame | None = None

    @property
    def rows_read(self) -> int:
        return 0 if self.rows is None else len(self.rows)


def normalize_header(name: object) -> str:
    """`Submission ID ` -> `submission_id`; Korean headers unchanged but trimmed."""
    text = unicodedata.normalize("NFKC", str(name or "")).replace("\ufeff", "").strip()
    return _HEADER_JUNK.sub("_", text).strip("_").lower()


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else CP949; anything else is unreadable."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile("encoded as UTF-16; save it as UTF-8 or CP949 CSV")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp949")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise UnreadableFile(
            f"neither UTF-8 nor CP949 text (undecodable byte on line {line}, offset {e.start}); "
            "mixed encodings in one file?"
        ) from e


def _cell_text(value: object) -> str | None:
    """One cell or JSON value -> text, None for blank."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    return text if text.strip() else None


def _records_csv(data: bytes) -> tuple[list[str], list[list[str]], list[int]]:
    text = decode(data)
    if "\x00" in text:
        raise UnreadableFile("contains NUL bytes: not a text CSV file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise UnreadableFile("empty file: no header row")
        rows, numbers = [], []
        for number, record in enumerate(reader, start=2):  # the row Excel shows; header = 1
            if not record:  # a blank line
                continue
            rows.append(record)
            numbers.append(number)
    except csv.Error as e:
        raise UnreadableFile(f"broken CSV near line {reader.line_num}: {e}") from e
    return header, rows, numbers


def _records_xlsx(path: Path) -> tuple[list[str], list[list[object]], list[int]]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as e:  # calamine raises several error types for broken files
        raise UnreadableFile(f"not a readable XLSX workbook ({type(e).__name__}: {e})") from e
    if not sheet:
        raise UnreadableFile("the first sheet is empty: no header row")
    header = [_cell_text(c) or "" for c in sheet[0]]
    rows, numbers = [], []
    for i, row in enumerate(sheet[1:], start=2):
        if all(_cell_text(c) is None for c in row):
            continue
        rows.append(list(row))
        numbers.append(i)
    return header, rows, numbers


def _records_json(data: bytes, jsonl_hint: bool) -> tuple[list[str], list[list[object]], list[int]]:
    text = decode(data)
    objects: list[tuple[int, object]] = []
    if not jsonl_hint:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            if e.msg != "Extra data":
                raise UnreadableFile(f"broken JSON at line {e.lineno} column {e.colno}: {e.msg}") from e
            jsonl_hint = True
        else:
            if not isinstance(doc, list):
                raise UnreadableFile(f"JSON top level is {type(doc).__name__}, expected an array of objects")
            objects = list(enumerate(doc, start=1))
    if jsonl_hint:
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    objects.append((n, json.loads(line)))
                except json.JSONDecodeError as e:
                    objects.append((n, UnreadableFile(f"broken JSON line: {e.msg}")))
    header: list[str] = []
    for _, obj in objects:
        if isinstance(obj, dict):
            header += [k for k in obj if k not in header]
    rows = [[obj.get(k) for k in header] if isinstance(obj, dict) else obj for _, obj in objects]
    return header, rows, [n for n, _ in objects]


def _frame(source: str, file_name: str, header: list, rows: list, numbers: list[int]) -> RawFile:
    spec = SPECS[source]
    names = [normalize_header(h) for h in header]
    names = [spec.HEADER_ALIASES.get(n, n) for n in names]
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise UnreadableFile(f"duplicate column(s) after normalising headers: {', '.join(dupes)}")
    notes = []
    extra = [h for h, n in zip(header, names, strict=True) if n not in spec.COLUMNS]
    if extra:
        notes.append(f"ignored unknown column(s): {', '.join(str(h) for h in extra)}")
    prefix = file_name.split("_", 1)[0] if "_" in file_name else None
    missing = [c for c in spec.REQUIRED if c not in names]
    if source == "feedback" and "ministry" not in names and not prefix:
        missing.append("ministry (no column, and the file name has no '<ministry>_' prefix)")
    if missing:
        hint = ""
        if len(header) == 1 and any(sep in str(header[0]) for sep in (";", "\t", "|")):
            sep = next(sep for sep in (";", "\t", "|") if sep in str(header[0]))
            hint = f" (the header is one column separated by {sep!r}; the contract expects commas)"
        raise UnreadableFile(f"missing required column(s): {', '.join(missing)}{hint}")
    if source == "feedback":
        scores = [c for c in feedback.SCORES if c in names]
        if not scores:
            raise UnreadableFile("no score column: needs at least one of cooperation, prospects, business")
    width = len(names)
    data: dict[str, list[str | None]] = {c: [] for c in spec.COLUMNS}
    problems: list[tuple[int, str, str]] = []
    positions = {n: i for i, n in enumerate(names) if n in spec.COLUMNS}
    for number, row in zip(numbers, rows, strict=True):
        if isinstance(row, UnreadableFile):
            problems.append((number, "json_line_broken", str(row)))
            row = []
        elif not isinstance(row, list):
            problems.append((number, "json_not_an_object", type(row).__name__))
            row = []
        elif len(row) < width or any(_cell_text(v) is not None for v in row[width:]):
            problems.append((number, "field_count", f"{len(row)} fields, header has {width}"))
        for c in spec.COLUMNS:
            i = positions.get(c)
            data[c].append(_cell_text(row[i]) if i is not None and i < len(row) else None)
    frame = pd.DataFrame(data, index=pd.Index(numbers, name="row_number"), dtype="str")
    if source == "feedback" and prefix:
        frame["ministry"] = frame["ministry"].fillna(prefix)
    shape = pd.DataFrame(problems, columns=["row_number", "rule", "value"])
    return RawFile(source, frame, notes=notes, shape_problems=shape)


def read_raw(path: Path, source: str) -> RawFile:
    """Read a file into raw text rows; content problems become RawFile.error, not exceptions."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            header, rows, numbers = _records_xlsx(path)
        else:
            data = path.read_bytes()
            if not data.strip():
                raise UnreadableFile("empty file")
            if suffix == ".csv":
                header, rows, numbers = _records_csv(data)
            elif suffix in (".json", ".jsonl") and source == "submissions":
                header, rows, numbers = _records_json(data, suffix == ".jsonl")
            else:
                raise UnreadableFile(f"unsupported file type {suffix or '(none)'} for {source}")
        return _frame(source, path.name, header, rows, numbers)
    except UnreadableFile as e:
        return RawFile(source, None, error=f"{path.name}: {e}")


def retry_on_io_errors(task, task_run, state) -> bool:
    """Retry on I/O errors (a share that hiccups, a busy file), never on logic errors."""
    try:
        state.result()
    except (OSError, duckdb.IOException):
        return True
    except Exception:
        return False
    return False


@task(name="read-file", retries=3, retry_delay_seconds=[1, 4, 16], retry_condition_fn=retry_on_io_errors)
def read_file(path: Path, source: str) -> RawFile:
    """Prefect task: read one inbox file (I/O errors retried with backoff)."""
    raw = read_raw(path, source)
    crash_point("read")
    return raw
