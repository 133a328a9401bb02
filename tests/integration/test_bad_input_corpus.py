"""A corpus of hostile and broken inbox files, each with its expected outcome: a clear error
naming the file and what is wrong, or a correct load. For every readable file,
rows read = rows loaded + rows quarantined."""

import datetime as dt
import io
import json
import os

import pytest
import xlsxwriter

from flows.nightly import nightly
from tests.integration.helpers import published_tables, query

HEADER = "submission_id,submitted_at,country,institution,track,category,project_title,contact_email"
FB_HEADER = "submission_id,cooperation,prospects,business,comment,reviewed_at"


def row(sid: str, **over: str) -> str:
    v = {"submission_id": sid, "submitted_at": "2020-03-01", "country": "Peru", "institution": "Lima",
         "track": "urban_development", "category": "new_city", "project_title": f"Title {sid}",
         "contact_email": f"{sid.lower()}@lima.gob.pe"} | over  # fmt: skip
    return ",".join(v[k] for k in HEADER.split(","))


def form(prefix: str, *extra: str, header: str = HEADER) -> bytes:
    return "\n".join([header, row(f"{prefix}-1"), *extra]).encode() + b"\n"


def fb(prefix: str, *lines: str) -> bytes:
    return "\n".join([FB_HEADER, f"{prefix}-1,4,4,4,ok,2020-04-01", *lines]).encode() + b"\n"


def xlsx(sheets: list[list[list]]) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    for rows in sheets:
        sheet = book.add_worksheet()
        for i, r in enumerate(rows):
            sheet.write_row(i, 0, r)
    book.close()
    return buf.getvalue()


