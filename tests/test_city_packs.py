"""The bundled city packs as their users meet them: listed, layered on national, the
Haiyang cut cap refusing a locality's catalogue that cuts too deep, a "双重点" project
judged against its own limit, scenario files made of events, and the quarterly statistics
of seed 001 (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest

from caseledger import CaseLedger, PackRegistry, RulePack
from caseledger.judging.judgement import Light
from caseledger.scenarios.cases import check_case
from caseledger.scenarios.files import ScenarioFile
from caseledger.scenarios.folder import load_pack_folder
from caseledger.scenarios.runner import run_scenario
from tests.helpers import CST
from tests.test_cli import run
from tests.test_projections import Story
from tests.test_projects import project, registered

CITIES = ["concentrated_licensing", "haiyang", "quanzhou", "wuhou", "xinjian"]


def test_packs_list_shows_national_and_the_five_city_packs() -> None:
    code, out, _ = run("packs", "list")
    assert code == 0
    for name in ("national", *CITIES):
        assert name in out
    registry = PackRegistry.discover()
    for city in CITIES:
        assert registry.get(city, judging=False).data.pack.extends == "national"


def test_every_city_pack_has_at_least_ten_scenarios_drawn_from_its_seed() -> None:
    root = Path(__file__).parent.parent / "rulepacks"
    for city in CITIES:
        files = sorted((root / city / f"caseledger_pack_{city}" / "scenarios").glob("*.toml"))
        names = [
            s.name
            for f in files
            for s in ScenarioFile.model_validate(tomllib.loads(f.read_text("utf-8"))).scenarios
        ]
        assert len(names) >= 10, city


def locality(root: Path, promised: int) -> Path:
    folder = root / "haiyang_town"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.toml").write_text(
        textwrap.dedent(f"""
        [pack]
        name = "haiyang_town"
        version = "1.0"
        title = "海阳某镇 (a locality's catalogue on the Haiyang pack)"
        extends = "haiyang"
        catalogue = "closed"
        reference = "tests/test_city_packs.py"

        [[items."HY-T-0001"]]
        from = 2013-01-01
        name = "某项许可"
        department = "镇住建办"
        case_kind = "promised"
        statutory_limit = 20
        promised_limit = {promised}
        reference = "tests/test_city_packs.py"
        """),
        encoding="utf-8",
    )
    return folder


def test_a_catalogue_on_haiyang_may_cut_a_limit_by_70_percent_but_not_more(
    tmp_path: Path,
) -> None:
    # 6 of 20 working days is a cut of exactly 70% (最高的压缩70%, seed 001 line 17)
    assert load_pack_folder(locality(tmp_path, 6)).pack.name == "haiyang_town"
    registry = PackRegistry.discover([locality(tmp_path, 5)])
    assert "haiyang_town" in registry.broken
    (problem,) = registry.broken["haiyang_town"].problems
    assert problem.where == "items.HY-T-0001[0].promised_limit"
    assert "cuts the limit by 75%, more than the largest cut of 70%" in problem.message
    assert "in force from 2012-07-01" in problem.message and "seed 001 line 17" in problem.message
    assert problem.fix.startswith("promise at least 6 working days")


def test_the_cut_cap_binds_an_older_promise_still_in_force_but_not_one_that_ended_before_it(
    tmp_path: Path,
) -> None:
    folder = locality(tmp_path, 5)
    older = (folder / "pack.toml").read_text("utf-8").replace("2013-01-01", "2011-01-01")
    (folder / "pack.toml").write_text(older, encoding="utf-8")
    registry = PackRegistry.discover([folder])
    (problem,) = registry.broken["haiyang_town"].problems
    assert "or end this version (to) before 2012-07-01" in problem.fix
    ended = older.replace("from = 2011-01-01", "from = 2011-01-01\nto = 2012-06-30")
    (folder / "pack.toml").write_text(ended, encoding="utf-8")
    assert load_pack_folder(folder).pack.name == "haiyang_town"


@pytest.mark.parametrize(
    ("kind", "limit", "deadline"),
    [("general", 45, dt.date(2026, 12, 4)), ("double_key", 13, dt.date(2026, 10, 21))],
)
def test_a_haiyang_project_is_judged_against_the_limit_of_its_kind(
    ledger: CaseLedger, kind: str, limit: int, deadline: dt.date
) -> None:
    when = dt.datetime(2026, 9, 28, 10, tzinfo=CST)
    ledger.record(project(1, registered(kind, pack="haiyang"), when))
    evaluation = ledger.evaluate_project("XM-1", dt.datetime(2026, 10, 9, 12, tzinfo=CST))
    assert evaluation.limit == limit and evaluation.deadline == deadline
    assert "seed 001 line 17" in evaluation.limit_reference
    late = ledger.evaluate_project("XM-1", dt.datetime(2026, 12, 7, 9, tzinfo=CST))
    assert late.light is Light.RED


def test_a_scenario_whose_events_the_ledger_refuses_fails_with_the_ledger_s_reason() -> None:
    pack = load_pack_folder(
        Path(__file__).parent.parent / "rulepacks" / "haiyang" / "caseledger_pack_haiyang"
    ).pack
    scenario = ScenarioFile.model_validate(
        {
            "scenarios": [
                {
                    "name": "An approval of a case never received is refused by the ledger.",
                    "events": [
                        {
                            "at": dt.datetime(2026, 3, 2, 9, tzinfo=CST),
                            "event": {"type": "accepted"},
                        }
                    ],
                    "expect": {"light": "green"},
                }
            ]
        }
    ).scenarios[0]
    (mismatch,) = check_case(pack, scenario)
    assert mismatch.what == "events" and "received" in str(mismatch.actual)


def test_a_case_expectation_without_events_is_refused_when_the_file_is_read() -> None:
    with pytest.raises(ValueError, match=r"judge a case: give its \[\[scenarios.events\]\]"):
        ScenarioFile.model_validate(
            {"scenarios": [{"name": "A light with no case to light.", "expect": {"light": "red"}}]}
        )


def test_statistics_by_quarter_put_each_case_in_the_quarter_it_was_received(
    ledger: CaseLedger,
) -> None:
    Story(ledger, "EX-Q1").received("2026-03-31 09:00").accepted("2026-03-31 10:00")
    Story(ledger, "EX-Q2").received("2026-04-01 09:00").accepted("2026-04-01 10:00")
    Story(ledger, "EX-Q2B").received("2026-06-30 09:00")
    rows = {r.key: r.received for r in ledger.statistics(dt.date(2026, 7, 1), by="quarter")}
    assert rows == {"2026-Q1": 1, "2026-Q2": 2}


def test_a_haiyang_project_must_be_registered_by_the_bureau_that_leads_or_designates_its_lead(
    ledger: CaseLedger,
) -> None:
    when = dt.datetime(2026, 9, 28, 10, tzinfo=CST)
    ledger.record(project(1, registered("general", pack="haiyang"), when))  # by 市发改委
    bureau = {"person": "J1", "role": "section_chief", "department": "海阳市行政服务局"}
    designated = {**registered("general", pack="haiyang"), "lead": {"kind": "department",
                  "code": "海阳市住房和城乡建设局"}}  # fmt: skip
    ledger.record({**project(1, designated, when, number="XM-2"), "actor": bureau})
    as_of = dt.datetime(2026, 10, 9, 12, tzinfo=CST)
    outsider, by_bureau = (ledger.evaluate_project(n, as_of) for n in ("XM-1", "XM-2"))
    (finding,) = outsider.findings
    assert finding.violation.value == "ultra_vires" and finding.department == "市发改委"
    assert "由行政服务局担任或指定建设项目牵头单位" in finding.reference
    assert outsider.light is Light.RED
    assert "ultra_vires_red_light" in {s.rule for s in outsider.sanctions}
    assert by_bureau.findings == [] and by_bureau.light is Light.GREEN


def test_under_national_law_any_organ_the_government_chooses_may_lead_a_project(
    ledger: CaseLedger,
) -> None:
    when = dt.datetime(2026, 9, 28, 10, tzinfo=CST)
    ledger.record(project(1, registered("general", pack="quanzhou"), when))
    evaluation = ledger.evaluate_project("XM-1", dt.datetime(2026, 10, 9, 12, tzinfo=CST))
    assert evaluation.findings == [] and evaluation.light is Light.GREEN


def haiyang() -> RulePack:
    folder = Path(__file__).parent.parent / "rulepacks" / "haiyang" / "caseledger_pack_haiyang"
    return load_pack_folder(folder).pack


RECEIVED_LINE = {
    "at": dt.datetime(2026, 3, 2, 9, tzinfo=CST),
    "event": {"type": "received", "channel": "window", "applicant": "APP"},
}


@pytest.mark.parametrize(
    ("scenario", "says"),
    [
        ({"expect": {}}, "expect names nothing to check"),
        ({"events": [RECEIVED_LINE], "expect": {"refused": "", }}, "at least 1 character"),
        ({"events": [RECEIVED_LINE], "expect": {"refused": "x", "light": "red"}},
         "refused cannot go with other expectations"),
        ({"events": [{**RECEIVED_LINE, "at": dt.datetime(2026, 3, 2, 9)}],
          "expect": {"light": "green"}}, "at needs its UTC offset"),
        ({"events": [{"at": RECEIVED_LINE["at"], "event": {"channel": "window"}}],
          "expect": {"light": "green"}}, "event needs its type"),
        ({"events": [RECEIVED_LINE], "as_of": dt.datetime(2026, 3, 1, 9, tzinfo=CST),
          "expect": {"light": "green"}}, "event 1 is after as_of"),
        ({"events": [RECEIVED_LINE], "expect": {"status": "recieved"}}, "Input should be"),
    ],
)  # fmt: skip
def test_a_scenario_that_could_not_fail_or_could_not_run_is_refused_when_read(
    scenario: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        ScenarioFile.model_validate({"scenarios": [{"name": "A scenario to refuse.", **scenario}]})


def test_a_limit_expected_with_no_day_to_judge_it_on_fails_instead_of_passing() -> None:
    (scenario,) = ScenarioFile.model_validate(
        {"scenarios": [{"name": "A limit with no day.", "expect": {"statutory_limit": 999}}]}
    ).scenarios
    result = run_scenario(haiyang(), scenario)
    assert not result.passed
    assert [m.what for m in result.mismatches] == ["statutory_limit"]


def test_a_refused_event_is_named_by_its_number_and_type() -> None:
    (scenario,) = ScenarioFile.model_validate(
        {"scenarios": [{"name": "Deciding twice is refused.", "events": [
            RECEIVED_LINE,
            {"at": dt.datetime(2026, 3, 2, 10, tzinfo=CST),
             "event": {"type": "approved", "decision_no": "D1"}},
            {"at": dt.datetime(2026, 3, 2, 11, tzinfo=CST),
             "event": {"type": "approved", "decision_no": "D2"}},
        ], "expect": {"light": "red"}}]}
    ).scenarios  # fmt: skip
    (mismatch,) = check_case(haiyang(), scenario)
    assert str(mismatch.actual).startswith("event 3 (approved): ")
    assert "cannot record 'approved'" in str(mismatch.actual)


@pytest.mark.parametrize(
    ("designator", "light"), [("海阳市行政服务局", "green"), ("市发改委", "red")]
)
def test_a_lead_unit_registers_its_project_on_the_bureau_s_designation(
    ledger: CaseLedger, designator: str, light: str
) -> None:
    lead = {"kind": "department", "code": "海阳市住房和城乡建设局"}
    body = {**registered("general", pack="haiyang"), "lead": lead,
            "designated_by": {"kind": "body", "code": designator}}  # fmt: skip
    actor = {"person": "K14", "role": "section_chief", "department": "海阳市住房和城乡建设局"}
    when = dt.datetime(2026, 9, 28, 10, tzinfo=CST)
    ledger.record({**project(1, body, when), "actor": actor})
    evaluation = ledger.evaluate_project("XM-1", dt.datetime(2026, 10, 9, 12, tzinfo=CST))
    assert evaluation.light.value == light
    if light == "red":
        assert f"on the designation of {designator}" in evaluation.findings[0].detail


def test_ratings_after_completion_are_counted_with_their_good_rating_rate(
    ledger: CaseLedger,
) -> None:
    grades = {"HY-1": "very_satisfied", "HY-2": "dissatisfied", "HY-3": None}
    for n, (case_no, grade) in enumerate(grades.items()):
        story = Story(ledger, case_no).received(f"2026-03-0{n + 2} 09:00")
        story.accepted(f"2026-03-0{n + 2} 10:00")
        story.on(f"2026-03-0{n + 2} 15:00", {"type": "approved", "decision_no": f"D{n}"})
        if grade:
            rated = {"type": "service_rated", "satisfaction": grade, "source": "follow_up_call"}
            story.on(f"2026-03-0{n + 3} 10:00", rated)
    (row,) = ledger.statistics(dt.date(2026, 3, 31), by="quarter")
    assert (row.finished, row.rated, row.rated_good, row.good_rating_rate) == (3, 2, 1, 0.5)
    evaluation = ledger.evaluate("HY-1", dt.datetime(2026, 3, 31, tzinfo=CST))
    assert evaluation.rating is not None and evaluation.rating.zh == "非常满意"
    assert evaluation.as_dict()["rating"] == "very_satisfied"
    assert "rated 非常满意 (very_satisfied)" in evaluation.explain()[2]
