"""The published JSON Schema of one interchange line (``caseledger schema``)."""

from __future__ import annotations

from typing import Any

from caseledger.domain.records import Command

__all__ = ["SCHEMA_ID", "interchange_schema"]

SCHEMA_ID = "https://caseledger.invalid/schema/event-line/1.json"


def interchange_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of one line of a case history in JSON Lines."""
    schema = Command.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "caseledger event line",
        "description": (
            "One event of an administrative-approval case (行政审批办件), one JSON object a "
            "line, in the order the events happened. Times are ISO 8601 with an offset."
        ),
        **{k: v for k, v in schema.items() if k != "title"},
    }
