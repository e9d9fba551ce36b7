"""The ASGI application: the JSON API under ``/api/v1`` and the web board beside it.

    app = create_app(ledger)                      # tokens required
    app = create_app(ledger, auth=False)          # local use only: no tokens asked

Blocking ledger calls run in a thread pool, so one slow call (a catch-up after a bulk import,
a large board) never holds the event loop; every error is a problem details response.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from caseledger import __version__
from caseledger.errors import CaseLedgerError, NotAuthenticated
from caseledger.http import api, web
from caseledger.http.access import COOKIE, Principal, authenticate, log
from caseledger.http.problems import http_problem, problem_of, problem_response
from caseledger.http.tokens import TokenStore
from caseledger.interchange.schema import interchange_schema
from caseledger.ledger import CaseLedger

__all__ = ["DEFAULT_MAX_BODY", "Service", "create_app"]

DEFAULT_MAX_BODY = 8 * 1024 * 1024
"""The largest request body taken (8 MiB); a larger one is refused with 413."""


@dataclass
class Service:
    """What every request handler shares: the ledger, its tokens, and the day a board shows
    when none is asked for (None: today)."""

    ledger: CaseLedger
    tokens: TokenStore | None
    default_day: dt.date | None = None

    def principal(self, request: Request) -> Principal:
        cookie = request.cookies.get(COOKIE) if request.method in ("GET", "HEAD") else None
        return authenticate(
            self.tokens,
            request.headers.get("authorization"),
            cookie,
            path=f"{request.method} {request.url.path}",
        )


class BodyLimit:
    """Refuse a request body larger than ``limit`` bytes with 413 (by its Content-Length, or
    while it streams in), before any handler reads it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # handled as the routes' errors are (a problem, 413)
                raise StarletteHTTPException(413, _too_large(self.limit))
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = http_problem(
            413,
            "Request Too Large",
            _too_large(self.limit),
            instance=scope["path"],
        )
        await problem_response(problem, headers={"Connection": "close"})(scope, receive, send)


def _too_large(limit: int) -> str:
    return (
        f"the request body is larger than {limit} bytes (or its Content-Length is not a "
        "number); nothing was recorded: split a batch into smaller ones"
    )


def create_app(
    ledger: CaseLedger,
    *,
    auth: bool = True,
    max_body: int = DEFAULT_MAX_BODY,
    default_day: dt.date | None = None,
) -> ASGIApp:
    """The application over ``ledger``: with ``auth`` every request needs a bearer token of
    the ledger's token table; without it (local use) none is asked."""
    app = FastAPI(
        title="caseledger",
        version=__version__,
        summary="The ledger of administrative-approval cases (行政审批办件) over HTTP.",
        description=(
            "JSON bodies are the interchange format of caseledger (one event line, see "
            "docs/schema/event-line.schema.json); every error is problem details (RFC 9457) "
            "with the library's message, which says what was wrong and how to fix it."
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.service = Service(ledger, TokenStore(ledger.store) if auth else None, default_day)
    app.include_router(api.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(packages=[("caseledger.http", "static")]), name="static")
    # the transparency log's checkpoints and inclusion proofs (audit/) will be routed here,
    # under /api/v1/checkpoints, when the library has them

    @app.exception_handler(CaseLedgerError)
    async def typed(request: Request, error: CaseLedgerError) -> Response:
        problem = problem_of(error, instance=request.url.path)
        if web.is_page(request):
            if isinstance(error, NotAuthenticated):
                return web.login_page(request, str(error), status=401)
            return web.problem_page(problem)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, NotAuthenticated) else None
        return problem_response(problem, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in error.errors()
        ]
        listed = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        problem = http_problem(
            422,
            "Invalid Parameter",
            f"the request does not validate: {listed}; fix the parameters named",
            instance=request.url.path,
        )
        problem["problems"] = problems
        return problem_response(problem)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            detail = (
                f"no route {request.url.path!r}; the API is under /api/v1 "
                "(its OpenAPI at /api/v1/openapi.json)"
            )
        elif error.status_code == 405:
            detail = (
                f"{request.method} is not a method of {request.url.path!r}; "
                f"use {error.headers.get('Allow', 'another') if error.headers else 'another'}"
            )
        else:
            detail = str(error.detail)
        problem = http_problem(
            error.status_code, _title(error.status_code), detail, instance=request.url.path
        )
        return problem_response(problem, headers=dict(error.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        problem = http_problem(
            500,
            "Internal Server Error",
            f"the server failed ({type(error).__name__}); nothing more is said here, the "
            "server's log has the details: report it",
            instance=request.url.path,
        )
        return problem_response(problem)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return BodyLimit(app, max_body)


def _title(status: int) -> str:
    titles = {404: "Not Found", 405: "Method Not Allowed", 413: "Request Too Large"}
    return titles.get(status, f"HTTP {status}")


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's OpenAPI 3.1 document, with the interchange line's schema as a component."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    line = interchange_schema()
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name, definition in line.pop("$defs").items():
        schemas[name] = _rerooted(definition)
    schemas["EventLine"] = _rerooted({k: v for k, v in line.items() if k not in ("$schema", "$id")})
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "caseledger tokens new"}
    }
    schema["security"] = [{"bearer": []}]
    return schema


def _rerooted(value: Any) -> Any:
    """JSON Schema ``#/$defs/X`` references as OpenAPI's ``#/components/schemas/X``."""
    if isinstance(value, dict):
        return {
            k: (
                v.replace("#/$defs/", "#/components/schemas/")
                if k == "$ref" and isinstance(v, str)
                else _rerooted(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rerooted(v) for v in value]
    return value
