"""Load one file content as a Prefect task: read -> validate (Pandera) -> stage, in batches.

Kept apart from tasks/load.py so a run with nothing to read never imports the reading and
validation stack (Pandera, Arrow CSV, the schemas): a nothing-new nightly starts faster.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from prefect import get_run_logger, task

from kcity.faults import crash_point
from tasks.plan import LoadItem
from tasks.read import CSV_BLOCK_BYTES, BlockTooSmall, RawBatch, UnreadableFile, open_raw
from tasks.retry import retry_on_io_errors
from tasks.transform import STAGERS
from tasks.validate import validate_rows
from warehouse import loading
from warehouse.backend import Internal

T = TypeVar("T")
_END = object()


class Ahead(Generic[T]):
    """`items`, each made in a background thread while the caller works on the one before.

    Loading alternates Python work (reading, Pandera, staging) with DuckDB's inserts; both
    release the GIL for most of their time, so on two cores the next batch is validated while
    this one is inserted. The thread starts at once, or once `after` is set (a file is read
    before its turn to load, once the file before it is read). At most two items are alive:
    the caller's and the next one (the memory of one more batch); one before the caller takes
    the first. What the producer raises is raised here, in order; `close` (the caller stopped
    early: an error, a rollback, a file never loaded) stops the producer after its current
    item and closes `items`. `finished` is set when the producer is done, whichever way.
    """

    def __init__(self, items: Iterator[T], after: threading.Event | None = None) -> None:
        self._items = items
        self._after = after
        self._done: queue.Queue = queue.Queue()
        # The caller's item and the one being made; until the caller takes one, only one.
        self._slots = threading.Semaphore(1)
        self._started = False
        self._stop = threading.Event()
        self.finished = threading.Event()
        self._holding = False  # the caller has an item (it holds a slot)
        self._closed = False
        self._worker = threading.Thread(target=self._produce, name="kcity-load-ahead", daemon=True)
        self._worker.start()

    def _produce(self) -> None:
        try:
            while self._after is not None and not self._after.wait(0.05):
                if self._stop.is_set():
                    return
            while True:
                self._slots.acquire()
                if self._stop.is_set():
                    return
                item = next(self._items, _END)
                self._done.put(item)
                if item is _END:
                    return
        except BaseException as e:  # handed to the caller, raised there
            self._done.put(e)
        finally:
            close = getattr(self._items, "close", None)
            if close is not None:
                close()
            self.finished.set()

    def __iter__(self) -> Ahead[T]:
        return self

    def __next__(self) -> T:
        if self._closed:
            raise StopIteration
        if not self._started:  # from now on, the next item is made while the caller works
            self._started = True
            self._slots.release()
        if self._holding:  # the caller is done with the item before
            self._slots.release()
            self._holding = False
        item = self._done.get()
        if item is _END:
            self.close()
            raise StopIteration
        if isinstance(item, BaseException):
            self.close()
            raise item
        self._holding = True
        return item

    def close(self) -> None:
        """Stop the producer (after its current item) and wait for it; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._slots.release()
        self._worker.join()


def ahead(items: Iterator[T]) -> Ahead[T]:
    """`items` made one ahead in a background thread, started now (see `Ahead`)."""
    return Ahead(items)


def _load_batches(raw_batches: Iterator[RawBatch], source: str) -> Iterator[loading.LoadBatch]:
    """Validate and stage each batch of raw rows (Pandera per batch, bounded memory), the
    next batch while the caller inserts this one (`ahead`)."""
    return ahead(_checked_batches(raw_batches, source))


def _checked_batches(raw_batches: Iterator[RawBatch], source: str) -> Iterator[loading.LoadBatch]:
    first = True
    for batch in raw_batches:
        if first:
            crash_point("read")
        checked = validate_rows(batch.rows, source, batch.shape_problems)
        if first:
            crash_point("validated")
            first = False
        raw_rows = batch.rows.reset_index()
        shape = batch.shape_problems.rename(columns={"rule": "shape_rule", "value": "shape_value"})
        raw_rows = raw_rows.merge(shape, on="row_number", how="left") if len(shape) else raw_rows
        yield loading.LoadBatch(raw_rows, STAGERS[source](checked.valid), checked.quarantine)


