"""The committee report: one self-contained HTML file per as_of, read from the published file.

Everything is inline (CSS, SVG charts; no scripts, fonts or images from anywhere), so it
opens offline and prints on A4. Its figures are checked against each other before writing:
a report whose numbers disagree is never produced.

It is rendered again only when what it shows may have changed: a meta tag holds a digest of
every published table it reads (hashed by DuckDB) and of this module's code. A night with
nothing new finds the same digest in the file and leaves the file as it is, with the time it
was generated.

It reads plain rows (dicts), aggregated in SQL, not pandas frames: a quiet night on a new
date renders a report for that date, and rendering it must not import pandas (its import
takes longer than the rendering).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import math
import re
from pathlib import Path

import duckdb
from prefect import task

from tasks.summary import Rows
from warehouse import db

Row = dict[str, object]

TRACK_COLORS = {"urban_development": "#1f5fa8", "smart_solution": "#2e9e6a", "other": "#b0b7c3"}
CRITERIA = {"avg_cooperation": ("cooperation", "#1f5fa8"), "avg_prospects": ("prospects", "#e08a1e"),
            "avg_business": ("business", "#2e9e6a")}  # fmt: skip
OFFICE_LABELS = {
    "urban_policy": "Urban policy",
    "railway": "Railway",
    "road": "Road",
    "airport": "Airport",
    "pan_government": "Pan-government",
}


class ReportMismatch(RuntimeError):
    """The published figures disagree with each other: no report is written."""


def _e(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.1f}"
    return html.escape(str(value))


def _table(rows: list[Row], headers: dict[str, str], numeric: set[str] = frozenset()) -> str:
    head = "".join(
        f'<th class="{"num" if c in numeric else ""}">{html.escape(h)}</th>' for c, h in headers.items()
    )
    body = []
    for r in rows:
        cells = "".join(f'<td class="{"num" if c in numeric else ""}">{_e(r[c])}</td>' for c in headers)
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _last_if_null(value: str | None) -> tuple[bool, str]:
    """A sort key placing a missing name last, as pandas sorted them."""
    return value is None, value or ""


def _legend(items: list[tuple[str, str]], x: float, y: float) -> str:
    out, cx = [], x
    for label, color in items:
        out.append(f'<rect x="{cx}" y="{y - 9}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{cx + 14}" y="{y}" class="small">{html.escape(label)}</text>')
        cx += 24 + 7 * len(label)
    return "".join(out)


def chart_requests_by_country(countries: list[Row]) -> str:
    """Horizontal stacked bars: requests per country, split by track."""
    data = sorted(countries, key=lambda r: (-r["n_requests"], *_last_if_null(r["country_name"])))
    row, left, width = 17, 150, 430
    top = 28
    height = top + row * len(data) + 30
    most = max(max((r["n_requests"] for r in data), default=1), 1)
    scale = width / most
    parts = [_legend([(t.replace("_", " "), c) for t, c in TRACK_COLORS.items()], left, 14)]
    for i, r in enumerate(data):
        y = top + i * row
        parts.append(
            f'<text x="{left - 6}" y="{y + 11}" text-anchor="end" class="small">{_e(r["country_name"])}</text>'
        )
        x = left
        for track in TRACK_COLORS:
            col = r[f"n_{track}"]
            if col:
                parts.append(f'<rect x="{x:.1f}" y="{y + 2}" width="{col * scale:.1f}" height="{row - 5}" '
                             f'fill="{TRACK_COLORS[track]}"><title>{_e(r["country_name"])}: {col} {track}</title></rect>')  # fmt: skip
                x += col * scale
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 11}" class="small">{r["n_requests"]}</text>')
    for t in range(0, most + 1, max(1, most // 6)):
        gx = left + t * scale
        parts.append(f'<line x1="{gx:.1f}" y1="{top - 4}" x2="{gx:.1f}" y2="{height - 24}" class="grid"/>')
        parts.append(f'<text x="{gx:.1f}" y="{height - 10}" text-anchor="middle" class="small">{t}</text>')
    return f'<svg viewBox="0 0 {left + width + 40} {height}" role="img" aria-label="Requests by country and track">{"".join(parts)}</svg>'


def chart_scores(countries: list[Row], shortlist_size: int) -> str:
    """Dot plot on the 1-5 scale: each country's three criteria and its score, in rank order,
    with the shortlist line drawn under the last shortlisted country."""
    data = sorted((r for r in countries if r["rank"] is not None), key=lambda r: r["rank"])
    row, left, width, top = 18, 170, 400, 30
    height = top + row * len(data) + 30

    def x(v: float) -> float:
        return left + (v - 1) / 4 * width

    parts = [_legend([(n, c) for n, c in CRITERIA.values()] + [("score", "#111")], left, 14)]
    for v in range(1, 6):
        parts.append(f'<line x1="{x(v)}" y1="{top - 4}" x2="{x(v)}" y2="{height - 24}" class="grid"/>')
        parts.append(f'<text x="{x(v)}" y="{height - 10}" text-anchor="middle" class="small">{v}</text>')
    for i, r in enumerate(data):
        y = top + i * row + 9
        name_, score = _e(r["country_name"]), r["score"]
        weight = "bold" if r["shortlisted"] else "normal"
        parts.append(f'<text x="{left - 8}" y="{y + 4}" text-anchor="end" class="small" font-weight="{weight}">'
                     f"{r['rank']}. {name_}</text>")  # fmt: skip
        for col, (name, color) in CRITERIA.items():
            v = r[col]
            if v is not None and not math.isnan(v):
                parts.append(f'<circle cx="{x(v):.1f}" cy="{y}" r="3.6" fill="{color}" opacity="0.85">'
                             f"<title>{name_} {name}: {_e(v)}</title></circle>")  # fmt: skip
        parts.append(f'<rect x="{x(score) - 4:.1f}" y="{y - 4}" width="8" height="8" fill="#111" '
                     f'transform="rotate(45 {x(score):.1f} {y})"><title>{name_} score: {_e(score)}</title></rect>')  # fmt: skip
        if r["rank"] == shortlist_size and i < len(data) - 1:
            ly = top + (i + 1) * row
            parts.append(f'<line x1="10" y1="{ly}" x2="{left + width}" y2="{ly}" class="cut"/>')
            parts.append(f'<text x="{left + width}" y="{ly - 3}" text-anchor="end" class="small cut-label">'
                         f"shortlist line (top {shortlist_size})</text>")  # fmt: skip
    return f'<svg viewBox="0 0 {left + width + 30} {height}" role="img" aria-label="Score per country">{"".join(parts)}</svg>'


def chart_offices(routing: list[Row]) -> str:
    """Horizontal bars: requests per office."""
    per_office = dict.fromkeys(OFFICE_LABELS, 0)
    for r in routing:
        if r["office"] in per_office:
            per_office[r["office"]] += r["n_requests"]
    row, left, width, top = 24, 130, 400, 6
    height = top + row * len(per_office) + 6
    most = max(float(max(per_office.values())), 1.0)
    parts = []
    for i, (office, n) in enumerate(per_office.items()):
        y = top + i * row
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" class="small">{OFFICE_LABELS[office]}</text>'
        )
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{n / most * width:.1f}" height="{row - 8}" fill="#1f5fa8"/>'
        )
        parts.append(
            f'<text x="{left + n / most * width + 5:.1f}" y="{y + 15}" class="small">{int(n)}</text>'
        )
    return f'<svg viewBox="0 0 {left + width + 40} {height}" role="img" aria-label="Requests per office">{"".join(parts)}</svg>'


def _sum(rows: list[Row], column: str) -> int:
    return sum(r[column] or 0 for r in rows)


def check_figures(m: dict[str, list[Row]]) -> list[str]:
    """The published figures must agree with each other; returns what was checked."""
    (h,) = m["headline"]
    checks = {
        "tracks sum to the headline's requests": _sum(m["track_summary"], "n_requests") == h["n_requests"],
        "offices sum to the headline's requests": _sum(m["office_routing"], "n_requests") == h["n_requests"],
        "countries listed equal the headline's countries": len(m["country_summary"]) == h["n_countries"],
        "requests listed equal the headline's requests": _sum(m["office_counts"], "n") == h["n_requests"],
        "shortlist size matches": _sum(m["country_summary"], "shortlisted") == h["n_shortlisted"],
    }
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        raise ReportMismatch(f"published figures disagree: {', '.join(failed)}")
    return list(checks)


CSS = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans", "NanumGothic", "Nanum Gothic", "Malgun Gothic", Arial, sans-serif;
       color: #1b2330; margin: 0 auto; max-width: 190mm; font-size: 10.5pt; line-height: 1.4; }
h1 { font-size: 20pt; margin: 0 0 2mm; } h2 { font-size: 14pt; margin: 7mm 0 2mm; border-bottom: 2px solid #1f5fa8; }
h3 { font-size: 11.5pt; margin: 4mm 0 1mm; }
.sub { color: #5a6473; margin: 0 0 4mm; }
.kpis { display: flex; gap: 4mm; margin: 3mm 0; }
.kpi { flex: 1; border: 1px solid #d5dbe4; border-radius: 2mm; padding: 2.5mm 3mm; background: #f5f8fc; }
.kpi b { display: block; font-size: 19pt; color: #1f5fa8; } .kpi span { color: #5a6473; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 3mm; font-size: 9pt; }
th, td { border-bottom: 1px solid #e1e6ee; padding: 1.2mm 1.6mm; text-align: left; vertical-align: top; }
th { background: #eef2f8; font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
thead { display: table-header-group; } tr, .chart, .kpis { break-inside: avoid; }
svg { width: 100%; height: auto; font-family: inherit; }
svg .small { font-size: 10px; fill: #1b2330; } svg .grid { stroke: #e1e6ee; stroke-width: 1; }
svg .cut { stroke: #c0392b; stroke-width: 1.5; stroke-dasharray: 5 3; } svg .cut-label { fill: #c0392b; }
.ok { color: #2e7d32; } .warn { color: #b35c00; } .note { color: #5a6473; font-size: 9pt; }
.section { break-before: auto; } .pagebreak { break-before: page; }
"""


