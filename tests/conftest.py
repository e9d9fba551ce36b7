"""Shared fixtures: every behavioural test runs against SQLite and the real PostgreSQL.

PostgreSQL tests use a fresh schema each, dropped afterwards. Where the server is down
they are skipped, except under ``make test`` and CI (``CASELEDGER_REQUIRE_POSTGRES=1``),
where they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, settings

from caseledger import CaseLedger

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

POSTGRES_URL = os.environ.get(
    "CASELEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def fixed_clock() -> dt.datetime:
    return NOW


def _postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except Exception as error:  # any failure means: not available
        return str(error)


_PG_PROBLEM = _postgres_available()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh schema of the real PostgreSQL server, dropped afterwards."""
    if _PG_PROBLEM is not None:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {_PG_PROBLEM}"
        if os.environ.get("CASELEDGER_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    yield f"{POSTGRES_URL}?schema={schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/ledger.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest) -> str:
    """The same test against an SQLite file and against the real PostgreSQL server."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def open_ledger(ledger_url: str) -> Iterator[Callable[[], CaseLedger]]:
    """Opens ledgers on the test's database (several may share it); closes them after."""
    opened: list[CaseLedger] = []

    def open_one() -> CaseLedger:
        ledger = CaseLedger(ledger_url, clock=fixed_clock)
        opened.append(ledger)
        return ledger

    yield open_one
    for ledger in opened:
        ledger.close()


@pytest.fixture
def ledger(open_ledger: Callable[[], CaseLedger]) -> CaseLedger:
    return open_ledger()
