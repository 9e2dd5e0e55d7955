"""The sales-based steps of a case, in one process: ``python benchmarks/case_run.py <case_dir> <out_dir>``.

Runs ``toolkit.data.step`` (load, validate, quarantine, save the canonical tables),
``toolkit.segmentation.step`` (RFM) and ``toolkit.loyalty.step`` (repeat curve, intervals,
LTV, cross-penetration, staff) exactly as their notebooks do (``start_step`` then ``run``),
then assembles ``<out_dir>/metrics.json``; the data-audit result is dropped before the next
step, as a notebook kernel per step would. Prints one JSON line: seconds per step, ``total``
(imports excluded, reported apart as ``imports``), ``maxrss_mb`` (the process's resident
memory high-water mark, ``getrusage``).
"""

from __future__ import annotations

import gc
import json
import shutil
import sys
import time
from pathlib import Path

from measure import peak_rss_mb


def main(argv: list[str]) -> int:
    case_dir, out_dir = Path(argv[0]), Path(argv[1])
    shutil.rmtree(out_dir, ignore_errors=True)
    t = time.perf_counter()
    import pyarrow as pa

    from toolkit.core.run_folder import RunFolder
    from toolkit.core.metrics import assemble_metrics
    from toolkit.pipeline.notebook import start_step
    from toolkit.data import step as data_audit
    from toolkit.loyalty import step as loyalty
    from toolkit.segmentation import step as segmentation

    seconds = {"imports": round(time.perf_counter() - t, 3)}
    t0 = time.perf_counter()
    for name, step in (("01_data_audit", data_audit), ("02_segmentation", segmentation), ("04_loyalty", loyalty)):
        t = time.perf_counter()
        result = step.run(start_step(str(case_dir), str(out_dir), ""))
        # what the end of a notebook kernel does: the step's objects and the memory Arrow's
        # allocator keeps for reuse go back to the system before the next step
        del result
        gc.collect()
        pa.default_memory_pool().release_unused()
        seconds[name] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    metrics = assemble_metrics(RunFolder(out_dir))
    seconds["metrics_json"] = round(time.perf_counter() - t, 3)
    total = time.perf_counter() - t0
    maxrss = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "total": round(total, 3), "maxrss_mb": round(maxrss, 1),
                      "metrics_keys": sorted(k for k, v in metrics.items() if not (isinstance(v, dict) and "skipped" in v))}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
