"""The published JSON Schema of one interchange line (``caseledger schema``)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from caseledger.domain.records import Command, ProjectCommand
from caseledger.interchange.jsonl import ExportFields

__all__ = ["SCHEMA_ID", "interchange_schema"]

SCHEMA_ID = "https://caseledger.invalid/schema/event-line/1.json"


def interchange_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of one line of a history in JSON Lines: a case's event, or
    (with ``project_no``) a parallel-approval project's."""
    schema = TypeAdapter(Command | ProjectCommand).json_schema()
    exported = ExportFields.model_json_schema()["properties"]
    for name in ("Command", "ProjectCommand"):
        line = schema["$defs"][name]
        line["properties"].update(exported)
        # an export (show --json) adds all four recorded fields, or none (and class_version
        # when above 1, only with them)
        four = {f for f, field in ExportFields.model_fields.items() if field.is_required()}
        line["dependentRequired"] = {f: sorted(four - {f}) for f in sorted(exported)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "caseledger event line",
        "description": (
            "One event of an administrative-approval case (行政审批办件), or with project_no of "
            "a parallel-approval project (并联审批项目), one JSON object a line, in the order "
            "the events happened. Times are ISO 8601 with an offset. A line exported by "
            "show --json also carries version, recorded_at, prev_hash and hash: recorded "
            "again, it is recorded as the command it was (those four are the new ledger's)."
        ),
        **{k: v for k, v in schema.items() if k != "title"},
    }
