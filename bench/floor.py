"""The floor: DuckDB alone loading the benchmark's CSV files into a file database.

`CREATE TABLE AS SELECT * FROM read_csv(...)`, one table per source, every column text, rows
of the wrong shape skipped (DuckDB's `ignore_errors`). DuckDB cannot decode CP949 without an
extension it cannot download here, so the CP949 feedback files are left out: the floor is a
little lower than the bytes the pipeline reads, which only makes the ratios stricter.
"""

import sys
from pathlib import Path

import duckdb


def main(inbox: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    subs = sorted(str(p) for p in inbox.glob("submissions/*/*.csv"))
    feedback = sorted(str(p) for p in inbox.glob("feedback/*/*.csv") if p.name.isascii())
    con = duckdb.connect(str(target))
    for table, files in (("submissions", subs), ("feedback", feedback)):
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, all_varchar = true, ignore_errors = true)",
            [files],
        )
    rows = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("submissions", "feedback"))
    con.close()
    print(f"floor rows={rows}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
