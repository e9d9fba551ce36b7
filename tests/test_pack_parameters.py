"""Pack parameters: a date the source does not give, declared by a template pack and valued
by a pack that extends it; a pack without the value loads, lists, validates and runs its
scenarios, but judges and records no case."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest

from caseledger import BatchRejected, CaseKind, CaseLedger, PackError, PackRegistry
from caseledger.domain.chain import canonical_json
from caseledger.errors import CaseLedgerError, PackParameterMissing
from caseledger.rules import Decision, Violation
from caseledger.rules.validation import check_pack
from caseledger.scenarios.files import load_scenarios
from caseledger.scenarios.folder import load_pack_folder, run_pack_scenarios
from caseledger.scenarios.runner import run_scenario
from tests import helpers
from tests.conftest import fixed_clock
from tests.helpers import RECEIVED, command, snapshot

D = dt.date
HEADER = """
[pack]
name = "{name}"
version = "1.0"
title = "测试包 (test pack)"
extends = "{extends}"
reference = "tests/test_pack_parameters.py"
catalogue = "open"
"""
DECLARED = """
[parameters.transfer_date]
description = "The first day the bureau decides: the day after the meeting."
reference = "test seed: 从会议召开次日起 (the meeting's date is masked)"
"""
TRANSFER = """
[[scopes.organ_decides]]
from = 2004-07-01
override = true
holder = { department = "*", roles = ["*"] }
decisions = []
reference = "test seed: powers are listed below"

[[scopes.department_decides]]
from = 2004-07-01
to = "${transfer_date}-1"
holder = { department = "市场监管局", roles = ["*"] }
decisions = ["decide"]
items = ["X-1"]
reference = "test seed: the department decides until the transfer"

