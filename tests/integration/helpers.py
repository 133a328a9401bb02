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


# Columns that record when and by which flow run, not what.
VOLATILE = {"load_report": ["loaded_at"], "run_ledger": ["flow_run_id", "started_at", "finished_at"]}


def comparable(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Published tables without their run-specific columns, rows in one order: two runs
    that built the same thing compare equal."""
    out = {}
    for name, frame in tables.items():
        frame = frame.drop(columns=VOLATILE.get(name, []))
        out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out
