"""A ledger's identity: a random id kept in the ledger's database, which a seal records.

Two ledgers can hold cases of the same numbers (every city's demo starts at 000001), so a
seal of one verified against the other would look like a ledger whose events were removed or
rewritten. The id tells the two apart: a seal verified against a ledger of another id is the
wrong pair (:class:`~caseledger.errors.SealOfAnotherLedger`), not tampering.

The id is made when the ledger is first sealed (a ledger that was never sealed needs none,
and reading commands never write), in a one-row table beside the events:
``caseledger_identity``. A copy of the database (a backup) is the same ledger and keeps the
id; a ledger rebuilt by recording an export into a new database is another ledger, with an
id of its own. The id is not a secret and proves nothing by itself: what a seal proves rests
on its root hash and on the hash chains.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import PersistenceError
from eventsourcing.sqlite import SQLiteFactory

from caseledger.errors import StoreError

if TYPE_CHECKING:
    from caseledger.store.event_store import CaseStore

__all__ = ["IDENTITY_TABLE", "ledger_identity"]

IDENTITY_TABLE = "caseledger_identity"
"""The table holding the ledger's id: one row, made when the ledger is first sealed."""


def _table(store: CaseStore) -> tuple[str, str, str]:
    """The table's qualified name, the statement that says whether it exists, and the
    backend's placeholder."""
    if isinstance(store.factory, SQLiteFactory):
        exists = (
            f"SELECT name FROM sqlite_master WHERE type = 'table' AND name = '{IDENTITY_TABLE}'"
        )
        return IDENTITY_TABLE, exists, "?"
    datastore: Any = store.recorder.datastore  # type: ignore[attr-defined]
    schema = str(datastore.schema or "public").replace('"', "")
    exists = f"SELECT to_regclass('\"{schema}\".{IDENTITY_TABLE}') AS name"
    return f'"{schema}".{IDENTITY_TABLE}', exists, "%s"


def _first(row: Any) -> Any:
    """The first column of a row, whatever the backend's row type (mapping or tuple)."""
    if row is None:
        return None
    try:
        return row[0]
    except (KeyError, TypeError):
        return next(iter(row.values()))


def ledger_identity(store: CaseStore, *, create: bool = False) -> str | None:
    """The ledger's id; None if it has none yet, unless ``create``, when one is made (once:
    concurrent first seals agree on the same id)."""
    table, exists, q = _table(store)
    datastore: Any = store.recorder.datastore  # type: ignore[attr-defined]
    try:
        with datastore.transaction(commit=create) as cursor:
            cursor.execute(exists)
            if _first(cursor.fetchone()) is None:
                if not create:
                    return None
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} (singleton INTEGER PRIMARY KEY "
                    "CHECK (singleton = 1), ledger_id TEXT NOT NULL)"
                )
            if create:
                cursor.execute(
                    f"INSERT INTO {table} (singleton, ledger_id) VALUES (1, {q}) "
                    "ON CONFLICT (singleton) DO NOTHING",
                    (str(uuid.uuid4()),),
                )
            cursor.execute(f"SELECT ledger_id FROM {table} WHERE singleton = 1")
            found = _first(cursor.fetchone())
    except PersistenceError as error:
        raise StoreError(f"reading the ledger's identity failed: {error}") from error
    return None if found is None else str(found)
