"""A loaded rule pack, layered on the packs it extends, answering "what applies on this date".

Every answer is a :class:`Resolved`: the value, the rule version it came from (with its
``reference``) and the pack that said it, so explanations can cite their source. Values
come from the most specific pack in force on the date: a city's version applies from its
``from`` date, and before it the national one does.

Parameters: a version whose ``from`` or ``to`` is ``"${name}"`` (``"${name}+N"``,
``"${name}-N"``) is dated by the value the nearest pack of the lineage gives (or a value
given with :meth:`RulePack.with_parameters`, as scenario files do). Until the parameter has
a value the version is left out of every answer, and the pack reports it in
``missing_parameters``: the registry then refuses to hand it out for judging.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Generic, TypeVar

from caseledger.calendar import CalendarDay, WorkingCalendar, calendar_for
from caseledger.domain.chain import canonical_json
from caseledger.domain.values import Actor
from caseledger.domain.vocabulary import CaseKind
from caseledger.errors import PackError, PackProblem
from caseledger.rules.model import (
    PARAMETER_REFERENCE,
    CaseKindRule,
    ClockRule,
    Decision,
    ItemVersion,
    LimitRule,
    PackData,
    PromiseCutRule,
    SanctionRule,
    ScopeRule,
    ThresholdRule,
    Version,
    Violation,
)

__all__ = [
    "GIVEN",
    "MEMO_SIZE",
    "Memo",
    "PackIdentity",
    "Parameter",
    "Resolved",
    "RulePack",
    "in_force",
    "version_span",
]

V = TypeVar("V", bound=Version)
K = TypeVar("K", bound=Hashable)
A = TypeVar("A")

MEMO_SIZE = 100_000
"""How many answers of each kind (each :class:`Memo`) a pack keeps: a bound on its memory.
A rebuild asks the same few thousand questions (an item, a kind and a day) for every case;
past the bound, answers are computed each time and nothing is dropped."""

GIVEN = "(given)"
"""``Parameter.set_in`` of a value given with :meth:`RulePack.with_parameters`."""


@dataclass(frozen=True)
class PackIdentity:
    """What an evaluation records about the pack it used."""

    name: str
    version: str
    content_hash: str


@dataclass(frozen=True)
class Parameter:
    """A parameter of a pack as its lineage resolves it: who declares it and why, and its
    value (if any), from the nearest pack that gives one."""

    name: str
    kind: str
    description: str
    declared_in: str
    reference: str
    value: dt.date | None = None
    set_in: str | None = None
    """The pack that gives the value, or :data:`GIVEN`."""
    value_reference: str | None = None


@dataclass(frozen=True)
class Resolved(Generic[V]):
    """A rule version in force, the key it is filed under, and the pack that holds it."""

    rule: V
    key: str
    pack: str

    @property
    def reference(self) -> str:
        return self.rule.reference


def version_span(versions: Sequence[Version], index: int) -> tuple[dt.date, dt.date | None]:
    """First and last day (None: open-ended) of ``versions[index]`` in a sorted list."""
    version = versions[index]
    last = version.ends
    ends = [last] if last else []
    if index + 1 < len(versions):
        ends.append(versions[index + 1].starts - dt.timedelta(days=1))
    return version.starts, min(ends) if ends else None


def in_force(versions: Sequence[V], on: dt.date) -> V | None:
    """The version of a sorted list that applies on ``on``."""
    for index in range(len(versions) - 1, -1, -1):
        first, last = version_span(versions, index)
        if first <= on:
            return versions[index] if last is None or on <= last else None
    return None


class Memo(dict[K, A]):
    """Answers by question, each computed once by ``compute`` on first asking, at most
    :data:`MEMO_SIZE` of them kept. A pack is immutable once loaded, and judging asks the
    same questions for every case. Asking is indexing: ``memo[key]`` (a plain dict lookup
    when the answer is kept)."""

    __slots__ = ("_compute",)

    def __init__(self, compute: Callable[[K], A]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: K) -> A:
        answer = self._compute(key)
        if len(self) < MEMO_SIZE:
            self[key] = answer
        return answer


class _Section(Generic[V]):
    """One section of every pack of the lineage, child first. Answers are memoised: a pack
    is immutable once loaded, and projections ask the same questions for every case."""

    def __init__(self, layers: tuple[tuple[str, Mapping[str, list[V]]], ...]) -> None:
        self.layers = tuple(
            (pack, {key: sorted(vs, key=lambda v: v.starts) for key, vs in rules.items()})
            for pack, rules in layers
        )
        seen: dict[str, None] = {}
        for _, rules in self.layers:
            seen.update(dict.fromkeys(rules))
        self._names = list(seen)
        self.answers: Memo[tuple[str, dt.date], Resolved[V] | None] = Memo(self._find)
        """``answers[key, day]``: the version filed under ``key`` in force on ``day``, from the
        most specific pack that has one (None: none is)."""

    def names(self) -> list[str]:
        return list(self._names)

    def resolve(self, key: str, on: dt.date) -> Resolved[V] | None:
        """The version filed under ``key`` in force on ``on`` (``answers[key, on]``)."""
        return self.answers[key, on]

    def _find(self, question: tuple[str, dt.date]) -> Resolved[V] | None:
        key, on = question
        for pack, rules in self.layers:
            versions = rules.get(key)
            if versions:
                found = in_force(versions, on)
                if found is not None:
                    return Resolved(found, key, pack)
        return None


_AuthorityQuestion = tuple[str, str, str | None, Decision, str | None, CaseKind | None, dt.date]
"""Role, department, window, decision, item code, case kind and day: may they decide?"""


@dataclass(eq=False)
class RulePack:
    """A validated pack with its parent: what a case is judged by."""

    data: PackData
    """The pack as written (a parameterised date stays ``"${name}"``)."""
    file: str
    parent: RulePack | None = None
    hooks_digest: str = ""
    given: Mapping[str, dt.date] = field(default_factory=dict)
    """Parameter values given from outside the lineage (:meth:`with_parameters`)."""
    _calendar: WorkingCalendar | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.data.pack.name

    @property
    def version(self) -> str:
        return self.data.pack.version

    @property
    def title(self) -> str:
        return self.data.pack.title

    @property
    def score_base(self) -> int | None:
        """The score units start from (e.g. 1000), from the nearest pack that sets one."""
        return next(
            (p.data.pack.score_base for p in self.lineage() if p.data.pack.score_base), None
        )

    @cached_property
    def utc_offset(self) -> dt.timezone:
        sign = 1 if self.data.pack.utc_offset[0] == "+" else -1
        hours, minutes = map(int, self.data.pack.utc_offset[1:].split(":"))
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))

    def local_date(self, moment: dt.datetime) -> dt.date:
        """The date of ``moment`` where the pack applies."""
        if moment.utcoffset() == self._offset:
            return moment.date()
        return moment.astimezone(self.utc_offset).date()

    def local_dates(self, moments: Iterable[tuple[int, dt.datetime]]) -> dict[int, dt.date]:
        """:meth:`local_date` of each ``(key, moment)``, by key (the days of a case's facts,
        by version: judging a case needs them all, for every case of a rebuild)."""
        offset, zone = self._offset, self.utc_offset
        return {
            key: moment.date() if moment.utcoffset() == offset else moment.astimezone(zone).date()
            for key, moment in moments
        }

    @cached_property
    def _offset(self) -> dt.timedelta | None:
        return self.utc_offset.utcoffset(None)

    def lineage(self) -> Iterator[RulePack]:
        """This pack, then the pack it extends, and so on to the root."""
        pack: RulePack | None = self
        while pack is not None:
            yield pack
            pack = pack.parent

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 over this pack's data, its hooks' source, its parent's hash and the values
        of its parameters (a pack without parameters hashes as it did before they existed)."""
        digest = hashlib.sha256(canonical_json(_hash_form(self.data)))
        digest.update(self.hooks_digest.encode())
        if self.parent is not None:
            digest.update(self.parent.content_hash.encode())
        if self.parameters:
            values = {
                name: p.value.isoformat() if p.value else None
                for name, p in self.parameters.items()
            }
            digest.update(canonical_json({"parameters": values}))
        return digest.hexdigest()

    # -- parameters ----------------------------------------------------------------------
    @cached_property
    def parameters(self) -> dict[str, Parameter]:
        """Every parameter of the lineage, declared by the first pack that names it, valued
        by the nearest pack that gives a value (or by a value given)."""
        found: dict[str, Parameter] = {}
        for layer in reversed(list(self.lineage())):
            for name, declared in layer.data.parameters.items():
                if name not in found:
                    found[name] = Parameter(
                        name,
                        declared.kind,
                        " ".join((declared.description or "").split()),
                        layer.name,
                        declared.reference,
                    )
                if declared.value is not None:
                    found[name] = replace(
                        found[name],
                        value=declared.value,
                        set_in=layer.name,
                        value_reference=declared.reference,
                    )
        for name, value in self.given.items():
            if name in found:
                found[name] = replace(found[name], value=value, set_in=GIVEN, value_reference=GIVEN)
        return found

    @property
    def missing_parameters(self) -> list[str]:
        """The parameters without a value: until they have one, the pack judges no case."""
        return sorted(name for name, p in self.parameters.items() if p.value is None)

    def with_parameters(self, values: Mapping[str, dt.date], *, source: str = "") -> RulePack:
        """This pack with parameter values given (they win over the lineage's), e.g. by a
        scenario file; :class:`PackError` for a name the lineage does not declare."""
        if not values:
            return self
        unknown = sorted(set(values) - set(self.parameters))
        if unknown:
            known = ", ".join(sorted(self.parameters)) or "(none)"
            raise PackError(
                [
                    PackProblem(
                        source or self.file,
                        f"parameters.{name}",
                        f"pack {self.name!r} has no parameter {name!r}",
                        f"use one of: {known}",
                    )
                    for name in unknown
                ]
            )
        return RulePack(
            self.data,
            self.file,
            self.parent,
            self.hooks_digest,
            {**self.given, **values},
            self.calendar,
        )

    def resolve_date(self, point: dt.date | str) -> dt.date | None:
        """A date as written in a version (a date, or ``"${name}"``, ``"${name}+N"``,
        ``"${name}-N"``) with this pack's parameter values; None if it has no value yet."""
        if isinstance(point, dt.date):
            return point
        match = PARAMETER_REFERENCE.match(point)
        if match is None:
            return None
        parameter = self.parameters.get(match["name"])
        if parameter is None or parameter.value is None:
            return None
        days = int(match["days"] or 0)
        return parameter.value + dt.timedelta(days=-days if match["sign"] == "-" else days)

    def resolved_rules(self, layer: RulePack, attribute: str) -> dict[str, list[Version]]:
        """The rules of one section of ``layer`` (this pack or one it extends), dated with
        this pack's parameter values; a version still waiting for a value is left out."""
        rules: Mapping[str, list[Version]] = getattr(layer.data, attribute)
        resolved: dict[str, list[Version]] = {}
        for key, versions in rules.items():
            dated = [v for v in map(self._dated, versions) if v is not None]
            if dated:
                resolved[key] = dated
        return resolved

    def _dated(self, version: V) -> V | None:
        if not version.parameter_references():
            return version
        first = self.resolve_date(version.from_)
        last = None if version.to is None else self.resolve_date(version.to)
        if first is None or (version.to is not None and last is None):
            return None
        return version.model_copy(update={"from_": first, "to": last})

    @cached_property
    def identity(self) -> PackIdentity:
        return PackIdentity(self.name, self.version, self.content_hash)

    # -- sections ------------------------------------------------------------------------
    def _section(self, attribute: str) -> _Section[Version]:
        layers = tuple((p.name, self.resolved_rules(p, attribute)) for p in self.lineage())
        return _Section(layers)

    @cached_property
    def limits(self) -> _Section[LimitRule]:
        return self._section("limits")  # type: ignore[return-value]

    @cached_property
    def case_kinds(self) -> _Section[CaseKindRule]:
        return self._section("case_kinds")  # type: ignore[return-value]

    @cached_property
    def clock(self) -> _Section[ClockRule]:
        return self._section("clock")  # type: ignore[return-value]

    @cached_property
    def thresholds(self) -> _Section[ThresholdRule]:
        return self._section("thresholds")  # type: ignore[return-value]

    @cached_property
    def promise_cuts(self) -> _Section[PromiseCutRule]:
        return self._section("promise_cuts")  # type: ignore[return-value]

    @cached_property
    def items(self) -> _Section[ItemVersion]:
        return self._section("items")  # type: ignore[return-value]

    @cached_property
    def scopes(self) -> _Section[ScopeRule]:
        return self._section("scopes")  # type: ignore[return-value]

    @cached_property
    def sanctions(self) -> _Section[SanctionRule]:
        return self._section("sanctions")  # type: ignore[return-value]

    # -- questions -------------------------------------------------------------------------
    @property
    def open_catalogue(self) -> bool:
        return self.data.pack.catalogue == "open"

    def item(self, code: str, on: dt.date) -> Resolved[ItemVersion] | None:
        """The catalogue entry of ``code`` on ``on``."""
        return self.items.answers[code, on]

    def knows_item(self, code: str, on: dt.date) -> bool:
        return self.open_catalogue or self.item(code, on) is not None

    def case_kind_rule(self, kind: CaseKind, on: dt.date) -> Resolved[CaseKindRule] | None:
        return self.case_kinds.answers[kind.value, on]

    def limit(self, name: str, on: dt.date) -> Resolved[LimitRule] | None:
        return self.limits.answers[name, on]

    def statutory_limit(
        self, item_code: str, kind: CaseKind, on: dt.date
    ) -> tuple[int, list[Resolved[Version]]] | None:
        """The statutory limit in working days and the rules it rests on (a new list each
        time)."""
        found = self._statutory[item_code, kind, on]
        return None if found is None else (found[0], list(found[1]))

    @cached_property
    def _statutory(
        self,
    ) -> Memo[tuple[str, CaseKind, dt.date], tuple[int, tuple[Resolved[Version], ...]] | None]:
        return Memo(self._find_statutory_limit)

    def _find_statutory_limit(
        self, question: tuple[str, CaseKind, dt.date]
    ) -> tuple[int, tuple[Resolved[Version], ...]] | None:
        item_code, kind, on = question
        item = self.item(item_code, on)
        if item is not None and item.rule.statutory_limit is not None:
            return item.rule.statutory_limit, (item,)  # type: ignore[return-value]
        kind_rule = self.case_kind_rule(kind, on)
        if kind_rule is None:
            return None
        limit = self.limit(kind_rule.rule.limit, on)
        if limit is None:
            return None
        return limit.rule.working_days, (kind_rule, limit)  # type: ignore[return-value]

    def promised_limit(self, item_code: str, on: dt.date) -> Resolved[ItemVersion] | None:
        item = self.item(item_code, on)
        return item if item is not None and item.rule.promised_limit is not None else None

    def extension_limit(self, kind: CaseKind, on: dt.date) -> Resolved[LimitRule] | None:
        return self._extension[kind, on]

    @cached_property
    def _extension(self) -> Memo[tuple[CaseKind, dt.date], Resolved[LimitRule] | None]:
        return Memo(self._find_extension_limit)

    def _find_extension_limit(
        self, question: tuple[CaseKind, dt.date]
    ) -> Resolved[LimitRule] | None:
        kind, on = question
        kind_rule = self.case_kind_rule(kind, on)
        if kind_rule is None or kind_rule.rule.extension is None:
            return None
        return self.limit(kind_rule.rule.extension, on)

    def clock_rule(self, event_type: str, detail: str, on: dt.date) -> Resolved[ClockRule] | None:
        """What ``event_type`` (with its reason or mode ``detail``) does to the clock."""
        return self.clock.answers[f"{event_type}.{detail}", on]

    def yellow_threshold(self, on: dt.date) -> Resolved[ThresholdRule] | None:
        return self.thresholds.answers["yellow", on]

    def largest_promise_cut(self, on: dt.date) -> Resolved[PromiseCutRule] | None:
        """How far an item's promise may cut its statutory limit, from ``on`` (None: no cap)."""
        return self.promise_cuts.answers["largest", on]

    def scopes_on(self, on: dt.date) -> list[Resolved[ScopeRule]]:
        """Every scope in force on ``on``, after transfers of power (``supersedes``); a new
        list each time."""
        return list(self._scopes_on[on])

    @cached_property
    def _scopes_on(self) -> Memo[dt.date, tuple[Resolved[ScopeRule], ...]]:
        return Memo(self._find_active_scopes)

    def _find_active_scopes(self, on: dt.date) -> tuple[Resolved[ScopeRule], ...]:
        active = [rule for key in self.scopes.names() if (rule := self.scopes.answers[key, on])]
        superseded = {name for scope in active for name in scope.rule.supersedes}
        return tuple(scope for scope in active if scope.key not in superseded)

    def authorising_scope(
        self,
        actor: Actor | tuple[str, str, str | None],
        decision: Decision,
        item_code: str | None,
        kind: CaseKind | None,
        on: dt.date,
    ) -> Resolved[ScopeRule] | None:
        """The scope that lets ``actor`` (or ``(role, department, window)``) take ``decision``
        on ``on``, or None: ultra vires."""
        if isinstance(actor, Actor):
            role, department, window = actor.role, actor.department, actor.window
        else:
            role, department, window = actor
        return self._authorising[role, department, window, decision, item_code, kind, on]

    @cached_property
    def _authorising(self) -> Memo[_AuthorityQuestion, Resolved[ScopeRule] | None]:
        return Memo(self._find_authorising_scope)

    def _find_authorising_scope(self, question: _AuthorityQuestion) -> Resolved[ScopeRule] | None:
        role, department, window, decision, item_code, kind, on = question
        for scope in self._scopes_on[on]:
            rule = scope.rule
            holder = rule.holder
            if decision not in rule.decisions:
                continue
            if "*" not in holder.roles and role not in holder.roles:
                continue
            if holder.department == "*":
                if department in holder.except_departments:
                    continue
                if holder.departments and department not in holder.departments:
                    continue
            elif holder.department != department:
                continue
            if holder.windows is not None and window not in holder.windows:
                continue
            if "*" in rule.items:
                if item_code in rule.except_items:
                    continue
            elif item_code not in rule.items:
                continue
            if kind is not None and kind not in rule.case_kinds:
                continue
            return scope
        return None

    def sanction_rules(self, violation: Violation, on: dt.date) -> list[Resolved[SanctionRule]]:
        """The sanction rules in force on ``on`` for ``violation`` (a new list each time)."""
        return list(self._sanction_rules[violation, on])

    @cached_property
    def _sanction_rules(
        self,
    ) -> Memo[tuple[Violation, dt.date], tuple[Resolved[SanctionRule], ...]]:
        return Memo(self._find_sanction_rules)

    def _find_sanction_rules(
        self, question: tuple[Violation, dt.date]
    ) -> tuple[Resolved[SanctionRule], ...]:
        violation, on = question
        sanctions = self.sanctions
        in_force_then = [rule for key in sanctions.names() if (rule := sanctions.answers[key, on])]
        return tuple(rule for rule in in_force_then if rule.rule.violation is violation)

    # -- calendar ------------------------------------------------------------------------
    def calendar_days(self) -> list[CalendarDay]:
        """Local calendar additions of the lineage; a child's entry wins for its date."""
        days: dict[dt.date, CalendarDay] = {}
        for pack in reversed(list(self.lineage())):
            for entry in pack.data.calendar.days:
                days[entry.date] = CalendarDay(
                    entry.date, entry.working, entry.name, entry.reference
                )
        return list(days.values())

    @property
    def calendar(self) -> WorkingCalendar:
        """The working-day calendar of this pack (official, plus local additions)."""
        if self._calendar is None:
            years = {y for p in self.lineage() for y in p.data.calendar.published_years}
            self._calendar = calendar_for(self.calendar_days(), years)
        return self._calendar


def _hash_form(data: PackData) -> dict[str, Any]:
    """The data hashed: fields added after packs were first hashed are left out while they
    hold their defaults, so that an unchanged pack keeps its content hash."""
    form = data.model_dump(mode="json")
    for section in ("parameters", "promise_cuts"):
        if not form.get(section):
            form.pop(section, None)
    for section, fields in (("sanctions", ("acts", "limits")), ("limits", ("requires_notice",))):
        for versions in form.get(section, {}).values():
            for version in versions:
                for name in fields:
                    if not version.get(name):
                        version.pop(name, None)
    for versions in form.get("scopes", {}).values():
        for version in versions:
            if not version.get("except_items"):
                version.pop("except_items", None)
            for listed in ("except_departments", "departments"):
                if not version["holder"].get(listed):
                    version["holder"].pop(listed, None)
    return form
