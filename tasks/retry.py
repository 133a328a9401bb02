"""When a Prefect task retries."""

from __future__ import annotations

import duckdb


def retry_on_io_errors(task, task_run, state) -> bool:
    """Retry on I/O errors (a share that hiccups, a busy file), never on logic errors."""
    try:
        state.result()
    except (OSError, duckdb.IOException):
        return True
    except Exception:
        return False
    return False
