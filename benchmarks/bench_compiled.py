"""What the compiled evaluation core gives the rebuild (run on demand, not by ``make``).

The modules a wheel carries compiled (``hatch_build.compiled_modules``: every module of
``src/caseledger/judging/``) are compiled with mypyc, as the wheel build does, into a
temporary copy of ``src/``. Then the same rebuild of the read models, over the same
SQLite ledger of M sample cases, is timed alternately with the pure and the compiled
modules, each in a fresh process (the median of three rebuilds after one to warm up), and
the medians over the rounds and their ratio are printed. Both must
write identical rows: the script checks it.

    .venv/bin/python benchmarks/bench_compiled.py [--cases 20000] [--rounds 3]

Needs a C compiler. Numbers are measured in one run on this machine; compare the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from caseledger import CaseLedger
from caseledger.demo import demo_commands

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from hatch_build import compile_core  # noqa: E402 - the build hook's own compiling

TIMED = """
import hashlib, statistics, sys, time
from caseledger import CaseLedger
import caseledger.judging.clock as clock
with CaseLedger(f"sqlite:///{sys.argv[1]}") as ledger:
    projection = ledger.read_models
    projection.rebuild(workers=int(sys.argv[2]))  # warm the calendar and pack memos
    times = []
    for _ in range(3):
        started = time.perf_counter()
        count = projection.rebuild(workers=int(sys.argv[2]))
        times.append(time.perf_counter() - started)
    rows = repr((projection.rows(), projection.sanction_rows())).encode()
    print(count, statistics.median(times), hashlib.sha256(rows).hexdigest(),
          clock.__file__.endswith(".py"))
"""


def compiled_copy(into: Path) -> Path:
    """A copy of ``src/`` with the judging modules compiled next to their sources, as the
    wheel build makes them."""
    source, built, said = compile_core(ROOT, into)
    if not built:
        sys.exit(f"mypyc failed:\n{said}")
    return source


def timed(path: Path, src: Path, workers: int) -> tuple[int, float, str, bool]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, "-c", TIMED, str(path), str(workers)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), float(out[1]), out[2], out[3] == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rebuild.db"
        clock_now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
        with CaseLedger(f"sqlite:///{path}", clock=lambda: clock_now) as ledger:
            commands = demo_commands(args.cases)
            for start in range(0, len(commands), 50_000):
                ledger.record_batch(commands[start : start + 50_000])
        compiled = compiled_copy(Path(folder))
        variants = {"pure Python": ROOT / "src", "compiled core": compiled}
        for workers in (2, 1):
            times: dict[str, list[float]] = {name: [] for name in variants}
            digests: set[str] = set()
            count = 0
            for _ in range(args.rounds):  # alternately, so both see the same machine
                for name, src in variants.items():
                    count, seconds, digest, pure = timed(path, src, workers)
                    assert pure == (name == "pure Python"), f"{name}: wrong modules loaded"
                    times[name].append(seconds)
                    digests.add(digest)
            assert len(digests) == 1, "the compiled core wrote other rows"
            medians = {name: statistics.median(t) for name, t in times.items()}
            print(f"rebuild of {count:,} events, {workers} process(es), medians of "
                  f"{args.rounds} rounds:")  # fmt: skip
            for name, seconds in medians.items():
                print(f"  {name}: {seconds:.2f} s ({count / seconds:,.0f} events/s)")
            ratio = medians["pure Python"] / medians["compiled core"]
            print(f"  compiled / pure: {ratio:.2f}x the speed; identical rows")


if __name__ == "__main__":
    main()
