"""SubmissionRow accepts a good frame and rejects each broken rule with that rule's name."""

import pandas as pd
import pytest

from tasks.validate import validate_rows

GOOD = {
    "submission_id": "S-1",
    "submitted_at": "2020-03-15",
    "country": "Indonesia",
    "institution": "Ministry of Public Works",
    "institution_type": "central_government",
    "track": "urban_development",
    "category": "new_city",
    "project_title": "Smart new city",
    "description": "Phase 1",
    "budget_usd": "1,200,000",
    "contact_name": "Budi",
    "contact_email": "budi@pu.go.id",
    "status": "submitted",
}


def frame(*rows: dict) -> pd.DataFrame:
    index = pd.Index(range(2, 2 + len(rows)), name="row_number")
    return pd.DataFrame(list(rows), index=index, dtype="str")


def test_good_rows_pass_untouched():
    rows = frame(
        GOOD,
        {**GOOD, "submission_id": "S-2", "track": " Smart_Solution ", "category": "WASTE",
         "country": "튀르키예", "submitted_at": "2020. 3. 5.", "budget_usd": None, "status": None,
         "institution_type": None},
    )  # fmt: skip
    result = validate_rows(rows, "submissions")
    assert result.quarantine.empty
    assert result.valid["row_number"].to_list() == [2, 3]


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("submission_id", None, "required"),
        ("submission_id", "x" * 65, "length_1_64"),
        ("submitted_at", None, "required"),
        ("submitted_at", "2020-02-30", "date_format"),
        ("submitted_at", "03/04/2020", "date_format"),
        ("country", None, "required"),
        ("country", "Atlantis", "country_known"),
        ("country", "Columbia", "country_known"),  # no fuzzy guess (pycountry would say Canada)
        ("institution", None, "required"),
        ("institution", "i" * 301, "max_length_300"),
        ("institution_type", "ngo", "institution_type_allowed"),
        ("track", None, "required"),
        ("track", "housing", "track_allowed"),
        ("category", None, "required"),
        ("category", "waste", "category_in_track"),
        ("project_title", None, "required"),
        ("project_title", "t" * 301, "max_length_300"),
        ("budget_usd", "-1", "number_non_negative"),
        ("budget_usd", "NaN", "number_non_negative"),
        ("budget_usd", "1e309", "number_non_negative"),
        ("budget_usd", "1,20", "number_non_negative"),
        ("contact_email", None, "required"),
        ("contact_email", "budi at pu.go.id", "email_format"),
        ("status", "deleted", "status_allowed"),
    ],
)
def test_each_rule_quarantines_with_its_name(column, value, rule):
    rows = frame(GOOD, {**GOOD, "submission_id": "S-2", column: value})
    result = validate_rows(rows, "submissions")
    q = result.quarantine
    assert result.valid["row_number"].to_list() == [2], "the good row still loads"
    assert set(q["row_number"]) == {3}
    hit = q[(q["column_name"] == column) & (q["rule"] == rule)]
    assert len(hit) == 1, q.to_string()
    expected = None if value is None else value
    assert (hit["value"].iloc[0] if pd.notna(hit["value"].iloc[0]) else None) == expected


def test_duplicate_id_in_one_file_quarantines_every_copy():
    result = validate_rows(frame(GOOD, GOOD, {**GOOD, "submission_id": "S-3"}), "submissions")
    q = result.quarantine
    assert set(q.loc[q["rule"] == "unique_within_file", "row_number"]) == {2, 3}
    assert result.valid["row_number"].to_list() == [4]


def test_rows_read_equal_loaded_plus_quarantined_with_several_failures_per_row():
    bad = {**GOOD, "submission_id": "S-2", "country": "Atlantis", "contact_email": "x", "budget_usd": "-5"}
    result = validate_rows(frame(GOOD, bad), "submissions")
    assert len(result.quarantine) == 3
    assert len(result.valid) + result.rows_quarantined == 2