[[scopes.bureau_decides]]
from = "${transfer_date}"
holder = { department = "审批局", roles = ["*"] }
decisions = ["decide"]
items = ["X-1"]
reference = "test seed: the bureau decides from the transfer"
"""
VALUED = """
[parameters.transfer_date]
value = {value}
reference = "test minutes: the meeting was held the day before"
"""
CHIEF = {"person": "K1", "role": "section_chief", "department": "市场监管局"}
BUREAU = {"person": "S1", "role": "section_chief", "department": "审批局"}


def write_pack(root: Path, name: str, body: str = "", extends: str = "national") -> Path:
    return helpers.write_pack(root, name, body, extends, HEADER)


def template_and_locality(root: Path, value: str = "2019-06-15") -> PackRegistry:
    write_pack(root, "template_town", DECLARED + TRANSFER)
    write_pack(root, "real_town", VALUED.format(value=value), extends="template_town")
    return PackRegistry.discover([root])


def problems_of(root: Path, name: str) -> list[str]:
    registry = PackRegistry.discover([root])
    assert name in registry.broken, f"{name} loaded although broken"
    return [str(p) for p in registry.broken[name].problems]


def decider(registry: PackRegistry, name: str, actor: dict[str, str], on: D) -> str | None:
    pack = registry.get(name)
    who = (actor["role"], actor["department"], None)
    scope = pack.authorising_scope(who, Decision.DECIDE, "X-1", CaseKind.PROMISED, on)
    return scope.key if scope else None


# -- a template: loads, lists, validates, but refuses to judge ------------------------------


def test_a_pack_whose_parameter_has_no_value_loads_validates_and_says_what_it_needs(
    tmp_path: Path,
) -> None:
    registry = template_and_locality(tmp_path)
    assert "template_town" in registry.names() and "template_town" not in registry.broken
    template = registry.get("template_town", judging=False)
    assert check_pack(template) == []
    assert template.missing_parameters == ["transfer_date"]
    parameter = template.parameters["transfer_date"]
    assert (parameter.declared_in, parameter.value, parameter.kind) == (
        "template_town",
        None,
        "date",
    )
    assert registry.origin("template_town").startswith("directory")
    with pytest.raises(PackParameterMissing) as caught:
        registry.get("template_town")
    error = caught.value
    assert isinstance(error, CaseLedgerError)
    assert error.pack == "template_town" and error.parameters == {"transfer_date": "template_town"}
    assert "extends 'template_town'" in str(error)
    assert "[parameters.transfer_date] value = YYYY-MM-DD" in str(error)


def test_until_the_value_is_given_the_parameterised_rules_apply_on_no_day(tmp_path: Path) -> None:
    template = template_and_locality(tmp_path).get("template_town", judging=False)
    scopes = {r.key for r in template.scopes_on(D(2030, 1, 1))}
    assert "bureau_decides" not in scopes and "department_decides" not in scopes


# -- a locality gives the value; the nearest value wins --------------------------------------


def test_a_pack_that_extends_the_template_gives_the_date_and_the_rules_follow_it(
    tmp_path: Path,
) -> None:
    registry = template_and_locality(tmp_path, "2019-06-15")
    town = registry.get("real_town")
    assert town.missing_parameters == []
    parameter = town.parameters["transfer_date"]
    assert (parameter.value, parameter.set_in, parameter.declared_in) == (
        D(2019, 6, 15),
        "real_town",
        "template_town",
    )
    # "${transfer_date}-1" ends the department's power on the meeting day, Friday 14 June
    assert decider(registry, "real_town", CHIEF, D(2019, 6, 14)) == "department_decides"
    assert decider(registry, "real_town", CHIEF, D(2019, 6, 15)) is None
    assert decider(registry, "real_town", BUREAU, D(2019, 6, 14)) is None
    assert decider(registry, "real_town", BUREAU, D(2019, 6, 15)) == "bureau_decides"


def test_the_nearest_pack_that_gives_a_value_wins(tmp_path: Path) -> None:
    template_and_locality(tmp_path, "2019-06-15")
    write_pack(tmp_path, "later_town", VALUED.format(value="2019-06-20"), extends="real_town")
    registry = PackRegistry.discover([tmp_path])
    later = registry.get("later_town")
    assert later.parameters["transfer_date"].set_in == "later_town"
    assert decider(registry, "later_town", CHIEF, D(2019, 6, 19)) == "department_decides"
    assert decider(registry, "later_town", BUREAU, D(2019, 6, 20)) == "bureau_decides"
    assert decider(registry, "real_town", BUREAU, D(2019, 6, 15)) == "bureau_decides"


def test_calendar_day_offsets_shift_the_date_forward_and_back(tmp_path: Path) -> None:
    write_pack(
        tmp_path,
        "meeting_town",
        """
        [parameters.meeting_date]
        description = "The day of the reform meeting."
        reference = "test seed: 从会议召开次日起"
        value = 2019-06-14

        [[thresholds.yellow]]
        from = "${meeting_date}+1"
        to = "${meeting_date}+10"
        working_days_left = 3
        reference = "test seed: from the day after the meeting"

        [[thresholds.yellow]]
        from = "${meeting_date}+11"
        working_days_left = 2
        reference = "test seed: later"
        """,
    )
    pack = PackRegistry.discover([tmp_path]).get("meeting_town")
    assert pack.resolve_date("${meeting_date}-1") == D(2019, 6, 13)
    assert pack.yellow_threshold(D(2019, 6, 14)) is None
    first = pack.yellow_threshold(D(2019, 6, 15))  # a Saturday: calendar days, not working
    assert first is not None and first.rule.working_days_left == 3
    assert first.rule.starts == D(2019, 6, 15) and first.rule.ends == D(2019, 6, 24)
    later = pack.yellow_threshold(D(2019, 6, 25))
    assert later is not None and later.rule.working_days_left == 2


# -- the content hash includes the values ----------------------------------------------------


def test_the_content_hash_includes_the_parameter_values(tmp_path: Path) -> None:
    one = template_and_locality(tmp_path / "one", "2019-06-15")
    two = template_and_locality(tmp_path / "two", "2019-06-18")
    same = template_and_locality(tmp_path / "same", "2019-06-15")
    hashes = [r.get("real_town").content_hash for r in (one, two, same)]
    assert hashes[0] != hashes[1] and hashes[0] == hashes[2]
    template = one.get("template_town", judging=False)
    given = template.with_parameters({"transfer_date": D(2019, 6, 15)})
    other = template.with_parameters({"transfer_date": D(2019, 6, 18)})
    assert len({template.content_hash, given.content_hash, other.content_hash}) == 3
    assert template.missing_parameters == ["transfer_date"] and given.missing_parameters == []


def test_packs_without_parameters_keep_their_content_hash() -> None:
    """The hash as it was computed before parameters and exceptions existed."""
    national = PackRegistry.discover().get("national")
    assert national.parameters == {}
    dumped = national.data.model_dump(mode="json")
    del dumped["parameters"], dumped["promise_cuts"]
    for versions in dumped["scopes"].values():
        for version in versions:
            del version["except_items"], version["holder"]["except_departments"]
            del version["holder"]["departments"]
    for section, added in (("sanctions", ("acts", "limits")), ("limits", ("requires_notice",))):
        for version in (v for versions in dumped[section].values() for v in versions):
            for name in added:  # fields added later, left out while they hold their defaults
                if not version[name]:
                    del version[name]
    before = hashlib.sha256(canonical_json(dumped))
    before.update(national.hooks_digest.encode())
    assert national.content_hash == before.hexdigest()


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "extends", "where", "says"),
    [
        (
            DECLARED + TRANSFER.replace('from = "${transfer_date}"', 'from = "${transfer_dat}"'),
            "national",
            "scopes.bureau_decides[0].from",
            "names parameter 'transfer_dat', which no pack of the lineage declares",
        ),
        (
            DECLARED
            + """
            [parameters.seal_date]
            description = "The day the seal is first used."
            reference = "test seed"
            """
            + TRANSFER,
            "national",
            "parameters.seal_date",
            "is declared but no rule of this pack uses it",
        ),
        (
            DECLARED.replace('description = "The first day', 'note = "The first day') + TRANSFER,
            "national",
            "parameters.transfer_date.description",
            "declares a parameter without saying what it is",
        ),
        (
            DECLARED + TRANSFER.replace('from = "${transfer_date}"', 'from = "${Transfer}"'),
            "national",
            "scopes.bureau_decides[0].from",
            "is not a parameter reference",
        ),
    ],
    ids=["an unknown reference", "declared but unused", "no description", "a bad reference"],
)
def test_a_broken_parameter_is_refused_naming_file_field_and_fix(
    tmp_path: Path, body: str, extends: str, where: str, says: str
) -> None:
    folder = write_pack(tmp_path, "broken_town", body, extends=extends)
    registry = PackRegistry.discover([tmp_path])
    assert "broken_town" in registry.broken
    problems = registry.broken["broken_town"].problems
    assert any(
        p.file == str(folder / "pack.toml") and where in p.where and says in p.message
        for p in problems
    ), problems
    assert all(p.fix or "write" in p.message for p in problems), "each problem says how to fix it"


def test_a_pack_that_names_an_inherited_parameter_must_give_its_value(tmp_path: Path) -> None:
    write_pack(tmp_path, "template_town", DECLARED + TRANSFER)
    write_pack(
        tmp_path,
        "vague_town",
        '[parameters.transfer_date]\nreference = "test: no value given"\n',
        extends="template_town",
    )
    [problem] = problems_of(tmp_path, "vague_town")
    assert "parameters.transfer_date" in problem and "gives no value" in problem
    assert "add value = YYYY-MM-DD" in problem


def test_a_value_that_makes_the_templates_versions_overlap_is_refused_in_the_pack_giving_it(
    tmp_path: Path,
) -> None:
    write_pack(
        tmp_path,
        "template_town",
        DECLARED
        + """
        [[limits.local]]
        from = 2019-01-01
        to = 2019-06-30
        working_days = 15
        label = "期限"
        reference = "test seed: until the end of June"

        [[limits.local]]
        from = "${transfer_date}"
        working_days = 10
        label = "期限"
        reference = "test seed: from the transfer"
        """,
    )
    write_pack(tmp_path, "early_town", VALUED.format(value="2019-06-15"), extends="template_town")
    write_pack(tmp_path, "late_town", VALUED.format(value="2019-07-01"), extends="template_town")
    registry = PackRegistry.discover([tmp_path])
    assert "template_town" in registry and "late_town" in registry
    [problem] = problems_of(tmp_path, "early_town")
    assert "limits.local" in problem and "both in force on 2019-06-15" in problem
    assert "rules of pack 'template_town', dated by this pack" in problem


# -- scenario files give values --------------------------------------------------------------


SCENARIOS = """
parameters = { transfer_date = 2019-06-15 }

