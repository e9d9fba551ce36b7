"""A realistic sample month of cases across the cities of the bundled packs, with their
parallel-approval projects, for ``caseledger demo``.

Sample data, not law: the departments, windows, item codes and projects are illustrative.
``demo_commands`` makes one city's cases (by default Quanzhou's, accepted under the
``quanzhou`` pack; or Wuhou's, Xinjian's or Haiyang's, under theirs); ``demo_month`` puts
the cities together with parallel-approval projects of Quanzhou (seed 000 line 22: a lead
department, five stages, 28 or 37 working days). The paths follow the field: immediate
cases decided at the window,
promised cases through 受理/审查/决定, 补正 before acceptance, 容缺 after it, Art. 45
expert reviews with their written notice, Art. 42 extensions, denials, withdrawals, a
revocation pushed by a supervising department, a complaint. Some cases go wrong, as
they do, for the supervision board to show: one left without any reaction, one suspended
without its written notice, one never decided. The generator is seeded, so the same call
gives the same commands.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from caseledger.domain.moments import CHINA_TIME as CST
from caseledger.domain.records import Command, ProjectCommand

__all__ = ["DEMO_CITIES", "DEMO_LAST_DAY", "demo_commands", "demo_month"]

DEMO_FIRST_DAY = dt.date(2026, 10, 12)
DEMO_LAST_DAY = dt.date(2026, 11, 20)


@dataclass(frozen=True)
class _Item:
    code: str
    name: str
    department: str
    window: str


_ITEMS = (
    _Item("QZ-SCJG-0101", "食品经营许可", "市市场监督管理局", "W08"),
    _Item("QZ-SCJG-0102", "企业名称变更登记", "市市场监督管理局", "W09"),
    _Item("QZ-ZJ-0201", "建筑工程施工许可", "市住房和城乡建设局", "W15"),
    _Item("QZ-ZJ-0202", "商品房预售许可", "市住房和城乡建设局", "W16"),
    _Item("QZ-JT-0301", "道路运输经营许可", "市交通运输局", "W21"),
    _Item("QZ-SL-0401", "取水许可", "市水利局", "W24"),
    _Item("QZ-WS-0501", "公共场所卫生许可", "市卫生健康委员会", "W27"),
    _Item("QZ-HB-0601", "建设项目环境影响评价审批", "市生态环境局", "W30"),
)

_MISSING = ("营业执照副本复印件", "法定代表人身份证明", "场所平面布局图", "授权委托书")


@dataclass(frozen=True)
class _City:
    pack: str
    prefix: str
    items: tuple[_Item, ...]
    rated: bool = False
    """Finished cases are rated by a follow-up call (seed 001 line 20: 回访结果输入评价系统)."""


DEMO_CITIES: dict[str, _City] = {
    "quanzhou": _City("quanzhou", "QZ", _ITEMS),
    # seed 002: items moved to the district's approval bureau (行政审批局)
    "wuhou": _City("wuhou", "WH", (
        _Item("WH-SP-0101", "食品经营许可", "武侯区行政审批局", "W03"),
        _Item("WH-JS-0201", "建筑工程施工许可", "武侯区行政审批局", "W06"),
        _Item("WH-WH-0301", "娱乐场所经营许可", "武侯区行政审批局", "W09"),
    )),
    # seed 003: the approval bureau, acceptance at the window counter
    "xinjian": _City("xinjian", "XJ", (
        _Item("XJ-SP-0101", "食品经营许可", "新建区行政审批局", "W02"),
        _Item("XJ-JT-0201", "道路运输经营许可", "新建区行政审批局", "W05"),
    )),
    # seed 001: department windows in the service bureau, after unified registration
    "haiyang": _City("haiyang", "HY", (
        _Item("HY-SCJG-0101", "食品经营许可", "海阳市市场监督管理局", "W11"),
        _Item("HY-ZJ-0201", "建筑工程施工许可", "海阳市住房和城乡建设局", "W14"),
        _Item("HY-WS-0301", "公共场所卫生许可", "海阳市卫生健康局", "W17"),
    ), rated=True),
}  # fmt: skip


@dataclass
class _Story:
    """One case's commands, built event by event."""

    case_no: str
    item: _Item
    day: dt.date
    minute: int
    commands: list[dict[str, Any]] = field(default_factory=list)
    kind: str = "promised"
    pack: str = "quanzhou"

    def actor(self, person: str, role: str, *, window: bool = True) -> dict[str, Any]:
        actor = {"person": person, "role": role, "department": self.item.department}
        if window:
            actor["window"] = self.item.window
        return actor

    def later(self, working_days: int = 0, minutes: int = 20) -> None:
        for _ in range(working_days):
            self.day += dt.timedelta(days=1)
            while self.day.weekday() >= 5:
                self.day += dt.timedelta(days=1)
        self.minute = self.minute + minutes if working_days == 0 else 9 * 60 + 10

    def add(self, event: dict[str, Any], actor: dict[str, Any]) -> None:
        hour, minute = divmod(self.minute, 60)
        at = dt.datetime.combine(self.day, dt.time(hour, minute), tzinfo=CST)
        self.commands.append(
            {
                "case_no": self.case_no,
                "command_id": f"{self.case_no}-{len(self.commands) + 1}",
                "at": at.isoformat(),
                "actor": actor,
                "event": event,
            }
        )


