"""The benchmark: `make bench [SIZE=small|default] [RUNS=n]` prints one table.

Every case is a separate process (wall time and its peak RSS from wait4), all Prefect
cases against one Prefect server started here, ratios computed pair by pair in this run.
The pipeline's own output is checked (row counts reconcile with the generator's
manifest); a wrong result fails the benchmark. Speed is reported, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PY = sys.executable
KCITY = str(Path(PY).with_name("kcity"))
# A night after the last delivery: the date moves on, nothing was delivered. Not one of the
# issue's cases ("nothing new" reruns the same date); held to nothing new's target.
NEXT_DAY = "nothing new next day"
SIZES = {
    "small": {"rows": 20_000, "xlsx_rows": 5_000, "runs": 1},
    "default": {"rows": 1_000_000, "xlsx_rows": 100_000, "runs": 3},
}


def generate_apart(out: Path, rows: int, xlsx_rows: int | None) -> dict:
    """Generate an inbox in a process of its own; its manifest. Generated in this process,
    the generator's peak (1.3 GiB at 1M rows) would be every later case's peak RSS: Linux
    keeps the high-water mark across fork and exec, and each case is forked from here."""
    cmd = [PY, "-m", "bench.generate", "--out", str(out), "--rows", str(rows)]
    subprocess.run(
        [*cmd, "--xlsx-rows", str(xlsx_rows or 0)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    return json.loads((out / "manifest.json").read_text())


# The parts of a `kcity` run, from the Prefect log it writes: (part, the task whose finish
# starts it, the task whose finish ends it).
PARTS = (
    ("loading", "prepare-warehouse", "snapshot-dates"),
    ("snapshot", "snapshot-dates", "build-snapshots"),
    ("publish", "record-run-days", "publish"),
)
# And the flow run's end: from its last task's finish to its own. Prefect's heartbeat thread
# sleeps in steps of one second and the flow run waits for it to wake (prefect/flow_engine.py,
# _send_heartbeats): every flow run lasts a whole number of seconds (plus ~25 ms) from its
# start, the no-op flow of the prefect floor too (bench/RESULTS.md, eighteenth session).
END_WAIT = "end wait"
# Outside the flow run: from the process's start to the flow run's beginning (interpreter,
# imports, Prefect's client and the flow run's creation), and from the flow run's finish to
# the process's exit (the run's summary printed, the interpreter's shutdown).
START, EXIT = "start", "exit"
_LOGGED = re.compile(
    r"^(\d\d):(\d\d):(\d\d(?:\.\d+)?) \| \w+ *\| (Task|Flow) run '(.+?)(?:-[0-9a-f]+)?' - "
    r"(Finished in state|Beginning flow run)"
)


def _of_day(epoch: float) -> float:
    """Seconds since local midnight, as Prefect's log lines give a time."""
    t = dt.datetime.fromtimestamp(epoch)
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


def run_parts(log: str, started: float | None = None, ended: float | None = None) -> dict[str, float]:
    """Seconds of each part of PARTS in one run's log (those whose two tasks finished), the
    flow run's END_WAIT (when it finished after a task), and with the process's start and
    end (epoch seconds) its START and EXIT (when the log has the flow run's beginning and
    finish)."""
    finished, last_task, flow_begin, flow_end = {}, None, None, None
    for line in log.splitlines():
        if m := _LOGGED.match(line):
            hours, minutes, seconds, kind, name, event = m.groups()
            at = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
            if event.startswith("Beginning"):
                flow_begin = at
            elif kind == "Task":
                finished[name], last_task = at, at
            else:
                flow_end = at
    parts = {
        part: (finished[end] - finished[start]) % 86400  # a run across midnight
        for part, start, end in PARTS
        if start in finished and end in finished
    }
    if last_task is not None and flow_end is not None:
        parts[END_WAIT] = (flow_end - last_task) % 86400
    if started is not None and flow_begin is not None:
        parts[START] = (flow_begin - _of_day(started)) % 86400
    if ended is not None and flow_end is not None:
        parts[EXIT] = (_of_day(ended) - flow_end) % 86400
    return parts


class BenchError(Exception):
    """The pipeline's output did not reconcile: the benchmark's figures would mean nothing."""


