"""The Merkle tree equals RFC 6962's definition, computed here by a small independent
implementation, in memory and as the ledger keeps it in its database (SQLite, PostgreSQL)."""

from __future__ import annotations

import hashlib
import random
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseledger import CaseLedger
from caseledger.audit import merkle, offline
from caseledger.audit.log import TreeLog, row_leaf
from caseledger.demo import demo_commands
from tests.conftest import fixed_clock
from tests.helpers import RECEIVED, at, command

# -- RFC 6962 §2.1, written out as the RFC says it, nothing shared with caseledger -----------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of the leaves' *data*."""
    if not leaves:
        return _sha(b"")
    if len(leaves) == 1:
        return _sha(b"\x00" + leaves[0])
    k = _k(len(leaves))
    return _sha(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n])."""
    if len(leaves) <= 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b)."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) for 0 < m < n."""
    return subproof(m, leaves, True)


def _data(n: int, salt: int = 0) -> list[bytes]:
    return [f"leaf {salt} {i}".encode() for i in range(n)]


def test_the_root_of_every_tree_of_0_to_300_leaves_is_rfc_6962s() -> None:
    frontier = merkle.Frontier()
    data = _data(300)
    hashes = [offline.leaf_hash(d) for d in data]
    for n in range(0, 301):
        assert frontier.root() == mth(data[:n]), n
        assert merkle.root(merkle.list_nodes(hashes[:n]), n) == mth(data[:n]), n
        if n < 300:
            frontier.append(hashes[n])


def test_every_inclusion_path_and_consistency_proof_up_to_40_leaves_is_rfc_6962s() -> None:
    for n in range(1, 41):
        data = _data(n, salt=n)
        node = merkle.list_nodes([offline.leaf_hash(d) for d in data])
        root = mth(data)
        for m in range(n):
            assert merkle.inclusion_path(node, m, n) == path(m, data), (m, n)
            offline.verify_inclusion(m, n, offline.leaf_hash(data[m]), path(m, data), root)
        for m in range(1, n):
            assert merkle.consistency_proof(node, m, n) == proof(m, data), (m, n)
            offline.verify_consistency(m, n, mth(data[:m]), root, proof(m, data))
        assert merkle.consistency_proof(node, 0, n) == merkle.consistency_proof(node, n, n) == []
        offline.verify_consistency(n, n, root, root, [])
        offline.verify_consistency(0, n, offline.EMPTY_ROOT, root, [])


@given(n=st.integers(301, 3000), seed=st.integers(0, 2**32))
def test_random_larger_trees_have_rfc_6962s_root_paths_and_proofs(n: int, seed: int) -> None:
    rng = random.Random(seed)
    data = [rng.randbytes(rng.randint(0, 40)) for _ in range(n)]
    hashes = [offline.leaf_hash(d) for d in data]
    node = merkle.list_nodes(hashes)
    assert merkle.root_of_leaves(hashes) == merkle.root(node, n) == mth(data)
    m = rng.randrange(n)
    assert merkle.inclusion_path(node, m, n) == path(m, data)
    first = rng.randrange(1, n)
    assert merkle.consistency_proof(node, first, n) == proof(first, data)
    offline.verify_consistency(first, n, mth(data[:first]), mth(data), proof(first, data))


def test_the_leaf_of_an_event_covers_every_stored_value_of_its_row() -> None:
    base = offline.event_leaf("QZ-1", 2, "accepted", b'{"a":1}')
    changed = [
        offline.event_leaf("QZ-2", 2, "accepted", b'{"a":1}'),
        offline.event_leaf("QZ-1", 3, "accepted", b'{"a":1}'),
        offline.event_leaf("QZ-1", 2, "approved", b'{"a":1}'),
        offline.event_leaf("QZ-1", 2, "accepted", b'{"a":2}'),
        offline.event_leaf("QZ-1", 2, "accepte", b'd{"a":1}'),  # the length prefixes
    ]
    assert len({base, *changed}) == 6
    assert row_leaf("QZ-1", 2, "accepted", b'{"a":1}') == offline.leaf_hash(base)
    damaged = {row_leaf("QZ-1", "2", "accepted", b"x"), row_leaf("QZ-1", 2, b"accepted", b"x")}
    assert row_leaf("QZ-1", 2, "accepted", b"x") not in damaged and len(damaged) == 2


@pytest.mark.parametrize("postgres", [False, pytest.param(True, marks=pytest.mark.postgres)])
def test_the_tree_kept_in_the_database_grows_by_extension_to_rfc_6962s_roots_and_proofs(
    postgres: bool, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres_url" if postgres else "sqlite_url")
    commands = demo_commands(70)[:330]
    with CaseLedger(url, clock=fixed_clock, keep_tree=False) as ledger:
        tree = TreeLog(ledger.store)
        assert tree.size() == 0 and tree.leaves() == []
        rng = random.Random(13)
        start = 0
        while start < len(commands):  # extended after batches of every size, from 1 up
            size = rng.choice([1, 1, 2, 3, 7, 16, 17, 40])
            ledger.record_batch(commands[start : start + size])
            start += size
            tree.extend()
            report = ledger.verify()  # every event is a leaf, the pack versions' too
            assert tree.size() == report.events + report.packs
        rows = [
            (n.originator_id, n.originator_version, n.topic, n.state)
            for n in ledger.store.notifications()
        ]
        data = [offline.event_leaf(*row) for row in rows]
        assert [leaf.hash for leaf in tree.leaves()] == [offline.leaf_hash(d) for d in data]
        n = len(data)
        for size in range(0, n + 1):
            assert tree.root(size) == mth(data[:size]), size
        for m in (0, 1, 15, 16, 17, n // 2, n - 1):
            assert tree.inclusion_path(m, n) == path(m, data)
            assert tree.consistency_proof(m + 1, n) == (proof(m + 1, data) if m + 1 < n else [])
        assert tree.extend() == 0


def test_writers_extending_the_tree_at_once_leave_one_tree_of_the_whole_log(
    open_ledger: Any,
) -> None:
    """Four ledgers on one database record and extend the tree in threads at once: every
    event gets exactly one leaf, in recording order."""
    ledgers = [open_ledger() for _ in range(4)]
    errors: list[BaseException] = []

    def work(number: int) -> None:
        ledger = ledgers[number]
        tree = TreeLog(ledger.store)
        try:
            for n in range(8):
                ledger.record(command(f"QZ-{number}-{n}", 1, RECEIVED, at(12)))
                tree.extend()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    tree = TreeLog(ledgers[0].store)
    tree.extend()
    rows = [
        (n.originator_id, n.originator_version, n.topic, n.state)
        for n in ledgers[0].store.notifications()
    ]
    assert len(rows) == 32
    assert [leaf.hash for leaf in tree.leaves()] == [row_leaf(*row) for row in rows]
    assert tree.root(32) == mth([offline.event_leaf(*row) for row in rows])
