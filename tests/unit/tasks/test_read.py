"""Every input format and encoding of the contract reads to the same raw text rows."""

import datetime as dt
from pathlib import Path

import pytest

from tasks.read import normalize_header, read_raw
from tasks.transform import stage_feedback, stage_submissions
from tasks.validate import validate_rows

INPUTS = Path(__file__).resolve().parents[2] / "fixtures" / "inputs"
FORM_FILES = [
    "form_utf8_lf.csv",
    "form_utf8_bom_crlf.csv",
    "form_cp949.csv",
    "form_spaced_headers.csv",
    "form_array.json",
    "form_lines.jsonl",
    "form_dates.xlsx",
]


@pytest.mark.parametrize("name", FORM_FILES)
def test_every_form_format_loads_the_same_requests(name):
    raw = read_raw(INPUTS / name, "submissions")
    assert raw.error is None
    checked = validate_rows(raw.rows, "submissions", raw.shape_problems)
    assert checked.quarantine.empty, checked.quarantine.to_string()
    staged = stage_submissions(checked.valid).to_pandas().set_index("submission_id")
    assert staged.loc["F-1", "country_iso3"] == "IDN"
    assert str(staged.loc["F-1", "submitted_at"]) == "2020-02-03 10:15:00"
    assert staged.loc["F-1", "budget_usd"] == 1_200_000
    assert staged.loc["F-1", "status"] == "submitted"
    assert staged.loc["F-2", "country_iso3"] == "LAO"
    assert str(staged.loc["F-2", "submitted_at"]) == "2020-02-04 00:00:00"
    assert (staged.loc["F-2", "track"], staged.loc["F-2", "category"]) == ("smart_solution", "ai_transport")
    if "F-3" in staged.index:
        assert staged.loc["F-3", "country_iso3"] == "TUR"
        assert staged.loc["F-3", "budget_usd"] == 1_500_000


@pytest.mark.parametrize("name", ["form_utf8_lf.csv", "form_utf8_bom_crlf.csv", "form_cp949.csv"])
def test_csv_keeps_quoted_commas_and_line_breaks_and_counts_spreadsheet_rows(name):
    raw = read_raw(INPUTS / name, "submissions")
    assert raw.rows.loc[2, "description"] == "Phase 1, design\nPhase 2, build"
    assert raw.rows.loc[4, "description"] == 'He said "go"'
    assert list(raw.rows.index) == [2, 3, 4]


def test_cp949_korean_values_decode():
    raw = read_raw(INPUTS / "form_cp949.csv", "submissions")
    assert raw.rows.loc[4, "country"] == "터키"


def test_json_numbers_and_nested_values_become_text():
    raw = read_raw(INPUTS / "form_array.json", "submissions")
    assert raw.rows.loc[1, "budget_usd"] == "1200000"
    assert raw.notes == ["ignored unknown column(s): extra"]
    assert list(raw.rows.index) == [1, 2]


def test_feedback_ministry_from_file_name_when_the_column_is_absent():
    raw = read_raw(INPUTS / "MOFA_review.csv", "feedback")
    staged = stage_feedback(validate_rows(raw.rows, "feedback").valid).to_pandas()
    assert staged["ministry"].tolist() == ["MOFA", "MOFA"]
    assert staged["cooperation"].tolist() == [4, 3]
    assert staged["business"].isna().tolist() == [True, False]


def test_feedback_korean_headers_cp949_and_blank_ministry_cell_falls_back_to_file_name():
    raw = read_raw(INPUTS / "MOEF_korean_headers_cp949.csv", "feedback")
    assert raw.error is None
    staged = stage_feedback(validate_rows(raw.rows, "feedback").valid).to_pandas()
    assert staged["ministry"].tolist() == ["기획재정부", "MOEF"]
    assert staged["comment"].iloc[0] == "재원 검토"
    assert [str(d.date()) for d in staged["reviewed_at"]] == ["2020-04-07", "2020-04-07"]


