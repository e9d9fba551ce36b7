"""The JSON API, ``/api/v1``: what the library does, for systems not written in Python.

Bodies are the interchange format: a command is one event line (as ``caseledger record``
reads), a batch a JSON array of them or JSON Lines (``application/x-ndjson``), a case's
history the lines ``show --json`` writes. A retry of a command (the same command id and
content) answers with the original result, ``already_recorded`` true, status 200.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from caseledger.audit.chains import VerificationReport
from caseledger.audit.offline import parse_checkpoint
from caseledger.audit.seal import parse_seal
from caseledger.domain.case import Case
from caseledger.domain.moments import CHINA_TIME
from caseledger.domain.records import Command, ProjectCommand
from caseledger.errors import (
    BatchItemError,
    BatchRejected,
    InvalidCommand,
    InvalidRequest,
    UnknownFilterValue,
)
from caseledger.http.moments import FORMS, as_of_day, as_of_moment
from caseledger.http.problems import http_problem
from caseledger.http.tokens import ROLES
from caseledger.interchange.jsonl import (
    DuplicateKey,
    ParsedLine,
    dump_events,
    loads_unique,
    parse_lines,
    read_commands,
)
from caseledger.ledger import BatchResult, CaseLedger, RecordResult
from caseledger.readmodels.reports import FILTER_COLUMNS, Board, known_values

__all__ = [
    "ERRORS", "PROBLEM_SCHEMA", "board_page", "check_filters", "judging", "router", "service_of",
]  # fmt: skip

router = APIRouter(prefix="/api/v1")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
}
_PROBLEM = {"application/problem+json": {"schema": PROBLEM_SCHEMA}}
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": what, "content": _PROBLEM}
    for code, what in (
        (400, "a body that is not JSON, or a malformed parameter"),
        (401, "no token, or an unknown, forged or revoked one"),
        (403, "the token's role (or department) may not do that"),
        (404, "no such case, project, token, checkpoint or route"),
        (
            409,
            "refused by the lifecycle, a reused command id, a concurrent writer, or a forked log",
        ),
        (413, "a body larger than the server takes"),
        (422, "a command, batch or parameter that does not validate"),
        (503, "the database failed"),
    )
}
_OBJECT: dict[str, Any] = {"type": "object"}
_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["case_no", "version", "type", "hash", "already_recorded"],
    "properties": {
        "case_no": {"type": "string", "description": "the stream: a case, or '#' a project"},
        "version": {"type": "integer"},
        "type": {"type": "string"},
        "hash": {"type": "string"},
        "already_recorded": {"type": "boolean"},
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


F = TypeVar("F", bound=Callable[..., Any])


def _reading(path: str, summary: str, schema: dict[str, Any], answer: str) -> Callable[[F], F]:
    """A GET route of the API, documented with its answer and every problem it may give."""
    route: Callable[[F], F] = router.get(
        path, summary=summary, responses={200: _json(schema, answer), **ERRORS}, response_model=None
    )
    return route


def service_of(request: Request) -> Any:
    """The :class:`~caseledger.http.app.Service` of the application."""
    return request.app.state.service


def _where(request: Request) -> str:
    return f"{request.method} {request.url.path}"


def _result(result: RecordResult) -> dict[str, Any]:
    return {
        "case_no": result.case_no,
        "version": result.version,
        "type": result.type,
        "hash": result.hash,
        "already_recorded": result.already_recorded,
    }


def _parsed_json(body: bytes) -> Any:
    if not body.strip():
        raise InvalidRequest("the body", "it is empty", "send a JSON body")
    try:
        return loads_unique(body)
    except orjson.JSONDecodeError as error:
        raise InvalidRequest("the body", f"not valid JSON ({error})", "send JSON") from None
    except DuplicateKey as error:
        raise InvalidCommand([(error.path, str(error))]) from None


def _one_command(body: bytes) -> Command | ProjectCommand:
    data = _parsed_json(body)
    if not isinstance(data, dict):
        raise InvalidCommand([("", "a command is a JSON object (one event line)")])
    problems: list[tuple[str, str]] = []
    for item in parse_lines([orjson.dumps(data)]):
        if isinstance(item, BatchItemError):
            problems.append((item.field, item.message))
        else:
            return item.command
    raise InvalidCommand(problems)


def _batch(body: bytes, content_type: str) -> list[ParsedLine]:
    if content_type.startswith(("application/x-ndjson", "application/jsonl")):
        lines = read_commands(body.splitlines(), source="batch")
    else:
        data = _parsed_json(body)
        if not isinstance(data, list):
            raise InvalidRequest(
                "the body", "a batch is a JSON array of event lines", "send [line, line, ...]"
            )
        lines = read_commands([orjson.dumps(item) for item in data], source="batch")
    if not lines:
        raise BatchRejected(
            [BatchItemError(0, "", "the batch holds no command; send one line or more")],
            source="batch",
        )
    return lines


@router.post(
    "/commands",
    summary="Record one command (an event line), idempotently",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventLine"}}},
        }
    },
    responses={
        201: _json(_RESULT_SCHEMA, "recorded"),
        200: _json(_RESULT_SCHEMA, "a retry: the original result, already_recorded true"),
        **ERRORS,
    },
    response_model=None,
    status_code=201,
)
async def record_command(
    request: Request,
    expected_version: Annotated[
        int | None,
        Query(ge=0, description="The case's version last seen; any other is a conflict."),
    ] = None,
) -> Response:
    service = service_of(request)
    principal = await run_in_threadpool(service.principal, request)  # reads the token table
    principal.require("record", path=_where(request))
    command = _one_command(await request.body())
    principal.require_departments([command], path=_where(request))
    ledger: CaseLedger = service.ledger
    result = await run_in_threadpool(ledger.record, command, expected_version=expected_version)
    return JSONResponse(_result(result), status_code=200 if result.already_recorded else 201)


_BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["recorded", "already_recorded", "cases", "results"],
    "properties": {
        "recorded": {"type": "integer"},
        "already_recorded": {"type": "integer"},
        "cases": {"type": "integer"},
        "results": {"type": "array", "items": _RESULT_SCHEMA},
    },
}


@router.post(
    "/batches",
    summary="Record many commands in one transaction: all or nothing",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/EventLine"},
                    }
                },
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
    responses={200: _json(_BATCH_SCHEMA, "recorded (or all already recorded)"), **ERRORS},
    response_model=None,
)
async def record_batch(request: Request) -> Response:
    service = service_of(request)
    principal = await run_in_threadpool(service.principal, request)  # reads the token table
    principal.require("record", path=_where(request))
    lines = _batch(await request.body(), request.headers.get("content-type", ""))
    commands = [line.command for line in lines]
    principal.require_departments(commands, path=_where(request))
    ledger: CaseLedger = service.ledger
    result: BatchResult = await run_in_threadpool(ledger.record_batch, commands)
    return JSONResponse(
        {
            "recorded": result.recorded,
            "already_recorded": result.already_recorded,
            "cases": result.cases,
            "results": [_result(r) for r in result.results],
        }
    )


AsOf = Annotated[str | None, Query(description=f"{FORMS}; default: now")]


def _reader(request: Request) -> CaseLedger:
    service = service_of(request)
    service.principal(request).require("read", path=_where(request))
    ledger: CaseLedger = service.ledger
    return ledger


def _events(case: Case) -> list[Any]:
    return [orjson.loads(line) for line in dump_events(case.events).splitlines()]


def case_view(case: Case) -> dict[str, Any]:
    """A case's state and its events (each as ``show --json`` writes it)."""
    first = case.events[0] if case.events else None
    return {
        "case_no": case.case_no,
        "status": case.status.value,
        "status_label": case.status.label,
        "item_code": case.item_code,
        "case_kind": case.case_kind.value if case.case_kind else None,
        "rule_pack": case.rule_pack,
        "department": first.actor.department if first else None,
        "version": case.version,
        "hash": case.last_hash,
        "events": _events(case),
    }


