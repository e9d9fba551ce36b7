"""``caseledger tokens`` (on SQLite and PostgreSQL) and ``caseledger serve --demo``."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from caseledger import CaseLedger
from caseledger.cli import app
from tests.http_server import free_port

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_token_is_shown_once_kept_as_its_hash_listed_and_revoked(ledger_url: str) -> None:
    CaseLedger(ledger_url).close()
    code, out, _ = run("--db", ledger_url, "tokens", "new", "--role", "window",
                       "--department", "市市场监督管理局", "--label", "窗口系统")  # fmt: skip
    assert code == 0
    secret = out.splitlines()[-1]
    token_id = out.split()[1]
    assert secret.startswith("clt_") and len(secret) > 40
    with CaseLedger(ledger_url) as ledger:
        from caseledger.http.tokens import TokenStore

        [token] = TokenStore(ledger.store).list()
        rows = ledger.store.recorder.datastore  # type: ignore[attr-defined]
        with rows.transaction(commit=False) as cursor:
            table = "caseledger_tokens"
            if ledger.location.schema:
                table = f'"{ledger.location.schema}".{table}'
            cursor.execute(f"SELECT digest FROM {table}")
            [digest] = [dict(row)["digest"] for row in cursor.fetchall()]
    assert token.token_id == token_id and token.department == "市市场监督管理局"
    assert digest == hashlib.sha256(secret.encode()).hexdigest()
    code, out, _ = run("--db", ledger_url, "tokens", "list")
    assert code == 0 and token_id in out and secret not in out
    code, out, _ = run("--db", ledger_url, "tokens", "revoke", token_id)
    assert code == 0 and "revoked" in out
    with CaseLedger(ledger_url) as ledger:
        assert TokenStore(ledger.store).authenticate(secret) is None


def test_a_token_that_cannot_be_made_or_found_is_a_one_line_reason(sqlite_url: str) -> None:
    CaseLedger(sqlite_url).close()
    code, _, err = run("--db", sqlite_url, "tokens", "new", "--role", "mayor")
    assert code == 1 and "role 'mayor' is not one of window, supervision, auditor, admin" in err
    code, _, err = run("--db", sqlite_url, "tokens", "new", "--role", "window")
    assert code == 1 and "give --department" in err
    code, _, err = run(
        "--db", sqlite_url, "tokens", "new", "--role", "auditor", "--department", "X"
    )
    assert code == 1 and "leave out --department" in err
    code, _, err = run("--db", sqlite_url, "tokens", "revoke", "nope")
    assert code == 1 and "tokens list" in err


def test_serve_demo_shows_the_demo_ledger_for_local_use(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "caseledger", "serve", "--demo", "--no-auth-for-local-use",
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                board = httpx.get(f"http://127.0.0.1:{port}/api/v1/board", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        page = httpx.get(f"http://127.0.0.1:{port}/board", timeout=30)
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert board.status_code == 200 and board.json()["as_of"] == "2026-11-20"
    assert board.json()["red"] > 0
    assert page.status_code == 200 and "监察看板" in page.text
    assert list(tmp_path.iterdir()) == []  # the demo ledger was a temporary one


def test_a_server_without_tokens_is_refused_on_any_address_but_the_loopback() -> None:
    code, _, err = run("serve", "--no-auth-for-local-use", "--host", "0.0.0.0")
    assert code == 1 and "only on this machine's loopback" in err
