"""The peer: dlt loading the same CSV files into DuckDB, fed Arrow batches (its fastest path),
validating nothing. Runs in its own virtual environment (bench/requirements-dlt.txt).

UTF-8 files only, like the floor (CP949 needs decoding first, which dlt does not do).
"""

import shutil
import sys
from pathlib import Path

import dlt
import pyarrow as pa
import pyarrow.csv as pa_csv


def batches(files: list[Path]):
    for path in files:
        with open(path, encoding="utf-8-sig") as f:
            names = f.readline().rstrip("\r\n").split(",")
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(skip_rows=1, column_names=names, block_size=32 << 20),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=lambda r: "skip"),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
        )
        yield from reader


def main(inbox: Path, target: Path, work: Path) -> None:
    target.unlink(missing_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    pipeline = dlt.pipeline(
        pipeline_name="bench_peer",
        pipelines_dir=str(work),
        destination=dlt.destinations.duckdb(str(target)),
        dataset_name="loaded",
    )
    subs = sorted(inbox.glob("submissions/*/*.csv"))
    feedback = sorted(p for p in inbox.glob("feedback/*/*.csv") if p.name.isascii())
    info = pipeline.run(
        [
            dlt.resource(batches(subs), name="submissions"),
            dlt.resource(batches(feedback), name="feedback"),
        ],
        write_disposition="replace",
    )
    info.raise_on_failed_jobs()
    with pipeline.sql_client() as client:
        rows = sum(client.execute_sql(f"SELECT count(*) FROM {t}")[0][0] for t in ("submissions", "feedback"))
    print(f"peer rows={rows}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
