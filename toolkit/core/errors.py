"""Errors a consultant reads: one clear sentence each, never a bare traceback."""

from __future__ import annotations


class CaseError(Exception):
    """A fatal problem with a case: its message is a complete sentence for the user.

    The CLI prints ``str(error)`` and exits non-zero; ``--debug`` shows the traceback.
    """


class CaseConfigError(CaseError):
    """``case.yml`` is invalid; ``problems`` lists every problem with its YAML path."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path} has {len(problems)} problem(s):\n{lines}")


class InputFileError(CaseError):
    """An input file cannot be used (missing, unreadable, wrong sheet, missing column)."""
