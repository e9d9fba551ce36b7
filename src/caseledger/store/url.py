"""Ledger URLs: which database a ledger lives in, turned into eventsourcing settings.

- ``sqlite:///caseledger.db`` (relative path), ``sqlite:////var/lib/caseledger.db``
  (absolute path), ``sqlite:///:memory:`` (in memory, gone when closed);
- ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME[?schema=NAME]`` (``postgres://`` too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from caseledger.errors import LedgerURLError

__all__ = ["DEFAULT_URL", "LedgerLocation", "parse_ledger_url"]

DEFAULT_URL = "sqlite:///caseledger.db"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class LedgerLocation:
    """Where a ledger is: ``backend`` is ``sqlite`` or ``postgresql``; ``env`` configures
    eventsourcing's infrastructure factory."""

    url: str
    backend: str
    env: dict[str, str] = field(default_factory=dict)
    schema: str | None = None

    @property
    def redacted(self) -> str:
        """The URL with any password hidden, for messages."""
        return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", self.url)


def parse_ledger_url(url: str) -> LedgerLocation:
    """Parse a ledger URL, or raise :class:`LedgerURLError` saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return _sqlite(url, parts.netloc, parts.path)
    if parts.scheme in ("postgresql", "postgres"):
        return _postgres(url)
    raise LedgerURLError(url, f"unknown scheme {parts.scheme!r}")


def _sqlite(url: str, netloc: str, path: str) -> LedgerLocation:
    if netloc:
        raise LedgerURLError(url, "an sqlite URL has three slashes before the path")
    if urlsplit(url).query:
        raise LedgerURLError(url, "an sqlite URL takes no options after '?'")
    db_name = path[1:] if path.startswith("/") else path
    if not db_name:
        raise LedgerURLError(url, "no database file given")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": db_name,
        "SQLITE_LOCK_TIMEOUT": "10",
        "ORIGINATOR_ID_TYPE": "text",
    }
    return LedgerLocation(url=url, backend="sqlite", env=env)


def _postgres(url: str) -> LedgerLocation:
    parts = urlsplit(url)
    try:
        port = 5432 if parts.port is None else parts.port
    except ValueError as error:
        raise LedgerURLError(url, f"bad port: {error}") from error
    if not 0 < port < 65536:
        raise LedgerURLError(url, f"bad port: {port}")
    db_name = unquote(parts.path.lstrip("/"))
    if not db_name:
        raise LedgerURLError(url, "no database name given after the host")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"schema"})
    if unknown:
        raise LedgerURLError(url, f"unknown option(s) {', '.join(unknown)}; only 'schema' is known")
    schema = query.get("schema", [None])[-1]
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise LedgerURLError(url, f"schema {schema!r} is not a plain lower-case SQL name")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": db_name,
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": schema or "public",
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "ORIGINATOR_ID_TYPE": "text",
    }
    return LedgerLocation(url=url, backend="postgresql", env=env, schema=schema)
