"""caseledger: the ledger of administrative-approval cases (行政审批办件).

Every case is an immutable, hash-chained stream of events, and so is every parallel-approval
project. Embed :class:`CaseLedger`, record :class:`Command` and :class:`ProjectCommand`
objects (or their JSON form), read :class:`Case` and :class:`Project` states and histories,
and verify the chains.

The names are imported when first used (PEP 562), so importing ``caseledger`` (or the pytest
plugin, ``caseledger.testing.plugin``) costs almost nothing; type checkers and IDEs read them
from the imports under ``TYPE_CHECKING`` below, and so does ``__getattr__``: they are the one
list of where each public name comes from (a test checks they name exactly ``__all__``).
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from caseledger.audit.chains import ChainBreak, VerificationReport
    from caseledger.audit.keys import Signer, load_signer, load_verifier, new_signer
    from caseledger.audit.offline import Checkpoint, VerifierKey, parse_checkpoint
    from caseledger.audit.seal import CaseHead, Seal, load_seal
    from caseledger.calendar import CalendarDay, WorkingCalendar
    from caseledger.domain.case import Case
    from caseledger.domain.events import (
        EVENT_TYPES,
        PROJECT_EVENT_TYPES,
        Accepted,
        ApplicationWithdrawn,
        Approved,
        CaseLinked,
        CertificateIssued,
        ClockResumed,
        ClockSuspended,
        ComplaintFiled,
        ComplaintResolved,
        DecisionAltered,
        Denied,
        DocumentsRequested,
        DocumentsSupplemented,
        Escalated,
        EventBody,
        Extended,
        NotAccepted,
        ProjectCompleted,
        ProjectRegistered,
        ProjectStageCompleted,
        ProjectWithdrawn,
        Received,
        ServiceRated,
        StageCompleted,
        Transferred,
    )
    from caseledger.domain.project import Project
    from caseledger.domain.records import Command, ProjectCommand, RecordedEvent
    from caseledger.domain.values import Actor, MissingDocument, Party, ProjectStage, WrittenNotice
    from caseledger.domain.vocabulary import (
        CaseKind,
        CaseStatus,
        Channel,
        ComplaintOutcome,
        DecisionAlteration,
        DocumentRequestMode,
        EscalationTarget,
        PartyKind,
        ProjectKind,
        ProjectStatus,
        RatingSource,
        Satisfaction,
        Stage,
        SuspensionReason,
    )
    from caseledger.errors import (  # issue 13: the transparency log
        BatchItemError,
        BatchRejected,
        CalendarRangeError,
        CaseAlreadyExists,
        CaseLedgerError,
        CaseNotFound,
        CasesNotFound,
        CheckpointOfAnotherLedger,
        CommandIdReused,
        ConcurrencyConflict,
        IllegalTransition,
        InputLimitExceeded,
        InvalidCommand,
        InvalidRequest,
        InvalidToken,
        KeyFileError,
        LedgerNotFound,
        LedgerURLError,
        MalformedProof,
        NotAuthenticated,
        NotPermitted,
        PackBaselineDiffers,
        PackCodeNotAllowed,
        PackError,
        PackParameterMissing,
        PackProblem,
        ProjectNotFound,
        ProofError,
        ProofRejected,
        RecordedPackAltered,
        RecordedPackMissing,
        SealError,
        SealOfAnotherLedger,
        SignatureRejected,
        StoreError,
        TokenNotFound,
        UnknownFilterValue,
        UnknownItem,
        UnknownPackVersion,
        UnknownRulePack,
    )
    from caseledger.judging.clock import ClockReport
    from caseledger.judging.evaluation import CaseEvaluation
    from caseledger.judging.judgement import Finding, Light, SanctionDue
    from caseledger.judging.project import LinkedCase, ProjectEvaluation, StageState
    from caseledger.judging.supervision import Watch, watch_of
    from caseledger.ledger import BatchResult, CaseLedger, RecordResult
    from caseledger.readmodels.projection import BoardProjection
    from caseledger.readmodels.reports import Board, BoardEntry, ScoreRow, StatRow
    from caseledger.rules import PackRegistry, PackSource, RulePack, hookimpl
    from caseledger.rules.model import (
        CaseKindRule,
        ClockRule,
        ItemVersion,
        LimitRule,
        PackData,
        PromiseCutRule,
        SanctionKind,
        SanctionRule,
        ScopeRule,
        ThresholdRule,
        Version,
        Violation,
    )
    from caseledger.rules.pack import PackIdentity, Parameter, Resolved
    from caseledger.rules.versions import PackContent, RuleChange
    from caseledger.store.event_store import CaseStore
    from caseledger.store.packs import HeldVersion, LedgerPacks
    from caseledger.whatif import CaseChange, WhatIfReport

__version__ = "0.1.0"


__all__ = [
    "EVENT_TYPES",
    "PROJECT_EVENT_TYPES",
    "Accepted",
    "Actor",
    "ApplicationWithdrawn",
    "Approved",
    "BatchItemError",
    "BatchRejected",
    "BatchResult",
    "Board",
    "BoardEntry",
    "BoardProjection",
    "CalendarDay",
    "CalendarRangeError",
    "Case",
    "CaseAlreadyExists",
    "CaseChange",
    "CaseEvaluation",
    "CaseHead",
    "CaseKind",
    "CaseKindRule",
    "CaseLedger",
    "CaseLedgerError",
    "CaseLinked",
    "CaseNotFound",
    "CaseStatus",
    "CaseStore",
    "CasesNotFound",
    "CertificateIssued",
    "ChainBreak",
    "Channel",
    "Checkpoint",
    "CheckpointOfAnotherLedger",
    "ClockReport",
    "ClockResumed",
    "ClockRule",
    "ClockSuspended",
    "Command",
    "CommandIdReused",
    "ComplaintFiled",
    "ComplaintOutcome",
    "ComplaintResolved",
    "ConcurrencyConflict",
    "DecisionAlteration",
    "DecisionAltered",
    "Denied",
    "DocumentRequestMode",
    "DocumentsRequested",
    "DocumentsSupplemented",
    "Escalated",
    "EscalationTarget",
    "EventBody",
    "Extended",
    "Finding",
    "HeldVersion",
    "IllegalTransition",
    "InputLimitExceeded",
    "InvalidCommand",
    "InvalidRequest",
    "InvalidToken",
    "ItemVersion",
    "KeyFileError",
    "LedgerNotFound",
    "LedgerPacks",
    "LedgerURLError",
    "Light",
    "LimitRule",
    "LinkedCase",
    "MalformedProof",
    "MissingDocument",
    "NotAccepted",
    "NotAuthenticated",
    "NotPermitted",
    "PackBaselineDiffers",
    "PackCodeNotAllowed",
    "PackContent",
    "PackData",
    "PackError",
    "PackIdentity",
    "PackParameterMissing",
    "PackProblem",
    "PackRegistry",
    "PackSource",
    "Parameter",
    "Party",
    "PartyKind",
    "Project",
    "ProjectCommand",
    "ProjectCompleted",
    "ProjectEvaluation",
    "ProjectKind",
    "ProjectNotFound",
    "ProjectRegistered",
    "ProjectStage",
    "ProjectStageCompleted",
    "ProjectStatus",
    "ProjectWithdrawn",
    "PromiseCutRule",
    "ProofError",
    "ProofRejected",
    "RatingSource",
    "Received",
    "RecordResult",
    "RecordedEvent",
    "RecordedPackAltered",
    "RecordedPackMissing",
    "Resolved",
    "RuleChange",
    "RulePack",
    "SanctionDue",
    "SanctionKind",
    "SanctionRule",
    "Satisfaction",
    "ScopeRule",
    "ScoreRow",
    "Seal",
    "SealError",
    "SealOfAnotherLedger",
    "ServiceRated",
    "SignatureRejected",
    "Signer",
    "Stage",
    "StageCompleted",
    "StageState",
    "StatRow",
    "StoreError",
    "SuspensionReason",
    "ThresholdRule",
    "TokenNotFound",
    "Transferred",
    "UnknownFilterValue",
    "UnknownItem",
    "UnknownPackVersion",
    "UnknownRulePack",
    "VerificationReport",
    "VerifierKey",
    "Version",
    "Violation",
    "Watch",
    "WhatIfReport",
    "WorkingCalendar",
    "WrittenNotice",
    "__version__",
    "hookimpl",
    "load_seal",
    "load_signer",
    "load_verifier",
    "new_signer",
    "parse_checkpoint",
    "watch_of",
]

if not TYPE_CHECKING:  # (a module __getattr__ would make every misspelt name Any to mypy)

    def __getattr__(name: str) -> Any:
        module = _exports().get(name)
        if module is not None:
            value = getattr(importlib.import_module(module), name)
            if isinstance(value, type) and not value.__doc__:
                value.__doc__ = _source_docstring(value)
            globals()[name] = value  # imported once: later look-ups do not come here
            return value
        if not name.startswith("_"):  # a subpackage after a bare `import caseledger`
            try:
                return importlib.import_module(f"{__name__}.{name}")
            except ModuleNotFoundError as error:
                if error.name != f"{__name__}.{name}":
                    raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    @functools.cache
    def _exports() -> dict[str, str]:
        """Each public name's module, read once from the imports under ``TYPE_CHECKING``
        above: the one list of where the names come from, for type checkers and for
        ``__getattr__`` alike."""
        import ast
        from pathlib import Path

        tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
        guarded = next(
            node
            for node in tree.body
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        )
        return {
            alias.name: node.module
            for node in guarded.body
            if isinstance(node, ast.ImportFrom) and node.module
            for alias in node.names
        }

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})

    def _source_docstring(cls: type) -> str | None:
        """The docstring of a class compiled by mypyc (which keeps only its signature), read
        from the Python source the wheel carries beside the compiled module."""
        import ast
        import sys
        from pathlib import Path

        compiled = getattr(sys.modules[cls.__module__], "__file__", None) or ""
        source = Path(compiled).with_name(cls.__module__.rpartition(".")[2] + ".py")
        if compiled.endswith(".py") or not source.is_file():
            return None
        for node in ast.parse(source.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
                return ast.get_docstring(node, clean=False)
        return None
