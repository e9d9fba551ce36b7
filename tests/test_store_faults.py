"""A PostgreSQL server that stops answering, or goes away, under an open ledger: every method
gives the library's StoreError in bounded time (never eventsourcing's errors after a minute
of retries, never a hang), nothing partial is recorded, and the ledger works again once the
server is back. The faults are made by a proxy on 127.0.0.1 (tests/proxy.py), not by
touching the server other tests share; each call runs under a bound on its time, so a hang
fails the test instead of stalling the suite (a bound of liveness, not a speed target)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from caseledger import CaseLedger, StoreError
from caseledger.demo import demo_commands
from tests.conftest import fixed_clock
from tests.helpers import snapshot
from tests.proxy import Proxy

pytestmark = pytest.mark.postgres

BOUND = 30.0
"""Seconds any one call may take before the test says it hung."""


def _outcome(call: Callable[[], Any]) -> BaseException | None:
    """What ``call`` raised (None if it returned), or fail if it did not end in BOUND s."""
    found: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            found.append(None)
        except BaseException as error:  # the test looks at what it was
            found.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(BOUND)
    assert not thread.is_alive(), f"the call did not end within {BOUND} s"
    return found[0]


@pytest.fixture
def proxied(postgres_url: str) -> Iterator[tuple[Proxy, str]]:
    with CaseLedger(postgres_url, clock=fixed_clock):
        pass  # the schema and tables, made straight
    with Proxy() as proxy:
        bounds = "&statement_timeout=1&lock_timeout=1&answer_timeout=1.5&connect_timeout=1"
        yield proxy, proxy.url(postgres_url) + bounds


def _calls(ledger: CaseLedger) -> dict[str, Callable[[], Any]]:
    more = demo_commands(2)[:3]
    return {
        "record": lambda: ledger.record(more[0]),
        "record_batch": lambda: ledger.record_batch(more),
        "case": lambda: ledger.case("QZ-2026-000001"),
        "case_numbers": ledger.case_numbers,
        "verify": ledger.verify,
        "seal": ledger.seal,
        "catch_up": ledger.catch_up,
        "board": lambda: ledger.board(dt.date(2026, 11, 23)),
    }


def _all_fail(ledger: CaseLedger, names: list[str]) -> None:
    calls = _calls(ledger)
    for name in names:
        error = _outcome(calls[name])
        assert isinstance(error, StoreError), f"{name}: {error!r}"
        assert "did not answer" in str(error) or "failed" in str(error)


def test_a_server_that_goes_away_gives_store_error_from_every_method(
    proxied: tuple[Proxy, str], postgres_url: str
) -> None:
    proxy, url = proxied
    with CaseLedger(url, clock=fixed_clock) as ledger:
        ledger.record_batch(demo_commands(1))
        ledger.catch_up()
        proxy.cut()
        _all_fail(ledger, list(_calls(ledger)))
        proxy.restore()
        assert _outcome(ledger.case_numbers) is None  # usable again once the server is back
        assert _outcome(lambda: ledger.record_batch(demo_commands(2))) is None
    with CaseLedger(postgres_url, clock=fixed_clock) as straight:
        assert len(straight.case_numbers()) == 2


def test_a_server_back_after_a_long_outage_is_used_again_at_once(
    proxied: tuple[Proxy, str],
) -> None:
    """psycopg's pool doubles its wait between reconnection attempts (1, 2, 4, 8 s...): a
    server back 8 s after it went away was reached again only at 15 s, so every call in
    between failed. The ledger's pool waits at most RECONNECT_EVERY between attempts, so
    the first call after the server is back gets a connection within the pool's timeout
    (the URL's connect_timeout, 1 s here)."""
    from caseledger.store.postgres import RECONNECT_EVERY

    proxy, url = proxied
    with CaseLedger(url, clock=fixed_clock) as ledger:
        ledger.record_batch(demo_commands(1))
        proxy.cut()
        assert isinstance(_outcome(ledger.case_numbers), StoreError)  # the pool notices
        time.sleep(8.0)  # long enough for psycopg's backoff to wait 8 s before its next try
        proxy.restore()
        time.sleep(RECONNECT_EVERY)
        assert _outcome(ledger.case_numbers) is None
        assert _outcome(lambda: ledger.record_batch(demo_commands(2))) is None


def test_a_server_that_stops_answering_gives_store_error_and_records_nothing(
    proxied: tuple[Proxy, str], postgres_url: str
) -> None:
    proxy, url = proxied
    with CaseLedger(url, clock=fixed_clock) as ledger:
        ledger.record_batch(demo_commands(1))
        proxy.freeze()
        _all_fail(ledger, ["record_batch", "case_numbers", "verify"])
        proxy.restore()
    with CaseLedger(postgres_url, clock=fixed_clock) as straight:
        assert {n[0] for n in snapshot(straight)} == {"QZ-2026-000001"}


def test_connection_options_of_the_url_reach_the_server(postgres_url: str) -> None:
    url = f"{postgres_url}&application_name=caseledger-test&statement_timeout=7&sslmode=disable"
    with CaseLedger(url, clock=fixed_clock) as ledger:
        datastore: Any = ledger.store.recorder.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT current_setting('application_name') AS a, "
                           "current_setting('statement_timeout') AS s, "
                           "current_setting('lock_timeout') AS l")  # fmt: skip
            assert cursor.fetchone() == {"a": "caseledger-test", "s": "7s", "l": "10s"}
    # this server has no TLS: a URL requiring it is refused by libpq, as a StoreError
    with pytest.raises(StoreError, match="SSL"):
        CaseLedger(f"{postgres_url}&sslmode=require", clock=fixed_clock)


@pytest.mark.parametrize(
    ("option", "named"),
    [("colour=red", "colour"), ("sslmode=maybe", "sslmode"),
     ("statement_timeout=-1", "statement_timeout"), ("connect_timeout=soon", "connect_timeout"),
     ("lock_timeout=nan", "lock_timeout"),
     ("application_name=", "application_name")],
)  # fmt: skip
def test_an_unknown_or_malformed_option_is_refused_naming_it(option: str, named: str) -> None:
    from caseledger import LedgerURLError

    with pytest.raises(LedgerURLError, match=named):
        CaseLedger(f"postgresql://postgres@127.0.0.1:1/test?{option}")


@pytest.mark.postgres
def test_a_postgresql_ledger_session_runs_its_bounds_and_no_jit(postgres_url: str) -> None:
    """The URL's time bounds reach every session of the ledger, and JIT is off (a read of a
    case compiled by JIT on an unanalyzed table took 28 ms for 0.04 ms of reading)."""
    ledger = CaseLedger(f"{postgres_url}&statement_timeout=7&lock_timeout=3")
    with ledger, ledger.store.plain_cursor("reading the settings") as cursor:
        cursor.execute(
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
            "current_setting('jit')"
        )
        assert cursor.fetchone() == ("7s", "3s", "off")
