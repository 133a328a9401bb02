"""Two malloc arenas (one per core on our 2-core machines) for the pipeline's process (glibc).

glibc's malloc gives threads that allocate at the same time arenas of their own (up to eight
per core) and hands memory freed in them back to the system late. A nightly reads the next
file on one thread while the one before it is inserted on another; with the default, the
snapshot and publish that follow ran ~150 MiB higher (a 1M-row run peaked at 1,070 MiB
instead of 876). DuckDB, Arrow and Polars use allocators of their own; this is Python's,
pandas' and NumPy's memory.

`kcity` sets it first thing; a Prefect worker gets `MALLOC_ARENA_MAX=2` in its environment
(scripts/serve.sh), which its flow-run processes inherit.
"""

from __future__ import annotations

import ctypes
import ctypes.util

ARENAS = 2
_M_ARENA_MAX = -8  # mallopt parameter, glibc's malloc.h


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap the number of malloc arenas (before threads start: arenas made earlier stay).
    False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False