def test_feedback_xlsx_with_english_spaced_headers_and_date_cells():
    raw = read_raw(INPUTS / "KOTRA_feedback.xlsx", "feedback")
    staged = stage_feedback(validate_rows(raw.rows, "feedback").valid).to_pandas()
    assert staged.iloc[0][["ministry", "cooperation", "prospects", "business"]].tolist() == ["KOTRA", 5, 4, 4]
    assert str(staged.iloc[0]["reviewed_at"].date()) == "2020-04-09"


def test_headers_are_normalised():
    assert normalize_header("\ufeff Submission ID ") == "submission_id"
    assert normalize_header("Contact-Email") == "contact_email"
    assert normalize_header("검토일자") == "검토일자"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.csv", b"", "empty file"),
        ("junk.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xfa", "neither UTF-8 nor CP949"),
        ("utf16.csv", "submission_id\n".encode("utf-16"), "UTF-16"),
        ("missing.csv", b"submission_id,country\nS-1,Peru\n", "missing required column(s): submitted_at"),
        ("object.json", b'{"submission_id": "S-1"}', "expected an array of objects"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "not a readable XLSX workbook"),
        ("notes.txt", b"hello", "unsupported file type .txt"),
        ("dupe.csv", b"submission_id,Submission ID\nS,S\n", "duplicate column(s)"),
    ],
)
def test_unreadable_files_are_rejected_with_a_reason_naming_the_file(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    raw = read_raw(path, "submissions")
    assert raw.rows is None
    assert raw.error.startswith(f"{name}: ")
    assert reason in raw.error


def test_feedback_without_ministry_column_or_prefix_is_rejected(tmp_path):
    path = tmp_path / "review.csv"
    path.write_text("submission_id,cooperation,reviewed_at\nS-1,4,2020-04-01\n")
    assert "ministry" in read_raw(path, "feedback").error


def test_ragged_rows_and_broken_json_lines_are_quarantined_not_dropped(tmp_path):
    csv_path = tmp_path / "ragged.csv"
    csv_path.write_bytes((INPUTS / "form_utf8_lf.csv").read_bytes() + b"F-9,2020-02-01\n")
    raw = read_raw(csv_path, "submissions")
    checked = validate_rows(raw.rows, "submissions", raw.shape_problems)
    assert raw.rows_read == 4
    assert set(checked.quarantine.loc[checked.quarantine["rule"] == "field_count", "row_number"]) == {5}
    assert len(checked.valid) == 3

    jsonl = tmp_path / "broken.jsonl"
    jsonl.write_bytes((INPUTS / "form_lines.jsonl").read_bytes() + b'{"submission_id": "F-9",\n')
    raw = read_raw(jsonl, "submissions")
    checked = validate_rows(raw.rows, "submissions", raw.shape_problems)
    assert raw.rows_read == 3
    assert checked.quarantine.loc[checked.quarantine["row_number"] == 3, "rule"].iloc[0] == "json_line_broken"
    assert len(checked.valid) == 2


def test_unchanged_files_are_not_hashed_again_and_changed_ones_are(tmp_path):
    import os

    from tasks.inbox import scan_inbox, stat_key

    path = tmp_path / "inbox" / "submissions" / "2020-03-02" / "form.csv"
    path.parent.mkdir(parents=True)
    path.write_text("submission_id\nS-1\n")
    os.utime(path, (1_600_000_000, 1_600_000_000))
    rel = "submissions/2020-03-02/form.csv"
    known = {(rel, stat_key(path.stat())): "hash-from-an-earlier-run"}
    scan = scan_inbox.fn
    assert scan(tmp_path / "inbox", dt.date(2020, 3, 2), 0, known)[0].sha256 == "hash-from-an-earlier-run"
    path.write_text("submission_id\nS-2\n")  # same size, rewritten, and its old mtime put back
    os.utime(path, (1_600_000_000, 1_600_000_000))
    assert path.stat().st_mtime_ns == 1_600_000_000 * 10**9
    assert scan(tmp_path / "inbox", dt.date(2020, 3, 2), 0, known)[0].sha256 != "hash-from-an-earlier-run"
