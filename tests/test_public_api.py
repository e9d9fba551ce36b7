"""The public API is pinned: changing it is a decision, not an accident."""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import sys
import typing
from pathlib import Path
from typing import Any

import caseledger
from caseledger import CaseLedger, PackRegistry, RulePack

PUBLIC = [
    "EVENT_TYPES", "PROJECT_EVENT_TYPES", "Accepted", "Actor", "ApplicationWithdrawn", "Approved",
    "BatchItemError", "BatchRejected", "BatchResult", "Board", "BoardEntry", "BoardProjection",
    "CalendarDay", "CalendarRangeError", "Case", "CaseAlreadyExists", "CaseChange",
    "CaseEvaluation", "CaseHead", "CaseKind", "CaseKindRule", "CaseLedger", "CaseLedgerError",
    "CaseLinked", "CaseNotFound", "CaseStatus", "CaseStore", "CasesNotFound", "CertificateIssued",
    "ChainBreak", "Channel", "Checkpoint", "CheckpointOfAnotherLedger", "ClockReport",
    "ClockResumed", "ClockRule", "ClockSuspended", "Command", "CommandIdReused", "ComplaintFiled",
    "ComplaintOutcome", "ComplaintResolved", "ConcurrencyConflict", "DecisionAlteration",
    "DecisionAltered", "Denied", "DocumentRequestMode", "DocumentsRequested",
    "DocumentsSupplemented", "Escalated", "EscalationTarget", "EventBody", "Extended", "Finding",
    "HeldVersion", "IllegalTransition", "InputLimitExceeded", "InvalidCommand", "InvalidRequest",
    "InvalidToken", "ItemVersion", "KeyFileError", "LedgerNotFound", "LedgerPacks",
    "LedgerURLError", "Light", "LimitRule", "LinkedCase", "MalformedProof", "MissingDocument",
    "NotAccepted", "NotAuthenticated", "NotPermitted", "PackBaselineDiffers", "PackCodeNotAllowed",
    "PackContent", "PackData", "PackError", "PackIdentity", "PackParameterMissing", "PackProblem",
    "PackRegistry", "PackSource", "Parameter", "Party", "PartyKind", "Project", "ProjectCommand",
    "ProjectCompleted", "ProjectEvaluation", "ProjectKind", "ProjectNotFound", "ProjectRegistered",
    "ProjectStage", "ProjectStageCompleted", "ProjectStatus", "ProjectWithdrawn", "PromiseCutRule",
    "ProofError", "ProofRejected", "RatingSource", "Received", "RecordResult", "RecordedEvent",
    "RecordedPackAltered", "RecordedPackMissing", "Resolved", "RuleChange", "RulePack",
    "SanctionDue", "SanctionKind", "SanctionRule", "Satisfaction", "ScopeRule", "ScoreRow", "Seal",
    "SealError", "SealOfAnotherLedger", "ServiceRated", "SignatureRejected", "Signer", "Stage",
    "StageCompleted", "StageState", "StatRow", "StoreError", "SuspensionReason", "ThresholdRule",
    "TokenNotFound", "Transferred", "UnknownFilterValue", "UnknownItem", "UnknownPackVersion",
    "UnknownRulePack", "VerificationReport", "VerifierKey", "Version", "Violation", "Watch",
    "WhatIfReport", "WorkingCalendar", "WrittenNotice", "__version__", "hookimpl", "load_seal",
    "load_signer", "load_verifier", "new_signer", "parse_checkpoint", "watch_of",
]  # fmt: skip


def test_the_public_api_is_exactly_the_pinned_list() -> None:
    assert caseledger.__all__ == PUBLIC


def test_every_public_name_exists_and_is_documented() -> None:
    for name in caseledger.__all__:
        member = getattr(caseledger, name)
        if isinstance(member, type):
            assert member.__doc__, f"{name} has no docstring"


def test_every_exception_caseledger_raises_derives_from_the_one_root() -> None:
    from caseledger import errors

    records = {"BatchItemError", "PackProblem"}
    exceptions = [getattr(errors, n) for n in errors.__all__ if n not in records]
    # 21, 5 of rule-pack versions (12), 6 of proofs (13), 5 of the HTTP API (14), 1 of input (16)
    assert len(exceptions) == 38
    for error in exceptions:
        assert issubclass(error, caseledger.CaseLedgerError)
        assert getattr(caseledger, error.__name__) is error
    assert issubclass(caseledger.InvalidCommand, ValueError)
    assert issubclass(caseledger.CaseNotFound, LookupError)


def test_every_vocabulary_member_carries_its_chinese_term() -> None:
    enums = [caseledger.CaseKind, caseledger.CaseStatus, caseledger.SuspensionReason,
             caseledger.DecisionAlteration, caseledger.Stage]  # fmt: skip
    for enum in enums:
        for member in enum:
            assert member.zh and any("\u4e00" <= ch <= "\u9fff" for ch in member.zh)
            assert member.label == f"{member.zh} ({member.value})"
    for event_type, body in caseledger.EVENT_TYPES.items():
        assert body.zh, f"{event_type} has no Chinese label"


