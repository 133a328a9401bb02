"""Reading the published file back the way a BI tool would."""

from pathlib import Path

import duckdb
import pandas as pd


def published_tables(path: Path) -> dict[str, pd.DataFrame]:
    """Every marts table, sorted, read through a fresh read-only connection."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1").fetchall()]  # fmt: skip
        return {n: con.execute(f"SELECT * FROM marts.{n} ORDER BY ALL").df() for n in names}
    finally:
        con.close()


def query(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
