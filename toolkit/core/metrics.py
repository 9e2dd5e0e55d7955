"""metrics.json: the engagement's headline numbers in one machine-readable file.

Each step writes its part (``RunFolder.save_metrics_part(key, value)``); this module
assembles them under the keys of METRICS.md, in a fixed order. A key whose step has
not produced it holds ``{"skipped": "<reason>"}`` — never an invented number.
"""

from __future__ import annotations

from collections.abc import Mapping

from toolkit import __version__
from toolkit.core.run_folder import RunFolder, write_json

# the contract's top-level keys, in order (METRICS.md)
METRIC_KEYS = (
    "case",
    "money",
    "data_quality",
    "segments",
    "loyalty",
    "cross_penetration",
    "staff_dependency",
    "funnel",
    "barriers",
    "double_funnel",
    "profit",
    "roadmap",
)


def case_block(case, inputs: dict) -> dict:
    """``case``: name, language, currency, as_of, toolkit_version, inputs {table: {file, sha256, rows}},
    parameters (every analysis parameter used, defaults filled in)."""
    return {
        "name": case.name,
        "client": case.client,
        "language": case.language,
        "currency": case.currency,
        "as_of": case.as_of.isoformat(),
        "toolkit_version": __version__,
        "inputs": inputs,
        "parameters": case.parameters.model_dump(mode="json"),
    }


def skipped(reason: str) -> dict:
    return {"skipped": reason}


def is_skipped(value) -> bool:
    """Whether a metrics part (or one of its keys) says it was skipped: ``{"skipped": reason, ...}``."""
    return isinstance(value, Mapping) and "skipped" in value


def assemble_metrics(run: RunFolder, case=None) -> dict:
    """Merge the parts into ``<out>/metrics.json`` and return it. With ``case`` (the run's
    recorded settings), ``case.parameters`` states the parameters as recorded now."""
    parts = run.load_metrics_parts()
    if case is not None and isinstance(parts.get("case"), dict):
        parts["case"] = {**parts["case"], "as_of": case.as_of.isoformat(),
                         "parameters": case.parameters.model_dump(mode="json")}
    out = {}
    for key in METRIC_KEYS:
        out[key] = parts.pop(key) if key in parts else skipped("the step that computes it has not run")
    out.update(dict(sorted(parts.items())))  # extra parts (profit formula, ...) after the contract keys
    write_json(run.root / "metrics.json", out)
    return out
