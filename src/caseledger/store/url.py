"""Ledger URLs: which database a ledger lives in, turned into eventsourcing settings.

- ``sqlite:///caseledger.db`` (relative path), ``sqlite:////var/lib/caseledger.db``
  (absolute path), ``sqlite:///:memory:`` (in memory, gone when closed);
- ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME[?schema=NAME&OPTION=VALUE...]``
  (``postgres://`` too).

A PostgreSQL URL takes, after ``?``:

- ``schema``: the schema the ledger's tables live in (default ``public``);
- libpq's connection options, passed through to psycopg's conninfo unchanged:
  :data:`LIBPQ_OPTIONS` (``sslmode``, ``sslrootcert``, ``application_name``,
  ``connect_timeout``...);
- caseledger's bounds on time, in seconds (:data:`TIME_BOUNDS`): ``statement_timeout``
  (the server ends a statement running longer, default 60), ``lock_timeout`` (the server
  stops waiting for a lock, default 10) and ``answer_timeout`` (the client stops waiting for
  the server's answer, default ``statement_timeout`` + 10).

Every session also runs with ``jit=off`` (see :func:`parse_ledger_url`'s note).

Any other option is refused, naming the known ones.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from caseledger.errors import LedgerURLError

__all__ = ["DEFAULT_URL", "LIBPQ_OPTIONS", "TIME_BOUNDS", "LedgerLocation", "parse_ledger_url"]

DEFAULT_URL = "sqlite:///caseledger.db"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

LIBPQ_OPTIONS = (
    "application_name", "channel_binding", "connect_timeout", "gssencmode", "keepalives",
    "keepalives_count", "keepalives_idle", "keepalives_interval", "sslcert", "sslcrl",
    "sslkey", "sslmode", "sslrootcert", "target_session_attrs", "tcp_user_timeout",
)  # fmt: skip
"""libpq's connection options a PostgreSQL ledger URL passes through to psycopg."""
_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_WHOLE_SECONDS = ("connect_timeout", "keepalives_count", "keepalives_idle",
                  "keepalives_interval", "tcp_user_timeout", "keepalives")  # fmt: skip

TIME_BOUNDS = {"statement_timeout": 60.0, "lock_timeout": 10.0, "answer_timeout": None}
"""caseledger's bounds on time (seconds) and their defaults (``answer_timeout``:
``statement_timeout`` + 10)."""


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
        "PERSISTENCE_MODULE": "caseledger.store.sqlite:CaseLedgerSQLiteFactory",
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
    query = {
        key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()
    }
    known = ("schema", *LIBPQ_OPTIONS, *TIME_BOUNDS)
    unknown = sorted(set(query) - set(known))
    if unknown:
        raise LedgerURLError(
            url,
            f"unknown option{'' if len(unknown) == 1 else 's'} {', '.join(unknown)}; "
            f"the known ones are {', '.join(known)}",
        )
    schema = query.get("schema")
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise LedgerURLError(url, f"schema {schema!r} is not a plain lower-case SQL name")
    conninfo = {key: _libpq_value(url, key, query[key]) for key in LIBPQ_OPTIONS if key in query}
    bounds = {
        key: _seconds(url, key, query.get(key), default) for key, default in TIME_BOUNDS.items()
    }
    statement, lock = bounds["statement_timeout"] or 60.0, bounds["lock_timeout"] or 10.0
    answer = bounds["answer_timeout"] or statement + 10
    connect = int(conninfo.get("connect_timeout", "5"))
    conninfo.setdefault("connect_timeout", str(connect))
    # and no JIT: the ledger's statements read a few rows by index, which JIT never speeds
    # up, and a table not yet analyzed (after a migration's import) gets cost guesses that
    # compile every read of a case (28 ms for a 0.04 ms read: docs/running-a-province.md)
    conninfo["options"] = (
        f"-c statement_timeout={round(statement * 1000)} -c lock_timeout={round(lock * 1000)} "
        "-c jit=off"
    )
    env = {
        "PERSISTENCE_MODULE": "caseledger.store.postgres:CaseLedgerPostgresFactory",
        "POSTGRES_DBNAME": db_name,
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": schema or "public",
        "POSTGRES_CONNECT_TIMEOUT": str(connect),
        "POSTGRES_LOCK_TIMEOUT": str(math.ceil(lock)),
        "POSTGRES_PRE_PING": "y",
        "CASELEDGER_CONNINFO": json.dumps(conninfo, sort_keys=True),
        "CASELEDGER_ANSWER_TIMEOUT": str(answer),
        "ORIGINATOR_ID_TYPE": "text",
    }
    return LedgerLocation(url=url, backend="postgresql", env=env, schema=schema)


def _libpq_value(url: str, key: str, value: str) -> str:
    if not value:
        raise LedgerURLError(url, f"option {key} has no value")
    if key == "sslmode" and value not in _SSLMODES:
        raise LedgerURLError(url, f"sslmode {value!r} is not one of {', '.join(_SSLMODES)}")
    if key in _WHOLE_SECONDS and not (value.isdigit() and int(value) <= 86_400):
        raise LedgerURLError(url, f"option {key} must be a whole number, not {value!r}")
    if key == "connect_timeout" and int(value) < 1:
        raise LedgerURLError(url, "connect_timeout must be at least 1 (second)")
    return value


def _seconds(url: str, key: str, value: str | None, default: float | None) -> float | None:
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= 86_400:  # NaN fails too
        raise LedgerURLError(url, f"option {key} must be seconds above 0, not {value!r}")
    return seconds
