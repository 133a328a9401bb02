"""The ingest step both flows share: one task per file content, read -> validate -> load in
batches (bounded memory at any file size)."""

from __future__ import annotations

from kcity.settings import Settings
from tasks.load import ingest_file
from tasks.plan import LoadItem


def ingest(settings: Settings, plan: list[LoadItem]) -> list[dict]:
    """Load every planned content; a bad file is recorded and never stops the others."""
    return [ingest_file(settings.internal_db, settings.inbox, item) for item in plan]