def _received(s: _Story) -> None:
    s.add(
        {
            "type": "received",
            "channel": "window",
            "applicant": f"APP-{s.case_no[-4:]}",
            "item_code": s.item.code,
            "documents": ["申请书", "营业执照副本复印件"],
        },
        s.actor("A" + s.item.window[1:], "window_a"),
    )


def _accepted(s: _Story, kind: str) -> None:
    s.kind = kind
    s.later(0)
    s.add(
        {
            "type": "accepted",
            "item_code": s.item.code,
            "case_kind": kind,
            "rule_pack": s.pack,
            "notice_no": f"受理〔2026〕{s.case_no[-4:]}号",
        },
        s.actor("A" + s.item.window[1:], "window_a"),
    )


def _decide(s: _Story, days: int, *, deny: bool = False, by_window: bool = False) -> None:
    """The window decides the kinds it may (seed 000 line 21); the department head the rest."""
    s.later(days)
    if by_window or s.kind in ("immediate", "supplemented", "returned"):
        chief = s.actor("A" + s.item.window[1:], "window_a")
    else:
        chief = s.actor("H" + s.item.window[1:], "department_head", window=False)
    number = f"决定〔2026〕{s.case_no[-4:]}号"
    if deny:
        s.add({"type": "denied", "decision_no": number, "reason": "申请条件不符合规定"}, chief)
        return
    s.add({"type": "approved", "decision_no": number}, chief)


def _certificate(s: _Story, days: int) -> None:
    s.later(days)
    s.add(
        {"type": "certificate_issued", "certificate_no": f"证〔2026〕{s.case_no[-4:]}"},
        s.actor("A" + s.item.window[1:], "window_a"),
    )


def _stages(s: _Story, review_days: int) -> None:
    reviewer = s.actor("R" + s.item.window[1:], "reviewer", window=False)
    s.add(
        {"type": "stage_completed", "stage": "acceptance"},
        s.actor("A" + s.item.window[1:], "window_a"),
    )
    s.later(review_days)
    s.add({"type": "stage_completed", "stage": "review"}, reviewer)


def _immediate(s: _Story, rng: random.Random) -> None:
    _received(s)
    _accepted(s, "immediate")
    _decide(s, 0)
    _certificate(s, 0)


def _promised(s: _Story, rng: random.Random) -> None:
    _received(s)
    _accepted(s, "promised")
    _stages(s, rng.randint(2, 6))
    _decide(s, rng.randint(0, 2))
    s.add(
        {"type": "stage_completed", "stage": "decision"},
        s.actor("C" + s.item.window[1:], "chief_representative"),
    )
    _certificate(s, rng.randint(0, 3))


def _correction(s: _Story, rng: random.Random) -> None:
    _received(s)
    missing = rng.sample(_MISSING[1:], 2)
    s.later(0)
    s.add(
        {
            "type": "documents_requested",
            "mode": "correction",
            "missing": [{"name": name} for name in missing],
            "notice_date": s.day.isoformat(),
            "notice_no": f"补正〔2026〕{s.case_no[-4:]}号",
        },
        s.actor("A" + s.item.window[1:], "window_a"),
    )
    s.later(rng.randint(1, 4))
    s.add(
        {"type": "documents_supplemented", "documents": missing},
        s.actor("A" + s.item.window[1:], "window_a"),
    )
    _accepted(s, "promised")
    _decide(s, rng.randint(2, 8))
    _certificate(s, 1)