def render(m: dict[str, list[Row]], generated: dt.datetime, digest: str = "") -> str:
    """The report's HTML from the published marts (`read_marts`); `digest` (inputs_digest)
    goes in its head."""
    checked = check_figures(m)
    (h,) = m["headline"]
    as_of = h["as_of"]
    countries = m["country_summary"]
    shortlist_size = h["n_shortlisted"] or 10
    tracks = sorted(m["track_summary"], key=lambda r: r["track"])
    variants = {(r["method"], r["country_iso3"]): r["rank"] for r in m["ranking_variants"]}
    drops: dict[str, list[str]] = {}
    for r in m["rank_stability"]:
        if not r["still_shortlisted"]:
            drops.setdefault(r["country_iso3"], []).append(r["ministry_left_out"])
    short = [
        r
        | {
            "rank_trimmed": variants.get(("trimmed_mean", r["country_iso3"])),
            "rank_normalized": variants.get(("ministry_normalized", r["country_iso3"])),
            "stability": (
                "drops without " + ", ".join(sorted(drops[r["country_iso3"]]))
                if r["country_iso3"] in drops
                else "holds"
            ),
        }
        for r in sorted((r for r in countries if r["shortlisted"]), key=lambda r: r["rank"])
    ]
    subs = m["submissions"]  # the best-scored requests of the railway, road and airport offices
    per_office = {r["office"]: r["n"] for r in m["office_counts"]}
    routing = m["office_routing"]
    pan_cats = m["pan_categories"]
    report = m["load_report"]
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>K-City Network selection summary as of {as_of}</title>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<meta name='{DIGEST_META}' content='{html.escape(digest)}'>",
        f"<style>{CSS}</style></head><body>",
        "<h1>K-City Network — selection summary</h1>",
        f"<p class='sub'>As of {as_of} (deliveries dated on or before, Asia/Seoul) · generated {generated:%Y-%m-%d %H:%M} UTC"
        " · Ministry of Land, Infrastructure and Transport</p>",
        "<div class='kpis'>",
        f"<div class='kpi'><b>{h['n_countries']}</b><span>countries</span></div>",
        f"<div class='kpi'><b>{h['n_requests']}</b><span>requests</span></div>",
        f"<div class='kpi'><b>{h['n_reviews']}</b><span>ministry reviews</span></div>",
        f"<div class='kpi'><b>{h['n_shortlisted']}</b><span>shortlisted countries</span></div>",
        "</div>",
        _table(
            tracks,
            {"track": "Track", "n_requests": "Requests", "n_countries": "Countries"},
            {"n_requests", "n_countries"},
        ),  # fmt: skip
        f"<p class='note ok'>Checked against the published figures: {'; '.join(checked)}.</p>",
        "<h2>Requests by country and track</h2>",
        f"<div class='chart'>{chart_requests_by_country(countries)}</div>",
        "<h2 class='pagebreak'>Scores per country</h2>",
        "<p class='note'>Dots: mean rating per criterion over the country's scored requests; diamond: the score "
        "(weighted mean of the criteria). Ranked by score, then number of reviews, then ISO code.</p>",
        f"<div class='chart'>{chart_scores(countries, shortlist_size)}</div>",
        "<h2>Shortlist</h2>",
        _table(
            short,
            {
                "rank": "Rank",
                "country_name": "Country",
                "n_requests": "Requests",
                "n_reviews": "Reviews",
                "avg_cooperation": "Cooperation",
                "avg_prospects": "Prospects",
                "avg_business": "Business",
                "score": "Score",
                "rank_trimmed": "Rank, trimmed mean",
                "rank_normalized": "Rank, ministry-normalised",
                "stability": "Leave-one-ministry-out",
            },
            {
                "rank",
                "n_requests",
                "n_reviews",
                "avg_cooperation",
                "avg_prospects",
                "avg_business",
                "score",
                "rank_trimmed",
                "rank_normalized",
            },
        ),  # fmt: skip
        "<p class='note'>Trimmed mean: with five or more reviews of a request, its highest and lowest rating per "
        "criterion are left out. Ministry-normalised: each ministry's ratings as z-scores against its own mean, so "
        "lenient and harsh reviewers weigh alike. Leave-one-ministry-out: whether the country stays in the top "
        f"{shortlist_size} when any one ministry's reviews are left out.</p>",
        "<h2 class='pagebreak'>Routing</h2>",
        f"<div class='chart'>{chart_offices(routing)}</div>",
    ]
    cols = {"submission_id": "Request", "country_name": "Country", "category": "Category",
            "project_title": "Project", "score": "Score"}  # fmt: skip
    for office in ROUTED_OFFICES:
        rows = sorted(
            (r for r in subs if r["office"] == office),
            key=lambda r: (*_last_if_null(r["country_name"]), r["submission_id"]),
        )
        total = per_office.get(office, 0)
        out.append(f"<h3>{OFFICE_LABELS[office]} office — {total} request(s)</h3>")
        if total > len(rows):  # a printable report: the best-scored, the rest in marts.submissions
            out.append(
                f"<p class='note'>The {ROUTED_LISTED} best-scored are listed; all of them are in "
                "<code>marts.submissions</code>.</p>"
            )
        out.append(_table(rows, cols, {"score"}) if rows else "<p class='note'>None.</p>")
    n_pan = per_office.get("pan_government", 0)
    share = n_pan / max(h["n_requests"], 1)
    out.append(f"<h3>Pan-government — {n_pan} of {h['n_requests']} requests ({share:.0%})</h3>")
    out.append(_table(pan_cats, {"category": "Category", "n_requests": "Requests",
                                               "n_countries": "Countries"}, {"n_requests", "n_countries"}))  # fmt: skip
    status_counts: dict[str, int] = {}
    for r in report:
        status_counts[r["status"]] = status_counts.get(r["status"], 0) + 1
    out += [
        "<h2>Data quality</h2>",
        f"<p>{len(report)} file(s) seen: "
        + ", ".join(f"{n} {s}" for s, n in sorted(status_counts.items()))
        + f". Rows read {_sum(report, 'rows_read')}, loaded {_sum(report, 'rows_loaded')}, "
        f"quarantined {_sum(report, 'rows_quarantined')}. Reviews waiting for their submission: "
        f"{h['n_reviews_waiting']}.</p>",
    ]
    if m["quarantine_by_rule"]:
        out += ["<h3>Quarantined rows by rule</h3>",
                _table(m["quarantine_by_rule"], {"source": "Source", "rule": "Rule", "column_name": "Column",
                                                 "rows": "Rows", "files": "Files"}, {"rows", "files"})]  # fmt: skip
    problems = [r for r in report if r["status"] in ("rejected", "ignored", "duplicate")]
    if problems:
        out += ["<h3>Files not loaded</h3>",
                _table(problems, {"path": "File", "status": "Status", "error": "Reason"})]  # fmt: skip
    out += [
        "<h3>Files</h3>",
        _table(
            [r for r in report if r["status"] == "loaded"],
            {
                "delivery_date": "Delivered",
                "path": "File",
                "rows_read": "Read",
                "rows_loaded": "Loaded",
                "rows_quarantined": "Quarantined",
            },
            {"rows_read", "rows_loaded", "rows_quarantined"},
        ),  # fmt: skip
        "<p class='note'>Source: the published warehouse (schema <code>marts</code>). No personal data: contact "
        "names, e-mails and quarantined values are not published.</p>",
        "</body></html>",
    ]
    return "\n".join(out)


