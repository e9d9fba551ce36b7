"""Rule-pack versions as data: what the ledger records of a pack, and how two versions differ.

The canonical content of a pack version is, for each pack of its lineage, its data as
validated (``pack.toml`` with the items its hooks give, dumped as JSON by field alias), the
digest of its hooks' source, the parameter values given from outside, and the content hash
of the pack it extends. Its address is :attr:`RulePack.content_hash`, the SHA-256 over the
same (canonical JSON, sorted keys): :func:`pack_from_content` rebuilds a :class:`RulePack`
from what was recorded and refuses it (:class:`RecordedPackAltered`) unless it hashes to
its address, so a recorded pack judges exactly as the installed one did.

Code: a pack's hooks (``caseledger_items``, ``caseledger_check_pack``) run when the pack is
loaded, never while a case is judged. What they give (extra catalogue items) is in the
data, which is recorded; what they check was checked when the pack was loaded. The code
itself is not recorded: its SHA-256 is, inside the content hash, so a change of code is a
new version, and a recorded pack judges without its code.

:func:`pack_changes` lists the rules two packs answer differently, by section, key and
span of days, with the rule versions (and references) on each side.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from caseledger.calendar import CalendarDay
from caseledger.errors import PackBaselineDiffers, RecordedPackAltered
from caseledger.rules.model import PackData, Version
from caseledger.rules.pack import Resolved, RulePack

__all__ = [
    "SECTIONS",
    "CalendarDayRule",
    "HeldPacks",
    "PackContent",
    "RuleChange",
    "baseline_of",
    "content_problems",
    "contents_of",
    "pack_changes",
    "pack_from_content",
    "rebased",
    "split_version",
]

SECTIONS = (
    "limits", "case_kinds", "clock", "thresholds", "promise_cuts", "items", "scopes", "sanctions",
)  # fmt: skip
"""The dated sections of a pack, in the order diffs list them."""


@dataclass(frozen=True)
class PackContent:
    """One pack of a version's lineage, as the ledger records it (``pack_recorded``)."""

    name: str
    version: str
    content_hash: str
    extends: str | None
    extends_hash: str | None
    hooks_digest: str
    parameters_given: Mapping[str, dt.date]
    content: Mapping[str, Any]

    @classmethod
    def of(cls, pack: RulePack) -> PackContent:
        parent = pack.parent
        return cls(
            pack.name,
            pack.version,
            pack.content_hash,
            parent.name if parent else None,
            parent.content_hash if parent else None,
            pack.hooks_digest,
            dict(pack.given),
            pack.data.model_dump(mode="json", by_alias=True),
        )

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> PackContent:
        """The content a ``pack_recorded`` event's body holds (``KeyError``, ``TypeError`` or
        ``ValueError`` if it is malformed)."""
        given = dict(body.get("parameters_given") or {})
        return cls(
            str(body["name"]),
            str(body["version"]),
            str(body["content_hash"]),
            body.get("extends"),
            body.get("extends_hash"),
            str(body.get("hooks_digest", "")),
            {name: dt.date.fromisoformat(value) for name, value in given.items()},
            dict(body["content"]),
        )

    def body(self) -> dict[str, Any]:
        """The fields of its ``pack_recorded`` event."""
        return {
            "name": self.name,
            "version": self.version,
            "content_hash": self.content_hash,
            "extends": self.extends,
            "extends_hash": self.extends_hash,
            "hooks_digest": self.hooks_digest,
            "parameters_given": dict(self.parameters_given),
            "content": dict(self.content),
        }


def contents_of(pack: RulePack) -> list[PackContent]:
    """Every pack of ``pack``'s lineage as recorded, the root (the baseline) first."""
    return [PackContent.of(layer) for layer in reversed(list(pack.lineage()))]


def pack_from_content(content: PackContent, parent: RulePack | None) -> RulePack:
    """The pack ``content`` records, on ``parent`` (the recorded pack it extends); raises
    :class:`RecordedPackAltered` unless it hashes to its recorded content hash."""
    try:
        data = PackData.model_validate(dict(content.content))
    except ValidationError as error:
        raise RecordedPackAltered(
            content.name, content.content_hash, "(invalid)", f"it does not validate: {error}"
        ) from None
    pack = RulePack(
        data,
        f"(recorded in the ledger as @{content.content_hash[:16]}…)",
        parent,
        content.hooks_digest,
        dict(content.parameters_given),
    )
    if pack.name != content.name or pack.version != content.version:
        raise RecordedPackAltered(
            content.name, content.content_hash, pack.content_hash, "its name or version changed"
        )
    if pack.content_hash != content.content_hash:
        raise RecordedPackAltered(content.name, content.content_hash, pack.content_hash)
    return pack


