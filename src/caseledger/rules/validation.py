"""Consistency checks of a pack against the packs it extends, run when packs are loaded.

Every problem names the file and the field, and says how to fix it. What is checked:
versions of one rule that overlap; a rule that exists in a parent pack but is not marked
``override = true``, and an ``override`` of a rule that does not exist; clock keys that
name no event; case kinds that name no limit; transfers (``supersedes``) of scopes that do
not exist; and two scopes, or two sanction rules, that both claim the same decision on the
same day (no silent pick).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise

from caseledger.domain.vocabulary import DocumentRequestMode, SuspensionReason
from caseledger.errors import PackProblem
from caseledger.rules.model import SanctionRule, ScopeRule, Version
from caseledger.rules.pack import RulePack, version_span

__all__ = ["check_pack"]

_SECTIONS = ("limits", "case_kinds", "clock", "thresholds", "items", "scopes", "sanctions")
_CLOCK_DETAILS = {
    "clock_suspended": {r.value for r in SuspensionReason},
    "documents_requested": {m.value for m in DocumentRequestMode},
}
_FAR = dt.date(9999, 12, 31)


@dataclass(frozen=True)
class _Span:
    key: str
    index: int
    rule: Version
    first: dt.date
    last: dt.date

    def overlaps(self, other: _Span) -> bool:
        return self.first <= other.last and other.first <= self.last


def check_pack(pack: RulePack) -> list[PackProblem]:
    """Every consistency problem of ``pack`` (its own data, judged with its lineage)."""
    problems: list[PackProblem] = []
    problems += _versions(pack)
    problems += _overrides(pack)
    problems += _clock_keys(pack)
    problems += _case_kinds(pack)
    problems += _scopes(pack)
    problems += _sanctions(pack)
    problems += _calendar(pack)
    problems += _promises(pack)
    return problems


def _promises(pack: RulePack) -> list[PackProblem]:
    """A promised limit may not exceed the statutory limit it promises to beat."""
    problems = []
    for code, versions in pack.data.items.items():
        for index, version in enumerate(versions):
            if version.promised_limit is None:
                continue
            statutory = pack.statutory_limit(code, version.case_kind, version.from_)
            if statutory is not None and version.promised_limit > statutory[0]:
                problems.append(
                    _problem(
                        pack,
                        f"items.{code}[{index}].promised_limit",
                        f"{version.promised_limit} working days is more than the statutory "
                        f"{statutory[0]} of a {version.case_kind.value} case",
                        "promise at most the statutory limit",
                    )
                )
    return problems


def _problem(pack: RulePack, where: str, message: str, fix: str) -> PackProblem:
    return PackProblem(pack.file, where, message, fix)


def _own(pack: RulePack, section: str) -> Mapping[str, list[Version]]:
    rules: Mapping[str, list[Version]] = getattr(pack.data, section)
    return rules


def _versions(pack: RulePack) -> list[PackProblem]:
    problems = []
    for section in _SECTIONS:
        for key, versions in _own(pack, section).items():
            ordered = sorted(versions, key=lambda v: v.from_)
            for a, b in pairwise(ordered):
                if a.from_ == b.from_ or (a.to is not None and a.to >= b.from_):
                    problems.append(
                        _problem(
                            pack,
                            f"{section}.{key}",
                            f"two versions are both in force on {b.from_}",
                            "give each version its own 'from' date, and end a version before "
                            "the next one starts",
                        )
                    )
    return problems


def _overrides(pack: RulePack) -> list[PackProblem]:
    if pack.parent is None:
        return [
            _problem(
                pack, f"{section}.{key}", "marked override but the pack extends nothing",
                "remove override = true, or add 'extends' to [pack]",
            )
            for section in _SECTIONS
            for key, versions in _own(pack, section).items()
            if any(v.override for v in versions)
        ]  # fmt: skip
    problems = []
    ancestors = list(pack.parent.lineage())
    for section in _SECTIONS:
        for key, versions in _own(pack, section).items():
            owners = [a.name for a in ancestors if key in _own(a, section)]
            flagged = [v.override for v in versions]
            if owners and not all(flagged):
                problems.append(
                    _problem(
                        pack,
                        f"{section}.{key}",
                        f"replaces the rule of pack {owners[0]!r} without saying so",
                        "add override = true to each version, or choose another key",
                    )
                )
            elif not owners and any(flagged):
                chain = ", ".join(a.name for a in ancestors)
                problems.append(
                    _problem(
                        pack,
                        f"{section}.{key}",
                        f"overrides a rule that does not exist in {chain}",
                        "check the key's spelling against `caseledger packs show "
                        f"{ancestors[0].name}`, or remove override = true",
                    )
                )
    return problems


def _clock_keys(pack: RulePack) -> list[PackProblem]:
    problems = []
    for key in pack.data.clock:
        event, _, detail = key.partition(".")
        known = _CLOCK_DETAILS.get(event)
        if known is None or detail not in known:
            choices = ", ".join(f"{e}.<{'|'.join(sorted(d))}>" for e, d in _CLOCK_DETAILS.items())
            problems.append(
                _problem(pack, f"clock.{key}", "names no event and reason", f"use {choices}")
            )
    return problems


def _case_kinds(pack: RulePack) -> list[PackProblem]:
    problems = []
    limit_names = set(pack.limits.names())
    for kind, versions in pack.data.case_kinds.items():
        for index, version in enumerate(versions):
            for name in filter(None, (version.limit, version.extension)):
                if name not in limit_names:
                    problems.append(
                        _problem(
                            pack,
                            f"case_kinds.{kind.value}[{index}]",
                            f"names limit {name!r}, which no pack of the lineage defines",
                            f"use one of: {', '.join(sorted(limit_names)) or '(none)'}",
                        )
                    )
    return problems


def _spans(pack: RulePack, section: str) -> list[_Span]:
    """Every version of every key of the lineage with the days it really applies."""
    spans: list[_Span] = []
    claimed_from: dict[str, dt.date] = {}
    for layer in pack.lineage():
        for key, versions in _own(layer, section).items():
            ordered = sorted(versions, key=lambda v: v.from_)
            cut = claimed_from.get(key)
            for index in range(len(ordered)):
                first, last = version_span(ordered, index)
                last = last or _FAR
                if cut is not None:
                    last = min(last, cut - dt.timedelta(days=1))
                if first <= last:
                    spans.append(_Span(key, index, ordered[index], first, last))
            earliest = ordered[0].from_ if ordered else None
            if earliest is not None:
                claimed_from[key] = min(claimed_from.get(key, earliest), earliest)
    return spans


def _scopes(pack: RulePack) -> list[PackProblem]:
    problems = []
    spans = _spans(pack, "scopes")
    keys = {s.key for s in spans}
    takeover: dict[str, dt.date] = {}
    for span in spans:
        assert isinstance(span.rule, ScopeRule)
        for target in span.rule.supersedes:
            if target not in keys:
                problems.append(
                    _problem(
                        pack,
                        f"scopes.{span.key}[{span.index}].supersedes",
                        f"names scope {target!r}, which does not exist",
                        f"use one of: {', '.join(sorted(keys - {span.key}))}",
                    )
                )
            takeover[target] = min(takeover.get(target, span.first), span.first)
    cut = [
        _Span(s.key, s.index, s.rule, s.first, min(s.last, takeover[s.key] - dt.timedelta(days=1)))
        if s.key in takeover
        else s
        for s in spans
    ]
    for a, b in combinations([s for s in cut if s.first <= s.last], 2):
        if a.key == b.key or not a.overlaps(b):
            continue
        ra, rb = a.rule, b.rule
        assert isinstance(ra, ScopeRule) and isinstance(rb, ScopeRule)
        departments = {ra.holder.department, rb.holder.department}
        if "*" in departments or len(departments) == 1:
            continue
        shared = set(ra.decisions) & set(rb.decisions)
        items = _meet(ra.items, rb.items)
        kinds = set(ra.case_kinds) & set(rb.case_kinds)
        if shared and items and kinds:
            day = max(a.first, b.first)
            problems.append(
                _problem(
                    pack,
                    f"scopes.{b.key}",
                    f"claims {', '.join(sorted(shared))} on {', '.join(sorted(items))[:80]} for "
                    f"{', '.join(sorted(departments))} together with scopes.{a.key} on {day}",
                    f"end one with 'to', or mark the transfer with supersedes = [\"{a.key}\"]",
                )
            )
    return problems


def _meet(a: Sequence[str], b: Sequence[str]) -> set[str]:
    if "*" in a:
        return set(b)
    if "*" in b:
        return set(a)
    return set(a) & set(b)


def _sanctions(pack: RulePack) -> list[PackProblem]:
    problems = []
    spans = _spans(pack, "sanctions")
    for a, b in combinations(spans, 2):
        if a.key == b.key or not a.overlaps(b):
            continue
        ra, rb = a.rule, b.rule
        assert isinstance(ra, SanctionRule) and isinstance(rb, SanctionRule)
        if (ra.violation, ra.sanction) == (rb.violation, rb.sanction):
            problems.append(
                _problem(
                    pack,
                    f"sanctions.{b.key}",
                    f"gives the same sanction for the same violation as sanctions.{a.key} "
                    f"on {max(a.first, b.first)}",
                    "keep one rule, or end one with 'to' before the other starts",
                )
            )
    return problems


def _calendar(pack: RulePack) -> list[PackProblem]:
    problems = []
    seen: set[dt.date] = set()
    inherited = {d.date for p in list(pack.lineage())[1:] for d in p.data.calendar.days}
    for index, entry in enumerate(pack.data.calendar.days):
        where = f"calendar.days[{index}]"
        if entry.date in seen:
            problems.append(_problem(pack, where, f"{entry.date} is listed twice", "keep one"))
        seen.add(entry.date)
        if entry.date in inherited and not entry.override:
            problems.append(
                _problem(
                    pack, where, f"{entry.date} is set by the pack it extends",
                    "add override = true",
                )
            )  # fmt: skip
        if entry.date not in inherited and entry.override:
            problems.append(
                _problem(pack, where, f"overrides {entry.date}, which no parent sets",
                         "remove override = true")
            )  # fmt: skip
    return problems