ROUTED_LISTED = 100  # requests listed per office in the report
ROUTED_OFFICES = ("railway", "road", "airport")  # the offices whose requests it lists
DIGEST_META = "kcity-report-inputs"
_WRITTEN_DIGEST = re.compile(rf"<meta name='{DIGEST_META}' content='([0-9a-f]+)'>")


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[Row]:
    return Rows.of(con, sql).records()


def read_marts(con: duckdb.DuckDBPyConnection) -> dict[str, list[Row]]:
    """The published marts the report uses, as rows; of the per-request table and of the
    quarantine only what it shows (counted in SQL: at a million requests they are 1M and
    ~50k rows). Literal SQL: no bound parameter (DuckDB's client imports pandas for one)."""
    small = ("headline", "track_summary", "country_summary", "office_routing", "ranking_variants",
             "rank_stability", "load_report")  # fmt: skip
    marts = {n: _rows(con, f"SELECT * FROM marts.{n}") for n in small}
    # The first of each office by a top-N each (1M requests: 0.015 s; one window over the
    # three offices' requests sorted them all, 0.057 s).
    marts["submissions"] = _rows(
        con,
        "\nUNION ALL\n".join(
            f"""(
            SELECT submission_id, country_iso3, country_name, category, project_title, score, office
            FROM marts.submissions
            WHERE office = '{office}'
            ORDER BY score DESC NULLS LAST, submission_id
            LIMIT {ROUTED_LISTED:d}
            )"""
            for office in ROUTED_OFFICES
        ),
    )
    marts["office_counts"] = _rows(
        con, "SELECT office, count(*) AS n FROM marts.submissions GROUP BY office ORDER BY office"
    )
    marts["pan_categories"] = _rows(
        con,
        """
        SELECT category, count(*) AS n_requests, count(DISTINCT country_iso3) AS n_countries
        FROM marts.submissions WHERE office = 'pan_government' GROUP BY category ORDER BY category
        """,
    )
    marts["quarantine_by_rule"] = _rows(
        con,
        """
        SELECT source, rule, column_name, count(row_number) AS rows, count(DISTINCT file_name) AS files
        FROM marts.quarantine GROUP BY ALL
        ORDER BY source NULLS LAST, rule NULLS LAST, column_name NULLS LAST
        """,
    )
    return marts