def _classes_named(annotation: Any) -> set[type]:
    """The classes an annotation names, through ``list[...]``, ``X | None``, ``tuple[...]``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return set()
    if origin is None:
        return {annotation} if isinstance(annotation, type) else set()
    found = {origin} if isinstance(origin, type) else set()
    for argument in typing.get_args(annotation):
        found |= _classes_named(argument)
    return found


def _returned_classes(cls: type) -> set[type]:
    """The caseledger classes that the public methods and properties of ``cls`` return."""
    found: set[type] = set()
    for name in dir(cls):
        if name.startswith("_"):
            continue
        member = inspect.getattr_static(cls, name)
        if isinstance(member, property):
            member = member.fget
        elif isinstance(member, functools.cached_property):
            member = member.func
        elif isinstance(member, classmethod | staticmethod):
            member = member.__func__
        if not callable(member):
            continue
        returns = typing.get_type_hints(member).get("return")
        found |= _classes_named(returns)
    return {c for c in found if c.__module__.split(".")[0] == "caseledger"}


def _field_annotations(cls: type) -> dict[str, Any]:
    """The annotations of a dataclass's fields, as written: from its source when mypyc
    compiled it (a compiled class keeps ``list`` for ``list[Finding]``)."""
    module = sys.modules[cls.__module__]
    if str(module.__file__).endswith(".py"):
        return typing.get_type_hints(cls)
    source = Path(str(module.__file__)).with_name(cls.__module__.rpartition(".")[2] + ".py")
    [node] = [
        n
        for n in ast.parse(source.read_text(encoding="utf-8")).body
        if isinstance(n, ast.ClassDef) and n.name == cls.__name__
    ]
    return {
        item.target.id: eval(ast.unparse(item.annotation), vars(module))
        for item in node.body
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
    }


def _unexported(classes: set[type]) -> list[str]:
    return sorted(
        f"{c.__module__}.{c.__qualname__}"
        for c in classes
        if getattr(caseledger, c.__name__, None) is not c
    )


def test_every_class_the_ledgers_public_methods_return_is_exported() -> None:
    returned = _returned_classes(CaseLedger)
    assert {caseledger.CaseEvaluation, caseledger.ProjectEvaluation, caseledger.Board} <= returned
    # and the classes of the fields of what they return (an evaluation's clock, light, ...)
    fields: set[type] = set()
    for cls in returned:
        if dataclasses.is_dataclass(cls):
            hints = _field_annotations(cls)
            for field in dataclasses.fields(cls):
                fields |= _classes_named(hints[field.name])
    fields = {c for c in fields if c.__module__.split(".")[0] == "caseledger"}
    assert {caseledger.ClockReport, caseledger.Light, caseledger.Finding} <= fields
    assert _unexported(returned | fields) == []


def test_every_class_the_packs_public_methods_return_is_exported() -> None:
    returned = _returned_classes(PackRegistry) | _returned_classes(RulePack)
    assert {caseledger.RulePack, caseledger.Resolved, caseledger.PackIdentity} <= returned
    # RulePack.limits, .clock, ... hand out a private class of rules/pack.py: known, and
    # pinned here so that no other private class joins it unnoticed
    assert _unexported(returned) == ["caseledger.rules.pack._Section"]


def test_the_type_checking_imports_name_exactly_the_public_names() -> None:
    """``__init__.py`` says where each public name comes from once, in the imports under
    ``TYPE_CHECKING``: type checkers read them, and ``__getattr__`` imports from them."""
    named = list(caseledger._exports())
    assert sorted(named) == sorted(n for n in caseledger.__all__ if n != "__version__")
    assert len(named) == len(set(named))


def test_a_public_name_is_the_object_its_module_defines() -> None:
    import importlib

    for name, module in caseledger._exports().items():
        assert getattr(caseledger, name) is getattr(importlib.import_module(module), name)


def test_a_misspelt_name_is_an_attribute_error_that_names_it() -> None:
    import pytest

    with pytest.raises(AttributeError, match="'CaseLeger'"):
        caseledger.CaseLeger  # type: ignore[attr-defined]  # noqa: B018
    assert not hasattr(caseledger, "_private_thing")


def test_a_bare_import_of_the_package_reaches_its_subpackages() -> None:
    assert caseledger.errors.CaseNotFound is caseledger.CaseNotFound
    assert "CaseEvaluation" in dir(caseledger)


def test_every_error_is_listed_in_the_errors_docstring_and_in_the_event_models_table() -> None:
    """A user meets an error in the reference table (docs/event-model.md, its base and facts)
    and in the tree of ``caseledger.errors``: a new error cannot be left out of either."""
    from pathlib import Path

    from caseledger import errors

    docs = Path(__file__).parent.parent / "docs" / "event-model.md"
    table = docs.read_text(encoding="utf-8").split("## Errors", 1)[1]
    errors_only = [
        n for n in errors.__all__ if issubclass(getattr(errors, n), caseledger.CaseLedgerError)
    ]
    tree = errors.__doc__ or ""
    not_in_table = [n for n in errors_only if n != "CaseLedgerError" and f"| `{n}` |" not in table]
    not_in_tree = [n for n in errors_only if f" {n} " not in tree and f" {n}\n" not in tree]
    for name in errors_only:
        bases = [b for b in getattr(errors, name).__bases__ if b is not caseledger.CaseLedgerError]
        if name != "CaseLedgerError" and bases:
            assert f"| `{name}` | `{bases[0].__name__}` |" in table, name
    assert not_in_table == []
    assert not_in_tree == []
