"""Direct SQL on a ledger's database, as an attacker (or a careless admin) would do it."""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _table(url: str) -> str:
    return "stored_events" if url.startswith("sqlite") else "caseledger_events"


def execute(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run ``sql`` (with ``?`` placeholders) on the ledger at ``url``."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute(sql, params).fetchall()
        conn.close()
        return rows
    import psycopg

    parts = urlsplit(url)
    schema = parse_qs(parts.query)["schema"][0]
    base = url.split("?")[0]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        cursor = conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def state_of(url: str, case_no: str, version: int) -> bytes:
    rows = execute(
        url,
        f"SELECT state FROM {_table(url)} WHERE originator_id = ? AND originator_version = ?",
        (case_no, version),
    )
    return bytes(rows[0][0])


def set_state(url: str, case_no: str, version: int, state: bytes) -> None:
    execute(
        url,
        f"UPDATE {_table(url)} SET state = ? WHERE originator_id = ? AND originator_version = ?",
        (state, case_no, version),
    )


def delete(url: str, case_no: str, version: int) -> None:
    execute(
        url,
        f"DELETE FROM {_table(url)} WHERE originator_id = ? AND originator_version = ?",
        (case_no, version),
    )