def timed(cmd: list[str], env: dict, log: Path) -> tuple[float, float, float, float]:
    """Run one process; (wall seconds, peak RSS MiB of it and its waited-for children, its
    start and end in epoch seconds)."""
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        started, start = time.time(), time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited {proc.returncode}; see {log}")
    return wall, usage.ru_maxrss / 1024, started, started + wall


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One Prefect server for every Prefect case, as `make serve` runs it in production."""

    def __init__(self, home: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        env = os.environ | {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        self.log = open(log, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [PY, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise BenchError(f"Prefect server did not start; see {log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        self.log.close()


def case_env(server: Server, work: Path, **kcity: str) -> dict:
    """The environment of a measured process: ours without KCITY_* / PREFECT_*, the bench's
    Prefect server, no settle wait, plus `kcity` (KCITY_<NAME>: value)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KCITY_", "PREFECT_"))}
    env |= {
        "PREFECT_API_URL": server.url,
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "KCITY_SETTLE_SECONDS": "0",
    }
    return env | {f"KCITY_{k.upper()}": v for k, v in kcity.items()}


def dlt_python(work: Path) -> str:
    """The peer's own virtual environment (dlt pins its own dependencies), created once."""
    venv = BENCH / ".venv-dlt"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    req = BENCH / "requirements-dlt.txt"
    if not stamp.exists() or stamp.read_text() != req.read_text():
        uv = str(Path(PY).with_name("uv"))
        subprocess.run([uv, "venv", "-q", "--python", PY, str(venv)], check=True)
        subprocess.run([uv, "pip", "install", "-q", "--python", str(python), "-r", str(req)], check=True)
        stamp.write_text(req.read_text())
    return str(python)


