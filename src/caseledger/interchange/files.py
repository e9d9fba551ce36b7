"""Recording a JSON Lines file into a ledger: validate every line, then one transaction."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from caseledger.errors import BatchItemError, BatchRejected
from caseledger.interchange.jsonl import read_commands
from caseledger.ledger import BatchResult, CaseLedger

__all__ = ["record_file"]


def record_file(
    ledger: CaseLedger,
    path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Record every event of ``path`` atomically, or raise :class:`BatchRejected` naming each
    bad line and field, recording nothing. ``progress(done, total)`` follows the checks."""
    source = str(path)
    try:
        lines = path.read_bytes().splitlines()
    except OSError as error:
        raise BatchRejected(
            [BatchItemError(0, "", f"cannot read: {error.strerror}")], source=source
        ) from error
    parsed = read_commands(lines, source=source)
    total = len(parsed)

    def step(done: int) -> None:
        if progress is not None:
            progress(done, total)

    try:
        return ledger.record_batch([p.command for p in parsed], source=source, progress=step)
    except BatchRejected as rejected:
        by_line = [
            BatchItemError(parsed[e.position - 1].line_no, e.field, e.message)
            for e in rejected.errors
        ]
        raise BatchRejected(by_line, source=source) from None
