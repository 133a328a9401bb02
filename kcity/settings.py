"""The one settings object, read from KCITY_* environment variables with local defaults.

Nothing points at production when unset: everything lives under ./data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SEOUL = "Asia/Seoul"


@dataclass(frozen=True)
class Settings:
    """Where the pipeline reads and writes."""

    data_dir: Path
    inbox: Path
    published_db: Path

    @property
    def internal_db(self) -> Path:
        """The pipeline's own DuckDB file (raw rows, staging, quarantine, ledgers)."""
        return self.data_dir / "internal" / "warehouse.duckdb"

    @property
    def lock_file(self) -> Path:
        """The writer lock: one run writes the warehouse at a time."""
        return self.data_dir / "internal" / "writer.lock"

    @property
    def reports_dir(self) -> Path:
        """Committee reports, one HTML file per as_of."""
        return self.data_dir / "reports"

    @property
    def prefect_home(self) -> Path:
        """Prefect's own state (the temporary server's SQLite and logs)."""
        return self.data_dir / "prefect"


def get_settings() -> Settings:
    """Read KCITY_DATA_DIR, KCITY_INBOX and KCITY_DB from the environment."""
    data_dir = Path(os.environ.get("KCITY_DATA_DIR") or "./data").resolve()
    inbox = Path(os.environ.get("KCITY_INBOX") or data_dir / "inbox").resolve()
    db = Path(os.environ.get("KCITY_DB") or data_dir / "kcity.duckdb").resolve()
    return Settings(data_dir=data_dir, inbox=inbox, published_db=db)


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
