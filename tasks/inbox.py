"""Find the files in the inbox: which source, which delivery date, which content (SHA-256).

A file's identity is its content. Files outside a YYYY-MM-DD folder, hidden or
temporary files and links are listed too, so the load report can say why they
were not loaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from prefect import task

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
    sha256: str | None
    size: int
    problem: str | None = None  # why it is not loaded at all (status 'ignored')


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


def _classify(source: str, root: Path, path: Path) -> InboxFile:
    rel = path.relative_to(root.parent).as_posix()
    parts = path.relative_to(root).parts
    date = _delivery_date(parts[0]) if len(parts) == 2 else None
    problem = None
    if path.is_symlink():
        problem = "symbolic link: not followed, not loaded"
    elif path.name.startswith((".", "~$")):
        problem = "hidden or temporary file: not loaded"
    elif date is None:
        problem = "not inside a YYYY-MM-DD delivery folder: not loaded"
    size = path.lstat().st_size
    digest = None if path.is_symlink() else sha256_of(path)
    return InboxFile(source, rel, path.name, date, digest, size, problem)


@task(name="scan-inbox", retries=2, retry_delay_seconds=[1, 5])
def scan_inbox(inbox: Path, up_to: dt.date) -> list[InboxFile]:
    """Every file under inbox/<source>/ delivered on or before `up_to`, plus misplaced files."""
    found: list[InboxFile] = []
    for source in SOURCES:
        root = inbox / source
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_dir() and not path.is_symlink():
                continue
            item = _classify(source, root, path)
            if item.delivery_date is None or item.delivery_date <= up_to:
                found.append(item)
    return found
