"""Large files go in batches: the result must equal reading them whole."""

import datetime as dt

import pytest

from tasks import ingest as ingesting
from tasks.plan import LoadItem
from warehouse import db, loading

HEADER = "submission_id,submitted_at,country,institution,track,category,project_title,contact_email"


def row(sid: str, title: str = "T") -> str:
    return f"{sid},2020-03-01,Peru,Lima,urban_development,new_city,{title},a@lima.gob.pe"


def ingest(tmp_path, lines: list[str], block: int, monkeypatch) -> tuple[dict, list[tuple]]:
    inbox = tmp_path / "inbox"
    rel = "submissions/2020-03-02/form.csv"
    (inbox / rel).parent.mkdir(parents=True)
    (inbox / rel).write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    internal = tmp_path / "internal.duckdb"
    db.init_warehouse(internal)
    monkeypatch.setattr(ingesting, "CSV_BLOCK_BYTES", block)
    item = LoadItem("sha-1", "submissions", dt.date(2020, 3, 2), rel, "form.csv", True)
    ledger = ingesting._ingest(internal, inbox, item)
    with db.connect(internal) as con:
        quarantine = con.execute(
            "SELECT row_number, column_name, rule, value FROM ops.quarantine ORDER BY ALL"
        ).fetchall()
    return ledger, quarantine


@pytest.mark.parametrize("block", [1 << 20, 256])  # one batch / many batches of a few rows
def test_repeated_ids_in_different_batches_are_quarantined_like_in_one(tmp_path, monkeypatch, block):
    lines = [row(f"S-{i}") for i in range(1, 40)] + [row("S-1"), "S-99,2020-03-01,Peru"]
    ledger, quarantine = ingest(tmp_path, lines, block, monkeypatch)
    assert (ledger["rows_read"], ledger["rows_loaded"], ledger["rows_quarantined"]) == (41, 38, 3)
    assert quarantine == [
        (2, "submission_id", "unique_within_file", "S-1"),
        (41, "submission_id", "unique_within_file", "S-1"),
        (42, None, "field_count", "3 fields, header has 8"),
    ]


def test_a_record_larger_than_a_block_rereads_the_file_whole(tmp_path, monkeypatch):
    lines = [row("S-1"), row("S-2", title="x" * 2000), row("S-3")]
    ledger, quarantine = ingest(tmp_path, lines, 256, monkeypatch)
    assert (ledger["rows_read"], ledger["rows_loaded"], ledger["rows_quarantined"]) == (3, 2, 1)
    assert quarantine == [(3, "project_title", "max_length_300", "x" * 2000)]


def test_an_error_late_in_a_file_rejects_it_whole_and_keeps_nothing_of_it(tmp_path, monkeypatch):
    lines = [row(f"S-{i}") for i in range(1, 40)] + ['S-50,2020-03-01,"Peru']  # unclosed quote at the end
    ledger, _ = ingest(tmp_path, lines, 256, monkeypatch)
    assert ledger["status"] == "rejected" and "broken CSV" in ledger["error"]
    with db.connect(tmp_path / "internal.duckdb") as con:
        assert con.execute("SELECT count(*) FROM raw.submission_rows").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM stg.submissions").fetchone()[0] == 0


def test_a_batch_s_data_is_freed_before_the_file_s_transaction_ends(tmp_path, monkeypatch):
    """Memory while loading a file must not grow with its batches: each batch's Arrow data
    is released once inserted (a view registered and dropped inside the open transaction
    kept every batch's data alive until commit)."""
    import gc

    import pyarrow as pa

    live: list[int] = []
    insert = loading._insert

    def measured(con, table, frame, sha):
        insert(con, table, frame, sha)
        if table == "ops.quarantine":  # the batch's last insert
            gc.collect()
            live.append(pa.total_allocated_bytes())

    monkeypatch.setattr(loading, "_insert", measured)
    lines = [row(f"S-{i}", title="t" * 250) for i in range(1, 3001)]  # ~1 MB, many batches
    ledger, _ = ingest(tmp_path, lines, 16 << 10, monkeypatch)
    assert ledger["rows_loaded"] == 3000 and len(live) > 40
    # The reader's read-ahead is at most 32 blocks (512 KB here) and shrinks towards the end.
    assert max(live[-10:]) < 1 << 20, [n >> 10 for n in live]  # held all batches: 2.6 MB


@pytest.mark.parametrize("ahead", [2, 3])
def test_the_csv_reader_reads_only_a_few_blocks_ahead_of_the_batch_being_loaded(tmp_path, monkeypatch, ahead):
    """Arrow's CSV reader reads up to 32 blocks ahead (a whole file at our sizes, held in
    memory at its first batch); it is paced to `CSV_READ_AHEAD` blocks, without stalling."""
    from pathlib import Path

    from tasks import read

    block = 16 << 10
    path = tmp_path / "form.csv"
    path.write_text("\n".join([HEADER, *(row(f"S-{i}") for i in range(1, 20001))]) + "\n", encoding="utf-8")
    assert path.stat().st_size > 40 * block
    files: list = []

    class Watched(read._PacedFile):
        def __init__(self, *args):
            super().__init__(*args)
            self.stalls, self.beyond = 0, []
            files.append(self)

        def read(self, size: int = -1) -> bytes:
            with self._changed:
                if not self._changed.wait_for(self._may_read, timeout=1.0):
                    self.stalls += 1
            data = super().read(size)
            with self._changed:  # bytes read beyond the blocks of the batches handed out
                self.beyond.append(self._read - self._taken * self._block)
            return data

    monkeypatch.setattr(read, "_PacedFile", Watched)
    monkeypatch.setattr(read, "CSV_READ_AHEAD", ahead)
    stream = read.open_raw(path, "submissions", Path(tmp_path), block_size=block)
    rows = sum(len(b.rows) for b in stream.batches)
    assert rows == 20000
    (paced,) = files
    assert paced.stalls == 0  # never waited out the guard timeout: no batch needs more blocks
    # The reader never got more than `ahead` blocks (+ the one being read) beyond the batches
    # taken; unpaced, it read the whole file (40+ blocks) before the first batch.
    assert max(paced.beyond) <= (ahead + 1) * block, max(paced.beyond) // block
    assert paced.closed


def test_revalidating_a_gone_file_page_by_page_loads_what_the_file_loaded(tmp_path, monkeypatch):
    """A gone file is re-validated from its raw rows, read page by page from the load's own
    connection while the batch before is inserted on it: every page must come back whole and
    in order (reads and inserts sharing one connection from two threads mixed up results)."""
    lines = [row(f"S-{i}") for i in range(1, 301)] + [row("S-7"), "S-999,2020-03-01,Peru", row("S-400", "")]
    first, _ = ingest(tmp_path, lines, 1 << 20, monkeypatch)
    internal = tmp_path / "internal.duckdb"
    tables = ("raw.submission_rows", "stg.submissions", "ops.quarantine")

    def contents() -> dict[str, list[tuple]]:
        with db.connect(internal) as con:
            return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}

    before = contents()
    monkeypatch.setattr(loading, "REPLAY_ROWS", 10)  # 31 pages, each read while a batch is inserted
    gone = LoadItem(
        "sha-1", "submissions", dt.date(2020, 3, 2), "submissions/2020-03-02/form.csv", "form.csv", False
    )
    for _ in range(2):
        again = ingesting._ingest(internal, tmp_path / "inbox", gone)
        counts = ("rows_read", "rows_loaded", "rows_quarantined")
        assert [again[k] for k in counts] == [first[k] for k in counts] == [303, 299, 4]
        assert contents() == before