def content_problems(bodies: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """What is wrong with recorded pack versions (``pack_recorded`` bodies by stream id): a
    content that does not hash to its content hash, a stream not named by it, a version
    extending one not recorded. Read by ``verify``: a hash chain recomputed after an edit
    still shows here."""
    problems: dict[str, str] = {}
    by_hash = {str(b.get("content_hash")): (stream, b) for stream, b in bodies.items()}
    built: dict[str, RulePack | None] = {}

    def build(content_hash: str) -> RulePack | None:
        if content_hash in built:
            return built[content_hash]
        built[content_hash] = None  # a cycle builds nothing
        stream, body = by_hash[content_hash]
        parent_hash = body.get("extends_hash")
        parent = None
        if parent_hash is not None:
            if parent_hash not in by_hash:
                problems[stream] = f"extends pack version {str(parent_hash)[:16]}…, not recorded"
                return None
            parent = build(str(parent_hash))
            if parent is None:
                problems.setdefault(stream, "extends a recorded pack version that is altered")
                return None
        try:
            pack = pack_from_content(PackContent.from_body(body), parent)
        except (RecordedPackAltered, KeyError, TypeError, ValueError) as error:
            problems[stream] = f"recorded pack content does not match its content hash: {error}"
            return None
        built[content_hash] = pack
        return pack

    for stream, body in bodies.items():
        content_hash = str(body.get("content_hash"))
        if stream != "@" + content_hash:
            problems[stream] = "the pack stream is not named by its content hash"
            continue
        build(content_hash)
    return problems


class HeldPacks(Protocol):
    """The pack versions a ledger holds (its pack streams), by content hash."""

    def pack(self, content_hash: str) -> RulePack | None:
        """The recorded pack version of that content hash, if the ledger holds it."""

    def versions(self) -> list[RulePack]:
        """Every recorded version, in the order first used."""


def split_version(text: str) -> tuple[str, str] | None:
    """``NAME@VERSION`` → ``(NAME, VERSION)``; None if ``text`` is not of that form."""
    name, at, version = text.partition("@")
    return (name, version) if at and name and version else None


def baseline_of(pack: RulePack) -> str:
    """The name of the root of ``pack``'s lineage (the national baseline, mostly)."""
    return list(pack.lineage())[-1].name


def rebased(pack: RulePack, replacement: RulePack) -> RulePack | None:
    """``pack`` with the pack of ``replacement``'s name in its lineage replaced by
    ``replacement`` (its own data above it kept as recorded); None if its lineage does not
    hold that name. :class:`PackBaselineDiffers` if ``replacement`` rests on another
    baseline than the pack it replaces."""
    if pack.name == replacement.name:
        if baseline_of(pack) != baseline_of(replacement):
            raise PackBaselineDiffers(pack.name, baseline_of(pack), baseline_of(replacement))
        return replacement
    if pack.parent is None:
        return None
    parent = rebased(pack.parent, replacement)
    if parent is None:
        return None
    return RulePack(pack.data, pack.file, parent, pack.hooks_digest, pack.given)


@dataclass(frozen=True)
class RuleChange:
    """A rule two packs answer differently over a span of days: what each says (None: it has
    no rule there), and which fields differ."""

    section: str
    key: str
    first: dt.date
    last: dt.date | None
    before: Resolved[Version] | None
    after: Resolved[Version] | None
    fields: tuple[str, ...] = field(default=())

    @property
    def references(self) -> tuple[str, ...]:
        return tuple(r.reference for r in (self.before, self.after) if r is not None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "key": self.key,
            "from": self.first.isoformat(),
            "to": self.last.isoformat() if self.last else None,
            "fields": list(self.fields),
            "before": _side(self.before),
            "after": _side(self.after),
        }

    def line(self) -> str:
        """One line for people: ``limits.general 2026-01-01..: working_days 20 → 15 [ref]``."""
        span = f"{self.first}..{self.last or ''}"
        if self.before is None or self.after is None:
            what = "added" if self.before is None else "removed"
            return f"{self.section}.{self.key} {span}: {what} [{'; '.join(self.references)}]"
        old, new = _values(self.before), _values(self.after)
        values = [f for f in self.fields if f != "reference"] or list(self.fields)
        shown = ", ".join(f"{f} {old.get(f)!r} → {new.get(f)!r}" for f in values)
        refs = " | ".join(dict.fromkeys(self.references))
        return f"{self.section}.{self.key} {span}: {shown} [{refs}]"


def _values(resolved: Resolved[Version]) -> dict[str, Any]:
    return resolved.rule.model_dump(mode="json", by_alias=True, exclude={"override"})


def _side(resolved: Resolved[Version] | None) -> dict[str, Any] | None:
    if resolved is None:
        return None
    return {"pack": resolved.pack, "rule": _values(resolved), "reference": resolved.reference}


def _bounds(pack: RulePack, section: str, key: str) -> set[dt.date]:
    """The days on which the answer of ``section[key]`` may change in ``pack``."""
    days: set[dt.date] = set()
    for _, rules in getattr(pack, section).layers:
        for version in rules.get(key, ()):
            days.add(version.starts)
            if version.ends is not None:
                days.add(version.ends + dt.timedelta(days=1))
    return days


def _differing(a: Resolved[Version] | None, b: Resolved[Version] | None) -> tuple[str, ...] | None:
    if a is None and b is None:
        return None
    if a is None or b is None:
        return ("(all)",)
    old, new = _values(a), _values(b)
    compared = (old.keys() | new.keys()) - _SPAN_FIELDS
    changed = tuple(sorted(f for f in compared if old.get(f) != new.get(f)))
    return changed or None


_SPAN_FIELDS = {"from", "to", "note"}
"""Not compared: the span of days a change covers is its own; notes are commentary."""


def pack_changes(
    a: RulePack, b: RulePack, *, sections: Sequence[str] = SECTIONS
) -> list[RuleChange]:
    """The rules ``a`` and ``b`` answer differently, by section, key and span of days."""
    changes: list[RuleChange] = []
    for section in sections:
        keys = dict.fromkeys([*getattr(a, section).names(), *getattr(b, section).names()])
        for key in keys:
            days = sorted(_bounds(a, section, key) | _bounds(b, section, key))
            changes += _key_changes(a, b, section, key, days)
    changes += _calendar_changes(a, b)
    return changes


def _key_changes(
    a: RulePack, b: RulePack, section: str, key: str, days: Iterable[dt.date]
) -> list[RuleChange]:
    found: list[RuleChange] = []
    starts = list(days)
    for index, first in enumerate(starts):
        last = starts[index + 1] - dt.timedelta(days=1) if index + 1 < len(starts) else None
        before = getattr(a, section).answers[key, first]
        after = getattr(b, section).answers[key, first]
        fields = _differing(before, after)
        if fields is None:
            continue
        previous = found[-1] if found else None
        if (
            previous is not None
            and previous.last is not None
            and previous.last + dt.timedelta(days=1) == first
            and previous.before == before
            and previous.after == after
        ):
            found[-1] = RuleChange(section, key, previous.first, last, before, after, fields)
            continue
        found.append(RuleChange(section, key, first, last, before, after, fields))
    return found


class CalendarDayRule(Version):
    """A local calendar day, as a diff shows it (a version of one day)."""

    working: bool
    name: str


def _calendar_changes(a: RulePack, b: RulePack) -> list[RuleChange]:
    """Local calendar days that one pack has and the other has not, or has otherwise."""
    old = {d.date: _calendar_side(d, a.name) for d in a.calendar_days()}
    new = {d.date: _calendar_side(d, b.name) for d in b.calendar_days()}
    changes = []
    for day in sorted(old.keys() | new.keys()):
        before, after = old.get(day), new.get(day)
        fields = _differing(before, after)
        if fields is not None:
            changes.append(RuleChange("calendar", day.isoformat(), day, day, before, after, fields))
    return changes


def _calendar_side(day: CalendarDay, pack: str) -> Resolved[Version]:
    rule = CalendarDayRule.model_validate(
        {"from": day.date, "to": day.date, "reference": day.reference, "working": day.working,
         "name": day.name}
    )  # fmt: skip
    return Resolved(rule, day.date.isoformat(), pack)
