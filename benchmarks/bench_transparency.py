"""Recording speed with the Merkle tree kept, against without it, measured in one run.

Two ledgers (fresh SQLite files) are open side by side: one with ``keep_tree=True`` (the
default: the tree is extended after every 1,000 events recorded and on closing), one with
``keep_tree=False``. The same demo commands are recorded into both, chunk by chunk (100
commands), the order of the two swapping every chunk, so that both see the same load of the
machine; each ledger's time is the sum of its chunks and of its closing. Done one command
at a time (``record``, a service centre's path) and in batches of 500 (``record_batch``, an
import), for ``--rounds`` rounds; printed: events/s of each, the ratio with / without of
every round and their median (target: at least 0.9), and the cost of the tree alone (its
extension over the whole log at once, timed on the other ledger) per event, against the
cost of recording an event. Then the kept tree is checked: a checkpoint of it has the size
and root of the tree made at once from the other ledger's log.

    .venv/bin/python benchmarks/bench_transparency.py [--cases 600] [--rounds 3]

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
from caseledger.audit.log import TreeLog
from caseledger.demo import demo_commands

NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def one_by_one(ledger: CaseLedger, commands: list[Any]) -> None:
    for command in commands:
        ledger.record(command)


def in_batches(ledger: CaseLedger, commands: list[Any]) -> None:
    ledger.record_batch(commands)


def paired(
    folder: Path, commands: list[Any], how: Callable[..., None], chunk: int
) -> dict[bool, float]:
    """Seconds of the kept and the plain ledger, chunk by chunk alternately, closing too."""
    ledgers = {
        keep: CaseLedger(f"sqlite:///{folder}/{keep}.db", clock=lambda: NOW, keep_tree=keep)
        for keep in (True, False)
    }
    spent = {True: 0.0, False: 0.0}
    for number, start in enumerate(range(0, len(commands), chunk)):
        for keep in (True, False) if number % 2 == 0 else (False, True):
            started = time.perf_counter()
            how(ledgers[keep], commands[start : start + chunk])
            spent[keep] += time.perf_counter() - started
    for keep, ledger in ledgers.items():
        started = time.perf_counter()
        ledger.close()
        spent[keep] += time.perf_counter() - started
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    commands = demo_commands(args.cases)
    n = len(commands)
    print(f"{n} events of {args.cases} demo cases, {args.rounds} rounds, SQLite files")
    for label, how, chunk in (
        ("record, one at a time", one_by_one, 100),
        ("record_batch of 500", in_batches, 500),
    ):
        ratios, kept, plain, extending = [], [], [], []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as folder:
                spent = paired(Path(folder), commands, how, chunk)
                with CaseLedger(f"sqlite:///{folder}/True.db") as ledger:
                    signed = ledger.checkpoint(new_signer("bench"))
                with CaseLedger(f"sqlite:///{folder}/False.db") as ledger:
                    started = time.perf_counter()
                    TreeLog(ledger.store).extend()  # the whole tree at once, as a checkpoint does
                    extending.append(time.perf_counter() - started)
                    other = ledger.checkpoint(new_signer("bench"))
                assert (signed.size, signed.root) == (other.size, other.root) and signed.size == n
            kept.append(spent[True])
            plain.append(spent[False])
            ratios.append(spent[False] / spent[True])
        print(
            f"{label}: with the tree {n / statistics.median(kept):,.0f} events/s, without "
            f"{n / statistics.median(plain):,.0f} events/s; ratio with/without "
            f"{statistics.median(ratios):.3f} (rounds: {', '.join(f'{r:.3f}' for r in ratios)}); "
            f"the tree alone: {statistics.median(extending) / n * 1e6:.1f} µs an event, against "
            f"{statistics.median(plain) / n * 1e6:.1f} µs an event recorded without it"
        )
    print("the kept trees have every event, and the roots of trees made at once")


if __name__ == "__main__":
    main()
