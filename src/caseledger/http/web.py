"""The supervision office's web board (电子监察): server-rendered pages, Chinese labels first.

The board with its filters and pages, a case as of a moment (timeline, the clock and each
rule it cites, violations and sanctions), the statistics with their charts, the projects;
the board and the statistics as CSV and Excel. A browser keeps its token in a cookie set
by the login page, read for GET requests only (the pages only read).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Query, Request
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from caseledger.domain.moments import CHINA_TIME
from caseledger.domain.vocabulary import CaseStatus
from caseledger.errors import CaseNotFound
from caseledger.http.access import COOKIE
from caseledger.http.api import board_page, judging, service_of
from caseledger.http.charts import bar_chart
from caseledger.http.exports import (
    BOARD_COLUMNS,
    STAT_COLUMNS,
    board_rows,
    csv_bytes,
    stat_rows,
    xlsx_bytes,
)
from caseledger.http.moments import as_of_day, as_of_moment
from caseledger.judging.judgement import VIOLATION_ZH
from caseledger.ledger import CaseLedger
from caseledger.readmodels.reports import known_values
from caseledger.rules.model import Violation

__all__ = ["PAGE_SIZE", "is_page", "login_page", "problem_page", "router"]

PAGE_SIZE = 25
router = APIRouter(include_in_schema=False)
_env = Environment(
    loader=PackageLoader("caseledger.http", "templates"),
    autoescape=select_autoescape(["html"]),
)
LIGHT_ZH = {"red": "红灯 red", "yellow": "黄灯 yellow", "green": "绿灯 green"}


def _status(value: str) -> str:
    try:
        return CaseStatus(value).label
    except ValueError:
        return value


def _violation(value: str) -> str:
    try:
        return f"{VIOLATION_ZH[Violation(value)]} ({value})"
    except ValueError:
        return value


_env.filters.update(status=_status, violation=_violation, light=lambda v: LIGHT_ZH.get(v, v))


def is_page(request: Request) -> bool:
    """Whether the request is for a page of the board (not the API, not a download)."""
    path = request.url.path
    return not path.startswith(("/api/", "/static/")) and not path.endswith((".csv", ".xlsx"))


def _html(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status)


def login_page(request: Request, message: str, *, status: int) -> HTMLResponse:
    """The login page (a token pasted in), with why it is shown."""
    query = request.url.query
    target = request.url.path + (f"?{query}" if query else "")
    return _html("login.html", status, message=message, next=target)


def problem_page(problem: dict[str, Any]) -> HTMLResponse:
    """A problem (a typed error's) as a page, with its status."""
    return _html(
        "problem.html", int(problem["status"]), title=problem["title"], detail=problem["detail"]
    )


def _reader(request: Request) -> CaseLedger:
    service = service_of(request)
    service.principal(request).require("read", path=f"{request.method} {request.url.path}")
    ledger: CaseLedger = service.ledger
    return ledger


@router.get("/")
def home() -> Response:
    return RedirectResponse("/board", status_code=303)


@router.get("/login")
def login_form(request: Request) -> Response:
    return login_page(request, "", status=200)


@router.post("/login")
async def login(request: Request) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    secret = (form.get("token") or [""])[0].strip()
    target = (form.get("next") or ["/board"])[0]
    service = service_of(request)
    if (
        service.tokens is not None
        and await run_in_threadpool(service.tokens.authenticate, secret) is None
    ):
        return login_page(request, "令牌无效 the token is unknown, forged or revoked", status=401)
    safe = target.startswith("/") and not target.startswith("//")  # never to another site
    response = RedirectResponse(target if safe else "/board", status_code=303)
    response.set_cookie(COOKIE, secret, httponly=True, samesite="strict")
    return response


def _choices(ledger: CaseLedger) -> dict[str, list[str]]:
    ledger.catch_up()
    return {
        column: sorted(known_values(ledger.read_models, column))
        for column in ("department", "window", "item")
    }


@router.get("/board")
def board(
    request: Request,
    as_of: str | None = None,
    department: str | None = None,
    window: str | None = None,
    item: str | None = None,
    light: Literal["red", "yellow", ""] = "",
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = PAGE_SIZE,
) -> Response:
    ledger = _reader(request)
    day = as_of_day(as_of, default=service_of(request).default_day)
    filters = {"department": department, "window": window, "item": item, "light": light}
    chosen = {k: v for k, v in filters.items() if v}
    result, entries, total = board_page(
        ledger, day, department=department, window=window, item=item, light=light or None,
        offset=(page - 1) * size, limit=size,
    )  # fmt: skip
    query = urlencode({"as_of": day.isoformat(), **chosen})
    pages = max(1, math.ceil(total / size))
    paging = {"size": str(size)} if size != PAGE_SIZE else {}
    return _html(
        "board.html",
        board=result,
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        day=day,
        chosen=chosen,
        choices=_choices(ledger),
        query=query,
        page_link=lambda n: (
            "/board?" + urlencode({"as_of": day.isoformat(), **chosen, **paging, "page": n})
        ),
    )


Download = Literal["csv", "xlsx"]
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/board.{kind}")
def board_download(
    request: Request,
    kind: Download,
    as_of: str | None = None,
    department: str | None = None,
    window: str | None = None,
    item: str | None = None,
    light: Literal["red", "yellow", ""] = "",
) -> Response:
    """The board (filtered as the page is, every page of it) as CSV or Excel."""
    ledger = _reader(request)
    day = as_of_day(as_of, default=service_of(request).default_day)
    _, entries, _ = board_page(
        ledger, day, department=department, window=window, item=item, light=light or None,
        offset=0, limit=None,
    )  # fmt: skip
    return _table(kind, f"board-{day}", BOARD_COLUMNS, board_rows(entries))


def _table(
    kind: Download, name: str, columns: Sequence[tuple[str, str]], rows: list[list[Any]]
) -> Response:
    if kind == "csv":
        data, media_type = csv_bytes(columns, rows), "text/csv; charset=utf-8"
    else:
        data, media_type = xlsx_bytes(name, columns, rows), _XLSX
    return _download(data, f"{name}.{kind}", media_type)


def _download(data: bytes, name: str, media_type: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/cases/{case_no}")
def case_page(request: Request, case_no: str, as_of: str | None = None) -> Response:
    ledger, moment = judging(request, as_of)
    try:
        case = ledger.case(case_no, as_of=moment)
        evaluation = ledger.evaluate(case_no, moment)
    except CaseNotFound as error:
        return _html("problem.html", 404, title="未找到办件 case not found", detail=str(error))
    local = moment.astimezone(CHINA_TIME)
    return _html(
        "case.html",
        case=case,
        account=evaluation.as_dict(),
        explanation=evaluation.explain(),
        moment=local.strftime("%Y-%m-%dT%H:%M"),
    )


Grouping = Literal["month", "department"]


def _statistics(request: Request, as_of: str | None, by: str) -> tuple[dt.date, list[Any]]:
    ledger = _reader(request)
    day = as_of_day(as_of, default=service_of(request).default_day)
    return day, ledger.statistics(day, by=by)  # type: ignore[arg-type]


@router.get("/statistics")
def statistics(request: Request, as_of: str | None = None) -> Response:
    day, by_month = _statistics(request, as_of, "month")
    by_department = service_of(request).ledger.statistics(day, by="department")
    return _html(
        "statistics.html",
        day=day,
        tables=[
            ("按月 by month", "month", by_month),
            ("按部门 by department", "department", by_department),
        ],
        charts=[
            bar_chart(by_month, title="按月 by month"),
            bar_chart(by_department, title="按部门 by department"),
        ],
    )


@router.get("/statistics.{kind}")
def statistics_download(
    request: Request, kind: Download, as_of: str | None = None, by: Grouping = "month"
) -> Response:
    """The statistics by month or department as CSV or Excel."""
    day, rows = _statistics(request, as_of, by)
    return _table(kind, f"statistics-{by}-{day}", STAT_COLUMNS, stat_rows(rows))


@router.get("/projects")
def projects(request: Request, as_of: str | None = None) -> Response:
    ledger = _reader(request)
    moment = as_of_moment(as_of, default=service_of(request).default_day)
    evaluations = [p.as_dict() for p in ledger.projects(moment)]
    return _html("projects.html", projects=evaluations, day=moment.astimezone(CHINA_TIME).date())
