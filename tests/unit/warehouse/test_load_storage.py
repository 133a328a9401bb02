"""How a load leaves the warehouse file's storage: a content that only appends rows does not
rewrite the row groups before it (DuckDB's vacuum merging them cost ~6 s of a 1M run's
loading); a content loaded again still replaces its rows."""

import pandas as pd

from warehouse import db

# More than one DuckDB row group (122,880 rows): the load writes whole row groups and leaves
# a partial one at its end, the one a vacuum would merge with the next load's.
ROWS = 130_000


def _reviews(prefix: str) -> list[dict]:
    frame = pd.DataFrame(
        {
            "row_number": range(2, ROWS + 2),
            "submission_id": [f"{prefix}-{i}" for i in range(ROWS)],
            "ministry": "MOFA",
            "cooperation": 3,
            "prospects": 4,
            "business": 5,
            "comment": None,
            "reviewed_at": pd.Timestamp("2020-04-01"),
        }
    )
    return frame.to_dict("records")


def _row_groups(path) -> list[tuple[int, int]]:
    """(row group id, rows stored) of stg.feedback, in order."""
    with db.connect(path) as con:
        return con.execute(
            "SELECT row_group_id, max(count) FROM pragma_storage_info('stg.feedback') "
            "WHERE column_id = 0 GROUP BY ALL ORDER BY 1"
        ).fetchall()


def _live(path) -> dict[str, int]:
    with db.connect(path) as con:
        return dict(con.execute("SELECT sha256, count(*) FROM stg.feedback GROUP BY ALL").fetchall())


def test_a_load_that_only_appends_leaves_the_row_groups_before_it_as_they_were(given):
    given.file("a", "feedback", "2020-04-01", "a.csv", _reviews("a"))
    after_a = _row_groups(given.path)
    assert sum(n for _, n in after_a) == ROWS and len(after_a) == 2  # a full row group and a partial one

    given.file("b", "feedback", "2020-04-02", "b.csv", _reviews("b"))
    after_b = _row_groups(given.path)
    # A's partial row group was not merged with b's rows: a's row groups are as they were.
    assert after_b[: len(after_a)] == after_a
    assert sum(n for _, n in after_b) == 2 * ROWS
    assert _live(given.path) == {"a": ROWS, "b": ROWS}

    # Loaded again (a backfill re-validating it), a's rows are replaced, none doubled.
    given.file("a", "feedback", "2020-04-01", "a.csv", _reviews("a")[:1000])
    assert _live(given.path) == {"a": 1000, "b": ROWS}
