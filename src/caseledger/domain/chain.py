"""The hash chain that makes each case's stream tamper-evident.

An event's hash is the SHA-256 of the canonical JSON (keys sorted, UTF-8, no spaces) of::

    {"case_no": ..., "version": ..., "topic": ..., "state": <stored state without "hash">}

and the stored state holds ``prev_hash``, the hash of the case's previous event (64 zeros
for version 1). Changing any stored value of an event changes its hash (re-encoding the
same JSON differently does not: the hash covers the values, canonically); removing or
reordering a case's events breaks the ``prev_hash`` links or the run of versions. The hash
covers the state as stored, before any upcasting, so anyone with this definition can check
it from the raw rows alone.

What a chain cannot show: that a case's last events were not cut off, or rewritten with
recomputed hashes (the hash has no key), nor the order of events across cases. A seal kept
outside the database (:mod:`caseledger.audit.seal`) covers those.
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
