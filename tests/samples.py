"""One sample of every event type, for golden files and round trips."""

from __future__ import annotations

import datetime as dt
from typing import Any

from caseledger import PROJECT_EVENT_TYPES, Command, ProjectCommand, RecordedEvent
from caseledger.domain.chain import GENESIS_HASH
from caseledger.domain.records import PackCommand

SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "received": {
        "channel": "window",
        "applicant": "APP-0001",
        "item_code": "QZ-SCJG-0101",
        "documents": ["申请书", "营业执照副本复印件"],
    },
    "accepted": {
        "item_code": "QZ-SCJG-0101",
        "case_kind": "promised",
        "rule_pack": "national",
        "notice_no": "受理〔2026〕1号",
        "rule_pack_version": "2019.1",
        "rule_pack_hash": "3d1ab551d1c4b5eefa3aade9becf10107777b7c595905b6ff18c8907383df7b7",
    },
    "not_accepted": {"reason": "不属于本机关职权范围", "notice_no": "不予受理〔2026〕1号"},
    "documents_requested": {
        "mode": "correction",
        "missing": [{"name": "身份证明"}, {"name": "平面图", "note": "需加盖公章"}],
        "notice_date": "2026-10-12",
        "notice_no": "补正〔2026〕1号",
    },
    "documents_supplemented": {"documents": ["身份证明", "平面图"]},
    "transferred": {
        "to": {"kind": "department", "code": "GH", "name": "市自然资源和规划局"},
        "reason": "联办件会审",
    },
    "clock_suspended": {
        "reason": "expert_review",
        "notice": {"number": "告知〔2026〕1号", "date": "2026-10-13", "expected_working_days": 5},
    },
    "clock_resumed": {"note": "专家评审结束"},
    "extended": {
        "working_days": 10,
        "approver": {"person": "H01", "role": "department_head", "department": "市市场监督管理局"},
        "reason": "情况复杂",
        "notice": {"number": "延期〔2026〕1号", "date": "2026-10-20"},
    },
    "stage_completed": {"stage": "review", "note": "审查通过"},
    "escalated": {
        "to": "higher_level",
        "reason": "属省级权限",
        "body": {"kind": "body", "code": "PROV", "name": "省市场监督管理局"},
    },
    "approved": {"decision_no": "决定〔2026〕1号", "note": "准予许可"},
    "denied": {"decision_no": "决定〔2026〕2号", "reason": "不符合法定条件"},
    "application_withdrawn": {"reason": "申请人主动撤回"},
    "certificate_issued": {"certificate_no": "JY13505000000001", "delivered_on": "2026-10-23"},
    "decision_altered": {
        "alteration": "revoked",
        "requested_by": {"kind": "department", "code": "ZFZD", "name": "执法支队"},
        "reason": "以欺骗手段取得许可",
        "document_no": "撤销〔2026〕1号",
    },
    "complaint_filed": {"complaint_id": "TS-0001", "summary": "办理进度慢"},
    "complaint_resolved": {"complaint_id": "TS-0001", "outcome": "rejected", "note": "未超时限"},
    "service_rated": {"satisfaction": "satisfied", "source": "follow_up_call", "note": "回访"},
    "project_registered": {
        "title": "滨海物流园一期",
        "kind": "general",
        "lead": {"kind": "department", "code": "市发改委"},
        "rule_pack": "quanzhou",
        "stages": [
            {"name": "第一阶段", "lead": {"kind": "department", "code": "市发改委"}},
            {"name": "第二阶段"},
        ],
        "series": "房屋建筑及市政基础设施工程",
    },
    "case_linked": {"case_no": "QZ-2026-000001", "stage": 1},
    "project_stage_completed": {"stage": 1, "note": "第一阶段办结"},
    "project_completed": {"note": "并联审批全部办结"},
    "project_withdrawn": {"reason": "项目取消"},
    "pack_recorded": {
        "name": "harbour_town",
        "version": "1.0",
        "content_hash": "8fd1198cf49314e155104b33471310e865a9646c28fff70f07b777f24efd85f9",
        "extends": "national",
        "extends_hash": "3d1ab551d1c4b5eefa3aade9becf10107777b7c595905b6ff18c8907383df7b7",
        "first_case": "QZ-2026-000001",
        "content": {"pack": {"name": "harbour_town", "version": "1.0"}, "limits": {}},
    },
}

ACTOR = {"person": "A008", "role": "window_a", "department": "市市场监督管理局", "window": "W08"}
AT = "2026-10-12T09:30:00+08:00"
RECORDED_AT = dt.datetime(2026, 10, 12, 1, 31, 2, 123456, tzinfo=dt.UTC)


def sample_command(event_type: str) -> Command | ProjectCommand | PackCommand:
    if event_type == "pack_recorded":
        return PackCommand.model_validate(
            {
                "command_id": f"golden-{event_type}",
                "at": AT,
                "actor": ACTOR,
                "event": {"type": event_type, **SAMPLE_BODIES[event_type]},
            }
        )
    if event_type in PROJECT_EVENT_TYPES:
        return ProjectCommand.model_validate(
            {
                "project_no": "XM-2026-001",
                "command_id": f"golden-{event_type}",
                "at": AT,
                "actor": ACTOR,
                "event": {"type": event_type, **SAMPLE_BODIES[event_type]},
            }
        )
    return Command.model_validate(
        {
            "case_no": "QZ-2026-000001",
            "command_id": f"golden-{event_type}",
            "at": AT,
            "actor": ACTOR,
            "event": {"type": event_type, **SAMPLE_BODIES[event_type]},
        }
    )


def sample_event(event_type: str) -> RecordedEvent:
    return RecordedEvent.chain(
        sample_command(event_type), version=3, prev_hash=GENESIS_HASH, recorded_at=RECORDED_AT
    )
