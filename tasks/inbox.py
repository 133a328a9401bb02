"""Find the files in the inbox: which source, which delivery date, which content (SHA-256).

A file's identity is its content. Files outside a YYYY-MM-DD folder, hidden or
temporary files and links are listed too, so the load report can say why they
were not loaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from prefect import get_run_logger, task

SOURCES = ("submissions", "feedback")
EXTENSIONS = {
    "submissions": (".csv", ".json", ".jsonl", ".xlsx"),
    "feedback": (".csv", ".xlsx"),
}
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class InboxFile:
    """One file found in the inbox, with what is known before reading it."""

    source: str
    rel_path: str
    file_name: str
    delivery_date: dt.date | None
    sha256: str  # "" for a link (not read)
    size: int
    problem: str | None = None  # why it is not loaded at all (status 'ignored')
    stat_key: str | None = None  # size, mtime, ctime and inode when seen (see stat_key)


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _delivery_date(name: str) -> dt.date | None:
    if not _DATE_DIR.match(name):
        return None
    try:
        return dt.date.fromisoformat(name)
    except ValueError:
        return None


TEMP_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".filepart")


# (inbox path, stat key) -> sha256, from earlier runs.
KnownHashes = dict[tuple[str, str], str]


def stat_key(stat: os.stat_result) -> str:
    """Size, mtime, ctime and inode: a file rewritten in place, even with its old size and
    mtime put back (cp -p, rsync -t, os.utime), gets a new ctime, which no tool can set."""
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"


def _classify(source: str, root: Path, path: Path, known: KnownHashes | None = None) -> InboxFile:
    rel = path.relative_to(root.parent).as_posix()
    parts = path.relative_to(root).parts
    date = _delivery_date(parts[0]) if len(parts) == 2 else None
    problem = None
    if path.is_symlink():
        problem = "symbolic link: not followed, not loaded"
    elif path.name.startswith((".", "~$")) or path.name.lower().endswith(TEMP_SUFFIXES):
        problem = "hidden or temporary file: not loaded"
    elif date is None:
        problem = "not inside a YYYY-MM-DD delivery folder: not loaded"
    stat = path.lstat()
    digest = ""
    if not path.is_symlink():
        # A file whose path and stat key were hashed before is not read again.
        digest = (known or {}).get((rel, stat_key(stat))) or sha256_of(path)
    return InboxFile(source, rel, path.name, date, digest, stat.st_size, problem, stat_key(stat))


def _walk(root: Path) -> list[Path]:
    """Files and links under root, never descending into a linked folder."""
    out = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder)
        out += [base / d for d in dirs if (base / d).is_symlink()]
        out += [base / f for f in files]
    return sorted(out)


def settling(path: Path, settle_seconds: float, now: float | None = None) -> bool:
    """True while a file may still be being written (modified in the last settle_seconds)."""
    if path.is_symlink():
        return False
    return (now or time.time()) - path.stat().st_mtime < settle_seconds


@task(name="scan-inbox", retries=2, retry_delay_seconds=[1, 5])
def scan_inbox(
    inbox: Path, up_to: dt.date, settle_seconds: float | None = None, known: KnownHashes | None = None
) -> list[InboxFile]:
    """Every file under inbox/<source>/ delivered on or before `up_to`, plus misplaced files.
    `known`: hashes of unchanged files from earlier runs (the nightly passes them; a backfill
    reads every file again).
    A file modified in the last KCITY_SETTLE_SECONDS (default 10) may still be being
    written: it is left for the next run, whole, and the log says so."""
    if settle_seconds is None:
        settle_seconds = float(os.environ.get("KCITY_SETTLE_SECONDS", "10"))
    found: list[InboxFile] = []
    for source in SOURCES:
        root = inbox / source
        if not root.is_dir():
            continue
        for path in _walk(root):
            if settling(path, settle_seconds):
                get_run_logger().warning(
                    "%s was modified less than %.0f s ago and may still be being written: "
                    "left for the next run.",
                    path.relative_to(inbox),
                    settle_seconds,
                )
                continue
            item = _classify(source, root, path, known)
            if item.delivery_date is None or item.delivery_date <= up_to:
                found.append(item)
    return found
