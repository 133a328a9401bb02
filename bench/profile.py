"""Profile one full run (`kcity nightly` on a fresh warehouse over the generated inbox) with
pyinstrument; the text report goes to bench/profile-<size>.txt."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from bench import generate
from bench.run import ROOT, SIZES, Server, case_env

PY = sys.executable


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", choices=sorted(SIZES), default="default")
    p.add_argument("--work", type=Path, default=ROOT / "bench" / "work")
    args = p.parse_args()
    work = args.work / args.size
    base = work / "data-1x"
    rows = SIZES[args.size]["rows"]
    manifest = base / "manifest.json"
    if not manifest.exists() or json.loads(manifest.read_text())["rows"] != rows:
        shutil.rmtree(base, ignore_errors=True)
        generate.generate(base, rows, xlsx_rows=SIZES[args.size]["xlsx_rows"])
    last = json.loads(manifest.read_text())["last_day"]
    data = work / "profile-run"
    shutil.rmtree(data, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    server = Server(work / "prefect", work / "prefect-server.log")
    try:
        env = case_env(server, work, data_dir=str(data), inbox=str(base / "inbox"))
        out = ROOT / "bench" / f"profile-{args.size}.txt"
        kcity = str(Path(PY).with_name("kcity"))
        cmd = [PY, "-m", "pyinstrument", "--show-all", "-o", str(out), kcity, "nightly", "--date", last]
        subprocess.run(cmd, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        print(f"Profile written to {out}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
