"""Recording speed with the Merkle tree kept after every write, against without it, in one run.

Each round records the same demo commands into two fresh SQLite files, once with
``CaseLedger(keep_tree=True)`` (the default: the tree is extended after each write) and once
with ``keep_tree=False``, in alternating order; one command at a time (``record``, the
service centre's path, where the tree's transaction per write weighs most) and in batches
of 500 (``record_batch``, an import). It prints events/s of each, and the ratio with / without
(target: at least 0.9), the median over the rounds. Then it checks that the tree of the kept
ledger has every event, and that a checkpoint of the other (its tree made then, in one go)
has the same size and root.

    .venv/bin/python benchmarks/bench_transparency.py [--cases 600] [--rounds 5]

Not part of the test suite: the figures depend on the machine and the hour.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from caseledger import CaseLedger, new_signer
from caseledger.demo import demo_commands

NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def one_by_one(ledger: CaseLedger, commands: list[Any]) -> None:
    for command in commands:
        ledger.record(command)


def in_batches(ledger: CaseLedger, commands: list[Any]) -> None:
    for start in range(0, len(commands), 500):
        ledger.record_batch(commands[start : start + 500])


def timed(
    folder: Path, name: str, keep: bool, commands: list[Any], how: Callable[..., None]
) -> float:
    """Seconds to open the ledger, record every command and close it (closing extends the
    tree over what is left)."""
    started = time.perf_counter()
    with CaseLedger(f"sqlite:///{folder}/{name}.db", clock=lambda: NOW, keep_tree=keep) as ledger:
        how(ledger, commands)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    commands = demo_commands(args.cases)
    print(f"{len(commands)} events of {args.cases} demo cases, {args.rounds} rounds, SQLite file")
    for label, how in (("record (one at a time)", one_by_one), ("record_batch (500)", in_batches)):
        ratios, kept_times, plain_times = [], [], []
        with tempfile.TemporaryDirectory() as folder:
            for round_ in range(args.rounds):
                order = (True, False) if round_ % 2 == 0 else (False, True)
                times = {}
                for keep in order:
                    times[keep] = timed(
                        Path(folder), f"{label[:6]}{round_}{keep}", keep, commands, how
                    )
                kept_times.append(times[True])
                plain_times.append(times[False])
                ratios.append(times[False] / times[True])
            with CaseLedger(f"sqlite:///{folder}/{label[:6]}0True.db") as kept:
                checkpoint = kept.checkpoint(new_signer("bench"))
            with CaseLedger(f"sqlite:///{folder}/{label[:6]}0False.db") as plain:
                other = plain.checkpoint(new_signer("bench"))
        same = (checkpoint.size, checkpoint.root) == (other.size, other.root)
        n = len(commands)
        print(
            f"{label}: with the tree {n / statistics.median(kept_times):,.0f} events/s, "
            f"without {n / statistics.median(plain_times):,.0f} events/s, ratio with/without "
            f"{statistics.median(ratios):.3f} (rounds: {', '.join(f'{r:.3f}' for r in ratios)}); "
            f"tree of {checkpoint.size} events, same root as one made at once: {same}"
        )


if __name__ == "__main__":
    main()