def _ingest(internal: Internal, inbox: Path, item: LoadItem) -> dict:
    ledger = {
        "sha256": item.sha256,
        "source": item.source,
        "delivery_date": item.delivery_date,
        "file_name": item.file_name,
        "rel_path": item.rel_path,
        "status": "loaded",
        "rows_read": 0,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "error": None,
        "notes": None,
    }
    if not item.from_file:  # the file is gone: re-validate the raw rows it loaded before
        return loading.load_content(
            internal,
            ledger,
            lambda pages: _load_batches((RawBatch(*loading.replay_batch(p)) for p in pages), item.source),
            replay=True,
        )
    path = inbox / item.rel_path
    reading = _READ_AHEAD.pop((item.rel_path, item.sha256), None)
    block = CSV_BLOCK_BYTES
    while True:
        current, reading = reading or _start_reading(path, item.source, block), None
        try:
            return loading.load_content(internal, ledger, lambda _, r=current, d=ledger: _noted(r, d))
        except BlockTooSmall:  # one record larger than a block: read this file as one block
            block = path.stat().st_size + (1 << 20)
        except UnreadableFile as e:
            ledger |= {"status": "rejected", "error": f"{path.name}: {e}", "notes": None}
            return loading.load_content(internal, ledger, None)
        finally:
            current.batches.close()  # read to the end, or a load that stopped early


@dataclass
class _Reading:
    """One file being read and validated in the background (`Ahead`); `notes`, the reader's
    notes on the file (encoding, header layout), are there once it is opened."""

    notes: list[str]
    batches: Ahead[loading.LoadBatch]


# The next file's reading, started while the file before it loads: (rel_path, sha256) -> it;
# the last one started (the next one starts when it has made its last batch).
_READ_AHEAD: dict[tuple[str, str], _Reading] = {}
_LAST_READ: _Reading | None = None


def _file_batches(path: Path, source: str, block: int, notes: list[str]) -> Iterator[loading.LoadBatch]:
    with tempfile.TemporaryDirectory(prefix="kcity-read-") as tmp:
        stream = open_raw(path, source, Path(tmp), block_size=block)
        notes.extend(stream.notes)
        yield from _checked_batches(stream.batches, source)


def _start_reading(path: Path, source: str, block: int, after: threading.Event | None = None) -> _Reading:
    """Open, read and validate `path` batch by batch, one batch ahead, from now on (or once
    `after` is set); what goes wrong (an unreadable file, a block too small) is raised where
    its batches are taken."""
    notes: list[str] = []
    return _Reading(notes, Ahead(_file_batches(path, source, block, notes), after))


def _noted(reading: _Reading, ledger: dict) -> Iterator[loading.LoadBatch]:
    """The reading's batches; its notes go into the ledger once every batch is read."""
    yield from reading.batches
    ledger["notes"] = "; ".join(reading.notes) or None


def read_ahead(inbox: Path, item: LoadItem) -> None:
    """Read and validate `item`'s file before its turn, from when the file read ahead before
    it has made its last batch: while DuckDB inserts that batch and checkpoints the file on
    one core, this file's first batch is made on the other (a feedback file is one batch: all
    of its reading). Still two batches alive at most. `ingest_file(item)` takes it over."""
    global _LAST_READ
    key = (item.rel_path, item.sha256)
    if item.from_file and key not in _READ_AHEAD:
        after = _LAST_READ.batches.finished if _LAST_READ else None
        _READ_AHEAD[key] = _LAST_READ = _start_reading(
            inbox / item.rel_path, item.source, CSV_BLOCK_BYTES, after
        )


def drop_read_ahead() -> None:
    """Stop and forget the readings no load took over (the run stopped before their turn)."""
    global _LAST_READ
    _LAST_READ = None
    while _READ_AHEAD:
        _READ_AHEAD.popitem()[1].batches.close()


@task(name="ingest-file", retries=3, retry_delay_seconds=[1, 4, 16], retry_condition_fn=retry_on_io_errors)
def ingest_file(internal: Internal, inbox: Path, item: LoadItem) -> dict:
    """Read, validate and load one file content in batches, in one transaction: its rows end in
    the warehouse or in quarantine, or the whole file is recorded as rejected with the reason."""
    logger = get_run_logger()
    ledger = _ingest(internal, inbox, item)
    if ledger["status"] == "rejected":
        logger.warning("REJECTED %s: %s", item.rel_path, ledger["error"])
        return ledger
    rules = ledger.get("rules") or {}
    level = logger.warning if ledger["rows_quarantined"] else logger.info
    level(
        "%s %s: %d read, %d loaded, %d quarantined%s",
        "Reloaded" if not item.from_file else "Loaded",
        item.rel_path,
        ledger["rows_read"],
        ledger["rows_loaded"],
        ledger["rows_quarantined"],
        f" (by rule: {rules})" if rules else "",
    )
    return ledger
