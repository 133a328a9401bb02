"""What the committee, analysts and other ministries get: the report, exports, scores they
can trace, and a published file that BI tools (DuckDB 1.x, SQLAlchemy) open read-only."""

import csv
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest

from flows.nightly import nightly
from kcity.cli import main as kcity
from kcity.sample import write_sample
from tasks.report import write_report, written_digest
from tests.integration import browser
from tests.integration.helpers import published_tables, query

DOCS = Path(__file__).resolve().parents[2] / "docs"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("committee") / "data"
    write_sample(data / "inbox")
    old = os.environ.get("KCITY_DATA_DIR")
    os.environ["KCITY_DATA_DIR"] = str(data)
    try:
        summary = nightly(as_of=dt.date(2020, 4, 19))
        yield data, summary
    finally:
        os.environ.pop("KCITY_DATA_DIR") if old is None else os.environ.__setitem__("KCITY_DATA_DIR", old)


def test_the_report_is_written_with_the_published_figures(demo):
    data, summary = demo
    report = data / "reports" / "kcity-report-2020-04-19.html"
    assert summary.report == report
    text = report.read_text(encoding="utf-8")
    assert "<b>23</b><span>countries</span>" in text and "<b>80</b><span>requests</span>" in text
    assert "Checked against the published figures" in text
    for office in ("Railway office", "Road office", "Airport office", "Pan-government"):
        assert office in text
    shortlist = query(
        data / "kcity.duckdb", "SELECT country_name FROM marts.country_summary WHERE shortlisted"
    )
    assert all(name in text for (name,) in shortlist)
    assert "shortlist line (top 10)" in text and text.count("<svg") == 3
    # Delivery dates as dates (rendered from pandas they read "2020-02-07 00:00:00")
    assert '<td class="">2020-02-07</td>' in text and "00:00:00" not in text
    # self-contained: nothing fetched from anywhere
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text and "url(" not in text and "<script" not in text
    assert "@gov-" not in text and "Contact Person" not in text


def test_the_report_is_rendered_again_only_when_what_it_shows_changes(demo, tmp_path):
    data, _ = demo
    report = data / "reports" / "kcity-report-2020-04-19.html"
    written = report.read_bytes()
    assert written_digest(report) is not None
    # Unchanged figures (a night with nothing new): the file is left as it is, to the byte
    # and not written again (a report written again is a new file: replaced atomically).
    inode = report.stat().st_ino
    assert write_report(data / "kcity.duckdb", data / "reports") == report
    assert report.read_bytes() == written and report.stat().st_ino == inode
    # One figure changed in one table the report reads (a copy: other tests read the demo's).
    for table, change in [
        ("load_report", "UPDATE marts.load_report SET rows_quarantined = 7777 WHERE file_name = 'MOFA_review_round1.csv'"),
        ("quarantine", "DELETE FROM marts.quarantine WHERE row_number = (SELECT min(row_number) FROM marts.quarantine)"),
    ]:  # fmt: skip
        published, folder = tmp_path / f"{table}.duckdb", tmp_path / table
        shutil.copyfile(data / "kcity.duckdb", published)
        folder.mkdir()
        shutil.copyfile(report, folder / report.name)
        with duckdb.connect(published) as con:
            assert con.execute(change).fetchone()[0] >= 1
        again = write_report(published, folder)
        assert written_digest(again) != written_digest(report), table
        assert again.read_bytes() != written
    assert "7777" in (tmp_path / "load_report" / report.name).read_text(encoding="utf-8")
    # A change to what the report does not show (a rating behind a score; the digest is over
    # the rows it reads) leaves it as it is.
    published, folder = tmp_path / "unshown.duckdb", tmp_path / "unshown"
    shutil.copyfile(data / "kcity.duckdb", published)
    folder.mkdir()
    shutil.copyfile(report, folder / report.name)
    inode = (folder / report.name).stat().st_ino
    with duckdb.connect(published) as con:
        flipped = "UPDATE marts.score_breakdown SET rating = 6 - rating WHERE rating IS NOT NULL"
        assert con.execute(flipped).fetchone()[0] > 0
    kept = write_report(published, folder)
    assert kept.read_bytes() == written and kept.stat().st_ino == inode


def test_the_report_renders_offline_and_prints_on_a4_in_chromium(demo, tmp_path):
    data, _ = demo
    url = (data / "reports" / "kcity-report-2020-04-19.html").as_uri()
    leaky = tmp_path / "leaky.html"  # the detector's own check: a page that does fetch something
    leaky.write_text('<html><body><img src="http://127.0.0.1:9/pixel.png"></body></html>')
    assert browser.network_requests(leaky.as_uri(), tmp_path) == ["http://127.0.0.1:9/pixel.png"]
    assert browser.network_requests(url, tmp_path) == []
    dom = browser.dom(url)
    assert "Shortlist" in dom and "Data quality" in dom
    out = DOCS if os.environ.get("KCITY_UPDATE_DOCS") == "1" else tmp_path
    png = browser.screenshot(url, out / "report.png", "1000,2600")
    assert png.stat().st_size > 50_000
    pdf = browser.print_pdf(url, tmp_path / "report.pdf").read_bytes()
    sizes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert sizes and all(abs(float(w) - 595.92) < 2 and abs(float(h) - 842.88) < 2 for w, h in sizes), sizes[
        :3
    ]
    assert 2 <= len(sizes) <= 10  # A4 pages, a readable handful