@_reading(
    "/cases/{case_no}",
    "A case's state and events, now or as it stood at as_of",
    _OBJECT,
    "the case",
)
def read_case(request: Request, case_no: str, as_of: AsOf = None) -> dict[str, Any]:
    ledger = _reader(request)
    moment = None if as_of is None else as_of_moment(as_of)
    return case_view(ledger.case(case_no, as_of=moment))


@router.get(
    "/cases/{case_no}/history",
    summary="A case's events as JSON (or JSON Lines with Accept: application/x-ndjson)",
    responses={
        200: {
            "description": "the events, in order",
            "content": {
                "application/json": {"schema": {"type": "array", "items": _OBJECT}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
        **ERRORS,
    },
    response_model=None,
)
def read_history(request: Request, case_no: str) -> Response:
    ledger = _reader(request)
    case = ledger.case(case_no)
    if "application/x-ndjson" in request.headers.get("accept", ""):
        return Response(dump_events(case.events), media_type="application/x-ndjson")
    return JSONResponse(_events(case))


@_reading(
    "/cases/{case_no}/evaluation",
    "How the case stood at as_of: clock, light, violations, sanctions, and why",
    _OBJECT,
    "the evaluation, with its explanation",
)
def evaluate_case(request: Request, case_no: str, as_of: AsOf = None) -> dict[str, Any]:
    ledger, moment = judging(request, as_of)
    evaluation = ledger.evaluate(case_no, moment)
    return {**evaluation.as_dict(), "explanation": evaluation.explain()}


def judging(request: Request, as_of: str | None) -> tuple[CaseLedger, dt.datetime]:
    """The ledger for a reader, and the moment to judge at (a day of the calendar)."""
    ledger = _reader(request)
    moment = as_of_moment(as_of, default=service_of(request).default_day)
    ledger.packs.check_day(moment.astimezone(CHINA_TIME).date())
    return ledger, moment


def check_filters(ledger: CaseLedger, **given: str | None) -> None:
    """Refuse a filter value no case has (:class:`UnknownFilterValue`): a misspelling would
    otherwise show an empty board as if nothing were wrong."""
    wanted = {column: value for column, value in given.items() if value}
    if wanted:
        ledger.catch_up()
    for column, value in wanted.items():
        assert value is not None and column in FILTER_COLUMNS
        known = known_values(ledger.read_models, column)
        if value not in known:
            raise UnknownFilterValue(column, value, known)


Light = Literal["red", "yellow"]


def board_page(
    ledger: CaseLedger,
    day: dt.date,
    *,
    department: str | None,
    window: str | None,
    item: str | None,
    light: str | None,
    offset: int,
    limit: int | None,
) -> tuple[Board, list[Any], int]:
    """The board of ``day`` (filtered), its entries from ``offset`` (at most ``limit``), and
    how many entries match in all."""
    check_filters(ledger, department=department, window=window, item=item)
    board = ledger.board(
        day, department=department or None, window=window or None, item=item or None
    )
    entries = [e for e in board.entries if light is None or e.light.value == light]
    end = None if limit is None else offset + limit
    return board, entries[offset:end], len(entries)


@_reading(
    "/board",
    "Open cases that are yellow or red on a day, worst first",
    _OBJECT,
    "the board",
)
def read_board(
    request: Request,
    as_of: AsOf = None,
    department: str | None = None,
    window: str | None = None,
    item: str | None = None,
    light: Light | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> dict[str, Any]:
    ledger = _reader(request)
    day = as_of_day(as_of, default=service_of(request).default_day)
    board, entries, total = board_page(
        ledger, day, department=department, window=window, item=item, light=light,
        offset=offset, limit=limit,
    )  # fmt: skip
    return {
        **board.as_dict(),
        "cases": [e.as_dict() for e in entries],
        "matching": total,
        "offset": offset,
        "limit": limit,
    }


Grouping = Literal["department", "window", "item", "month", "quarter", "pack"]


@_reading(
    "/statistics",
    "Received, finished, on time, early, overdue, average working days; sanctions",
    _OBJECT,
    "the statistics",
)
def read_statistics(
    request: Request, as_of: AsOf = None, by: Grouping = "department"
) -> dict[str, Any]:
    ledger = _reader(request)
    day = as_of_day(as_of, default=service_of(request).default_day)
    rows = ledger.statistics(day, by=by)
    scores = ledger.scores(day, by="window" if by == "window" else "department")
    return {
        "as_of": day.isoformat(),
        "by": by,
        "rows": [r.as_dict() for r in rows],
        "sanctions": [s.as_dict() for s in scores],
    }


@_reading(
    "/scores",
    "Sanctions rolled up per department or window",
    {"type": "array", "items": _OBJECT},
    "the scores",
)
def read_scores(
    request: Request, as_of: AsOf = None, by: Literal["department", "window"] = "department"
) -> list[dict[str, Any]]:
    ledger = _reader(request)
    day = as_of_day(as_of, default=service_of(request).default_day)
    return [s.as_dict() for s in ledger.scores(day, by=by)]


@_reading(
    "/projects",
    "Every parallel-approval project at as_of, worst first",
    {"type": "array", "items": _OBJECT},
    "the projects",
)
def read_projects(request: Request, as_of: AsOf = None) -> list[dict[str, Any]]:
    ledger = _reader(request)
    moment = as_of_moment(as_of, default=service_of(request).default_day)
    return [p.as_dict() for p in ledger.projects(moment)]


@_reading(
    "/projects/{project_no}",
    "A project's overall deadline, light, stages and cases at as_of, and why",
    _OBJECT,
    "the project's evaluation",
)
def read_project(request: Request, project_no: str, as_of: AsOf = None) -> dict[str, Any]:
    ledger, moment = judging(request, as_of)
    evaluation = ledger.evaluate_project(project_no, moment)
    return {**evaluation.as_dict(), "explanation": evaluation.explain()}


@_reading(
    "/packs",
    "The installed rule packs",
    {"type": "array", "items": _OBJECT},
    "the packs",
)
def read_packs(request: Request) -> list[dict[str, Any]]:
    ledger = _reader(request)
    return [
        {
            "name": pack.name,
            "version": pack.version,
            "title": pack.title,
            "extends": pack.data.pack.extends,
            "content_hash": pack.content_hash,
        }
        for pack in ledger.packs
    ]


def _auditor(request: Request) -> CaseLedger:
    service = service_of(request)
    service.principal(request).require("audit", path=_where(request))
    ledger: CaseLedger = service.ledger
    return ledger


@_reading(
    "/verify",
    "Check every hash chain (auditor)",
    _OBJECT,
    "the verification report",
)
def verify(request: Request) -> dict[str, Any]:
    return _report(_auditor(request).verify())


def _report(report: VerificationReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "cases": report.cases,
        "projects": report.projects,
        "events": report.events,
        "breaks": [
            {"case_no": b.case_no, "version": b.version, "problem": b.problem}
            for b in report.breaks
        ],
    }


@router.post(
    "/verify",
    summary="Check every hash chain and a seal taken earlier, sent as the body (auditor)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
    responses={200: _json(_OBJECT, "the verification report"), **ERRORS},
    response_model=None,
)
async def verify_seal(request: Request) -> Response:
    ledger = await run_in_threadpool(_auditor, request)
    sealed = parse_seal(await request.body(), source="the seal sent")
    report = await run_in_threadpool(ledger.verify, seal=sealed)
    return JSONResponse(_report(report))


@router.post(
    "/seals",
    summary="Seal every case's head (auditor): keep it outside the database",
    responses={201: _json(_OBJECT, "the seal, as `caseledger seal` writes it"), **ERRORS},
    response_model=None,
    status_code=201,
)
def seal(request: Request) -> Response:
    return Response(
        _auditor(request).seal().to_json(), status_code=201, media_type="application/json"
    )


# -- the transparency log: checkpoints, receipts and consistency proofs (auditor) ---------
# Signing stays with `caseledger checkpoint`, where the private key is: the server never
# holds it. What it serves verifies offline (`caseledger verify-proof`, audit/offline.py).

_TEXT = {"text/plain": {"schema": {"type": "string"}}}


def _no_checkpoint(request: Request) -> Response:
    problem = http_problem(
        404,
        "No checkpoint",
        "the ledger keeps no signed checkpoint yet; take one with `caseledger checkpoint "
        "--key FILE` where the private key is kept",
        instance=request.url.path,
    )
    return JSONResponse(problem, status_code=404, media_type="application/problem+json")


@router.get(
    "/checkpoints/latest",
    summary="The last signed checkpoint the ledger keeps (auditor): its C2SP signed-note text",
    responses={200: {"description": "the checkpoint", "content": _TEXT}, **ERRORS},
    response_model=None,
)
def latest_checkpoint(request: Request) -> Response:
    checkpoint = _auditor(request).latest_checkpoint()
    if checkpoint is None:
        return _no_checkpoint(request)
    return Response(checkpoint.text, media_type="text/plain; charset=utf-8")


@router.get(
    "/cases/{case_no}/receipt",
    summary="A case's receipt (回执, auditor): its events, their leaves and inclusion proofs "
    "against the last signed checkpoint, which it carries",
    responses={200: _json(_OBJECT, "the receipt, as `caseledger prove CASE` writes it"), **ERRORS},
    response_model=None,
)
def case_receipt(request: Request, case_no: str) -> Response:
    ledger = _auditor(request)
    if ledger.latest_checkpoint() is None:
        return _no_checkpoint(request)
    return Response(ledger.receipt(case_no), media_type="application/json")


@router.post(
    "/consistency",
    summary="The proof that the log of the last signed checkpoint extends an earlier "
    "checkpoint's, sent as the body (auditor, witness)",
    openapi_extra={"requestBody": {"required": True, "content": _TEXT}},
    responses={
        200: _json(_OBJECT, "the consistency proof, as `caseledger prove --since` writes it"),
        **ERRORS,
    },
    response_model=None,
)
async def consistency_proof(request: Request) -> Response:
    ledger = await run_in_threadpool(_auditor, request)
    old = parse_checkpoint(await request.body(), source="the checkpoint sent")
    if await run_in_threadpool(ledger.latest_checkpoint) is None:
        return _no_checkpoint(request)
    proof = await run_in_threadpool(ledger.consistency, old)
    return Response(proof, media_type="application/json")


_TOKEN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["token_id", "role", "department", "label", "created_at", "revoked_at", "active"],
    "properties": {
        "token_id": {"type": "string"},
        "role": {"enum": list(ROLES)},
        "department": {"type": ["string", "null"]},
        "label": {"type": "string"},
        "created_at": {"type": "string"},
        "revoked_at": {"type": ["string", "null"]},
        "active": {"type": "boolean"},
    },
}


def _tokens(request: Request) -> Any:
    service = service_of(request)
    service.principal(request).require("tokens", path=_where(request))
    if service.tokens is None:
        raise InvalidRequest(
            "tokens", "this server runs for local use, without tokens", "use caseledger tokens"
        )
    return service.tokens


@_reading(
    "/tokens",
    "Every token, revoked ones too (administrator); never a secret",
    {"type": "array", "items": _TOKEN_SCHEMA},
    "the tokens",
)
def list_tokens(request: Request) -> list[dict[str, Any]]:
    return [t.as_dict() for t in _tokens(request).list()]


@router.post(
    "/tokens",
    summary="Make a token (administrator); its secret is shown once, in this answer",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["role"],
                        "properties": {
                            "role": {"enum": list(ROLES)},
                            "department": {"type": ["string", "null"]},
                            "label": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
    responses={201: _json(_TOKEN_SCHEMA, "the token, with its secret"), **ERRORS},
    response_model=None,
    status_code=201,
)
async def make_token(request: Request) -> Response:
    store = await run_in_threadpool(_tokens, request)
    data = _parsed_json(await request.body())
    if not isinstance(data, dict) or not isinstance(data.get("role"), str):
        raise InvalidRequest("the body", "no role given", 'send {"role": "...", ...}')
    department, label = data.get("department"), data.get("label", "")
    if not isinstance(department, str | None) or not isinstance(label, str):
        raise InvalidRequest("the body", "department and label are strings", "fix them")
    token, secret = await run_in_threadpool(
        store.create, data["role"], department=department, label=label
    )
    return JSONResponse({**token.as_dict(), "secret": secret}, status_code=201)


@router.delete(
    "/tokens/{token_id}",
    summary="Revoke a token (administrator)",
    responses={200: _json(_TOKEN_SCHEMA, "the token, revoked"), **ERRORS},
    response_model=None,
)
def revoke_token(request: Request, token_id: str) -> dict[str, Any]:
    token = _tokens(request).revoke(token_id)
    result: dict[str, Any] = token.as_dict()
    return result
