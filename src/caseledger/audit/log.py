"""The Merkle tree over the ledger's whole log, kept in its own tables beside the events.

Leaf ``i`` is the ``i``-th event of the notification log (every stream's: cases, projects),
in recording order; its data is every stored value of the event's row
(:func:`~caseledger.audit.offline.event_leaf`), so any changed byte changes its hash. The
tree is *extended*, never recomputed: :meth:`TreeLog.extend` reads the events recorded since
the last leaf, in recording order, and stores each new leaf and every perfect subtree it
completes (about two rows an event), in a transaction of its own after the events' own has
committed (the ledger calls it after each write, and checkpoints call it first). A root,
inclusion path or consistency proof then takes about ``log2(n)`` look-ups
(:mod:`caseledger.audit.merkle`).

The tables are ``caseledger_tree`` (one row: the size and the last log position read),
``caseledger_tree_leaves`` (index, log position, stream, version, leaf hash),
``caseledger_tree_nodes`` (level >= 4, index, hash; a lower level is hashed from the
leaves) and ``caseledger_checkpoints`` (every checkpoint signed, by tree size). They are a
cache, not an authority: whoever can write the events can write them too. What they hold
is trusted only as far as a signed checkpoint's root confirms it, and verification
recomputes every leaf from the events themselves.

Concurrent extenders serialise on a lock taken first (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: an advisory lock of the schema's tree). The events are read in the store's
recording order (:meth:`~caseledger.store.event_store.CaseStore.read_log`), the order
verification and checkpoints read them in: on PostgreSQL, where writers run in parallel,
only the events of transactions that can no longer be followed by an earlier one, so no
event is skipped and a leaf's index never changes. A leaf's ``position`` is its event's
notification id (SQLite: rowid); the tree's ``last_position``, the last leaf's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from hashlib import sha256
from typing import TYPE_CHECKING, Any, NamedTuple

from eventsourcing.persistence import PersistenceError
from eventsourcing.sqlite import SQLiteFactory

from caseledger.audit import merkle
from caseledger.audit.offline import event_leaf, leaf_hash
from caseledger.errors import StoreError

if TYPE_CHECKING:
    from caseledger.store.event_store import CaseStore

__all__ = ["StoredLeaf", "TreeLog", "row_leaf"]

_PAGE = 10_000
LOWEST_STORED = 4
"""The lowest level of perfect subtrees kept in ``caseledger_tree_nodes`` (every 16 leaves
and up: an eighth of a row an event); one below is hashed from at most 8 leaves read at once."""


_LEAF_COLUMNS = {"leaf_index": "int8", "position": "int8", "stream": "text",
                 "version": "int8", "hash": "bytea"}  # fmt: skip
"""The columns of a leaf row, with their PostgreSQL types (as the tables are made)."""
_NODE_COLUMNS = {"level": "int4", "node_index": "int8", "hash": "bytea"}
"""The columns of a node row, with their PostgreSQL types."""


class StoredLeaf(NamedTuple):
    """A leaf as the tree's table keeps it."""

    leaf_index: int
    position: int
    stream: str
    version: int
    hash: bytes


def row_leaf(stream: Any, version: Any, topic: Any, state: Any) -> bytes:
    """The leaf hash of a stored row, whatever a damaged row holds (a value of the wrong
    type gets a hash no recorded event can have)."""
    if type(stream) is str and type(version) is int and type(topic) is str:
        if type(state) is not bytes and isinstance(state, memoryview):
            state = bytes(state)
        if type(state) is bytes:
            try:
                return sha256(b"\x00" + event_leaf(stream, version, topic, state)).digest()
            except UnicodeEncodeError:
                pass
    return leaf_hash(b"damaged row\x00" + repr((stream, version, topic, state)).encode())


