"""Load one file content as a Prefect task: read -> validate (Pandera) -> stage, in batches.

Kept apart from tasks/load.py so a run with nothing to read never imports the reading and
validation stack (Pandera, Arrow CSV, the schemas): a nothing-new nightly starts faster.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from prefect import get_run_logger, task

from kcity.faults import crash_point
from tasks.plan import LoadItem
from tasks.read import CSV_BLOCK_BYTES, BlockTooSmall, RawBatch, UnreadableFile, open_raw
from tasks.retry import retry_on_io_errors
from tasks.transform import STAGERS
from tasks.validate import validate_rows
from warehouse import db
from warehouse.backend import Internal

T = TypeVar("T")
_END = object()


def ahead(items: Iterator[T]) -> Iterator[T]:
    """`items`, each made in a background thread while the caller works on the one before.

    Loading alternates Python work (reading, Pandera, staging) with DuckDB's inserts; both
    release the GIL for most of their time, so on two cores the next batch is validated while
    this one is inserted. At most two items are alive: the caller's and the next one (the
    memory of one more batch). What the producer raises is raised here, in order; when the
    caller stops early (an error, a rollback), the producer stops after its current item.
    """
    done = queue.Queue()
    slots = threading.Semaphore(2)  # the caller's item and the one being made
    stop = threading.Event()

    def produce() -> None:
        try:
            while True:
                slots.acquire()
                if stop.is_set():
                    return
                item = next(items, _END)
                done.put(item)
                if item is _END:
                    return
        except BaseException as e:  # handed to the caller, raised there
            done.put(e)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="kcity-load-ahead", daemon=True)
    worker.start()
    try:
        first = True
        while True:
            if not first:
                slots.release()  # the caller is done with the item before
            first = False
            item = done.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        slots.release()
        worker.join()


def _load_batches(raw_batches: Iterator[RawBatch], source: str) -> Iterator[db.LoadBatch]:
    """Validate and stage each batch of raw rows (Pandera per batch, bounded memory), the
    next batch while the caller inserts this one (`ahead`)."""
    return ahead(_checked_batches(raw_batches, source))


def _checked_batches(raw_batches: Iterator[RawBatch], source: str) -> Iterator[db.LoadBatch]:
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
        yield db.LoadBatch(raw_rows, STAGERS[source](checked.valid), checked.quarantine)


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
        return db.load_content(
            internal,
            ledger,
            lambda pages: _load_batches((RawBatch(*db.replay_batch(p)) for p in pages), item.source),
            replay=True,
        )
    path = inbox / item.rel_path
    block = CSV_BLOCK_BYTES
    while True:
        try:
            with tempfile.TemporaryDirectory(prefix="kcity-read-") as tmp:
                stream = open_raw(path, item.source, Path(tmp), block_size=block)
                ledger["notes"] = "; ".join(stream.notes) or None
                return db.load_content(
                    internal, ledger, lambda _, s=stream: _load_batches(s.batches, item.source)
                )
        except BlockTooSmall:  # one record larger than a block: read this file as one block
            block = path.stat().st_size + (1 << 20)
        except UnreadableFile as e:
            ledger |= {"status": "rejected", "error": f"{path.name}: {e}", "notes": None}
            return db.load_content(internal, ledger, None)


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
