"""Load on the HTTP API, on 127.0.0.1 only, bounded in time: CLIENTS concurrent clients
recording and reading for SECONDS, then the ledger is verified; then the same readers while
a rebuild of the read models runs in another process, against the same readers without it.

    .venv/bin/python benchmarks/load_http.py [--seconds 60] [--clients 8] [--db URL]

It records a demo month, makes a window and a supervision token, starts `caseledger serve`
on a free port, and prints throughput, p50/p99 latency per kind of request, the errors
(any answer other than the one expected), and whether `verify` passes after. Not part of
the test suite: the figures depend on the machine and the hour.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent.parent))

from tests.http_server import DEPARTMENT, Server, running_server

CHINA = dt.timezone(dt.timedelta(hours=8))
ACCEPTED = {"type": "accepted", "item_code": "QZ-SCJG-0101", "case_kind": "promised",
            "rule_pack": "national"}  # fmt: skip
ACTOR = {"person": "L001", "role": "window_a", "department": DEPARTMENT, "window": "W99"}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    def timed(self, kind: str, call: object, expected: tuple[int, ...] = (200,)) -> None:
        started = time.perf_counter()
        try:
            response = call()  # type: ignore[operator]
            ok = response.status_code in expected
            problem = "" if ok else f"{kind}: {response.status_code} {response.text[:200]}"
        except httpx.HTTPError as error:
            problem = f"{kind}: {type(error).__name__} {error}"
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[kind].append(elapsed)
            if problem:
                self.errors.append(problem)

    def report(self, title: str, seconds: float) -> None:
        total = sum(len(v) for v in self.latencies.values())
        print(f"{title}: {total} requests in {seconds:.0f} s = {total / seconds:.0f} requests/s, "
              f"{len(self.errors)} errors")  # fmt: skip
        for kind, values in sorted(self.latencies.items()):
            print(f"  {kind:<12} {len(values):>7}  p50 {_percentile(values, 0.5) * 1000:7.1f} ms"
                  f"  p99 {_percentile(values, 0.99) * 1000:7.1f} ms")  # fmt: skip
        for error in self.errors[:5]:
            print(f"  error: {error}")


def mixed_client(server: Server, number: int, stop: threading.Event, tally: Tally) -> None:
    """Record a new case (received, then accepted) and read: the case, its evaluation, the
    board; the retry of a command too (it must answer 200, already recorded)."""
    writer = server.client("window")
    reader = server.client("supervision")
    serial = 0
    while not stop.is_set():
        serial += 1
        case_no = f"LOAD-{number}-{serial}"
        now = dt.datetime.now(CHINA).replace(microsecond=0) - dt.timedelta(minutes=1)
        received = {"case_no": case_no, "command_id": f"{case_no}-1", "at": now.isoformat(),
                    "actor": ACTOR, "event": {"type": "received", "channel": "window",
                                              "applicant": f"APP-{number}-{serial}"}}  # fmt: skip
        accepted = {"case_no": case_no, "command_id": f"{case_no}-2", "at": now.isoformat(),
                    "actor": ACTOR, "event": ACCEPTED}  # fmt: skip
        tally.timed("record", lambda c=received: writer.post("/api/v1/commands", json=c), (201,))
        tally.timed("record", lambda c=accepted: writer.post("/api/v1/commands", json=c), (201,))
        tally.timed("retry", lambda c=accepted: writer.post("/api/v1/commands", json=c), (200,))
        tally.timed("case", lambda n=case_no: reader.get(f"/api/v1/cases/{n}"))
        tally.timed("evaluation", lambda n=case_no: reader.get(f"/api/v1/cases/{n}/evaluation"))
        tally.timed("board", lambda: reader.get("/api/v1/board", params={"limit": 20}))


def reading_client(
    server: Server, case_nos: list[str], stop: threading.Event, tally: Tally
) -> None:
    reader = server.client("supervision")
    n = 0
    while not stop.is_set():
        n += 1
        path = f"/api/v1/cases/{case_nos[n % len(case_nos)]}"
        tally.timed("case", lambda p=path: reader.get(p))
        tally.timed("packs", lambda: reader.get("/api/v1/packs"))


def run(clients: list[threading.Thread], seconds: float, stop: threading.Event) -> float:
    started = time.perf_counter()
    for client in clients:
        client.start()
    stop.wait(seconds)
    stop.set()
    for client in clients:
        client.join()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--cases", type=int, default=400, help="demo cases recorded first")
    parser.add_argument("--db", default=None, help="ledger URL (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = args.db or f"sqlite:///{folder}/load.db"
        with running_server(db, cases=args.cases, log=Path(folder) / "serve.log") as server:
            print(f"ledger {db}, {args.cases} demo cases; {args.clients} clients, "
                  f"{args.seconds:.0f} s, server {server.base}")  # fmt: skip
            tally, stop = Tally(), threading.Event()
            clients = [threading.Thread(target=mixed_client, args=(server, n, stop, tally))
                       for n in range(args.clients)]  # fmt: skip
            elapsed = run(clients, args.seconds, stop)
            tally.report("recording and reading", elapsed)
            with server.client("auditor") as auditor:
                report = auditor.get("/api/v1/verify", timeout=600).json()
            print(f"verify after: ok={report['ok']}, {report['cases']} cases, "
                  f"{report['events']} events, {len(report['breaks'])} breaks")  # fmt: skip
            with server.client("supervision") as reader:
                board = reader.get("/api/v1/board", params={"limit": 50}).json()
            case_nos = [c["case_no"] for c in board["cases"]] or ["LOAD-0-1"]
            rebuild_phase(server, db, case_nos, args.seconds / 4)
            with server.client("auditor") as auditor:
                final = auditor.get("/api/v1/verify", timeout=600).json()
            print(f"verify at the end: ok={final['ok']}, {final['cases']} cases, "
                  f"{final['events']} events, {len(final['breaks'])} breaks")  # fmt: skip
            if not report["ok"] or not final["ok"] or tally.errors:
                raise SystemExit(1)


def rebuild_until(db: str, stop: threading.Event, said: list[str]) -> None:
    """`caseledger project --rebuild` in another process, again and again until ``stop``."""
    while not stop.is_set():
        done = subprocess.run(
            [sys.executable, "-m", "caseledger", "--db", db, "project", "--rebuild"],
            capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        said.append(f"{done.stderr.strip()} (exit {done.returncode})")


def import_until(server: Server, stop: threading.Event, said: list[str]) -> None:
    """POST /api/v1/batches of a demo month's cases (renumbered, so each import is new),
    again and again until ``stop``: a bulk import through the API."""
    from caseledger.demo import demo_month
    from caseledger.interchange.jsonl import dump_commands

    template = dump_commands(demo_month(300, projects=False)).decode("utf-8")
    with server.client("admin") as admin:
        made = admin.post("/api/v1/tokens", json={"role": "window", "department": DEPARTMENT})
    # a window of one department: only that department's lines of the month
    lines = [line for line in template.splitlines() if f'"department":"{DEPARTMENT}"' in line]
    headers = {"Authorization": f"Bearer {made.json()['secret']}",
               "Content-Type": "application/x-ndjson"}  # fmt: skip
    n = 0
    with httpx.Client(base_url=server.base, headers=headers, timeout=600) as client:
        while not stop.is_set():
            n += 1
            body = "\n".join(lines).replace('"QZ-2026-', f'"BULK{n}-QZ-2026-')
            started = time.perf_counter()
            answer = client.post("/api/v1/batches", content=body.encode("utf-8"))
            took = time.perf_counter() - started
            recorded = answer.json().get("recorded") if answer.status_code == 200 else answer.text
            said.append(f"{answer.status_code}: {recorded} events in {took:.2f} s")


def rebuild_phase(server: Server, db: str, case_nos: list[str], seconds: float) -> None:
    """Readers alone, then the same readers while `caseledger project --rebuild` runs."""
    results = {}
    said: list[str] = []
    for phase in ("readers alone", "readers during a rebuild", "readers during bulk imports"):
        tally, stop = Tally(), threading.Event()
        readers = [threading.Thread(target=reading_client, args=(server, case_nos, stop, tally))
                   for _ in range(4)]  # fmt: skip
        busy = None
        said.clear()
        if phase == "readers during a rebuild":
            busy = threading.Thread(target=rebuild_until, args=(db, stop, said))
        elif phase == "readers during bulk imports":
            busy = threading.Thread(target=import_until, args=(server, stop, said))
        if busy is not None:
            busy.start()
        elapsed = run(readers, seconds, stop)
        if busy is not None:
            busy.join()
            print(f"{len(said)} runs while reading; the last: {said[-1] if said else '-'}")
        tally.report(phase, elapsed)
        results[phase] = tally
    alone = _percentile(results["readers alone"].latencies["case"], 0.99)
    for phase in ("readers during a rebuild", "readers during bulk imports"):
        during = _percentile(results[phase].latencies["case"], 0.99)
        print(f"case reads, p99 {phase.removeprefix('readers ')} / alone: {during / alone:.2f}")
    if any(tally.errors for tally in results.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
