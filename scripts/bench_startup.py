#!/usr/bin/env python
"""Start-up time of the command line and the library, against the floor of Python + click.

    python scripts/bench_startup.py [--runs 15] [--repo OTHER_CHECKOUT]

Times (best and median of ``--runs`` fresh processes) ``plan --help``, ``plan matrix --help``,
``plan evaluate --help`` and ``import planner``, and as the reference measured in the same run
``python -c "import click"`` (what any click command line costs). With ``--repo`` the same
commands run from another checkout too (``PYTHONPATH``), e.g. the commit before a change.
The command line loads a command's module only when that command runs, and the library
through lazy namespaces (docs/architecture.md), so the ratios should stay near 1-2.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_OPT", "1")  # as the plan command line (planner/kernels/options.py)

REPO = Path(__file__).resolve().parent.parent

CASES = {
    "import click (floor)": "import click",
    "import planner": "import planner",
    "plan --help": "from planner.cli.main import main; main(['--help'], prog_name='plan')",
    "plan matrix --help": "from planner.cli.main import main; main(['matrix', '--help'], prog_name='plan')",
    "plan evaluate --help": "from planner.cli.main import main; main(['evaluate', '--help'], prog_name='plan')",
}


def _time(code: str, repo: Path, runs: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(repo))
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        # run in the checkout: "-c" puts the working folder first on sys.path
        subprocess.run([sys.executable, "-c", code], env=env, cwd=repo, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--repo", type=Path, default=None, help="another checkout to time the same way")
    args = ap.parse_args()
    repos = [("this checkout", REPO)] + ([("other", args.repo.resolve())] if args.repo else [])
    print(f"{'case':24s} {'checkout':14s} {'best s':>7s} {'median s':>9s} {'x floor':>8s}")
    floor = None
    for label, repo in repos:
        for name, code in CASES.items():
            if name.startswith("import click") and floor is not None:
                continue
            times = _time(code, repo, args.runs)
            best, med = min(times), statistics.median(times)
            if floor is None:
                floor = med
            print(f"{name:24s} {label:14s} {best:7.3f} {med:9.3f} {med / floor:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
