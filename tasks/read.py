"""Read one inbox file into a frame of raw text with the contract's column names.

CSV (UTF-8, UTF-8 with BOM, CP949), JSON array, JSON Lines and XLSX (first sheet).
Every value stays text (blank -> missing); Excel date cells become ISO text.
The index is the row number a person sees: the spreadsheet row for CSV/XLSX
(header = row 1), the line for JSON Lines, the element (from 1) for a JSON array.
A file that cannot be read at all yields `error` instead of rows.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import functools
import gc
import io
import json
import math
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from schemas import feedback, submission

SPECS = {"submissions": submission, "feedback": feedback}
# Arrow's allocator for the batches: jemalloc hands freed pages back to the system within a
# second; with pyarrow's default (mimalloc) a 400k-row form file's load peaked ~100 MiB
# higher (1,053-1,094 vs 946-967 MiB RSS, three runs each).
with contextlib.suppress(NotImplementedError):  # a pyarrow build without jemalloc
    pa.set_memory_pool(pa.jemalloc_memory_pool())
csv.field_size_limit(64 * 1024 * 1024)  # long descriptions load; a runaway unclosed quote still ends at EOF
_HEADER_JUNK = re.compile(r"[ \t\-\.]+")


class UnreadableFile(Exception):
    """The file as a whole cannot be read; the message says why."""


@dataclass
class RawBatch:
    """Part of a file: raw text rows (index = row number) and the rows of the wrong shape."""

    rows: pd.DataFrame
    shape_problems: pd.DataFrame


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


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cycle collector while a sheet becomes Python objects: 100k rows are ~1.4M
    new objects with no cycles among them, and the collector scanning them again and again
    is wasted (bench/xlsx.py, 100k x 13 cells: 3.9 s -> 3.5 s)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _xlsx_sheet(path: Path) -> list[list[object]]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as e:  # calamine raises several error types for broken files
        raise UnreadableFile(f"not a readable XLSX workbook ({type(e).__name__}: {e})") from e
    if not sheet:
        raise UnreadableFile("the first sheet is empty: no header row")
    return sheet


def _text_array(values: tuple) -> pa.Array:
    """One column of cells -> Arrow text, blank -> null (C speed for the usual all-text column)."""
    try:
        array = pa.array(list(values), type=pa.string())  # a list converts 3x faster than a tuple
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers, dates, booleans: one by one
        return pa.array([_cell_text(v) for v in values], type=pa.string())
    return _blank_to_null(array)


def _read_xlsx(path: Path, source: str) -> RawFile:
    """First sheet, column by column in Arrow (per-cell Python work is what costs at 100k rows)."""
    with _no_cycle_collection():
        return _read_xlsx_sheet(path, source)


def _read_xlsx_sheet(path: Path, source: str) -> RawFile:
    sheet = _xlsx_sheet(path)
    header = [_cell_text(c) or "" for c in sheet[0]]
    layout = layout_of(source, path.name, header)
    body = sheet[1:]
    if any(len(r) != layout.width for r in body):  # cells beyond the header: check row by row
        kept = [
            (n, list(r)) for n, r in enumerate(body, start=2) if any(_cell_text(c) is not None for c in r)
        ]
        batch = _batch_from_records(layout, [r for _, r in kept], [n for n, _ in kept])
        return RawFile(source, batch.rows, notes=list(layout.notes), shape_problems=batch.shape_problems)
    if not body:
        return RawFile(source, empty_rows(source), notes=list(layout.notes), shape_problems=_NO_SHAPE.copy())
    arrays = [_text_array(col) for col in zip(*body, strict=True)]
    del sheet, body  # the Python cells: Arrow holds the text now
    filled = functools.reduce(pc.or_, [pc.is_valid(a) for a in arrays])  # blank rows are skipped
    columns = {
        c: arrays[layout.positions[c]].filter(filled) if c in layout.positions else None
        for c in SPECS[source].COLUMNS
    }
    numbers = pa.array(np.arange(2, len(filled) + 2, dtype=np.int64)).filter(filled)
    table = pa.table(
        {
            "row_number": numbers,
            **{c: a if a is not None else pa.nulls(len(numbers), pa.string()) for c, a in columns.items()},
        }
    )
    frame = table.to_pandas().set_index("row_number").astype("str")
    return RawFile(source, _finish(layout, frame), notes=list(layout.notes), shape_problems=_NO_SHAPE.copy())


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


@dataclass(frozen=True)
class Layout:
    """How a file's columns map to the contract's: checked once, from the header."""

    source: str
    width: int
    positions: dict[str, int]  # contract column -> position in the file
    prefix: str | None  # the file name's `<ministry>_` part (feedback)
    notes: tuple[str, ...]


def layout_of(source: str, file_name: str, header: list) -> Layout:
    """Check a header against the contract; raise UnreadableFile saying what is wrong."""
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
    positions = {n: i for i, n in enumerate(names) if n in spec.COLUMNS}
    return Layout(source, len(names), positions, prefix, tuple(notes))


def _finish(layout: Layout, frame: pd.DataFrame) -> pd.DataFrame:
    if layout.source == "feedback" and layout.prefix:
        frame["ministry"] = frame["ministry"].fillna(layout.prefix)
    return frame


def _batch_from_records(layout: Layout, rows: list, numbers: list[int]) -> RawBatch:
    """Rows as Python values (lists, or exceptions for rows that could not be parsed) -> a batch."""
    spec = SPECS[layout.source]
    width = layout.width
    data: dict[str, list[str | None]] = {c: [] for c in spec.COLUMNS}
    problems: list[tuple[int, str, str]] = []
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
            i = layout.positions.get(c)
            data[c].append(_cell_text(row[i]) if i is not None and i < len(row) else None)
    frame = pd.DataFrame(data, index=pd.Index(numbers, name="row_number", dtype="int64"), dtype="str")
    shape = pd.DataFrame(problems, columns=["row_number", "rule", "value"]).astype({"row_number": "int64"})
    return RawBatch(_finish(layout, frame), shape)


def _frame(source: str, file_name: str, header: list, rows: list, numbers: list[int]) -> RawFile:
    layout = layout_of(source, file_name, header)
    batch = _batch_from_records(layout, rows, numbers)
    return RawFile(source, batch.rows, notes=list(layout.notes), shape_problems=batch.shape_problems)


# --- CSV: streamed in Arrow record batches, bounded memory at any file size --------------------

CSV_BLOCK_BYTES = 16 << 20  # one Arrow block (~35k form rows); a batch is one block
# Blocks the CSV reader may read ahead of the batches handed out (Arrow's own read-ahead is
# up to 32 blocks: a whole file at our sizes, held in memory while its first batch loads).
# Arrow hands out a batch once it has the next block (a record may straddle the two): 2 is
# the least that never waits (with 1, every read waited out the guard timeout).
CSV_READ_AHEAD = 2
_CHUNK = 8 << 20


class BlockTooSmall(Exception):
    """One CSV record is larger than the read block; read the file again in one block."""


def _utf8_copy(path: Path, tmp_dir: Path) -> tuple[Path, str]:
    """Check the encoding in one streamed pass: (a UTF-8 file to parse, encoding name).
    UTF-8 files are parsed in place; CP949 ones are transcoded to a temporary UTF-8 copy."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise UnreadableFile("encoded as UTF-16; save it as UTF-8 or CP949 CSV")
        f.seek(0)
        for encoding in ("utf-8-sig", "cp949"):
            f.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)()
            out = (
                None
                if encoding.startswith("utf-8")
                else open(tmp_dir / f"{path.stem}.utf8.csv", "w", encoding="utf-8", newline="")
            )  # noqa: SIM115
            lines, offset = 1, 0
            try:
                while chunk := f.read(_CHUNK):
                    try:
                        text = decoder.decode(chunk)
                    except UnicodeDecodeError as e:
                        if encoding.startswith("utf-8"):
                            raise
                        line = lines + chunk[: e.start].count(b"\n")
                        raise UnreadableFile(
                            f"neither UTF-8 nor CP949 text (undecodable byte on line {line}, offset "
                            f"{offset + e.start}); mixed encodings in one file?"
                        ) from e
                    if "\x00" in text:
                        raise UnreadableFile("contains NUL bytes: not a text CSV file")
                    if out is not None:
                        out.write(text)
                    lines += chunk.count(b"\n")
                    offset += len(chunk)
                tail = decoder.decode(b"", final=True)
                if out is not None:
                    out.write(tail)
                    out.close()
                    return tmp_dir / f"{path.stem}.utf8.csv", encoding
                return path, "utf-8"
            except UnicodeDecodeError:
                continue
            finally:
                if out is not None and not out.closed:
                    out.close()
    raise AssertionError("unreachable")  # cp949 either decodes or raises UnreadableFile


