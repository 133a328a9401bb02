"""Start `scripts/serve.sh` (server, pool, deployments, worker) on a free port for a test."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A running `make serve` stack on 127.0.0.1:port with its data under data_dir."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None):
        """`env`: more settings for serve.sh (KCITY_WORKERS, KCITY_PREFECT_DB, ...)."""
        self.port = free_port()
        self.data_dir = data_dir
        self.base = f"http://127.0.0.1:{self.port}"
        extra = env or {}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "KCITY_"))}
        env |= {"KCITY_DATA_DIR": str(data_dir), "KCITY_PREFECT_PORT": str(self.port), **extra}
        self.log = open(data_dir.parent / f"serve-{self.port}.log", "w+")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "serve.sh")],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 240
        while "Prefect UI:" not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"serve.sh did not come up:\n{self.output()}")
            time.sleep(0.5)

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()

    def api(self, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.base}/api{path}",
            data=data,
            headers={"Content-Type": "application/json"},
            method="GET" if body is None else "POST",
        )
        for attempt in range(4):  # a busy server (SQLite) may answer 503 for a moment
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    return json.load(resp)
            except urllib.error.HTTPError as e:
                if e.code != 503 or attempt == 3:
                    raise
                time.sleep(2 * (attempt + 1))

    def deployment(self, name: str) -> dict:
        return next(d for d in self.api("/deployments/filter", {}) if d["name"] == name)

    def run_from_ui_form(self, deployment: str, parameters: dict) -> dict:
        """POST exactly what the UI's custom-run form posts."""
        dep = self.deployment(deployment)
        body = {"parameters": parameters, "state": {"type": "SCHEDULED"}}
        return self.api(f"/deployments/{dep['id']}/create_flow_run", body)

    def wait(self, run_id: str, timeout: float = 150) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.api(f"/flow_runs/{run_id}")
            if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                return run
            time.sleep(1)
        raise TimeoutError(f"flow run {run_id} not finished after {timeout} s")

    def wait_for_workers(self, n: int, timeout: float = 90) -> int:
        """Wait until n workers of the `kcity` pool have sent a heartbeat; how many did."""
        deadline = time.monotonic() + timeout
        while True:
            names = {w["name"] for w in self.api("/work_pools/kcity/workers/filter", {})}
            if len(names) >= n or time.monotonic() > deadline:
                return len(names)
            time.sleep(1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()
