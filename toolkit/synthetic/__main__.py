"""Command line: ``python -m toolkit.synthetic NAME --out DIR [--seed N] [--scale X] [--format native|parquet]``."""

from __future__ import annotations

import argparse
import sys
import time

from toolkit.synthetic import CASES, DEFAULT_SEEDS, generate_case


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m toolkit.synthetic",
        description="Generate a seeded synthetic case study (raw client exports + truth.yml).",
    )
    p.add_argument("name", choices=CASES, help="which case to generate")
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--seed", type=int, default=None,
                   help="random seed (default: " + ", ".join(f"{k} {v}" for k, v in DEFAULT_SEEDS.items()) + ")")
    p.add_argument("--scale", type=float, default=1.0, help="multiplies customers, leads and sessions (default 1)")
    p.add_argument("--format", dest="fmt", choices=("native", "parquet"), default="native",
                   help="native: messy client exports; parquet: canonical columns for benchmarks")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.scale <= 0:
        print("error: --scale must be positive", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    out = generate_case(args.name, args.out, seed=args.seed, scale=args.scale, fmt=args.fmt)
    print(f"{args.name}: written to {out} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
