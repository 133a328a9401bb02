"""Render the Mermaid diagram of docs/deployment.md to docs/deployment.png in a real browser.

    .venv/bin/python tools/render_diagram.py

Mermaid (the pinned version below) comes from the npm registry (`npm pack`, needs node);
the page renders in headless Debian Chromium (scripts/install_browser.sh). Fails when
Mermaid reports a syntax error, so the PNG and the Markdown never disagree silently.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.browser import dom, screenshot  # noqa: E402

MERMAID = "mermaid@12.3.0"
DOC = ROOT / "docs" / "deployment.md"
OUT = ROOT / "docs" / "deployment.png"


def main() -> None:
    block = re.search(r"```mermaid\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    if not block:
        sys.exit(f"no ```mermaid block in {DOC}")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", "--silent", MERMAID], cwd=tmp, check=True, capture_output=True)
        tarball = next(Path(tmp).glob("mermaid-*.tgz"))
        subprocess.run(["tar", "xzf", tarball.name, "package/dist/mermaid.min.js"], cwd=tmp, check=True)
        page = Path(tmp) / "diagram.html"
        page.write_text(
            "<!doctype html><meta charset='utf-8'><body style='margin:16px;background:#fff'>"
            f"<pre class='mermaid'>{html.escape(block.group(1))}</pre>"
            "<script src='package/dist/mermaid.min.js'></script>"
            "<script>mermaid.initialize({startOnLoad: true, theme: 'neutral', flowchart: {useMaxWidth: false}});</script>",
            encoding="utf-8",
        )
        rendered = dom(page.as_uri())
        box = re.search(r'<svg[^>]*viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', rendered)
        if not box or "Syntax error" in rendered:
            sys.exit("Mermaid did not render the diagram (syntax error?)")
        width, height = (int(float(v)) + 40 for v in box.groups())
        screenshot(page.as_uri(), OUT, size=f"{width},{height}")
    print(f"Wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
