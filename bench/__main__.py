"""`python -m bench` (`make bench BENCH_ARGS="..."`): Entra-scale provisioning measured against
the machine's floor. Prints one figure per line as `name: value unit` and writes bench/RESULTS.md."""
from __future__ import annotations

import argparse
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path

from bench import BenchError, report
from bench.scenario import Options, run
from bench.server import ROOT

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def parse(argv: list[str]) -> tuple[Options, Path]:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--users", type=int, default=defaults.users, help="N, the users of the initial sync")
    parser.add_argument("--groups", type=int, default=defaults.groups)
    parser.add_argument("--log-rows", type=int, default=defaults.log_rows,
                        help="provisioning log rows added before the admin pages are measured")
    parser.add_argument("--samples", type=int, default=defaults.samples,
                        help="requests per floor insert run, and lookups at N users")
    parser.add_argument("--repeat", type=int, default=defaults.repeat, help="tries of each sequential probe")
    parser.add_argument("--postgres", nargs="?", const=DEFAULT_POSTGRES, metavar="URL",
                        help=f"run the app on a new database of this PostgreSQL server (default {DEFAULT_POSTGRES})")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--out", type=Path, default=defaults.out, help="where the servers' logs go")
    parser.add_argument("--max-minutes", type=float, default=defaults.max_minutes,
                        help="give up when the run takes longer")
    args = parser.parse_args(argv)
    options = Options(users=args.users, groups=args.groups, log_rows=args.log_rows, samples=args.samples,
                      repeat=args.repeat, postgres_url=args.postgres, out=args.out, max_minutes=args.max_minutes)
    return options, args.results


def main(argv: list[str]) -> int:
    options, results = parse(argv)
    # A plain `kill` unwinds like Ctrl-C, so the servers and the database are cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.now(timezone.utc)
    machine = report.machine()
    try:
        outcome = run(options)
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    report.write(results, outcome, machine, " ".join(["python -m bench", *argv]), started)
    print(f"results written to {results}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