[[scenarios]]
name = "The department decides on the meeting day and the bureau from the next day."
item = "X-1"
accepted_on = 2019-06-14
[[scenarios.expect.authority]]
actor = { person = "K1", role = "section_chief", department = "市场监管局" }
decision = "decide"
on = 2019-06-14
allowed = true
[[scenarios.expect.authority]]
actor = { person = "S1", role = "section_chief", department = "审批局" }
decision = "decide"
on = 2019-06-15
allowed = true

[[scenarios]]
name = "A scenario's own value wins over the file's: a transfer on 20 June 2019."
item = "X-1"
parameters = { transfer_date = 2019-06-20 }
accepted_on = 2019-06-14
[[scenarios.expect.authority]]
actor = { person = "S1", role = "section_chief", department = "审批局" }
decision = "decide"
on = 2019-06-15
allowed = false
"""


def test_a_template_runs_its_scenarios_with_the_values_the_scenario_files_give(
    tmp_path: Path,
) -> None:
    folder = write_pack(tmp_path, "template_town", DECLARED + TRANSFER)
    (folder / "scenarios").mkdir()
    (folder / "scenarios" / "transfer.toml").write_text(SCENARIOS, encoding="utf-8")
    (folder / "scenarios" / "template.toml").write_text(
        '[[scenarios]]\nname = "Without a transfer date the pack judges no case."\n'
        'accepted_on = 2019-06-14\n[scenarios.expect]\nmissing_parameters = ["transfer_date"]\n',
        encoding="utf-8",
    )
    under_test = load_pack_folder(folder)
    assert under_test.pack.missing_parameters == ["transfer_date"]
    results = run_pack_scenarios(under_test)
    assert [r.passed for r in results] == [True, True, True], [
        str(m) for r in results for m in r.mismatches
    ]
    loaded = load_scenarios(folder / "scenarios" / "transfer.toml").scenarios
    assert [s.parameters for s in loaded] == [
        {"transfer_date": D(2019, 6, 15)},
        {"transfer_date": D(2019, 6, 20)},
    ]


def test_a_scenario_fails_when_the_pack_lacks_a_value_or_is_given_a_name_it_does_not_know(
    tmp_path: Path,
) -> None:
    folder = write_pack(tmp_path, "template_town", DECLARED + TRANSFER)
    (folder / "scenarios").mkdir()
    scenarios = folder / "scenarios" / "s.toml"
    scenarios.write_text(
        '[[scenarios]]\nname = "A promised case has the national 20 working days."\n'
        "accepted_on = 2019-06-14\n[scenarios.expect]\nstatutory_limit = 20\n\n"
        '[[scenarios]]\nname = "A scenario that gives a parameter the pack does not have."\n'
        "parameters = { meeting_date = 2019-06-14 }\n"
        "accepted_on = 2019-06-14\n[scenarios.expect]\nstatutory_limit = 20\n",
        encoding="utf-8",
    )
    pack = load_pack_folder(folder).pack
    lacking, unknown = (run_scenario(pack, s) for s in load_scenarios(scenarios).scenarios)
    assert [m.what for m in lacking.mismatches] == ["parameters"]
    assert "no value for transfer_date" in str(lacking.mismatches[0])
    assert [m.what for m in unknown.mismatches] == ["parameters"]
    assert "has no parameter 'meeting_date'" in str(unknown.mismatches[0])


def test_giving_a_value_the_pack_does_not_declare_is_refused() -> None:
    national = PackRegistry.discover().get("national")
    with pytest.raises(PackError, match="has no parameter 'transfer_date'"):
        national.with_parameters({"transfer_date": D(2019, 6, 15)})


# -- the ledger refuses a case under a pack without its values, and records nothing ----------


def accepted(case: str, pack: str, when: str, item: str = "X-1") -> dict[str, Any]:
    event = {"type": "accepted", "item_code": item, "case_kind": "promised", "rule_pack": pack}
    return command(case, 2, event, when, CHIEF)


def test_accepting_a_case_under_a_pack_without_its_values_is_refused_and_records_nothing(
    tmp_path: Path,
) -> None:
    registry = template_and_locality(tmp_path / "packs")
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with CaseLedger(url, packs=registry, clock=fixed_clock) as ledger:
        ledger.record(command("T-1", 1, RECEIVED, "2019-06-14T09:00:00+08:00", CHIEF))
        before = snapshot(ledger)
        history = ledger.history("T-1")
        with pytest.raises(PackParameterMissing, match="'template_town' cannot judge cases"):
            ledger.record(accepted("T-1", "template_town", "2019-06-14T10:00:00+08:00"))
        with pytest.raises(BatchRejected, match="no value for its parameter"):
            ledger.record_batch([accepted("T-1", "template_town", "2019-06-14T10:00:00+08:00")])
        with pytest.raises(PackParameterMissing):
            ledger.record(
                {
                    "project_no": "P-1",
                    "command_id": "P-1-1",
                    "at": "2019-06-14T10:00:00+08:00",
                    "actor": CHIEF,
                    "event": {
                        "type": "project_registered",
                        "kind": "general",
                        "title": "测试项目",
                        "lead": {"kind": "department", "code": "市场监管局"},
                        "rule_pack": "template_town",
                        "stages": [{"name": "立项"}],
                    },
                }
            )
        assert snapshot(ledger) == before and ledger.history("T-1") == history
        ledger.record(accepted("T-1", "real_town", "2019-06-14T10:00:00+08:00"))
        assert ledger.case("T-1").rule_pack == "real_town"


def test_a_ledger_judging_by_default_under_a_template_refuses_to_evaluate(tmp_path: Path) -> None:
    registry = template_and_locality(tmp_path)
    with CaseLedger(
        "sqlite:///:memory:", packs=registry, default_pack="template_town", clock=fixed_clock
    ) as ledger:
        ledger.record(command("T-1", 1, RECEIVED, "2019-06-14T09:00:00+08:00", CHIEF))
        with pytest.raises(PackParameterMissing):
            ledger.evaluate("T-1", dt.datetime(2019, 6, 20, tzinfo=dt.UTC))


# -- the bundled concentrated_licensing pack (seed 004) --------------------------------------


LOCALITY = """
[pack]
name = "district_2019"
version = "2019.6"
title = "某区相对集中行政许可权改革 (a district that held its reform meeting on 14 June 2019)"
extends = "concentrated_licensing"
catalogue = "open"
reference = "tests/test_pack_parameters.py: the district's own minutes (test)"

