"""Rebuild speed of two commits in one run: a base commit against the current sources.

The base (``--base REV``, default ``HEAD~1``) is checked out with ``git worktree`` into a
temporary folder. The rebuild ``bench_read_models.py`` measures (the read models of M demo
cases, about 4.7 events a case, from an SQLite file) then runs with the base's sources and
with the current ones (this checkout, uncommitted edits included), each in a fresh process of
this same interpreter with ``PYTHONPATH=<tree>/src:<tree>/rulepacks/*``, so both are pure
Python from source and only the code differs. The two alternate, N rounds (default 3; the
order swaps each round), and each process times three rebuilds after one that warms the
calendar and pack memos. The medians, in events per second, and the ratio current / base are
printed (of the medians, and the median of each round's ratio), and whether both wrote the
same rows.

    .venv/bin/python benchmarks/bench_compare.py [--base 6208824] [--cases 20000] [--rounds 3]

Only ``CaseLedger``, ``demo.demo_commands`` and ``read_models.rebuild`` are used, which every
layout has (``projections/`` before the move, ``readmodels/`` after), so a base of either
layout works. Numbers are measured in one run on this machine; compare the ratio. Not part
of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RECORD = """
import datetime as dt, sys
from caseledger import CaseLedger
from caseledger.demo import demo_commands
clock_now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
with CaseLedger(f"sqlite:///{sys.argv[1]}", clock=lambda: clock_now) as ledger:
    commands = demo_commands(int(sys.argv[2]))
    for start in range(0, len(commands), 50_000):
        ledger.record_batch(commands[start : start + 50_000])
print(len(commands))
"""
"""Records the demo ledger (with the base's sources: the current ones must read it)."""

TIMED = """
import hashlib, statistics, sys, time
import caseledger
from caseledger import CaseLedger
with CaseLedger(f"sqlite:///{sys.argv[1]}") as ledger:
    projection = ledger.read_models
    workers = None if sys.argv[2] == "auto" else int(sys.argv[2])
    projection.rebuild(workers=workers)  # warms the calendar and pack memos
    times = []
    for _ in range(3):
        started = time.perf_counter()
        count = projection.rebuild(workers=workers)
        times.append(time.perf_counter() - started)
    rows = repr((projection.rows(), projection.sanction_rows())).encode()
    print(count, statistics.median(times), hashlib.sha256(rows).hexdigest(), caseledger.__file__)
"""
"""One process's measure: events, median seconds of three rebuilds, a digest of the rows, and
where caseledger was imported from (to check the tree)."""


def python_path(tree: Path) -> str:
    """``<tree>/src`` and the folder of every pack shipped in ``<tree>/rulepacks``."""
    packs = sorted(
        folder
        for folder in (tree / "rulepacks").iterdir()
        if folder.is_dir() and any(folder.glob("caseledger_pack_*/__init__.py"))
    )
    return os.pathsep.join(str(p) for p in [tree / "src", *packs])


def run(tree: Path, code: str, *arguments: str) -> list[str]:
    """Run ``code`` in a fresh process with the sources of ``tree``; its output's words."""
    environment = {**os.environ, "PYTHONPATH": python_path(tree)}
    done = subprocess.run(
        [sys.executable, "-c", code, *arguments],
        env=environment,
        capture_output=True,
        text=True,
        cwd=tree,
    )
    if done.returncode:
        sys.exit(f"the run with the sources of {tree} failed:\n{done.stderr[-3000:]}")
    return done.stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="the commit to compare with")
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--workers", default="auto", help="processes per rebuild ('auto': one per core)"
    )
    args = parser.parse_args()
    base_commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{args.base}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if base_commit.returncode:
        sys.exit(f"--base {args.base}: not a commit of this repository")
    commit = base_commit.stdout.strip()
    with tempfile.TemporaryDirectory(prefix="caseledger-compare-") as folder:
        base = Path(folder) / "base"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(base), commit],
            check=True,
        )
        try:
            trees = {"base": base, "current": ROOT}
            path = Path(folder) / "rebuild.db"
            [recorded] = run(base, RECORD, str(path), str(args.cases))
            print(f"base {args.base} ({commit[:10]}); {args.cases:,} demo cases, "
                  f"{int(recorded):,} events recorded with the base's sources")  # fmt: skip
            seconds: dict[str, list[float]] = {name: [] for name in trees}
            digests: dict[str, set[str]] = {name: set() for name in trees}
            count = 0
            for round_ in range(args.rounds):  # alternately, so both see the same machine
                order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
                for name in order:
                    words = run(trees[name], TIMED, str(path), args.workers)
                    if not Path(words[3]).resolve().is_relative_to(trees[name].resolve()):
                        sys.exit(f"{name}: caseledger was imported from {words[3]}")
                    count = int(words[0])
                    seconds[name].append(float(words[1]))
                    digests[name].add(words[2])
                    print(f"  round {round_ + 1}, {name}: {count / float(words[1]):,.0f} events/s")
            medians = {name: statistics.median(times) for name, times in seconds.items()}
            print(f"rebuild of {count:,} events ({args.workers} workers), medians of "
                  f"{args.rounds} rounds:")  # fmt: skip
            for name, median in medians.items():
                print(f"  {name}: {median:.2f} s ({count / median:,.0f} events/s)")
            ratio = medians["base"] / medians["current"]
            # each round's two runs are next to each other in time: their ratio varies less
            # with the machine's load than the medians do
            rounds = [b / c for b, c in zip(seconds["base"], seconds["current"], strict=True)]
            same = len(digests["base"] | digests["current"]) == 1
            print(f"  current / base: {ratio:.3f}x the speed (the ratio of the medians); "
                  f"{statistics.median(rounds):.3f}x (the median of the rounds' ratios, from "
                  f"{min(rounds):.3f} to {max(rounds):.3f}); "
                  f"{'identical rows' if same else 'the rows differ'}")  # fmt: skip
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False
            )


if __name__ == "__main__":
    main()