def _tolerated(s: _Story, rng: random.Random) -> None:
    _received(s)
    _accepted(s, "promised")
    s.later(0)
    s.add(
        {
            "type": "documents_requested",
            "mode": "tolerated",
            "missing": [{"name": "场所平面布局图", "note": "容缺受理, 承诺5个工作日内补齐"}],
            "notice_date": s.day.isoformat(),
        },
        s.actor("A" + s.item.window[1:], "window_a"),
    )
    s.later(rng.randint(1, 4))
    s.add(
        {"type": "documents_supplemented", "documents": ["场所平面布局图"]},
        s.actor("A" + s.item.window[1:], "window_a"),
    )
    _decide(s, rng.randint(1, 3))


def _expert_review(s: _Story, rng: random.Random) -> None:
    _received(s)
    _accepted(s, "promised")
    s.later(rng.randint(1, 3))
    days = rng.randint(5, 10)
    s.add(
        {
            "type": "clock_suspended",
            "reason": "expert_review",
            "notice": {
                "number": f"告知〔2026〕{s.case_no[-4:]}号",
                "date": s.day.isoformat(),
                "expected_working_days": days,
            },
        },
        s.actor("R" + s.item.window[1:], "reviewer", window=False),
    )
    s.later(days)
    s.add(
        {"type": "clock_resumed", "note": "专家评审意见已送达"},
        s.actor("R" + s.item.window[1:], "reviewer", window=False),
    )
    _decide(s, rng.randint(1, 4))


def _extended(s: _Story, rng: random.Random) -> None:
    _received(s)
    _accepted(s, "promised")
    s.later(rng.randint(6, 10))
    s.add(
        {
            "type": "extended",
            "working_days": 10,
            "approver": {
                "person": "H01",
                "role": "department_head",
                "department": s.item.department,
            },
            "reason": "涉及多个部门会签, 需延长审查期限",
        },
        s.actor("C" + s.item.window[1:], "chief_representative"),
    )
    _decide(s, rng.randint(3, 6))


def _denied(s: _Story, rng: random.Random) -> None:
    _received(s)
    _accepted(s, "promised")
    _decide(s, rng.randint(2, 6), deny=True)


def _not_accepted(s: _Story, rng: random.Random) -> None:
    _received(s)
    s.later(0)
    s.add(
        {"type": "not_accepted", "reason": "申请事项不属于本机关职权范围"},
        s.actor("A" + s.item.window[1:], "window_a"),
    )


def _withdrawn(s: _Story, rng: random.Random) -> None:
    _received(s)
    _accepted(s, "promised")
    s.later(rng.randint(1, 3))
    s.add(
        {"type": "application_withdrawn", "reason": "申请人主动撤回"},
        s.actor("A" + s.item.window[1:], "window_a"),
    )


def _revoked(s: _Story, rng: random.Random) -> None:
    _promised(s, rng)
    s.later(rng.randint(3, 6))
    s.add(
        {
            "type": "decision_altered",
            "alteration": "revoked",
            "requested_by": {
                "kind": "department",
                "code": "市场监管执法支队",
                "name": "市市场监督管理局执法支队",
            },
            "reason": "以欺骗手段取得许可",
            "document_no": f"撤销〔2026〕{s.case_no[-4:]}号",
        },
        {"person": "S01", "role": "supervisor", "department": "市市场监督管理局执法支队"},
    )


def _transferred_open(s: _Story, rng: random.Random) -> None:
    _received(s)
    _accepted(s, "joint")
    s.later(1)
    s.add(
        {
            "type": "transferred",
            "to": {
                "kind": "department",
                "code": "市自然资源和规划局",
                "name": "市自然资源和规划局",
            },
            "reason": "联办件: 转规划部门会审",
        },
        s.actor("A" + s.item.window[1:], "window_a"),
    )


def _escalated_open(s: _Story, rng: random.Random) -> None:
    _received(s)
    _accepted(s, "reported")
    s.later(rng.randint(1, 3))
    s.add(
        {
            "type": "escalated",
            "to": "higher_level",
            "reason": "属省级审批权限, 初审后上报",
            "body": {"kind": "body", "code": "省级主管部门"},
        },
        s.actor("C" + s.item.window[1:], "chief_representative"),
    )


