"""The board and the statistics as tables to download: CSV (UTF-8 with a byte-order mark, so
that spreadsheet programs read the Chinese right) and Excel (openpyxl). Headers carry the
Chinese label first, the field name beside it."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from caseledger.readmodels.reports import BoardEntry, StatRow

__all__ = [
    "BOARD_COLUMNS",
    "STAT_COLUMNS",
    "board_rows",
    "csv_bytes",
    "stat_rows",
    "xlsx_bytes",
]

BOARD_COLUMNS = (
    ("办件编号", "case_no"), ("灯", "light"), ("状态", "status"), ("事项", "item_code"),
    ("部门", "department"), ("窗口", "window"), ("期限种类", "deadline_kind"),
    ("期限", "deadline"), ("剩余工作日", "working_days_left"), ("违规", "violations"),
    ("中止中", "paused"), ("暂定", "provisional"), ("规则包", "rule_pack"),
)  # fmt: skip
STAT_COLUMNS = (
    ("分组", "key"), ("收件", "received"), ("办结", "finished"), ("按时", "on_time"),
    ("提前办结", "early"), ("超时", "overdue"), ("在办", "open"),
    ("平均工作日", "average_working_days"), ("评价", "rated"), ("好评", "rated_good"),
)  # fmt: skip


def header(columns: Sequence[tuple[str, str]]) -> list[str]:
    return [f"{zh} {name}" for zh, name in columns]


def board_rows(entries: Sequence[BoardEntry]) -> list[list[Any]]:
    """One row a board entry, in the order of :data:`BOARD_COLUMNS`."""
    rows = []
    for e in entries:
        data = e.as_dict()
        data["violations"] = ";".join(e.violations)
        rows.append([data[name] for _, name in BOARD_COLUMNS])
    return rows


def stat_rows(rows: Sequence[StatRow]) -> list[list[Any]]:
    """One row a statistics row, in the order of :data:`STAT_COLUMNS`."""
    return [[r.as_dict()[name] for _, name in STAT_COLUMNS] for r in rows]


def csv_bytes(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header(columns))
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return b"\xef\xbb\xbf" + text.getvalue().encode("utf-8")


def xlsx_bytes(
    title: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]
) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(header(columns))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
