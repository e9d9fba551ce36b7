"""The Merkle tree of RFC 6962 / RFC 9162 §2.1: roots, inclusion paths and consistency
proofs, made from the hashes of its *perfect subtrees*.

Every range the RFC's recursive definitions split a tree into is either a perfect subtree
aligned to its size (``2**level`` leaves starting at ``index * 2**level``) or splits again, so
a tree that keeps the hash of each complete perfect subtree (:mod:`caseledger.audit.log`
keeps them in the database) answers any root, path or proof with about ``log2(n)`` look-ups.
``node(level, index)`` gives such a hash; :class:`Frontier` appends leaves one by one and
says which perfect subtrees each one completes. The hashing itself, and the checking of
proofs, are :mod:`caseledger.audit.offline`'s (the verifier an auditor runs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from caseledger.audit.offline import EMPTY_ROOT, node_hash

__all__ = [
    "Frontier",
    "NodeGetter",
    "consistency_proof",
    "inclusion_path",
    "list_nodes",
    "root",
    "root_of_leaves",
]

NodeGetter = Callable[[int, int], bytes]
"""``node(level, index)``: the hash of the perfect subtree of ``2**level`` leaves starting at
leaf ``index * 2**level`` (level 0: the leaf hashes)."""


def _split(size: int) -> int:
    """The largest power of 2 smaller than ``size`` (for ``size`` > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def _range_hash(node: NodeGetter, start: int, end: int) -> bytes:
    """MTH(D[start:end]); ``start`` is aligned as every range of the RFC's recursion is."""
    size = end - start
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return node(level, start >> level)
    k = _split(size)
    return node_hash(_range_hash(node, start, start + k), _range_hash(node, start + k, end))


def root(node: NodeGetter, size: int) -> bytes:
    """MTH(D[0:size])."""
    return EMPTY_ROOT if size == 0 else _range_hash(node, 0, size)


def inclusion_path(node: NodeGetter, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(_range_hash(node, start + k, end))
            end = start + k
        else:
            path.append(_range_hash(node, start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(node: NodeGetter, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[0:second]) (RFC 9162 §2.1.4.1); empty when ``first`` is 0 or
    ``second``."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    if first in (0, second):
        return []
    proof: list[bytes] = []
    start, end, whole = 0, second, True
    while True:
        m = first - start
        if m == end - start:
            if not whole:
                proof.append(_range_hash(node, start, end))
            break
        k = _split(end - start)
        if m <= k:
            proof.append(_range_hash(node, start + k, end))
            end = start + k
        else:
            proof.append(_range_hash(node, start, start + k))
            start += k
            whole = False
    proof.reverse()
    return proof


class Frontier:
    """The right edge of a growing tree: the hashes of the perfect subtrees that make up its
    ``size`` leaves, largest first. :meth:`append` adds a leaf and returns the subtrees it
    completed, ``(level, index, hash)`` from level 0 (the leaf itself) up."""

    def __init__(self, size: int = 0, edge: Sequence[bytes] = ()) -> None:
        self.size = size
        levels = [level for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1]
        if len(levels) != len(edge):
            raise ValueError(f"a tree of {size} leaves has {len(levels)} edge hashes")
        self._edge = list(zip(levels, edge, strict=True))

    @staticmethod
    def edge_nodes(size: int) -> list[tuple[int, int]]:
        """The ``(level, index)`` of the perfect subtrees making up a tree of ``size``."""
        nodes, start = [], 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                nodes.append((level, start >> level))
                start += 1 << level
        return nodes

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        index = self.size
        made = [(0, index, leaf)]
        level, value = 0, leaf
        while self._edge and self._edge[-1][0] == level:
            _, left = self._edge.pop()
            level, value = level + 1, node_hash(left, value)
            made.append((level, index >> level, value))
        self._edge.append((level, value))
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self._edge:
            return EMPTY_ROOT
        value = self._edge[-1][1]
        for _, left in reversed(self._edge[:-1]):
            value = node_hash(left, value)
        return value


def root_of_leaves(leaves: Iterable[bytes]) -> bytes:
    """MTH of the leaf hashes given, in one pass (memory: about ``log2(n)`` hashes)."""
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


def list_nodes(leaves: Iterable[bytes]) -> NodeGetter:
    """The node getter of a tree held in memory, from its leaf hashes (every perfect
    subtree computed once)."""
    levels: list[list[bytes]] = [list(leaves)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    def node(level: int, index: int) -> bytes:
        return levels[level][index]

    return node
