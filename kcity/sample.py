"""A deterministic sample inbox that reproduces the 2020 K-City Network round as published.

Once intake has closed: 23 countries and 80 requests — urban development 31 requests from
17 countries, smart solutions 46 from 19, other 3. Deliveries over 2020-02-01..03-20 in
every input format, ministry feedback in April from five ministries and agencies, and the mistakes real
inboxes have: bad rows, an unreadable file, a re-sent file, an edit, a withdrawal, a
misplaced file and feedback that arrives before its submission.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import random
from pathlib import Path

import xlsxwriter

# (country as written, ISO3, track, category) for requests KCN-2020-001..080, in order.
URBAN = [
    ("Indonesia", "IDN", "new_city"), ("Myanmar", "MMR", "new_city"),
    ("the Philippines", "PHL", "new_city"), ("Australia", "AUS", "station_area"),
    ("India", "IND", "station_area"), ("Russia", "RUS", "industrial_complex"),
    ("Turkey", "TUR", "industrial_complex"), ("Lao PDR", "LAO", "roadmap"),
    ("Peru", "PER", "airport_relocation"), ("Viet Nam", "VNM", "urban_regeneration"),
    ("Thailand", "THA", "new_city"), ("Cambodia", "KHM", "roadmap"),
    ("Mongolia", "MNG", "new_city"), ("Uzbekistan", "UZB", "new_city"),
    ("Kazakhstan", "KAZ", "industrial_complex"), ("Colombia", "COL", "urban_regeneration"),
    ("Egypt", "EGY", "new_city"),
    # 14 more from the same 17 countries
    ("IDN", "IDN", "new_city"), ("Indonesia", "IDN", "urban_regeneration"),
    ("Vietnam", "VNM", "new_city"), ("VN", "VNM", "station_area"),
    ("Philippines", "PHL", "industrial_complex"), ("India", "IND", "new_city"),
    ("Thailand", "THA", "station_area"), ("Cambodia", "KHM", "urban_regeneration"),
    ("Mongolia", "MNG", "roadmap"), ("Uzbekistan", "UZB", "industrial_complex"),
    ("Kazakhstan", "KAZ", "urban_regeneration"), ("Colombia", "COL", "new_city"),
    ("Arab Republic of Egypt", "EGY", "urban_regeneration"), ("Myanmar", "MMR", "industrial_complex"),
]  # fmt: skip
SMART_COUNTRIES = [
    ("Indonesia", "IDN"), ("Myanmar", "MMR"), ("Philippines", "PHL"), ("India", "IND"),
    ("Türkiye", "TUR"), ("Laos", "LAO"), ("Viet Nam", "VNM"), ("Thailand", "THA"),
    ("Cambodia", "KHM"), ("Mongolia", "MNG"), ("Uzbekistan", "UZB"), ("Kazakhstan", "KAZ"),
    ("Colombia", "COL"), ("Kenya", "KEN"), ("Ghana", "GHA"), ("Ethiopia", "ETH"),
    ("Ecuador", "ECU"), ("Chile", "CHL"), ("Rwanda", "RWA"),
]  # fmt: skip
SMART_CATEGORIES = [
    "ai_transport",
    "e_government",
    "data_center",
    "water_sewage",
    "waste",
    "energy",
    "safety",
]
OTHER = [
    ("Viet Nam", "VNM", "capacity_building"), ("Kenya", "KEN", "capacity_building"),
    ("Uzbekistan", "UZB", "other"),
]  # fmt: skip
KOREAN_NAMES = {
    "IDN": "인도네시아", "MMR": "미얀마", "PHL": "필리핀", "AUS": "호주", "IND": "인도",
    "RUS": "러시아", "TUR": "터키", "LAO": "라오스", "PER": "페루", "VNM": "베트남",
    "THA": "태국", "KHM": "캄보디아", "MNG": "몽골", "UZB": "우즈베키스탄", "KAZ": "카자흐스탄",
    "COL": "콜롬비아", "EGY": "이집트", "KEN": "케냐", "GHA": "가나", "ETH": "에티오피아",
    "ECU": "에콰도르", "CHL": "칠레", "RWA": "르완다",
}  # fmt: skip
TITLES = {
    "new_city": "Smart new city master plan", "station_area": "Railway station area development",
    "industrial_complex": "Smart industrial complex", "roadmap": "National smart city road map",
    "airport_relocation": "Former airport site redevelopment",
    "urban_regeneration": "Old town smart regeneration", "ai_transport": "AI-based traffic signal control",
    "e_government": "E-government service platform", "data_center": "Government data centre",
    "water_sewage": "Smart water and sewage network", "waste": "Smart waste collection",
    "energy": "Smart grid for public buildings", "safety": "Integrated city safety centre",
    "capacity_building": "Smart city capacity building programme", "other": "Smart city feasibility study",
}  # fmt: skip
FIELDS = [
    "submission_id", "submitted_at", "country", "institution", "institution_type", "track",
    "category", "project_title", "description", "budget_usd", "contact_name", "contact_email", "status",
]  # fmt: skip
INSTITUTION_TYPES = ["central_government", "local_government", "public_agency"]
MINISTRIES = ["MOFA", "MOEF", "KOTRA", "KOICA", "KIND"]


def requests() -> list[dict]:
    """The 80 requests of the round (plus one later withdrawn), deterministic."""
    rng = random.Random(2020)
    rows = [(w, iso, "urban_development", cat) for w, iso, cat in URBAN]
    smart = [
        (w, iso, "smart_solution", SMART_CATEGORIES[i % 7]) for i, (w, iso) in enumerate(SMART_COUNTRIES)
    ]
    for i in range(27):  # 27 more smart-solution projects from the same 19 countries
        w, iso = SMART_COUNTRIES[(i * 7) % 19]
        smart.append((w, iso, "smart_solution", SMART_CATEGORIES[(i * 3 + 1) % 7]))
    rows += smart + [(w, iso, "other", cat) for w, iso, cat in OTHER]
    rng.shuffle(rows)
    out = []
    start = dt.datetime(2020, 2, 1, 9, 0)
    for n, (written, iso, track, cat) in enumerate(
        rows + [("Thailand", "THA", "smart_solution", "waste")], 1
    ):
        out.append(
            {
                "submission_id": f"KCN-2020-{n:03d}",
                "submitted_at": start + dt.timedelta(hours=int(n * 11.5 + rng.randint(0, 6))),
                "country": written,
                "iso3": iso,
                "institution": f"{'Ministry of Urban Affairs' if n % 3 else 'City of Capital'} ({iso})",
                "institution_type": INSTITUTION_TYPES[n % 3] if n % 7 else "",
                "track": track,
                "category": cat,
                "project_title": f"{TITLES[cat]} — {written}",
                "description": f"Request {n}: {TITLES[cat].lower()}, phase {1 + n % 3}, incl. studies, design",
                "budget_usd": rng.choice([250_000, 800_000, 1_200_000, 3_500_000, 12_000_000, ""]),
                "contact_name": f"Contact Person {n}",
                "contact_email": f"contact{n}@gov-{iso.lower()}.example.org",
                "status": "submitted" if n % 4 else "",
            }
        )
    return out


def _row(r: dict, date_style: str = "iso", country: str | None = None) -> dict:
    ts = r["submitted_at"]
    stamp = {
        "iso": ts.strftime("%Y-%m-%dT%H:%M:%S"),
        "zoned": (ts - dt.timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dotted": ts.strftime("%Y.%m.%d"),
        "korean": f"{ts.year}. {ts.month}. {ts.day}.",
    }[date_style]
    row = {k: r[k] for k in FIELDS}
    row["submitted_at"] = stamp
    if country:
        row["country"] = country
    if isinstance(row["budget_usd"], int) and date_style == "dotted":
        row["budget_usd"] = f"{row['budget_usd']:,}"
    return row


def _csv(rows: list[dict], fields: list[str], encoding: str, newline: str = "\n") -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator=newline, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def _xlsx(header: list[str], rows: list[list], date_cols: set[int]) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    book.set_properties({"created": dt.datetime(2020, 1, 1)})
    sheet = book.add_worksheet("Export")
    fmt = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, header)
    for i, row in enumerate(rows, 1):
        for j, v in enumerate(row):
            if j in date_cols and isinstance(v, dt.datetime | dt.date):
                sheet.write_datetime(i, j, v, fmt)
            elif isinstance(v, int | float):
                sheet.write_number(i, j, v)
            elif v != "":
                sheet.write_string(i, j, str(v))
    book.close()
    return buf.getvalue()


def submission_files() -> dict[str, bytes]:
    """Form exports: path under the inbox -> bytes."""
    reqs = requests()
    by_id = {r["submission_id"]: r for r in reqs}
    files: dict[str, bytes] = {}

    first = [_row(r) for r in reqs[0:20]]
    first[6]["contact_email"] = "contact at ministry"  # KCN-2020-007: bad e-mail, re-sent 02-14
    files["submissions/2020-02-07/form_export_0207.csv"] = _csv(first, FIELDS, "utf-8")

    second = [_row(r, "zoned") for r in reqs[20:35] + [by_id["KCN-2020-007"], reqs[80]]]
    for row in second:
        row["budget_usd"] = row["budget_usd"] or None
    files["submissions/2020-02-14/form_export_0214.json"] = json.dumps(
        second, ensure_ascii=False, indent=1
    ).encode()

    third = [[r[k] if k != "country" else r["iso3"] for k in FIELDS] for r in reqs[35:50]]
    files["submissions/2020-02-21/form_export_0221.xlsx"] = _xlsx(FIELDS, third, {1})

    fourth = [_row(r, "dotted") for r in reqs[50:65]]
    fourth[7]["category"] = "new_city" if fourth[7]["track"] == "smart_solution" else "waste"  # -058 bad
    fourth.append(_row({**reqs[0], "submission_id": "KCN-2020-090", "country": "Atlantis"}, "dotted"))
    fourth[3]["description"] = 'Phase 1, "pilot"\nPhase 2, roll-out'  # quotes, comma, line break
    files["submissions/2020-02-28/form_export_0228.csv"] = b"\xef\xbb\xbf" + _csv(
        fourth, FIELDS, "utf-8", "\r\n"
    )

    fifth = [_row(r) for r in reqs[65:72]]
    fifth[2]["project_title"] = "- " + fifth[2]["project_title"]  # a leading dash, as bullet lists leave
    edit = _row(by_id["KCN-2020-012"])
    edit["project_title"] += " (revised)"
    edit["budget_usd"] = 2_000_000
    withdrawal = {**_row(reqs[80]), "status": "withdrawn"}
    lines = [json.dumps(r, ensure_ascii=False) for r in fifth + [edit, withdrawal]]
    files["submissions/2020-03-06/form_export_0306.jsonl"] = ("\n".join(lines) + "\n").encode()

    sixth = [_row(r, "korean", KOREAN_NAMES[r["iso3"]]) for r in reqs[72:80] + [by_id["KCN-2020-058"]]]
    for row in sixth:
        row["project_title"] = row["project_title"].split(" — ")[0] + " (스마트시티)"
    files["submissions/2020-03-13/form_export_0313.csv"] = _csv(sixth, FIELDS, "cp949")

    broken = _xlsx(FIELDS, third[:3], {1})
    files["submissions/2020-03-20/portal_export_0320.xlsx"] = broken[: len(broken) // 3]
    files["submissions/2020-03-20/form_export_0207_resend.csv"] = files[
        "submissions/2020-02-07/form_export_0207.csv"
    ]
    files["submissions/form_export_latest.csv"] = _csv([_row(r) for r in reqs[:3]], FIELDS, "utf-8")
    return files


def reviews() -> list[dict]:
    """Every ministry review of the round (scores follow a per-country merit, with noise)."""
    rng = random.Random(419)
    reqs = requests()
    merit = {iso: round(rng.uniform(2.2, 4.6), 2) for iso in sorted({r["iso3"] for r in reqs})}
    share = {"MOFA": 1.0, "MOEF": 0.6, "KOTRA": 0.55, "KOICA": 0.5, "KIND": 0.45}
    out = []
    for r in reqs:
        for m in MINISTRIES:
            if rng.random() > share[m]:
                continue
            score = {}
            for crit, bias in (("cooperation", 0.3), ("prospects", 0.0), ("business", -0.2)):
                value = min(5, max(1, round(merit[r["iso3"]] + bias + rng.gauss(0, 0.7))))
                score[crit] = "" if rng.random() < 0.05 else value
            if not any(score.values()):
                score["prospects"] = 3
            out.append({"submission_id": r["submission_id"], "ministry": m, **score})
    return out


def feedback_files() -> dict[str, bytes]:
    """Ministry feedback files: path under the inbox -> bytes."""
    revs = reviews()
    files: dict[str, bytes] = {}
    eng = ["submission_id", "cooperation", "prospects", "business", "comment", "reviewed_at"]

    mofa = [{**r, "comment": "Active MOU with MOLIT" if r["cooperation"] == 5 else "", "reviewed_at": "2020-04-02"}
            for r in revs if r["ministry"] == "MOFA"]  # fmt: skip
    files["feedback/2020-04-03/MOFA_review_round1.csv"] = _csv(mofa, eng, "utf-8")

    moef = [
        {"제출번호": r["submission_id"], "정부간협력": r["cooperation"], "사업전망": r["prospects"],
         "기업협력": r["business"], "의견": "재원 검토 필요" if r["prospects"] in (1, 2) else "", "검토일자": "2020. 4. 7."}
        for r in revs if r["ministry"] == "MOEF"
    ]  # fmt: skip
    files["feedback/2020-04-08/MOEF_검토결과.csv"] = _csv(
        moef, ["제출번호", "정부간협력", "사업전망", "기업협력", "의견", "검토일자"], "cp949", "\r\n"
    )

    kotra = [r for r in revs if r["ministry"] == "KOTRA"]
    header = ["Submission ID", "Ministry", "Cooperation", "Prospects", "Business", "Comment", "Reviewed At"]
    rows = [[r["submission_id"], "KOTRA", r["cooperation"], r["prospects"], r["business"], "",
             dt.datetime(2020, 4, 9, 17, 0)] for r in kotra]  # fmt: skip
    files["feedback/2020-04-10/KOTRA_feedback.xlsx"] = _xlsx(header, rows, {6})

    koica = [{**r, "comment": "", "reviewed_at": "2020-04-13"} for r in revs if r["ministry"] == "KOICA"]
    koica[5]["business"] = 6  # out of range: quarantined
    koica.append({"submission_id": "KCN-2020-099", "ministry": "KOICA", "cooperation": 3, "prospects": 4,
                  "business": 3, "comment": "submission not received yet", "reviewed_at": "2020-04-13"})  # fmt: skip
    files["feedback/2020-04-14/KOICA_review.csv"] = b"\xef\xbb\xbf" + _csv(
        koica, ["submission_id", "ministry", *eng[1:]], "utf-8"
    )

    kind = [{**r, "comment": "", "reviewed_at": "2020-04-16"} for r in revs if r["ministry"] == "KIND"]
    files["feedback/2020-04-17/KIND_infrastructure_review.csv"] = _csv(
        kind, ["submission_id", "ministry", *eng[1:]], "utf-8"
    )

    update = [{**r, "prospects": min(5, (r["prospects"] or 3) + 1), "comment": "revised after embassy call",
               "reviewed_at": "2020-04-15"} for r in mofa[:6]]  # fmt: skip
    files["feedback/2020-04-16/MOFA_review_update.csv"] = _csv(update, eng, "utf-8")
    return files


def write_sample(inbox: Path) -> list[Path]:
    """Write (or rewrite, byte for byte the same) the sample inbox under `inbox`, each file
    dated (mtime) at noon of its delivery day, as if delivered then."""
    written = []
    for rel, data in {**submission_files(), **feedback_files()}.items():
        path = inbox / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        folder = path.parent.name
        day = dt.date.fromisoformat(folder) if folder[:2] == "20" else dt.date(2020, 3, 20)
        stamp = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC).timestamp()
        os.utime(path, (stamp, stamp))
        written.append(path)
    return written
