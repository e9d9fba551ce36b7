"""What-if against rebuild, in one run (issue 12; run on demand, not by the tests).

The ledger of ``bench_read_models.py``'s rebuild (M demo cases of Quanzhou, default 20,000,
about 95,000 events, SQLite file) is recorded once; then, alternately for ``--rounds``
rounds, the read models are rebuilt and every case is re-judged by a what-if under a
version of the Quanzhou pack that cuts the decision limit to 5 working days (a copy of the
installed pack's data with one override, as a pack author's folder would be). Both read the
event log in blocks of cases with a process per core; a rebuild judges each case once on
its whole history, a what-if twice at one moment (as recorded and as proposed) and compares.
The medians and events per second of each, and the ratio, are printed. Compare the ratio,
not the figures of different runs::

    .venv/bin/python benchmarks/bench_whatif.py [--cases 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from caseledger import CaseLedger, PackRegistry
from caseledger.demo import demo_commands
from caseledger.readmodels.parallel import worker_count

AS_OF = dt.datetime(2026, 11, 23, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=8)))
CUT = (
    "\n[[limits.decision]]\nfrom = 2026-01-01\noverride = true\nworking_days = 5\n"
    'label = "许可决定期限"\nreference = "benchmark: the decision limit cut to 5 working days"\n'
)
"""The override a pack author would add: the decision limit (national: 20) cut to 5."""


def proposal(folder: Path, ledger: CaseLedger) -> Path:
    """A folder holding the installed Quanzhou pack's data, version 2099.1, with the cut."""
    installed = Path(ledger.packs.source("quanzhou").path).read_text(encoding="utf-8")
    text = installed.replace('version = "2026.1"', 'version = "2099.1"', 1) + CUT
    target = folder / "quanzhou"
    target.mkdir()
    (target / "pack.toml").write_text(text, encoding="utf-8")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    clock_now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rebuild.db"
        with CaseLedger(f"sqlite:///{path}", clock=lambda: clock_now) as ledger:
            commands = demo_commands(args.cases)
            for start in range(0, len(commands), 50_000):
                ledger.record_batch(commands[start : start + 50_000])
            events = len(commands)
            cut = PackRegistry.for_folder(proposal(Path(folder), ledger)).get("quanzhou")
            ledger.read_models.rebuild()  # warms the calendar and pack memos
            ledger.what_if(cut, as_of=AS_OF)
            rebuilds: list[float] = []
            what_ifs: list[float] = []
            for _ in range(args.rounds):
                started = time.perf_counter()
                applied = ledger.read_models.rebuild()
                rebuilds.append(time.perf_counter() - started)
                started = time.perf_counter()
                report = ledger.what_if(cut, as_of=AS_OF)
                what_ifs.append(time.perf_counter() - started)
            assert applied == events and report.judged > 0
    rebuild, what_if = statistics.median(rebuilds), statistics.median(what_ifs)
    print(f"{args.cases:,} cases, {events:,} events, {worker_count(args.cases)} process(es), "
          f"medians of {args.rounds} alternating rounds:")  # fmt: skip
    print(f"  rebuild of the read models: {rebuild:.2f} s ({events / rebuild:,.0f} events/s)")
    print(f"  what-if under quanzhou 2099.1: {what_if:.2f} s ({events / what_if:,.0f} events/s "
          f"read); {report.judged:,} cases judged twice (the others were never accepted: "
          f"judged under national, which the what-if leaves as it is), "
          f"{len(report.changes):,} change, {len(report.turned_red):,} turn red")  # fmt: skip
    print(f"ratio what-if / rebuild speed per event: {rebuild / what_if:.2f}")


if __name__ == "__main__":
    main()
