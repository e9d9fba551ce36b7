"""Rule packs: discovery, layering by date, and broken packs refused naming file and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from caseledger import (
    CaseKind,
    CaseLedger,
    PackError,
    PackRegistry,
    UnknownItem,
    UnknownRulePack,
)
from caseledger.rules import Decision, PackPlugin, Violation
from tests import helpers
from tests.conftest import fixed_clock
from tests.helpers import RECEIVED, at, command, snapshot

D = dt.date
HEADER = """
[pack]
name = "{name}"
version = "1.0"
title = "测试包 (test pack)"
extends = "{extends}"
reference = "tests/test_rule_packs.py"
"""


def write_pack(root: Path, name: str, body: str = "", extends: str = "national") -> Path:
    return helpers.write_pack(root, name, body, extends, HEADER)


def broken(registry: PackRegistry, name: str) -> PackError:
    assert name in registry.broken, f"{name} loaded although broken"
    with pytest.raises(PackError) as caught:
        registry.get(name)
    return caught.value


def test_the_bundled_national_pack_is_found_through_the_entry_point() -> None:
    registry = PackRegistry.discover()
    assert "national" in registry.names()
    assert registry.origin("national").startswith("entry point national")
    identity = registry.get("national").identity
    assert identity.version == "2019.1" and len(identity.content_hash) == 64


def test_a_third_party_pack_installed_with_pip_is_discovered_and_layered_on_national() -> None:
    registry = PackRegistry.discover()
    pack = registry.get("example_district")
    assert registry.origin("example_district").startswith("entry point example_district")
    assert [p.name for p in pack.lineage()] == ["example_district", "national"]
    # its hook supplied catalogue items from a CSV
    assert pack.item("EX-WS-0001", D(2026, 3, 2)) is not None
    limit = pack.statutory_limit("EX-SCJG-0001", CaseKind.PROMISED, D(2026, 3, 2))
    assert limit is not None and limit[0] == 20 and limit[1][-1].pack == "national"


def test_a_city_value_applies_from_its_date_and_the_older_one_before() -> None:
    pack = PackRegistry.discover().get("example_district")
    before = pack.promised_limit("EX-SCJG-0001", D(2026, 6, 30))
    after = pack.promised_limit("EX-SCJG-0001", D(2026, 7, 1))
    assert before is not None and before.rule.promised_limit == 10
    assert after is not None and after.rule.promised_limit == 7
    assert pack.item("EX-SCJG-0001", D(2024, 12, 31)) is None


def test_a_transfer_of_power_on_a_date_is_one_entry(tmp_path: Path) -> None:
    pack = PackRegistry.discover().get("example_district")
    from caseledger import Actor

    chief = Actor(person="K1", role="section_chief", department="区市场监督管理局")
    bureau = Actor(person="B1", role="section_chief", department="区行政审批局")
    item, kind = "EX-SCJG-0001", CaseKind.PROMISED
    assert pack.authorising_scope(chief, Decision.DECIDE, item, kind, D(2026, 6, 30))
    assert not pack.authorising_scope(chief, Decision.DECIDE, item, kind, D(2026, 7, 1))
    found = pack.authorising_scope(bureau, Decision.DECIDE, item, kind, D(2026, 7, 1))
    assert found is not None and found.key == "bureau_decides"


def test_a_pack_from_a_directory_given_explicitly_is_used(tmp_path: Path) -> None:
    write_pack(
        tmp_path,
        "harbour_town",
        """
        [[thresholds.yellow]]
        from = 2026-01-01
        share_used = 0.8
        reference = "harbour town notice (test)"
        """,
    )
    registry = PackRegistry.discover([tmp_path])
    pack = registry.get("harbour_town")
    assert registry.origin("harbour_town").startswith("directory")
    threshold = pack.yellow_threshold(D(2026, 3, 1))
    assert threshold is not None and threshold.rule.share_used == 0.8
    assert pack.yellow_threshold(D(2025, 12, 31)) is None


def test_loading_does_not_depend_on_the_order_plug_ins_are_found_in(tmp_path: Path) -> None:
    write_pack(tmp_path, "a_town")
    write_pack(tmp_path, "b_town", extends="a_town")
    plugins = [PackPlugin.folder(tmp_path / "a_town"), PackPlugin.folder(tmp_path / "b_town")]
    forward = PackRegistry.from_plugins(_with_national(plugins))
    backward = PackRegistry.from_plugins(_with_national(plugins[::-1])[::-1])
    assert forward.names() == backward.names()
    for name in forward.names():
        assert forward.get(name).content_hash == backward.get(name).content_hash


def _with_national(plugins: list[PackPlugin]) -> list[PackPlugin]:
    import caseledger_pack_national

    return [PackPlugin("national", "entry point national", caseledger_pack_national), *plugins]


@pytest.mark.parametrize(
    ("body", "where", "says"),
    [
        (
            """
            [[limits.decision]]
            from = 2026-01-01
            working_days = 15
            label = "期限"
            reference = "test"
            colour = "red"
            """,
            "limits.decision[0].colour (line ",
            "unknown field",
        ),
        (
            """
            [[limits.decision]]
            from = "next spring"
            working_days = 15
            label = "期限"
            reference = "test"
            override = true
            """,
            "limits.decision[0].from",
            "YYYY-MM-DD",
        ),
        (
            """
            [[limits.decisoin]]
            from = 2026-01-01
            working_days = 15
            label = "期限"
            reference = "test"
            override = true
            """,
            "limits.decisoin",
            "overrides a rule that does not exist in national",
        ),
        (
            """
            [[limits.decision]]
            from = 2026-01-01
            working_days = 15
            label = "期限"
            reference = "test"
            """,
            "limits.decision",
            "replaces the rule of pack 'national' without saying so",
        ),
        (
            """
            [[scopes.market_decides]]
            from = 2026-01-01
            holder = { department = "市场监管局", roles = ["section_chief"] }
            decisions = ["decide"]
            items = ["X-1"]
            reference = "test"

            [[scopes.bureau_decides]]
            from = 2026-06-01
            holder = { department = "行政审批局", roles = ["section_chief"] }
            decisions = ["decide"]
            items = ["X-1", "X-2"]
            reference = "test"
            """,
            "scopes.bureau_decides",
            "together with scopes.market_decides on 2026-06-01",
        ),
        (
            """
            [[limits.local]]
            from = 2026-01-01
            working_days = 15
            label = "期限"
            reference = "test"

            [[limits.local]]
            from = 2026-01-01
            working_days = 12
            label = "期限"
            reference = "test"
            """,
            "limits.local",
            "two versions are both in force on 2026-01-01",
        ),
        (
            """
            [[clock."clock_suspended.lunch_break"]]
            from = 2026-01-01
            effect = "pause"
            reference = "test"
            """,
            "clock.clock_suspended.lunch_break",
            "names no event and reason",
        ),
        (
            """
            [[case_kinds.promised]]
            from = 2026-01-01
            limit = "no_such_limit"
            override = true
            reference = "test"
            """,
            "case_kinds.promised[0]",
            "names limit 'no_such_limit'",
        ),
        (
            """
            [[sanctions.a]]
            from = 2026-01-01
            violation = "overtime"
            sanction = "points"
            points = 2
            label = "扣分"
            reference = "test"

            [[sanctions.b]]
            from = 2026-03-01
            violation = "overtime"
            sanction = "points"
            points = 5
            label = "扣分"
            reference = "test"
            """,
            "sanctions.b",
            "same sanction for the same violation",
        ),
        ("[[limits.decision]\n", "line ", "not valid TOML"),
    ],
    ids=[
        "an unknown key",
        "a bad date",
        "an override of a rule that does not exist",
        "an override not marked as one",
        "overlapping scopes of two departments",
        "two versions in force on one day",
        "a clock rule for no event",
        "a case kind naming no limit",
        "two sanction rules claiming the same sanction",
        "broken TOML",
    ],
)
def test_a_broken_pack_is_refused_naming_file_and_field(
    tmp_path: Path, body: str, where: str, says: str
) -> None:
    folder = write_pack(tmp_path, "broken_town", body)
    registry = PackRegistry.discover([tmp_path])
    error = broken(registry, "broken_town")
    assert any(
        p.file == str(folder / "pack.toml") and where in p.where and says in str(p)
        for p in error.problems
    ), error.problems
    assert "national" in registry.names()  # the others stay usable


def test_extending_a_pack_that_is_not_installed_is_refused(tmp_path: Path) -> None:
    write_pack(tmp_path, "lost_town", extends="atlantis")
    error = broken(PackRegistry.discover([tmp_path]), "lost_town")
    assert "extends 'atlantis', which is not installed" in str(error)


def test_packs_that_extend_each_other_in_a_circle_are_refused(tmp_path: Path) -> None:
    write_pack(tmp_path, "east_town", extends="west_town")
    write_pack(tmp_path, "west_town", extends="east_town")
    registry = PackRegistry.discover([tmp_path])
    assert "extends itself" in str(broken(registry, "east_town")) + str(
        broken(registry, "west_town")
    )


def test_two_plug_ins_providing_the_same_pack_name_are_an_error(tmp_path: Path) -> None:
    write_pack(tmp_path, "national", extends="")
    error = broken(PackRegistry.discover([tmp_path]), "national")
    assert "also provided by" in str(error)


def test_a_hook_that_is_not_a_caseledger_hook_is_refused(tmp_path: Path) -> None:
    folder = write_pack(tmp_path, "hooky_town")
    (folder / "hooks.py").write_text(
        "from caseledger.rules import hookimpl\n\n"
        "@hookimpl\ndef caseledger_deadline_magic():\n    return 1\n",
        encoding="utf-8",
    )
    error = broken(PackRegistry.discover([tmp_path], allow_code=True), "hooky_town")
    assert "caseledger_deadline_magic" in str(error) and "not a caseledger hook" in str(error)


def test_a_packs_own_check_hook_can_refuse_it(tmp_path: Path) -> None:
    folder = write_pack(tmp_path, "picky_town")
    (folder / "hooks.py").write_text(
        "from caseledger.rules import hookimpl\n\n"
        "@hookimpl\ndef caseledger_check_pack(pack):\n"
        "    return ['every item needs a scope; add one']\n",
        encoding="utf-8",
    )
    error = broken(PackRegistry.discover([tmp_path], allow_code=True), "picky_town")
    assert error.problems[0].where == "caseledger_check_pack"


def test_the_content_hash_changes_with_the_data(tmp_path: Path) -> None:
    write_pack(tmp_path / "one", "hash_town")
    write_pack(tmp_path / "two", "hash_town", "# a comment changes nothing\n")
    write_pack(
        tmp_path / "three",
        "hash_town",
        """
        [[thresholds.yellow]]
        from = 2026-01-01
        working_days_left = 3
        reference = "test"
        """,
    )
    hashes = [
        PackRegistry.discover([tmp_path / n]).get("hash_town").content_hash
        for n in ("one", "two", "three")
    ]
    assert hashes[0] == hashes[1] != hashes[2]


def test_sanction_rules_are_found_by_violation_and_date() -> None:
    pack = PackRegistry.discover().get("example_district")
    own = [
        r for r in pack.sanction_rules(Violation.OVERTIME, D(2026, 3, 1)) if r.pack != "national"
    ]
    assert sorted(r.key for r in own) == ["overtime_points"]
    before = pack.sanction_rules(Violation.OVERTIME, D(2024, 3, 1))
    assert [r for r in before if r.pack != "national"] == []


ACCEPT = {"type": "accepted", "case_kind": "promised"}


def test_accepting_a_case_under_a_pack_that_is_not_installed_is_refused(
    ledger: CaseLedger,
) -> None:
    ledger.record(command("QZ-1", 1, RECEIVED, at(12)))
    before = snapshot(ledger)
    accepted = {**ACCEPT, "item_code": "X-1", "rule_pack": "atlantis"}
    with pytest.raises(
        UnknownRulePack, match=r"'atlantis' is not installed; installed: .*national"
    ):
        ledger.record(command("QZ-1", 2, accepted, at(12, 10)))
    assert snapshot(ledger) == before


def test_an_unknown_item_code_in_a_closed_catalogue_is_refused_with_similar_codes(
    ledger: CaseLedger,
) -> None:
    ledger.record(command("QZ-1", 1, RECEIVED, at(12)))
    before = snapshot(ledger)
    accepted = {**ACCEPT, "item_code": "EX-SCJG-0003", "rule_pack": "example_district"}
    with pytest.raises(UnknownItem) as caught:
        ledger.record(command("QZ-1", 2, accepted, at(12, 10)))
    assert "EX-SCJG-0001" in str(caught.value) and caught.value.pack == "example_district"
    assert snapshot(ledger) == before


def test_an_item_is_unknown_before_the_date_it_enters_the_catalogue(sqlite_url: str) -> None:
    accepted = {**ACCEPT, "item_code": "EX-SCJG-0001", "rule_pack": "example_district"}
    with CaseLedger(sqlite_url, clock=fixed_clock) as ledger:
        ledger.record(command("QZ-1", 1, RECEIVED, "2024-12-31T09:00:00+08:00"))
        with pytest.raises(UnknownItem, match="on 2024-12-31"):
            ledger.record(command("QZ-1", 2, accepted, "2024-12-31T10:00:00+08:00"))
        ledger.record(command("QZ-2", 1, RECEIVED, at(12)))
        ledger.record(command("QZ-2", 2, accepted, at(12, 10)))
        assert ledger.case("QZ-2").rule_pack == "example_district"


def test_the_open_national_catalogue_accepts_any_item_code(ledger: CaseLedger) -> None:
    ledger.record(command("QZ-1", 1, RECEIVED, at(12)))
    accepted = {**ACCEPT, "item_code": "ANY-LICENCE-7", "rule_pack": "national"}
    assert ledger.record(command("QZ-1", 2, accepted, at(12, 10))).version == 2


def test_a_promise_longer_than_the_statutory_limit_is_refused(tmp_path: Path) -> None:
    write_pack(
        tmp_path,
        "generous_town",
        """
        [[items."GT-1"]]
        from = 2026-01-01
        name = "许可"
        department = "部门"
        case_kind = "promised"
        promised_limit = 25
        reference = "test"
        """,
    )
    error = broken(PackRegistry.discover([tmp_path]), "generous_town")
    assert "items.GT-1[0].promised_limit" in str(error) and "more than the statutory 20" in str(
        error
    )
