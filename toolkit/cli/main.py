"""The ``cjm`` command.

    cjm new-case NAME [--dir case_studies]   write a commented starter case
    cjm validate CASE_DIR                     load everything, print data quality
    cjm run CASE_DIR [--out DIR] [--only STEP ...] [--lang ru|en] [--pdf]
                                              execute the notebooks, write the report
    cjm code CASE_DIR [--evaluate]            draft interview coding from transcripts
    cjm code CASE_DIR --read-back [FILE]      reviewed draft -> canonical codes table
    cjm generate NAME --out DIR               write a generated case study
    cjm lab CASE_DIR [--out DIR]              explore the notebooks in JupyterLab (writes only under <out>/lab/)

Problems are printed as one clear message and a non-zero exit code; ``--debug``
shows the traceback as well.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from toolkit import __version__
from toolkit.core.casefile import write_starter_case
from toolkit.core.config import load_case
from toolkit.core.errors import CaseError
from toolkit.data.load import load_case_data, quality_table
from toolkit.data.usable import check_rows_lost


def _print_quality(data) -> None:

    case = data.case
    print(f"Case: {case.client}  ({case.name}, language {case.language}, currency {case.currency}, as of {case.as_of})")
    print()
    header = f"{'table':<13} {'file':<34} {'read':>9} {'used':>9} {'quarantined':>12}"
    print(header)
    print("-" * len(header))
    for t, q in data.quality.items():
        print(f"{t:<13} {q.file[-34:]:<34} {q.rows_read:>9,} {q.rows_used:>9,} {sum(q.quarantined.values()):>12,}")
    qt = quality_table(data)
    problems = qt[qt["problem"] != ""]
    if len(problems):
        print()
        print("Problems found (rows):")
        for r in problems.itertuples():
            print(f"  {r.table:<13} {r.problem:<28} {r.rows:>7,}  {r.kind}")
        examples = data.quarantine.groupby(["table", "reason"], sort=True).head(3)
        if len(examples):
            print()
            print("Examples (file row, column, value):")
            for r in examples.itertuples():
                col = "" if r.column is None or str(r.column) in ("<NA>", "nan") else f", column '{r.column}'"
                val = "" if r.value is None or str(r.value) in ("<NA>", "nan") else f": '{r.value}'"
                print(f"  {r.table}: row {r.row}{col}{val} -> {r.reason}")
    _print_unmapped(data)
    notes = [(t, n) for t, q in data.quality.items() for n in q.notes]
    if notes:
        print()
        print("How the files were read:")
        for t, n in notes:
            print(f"  {t}: {n}")


def _print_unmapped(data) -> None:
    """Values of categorical columns that nothing recognises, with counts and what is allowed."""
    unmapped = [(t, canon, u) for t, q in data.quality.items() for canon, u in getattr(q, "unmapped", {}).items()]
    if not unmapped:
        return
    print()
    print("Values not recognised (map them under sources.<table>.values in case.yml, e.g. "
          "values: {code_type: {барьер: barrier}}):")
    for t, canon, u in unmapped:
        listed = ", ".join(f"'{v}' ({n:,})" for v, n in u["values"].items())
        more = f" and {u['distinct'] - len(u['values'])} more" if u["distinct"] > len(u["values"]) else ""
        print(f"  {t}.{canon} (column '{u['column']}'): {u['rows']:,} rows: {listed}{more}")
        print(f"    allowed: {', '.join(u['allowed']) or '(none declared)'}")


def cmd_validate(args) -> int:

    case = load_case(args.case_dir)
    data = load_case_data(case)
    _print_quality(data)
    print()
    sys.stdout.flush()
    warnings = check_rows_lost(data)  # a table losing too many rows: the error after the table above
    for w in warnings:
        print(w)
    print("The case is usable." if data.tables else "The case declares no input sources.")
    return 0


def cmd_new_case(args) -> int:

    path = write_starter_case(args.name, Path(args.dir), language=args.lang)
    print(f"Created {path}. Put the client's exports in {path.parent / 'raw'} and edit the column mappings.")
    return 0


def cmd_run(args) -> int:
    from toolkit.cli.run import cmd_run as run

    return run(args)


def cmd_code(args) -> int:
    from toolkit.coding import run_code_command, run_read_back_command

    if args.read_back is not None:
        return run_read_back_command(args.case_dir, reviewed=args.read_back or None, out=args.out)
    return run_code_command(args.case_dir, out=args.out, evaluate=args.evaluate)


def cmd_lab(args) -> int:
    from toolkit.cli.lab import cmd_lab as lab

    return lab(args)


def cmd_generate(args) -> int:
    from toolkit.synthetic import generate_case

    out = generate_case(args.name, Path(args.out), seed=args.seed, scale=args.scale, fmt=args.format)
    print(f"Wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cjm", description="Customer/patient journey mapping toolkit")
    parser.add_argument("--version", action="version", version=f"cjm {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    # --debug is accepted after the sub-command too: cjm validate CASE --debug
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")

    p = sub.add_parser("validate", parents=[common], help="load a case's exports and print the data-quality table")
    p.add_argument("case_dir")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("new-case", parents=[common], help="write a commented starter case.yml")
    p.add_argument("name")
    p.add_argument("--dir", default="case_studies", help="parent folder (default: case_studies)")
    p.add_argument("--lang", choices=["ru", "en"], default="ru")
    p.set_defaults(func=cmd_new_case)

    p = sub.add_parser("run", parents=[common], help="run the notebooks of a case and write the report")
    p.add_argument("case_dir")
    p.add_argument("--out", default=None, help="run folder (default: out/<case name>)")
    p.add_argument("--only", nargs="+", default=None, metavar="STEP", help="re-run only these steps (e.g. 05 or loyalty)")
    p.add_argument("--lang", choices=["ru", "en"], default=None, help="report language (default: the case's)")
    p.add_argument("--pdf", action="store_true", help="also convert the report to PDF with LibreOffice")
    p.add_argument("--update-settings", action="store_true",
                   help="with --only: record the edited case.yml in the run folder first (default: the run's recorded settings)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("code", parents=[common], help="draft coding of interview transcripts with the codebook")
    p.add_argument("case_dir")
    p.add_argument("--out", default=None, help="where to write coding_draft.xlsx (default: the case folder)")
    p.add_argument("--evaluate", action="store_true", help="print agreement with the case's hand coding")
    p.add_argument("--read-back", nargs="?", const="", default=None, metavar="REVIEWED",
                   help="read the reviewed draft (default: the case's coding_draft.xlsx) into a codes table")
    p.set_defaults(func=cmd_code)

    p = sub.add_parser("generate", parents=[common], help="write a generated case study (synthetic data with planted truths)")
    p.add_argument("name", choices=["clinic_group", "fashion_retail"])
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--format", choices=["native", "parquet"], default="native")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("lab", parents=[common], help="explore a case's notebooks in JupyterLab (writes only under <out>/lab/)")
    p.add_argument("case_dir")
    p.add_argument("--out", default=None, help="run folder (default: out/<case name>)")
    p.add_argument("--lang", choices=["ru", "en"], default=None, help="language of the notebooks' output (default: the case's)")
    p.add_argument("--fresh", action="store_true", help="prepare the workspace notebooks again (replaces your copies in lab/)")
    p.add_argument("--port", type=int, default=None, help="JupyterLab's port (default: the first free one from 8888)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--prepare-only", action="store_true", help="prepare the workspace, print the JupyterLab command, do not start it")
    p.set_defaults(func=cmd_lab)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.debug
    try:
        return args.func(args)
    except CaseError as e:
        if debug:
            traceback.print_exc()
        print(f"Error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like: not an error

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except Exception as e:  # an unexpected failure still reads as a sentence
        if debug:
            traceback.print_exc()
        print(
            f"Error: unexpected {type(e).__name__}: {e}. This is a toolkit bug; re-run with --debug and report it.",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
