"""The hash chain that makes each case's stream tamper-evident.

An event's hash is the SHA-256 of the canonical JSON (keys sorted, UTF-8, no spaces) of::

    {"case_no": ..., "version": ..., "topic": ..., "state": <stored state without "hash">}

and the stored state holds ``prev_hash``, the hash of the case's previous event (64 zeros
for version 1). Changing any byte of a stored event changes its hash; removing or
reordering events breaks the ``prev_hash`` links or the run of versions. The hash covers
the state exactly as stored, before any upcasting, so it can be checked from the raw rows
alone by anyone with this definition.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

__all__ = ["GENESIS_HASH", "canonical_json", "event_hash"]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of a case's first event."""


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, compact, UTF-8."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def event_hash(case_no: str, version: int, topic: str, state: dict[str, Any]) -> str:
    """The hash of one stored event; ``state`` must not contain ``"hash"``."""
    payload = {"case_no": case_no, "version": version, "topic": topic, "state": state}
    return hashlib.sha256(canonical_json(payload)).hexdigest()