GOOD_XLSX = [HEADER.split(","), row("X1-1").split(",")]
S, F = "submissions/2020-03-02", "feedback/2020-04-02"
# (path under the inbox, bytes, expected) — expected is ("rejected", reason), ("ignored", reason)
# or ("loaded", rows_read, rows_loaded, {rules of quarantined rows}).
CASES = [
    (f"{S}/empty.csv", b"", ("rejected", "empty file")),
    (f"{S}/header_only.csv", HEADER.encode() + b"\n", ("loaded", 0, 0, set())),
    (f"{S}/junk.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), ("rejected", "junk.csv: ")),
    (f"{S}/truncated.xlsx", xlsx([GOOD_XLSX])[:900], ("rejected", "not a readable XLSX workbook")),
    (f"{S}/second_sheet.xlsx", xlsx([[], GOOD_XLSX]), ("rejected", "first sheet is empty")),
    (f"{S}/ragged.csv", form("RG", row("RG-2") + ",extra,fields"), ("loaded", 2, 1, {"field_count"})),
    (f"{S}/short_row.csv", form("SR", "SR-2,2020-03-01"), ("loaded", 2, 1, {"field_count"})),
    (
        f"{S}/unclosed_quote.csv",
        form("UQ", 'UQ-2,2020-03-01,Peru,"Lima,urban_development'),
        ("rejected", "broken CSV"),
    ),
    (f"{S}/semicolon.csv", form("SC").replace(b",", b";"), ("rejected", "separated by ';'")),
    (f"{S}/utf16.csv", form("U16").decode().encode("utf-16"), ("rejected", "UTF-16")),
    (
        f"{F}/MOEF_mixed_encoding.csv",
        FB_HEADER.encode()
        + "\nME-1,4,4,4,재원 검토,2020-04-01\n".encode("cp949")
        + "ME-2,3,3,3,사업 전망,2020-04-01\n".encode(),
        ("rejected", "mixed encodings"),
    ),  # fmt: skip
    (f"{S}/nul_bytes.csv", form("NB").replace(b"Lima", b"Li\x00ma", 1), ("rejected", "NUL")),
    (
        f"{S}/big_field.csv",  # a 20 MB description loads; a 20 MB institution breaks max_length_300
        (
            HEADER
            + ",description\n"
            + row("BF-1")
            + ",short\n"
            + row("BF-2")
            + ',"'
            + "x" * 20_000_000
            + '"\n'
            + row("BF-3", institution="y" * 20_000_000)
            + ",\n"
        ).encode(),
        ("loaded", 3, 2, {"max_length_300"}),
    ),  # fmt: skip
    (
        f"{S}/duplicate_columns.csv",
        form("DC", header=HEADER + ",Country"),
        ("rejected", "duplicate column(s)"),
    ),
    (
        f"{S}/spaced_headers.csv",
        form(
            "SH",
            header=HEADER.replace("submission_id", " Submission ID")
            .replace("country", "COUNTRY ")
            .replace("contact_email", "Contact-Email"),
        ),
        ("loaded", 1, 1, set()),
    ),  # fmt: skip
    (
        f"{S}/extra_columns.csv",
        form("EC", header=HEADER + ",notes,internal_flag")
        .replace(b"\n", b",a,b\n")
        .replace(HEADER.encode() + b",notes,internal_flag,a,b", HEADER.encode() + b",notes,internal_flag"),
        ("loaded", 1, 1, set()),
    ),  # fmt: skip
    (
        f"{S}/missing_required.csv",
        form("MR", header=HEADER.replace(",contact_email", "")),
        ("rejected", "missing required column(s): contact_email"),
    ),  # fmt: skip
    (f"{S}/object.json", b'{"submission_id": "OJ-1"}', ("rejected", "expected an array of objects")),
    (
        f"{S}/nested.json",
        json.dumps(
            [
                {
                    "submission_id": "NJ-1",
                    "submitted_at": "2020-03-01",
                    "country": {"name": "Peru"},
                    "institution": "Lima",
                    "track": "urban_development",
                    "category": "new_city",
                    "project_title": "T",
                    "contact_email": "a@b.org",
                },
                {
                    "submission_id": "NJ-2",
                    "submitted_at": "2020-03-01",
                    "country": "PE",
                    "institution": "Lima",
                    "meta": [1, {"a": 2}],
                    "track": "urban_development",
                    "category": "new_city",
                    "project_title": "T",
                    "contact_email": "a@b.org",
                },
                7,
            ]
        ).encode(),
        ("loaded", 3, 1, {"country_known", "json_not_an_object"}),
    ),  # fmt: skip
    (
        f"{S}/broken_line.jsonl",
        (
            json.dumps(dict(zip(HEADER.split(","), row("BL-1").split(","), strict=True)))
            + '\n{"submission_id": "BL-2",\n'
        ).encode(),
        ("loaded", 2, 1, {"json_line_broken"}),
    ),  # fmt: skip
    (
        f"{S}/impossible_date.csv",
        form("ID", row("ID-2", submitted_at="2020-02-30")),
        ("loaded", 2, 1, {"date_format"}),
    ),
    (
        f"{S}/ambiguous_date.csv",
        form("AD", row("AD-2", submitted_at="03/04/2020")),
        ("loaded", 2, 1, {"date_format"}),
    ),
    (
        f"{S}/excel_serial_as_text.csv",
        form("ES", row("ES-2", submitted_at="43930")),
        ("loaded", 2, 1, {"date_format"}),
    ),
    (f"{F}/MOFA_score_half.csv", fb("SH", "SH-2,4.5,4,4,,2020-04-01"), ("loaded", 2, 1, {"score_1_to_5"})),
    (f"{F}/MOFA_score_korean.csv", fb("SK", "SK-2,5점,4,4,,2020-04-01"), ("loaded", 2, 1, {"score_1_to_5"})),
    (f"{F}/MOFA_score_na.csv", fb("SN", "SN-2,N/A,4,4,,2020-04-01"), ("loaded", 2, 1, {"score_1_to_5"})),
    (
        f"{F}/MOFA_no_scores.csv",
        fb("NS", "NS-2,,,,nothing rated,2020-04-01"),
        ("loaded", 2, 1, {"at_least_one_score"}),
    ),
    (
        f"{F}/MOFA_no_score_columns.csv",
        b"submission_id,comment,reviewed_at\nX,ok,2020-04-01\n",
        ("rejected", "no score column"),
    ),
    (f"{F}/reviews.csv", fb("WP"), ("rejected", "ministry")),  # no <ministry>_ prefix, no column
    (
        f"{S}/budget_negative.csv",
        form("BN", header=HEADER + ",budget_usd")
        .replace(b"\n", b",-1\n")
        .replace(HEADER.encode() + b",budget_usd,-1", HEADER.encode() + b",budget_usd"),
        ("loaded", 1, 0, {"number_non_negative"}),
    ),  # fmt: skip
    (
        f"{S}/budget_nan.csv",
        (HEADER + ",budget_usd\n" + row("BNN-1") + ",NaN\n" + row("BNN-2") + ',"1,200,000"\n').encode(),
        ("loaded", 2, 1, {"number_non_negative"}),
    ),  # fmt: skip
    (
        f"{S}/budget_huge.csv",
        (HEADER + ",budget_usd\n" + row("BH-1") + ",1e309\n").encode(),
        ("loaded", 1, 0, {"number_non_negative"}),
    ),
    (
        f"{S}/emoji_rtl.csv",
        form("ER", row("ER-2", project_title="Smart city 🏙️ مدينة ذكية", institution="بلدية 🚦")),
        ("loaded", 2, 2, set()),
    ),  # fmt: skip
    (
        f"{S}/formula_values.csv",
        form(
            "FV",
            row("FV-2", project_title='=HYPERLINK("http://x")'),
            row("FV-3", project_title="+82 pilot"),
            row("FV-4", project_title="@cmd"),
            row("FV-5", institution="-Lima"),
        ),
        ("loaded", 5, 5, set()),
    ),  # fmt: skip
    (f"{S}/form export (final).csv", form("FN1"), ("loaded", 1, 1, set())),
    (f"{S}/form \"v2\" 'quoted'.csv", form("FN2"), ("loaded", 1, 1, set())),
    (f"{S}/제출목록_최종.csv", form("FN3"), ("loaded", 1, 1, set())),
    (f"{S}/.hidden.csv", form("HD"), ("ignored", "hidden or temporary")),
    (f"{S}/~$open_in_excel.xlsx", b"lock", ("ignored", "hidden or temporary")),
    (f"{S}/upload.csv.part", form("PT"), ("ignored", "hidden or temporary")),
    (f"{S}/notes.txt", b"see attached", ("rejected", "unsupported file type .txt")),
    (
        f"{S}/blank_rows.xlsx",
        xlsx([[HEADER.split(","), row("BX-1").split(","), [], [], row("BX-2").split(",")]]),
        ("loaded", 2, 2, set()),
    ),  # fmt: skip
    (f"{S}/blank_lines.csv", form("BK") + b"\n\n" + row("BK-2").encode() + b"\n", ("loaded", 2, 2, set())),
    (
        f"{S}/bom.json",
        b"\xef\xbb\xbf"
        + json.dumps([dict(zip(HEADER.split(","), row("BJ-1").split(","), strict=True))]).encode(),
        ("loaded", 1, 1, set()),
    ),  # fmt: skip
    (f"{S}/header_only.xlsx", xlsx([[HEADER.split(",")]]), ("loaded", 0, 0, set())),
    (f"{S}/blank_required.csv", form("BR", row("BR-2", institution="   ")), ("loaded", 2, 1, {"required"})),
    (
        f"{S}/wrong_track.csv",
        form("WT", row("WT-2", category="waste")),
        ("loaded", 2, 1, {"category_in_track"}),
    ),
    (
        f"{S}/duplicate_ids.csv",
        form("DI", row("DI-1", country="Chile")),
        ("loaded", 2, 0, {"unique_within_file"}),
    ),
    ("submissions/2020-13-45/bad_date_folder.csv", form("BD"), ("ignored", "YYYY-MM-DD")),
    ("submissions/loose_file.csv", form("LF"), ("ignored", "YYYY-MM-DD")),
    (
        f"{F}/KOICA_korean_crlf.csv",
        "제출번호,부처,정부간협력,사업전망,기업협력,의견,검토일\r\nKC-1,KOICA,3,4,5,양호,2020. 4. 1.\r\n".encode(
            "cp949"
        ),
        ("loaded", 1, 1, set()),
    ),  # fmt: skip
]


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 40
    assert len({p for p, _, _ in CASES}) == len(CASES)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    data = tmp_path_factory.mktemp("corpus") / "data"
    inbox = data / "inbox"
    for rel, content, _ in CASES:
        path = inbox / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    outside = data.parent / "outside.csv"
    outside.write_bytes(form("OUT"))
    (inbox / S / "link_outside.csv").symlink_to(outside)
    (inbox / S / "linked_folder").symlink_to(data.parent, target_is_directory=True)
    os.environ["KCITY_DATA_DIR"] = str(data)
    try:
        nightly(as_of=dt.date(2020, 4, 30))
    finally:
        del os.environ["KCITY_DATA_DIR"]
    tables = published_tables(data / "kcity.duckdb")
    return data, tables["load_report"].set_index("path"), tables["quarantine"]


@pytest.mark.parametrize(
    ("rel", "expected"), [(r, e) for r, _, e in CASES], ids=[r.split("/")[-1] for r, _, _ in CASES]
)
def test_each_file_has_its_expected_outcome(loaded, rel, expected):
    _, report, quarantine = loaded
    got = report.loc[rel]
    assert got["status"] == expected[0], got.to_dict()
    if expected[0] in ("rejected", "ignored"):
        assert expected[1] in got["error"], got["error"]
        if expected[0] == "rejected":
            assert got["error"].startswith(rel.split("/")[-1] + ": ")  # names the file
        assert got["rows_loaded"] == 0
        return
    _, read, ok, rules = expected
    assert (got["rows_read"], got["rows_loaded"]) == (read, ok)
    assert got["rows_read"] == got["rows_loaded"] + got["rows_quarantined"]
    assert set(quarantine.loc[quarantine["file_name"] == rel.split("/")[-1], "rule"]) == rules


def test_links_are_not_followed(loaded):
    data, report, _ = loaded
    assert report.loc[f"submissions/{S.split('/')[1]}/link_outside.csv", "status"] == "ignored"
    assert report.loc[f"submissions/{S.split('/')[1]}/linked_folder", "status"] == "ignored"
    assert query(
        data / "kcity.duckdb", "SELECT count(*) FROM marts.submissions WHERE submission_id = 'OUT-1'"
    ) == [(0,)]


def test_hostile_values_survive_as_text(loaded):
    data, _, _ = loaded
    titles = dict(query(data / "kcity.duckdb", "SELECT submission_id, project_title FROM marts.submissions"))
    assert titles["ER-2"] == "Smart city 🏙️ مدينة ذكية"
    assert titles["FV-2"] == '=HYPERLINK("http://x")'


def test_a_file_still_being_written_loads_whole_on_the_next_run(tmp_path, monkeypatch):
    data = tmp_path / "data"
    path = data / "inbox" / S / "arriving.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(form("AR", row("AR-2"))[:60])  # half-written, modified just now
    monkeypatch.setenv("KCITY_DATA_DIR", str(data))
    monkeypatch.setenv("KCITY_SETTLE_SECONDS", "30")
    nightly(as_of=dt.date(2020, 4, 30))
    assert "arriving.csv" not in published_tables(data / "kcity.duckdb")["load_report"]["file_name"].tolist()
    path.write_bytes(form("AR", row("AR-2")))
    old = (dt.datetime.now() - dt.timedelta(minutes=5)).timestamp()
    os.utime(path, (old, old))  # the writer finished minutes ago
    nightly(as_of=dt.date(2020, 4, 30))
    report = published_tables(data / "kcity.duckdb")["load_report"].set_index("file_name")
    assert (report.loc["arriving.csv", "status"], report.loc["arriving.csv", "rows_loaded"]) == ("loaded", 2)