def _complaint(s: _Story, rng: random.Random) -> None:
    _received(s)
    _accepted(s, "promised")
    s.later(rng.randint(2, 4))
    s.add(
        {
            "type": "complaint_filed",
            "complaint_id": f"TS-{s.case_no[-4:]}",
            "summary": "申请人反映办理进度慢",
        },
        {"person": "APP", "role": "applicant", "department": "申请人"},
    )
    s.later(1)
    s.add(
        {
            "type": "complaint_resolved",
            "complaint_id": f"TS-{s.case_no[-4:]}",
            "outcome": "rejected",
            "note": "未超承诺时限",
        },
        {"person": "S02", "role": "supervisor", "department": "市行政服务中心管委会"},
    )


def _window_overreach(s: _Story, rng: random.Random) -> None:
    """A promised case decided at the window, which may only pre-review it: ultra vires."""
    _received(s)
    _accepted(s, "promised")
    _decide(s, rng.randint(1, 3), by_window=True)


def _forgotten(s: _Story, rng: random.Random) -> None:
    """Received, then nothing: no acceptance, refusal or notice within 5 working days."""
    _received(s)


def _unnoticed_pause(s: _Story, rng: random.Random) -> None:
    """Suspended for testing without the written notice Art. 45 requires."""
    _received(s)
    _accepted(s, "promised")
    s.later(rng.randint(1, 3))
    s.add(
        {"type": "clock_suspended", "reason": "testing"},
        s.actor("R" + s.item.window[1:], "reviewer", window=False),
    )


def _stalled(s: _Story, rng: random.Random) -> None:
    """Accepted early in the month and never decided."""
    _received(s)
    _accepted(s, "promised")


_PATHS: tuple[tuple[Callable[[_Story, random.Random], None], int], ...] = (
    (_forgotten, 1),
    (_window_overreach, 1),
    (_unnoticed_pause, 1),
    (_stalled, 1),
    (_immediate, 14),
    (_promised, 14),
    (_correction, 6),
    (_tolerated, 4),
    (_expert_review, 3),
    (_extended, 2),
    (_denied, 2),
    (_not_accepted, 2),
    (_withdrawn, 2),
    (_revoked, 1),
    (_transferred_open, 3),
    (_escalated_open, 2),
    (_complaint, 2),
)


_FINISHED = {"approved", "denied", "not_accepted"}
_UNDONE = {"decision_altered", "application_withdrawn"}


def _rated(s: _Story, rng: random.Random) -> None:
    """A follow-up call the next working day rates a finished case (事项办结后, seed 001)."""
    types = {c["event"]["type"] for c in s.commands}
    if not types & _FINISHED or types & _UNDONE:
        return
    s.later(1)
    if s.day > DEMO_LAST_DAY:
        return
    satisfaction = rng.choice(
        ["very_satisfied", "very_satisfied", "satisfied", "basically_satisfied"]
    )
    s.add(
        {"type": "service_rated", "satisfaction": satisfaction, "source": "follow_up_call"},
        {"person": "R1", "role": "supervisor", "department": "海阳市政务服务中心"},
    )


def demo_commands(cases: int = 60, *, seed: int = 2026, city: str = "quanzhou") -> list[Command]:
    """``cases`` sample cases of ``city`` (in the order their events happened), reproducibly."""
    return [Command.model_validate(c) for c in _city_commands(cases, seed, DEMO_CITIES[city])]