class TreeLog:
    """The tree of one store's log (see the module's documentation)."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store
        recorder: Any = store.recorder
        self._datastore: Any = recorder.datastore
        self._sqlite = isinstance(store.factory, SQLiteFactory)
        if self._sqlite:
            self._q, prefix = "?", ""
            blob, exists = "BLOB", "SELECT name FROM sqlite_master WHERE name = 'caseledger_tree'"
            key = "INTEGER PRIMARY KEY"  # the rowid itself: no second index to keep
        else:
            schema = str(self._datastore.schema or "public").replace('"', "")
            self._q, prefix = "%s", f'"{schema}".'
            blob, exists = "BYTEA", f"SELECT to_regclass('\"{schema}\".caseledger_tree')"
            key = "BIGINT PRIMARY KEY"
        self._exists = exists
        self.meta = f"{prefix}caseledger_tree"
        self.leaves_table = f"{prefix}caseledger_tree_leaves"
        self.nodes_table = f"{prefix}caseledger_tree_nodes"
        self.checkpoints_table = f"{prefix}caseledger_checkpoints"
        self._ddl = [
            f"CREATE TABLE IF NOT EXISTS {self.meta} (singleton INTEGER PRIMARY KEY "
            "CHECK (singleton = 1), size BIGINT NOT NULL, last_position BIGINT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.leaves_table} (leaf_index {key}, "
            f"position BIGINT NOT NULL, stream TEXT NOT NULL, version BIGINT NOT NULL, "
            f"hash {blob} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.nodes_table} (level INTEGER NOT NULL, "
            f"node_index BIGINT NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (level, node_index))",
            f"CREATE TABLE IF NOT EXISTS {self.checkpoints_table} (tree_size BIGINT PRIMARY KEY, "
            "note TEXT NOT NULL)",
            f"INSERT INTO {self.meta} (singleton, size, last_position) VALUES (1, 0, 0) "
            "ON CONFLICT (singleton) DO NOTHING",
        ]
        self._made = False

    # -- transactions ------------------------------------------------------------------
    def _cursor(self, what: str, *, commit: bool) -> AbstractContextManager[Any]:
        return self._store.plain_cursor(what, commit=commit)

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """A transaction that holds the tree's write lock from its first statement: SQLite's
        ``BEGIN IMMEDIATE`` (a deferred one that reads first could not take the lock once
        another connection wrote: "database is locked"), PostgreSQL's advisory lock of this
        schema's tree (which also serialises making the tables)."""
        what = "extending the ledger's tree"
        if not self._sqlite:
            with self._cursor(what, commit=True) as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.meta,))
                yield cursor
            return
        import sqlite3

        try:
            with self._datastore.get_connection(commit=True) as connection:
                cursor = connection.cursor().sqlite_cursor
                cursor.row_factory = None
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield cursor
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()
        except (sqlite3.Error, PersistenceError) as error:
            raise StoreError(f"{what} failed: {error}") from error

    def _has_tables(self, cursor: Any) -> bool:
        if not self._made:
            cursor.execute(self._exists)
            row = cursor.fetchone()
            self._made = row is not None and row[0] is not None
        return self._made

    def _node_getter(self, cursor: Any) -> merkle.NodeGetter:
        q = self._q

        def node(level: int, index: int) -> bytes:
            if level < LOWEST_STORED:
                first, count = index << level, 1 << level
                cursor.execute(
                    f"SELECT hash FROM {self.leaves_table} WHERE leaf_index >= {q} "
                    f"AND leaf_index < {q} ORDER BY leaf_index",
                    (first, first + count),
                )
                hashes = [bytes(row[0]) for row in cursor.fetchall()]
                if len(hashes) == count:
                    return merkle.list_nodes(hashes)(level, 0)
            else:
                cursor.execute(
                    f"SELECT hash FROM {self.nodes_table} WHERE level = {q} AND node_index = {q}",
                    (level, index),
                )
                row = cursor.fetchone()
                if row is not None:
                    return bytes(row[0])
            raise StoreError(
                f"the ledger's tree lacks node {index} of level {level}: its tables were "
                "altered; `caseledger verify` names what differs"
            )

        return node

    # -- writing -----------------------------------------------------------------------
    def extend(self) -> int:
        """Add a leaf for every event recorded since the last; returns how many."""
        added = 0
        while True:
            with self._writing() as cursor:
                if not self._has_tables(cursor):
                    for statement in self._ddl:
                        cursor.execute(statement)
                    self._made = True
                added_now, more = self._extend_page(cursor)
            added += added_now
            if not more:
                return added

    def _extend_page(self, cursor: Any) -> tuple[int, bool]:
        q = self._q
        cursor.execute(f"SELECT size, last_position FROM {self.meta} WHERE singleton = 1")
        row = cursor.fetchone()
        if row is None:
            raise StoreError(
                f"the ledger's tree has no {self.meta} row: its tables were altered; "
                "`caseledger checkpoint` rebuilds them if the events still match the last "
                "checkpoint"
            )
        size, last = row
        rows = self._store.read_log(last, _PAGE, cursor)
        if not rows:
            return 0, False
        node = self._node_getter(cursor)
        frontier = merkle.Frontier(
            size, [node(level, index) for level, index in merkle.Frontier.edge_nodes(size)]
        )
        leaves, nodes = [], []
        append, index = frontier.append, size
        for position, stream, version, topic, state in rows:
            leaf = row_leaf(stream, version, topic, state)
            leaves.append((index, position, str(stream), version, leaf))
            made = append(leaf)
            if len(made) > LOWEST_STORED:
                nodes += made[LOWEST_STORED:]
            index += 1
        self._insert(cursor, self.leaves_table, _LEAF_COLUMNS, leaves)
        if nodes:
            self._insert(cursor, self.nodes_table, _NODE_COLUMNS, nodes)
        cursor.execute(
            f"UPDATE {self.meta} SET size = {q}, last_position = {q} WHERE singleton = 1",
            (frontier.size, rows[-1][0]),
        )
        return len(rows), len(rows) == _PAGE

    def _insert(
        self, cursor: Any, table: str, columns: dict[str, str], rows: list[tuple[Any, ...]]
    ) -> None:
        """Insert ``rows`` into ``table``: one ``executemany`` on SQLite, one ``COPY`` on
        PostgreSQL (psycopg's ``executemany`` sends a statement a row: two thirds of the
        time a bulk import spent extending the tree)."""
        names = ", ".join(columns)
        if self._sqlite:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            return
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(list(columns.values()))
            for row in rows:
                copy.write_row(row)

    def rebuild(self) -> int:
        """Remove every leaf and node and extend the tree again over the whole log (after
        its tables were damaged); returns the leaves made."""
        with self._writing() as cursor:
            for statement in self._ddl:  # whatever of the tables is left
                cursor.execute(statement)
            self._made = True
            cursor.execute(f"DELETE FROM {self.leaves_table}")
            cursor.execute(f"DELETE FROM {self.nodes_table}")
            cursor.execute(f"UPDATE {self.meta} SET size = 0, last_position = 0")
        return self.extend()

    def save_checkpoint(self, size: int, note: str) -> None:
        """Keep a signed checkpoint (its latest signatures) beside the tree."""
        q = self._q
        with self._cursor("keeping the checkpoint", commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {self.checkpoints_table} (tree_size, note) VALUES ({q}, {q}) "
                "ON CONFLICT (tree_size) DO UPDATE SET note = excluded.note",
                (size, note),
            )

    # -- reading -----------------------------------------------------------------------
    def size(self) -> int:
        """How many leaves the stored tree has (0 before its first extension)."""
        with self._cursor("reading the ledger's tree", commit=False) as cursor:
            if not self._has_tables(cursor):
                return 0
            cursor.execute(f"SELECT size FROM {self.meta} WHERE singleton = 1")
            row = cursor.fetchone()
        return 0 if row is None else int(row[0])

    def root(self, size: int) -> bytes:
        with self._cursor("reading the ledger's tree", commit=False) as cursor:
            return merkle.root(self._node_getter(cursor), size)

    def inclusion_path(self, index: int, size: int) -> list[bytes]:
        with self._cursor("reading the ledger's tree", commit=False) as cursor:
            return merkle.inclusion_path(self._node_getter(cursor), index, size)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        with self._cursor("reading the ledger's tree", commit=False) as cursor:
            return merkle.consistency_proof(self._node_getter(cursor), first, second)

    def leaves(self) -> list[StoredLeaf]:
        """Every stored leaf, in order (empty before the first extension)."""
        with self._cursor("reading the ledger's tree", commit=False) as cursor:
            if not self._has_tables(cursor):
                return []
            cursor.execute(
                f"SELECT leaf_index, position, stream, version, hash FROM {self.leaves_table} "
                "ORDER BY leaf_index"
            )
            rows = cursor.fetchall()
        return [StoredLeaf(int(i), int(p), str(s), int(v), bytes(h)) for i, p, s, v, h in rows]

    def leaves_of(self, stream: str, size: int) -> list[StoredLeaf]:
        """The stream's leaves among the first ``size``, in order."""
        q = self._q
        with self._cursor("reading the ledger's tree", commit=False) as cursor:
            if not self._has_tables(cursor):
                return []
            cursor.execute(
                f"SELECT leaf_index, position, stream, version, hash FROM {self.leaves_table} "
                f"WHERE stream = {q} AND leaf_index < {q} ORDER BY leaf_index",
                (stream, size),
            )
            rows = cursor.fetchall()
        return [StoredLeaf(int(i), int(p), str(s), int(v), bytes(h)) for i, p, s, v, h in rows]

    def checkpoints(self) -> list[tuple[int, str]]:
        """Every checkpoint kept, oldest first."""
        with self._cursor("reading the checkpoints", commit=False) as cursor:
            if not self._has_tables(cursor):
                return []
            cursor.execute(
                f"SELECT tree_size, note FROM {self.checkpoints_table} ORDER BY tree_size"
            )
            return [(int(size), str(note)) for size, note in cursor.fetchall()]
