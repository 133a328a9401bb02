"""One writer at a time: an exclusive file lock held for a whole run.

A second run (nightly, backfill, demo; with or without a Prefect server) waits for
the first and says so in its log. The lock dies with its process, so a killed run
never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def writer_lock(lock_file: Path, logger: logging.Logger | logging.LoggerAdapter) -> Iterator[None]:
    """Hold the warehouse's writer lock; wait (logging once) while another run holds it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another run"
            logger.warning("Warehouse is being written by %s; waiting for it to finish.", holder)
            started = time.monotonic()
            fcntl.flock(fd, fcntl.LOCK_EX)
            logger.info("Writer lock acquired after %.1f s.", time.monotonic() - started)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