class Bench:
    def __init__(self, work: Path, size: str, runs: int, heavy_runs: int, cases: set[str] | None = None):
        self.work, self.size, self.runs, self.heavy_runs = work, size, runs, heavy_runs
        # None: every case. A case another needs (full before nothing new, one new day,
        # backfill, full 2x and the peer's ratio) is added by `wanted`.
        self.cases = cases
        self.spec = SIZES[size]
        self.log = work / "bench.log"
        self.results: dict[str, list[tuple[float, float]]] = {}
        self.parts: dict[str, list[dict[str, float]]] = {}  # kcity cases: each run's parts
        self.notes: list[str] = []

    def measure(
        self,
        name: str,
        cmd: list[str],
        env: dict,
        before=None,
        after=None,
        heavy=False,
        inner: Path | None = None,
    ) -> None:
        """Run a case `runs` times (`heavy_runs` for the long ones); with `inner`, the time is
        the one the process wrote there (work without interpreter start and imports)."""
        for _ in range(self.heavy_runs if heavy else self.runs):
            if before:
                before()
            # What a case's setup wrote (a restored warehouse: ~700 MB copied) reaches the disk
            # before the clock starts: a nightly opens a warehouse written hours before, and
            # its first fsync should not wait for the bench's copy (the next day: 0.2 s).
            os.sync()
            logged = self.log.stat().st_size if self.log.exists() else 0
            wall, rss, started, ended = timed(cmd, env, self.log)
            if cmd[0] == KCITY or name == "prefect floor":
                with open(self.log, encoding="utf-8", errors="replace") as f:
                    f.seek(logged)
                    self.parts.setdefault(name, []).append(run_parts(f.read(), started, ended))
            if inner is not None:
                wall = float(inner.read_text())
            self.results.setdefault(name, []).append((wall, rss))
            if after:
                after()
        walls = [w for w, _ in self.results[name]]
        rss = max(r for _, r in self.results[name])
        print(f"  {name:<14} {statistics.median(walls):8.2f} s  {rss:7,.0f} MiB", flush=True)
        # Kept as they come: a later case that fails does not lose these figures.
        (self.work / "results.json").write_text(json.dumps(self.results, indent=1), encoding="utf-8")

    def wanted(self, name: str) -> bool:
        if self.cases is None or name in self.cases:
            return True
        needs = {"full": {"nothing new", NEXT_DAY, "one new day", "backfill 30d", "full 2x", "peer (dlt)"}}
        return bool(needs.get(name, set()) & self.cases)

    def median(self, name: str) -> float:
        return statistics.median(w for w, _ in self.results[name])

    # --- the pipeline's output must reconcile ------------------------------------------

    def check_full(self, data: Path, manifest: dict, as_of: dt.date | None = None) -> None:
        """The published load report reconciles with the manifest, and (with `as_of`) every
        published mart is of that date."""
        with duckdb.connect(str(data / "kcity.duckdb"), read_only=True) as con:
            if as_of is not None:
                dates = {
                    t: con.execute(f"SELECT DISTINCT as_of FROM marts.{t}").fetchall()
                    for t in ("headline", "submissions", "score_breakdown", "reviews_waiting")
                }
                if any(d != [(as_of,)] for d in dates.values()):
                    raise BenchError(f"published marts not all as of {as_of}: {dates}")
            report = {
                r[0]: (r[1], r[2], r[3])
                for r in con.execute(
                    "SELECT file_name, rows_read, rows_loaded, rows_quarantined FROM marts.load_report"
                ).fetchall()
            }
            requests = con.execute("SELECT n_requests FROM marts.headline").fetchone()[0]
        for rel, want in manifest["files"].items():
            got = report.get(Path(rel).name)
            if got is None:
                raise BenchError(f"{rel} missing from marts.load_report")
            read, loaded, quarantined = got
            if (read, quarantined) != (want["rows"], want["quarantined"]) or read != loaded + quarantined:
                raise BenchError(f"{rel}: read/loaded/quarantined {got}, generator says {want}")
        if requests <= 0:
            raise BenchError("headline counts no requests")

    def check_loaded(self, data: Path, file_name: str, rows: int) -> None:
        with duckdb.connect(str(data / "kcity.duckdb"), read_only=True) as con:
            got = con.execute(
                "SELECT rows_read, rows_loaded + rows_quarantined FROM marts.load_report WHERE file_name = ?",
                [file_name],
            ).fetchall()
        if got != [(rows, rows)]:
            raise BenchError(f"{file_name}: (read, loaded + quarantined) {got}, expected {rows} each")

    # --- the cases ---------------------------------------------------------------------

    def run(self) -> dict:
        rows = self.spec["rows"]
        print(f"Generating {rows:,} submission rows (+{3 * rows:,} feedback rows) ...", flush=True)
        sets = {}
        for label, n in (("1x", rows), ("2x", 2 * rows)):
            if label == "2x" and not self.wanted("full 2x"):
                continue
            out = self.work / f"data-{label}"
            manifest_path = out / "manifest.json"
            if manifest_path.exists() and json.loads(manifest_path.read_text())["rows"] == n:
                sets[label] = (out, json.loads(manifest_path.read_text()))
            else:
                shutil.rmtree(out, ignore_errors=True)
                xlsx = self.spec["xlsx_rows"] if label == "1x" else None
                sets[label] = (out, generate_apart(out, n, xlsx))
        base, manifest = sets["1x"]
        for leftover in (base / "inbox").glob("*/*/late_export.csv"):  # an interrupted earlier run's
            shutil.rmtree(leftover.parent)
        last = dt.date.fromisoformat(manifest["last_day"])
        inbox_bytes = sum(p.stat().st_size for p in (base / "inbox").rglob("*") if p.is_file())
        print(f"Inbox: {inbox_bytes / 2**20:,.0f} MiB in {len(manifest['files'])} files", flush=True)

        server = Server(self.work / "prefect", self.work / "prefect-server.log")
        try:
            env = case_env(server, self.work)

            def kcity_env(data_set: Path, data: Path) -> dict:
                return env | {"KCITY_DATA_DIR": str(data), "KCITY_INBOX": str(data_set / "inbox")}

            print("Measuring (median wall):", flush=True)
            if self.wanted("floor"):
                self.measure(
                    "floor",
                    [PY, str(BENCH / "floor.py"), str(base / "inbox"), str(self.work / "floor.duckdb")],
                    env,
                )
            if self.wanted("prefect floor"):
                self.measure("prefect floor", [PY, str(BENCH / "noop_flow.py")], env)

            data = self.work / "run"
            fresh = lambda: shutil.rmtree(data, ignore_errors=True)  # noqa: E731
            nightly = [KCITY, "nightly", "--date", str(last)]
            if self.wanted("full"):
                self.measure("full", nightly, kcity_env(base, data), before=fresh, heavy=True)
                self.check_full(data, manifest)
            if self.wanted("nothing new"):
                self.measure("nothing new", nightly, kcity_env(base, data))
                self.check_full(data, manifest)
            if any(self.wanted(c) for c in (NEXT_DAY, "one new day", "backfill 30d")):
                self._after_full(base, data, manifest, last, kcity_env)

            data2 = self.work / "run-2x"
            if self.wanted("full 2x"):
                self.measure(
                    "full 2x",
                    nightly,
                    kcity_env(sets["2x"][0], data2),
                    before=lambda: shutil.rmtree(data2, ignore_errors=True),
                    heavy=True,
                )
                self.check_full(data2, sets["2x"][1])
        finally:
            server.stop()

        if self.wanted("peer (dlt)"):
            peer = dlt_python(self.work)
            self.measure(
                "peer (dlt)",
                [
                    peer,
                    str(BENCH / "peer_dlt.py"),
                    str(base / "inbox"),
                    str(self.work / "peer.duckdb"),
                    str(self.work / "dlt"),
                ],
                env,
                heavy=True,
            )
        xlsx = str(base / manifest["xlsx"]["path"])
        seconds = self.work / "xlsx-seconds"
        for reader in ("calamine", "kcity"):
            if self.wanted(f"xlsx {reader}") or self.wanted("xlsx"):
                self.measure(  # the read itself: interpreter start and imports are not the reader's
                    f"xlsx {reader}",
                    [PY, str(BENCH / "xlsx.py"), reader, xlsx, str(manifest["xlsx"]["rows"]), str(seconds)],
                    env,
                    inner=seconds,
                )
        return {"inbox_mib": inbox_bytes / 2**20, "rows": rows, "last_day": str(last)}

    def _after_full(self, base: Path, data: Path, manifest: dict, last: dt.date, kcity_env) -> None:
        """The next day with nothing new, one new day and backfill 30d, each on the warehouse
        `full` left."""
        from bench import generate

        saved = self.work / "after-full"
        shutil.rmtree(saved, ignore_errors=True)
        shutil.copytree(data, saved)

        def restore() -> None:
            shutil.rmtree(data, ignore_errors=True)
            shutil.copytree(saved, data)

        if self.wanted(NEXT_DAY):  # a real night: the date moves on, nothing was delivered
            next_day = last + dt.timedelta(days=1)
            self.measure(
                NEXT_DAY,
                [KCITY, "nightly", "--date", str(next_day)],
                kcity_env(base, data),
                before=restore,
                after=lambda: self.check_full(data, manifest, as_of=next_day),
            )
            restore()
        if self.wanted("one new day"):
            new_day = last + dt.timedelta(days=1)
            late = generate.one_day(base, new_day, rows=1000)
            try:
                self.measure(
                    "one new day",
                    [KCITY, "nightly", "--date", str(new_day)],
                    kcity_env(base, data),
                    before=restore,
                    after=lambda: self.check_loaded(data, Path(late).name, 1000),
                    heavy=True,
                )
            finally:
                (base / "inbox" / late).unlink()
                shutil.rmtree(base / "inbox" / Path(late).parent)
            restore()
        if self.wanted("backfill 30d"):
            start = dt.date.fromisoformat(min(Path(r).parts[1] for r in manifest["files"]))
            self.measure(
                "backfill 30d",
                [KCITY, "backfill", "--start", str(start), "--end", str(start + dt.timedelta(days=29))],
                kcity_env(base, data),
                heavy=True,
            )
            self.check_full(data, manifest)

    def table(self, facts: dict) -> str:
        have = self.results
        m = self.median
        rss = {k: max(r for _, r in v) for k, v in have.items()}

        def line(name: str, ratio: str = "", target: str = "", ok: bool | None = None) -> str:
            walls = [w for w, _ in have[name]]
            verdict = "" if ok is None else ("met" if ok else "NOT met")
            return (
                f"| {name} | {m(name):.2f} | {min(walls):.2f}–{max(walls):.2f} | {rss[name]:,.0f} "
                f"| {ratio} | {target} | {verdict} |"
            )

        def ratio(name: str, *needs: str) -> bool:
            return name in have and all(n in have for n in needs)

        rows = [
            "| case | wall median (s) | min–max (s) | peak RSS (MiB) | ratio | target | |",
            "|---|---:|---:|---:|---|---|---|",
        ]
        for name in ("floor", "prefect floor"):
            if name in have:
                rows.append(line(name, "1.00× floor" if name == "floor" else ""))
        if ratio("full", "floor", "prefect floor"):
            r = (m("full") - m("prefect floor")) / m("floor")
            rows.append(line("full", f"(full − prefect floor) = {r:.2f}× floor", "≤ 2.5×", r <= 2.5))
        elif "full" in have:
            rows.append(line("full"))
        for name, limit in (("nothing new", 1.3), (NEXT_DAY, 1.3), ("one new day", 2.0)):
            if ratio(name, "prefect floor"):
                r = m(name) / m("prefect floor")
                rows.append(line(name, f"{r:.2f}× prefect floor", f"≤ {limit:g}×", r <= limit))
            elif name in have:
                rows.append(line(name))
        if ratio("backfill 30d", "full"):
            rows.append(line("backfill 30d", f"{m('backfill 30d') / m('full'):.2f}× full"))
        if ratio("peer (dlt)", "full"):
            r = m("full") / m("peer (dlt)")
            rows.append(line("peer (dlt)", f"full / peer = {r:.2f}", "< 1", r < 1))
        elif "peer (dlt)" in have:
            rows.append(line("peer (dlt)"))
        if ratio("full 2x", "full"):
            r = m("full 2x") / m("full")
            rows.append(line("full 2x", f"{r:.2f}× full", "≤ 2.1×", r <= 2.1))
        if ratio("xlsx kcity", "xlsx calamine"):
            r = m("xlsx kcity") / m("xlsx calamine")
            rows.append(line("xlsx kcity", f"{r:.2f}× calamine", "≤ 1.3×", r <= 1.3))
            rows.append(line("xlsx calamine"))
        if ratio("full", "full 2x"):
            mem_ok = rss["full"] <= 1024 and rss["full 2x"] <= rss["full"] * 1.1
            rows.append("")
            rows.append(
                f"Peak RSS of full: {rss['full']:,.0f} MiB at 1×, {rss['full 2x']:,.0f} MiB at 2× "
                f"(target ≤ 1024 MiB and flat: {'met' if mem_ok else 'NOT met'})."
            )
        rows += self.parts_table()
        head = (
            f"Size {self.size}: {facts['rows']:,} submission rows + {3 * facts['rows']:,} feedback rows, "
            f"{facts['inbox_mib']:,.0f} MiB; {self.runs} run(s) per case ({self.heavy_runs} for full, one new day, "
            f"backfill, full 2x and the peer); xlsx times are the read alone (imports excluded); "
            f"cases: {', '.join(have)}; "
            f"{dt.date.today()}, {platform.machine()} × {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"duckdb {duckdb.__version__}."
        )
        return head + "\n\n" + "\n".join(rows)

    def parts_table(self) -> list[str]:
        """Lines of a table of the kcity runs' parts (medians), with full 2x's ratio to full."""
        names = [START, *(part for part, _, _ in PARTS), END_WAIT, EXIT]

        def median_parts(runs: list[dict[str, float]]) -> dict[str, float]:
            return {
                part: statistics.median(r[part] for r in runs if part in r)
                for part in names
                if any(part in r for r in runs)
            }

        medians = {name: median_parts(runs) for name, runs in self.parts.items()}
        if not any(medians.values()):
            return []
        rows = [
            "",
            "Parts of the runs (median s, between tasks' finishes in Prefect's log; start: from the "
            "process's start to the flow run's beginning; end wait: from the last task's finish to "
            "the flow run's, where it waits for Prefect's heartbeat thread, which wakes once a "
            "second: a flow run lasts whole seconds; exit: from the flow run's finish to the "
            "process's exit; the rest is the other tasks):",
            "",
            f"| case | {' | '.join(names)} | rest |",
            "|---|" + "---:|" * (len(names) + 1),
        ]
        for name, parts in medians.items():
            cells = [f"{parts[p]:.2f}" if p in parts else "" for p in names]
            rows.append(f"| {name} | {' | '.join(cells)} | {self.median(name) - sum(parts.values()):.2f} |")
        if "full" in medians and "full 2x" in medians:
            one, two = medians["full"], medians["full 2x"]
            cells = [f"{two[p] / one[p]:.2f}×" if one.get(p) and p in two else "" for p in names]
            rows.append(f"| full 2x / full | {' | '.join(cells)} | |")
        return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", choices=sorted(SIZES), default="default")
    p.add_argument("--runs", type=int, default=None)
    p.add_argument("--heavy-runs", type=int, default=None, help="runs of the long cases (default: --runs)")
    p.add_argument("--work", type=Path, default=ROOT / "bench" / "work")
    p.add_argument(
        "--cases",
        default="",
        help="comma-separated cases to run (default: all); full runs too when a case needs it",
    )
    args = p.parse_args()
    cases = {c.strip() for c in args.cases.split(",") if c.strip()} or None
    work = args.work / args.size
    work.mkdir(parents=True, exist_ok=True)
    (work / "bench.log").write_text("")
    runs = args.runs or SIZES[args.size]["runs"]
    bench = Bench(work, args.size, runs, args.heavy_runs or runs, cases)
    try:
        facts = bench.run()
    except BenchError as e:
        print(f"BENCHMARK FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    table = bench.table(facts)
    print()
    print(table)
    (work / "results.md").write_text(table + "\n", encoding="utf-8")
    (work / "results.json").write_text(json.dumps(bench.results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
