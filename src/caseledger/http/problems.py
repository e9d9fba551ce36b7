"""Problem details (RFC 9457) for every error the API answers with.

A typed error of caseledger becomes ``application/problem+json`` with the same message (its
``detail``, which says what was wrong and how to fix it), a ``type`` naming the error, the
HTTP status that fits it, and the error's facts (a batch's bad items, a command's bad
fields). What the HTTP layer itself refuses (malformed JSON, a huge body, an unknown route, a
wrong method) takes the same form.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import JSONResponse

from caseledger.errors import (
    BatchRejected,
    CalendarRangeError,
    CaseAlreadyExists,
    CaseLedgerError,
    CaseNotFound,
    CommandIdReused,
    ConcurrencyConflict,
    IllegalTransition,
    InvalidCommand,
    InvalidRequest,
    LedgerNotFound,
    NotAuthenticated,
    NotPermitted,
    ProjectNotFound,
    ProofRejected,
    StoreError,
    TokenNotFound,
    UnknownFilterValue,
)

__all__ = ["PROBLEM_TYPE", "Problem", "http_problem", "problem_of", "problem_response", "status_of"]

PROBLEM_TYPE = "https://caseledger.invalid/problems/"
"""The base of every problem's ``type`` URI (a name, not a page to fetch)."""

_STATUS: tuple[tuple[type[CaseLedgerError], int], ...] = (
    (NotAuthenticated, 401),
    (NotPermitted, 403),
    (InvalidRequest, 400),
    (CaseNotFound, 404),
    (ProjectNotFound, 404),
    (TokenNotFound, 404),
    (LedgerNotFound, 404),
    (CaseAlreadyExists, 409),
    (IllegalTransition, 409),
    (CommandIdReused, 409),
    (ConcurrencyConflict, 409),
    (ProofRejected, 409),
    (StoreError, 503),
    (InvalidCommand, 422),
    (BatchRejected, 422),
    (UnknownFilterValue, 422),
    (CalendarRangeError, 422),
)

Problem = dict[str, Any]


def status_of(error: CaseLedgerError) -> int:
    """The HTTP status of a typed error: 422 for any bad input not listed."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 422


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def problem_of(error: CaseLedgerError, *, instance: str) -> Problem:
    """The problem details of a typed error, with its facts as extension members."""
    name = type(error).__name__
    problem: Problem = {
        "type": PROBLEM_TYPE + _kebab(name),
        "title": name,
        "status": status_of(error),
        "detail": str(error),
        "instance": instance,
    }
    if isinstance(error, InvalidCommand):
        problem["problems"] = [{"field": f, "message": m} for f, m in error.problems]
    elif isinstance(error, BatchRejected):
        problem["errors"] = [
            {"position": e.position, "field": e.field, "message": e.message} for e in error.errors
        ]
    elif isinstance(error, UnknownFilterValue):
        problem.update(option=error.option, value=error.value, near=error.near)
    elif isinstance(error, ConcurrencyConflict):
        problem.update(
            case_no=error.case_no,
            expected_version=error.expected_version,
            actual_version=error.actual_version,
        )
    return problem


def problem_response(problem: Problem, *, headers: dict[str, str] | None = None) -> JSONResponse:
    """A problem as the response: ``application/problem+json``, status from the problem."""
    return JSONResponse(
        problem,
        status_code=int(problem["status"]),
        media_type="application/problem+json",
        headers=headers,
    )


def http_problem(status: int, title: str, detail: str, *, instance: str) -> Problem:
    """A problem the HTTP layer finds (no typed error of the library)."""
    return {
        "type": PROBLEM_TYPE + _kebab(title.replace(" ", "")),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
