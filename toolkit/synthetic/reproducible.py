"""Byte-identical output files for a given seed.

xlsx and docx files are zip archives: every entry carries a modification time and
``docProps/core.xml`` carries created/modified dates, so two runs a second apart differ.
``toolkit.core.zipfiles.fix_zip`` rewrites such an archive with one fixed timestamp for every
entry and fixed document dates; every xlsx/docx the generator writes goes through it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from toolkit.core.zipfiles import FIXED_DOC_TIME, FIXED_ZIP_TIME, fix_zip  # noqa: F401 - re-exported


class _Dumper(yaml.SafeDumper):
    """Safe YAML dumper that never uses aliases (anchors would make truth.yml hard to read)."""

    def ignore_aliases(self, data):
        return True


def _float_repr(dumper, value: float):
    # Rounded, stable float text: 0.1 + 0.2 must not print as 0.30000000000000004.
    if value != value:
        return dumper.represent_scalar("tag:yaml.org,2002:float", ".nan")
    text = repr(round(value, 6))
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


_Dumper.add_representer(float, _float_repr)
_Dumper.add_multi_representer(np.floating, lambda d, v: _float_repr(d, float(v)))
_Dumper.add_multi_representer(np.integer, lambda d, v: d.represent_int(int(v)))
_Dumper.add_multi_representer(np.bool_, lambda d, v: d.represent_bool(bool(v)))
_Dumper.add_representer(tuple, lambda d, v: d.represent_list(list(v)))


def dump_yaml(data, header: str = "") -> str:
    """YAML text with keys in insertion order, unicode kept, floats rounded to 6 decimals."""
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110)
    return header + body


def random_streams(seed: int, names: tuple[str, ...]) -> dict[str, np.random.Generator]:
    """Independent random streams, one per named part of a case, so changing one part never
    shifts another (stream i is child i of ``SeedSequence(seed)``, whatever comes after it)."""
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {n: np.random.default_rng(c) for n, c in zip(names, children)}
