"""Fault injection for the crash-safety tests: KCITY_CRASH_AT=name[:n] makes the process
SIGKILL itself at the n-th (default first) time it passes crash_point(name).

A no-op unless that variable is set; never set it in production.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_passes: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """Die here, hard (no cleanup, no atexit), when the crash test asks for it."""
    target = os.environ.get("KCITY_CRASH_AT")
    if not target:
        return
    wanted, _, nth = target.partition(":")
    if wanted != name:
        return
    _passes[name] += 1
    if _passes[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
