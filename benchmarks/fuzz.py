"""Randomized runs of the pipeline's properties, with counts (``python benchmarks/fuzz.py``).

Runs ``pytest -m fuzz`` (not derandomized: new designs each run) and prints how
many designs were tried, how many failed, and the coverage events (builders,
reductions used, statuses, fallbacks, zero-mass types, deterministic designs).

    python benchmarks/fuzz.py                 # 2,000 designs
    python benchmarks/fuzz.py --examples 5000
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=2000, help="designs per property (default 2000)")
    args = ap.parse_args(argv)
    env = {**os.environ, "MECHOPT_FUZZ_EXAMPLES": str(args.examples)}
    env.pop("CI", None)  # never the derandomized CI profile
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_fuzz.py", "-m", "fuzz", "-q", "-p", "no:cacheprovider",
         "--hypothesis-show-statistics"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - start
    out = proc.stdout
    counts = re.findall(r"(\d+) passing examples, (\d+) failing examples, (\d+) invalid examples", out)
    passing = sum(int(a) for a, _, _ in counts)
    failing = sum(int(b) for _, b, _ in counts)
    print("| property | designs tried | failing | seconds |\n|---|---|---|---|")
    name = "reductions on = off (status, optimum; every optimum verified)"
    print(f"| {name} | {passing + failing} | {failing} | {seconds:.0f} |")
    events = re.findall(r"\*\s+([\d.]+)%, (.+)", out)
    if events:
        print("\n| event | share of designs |\n|---|---|")
        for share, name in events:
            if not name.startswith(("Retried", "invalid")):
                print(f"| {name} | {share}% |")
    if proc.returncode != 0:
        print("\nFAILED:\n" + out[-4000:] + proc.stderr[-2000:])
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
