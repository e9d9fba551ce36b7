"""Every stream's hash chain, checked from the rows exactly as stored.

The scan reads the notification log once, in recording order, keeping only each case's
last version and hash, so it runs in memory proportional to the number of cases. For each
event it checks, in this order: the version follows the case's last one (else an event was
removed or reordered), the stored state can be read, ``prev_hash`` is the hash of the
previous event, and the event's own hash matches its content. The first failure of a case
is reported and the rest of that case is skipped. Removing a case's *last* events leaves
no gap to see; a :class:`~caseledger.audit.seal.Seal` taken earlier catches that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from caseledger.domain.chain import GENESIS_HASH, event_hash
from caseledger.domain.records import is_pack_stream, is_project_stream
from caseledger.errors import StoreError
from caseledger.rules.versions import content_problems

if TYPE_CHECKING:
    from caseledger.store.event_store import CaseStore

__all__ = ["ChainBreak", "VerificationReport", "scan_chains"]


@dataclass(frozen=True)
class ChainBreak:
    """The first event of a case that fails verification, and why."""

    case_no: str
    version: int
    problem: str

    def __str__(self) -> str:
        return f"case {self.case_no!r} version {self.version}: {self.problem}"


@dataclass(frozen=True)
class VerificationReport:
    """The result of verifying a ledger: ``ok`` when nothing is broken. ``cases`` counts
    every chain verified, a parallel-approval project's included; ``projects`` says how many
    of them are projects' (so ``cases - projects`` are cases')."""

    cases: int
    events: int
    breaks: tuple[ChainBreak, ...] = ()
    heads: dict[str, tuple[int, str]] = field(default_factory=dict, repr=False)
    projects: int = 0
    packs: int = 0
    """Recorded rule-pack versions' chains, one event each (not counted in ``cases`` nor in
    ``events``)."""
    problems: tuple[str, ...] = ()
    """What is wrong with the log as a whole, where no event can be named (a log that forked
    from a checkpoint, a tree rewritten with the events)."""
    checkpoint: int | None = None
    """The size of the signed checkpoint the log was checked against, if one was."""

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.problems


def _damaged(stream: object, version: object, topic: object, state: object) -> str:
    """What is wrong with the types of a stored row's values ("" if nothing): SQLite keeps
    whatever a column is given, so a damaged row can hold bytes for text, text for a number."""
    if type(stream) is not str:
        return f"its case number is {type(stream).__name__}, not text"
    if type(version) is not int:
        return f"its version {version!r} is not a whole number"
    if type(topic) is not str:
        return f"its topic (event type) is {type(topic).__name__}, not text"
    if not isinstance(state, bytes | memoryview):
        return f"its state is {type(state).__name__}, not bytes"
    return ""


def scan_chains(
    store: CaseStore, *, watch: dict[str, int] | None = None
) -> tuple[VerificationReport, dict[str, str]]:
    """Verify every chain; also return the hashes found at the ``watch``ed versions."""
    heads: dict[str, tuple[int, str]] = {}
    broken: dict[str, ChainBreak] = {}
    watched: dict[str, str] = {}
    watch = watch or {}
    events = 0
    packs: dict[str, dict[str, object]] = {}
    for row in store.notifications():
        case_no, version = str(row.originator_id), row.originator_version
        events += not is_pack_stream(case_no)  # a pack version's event is counted in packs
        if case_no in broken:
            continue
        last_version, last_hash = heads.get(case_no, (0, GENESIS_HASH))

        def fail(problem: str, at: int = version, case_no: str = case_no) -> None:
            broken[case_no] = ChainBreak(case_no, at, problem)

        damage = _damaged(row.originator_id, version, row.topic, row.state)
        if damage:
            fail(f"unreadable stored row: {damage}", last_version + 1)
            continue
        if version != last_version + 1:
            if version > last_version + 1:
                missing = last_version + 1
                fail(f"missing: found version {version} after {last_version}", missing)
            else:
                fail(f"out of order: found after version {last_version}")
            continue
        try:
            state = store.case_mapper.decode_bytes(row)
        except StoreError as error:
            fail(f"unreadable stored state ({error.__cause__ or error})")
            continue
        stored_hash = state.pop("hash", None)
        if state.get("prev_hash") != last_hash:
            fail("prev_hash does not match the previous event: an event was replaced")
            continue
        if stored_hash != event_hash(case_no, version, row.topic, state):
            fail("content does not match its hash: the stored event was altered")
            continue
        assert isinstance(stored_hash, str)
        heads[case_no] = (version, stored_hash)
        if row.topic == "pack_recorded":
            packs[case_no] = state.get("event") or {}
        if watch.get(case_no) == version:
            watched[case_no] = stored_hash
    for stream, problem in content_problems(packs).items():  # a pack's content and its hash
        broken.setdefault(stream, ChainBreak(stream, 1, problem))
    streams = heads.keys() | broken.keys()
    packs_found = sum(1 for stream in streams if is_pack_stream(stream))
    report = VerificationReport(
        cases=len(streams) - packs_found,
        events=events,
        breaks=tuple(sorted(broken.values(), key=lambda b: (b.case_no, b.version))),
        heads=heads,
        projects=sum(1 for stream in streams if is_project_stream(stream)),
        packs=packs_found,
    )
    return report, watched
