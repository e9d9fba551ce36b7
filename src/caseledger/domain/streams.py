"""The kinds of event stream, told apart by their id: a case (its case number), a
parallel-approval project (``#`` and its number), or a recorded rule-pack version (``@``
and its content hash). Callers that handle any stream ask :func:`stream_kind` which class
folds and checks it, instead of testing the command's type."""

from __future__ import annotations

from caseledger.domain.case import Case
from caseledger.domain.pack_stream import PackVersion
from caseledger.domain.project import Project
from caseledger.domain.records import is_pack_stream, is_project_stream

__all__ = ["stream_kind"]


def stream_kind(stream_id: str) -> type[Case] | type[Project] | type[PackVersion]:
    """The aggregate class of the stream ``stream_id``."""
    if is_pack_stream(stream_id):
        return PackVersion
    return Project if is_project_stream(stream_id) else Case
