"""``cjm run`` of a case, measured: ``python benchmarks/demo_run.py <case_dir> <out_dir>``.

Calls ``toolkit.cli.run.run_case`` (what ``cjm run`` does: a warm kernel per notebook,
papermill) and prints one JSON line: ``steps`` (``RunResult.seconds``: each notebook's time as
the runner measures it), ``run_case_seconds`` (the call, kernel start-ups included),
``maxrss_mb`` (this process) and ``kernel_maxrss_mb`` (the largest kernel: ``getrusage`` of
the finished child processes). The caller times the whole command (interpreter start and
imports included) as the end-to-end figure.
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import time
from pathlib import Path

from measure import peak_rss_mb


def main(argv: list[str]) -> int:
    case_dir, out_dir = Path(argv[0]), Path(argv[1])
    shutil.rmtree(out_dir, ignore_errors=True)
    from toolkit.cli.run import run_case

    t = time.perf_counter()
    result = run_case(case_dir, out_dir=out_dir, progress=False)
    seconds = time.perf_counter() - t
    own = peak_rss_mb()
    kernels = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e6
    print(json.dumps({"steps": {k: round(v, 3) for k, v in result.seconds.items()},
                      "run_case_seconds": round(seconds, 3), "maxrss_mb": round(own, 1),
                      "kernel_maxrss_mb": round(kernels, 1), "report": bool(result.report)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
