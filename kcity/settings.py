"""The one settings object, read from KCITY_* environment variables with local defaults.

Nothing points at production when unset: everything lives under ./data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from warehouse.backend import Internal, Lake

SEOUL = "Asia/Seoul"
# KCITY_WAREHOUSE: where the internal warehouse lives (warehouse/backend.py).
BACKENDS = ("duckdb", "ducklake")
# The DuckLake catalog when KCITY_DUCKLAKE_CATALOG is unset: the local PostgreSQL of
# `make serve-scaled` (scripts/pg.sh).
DEFAULT_LAKE_CATALOG = "dbname=kcity_lake host=127.0.0.1 port=5433 user=postgres"


@dataclass(frozen=True)
class Settings:
    """Where the pipeline reads and writes."""

    data_dir: Path
    inbox: Path
    published_db: Path
    backend: str = "duckdb"
    lake_catalog: str = DEFAULT_LAKE_CATALOG
    lake_data_path: str = ""

    @property
    def internal_db(self) -> Internal:
        """The pipeline's own warehouse (raw rows, staging, quarantine, ledgers, snapshots):
        a DuckDB file under the data folder, or the DuckLake of KCITY_DUCKLAKE_*."""
        if self.backend == "ducklake":
            return Lake(
                catalog=self.lake_catalog,
                data_path=self.lake_data_path or f"{self.data_dir / 'lake'}/",
                extension_dir=self.data_dir / "duckdb_extensions",
            )
        return self.data_dir / "internal" / "warehouse.duckdb"

    @property
    def lock_file(self) -> Path:
        """The writer lock: one run writes the warehouse at a time."""
        return self.data_dir / "internal" / "writer.lock"

    @property
    def writer(self) -> Path | Lake:
        """What the writer lock (warehouse/lock.py) locks: the lock file next to the embedded
        warehouse, or the DuckLake (an advisory lock in its catalog, for every host)."""
        return self.internal_db if self.backend == "ducklake" else self.lock_file

    @property
    def reports_dir(self) -> Path:
        """Committee reports, one HTML file per as_of."""
        return self.data_dir / "reports"

    @property
    def prefect_home(self) -> Path:
        """Prefect's own state (the temporary server's SQLite and logs)."""
        return self.data_dir / "prefect"


def get_settings() -> Settings:
    """Read KCITY_DATA_DIR, KCITY_INBOX, KCITY_DB and the warehouse backend (KCITY_WAREHOUSE,
    KCITY_DUCKLAKE_CATALOG, KCITY_DUCKLAKE_DATA_PATH) from the environment."""
    data_dir = Path(os.environ.get("KCITY_DATA_DIR") or "./data").resolve()
    inbox = Path(os.environ.get("KCITY_INBOX") or data_dir / "inbox").resolve()
    db = Path(os.environ.get("KCITY_DB") or data_dir / "kcity.duckdb").resolve()
    backend = (os.environ.get("KCITY_WAREHOUSE") or "duckdb").strip().lower()
    if backend not in BACKENDS:
        raise ValueError(f"KCITY_WAREHOUSE={backend!r}: expected one of {', '.join(BACKENDS)}")
    return Settings(
        data_dir=data_dir,
        inbox=inbox,
        published_db=db,
        backend=backend,
        lake_catalog=os.environ.get("KCITY_DUCKLAKE_CATALOG") or DEFAULT_LAKE_CATALOG,
        lake_data_path=os.environ.get("KCITY_DUCKLAKE_DATA_PATH") or "",
    )


def local_server_url() -> str | None:
    """The API of a Prefect server `make serve` runs on this machine, if one answers."""
    import urllib.request

    url = f"http://127.0.0.1:{os.environ.get('KCITY_PREFECT_PORT', '4200')}/api"
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=0.5) as resp:
            return url if resp.status == 200 else None
    except OSError:
        return None


def configure_prefect_env(settings: Settings) -> None:
    """Default Prefect to an offline, project-local setup unless the operator set otherwise:
    the server `make serve` runs if it answers (runs then show in its UI), else Prefect's
    temporary local server with its state under the data folder."""
    settings.prefect_home.mkdir(parents=True, exist_ok=True)
    if "PREFECT_API_URL" not in os.environ and (url := local_server_url()):
        os.environ["PREFECT_API_URL"] = url
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
