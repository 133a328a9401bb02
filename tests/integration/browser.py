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


def network_requests(url: str, tmp: Path) -> list[str]:
    """Every network URL the page itself requested (Chromium's net log). Requests Chromium
    makes on its own account (update checks, clock sync) have no initiating origin and are
    left out; file: and data: URLs are not network."""
    import json

    log = tmp / "netlog.json"
    _run([f"--log-net-log={log}", "--dump-dom", url])
    net = json.loads(log.read_text())
    start_job = net["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = {
        e["params"]["url"]
        for e in net["events"]
        if e["type"] == start_job
        and "url" in e.get("params", {})
        and e["params"].get("initiator") != "not an origin"
    }
    return sorted(u for u in urls if not u.startswith(("file:", "data:", "chrome:", "about:")))


def print_pdf(url: str, out: Path) -> Path:
    """Print the page to PDF as a person would (Chromium's print, the page's own @page size)."""
    _run(["--no-pdf-header-footer", f"--print-to-pdf={out}", url])
    return out