def inputs_digest(marts: dict[str, list[Row]]) -> str:
    """sha256 over this module's code and what the report shows (`read_marts`), so any figure
    changed, added or removed changes it. Equal digests render equal reports, but for the time
    generated. Over the rows read rather than the tables whole: hashing the million rows of
    the per-request table cost 0.05 s on every night the date moved on."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for name, rows in sorted(marts.items()):
        digest.update(f"{name}={rows!r}\n".encode())
    return digest.hexdigest()


def written_digest(path: Path) -> str | None:
    """The digest in an existing report's head, if any."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except FileNotFoundError:
        return None
    found = _WRITTEN_DIGEST.search(head)
    return found.group(1) if found else None


def write_report(published: Path, folder: Path, generated: dt.datetime | None = None) -> Path:
    """Write reports/kcity-report-<as_of>.html (replaced atomically) and return its path. Left
    as it is when it already shows these very figures (unless `generated` is given)."""
    with db.connect(published, read_only=True) as con:
        marts = read_marts(con)
    path = folder / f"kcity-report-{marts['headline'][0]['as_of']}.html"
    digest = inputs_digest(marts)
    if generated is None and written_digest(path) == digest:
        return path
    text = render(marts, generated or dt.datetime.now(dt.UTC), digest)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


@task(name="write-report", retries=2, retry_delay_seconds=[1, 5])
def write_report_task(published: Path, folder: Path) -> Path:
    """Prefect task: the committee report of the current snapshot."""
    return write_report(published, folder)
