"""The real HTTP server for the tests: ``caseledger serve`` in its own process on 127.0.0.1,
on a free port, over a ledger holding a small demo month, with one token of each role."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from caseledger import CaseLedger
from caseledger.demo import demo_month
from caseledger.http.tokens import TokenStore

POSTGRES_URL = os.environ.get(
    "CASELEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
DEPARTMENT = "市市场监督管理局"
"""The department of the window token (Quanzhou's market regulator, in the demo)."""


@dataclass(frozen=True)
class Server:
    base: str
    db: str
    tokens: dict[str, str]
    """A secret of each role (window: of :data:`DEPARTMENT`)."""
    log: Path | None = None
    """The server's output (its log), if kept."""

    def client(self, role: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def running_server(
    db: str, *extra: str, cases: int = 20, log: Path | None = None
) -> Iterator[Server]:
    """Record a demo month of ``cases`` into ``db``, make the tokens, start the server, and
    stop it afterwards."""
    with CaseLedger(db) as ledger:
        ledger.record_batch(demo_month(cases), source="demo")
        store = TokenStore(ledger.store)
        tokens = {
            role: store.create(role, department=DEPARTMENT if role == "window" else None)[1]
            for role in ("window", "supervision", "auditor", "admin")
        }
    port = free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "caseledger", "--db", db, "serve", "--port", str(port), *extra],
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/api/v1/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    code = process.poll()
                    raise RuntimeError(f"caseledger serve did not start (exit {code})") from None
                time.sleep(0.2)
        yield Server(base, db, tokens, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log:
            out.close()  # type: ignore[union-attr]


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL to a fresh PostgreSQL schema, dropped afterwards; a test fails (not skips)
    without the server when CASELEDGER_REQUIRE_POSTGRES=1."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            pass
    except Exception as error:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}"
        if os.environ.get("CASELEDGER_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    schema = f"http_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
