"""The orjson transcoder: stored states are compact JSON with sorted keys."""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import Transcoder

__all__ = ["OrjsonTranscoder"]


class OrjsonTranscoder(Transcoder):
    """Encodes JSON-ready states (dicts of str, int, bool, None, lists) with orjson."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)
