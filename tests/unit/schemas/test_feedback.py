"""FeedbackRow accepts good reviews and rejects each broken rule with that rule's name."""

import pandas as pd
import pytest

from tasks.validate import validate_rows

GOOD = {
    "submission_id": "S-1",
    "ministry": "MOFA",
    "cooperation": "4",
    "prospects": "5",
    "business": None,
    "comment": "ok",
    "reviewed_at": "2020. 4. 7.",
}


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), index=pd.Index(range(2, 2 + len(rows)), name="row_number"), dtype="str")


def test_good_reviews_pass():
    result = validate_rows(frame(GOOD, {**GOOD, "cooperation": None, "business": "4.0"}), "feedback")
    assert result.quarantine.empty
    assert len(result.valid) == 2


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("submission_id", None, "required"),
        ("ministry", None, "required"),
        ("cooperation", "6", "score_1_to_5"),
        ("prospects", "0", "score_1_to_5"),
        ("business", "4.5", "score_1_to_5"),
        ("cooperation", "5점", "score_1_to_5"),
        ("prospects", "N/A", "score_1_to_5"),
        ("reviewed_at", None, "required"),
        ("reviewed_at", "2020-13-01", "date_format"),
    ],
)
def test_each_rule_quarantines_with_its_name(column, value, rule):
    result = validate_rows(frame(GOOD, {**GOOD, column: value}), "feedback")
    q = result.quarantine
    assert result.valid["row_number"].to_list() == [2]
    assert len(q[(q["row_number"] == 3) & (q["column_name"] == column) & (q["rule"] == rule)]) == 1, q


def test_a_review_without_any_score_is_quarantined_once_per_score_column():
    row = {**GOOD, "cooperation": None, "prospects": None, "business": None}
    q = validate_rows(frame(GOOD, row), "feedback").quarantine
    assert set(q["rule"]) == {"at_least_one_score"}
    assert sorted(q["column_name"]) == ["business", "cooperation", "prospects"]
    assert set(q["row_number"]) == {3}
