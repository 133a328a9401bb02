"""The ingest step both flows share: read -> validate -> load, one file content at a time."""

from __future__ import annotations

from kcity.settings import Settings
from tasks.load import load_file, read_raw_record
from tasks.plan import LoadItem
from tasks.read import read_file
from tasks.validate import validate_task


def ingest(settings: Settings, plan: list[LoadItem]) -> list[dict]:
    """Load every planned content; a bad file is recorded and never stops the others."""
    results = []
    for item in plan:
        if item.from_file:
            raw = read_file(settings.inbox / item.rel_path, item.source)
        else:
            raw = read_raw_record(settings.internal_db, item)
        checked = None if raw.error else validate_task(raw.rows, item.source, raw.shape_problems)
        results.append(load_file(settings.internal_db, item, raw, checked))
    return results
