"""Bearer tokens of the HTTP API, kept in the ledger's own database (SQLite or PostgreSQL).

A token is a random secret shown once, when it is made; the table keeps only its SHA-256
digest, its role, its department (for a window) and when it was made and revoked::

    store = TokenStore(ledger.store)
    token, secret = store.create("window", department="市市场监督管理局")
    store.authenticate(secret)   # -> Token, or None for a revoked or unknown secret

Roles: ``window`` records commands for its own department; ``supervision`` reads
everything; ``auditor`` reads and verifies (and seals); ``admin`` makes and revokes tokens.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

from eventsourcing.persistence import PersistenceError
from eventsourcing.sqlite import SQLiteFactory

from caseledger.errors import InvalidToken, StoreError, TokenNotFound
from caseledger.store.event_store import CaseStore

__all__ = ["ROLES", "Role", "Token", "TokenStore"]

Role = Literal["window", "supervision", "auditor", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
_PREFIX = "clt_"
"""What every secret starts with, so a leaked one is recognisable in logs and scanners."""


@dataclass(frozen=True)
class Token:
    """A token as stored: never its secret."""

    token_id: str
    role: Role
    department: str | None
    label: str
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "active": self.active}


def digest_of(secret: str) -> str:
    """The SHA-256 (hex) of a secret: what the table keeps."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TokenStore:
    """The ``caseledger_tokens`` table of a ledger's database."""

    def __init__(self, store: CaseStore, *, clock: Callable[[], dt.datetime] = _wall_clock) -> None:
        self._datastore: Any = store.recorder.datastore  # type: ignore[attr-defined]
        self._clock = clock
        if isinstance(store.factory, SQLiteFactory):
            self._table, self._p, self._schema = "caseledger_tokens", "?", None
        else:
            self._schema = str(self._datastore.schema)
            self._table, self._p = f'"{self._schema}".caseledger_tokens', "%s"
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} ("
                "token_id TEXT PRIMARY KEY, digest TEXT NOT NULL UNIQUE, role TEXT NOT NULL, "
                "department TEXT, label TEXT NOT NULL, created_at TEXT NOT NULL, "
                "revoked_at TEXT)"
            )

    @contextmanager
    def _cursor(self, *, commit: bool) -> Iterator[Any]:
        try:
            with self._datastore.transaction(commit=commit) as cursor:
                yield cursor
        except PersistenceError as error:
            raise StoreError(f"the token table failed: {error}") from error

    def create(
        self, role: str, *, department: str | None = None, label: str = ""
    ) -> tuple[Token, str]:
        """A new token and its secret (shown once: only its digest is kept)."""
        if role not in ROLES:
            raise InvalidToken(f"role {role!r} is not one of {', '.join(ROLES)}")
        if role == "window" and not department:
            raise InvalidToken(
                "a window token records for one department: give --department (the actor "
                "department its commands carry)"
            )
        if role != "window" and department:
            raise InvalidToken(
                f"a {role} token is not bound to a department: leave out --department"
            )
        secret = _PREFIX + secrets.token_urlsafe(32)
        token = Token(
            token_id=secrets.token_hex(6),
            role=role,  # type: ignore[arg-type]
            department=department,
            label=label,
            created_at=self._clock().isoformat(timespec="seconds"),
        )
        p = self._p
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {self._table} (token_id, digest, role, department, label, "
                f"created_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
                (token.token_id, digest_of(secret), role, department, label, token.created_at),
            )
        return token, secret

    def list(self) -> list[Token]:
        """Every token, revoked ones too, oldest first."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                "SELECT token_id, role, department, label, created_at, revoked_at "
                f"FROM {self._table} ORDER BY created_at, token_id"
            )
            return [_token(dict(row)) for row in cursor.fetchall()]

    def revoke(self, token_id: str) -> Token:
        """Revoke a token (for good); revoking a revoked token changes nothing."""
        p = self._p
        now = self._clock().isoformat(timespec="seconds")
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                f"UPDATE {self._table} SET revoked_at = {p} "
                f"WHERE token_id = {p} AND revoked_at IS NULL",
                (now, token_id),
            )
        for token in self.list():
            if token.token_id == token_id:
                return token
        raise TokenNotFound(token_id)

    def authenticate(self, secret: str) -> Token | None:
        """The active token of ``secret``, or None (unknown, forged or revoked)."""
        if not secret.startswith(_PREFIX):
            return None
        p = self._p
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                "SELECT token_id, role, department, label, created_at, revoked_at "
                f"FROM {self._table} WHERE digest = {p}",
                (digest_of(secret),),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        token = _token(dict(row))
        return token if token.active else None


def _token(row: dict[str, Any]) -> Token:
    return Token(
        token_id=row["token_id"],
        role=row["role"],
        department=row["department"],
        label=row["label"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
