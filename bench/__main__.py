"""`make bench`: every benchmark, one after another, each printing its own numbers and ratios.

Benchmarks are programs, not tests: they measure, print, and exit non-zero only when they could not run.
"""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = {
    "settlement_import": "bench.settlement_import",
    "commands": "bench.commands",
    "history": "bench.history",
    "extraction": "bench.extraction",
    "workers": "bench.workers",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    failed = []
    for name in args.names or list(BENCHMARKS):
        print(f"\n=== benchmark: {name} ===", flush=True)
        module = importlib.import_module(BENCHMARKS[name])
        code = module.main([])
        if code:
            failed.append(name)
    if failed:
        print(f"\nbenchmarks that could not run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
