"""One measurement in a fresh process: ``python benchmarks/measure.py <job> <impl> <parquet> [<result.parquet>]``.

Imports everything first (not timed), then times one run of the job from the parquet file to
the pandas result, and prints one JSON line: ``seconds`` (wall clock of the run),
``cpu_seconds`` (user + system of this process during the run), ``maxrss_mb`` (the process's
resident-memory high-water mark, ``getrusage`` ``ru_maxrss``, which includes the
interpreter and the imported libraries) and ``baseline_rss_mb`` (resident memory after the
imports, before the run). With a result path, the normalised result is written there
afterwards (not timed) for the equality check.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

def peak_rss_mb() -> float:
    """This process's resident-memory high-water mark in MB: ``VmHWM`` of /proc/self/status (the
    process's own memory since it started its program), else ``getrusage``'s ``ru_maxrss``
    (which on Linux may carry the high-water mark of the process that started it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6



def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def main(argv: list[str]) -> int:
    job, impl, path = argv[:3]
    result_path = argv[3] if len(argv) > 3 else None
    import duckdb  # noqa: F401  (imports are not part of the measurement)
    import pandas  # noqa: F401

    import impls
    import toolkit.loyalty.repeat  # noqa: F401
    import toolkit.segmentation.rfm  # noqa: F401
    import toolkit.core.sales  # noqa: F401

    func = impls.JOBS[job][impl]
    baseline = _rss_mb()
    cpu0, t0 = os.times(), time.perf_counter()
    result = func(path, impls.AS_OF)
    seconds = time.perf_counter() - t0
    cpu1 = os.times()
    maxrss = peak_rss_mb()
    if result_path:
        impls.normalise(job, result).to_parquet(result_path, index=False)
    print(json.dumps({
        "job": job, "impl": impl, "seconds": round(seconds, 3),
        "cpu_seconds": round((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system), 3),
        "maxrss_mb": round(maxrss, 1), "baseline_rss_mb": round(baseline, 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
