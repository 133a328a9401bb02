"""Decide what a run loads and which snapshots it builds (pure functions, unit-tested).

A content (sha256) is loaded once, from its canonical copy: the earliest delivery date,
then the smallest path, among every loadable copy seen; the others are duplicates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tasks.inbox import InboxFile


@dataclass(frozen=True)
class LoadItem:
    """One content to (re)load: from its file if it is in the inbox, else from the raw record."""

    sha256: str
    source: str
    delivery_date: dt.date
    rel_path: str
    file_name: str
    from_file: bool


def canonical_copies(files: list[InboxFile]) -> dict[str, InboxFile]:
    """sha256 -> the copy that loads it (earliest delivery date, then path)."""
    best: dict[str, InboxFile] = {}
    for f in files:
        if f.problem is not None or not f.sha256:
            continue
        cur = best.get(f.sha256)
        if cur is None or (f.delivery_date, f.rel_path) < (cur.delivery_date, cur.rel_path):
            best[f.sha256] = f
    return best


def _item(f: InboxFile) -> LoadItem:
    return LoadItem(f.sha256, f.source, f.delivery_date, f.rel_path, f.file_name, True)


def plan_nightly(files: list[InboxFile], loaded: dict[str, str]) -> list[LoadItem]:
    """Contents not loaded yet, or whose canonical copy changed (an earlier copy appeared)."""
    canon = canonical_copies(files)
    todo = [f for sha, f in canon.items() if loaded.get(sha) != f.rel_path]
    return [_item(f) for f in sorted(todo, key=lambda f: (f.delivery_date, f.rel_path))]


def plan_backfill(
    files: list[InboxFile], loaded: dict[str, str], ledger_in_range: list[dict], start: dt.date
) -> list[LoadItem]:
    """Every delivery dated start..end again (from the raw record when its file is gone),
    plus anything delivered before `start` not loaded yet. `files` stops at end."""
    canon = canonical_copies(files)
    todo = {
        sha: _item(f) for sha, f in canon.items() if f.delivery_date >= start or loaded.get(sha) != f.rel_path
    }
    for row in ledger_in_range:
        if row["status"] == "loaded" and row["sha256"] not in todo and row["sha256"] not in canon:
            todo[row["sha256"]] = LoadItem(
                row["sha256"], row["source"], row["delivery_date"], row["rel_path"], row["file_name"], False
            )
    return sorted(todo.values(), key=lambda i: (i.delivery_date, i.rel_path))


def nightly_snapshot_dates(built: list[dt.date], as_of: dt.date) -> list[dt.date]:
    """as_of, plus the days missed since the last snapshot (none on a fresh warehouse)."""
    if not built or max(built) >= as_of:
        return [as_of]
    last = max(built)
    return [last + dt.timedelta(days=n) for n in range(1, (as_of - last).days + 1)]


def date_range(start: dt.date, end: dt.date) -> list[dt.date]:
    """start..end inclusive."""
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
