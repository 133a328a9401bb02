"""A throw-away PostgreSQL (scripts/pg.sh) for the tests of the scale-out mode."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.integration.prefect_server import ROOT, free_port


class Postgres:
    """A PostgreSQL server on 127.0.0.1 with its files in a fresh folder under /tmp (the
    `postgres` user, which runs it when the tests run as root, must reach that folder)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="kcity-pg-"))
        self.port = free_port()
        self._run("start", str(self.dir), str(self.port))

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            ["bash", str(ROOT / "scripts" / "pg.sh"), *args], capture_output=True, text=True, timeout=120
        )
        if done.returncode:
            raise RuntimeError(f"scripts/pg.sh {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def create_database(self, name: str) -> None:
        self._run("start", str(self.dir), str(self.port), name)

    def dsn(self, db: str) -> str:
        """libpq key=value string (the DuckLake catalog setting)."""
        return f"dbname={db} host=127.0.0.1 port={self.port} user=postgres"

    def url(self, db: str) -> str:
        """SQLAlchemy URL (Prefect's server database setting)."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        self._run("stop", str(self.dir))
        shutil.rmtree(self.dir, ignore_errors=True)
