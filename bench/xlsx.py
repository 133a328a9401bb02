"""The xlsx case: our reader (open_raw: header check, every cell to text, row numbers) against
python-calamine reading the same sheet raw. The time of the read itself (imports excluded:
the pipeline's process has them loaded already) goes to the file named by the 4th argument."""

import sys
import tempfile
import time
from pathlib import Path

from python_calamine import CalamineWorkbook


def main(how: str, path: str, rows: int, seconds_file: str | None) -> None:
    if how != "calamine":
        from tasks.read import open_raw  # before the clock, as python_calamine's import above
    start = time.perf_counter()
    if how == "calamine":
        got = len(CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()) - 1
    else:
        with tempfile.TemporaryDirectory() as tmp:
            got = sum(len(b.rows) for b in open_raw(Path(path), "submissions", Path(tmp)).batches)
    elapsed = time.perf_counter() - start
    if seconds_file:
        Path(seconds_file).write_text(f"{elapsed:.4f}")
    if got != rows:
        sys.exit(f"{how}: {got} rows, expected {rows}")
    print(f"{how} rows={got}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
