"""``make bench``: how fast the toolkit turns a large sales history around, on this machine.

    python benchmarks/run.py [--repeats 3] [--sets tx_1m tx_10m [tx_100m]] [--skip-case] [--skip-full] [--skip-demo]

1. Scaled cases (``benchmarks/datasets.py``; generated once, cached in ``benchmarks/data/``):
   ``tx_1m`` (~1.0M rows, 100k customers), ``tx_10m`` (~10.0M rows, 1M customers) and, on
   request (``--sets ... tx_100m``), ``tx_100m`` (~100M rows, 10M customers: ``tx_10m`` x 10).
2. Two jobs on each, three ways, side by side in the same run (``benchmarks/impls.py``):
   the customer summary with RFM and the loyalty job (visit sequence, repeat curve,
   intervals), by the toolkit, by one hand-written DuckDB query (the reference for this
   machine) and by plain pandas. The results must be identical (checked every run). The
   *sales analytics* ratio is (toolkit summary + loyalty) / (hand-written summary + loyalty).
   ``tx_100m`` runs out of core (DuckDB's memory limit 2 GB for the toolkit and the reference
   alike), once (``--repeats-100m``), without pandas (it would need tens of GB).
3. The sales-based steps of the 10M-row case from the parquet file to ``metrics.json``
   (data audit, RFM, loyalty; ``benchmarks/case_run.py``).
4. A full ``cjm run`` of the 10M-row case (every step, report included; ``demo_run.py``):
   wall time and the largest kernel's peak memory.
5. ``cjm run`` of the clinic demo end to end and per step (``benchmarks/demo_run.py``).

Every measurement runs in a fresh process (so its peak memory is its own), ``--repeats``
times, the implementations interleaved (a load spike from other programs hits all of
them alike); the figure reported is the median. Times are wall clock; ``maxrss_mb`` is the
process's resident-memory high-water mark from ``getrusage`` (interpreter and libraries
included; ``baseline_rss_mb`` is what the process held before the job started). DuckDB uses
every core, pandas one. The machine's load average is recorded before and after each part:
other programs running at the same time slow every figure down.

Writes ``benchmarks/results.json`` (figures, ratios, targets met or not) and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import datasets  # noqa: E402
import impls  # noqa: E402

PYTHON = sys.executable
IMPLS = ("toolkit", "duckdb", "pandas")
JOBS = ("summary", "loyalty")
CLINIC_DEMO = ROOT / "case_studies" / "clinic_group"
WORK = datasets.DATA / "_runs"

TARGETS = {
    "sales_10m_toolkit_over_duckdb": ("<=", 1.3),
    "summary_10m_toolkit_over_duckdb": ("<=", 1.3),
    "loyalty_10m_toolkit_over_duckdb": ("<=", 1.3),
    "loyalty_10m_pandas_over_toolkit": (">=", 4.0),
    "loyalty_toolkit_10m_over_1m": ("<=", 11.0),
    "sales_100m_toolkit_over_duckdb": ("<=", 1.3),
    "sales_toolkit_100m_over_10m": ("<=", 11.0),
    "case_10m_seconds_to_metrics_json": ("<=", 60.0),
    "case_10m_peak_rss_mb": ("<=", 3000.0),
    "full_10m_cjm_run_seconds": ("<=", 60.0),
    "full_10m_peak_rss_mb": ("<=", 3000.0),
    "demo_cjm_run_seconds": ("<=", 20.0),
}
NO_PANDAS = {"tx_100m"}  # pandas would need tens of GB


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_json(args: list[str], timeout: float = 3600) -> tuple[dict, float]:
    """Run a measuring script; return its JSON line and the wall clock of the whole process."""
    t = time.perf_counter()
    proc = subprocess.run([PYTHON, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line), wall


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


# -- 1, 2: the jobs, three ways --------------------------------------------------------------


def bench_jobs(set_names: list[str], repeats: int, log, repeats_100m: int = 1) -> dict:
    out: dict = {}
    for name in set_names:
        path = datasets.SETS[name].transactions
        names = ("toolkit", "duckdb") if name in NO_PANDAS else IMPLS
        repeats_here = repeats_100m if name in NO_PANDAS else repeats
        for job in JOBS:
            repeats = repeats_here
            log(f"{name} / {job}: {repeats} x {', '.join(names)} ...")
            runs: dict[str, list[dict]] = {i: [] for i in names}
            results: dict[str, Path] = {}
            load_before = load_average()
            failed: dict[str, str] = {}
            for rep in range(repeats):
                order = names[rep % len(names):] + names[:rep % len(names)]  # rotate who goes first
                for impl in order:
                    if impl in failed:
                        continue
                    args = [str(HERE / "measure.py"), job, impl, str(path)]
                    if rep == 0:
                        results[impl] = WORK / f"{name}_{job}_{impl}.parquet"
                        args.append(str(results[impl]))
                    try:
                        m, _ = run_json(args)
                    except RuntimeError as e:  # e.g. out of memory at 100M rows: recorded, the run goes on
                        failed[impl] = [ln for ln in str(e).splitlines() if "Error" in ln][-1:] or [str(e)[-300:]]
                        failed[impl] = failed[impl][0][:300]
                        log(f"    {impl:8s} FAILED: {failed[impl]}")
                        continue
                    runs[impl].append(m)
                    log(f"    {impl:8s} {m['seconds']:8.2f} s  peak {m['maxrss_mb']:7.0f} MB")
            if failed:
                ok = {i: rs for i, rs in runs.items() if rs}
                out.setdefault(name, {})[job] = {
                    "failed": failed, "identical": None,
                    **{i: {"median_seconds": median([r["seconds"] for r in rs]),
                           "median_cpu_seconds": median([r["cpu_seconds"] for r in rs]),
                           "peak_rss_mb": max(r["maxrss_mb"] for r in rs)} for i, rs in ok.items()},
                }
                continue
            # the same answer three ways
            import pandas as pd

            frames = {i: pd.read_parquet(p) for i, p in results.items()}
            checks = {f"toolkit_vs_{i}": impls.differences(job, frames["toolkit"], frames[i]) for i in names[1:]}
            entry = {
                impl: {
                    "seconds": [r["seconds"] for r in rs],
                    "median_seconds": median([r["seconds"] for r in rs]),
                    "median_cpu_seconds": median([r["cpu_seconds"] for r in rs]),
                    "peak_rss_mb": max(r["maxrss_mb"] for r in rs),
                    "baseline_rss_mb": max(r["baseline_rss_mb"] for r in rs),
                }
                for impl, rs in runs.items()
            }
            t, d = (entry[i]["median_seconds"] for i in ("toolkit", "duckdb"))
            tc, dc = (entry[i]["median_cpu_seconds"] for i in ("toolkit", "duckdb"))
            # wall clock is the target; CPU time beside it is less moved by other programs
            entry["ratios"] = {"toolkit_over_duckdb": round(t / d, 3), "toolkit_over_duckdb_cpu": round(tc / dc, 3)}
            if "pandas" in entry:
                p, pc = entry["pandas"]["median_seconds"], entry["pandas"]["median_cpu_seconds"]
                entry["ratios"].update(pandas_over_toolkit=round(p / t, 3), pandas_over_toolkit_cpu=round(pc / tc, 3))
            entry["identical"] = all(not v for v in checks.values())
            entry["differences"] = {k: v for k, v in checks.items() if v}
            entry["result_rows"] = len(frames["toolkit"])
            entry["load_average"] = {"before": load_before, "after": load_average()}
            out.setdefault(name, {})[job] = entry
            r = entry["ratios"]
            log(f"    identical: {entry['identical']}; toolkit/duckdb {r['toolkit_over_duckdb']:.2f} "
                f"(CPU {r['toolkit_over_duckdb_cpu']:.2f})" + (
                    f", pandas/toolkit {r['pandas_over_toolkit']:.2f} (CPU {r['pandas_over_toolkit_cpu']:.2f})"
                    if "pandas_over_toolkit" in r else ""))
            if not entry["identical"]:
                log(f"    DIFFERENCES: {entry['differences']}")
        if all("failed" not in out[name][j] for j in JOBS):
            out[name]["sales"] = sales_analytics(out[name])
    return out


def sales_analytics(jobs: dict) -> dict:
    """The sales-analytics step (RFM summary + loyalty job), toolkit against the hand-written queries."""
    def total(impl: str, what: str) -> float:
        return round(sum(jobs[j][impl][what] for j in JOBS), 3)

    t, d = total("toolkit", "median_seconds"), total("duckdb", "median_seconds")
    tc, dc = total("toolkit", "median_cpu_seconds"), total("duckdb", "median_cpu_seconds")
    return {"toolkit_seconds": t, "duckdb_seconds": d, "toolkit_cpu_seconds": tc, "duckdb_cpu_seconds": dc,
            "toolkit_over_duckdb": round(t / d, 3), "toolkit_over_duckdb_cpu": round(tc / dc, 3),
            "toolkit_peak_rss_mb": max(jobs[j]["toolkit"]["peak_rss_mb"] for j in JOBS),
            "duckdb_peak_rss_mb": max(jobs[j]["duckdb"]["peak_rss_mb"] for j in JOBS)}


# -- 3: the 10M-row case to metrics.json --------------------------------------------------------


def bench_case(set_name: str, repeats: int, log) -> dict:
    folder = datasets.SETS[set_name].folder
    log(f"{set_name}: data audit + RFM + loyalty -> metrics.json, {repeats} x ...")
    runs = []
    load_before = load_average()
    for _ in range(repeats):
        m, wall = run_json([str(HERE / "case_run.py"), str(folder), str(WORK / f"case_{set_name}")])
        m["process_seconds"] = round(wall, 3)
        runs.append(m)
        log(f"    total {m['total']:6.1f} s  ({', '.join(f'{k} {v:.1f}' for k, v in m['seconds'].items())})"
            f"  peak {m['maxrss_mb']:.0f} MB")
    steps = {k: median([r["seconds"][k] for r in runs]) for k in runs[0]["seconds"]}
    return {
        "set": set_name,
        "runs": runs,
        "median_seconds_to_metrics_json": median([r["total"] for r in runs]),
        "median_seconds_with_interpreter_start": median([r["process_seconds"] for r in runs]),
        "median_step_seconds": steps,
        "peak_rss_mb": max(r["maxrss_mb"] for r in runs),
        "metrics_keys": runs[0]["metrics_keys"],
        "load_average": {"before": load_before, "after": load_average()},
    }


# -- 4: a full cjm run of the 10M-row case ------------------------------------------------------


def bench_full(set_name: str, log) -> dict:
    folder = datasets.SETS[set_name].folder
    log(f"cjm run {folder.relative_to(ROOT)} (every step, report included), once ...")
    load_before = load_average()
    try:
        m, wall = run_json([str(HERE / "demo_run.py"), str(folder), str(WORK / f"full_{set_name}")])
    except RuntimeError as e:  # a step failed or the run ran out of memory: reported, not hidden
        log(f"    FAILED: {str(e)[-500:]}")
        return {"set": set_name, "failed": str(e)[-2000:], "load_average": {"before": load_before,
                                                                           "after": load_average()}}
    log(f"    end to end {wall:5.1f} s, largest kernel peak {m['kernel_maxrss_mb']:.0f} MB "
        f"(steps: {', '.join(f'{k[:2]} {v:.1f}' for k, v in m['steps'].items())})")
    return {"set": set_name, "end_to_end_seconds": round(wall, 3), "run_case_seconds": m["run_case_seconds"],
            "step_seconds": m["steps"], "peak_rss_mb": max(m["kernel_maxrss_mb"], m["maxrss_mb"]),
            "largest_kernel_rss_mb": m["kernel_maxrss_mb"], "load_average": {"before": load_before,
                                                                           "after": load_average()}}


# -- 5: the clinic demo through cjm run ---------------------------------------------------------


def bench_demo(repeats: int, log) -> dict:
    log(f"cjm run {CLINIC_DEMO.relative_to(ROOT)}, {repeats} x ...")
    runs = []
    load_before = load_average()
    for _ in range(repeats):
        m, wall = run_json([str(HERE / "demo_run.py"), str(CLINIC_DEMO), str(WORK / "demo")])
        m["end_to_end_seconds"] = round(wall, 3)
        runs.append(m)
        log(f"    end to end {wall:5.1f} s  (steps: {', '.join(f'{k[:2]} {v:.1f}' for k, v in m['steps'].items())})")
    steps = {k: median([r["steps"][k] for r in runs]) for k in runs[0]["steps"]}
    return {
        "case": str(CLINIC_DEMO.relative_to(ROOT)),
        "runs": runs,
        "median_end_to_end_seconds": median([r["end_to_end_seconds"] for r in runs]),
        "median_run_case_seconds": median([r["run_case_seconds"] for r in runs]),
        "median_step_seconds": steps,
        "largest_kernel_rss_mb": max(r["kernel_maxrss_mb"] for r in runs),
        "load_average": {"before": load_before, "after": load_average()},
    }


# -- targets and report -----------------------------------------------------------------------


def targets(results: dict) -> dict:
    jobs = results.get("jobs", {})
    measured = {}
    if "tx_10m" in jobs and "sales" in jobs["tx_10m"]:
        r = jobs["tx_10m"]["loyalty"]["ratios"]
        measured["sales_10m_toolkit_over_duckdb"] = jobs["tx_10m"]["sales"]["toolkit_over_duckdb"]
        measured["summary_10m_toolkit_over_duckdb"] = jobs["tx_10m"]["summary"]["ratios"]["toolkit_over_duckdb"]
        measured["loyalty_10m_toolkit_over_duckdb"] = r["toolkit_over_duckdb"]
        measured["loyalty_10m_pandas_over_toolkit"] = r["pandas_over_toolkit"]
    if "tx_100m" in jobs and "sales" in jobs["tx_100m"]:
        measured["sales_100m_toolkit_over_duckdb"] = jobs["tx_100m"]["sales"]["toolkit_over_duckdb"]
        if "tx_10m" in jobs and "sales" in jobs["tx_10m"]:
            measured["sales_toolkit_100m_over_10m"] = round(
                jobs["tx_100m"]["sales"]["toolkit_seconds"] / jobs["tx_10m"]["sales"]["toolkit_seconds"], 3)
    if all(s in jobs and "toolkit" in jobs[s]["loyalty"] for s in ("tx_1m", "tx_10m")):
        big, small = jobs["tx_10m"]["loyalty"]["toolkit"], jobs["tx_1m"]["loyalty"]["toolkit"]
        measured["loyalty_toolkit_10m_over_1m"] = round(big["median_seconds"] / small["median_seconds"], 3)
    if "case" in results:
        measured["case_10m_seconds_to_metrics_json"] = results["case"]["median_seconds_to_metrics_json"]
        measured["case_10m_peak_rss_mb"] = results["case"]["peak_rss_mb"]
    if "full" in results and "failed" not in results["full"]:
        measured["full_10m_cjm_run_seconds"] = results["full"]["end_to_end_seconds"]
        measured["full_10m_peak_rss_mb"] = results["full"]["peak_rss_mb"]
    if "demo" in results:
        measured["demo_cjm_run_seconds"] = results["demo"]["median_end_to_end_seconds"]
    out = {}
    for name, value in measured.items():
        op, limit = TARGETS[name]
        out[name] = {"target": f"{op} {limit:g}", "measured": value,
                     "met": value <= limit if op == "<=" else value >= limit}
    return out


def table(results: dict) -> str:
    """The size table: per set, the sales analytics (RFM summary + loyalty job) by the toolkit and
    by the hand-written DuckDB queries, time (CPU) and peak memory, and the ratio."""
    rows = [f"{'set':8s} {'rows':>12s} {'toolkit s (CPU)':>17s} {'hand DuckDB s (CPU)':>20s} "
            f"{'ratio (CPU)':>12s} {'toolkit peak MB':>16s}"]
    for name, jobs in results.get("jobs", {}).items():
        if "sales" not in jobs:
            what = "; ".join(f"{j} {i}: FAILED ({msg[:80]})" for j in JOBS for i, msg in jobs[j].get("failed", {}).items())
            rows.append(f"{name:8s} {results['sets'][name]['rows']:>12,} {what}")
            continue
        s = jobs["sales"]
        rows.append(f"{name:8s} {results['sets'][name]['rows']:>12,} "
                    f"{s['toolkit_seconds']:>8.1f} ({s['toolkit_cpu_seconds']:>6.1f}) "
                    f"{s['duckdb_seconds']:>11.1f} ({s['duckdb_cpu_seconds']:>6.1f}) "
                    f"{s['toolkit_over_duckdb']:>5.2f} ({s['toolkit_over_duckdb_cpu']:>4.2f}) "
                    f"{s['toolkit_peak_rss_mb']:>16.0f}")
    not_run = [n for n in datasets.SETS if n not in results.get("jobs", {})]
    if not_run:
        rows.append(f"not measured in this run: {', '.join(not_run)} (--sets)")
    full = results.get("full")
    if full:
        rows.append("full cjm run of tx_10m: " + (f"FAILED ({full['failed'][-200:]})" if "failed" in full else
                    f"{full['end_to_end_seconds']:.1f} s, peak {full['peak_rss_mb']:.0f} MB"))
    return "\n".join(rows)


def machine() -> dict:
    import duckdb
    import pandas as pd
    import pyarrow as pa

    with open("/proc/meminfo") as f:
        mem_kb = int(next(ln for ln in f if ln.startswith("MemTotal")).split()[1])
    return {"cpus": os.cpu_count(), "memory_gb": round(mem_kb / 1e6, 1), "python": platform.python_version(),
            "pandas": pd.__version__, "duckdb": duckdb.__version__, "pyarrow": pa.__version__,
            "platform": platform.platform()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="runs per measurement (median reported); default 3")
    ap.add_argument("--sets", nargs="+", default=datasets.DEFAULT_SETS, choices=list(datasets.SETS),
                    help="default: tx_1m tx_10m; add tx_100m for the out-of-core size")
    ap.add_argument("--repeats-100m", type=int, default=1, help="runs per measurement on tx_100m; default 1")
    ap.add_argument("--skip-full", action="store_true", help="skip the full cjm run of the 10M-row case")
    ap.add_argument("--skip-jobs", action="store_true", help="skip the three-way job comparison")
    ap.add_argument("--skip-case", action="store_true", help="skip the 10M-row case to metrics.json")
    ap.add_argument("--skip-demo", action="store_true", help="skip cjm run of the clinic demo")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args(argv)
    log = lambda msg: print(msg, flush=True)  # noqa: E731

    WORK.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    results: dict = {"started": started, "machine": machine(), "load_average_at_start": load_average(),
                     "repeats": args.repeats, "sets": {}}
    needed = set(args.sets) | ({"tx_10m"} if not (args.skip_case and args.skip_full) else set())
    for name in sorted(needed):
        results["sets"][name] = datasets.ensure_set(name, log)
    if not args.skip_jobs:
        results["jobs"] = bench_jobs(args.sets, args.repeats, log, args.repeats_100m)
    if not args.skip_case:
        results["case"] = bench_case("tx_10m", args.repeats, log)
    if not args.skip_full:
        results["full"] = bench_full("tx_10m", log)
    if not args.skip_demo and (CLINIC_DEMO / "case.yml").exists():
        results["demo"] = bench_demo(args.repeats, log)
    results["targets"] = targets(results)
    results["load_average_at_end"] = load_average()
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")

    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, args.out)

    log("")
    log(table(results))
    log("")
    log(f"{'target':40s} {'goal':>10s} {'measured':>10s}  met")
    for name, t in results["targets"].items():
        log(f"{name:40s} {t['target']:>10s} {t['measured']:>10g}  {'yes' if t['met'] else 'NO'}")
    same = all(s[j]["identical"] is not False for s in results.get("jobs", {}).values() for j in JOBS)
    log(f"three implementations identical on every set and job: {same}")
    log(f"load average at start {results['load_average_at_start']}, at end {results['load_average_at_end']}")
    log(f"written {args.out}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