def _csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        head = f.read(1 << 20)
    if not head.strip():
        raise UnreadableFile("empty file")
    try:
        header = next(csv.reader(io.StringIO(head, newline=""), strict=True), None)
    except csv.Error as e:
        raise UnreadableFile(f"broken CSV header: {e}") from e
    if not header:
        raise UnreadableFile("empty file: no header row")
    return header


def _numbers(start: int, count: int, skipped: np.ndarray) -> np.ndarray:
    """The first `count` record numbers from `start` that are not in `skipped` (sorted)."""
    later = skipped[skipped >= start]
    candidates = np.arange(start, start + count + len(later), dtype=np.int64)
    return candidates[~np.isin(candidates, later)][:count]


def _blank_to_null(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """'' and whitespace-only text are missing values, as for every other format."""
    return pc.if_else(pc.equal(pc.utf8_trim_whitespace(column), ""), pa.scalar(None, pa.string()), column)


class _PacedFile(io.RawIOBase):
    """A file the CSV reader's background thread may read only `ahead` blocks beyond the
    batches taken (`took`), so a file's bytes are not all in memory at its first batch."""

    def __init__(self, path: Path, block_size: int, ahead: int) -> None:
        super().__init__()
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 (closed by close())
        self._budget = block_size * ahead
        self._block = block_size
        self._taken = 0
        self._read = 0
        self._changed = threading.Condition()

    def readable(self) -> bool:
        return True

    def took(self) -> None:
        """One more batch handed out: the reader may read one block further."""
        with self._changed:
            self._taken += 1
            self._changed.notify_all()

    def _may_read(self) -> bool:
        return self.closed or self._read < self._taken * self._block + self._budget

    def read(self, size: int = -1) -> bytes:
        with self._changed:  # held while reading too: close() cannot come in between
            # The timeout only guards against a stall if Arrow ever needs more than `ahead`
            # blocks for one batch: then it reads on, one block per second.
            self._changed.wait_for(self._may_read, timeout=1.0)
            if self.closed:
                return b""
            data = self._file.read(size)
            self._read += len(data)
            return data

    def close(self) -> None:
        with self._changed:
            if not self.closed:
                self._file.close()
                super().close()
            self._changed.notify_all()


def _csv_batches(path: Path, layout: Layout, block_size: int) -> Iterator[RawBatch]:
    source = _PacedFile(path, block_size, CSV_READ_AHEAD)
    try:
        yield from _csv_batches_from(source, layout, block_size)
    finally:
        source.close()


def _csv_batches_from(source: _PacedFile, layout: Layout, block_size: int) -> Iterator[RawBatch]:
    spec = SPECS[layout.source]
    invalid: list[tuple[int, str]] = []

    def on_invalid(row) -> str:  # ragged rows, read again below with Python's csv module
        invalid.append((row.number, row.text))
        return "skip"

    names = [f"f{i}" for i in range(layout.width)]
    try:
        reader = pa_csv.open_csv(
            source,
            read_options=pa_csv.ReadOptions(
                use_threads=False, block_size=block_size, skip_rows=1, column_names=names, encoding="utf8"
            ),
            parse_options=pa_csv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=on_invalid, ignore_empty_lines=False
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as e:
        if "straddl" in str(e):
            raise BlockTooSmall(str(e)) from e
        raise UnreadableFile(f"broken CSV: {e}") from e
    next_number, done = 2, 0  # the header is row 1
    batches = iter(reader)
    while True:
        try:
            block = next(batches, None)
            source.took()
        except pa.ArrowInvalid as e:
            if "straddl" in str(e):
                raise BlockTooSmall(str(e)) from e
            raise UnreadableFile(f"broken CSV after row {next_number - 1}: {e}") from e
        extra = invalid[done:]
        done = len(invalid)
        if block is None and not extra:
            return
        parts = []
        if block is not None and block.num_rows:
            skipped = np.array(sorted(n for n, _ in invalid), dtype=np.int64)
            numbers = _numbers(next_number, block.num_rows, skipped)
            next_number = int(numbers[-1]) + 1
            blank = pc.equal(pc.binary_join_element_wise(*block.columns, ""), "")  # a blank line
            columns = {c: _blank_to_null(block.column(i)) for c, i in layout.positions.items()}
            table = pa.table(
                {
                    "row_number": pa.array(numbers),
                    **columns,
                    **{c: pa.nulls(block.num_rows, pa.string()) for c in spec.COLUMNS if c not in columns},
                }
            ).filter(pc.invert(blank))
            frame = table.to_pandas().set_index("row_number")[spec.COLUMNS].astype("str")
            parts.append(RawBatch(_finish(layout, frame), _NO_SHAPE.copy()))
        if extra:
            parts.append(_ragged_rows(layout, extra))
        yield RawBatch(
            pd.concat([p.rows for p in parts]) if len(parts) > 1 else parts[0].rows,
            pd.concat([p.shape_problems for p in parts], ignore_index=True),
        )


_NO_SHAPE = pd.DataFrame(
    {"row_number": pd.Series(dtype="int64"), "rule": pd.Series(dtype="str"), "value": pd.Series(dtype="str")}
)


def empty_rows(source: str) -> pd.DataFrame:
    """A frame of no rows with the contract's columns."""
    columns = {c: pd.Series(dtype="str") for c in SPECS[source].COLUMNS}
    return pd.DataFrame(columns, index=pd.Index([], name="row_number", dtype="int64"))


def _ragged_rows(layout: Layout, rows: list[tuple[int, str]]) -> RawBatch:
    """Rows Arrow skipped for their field count, parsed one by one (rare: kept simple)."""
    numbers, records = [], []
    for number, text in rows:
        try:
            parsed = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        except csv.Error as e:
            raise UnreadableFile(f"broken CSV near row {number}: {e}") from e
        numbers.append(number)
        records.append(parsed[0] if len(parsed) == 1 else UnreadableFile("not one CSV record"))
    return _batch_from_records(layout, records, numbers)


@dataclass
class RawStream:
    """A readable file, header checked: its notes, and its rows in batches."""

    source: str
    notes: list[str]
    batches: Iterator[RawBatch]


def open_raw(path: Path, source: str, tmp_dir: Path, block_size: int = CSV_BLOCK_BYTES) -> RawStream:
    """Check a file's header and return its rows as a stream of batches; content problems
    raise UnreadableFile (here, or while iterating: the caller discards what it read)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if path.stat().st_size == 0:
            raise UnreadableFile("empty file")
        text_path, _ = _utf8_copy(path, tmp_dir)
        header = _csv_header(text_path)
        layout = layout_of(source, path.name, header)
        return RawStream(source, list(layout.notes), _csv_batches(text_path, layout, block_size))
    raw = _read_whole(path, source)
    return RawStream(source, raw.notes, iter([RawBatch(raw.rows, raw.shape_problems)]))


def _read_whole(path: Path, source: str) -> RawFile:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path, source)
    else:
        data = path.read_bytes()
        if not data.strip():
            raise UnreadableFile("empty file")
        if suffix in (".json", ".jsonl") and source == "submissions":
            header, rows, numbers = _records_json(data, suffix == ".jsonl")
        else:
            raise UnreadableFile(f"unsupported file type {suffix or '(none)'} for {source}")
    return _frame(source, path.name, header, rows, numbers)


def read_raw(path: Path, source: str) -> RawFile:
    """Read a whole file into raw text rows; content problems become RawFile.error, not exceptions."""
    try:
        with tempfile.TemporaryDirectory(prefix="kcity-read-") as tmp:
            try:
                stream = open_raw(path, source, Path(tmp))
                batches = list(stream.batches)
            except BlockTooSmall:
                stream = open_raw(path, source, Path(tmp), block_size=path.stat().st_size + (1 << 20))
                batches = list(stream.batches)
        rows = pd.concat([b.rows for b in batches]) if batches else empty_rows(source)
        shape = (
            pd.concat([b.shape_problems for b in batches], ignore_index=True) if batches else _NO_SHAPE.copy()
        )
        return RawFile(source, rows.sort_index(), notes=stream.notes, shape_problems=shape)
    except UnreadableFile as e:
        return RawFile(source, None, error=f"{path.name}: {e}")