def _city_commands(cases: int, seed: int, city: _City) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    paths = [path for path, weight in _PATHS for _ in range(weight)]
    weekdays = [
        DEMO_FIRST_DAY + dt.timedelta(days=n)
        for n in range((DEMO_LAST_DAY - DEMO_FIRST_DAY).days)
        if (DEMO_FIRST_DAY + dt.timedelta(days=n)).weekday() < 5
    ]
    rng.shuffle(paths)
    commands: list[dict[str, Any]] = []
    for number in range(1, cases + 1):
        path, item = paths[(number - 1) % len(paths)], rng.choice(city.items)
        latest = len(weekdays)
        while True:  # start early enough to end by DEMO_LAST_DAY
            story = _Story(
                case_no=f"{city.prefix}-2026-{number:06d}",
                item=item,
                day=rng.choice(weekdays[:latest]),
                minute=rng.randint(9 * 60, 16 * 60),
                pack=city.pack,
            )
            path(story, rng)
            if story.day <= DEMO_LAST_DAY:
                break
            latest = max(1, latest // 2)
        if city.rated:
            _rated(story, rng)
        commands.extend(story.commands)
    commands.sort(key=lambda c: (c["at"], c["case_no"]))
    return commands


_PROJECT_LEAD = {"kind": "department", "code": "市发改委", "name": "泉州市发展和改革委员会"}
_PROJECT_OFFICER = {"person": "F01", "role": "window_a", "department": "市发改委", "window": "W01"}
_PROJECT_ITEMS = (_ITEMS[5], _ITEMS[7], _ITEMS[2])  # 取水, 环评, 施工许可


@dataclass(frozen=True)
class _ProjectPlan:
    number: str
    title: str
    kind: str
    registered: dt.date
    stage_days: tuple[int, ...]
    """Working days each completed stage takes; fewer than five leaves the project open."""


_PROJECTS = (
    _ProjectPlan("XM-2026-001", "滨海物流园一期", "general", dt.date(2026, 10, 13),
                 (4, 5, 6, 5, 5)),
    _ProjectPlan("XM-2026-002", "城东污水处理厂扩建", "complex", dt.date(2026, 10, 12),
                 (6, 7, 8)),
    _ProjectPlan("XM-2026-003", "智能装备产业园", "general", dt.date(2026, 10, 12),
                 (5, 6, 7, 6)),
)  # fmt: skip


def _project_commands(plan: _ProjectPlan, rng: random.Random) -> list[dict[str, Any]]:
    """A project of Quanzhou: registered by its lead, one case per stage linked and decided
    as the stages complete, and completed when every stage is."""
    commands: list[dict[str, Any]] = []
    moment = dt.datetime.combine(plan.registered, dt.time(9, 30), tzinfo=CST)

    def add(event: dict[str, Any], at: dt.datetime) -> None:
        commands.append({
            "project_no": plan.number, "command_id": f"{plan.number}-{len(commands) + 1}",
            "at": at.isoformat(), "actor": _PROJECT_OFFICER, "event": event,
        })  # fmt: skip

    add({"type": "project_registered", "title": plan.title, "kind": plan.kind,
         "lead": _PROJECT_LEAD, "rule_pack": "quanzhou", "series": "房屋建筑及市政基础设施工程",
         "stages": [{"name": f"第{n}阶段"} for n in "一二三四五"]}, moment)  # fmt: skip
    day = plan.registered
    cases: list[dict[str, Any]] = []
    for stage, days in enumerate(plan.stage_days, start=1):
        story = _Story(
            case_no=f"QZ-{plan.number}-{stage}", item=_PROJECT_ITEMS[stage % 3], day=day,
            minute=10 * 60,
        )  # fmt: skip
        _received(story)
        _accepted(story, "joint")
        add({"type": "case_linked", "case_no": story.case_no, "stage": stage},
            dt.datetime.combine(day, dt.time(10, 30), tzinfo=CST))  # fmt: skip
        _decide(story, days - 1)
        _certificate(story, 0)
        cases += story.commands
        day = story.day + dt.timedelta(days=1)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        add({"type": "project_stage_completed", "stage": stage},
            dt.datetime.combine(story.day, dt.time(16, 0), tzinfo=CST))  # fmt: skip
    if len(plan.stage_days) == 5:
        add({"type": "project_completed", "note": "并联审批全部办结"},
            dt.datetime.combine(story.day, dt.time(16, 30), tzinfo=CST))  # fmt: skip
    return [*commands, *cases]


def demo_month(
    cases: int = 60, *, seed: int = 2026, projects: bool = True
) -> list[Command | ProjectCommand]:
    """A month of every city: ``cases`` of Quanzhou, half as many of Wuhou and of Haiyang, a
    third as many of Xinjian, and (``projects``) Quanzhou's parallel-approval projects, in
    the order the events happened, reproducibly."""
    rng = random.Random(seed)
    shares = {"quanzhou": cases, "wuhou": cases // 2, "haiyang": cases // 2, "xinjian": cases // 3}
    lines: list[dict[str, Any]] = []
    for offset, (name, count) in enumerate(shares.items()):
        if count:  # each city its own draw, so their months differ
            lines += _city_commands(count, seed + offset, DEMO_CITIES[name])
    if projects:
        for plan in _PROJECTS:
            lines += _project_commands(plan, rng)
    lines.sort(key=lambda c: (c["at"], c.get("case_no") or c["project_no"], c["command_id"]))
    return [
        ProjectCommand.model_validate(c) if "project_no" in c else Command.model_validate(c)
        for c in lines
    ]