[parameters.transfer_date]
value = 2019-06-15
reference = "test minutes: the reform meeting was held on Friday 14 June 2019"
"""
CST = dt.timezone(dt.timedelta(hours=8))
TRANSPORT = {"person": "J1", "role": "section_chief", "department": "區交通運輸局"}
BUREAU_004 = {"person": "S1", "role": "section_chief", "department": "區行政審批服務局"}


def moment(day: D, hour: int = 10) -> str:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=CST).isoformat()


@pytest.fixture
def district(tmp_path: Path) -> PackRegistry:
    folder = tmp_path / "district_2019"
    folder.mkdir()
    (folder / "pack.toml").write_text(LOCALITY, encoding="utf-8")
    return PackRegistry.discover([tmp_path])


def test_the_bundled_template_needs_the_transfer_date(district: PackRegistry) -> None:
    template = district.get("concentrated_licensing", judging=False)
    assert template.missing_parameters == ["transfer_date"]
    assert check_pack(template) == []
    with pytest.raises(PackParameterMissing, match="transfer_date"):
        district.get("concentrated_licensing")
    pack = district.get("district_2019")
    assert [p.name for p in pack.lineage()] == ["district_2019", "concentrated_licensing",
                                                "national"]  # fmt: skip
    assert pack.content_hash != template.content_hash


def record_case(ledger: CaseLedger, case: str, decider: dict[str, str], decided: D) -> None:
    ledger.record(command(case, 1, RECEIVED, moment(D(2019, 6, 14), 9), TRANSPORT))
    event = {"type": "accepted", "item_code": "JT-0001", "case_kind": "promised",
             "rule_pack": "district_2019"}  # fmt: skip
    ledger.record(command(case, 2, event, moment(D(2019, 6, 14)), TRANSPORT))
    approved = {"type": "approved", "decision_no": f"决定〔2019〕{case}号"}
    ledger.record(command(case, 3, approved, moment(decided), decider))


def test_a_case_open_on_the_transfer_date_is_decided_by_the_bureau_not_its_old_department(
    district: PackRegistry,
) -> None:
    as_of = dt.datetime(2019, 6, 28, 18, tzinfo=CST)
    with CaseLedger("sqlite:///:memory:", packs=district, clock=fixed_clock) as ledger:
        record_case(ledger, "OLD-1", TRANSPORT, D(2019, 6, 14))
        record_case(ledger, "OLD-2", TRANSPORT, D(2019, 6, 17))
        record_case(ledger, "NEW-1", BUREAU_004, D(2019, 6, 17))
        violations = {
            case: [f.violation for f in ledger.evaluate(case, as_of).findings]
            for case in ("OLD-1", "OLD-2", "NEW-1")
        }
    assert violations == {"OLD-1": [], "OLD-2": [Violation.ULTRA_VIRES], "NEW-1": []}


def test_a_decision_revoked_at_the_supervising_departments_push_no_longer_owes_its_certificate(
    district: PackRegistry,
) -> None:
    as_of = dt.datetime(2019, 8, 1, 18, tzinfo=CST)
    revoked = {
        "type": "decision_altered",
        "alteration": "revoked",
        "requested_by": {"kind": "department", "code": "區交通運輸局", "name": "區交通運輸局"},
        "reason": "監管中發現申請人以欺騙手段取得許可 (test)",
    }
    with CaseLedger("sqlite:///:memory:", packs=district, clock=fixed_clock) as ledger:
        record_case(ledger, "KEPT", BUREAU_004, D(2019, 6, 17))
        record_case(ledger, "REVOKED", BUREAU_004, D(2019, 6, 17))
        ledger.record(command("REVOKED", 4, revoked, moment(D(2019, 6, 20)), BUREAU_004))
        kept = ledger.evaluate("KEPT", as_of)
        gone = ledger.evaluate("REVOKED", as_of)
    assert kept.clock.certificate_due == D(2019, 7, 1)
    assert [f.violation for f in kept.findings] == [Violation.OVERTIME]
    assert "certificate" in kept.findings[0].detail
    assert gone.findings == [] and not gone.clock.watched
    assert gone.status.value == "decision_revoked"


BUREAU_SCOPE = """
[[scopes.bureau_decides]]
from = 2019-06-15
holder = { department = "区行政审批局", roles = ["*"] }
decisions = ["decide"]
supersedes = ["organ_decides"]
reference = "test seed: 划转至区行政审批局"
"""
CHILD_BUREAU = """
[[scopes.bureau_decides]]
from = 2019-06-15
override = true
holder = { department = "区行政审批局", roles = ["section_chief"] }
decisions = ["decide"]
reference = "test seed: 审批科长签批"
"""


@pytest.mark.parametrize(
    ("supersedes", "refused"), [(None, True), ("[]", False), ('["organ_decides"]', False)]
)
def test_an_override_of_a_transfer_of_power_must_say_whether_it_keeps_the_transfer(
    tmp_path: Path, supersedes: str | None, refused: bool
) -> None:
    write_pack(tmp_path, "bureau_town", BUREAU_SCOPE)
    body = CHILD_BUREAU + (f"supersedes = {supersedes}\n" if supersedes is not None else "")
    write_pack(tmp_path, "bureau_village", body, extends="bureau_town")
    registry = PackRegistry.discover([tmp_path])
    if not refused:
        assert "bureau_village" not in registry.broken
        return
    (problem,) = registry.broken["bureau_village"].problems
    assert problem.where == "scopes.bureau_decides[0].supersedes"
    assert "supersedes organ_decides, without saying whether it still does" in problem.message
    assert problem.fix.startswith("repeat supersedes = ['organ_decides'] to keep the transfer")


def test_a_parent_rule_applies_again_after_a_child_version_ends_and_validation_sees_it(
    tmp_path: Path,
) -> None:
    write_pack(
        tmp_path,
        "gap_town",
        """
    [[scopes.a_decides]]
    from = 2019-01-01
    holder = { department = "甲局", roles = ["*"] }
    decisions = ["decide"]
    items = ["GAP-1"]
    reference = "test: 甲局审批"
    """,
    )
    write_pack(
        tmp_path,
        "gap_village",
        """
    [[scopes.a_decides]]
    from = 2019-01-01
    to = 2020-12-31
    override = true
    holder = { department = "乙局", roles = ["*"] }
    decisions = ["decide"]
    items = ["GAP-1"]
    reference = "test: 乙局审批至2020年底"

    [[scopes.c_decides]]
    from = 2021-01-01
    holder = { department = "丙局", roles = ["*"] }
    decisions = ["decide"]
    items = ["GAP-1"]
    reference = "test: 丙局自2021年起审批"
    """,
        extends="gap_town",
    )
    registry = PackRegistry.discover([tmp_path])
    village = registry.broken["gap_village"].problems
    assert any("c_decides on 2021-01-01" in str(p) for p in village), [str(p) for p in village]
    parent = registry.get("gap_town")
    assert parent.authorising_scope(("r", "甲局", None), Decision.DECIDE, "GAP-1", None,
                                    D(2021, 3, 1)) is not None  # fmt: skip


def test_an_override_after_the_parent_handed_the_power_back_need_not_restate_supersedes(
    tmp_path: Path,
) -> None:
    handed_back = BUREAU_SCOPE + (
        BUREAU_SCOPE.replace("from = 2019-06-15", "from = 2022-01-01").replace(
            'supersedes = ["organ_decides"]', "supersedes = []"
        )
    )
    write_pack(tmp_path, "bureau_town", handed_back)
    later = CHILD_BUREAU.replace("from = 2019-06-15", "from = 2025-01-01")
    write_pack(tmp_path, "bureau_village", later, extends="bureau_town")
    registry = PackRegistry.discover([tmp_path])
    assert "bureau_town" not in registry.broken and "bureau_village" not in registry.broken


def test_a_deep_promise_replaced_before_the_cut_cap_began_is_not_judged_by_it(
    tmp_path: Path,
) -> None:
    write_pack(
        tmp_path,
        "cap_town",
        """
    [[promise_cuts.largest]]
    from = 2012-07-01
    share = 0.70
    reference = "test: 最高压缩70%"

    [[items."CAP-1"]]
    from = 2010-01-01
    name = "某项许可"
    department = "某局"
    case_kind = "promised"
    statutory_limit = 20
    promised_limit = 2
    reference = "test: 旧承诺"

    [[items."CAP-1"]]
    from = 2012-01-01
    name = "某项许可"
    department = "某局"
    case_kind = "promised"
    statutory_limit = 20
    promised_limit = 10
    reference = "test: 新承诺"
    """,
    )
    assert "cap_town" not in PackRegistry.discover([tmp_path]).broken
