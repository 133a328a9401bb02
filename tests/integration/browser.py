"""Headless Debian Chromium, as a person's browser: render a page, read its DOM, screenshot it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--force-prefers-reduced-motion", "--hide-scrollbars", "--virtual-time-budget=30000",
]  # fmt: skip


def chromium() -> str:
    """Path of Debian's chromium, installing it (and a Hangul font) when missing."""
    if not shutil.which("chromium"):
        subprocess.run(["bash", str(ROOT / "scripts" / "install_browser.sh")], check=True, timeout=600)
    return shutil.which("chromium")


def _run(args: list[str]) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )


def dom(url: str) -> str:
    """The page's DOM after its scripts ran."""
    return _run(["--dump-dom", url]).stdout


def screenshot(url: str, out: Path, size: str = "1300,1000") -> Path:
    """A PNG of the rendered page."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _run([f"--window-size={size}", f"--screenshot={out}", url])
    return out
