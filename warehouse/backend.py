"""Where the internal warehouse lives: an embedded DuckDB file (the default) or DuckLake.

`KCITY_WAREHOUSE` picks it (kcity/settings.py): `duckdb` keeps everything in one file on the
machine that runs the flows; `ducklake` keeps the same schemas and tables in a DuckLake —
its catalog in PostgreSQL, its data as Parquet files under a data path (a folder here,
object storage in production) — so flow runs on several hosts read and write one warehouse.
The SQL is the same for both; only how a connection is opened differs (warehouse/db.py,
`connect`). The published BI file is an embedded DuckDB file in both modes.

DuckDB cannot download extensions offline: the signed DuckLake and PostgreSQL extensions
come from PyPI (`duckdb-extension-ducklake`, `duckdb-extension-postgres`, the same version
as `duckdb`) and are loaded from there.
"""

from __future__ import annotations

import importlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

# The name the DuckLake catalog is attached under; `USE`d, so the SQL names schemas only.
LAKE_ALIAS = "lake"


@dataclass(frozen=True)
class Lake:
    """A DuckLake warehouse: PostgreSQL catalog (a libpq connection string) and data path."""

    catalog: str
    data_path: str
    # Where the extension files are put under the names DuckDB expects (one per machine).
    extension_dir: Path

    def __str__(self) -> str:
        return f"DuckLake (catalog postgres:{self.redacted_catalog}; data {self.data_path})"

    @property
    def redacted_catalog(self) -> str:
        """The catalog connection string without its password, for messages and logs."""
        return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", self.catalog)

    def exists(self) -> bool:
        """Whether the catalog holds a warehouse (the pipeline has run against it)."""
        con = duckdb.connect()
        try:
            attach(con, self, read_only=True)
            return bool(
                con.execute(
                    "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? "
                    "AND schema_name = 'ops' AND table_name = 'loads'",
                    [LAKE_ALIAS],
                ).fetchone()[0]
            )
        except duckdb.Error:
            return False
        finally:
            con.close()


# The internal warehouse: the embedded file's path, or a DuckLake.
Internal = Path | Lake


def extension_file(name: str, package: str, ext_dir: Path) -> Path:
    """The signed extension binary of PyPI package `package`, under the file name whose stem
    DuckDB takes for the extension's entry point (`postgres` ships as postgres.duckdb_extension
    but its entry point is postgres_scanner's)."""
    module = importlib.import_module(package)
    shipped = list(Path(module.__path__[0]).glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension"))
    if not shipped:
        raise RuntimeError(
            f"{package} has no extension for duckdb {duckdb.__version__}: pin it to the same version as duckdb"
        )
    target = ext_dir / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not target.exists() or target.stat().st_size != shipped[0].stat().st_size:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(shipped[0], tmp)
        tmp.replace(target)
    return target


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def attach(con: duckdb.DuckDBPyConnection, lake: Lake, read_only: bool = False) -> None:
    """Load the extensions, attach the DuckLake catalog and make it the default database."""
    for name, package in (
        ("postgres_scanner", "duckdb_extension_postgres"),
        ("ducklake", "duckdb_extension_ducklake"),
    ):
        con.execute(f"LOAD {_quote(str(extension_file(name, package, lake.extension_dir)))}")
    # ATTACH takes no parameters; both strings come from settings, never from input files.
    con.execute(
        f"ATTACH {_quote('ducklake:postgres:' + lake.catalog)} AS {LAKE_ALIAS} "
        f"(DATA_PATH {_quote(lake.data_path)}{', READ_ONLY' if read_only else ''})"
    )
    con.execute(f"USE {LAKE_ALIAS}")
