"""The ingest step both flows share: one task per file content, read -> validate -> load in
batches (bounded memory at any file size)."""

from __future__ import annotations

from kcity.settings import Settings
from tasks.plan import LoadItem


def ingest(settings: Settings, plan: list[LoadItem]) -> list[dict]:
    """Load every planned content; a bad file is recorded and never stops the others."""
    if not plan:
        return []
    # Imported here: a run with nothing to read never loads Pandera and the readers (~0.2 s).
    from tasks.ingest import drop_read_ahead, ingest_file, read_ahead

    results = []
    try:
        read_ahead(settings.inbox, plan[0])
        for n, item in enumerate(plan):
            if n + 1 < len(plan):  # the next file is read once this one is, while it loads
                read_ahead(settings.inbox, plan[n + 1])
            results.append(ingest_file(settings.internal_db, settings.inbox, item))
    finally:
        drop_read_ahead()
    return results