def test_score_breakdown_reproduces_every_country_score_on_the_demo(demo):
    data, _ = demo
    t = published_tables(data / "kcity.duckdb")
    parts, countries = t["score_breakdown"], t["country_summary"].set_index("country_iso3")
    used = parts[~parts["trimmed"]]
    crit = used.groupby(["country_iso3", "submission_id", "criterion"]).agg(
        v=("value_used", "mean"), w=("weight", "first")
    )
    crit["v"] = crit["v"].astype(float).round(4)
    req = crit.groupby(["country_iso3", "submission_id"]).apply(
        lambda g: round((g.v * g.w).sum() / g.w.sum(), 4)
    )
    country = req.groupby("country_iso3").apply(lambda s: round(s.sum() / len(s) + 1e-12, 4))
    assert country.to_dict() == pytest.approx(countries["score"].dropna().to_dict(), abs=1e-9)
    assert len(parts) == parts[["submission_id", "ministry", "criterion"]].drop_duplicates().shape[0]


def test_trimmed_and_normalised_rankings_are_side_by_side_with_the_default(demo):
    data, _ = demo
    v = published_tables(data / "kcity.duckdb")["ranking_variants"]
    wide = v.pivot(index="country_iso3", columns="method", values="rank")
    assert list(wide.columns) == ["contract_default", "ministry_normalized", "trimmed_mean"]
    assert len(wide) == 23 and wide.notna().all().all()
    default = published_tables(data / "kcity.duckdb")["country_summary"].set_index("country_iso3")["rank"]
    assert wide["contract_default"].to_dict() == default.to_dict()
    stability = published_tables(data / "kcity.duckdb")["rank_stability"]
    assert stability["ministry_left_out"].nunique() == 5 and stability["country_iso3"].nunique() == 10


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_exports_open_and_carry_no_formula_or_e_mail(demo, fmt, capsys):
    data, _ = demo
    assert kcity(["export", "--as-of", "2020-04-19", "--format", fmt]) == 0
    paths = [Path(p) for p in capsys.readouterr().out.split()]
    assert all(p.is_file() and p.is_relative_to(data / "exports") for p in paths)
    cells: list[object] = []
    if fmt == "xlsx":
        book = openpyxl.load_workbook(paths[0])
        assert {"headline", "country_summary", "submissions", "score_breakdown", "load_report"} <= set(
            book.sheetnames
        )
        for sheet in book.worksheets:
            assert sheet.freeze_panes == "A2"
            cells += [c.value for row in sheet.iter_rows() for c in row]
        titles = [c.value for c in book["submissions"]["J"]]
    else:
        assert {p.name for p in paths} >= {"headline.csv", "country_summary.csv", "submissions.csv"}
        for p in paths:
            assert p.read_bytes().startswith(b"\xef\xbb\xbf")
            cells += [v for row in csv.reader(p.open(encoding="utf-8-sig")) for v in row]
        titles = [
            r["project_title"]
            for r in csv.DictReader(
                (data / "exports/kcity-2020-04-19-csv/submissions.csv").open(encoding="utf-8-sig")
            )
        ]
    text = [c for c in cells if isinstance(c, str)]
    assert not [c for c in text if c.startswith(FORMULA_START)]
    assert any(t and t.startswith("'- ") for t in titles)  # the sample's dash title, neutralised
    assert not [c for c in text if EMAIL.search(c)]


def test_published_file_opens_in_duckdb_1_2_as_bi_tools_embed(demo, tmp_path):
    data, _ = demo
    venv = tmp_path / "duckdb12"
    uv = Path(sys.executable).with_name("uv")
    subprocess.run([str(uv), "venv", "-q", "--python", sys.executable, str(venv)], check=True, timeout=300)
    subprocess.run([str(uv), "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "duckdb==1.2.2"],
                   check=True, timeout=300)  # fmt: skip
    script = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True);"
        "print(duckdb.__version__);"
        "print(con.execute('SELECT n_countries, n_requests FROM marts.headline').fetchall());"
        "print(con.execute(\"SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'marts' AND comment <> ''\").fetchall())"
    )
    out = subprocess.run([str(venv / "bin" / "python"), "-c", script, str(data / "kcity.duckdb")],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    version, headline, commented = out.stdout.split("\n")[:3]
    assert version == "1.2.2" and headline == "[(23, 80)]" and int(commented.strip("[(,)]")) > 100


def test_published_file_through_sqlalchemy_duckdb_engine_read_only(demo):
    from sqlalchemy import create_engine, inspect, text

    data, _ = demo
    engine = create_engine(f"duckdb:///{data / 'kcity.duckdb'}", connect_args={"read_only": True})
    with engine.connect() as con:
        assert con.execute(text("SELECT n_countries, n_requests FROM marts.headline")).fetchall() == [
            (23, 80)
        ]
        with pytest.raises(Exception, match="read-only"):
            con.execute(text("CREATE TABLE marts.x (a INT)"))
    tables = set(inspect(engine).get_table_names(schema="marts"))
    assert {"headline", "country_summary", "submissions", "office_routing", "load_report"} <= tables
    engine.dispose()


def test_every_published_table_and_column_is_described(demo):
    data, _ = demo
    missing = query(
        data / "kcity.duckdb",
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'marts' AND coalesce(comment, '') = ''",
    )
    assert missing == []
    uncommented = query(
        data / "kcity.duckdb",
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' AND coalesce(comment, '') = ''",
    )
    assert uncommented == []
    assert query(
        data / "kcity.duckdb", "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts'"
    ) == [(14,)]
