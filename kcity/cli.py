"""`kcity nightly | backfill | demo`: the run interface of CONTRACT 4.

Prefect settings default to an offline, project-local setup before Prefect is imported.
Exit status 0 when the run completed (quarantined rows and rejected files are reported,
not failures); 1 when the run failed; 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys

from kcity.malloc import limit_arenas
from kcity.settings import configure_prefect_env, get_settings


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from e


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kcity", description="K-City Network submissions pipeline")
    sub = p.add_subparsers(dest="command", required=True)

    def scoring_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--shortlist-size", type=int, default=10, help="countries shortlisted (default 10)")
        for name in ("cooperation", "prospects", "business"):
            sp.add_argument(f"--weight-{name}", type=float, default=1.0, help=f"weight of {name} (default 1)")
        sp.add_argument(
            "--trim-reviews", action="store_true", help="trimmed mean with 5+ reviews of a request"
        )
        sp.add_argument("--normalize-ministries", action="store_true", help="score on per-ministry z-scores")

    n = sub.add_parser("nightly", help="load new deliveries up to D, rebuild the summary as of D, publish")
    n.add_argument("--date", type=_date, default=None, help="as-of date (default: today in Asia/Seoul)")
    scoring_args(n)
    b = sub.add_parser("backfill", help="re-load deliveries dated S..E and rebuild those snapshots")
    b.add_argument("--start", type=_date, required=True)
    b.add_argument("--end", type=_date, required=True)
    b.add_argument("--dry-run", action="store_true", help="report what would be re-loaded; change nothing")
    scoring_args(b)
    x = sub.add_parser(
        "export", help="write the marts of one snapshot as XLSX or CSV under $KCITY_DATA_DIR/exports"
    )
    x.add_argument("--as-of", type=_date, required=True, help="snapshot date (must have been built)")
    x.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    d = sub.add_parser("demo", help="write the bundled 2020 sample inbox and run nightly on it")
    d.add_argument("--date", type=_date, default=dt.date(2020, 4, 19), help="as-of date (default 2020-04-19)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `kcity` console script."""
    limit_arenas()  # before Prefect's and the loader's threads (kcity/malloc.py)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "backfill":
        from flows.dates import today_in_seoul
        from flows.range import check_range

        try:
            check_range(args.start, args.end, today_in_seoul())
        except ValueError as e:
            parser.error(str(e))
    settings = get_settings()
    if args.command == "export":
        return export(settings, args.as_of, args.format)
    configure_prefect_env(settings)

    from flows.backfill import backfill
    from flows.nightly import nightly
    from flows.params import Scoring
    from kcity.console import print_summary

    scoring = None
    if hasattr(args, "shortlist_size"):
        scoring = Scoring(
            weight_cooperation=args.weight_cooperation,
            weight_prospects=args.weight_prospects,
            weight_business=args.weight_business,
            shortlist_size=args.shortlist_size,
            trim_reviews=args.trim_reviews,
            normalize_ministries=args.normalize_ministries,
        )
    try:
        if args.command == "nightly":
            summary = nightly(as_of=args.date, scoring=scoring)
        elif args.command == "backfill":
            summary = backfill(start=args.start, end=args.end, dry_run=args.dry_run, scoring=scoring)
            if args.dry_run:
                return 0
        else:
            from kcity.sample import write_sample

            written = write_sample(settings.inbox)
            print(f"Wrote the 2020 sample inbox: {len(written)} files under {settings.inbox}")
            summary = nightly(as_of=args.date)
    except Exception as e:  # the flow's own log already has the traceback
        print(f"kcity {args.command} failed: {e}", file=sys.stderr)
        return 1
    print_summary(summary, settings.published_db)
    return 0


def console(argv: list[str] | None = None) -> int:
    """The `kcity` console script: `main`, then every object left in the process frozen
    (`gc.freeze`) before the interpreter exits. Its shutdown still runs (atexit handlers: the
    Prefect log and event workers drained, logging flushed; threads joined; modules
    cleared), but its final garbage collections no longer walk the objects the run left:
    they took 0.3 s of a nothing-new night's process and 0.6 s after a load, with pandas,
    Polars and Pandera imported (bench/RESULTS.md, twentieth session), for nothing a run
    needs: every file and connection is closed by then. Not in `main`, which tests call in
    their own process."""
    code = main(argv)
    gc.freeze()
    return code


def export(settings, as_of: dt.date, fmt: str) -> int:
    """`kcity export`: read one snapshot under the writer lock, stream it to files, print the
    paths."""
    import logging

    from tasks.export import write_csvs, write_xlsx
    from warehouse.db import snapshot_reader
    from warehouse.lock import writer_lock

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not settings.internal_db.exists():
        print(f"No warehouse at {settings.internal_db}: run `kcity nightly` first.", file=sys.stderr)
        return 1
    folder = settings.data_dir / "exports"
    with writer_lock(settings.writer, logging.getLogger("kcity.export")):
        with snapshot_reader(settings.internal_db, as_of) as read:
            if read is None:
                print(
                    f"No snapshot as of {as_of}. Build it with `kcity backfill --start {as_of} --end {as_of}`.",
                    file=sys.stderr,
                )
                return 1
            con, queries = read
            if fmt == "xlsx":
                paths = [write_xlsx(con, queries, folder / f"kcity-{as_of}.xlsx")]
            else:
                paths = write_csvs(con, queries, folder / f"kcity-{as_of}-csv")
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(console())
