"""Rule packs: a locality's law as data (and hooks), layered on the national baseline."""

from caseledger.rules.hookspecs import hookimpl
from caseledger.rules.model import ClockEffect, Decision, SanctionKind, Violation
from caseledger.rules.pack import PackIdentity, Resolved, RulePack
from caseledger.rules.registry import (
    ENTRY_POINT_GROUP,
    PackCodeNotAllowed,
    PackPlugin,
    PackRegistry,
    PackSource,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "ClockEffect",
    "Decision",
    "PackCodeNotAllowed",
    "PackIdentity",
    "PackPlugin",
    "PackRegistry",
    "PackSource",
    "Resolved",
    "RulePack",
    "SanctionKind",
    "Violation",
    "hookimpl",
]
