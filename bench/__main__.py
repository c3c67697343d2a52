"""Run every benchmark (or --only NAME) in turn; each prints its figures and its ratio last."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

# Order matters only for reading the output; dispatch joins when bench/dispatch.py exists.
ORDER = ("dispatch", "tick", "report", "conversation", "room")


def available() -> list[str]:
    """The benchmarks present in bench/, in ORDER."""
    here = Path(__file__).resolve().parent
    return [name for name in ORDER if (here / f"{name}.py").exists()]


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks; a benchmark that fails is reported and the rest still run."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="each benchmark under a minute (fewer runs)")
    parser.add_argument("--only", action="append", choices=available(), help="run only this benchmark (repeatable)")
    args, rest = parser.parse_known_args(argv)
    names = args.only or available()
    failed = []
    for name in names:
        print(f"== {name} ==", flush=True)
        start = time.perf_counter()
        module = importlib.import_module(f"bench.{name}")
        try:
            code = module.main((["--quick"] if args.quick else []) + rest)
        except Exception as exc:
            print(f"{name} failed: {exc!r}", flush=True)
            code = 1
        print(f"   ({name}: {time.perf_counter() - start:.0f} s)\n", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
