"""Long fuzzing runs of the input readers (issue 11).

The test suite runs every target of ``tests/fuzz_targets.py`` for about a minute (30 s
in the test process with seed 0 and 30 s in a companion process, this script with seed 1;
``tests/test_fuzz.py``, ``PLAN_FUZZ_SECONDS``); this script runs them for minutes each,
with a seed of your choice, and prints what ran::

    python scripts/fuzz.py --minutes 10                 # every target, 10 min each, seed 1
    python scripts/fuzz.py --minutes 3 --seed 7 osm_xml gtfs_zip
    python scripts/fuzz.py --list

Targets: gtfs_fields, gtfs_csv, gtfs_feed, gtfs_zip, osm_xml, osm_pbf, scenario (see the
docstring of ``tests/fuzz_targets.py``). The property is the same as in the tests: every
input loads or raises a ``PlannerError`` naming the input; an input slower than
``--max-example-s`` is a finding too. On a finding, hypothesis shrinks the input and prints
it (with a ``@reproduce_failure`` blob); the script stops that target, goes on with the
others and exits 1. Turn each finding into a file under ``tests/data/fuzz/`` (add it to
``tests/fuzz_fixtures.py`` and the README there) once it is fixed.

Nothing is written to the repository: no hypothesis database, inputs in a temporary folder.
``--json FILE`` writes the statistics (examples, outcomes, slowest input) per target.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from tests.fuzz_targets import TARGETS, run_target

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("targets", nargs="*", help="targets to run (default: all)")
    ap.add_argument("--minutes", type=float, default=10.0, help="minutes per target (default 10)")
    ap.add_argument("--seed", type=int, default=1, help="first seed (default 1; the test suite uses 0)")
    ap.add_argument("--max-example-s", type=float, default=10.0, help="slowest acceptable input in seconds")
    ap.add_argument("--json", type=Path, help="write the statistics here")
    ap.add_argument("--list", action="store_true", help="list the targets and exit")
    args = ap.parse_args(argv)
    if args.list:
        for name in TARGETS:
            print(name)
        return 0
    names = args.targets or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        ap.error(f"unknown target(s): {', '.join(unknown)} (see --list)")
    warnings.simplefilter("error")  # as in the test suite: a warning is a finding
    report, failed = {}, []
    for name in names:
        print(f"== {name}: {args.minutes:g} min, seed {args.seed}", flush=True)
        t = time.monotonic()
        try:
            stats = run_target(TARGETS[name], args.minutes * 60, seed=args.seed, max_example_s=args.max_example_s,
                               verbose=True)
        except BaseException as err:  # a finding: hypothesis printed the shrunk input above
            if isinstance(err, KeyboardInterrupt):
                raise
            failed.append(name)
            traceback.print_exception(err)
            report[name] = {"finding": repr(err)[:2000], "seconds": round(time.monotonic() - t, 1)}
            continue
        print(f"   {stats.summary()}", flush=True)
        report[name] = {"examples": stats.examples, "seconds": round(stats.seconds, 1), "chunks": stats.chunks,
                        "slowest_ms": round(stats.slowest_s * 1000), "outcomes": dict(stats.outcomes.most_common())}
    if args.json:
        args.json.write_text(json.dumps({"seed": args.seed, "minutes": args.minutes, "targets": report}, indent=1))
    if failed:
        print(f"findings in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
