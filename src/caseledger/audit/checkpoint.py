"""Signed checkpoints of the ledger's tree, receipts, consistency proofs, witnesses, and
checking the whole log against a checkpoint.

A **checkpoint** (C2SP ``tlog-checkpoint``) signs the tree's size and root under the ledger's
origin, ``caseledger/<ledger id>`` (:mod:`caseledger.audit.identity`), so a checkpoint of
another ledger is told apart from tampering (:class:`CheckpointOfAnotherLedger`). One is
signed only of a log whose every event still hashes to the stored tree, whose chains verify,
and which extends the last checkpoint kept (a consistency proof): a ledger that was tampered
with is not signed.

:func:`check_against` recomputes every leaf from the events as stored and compares the first
``size`` with the signed root. Where they differ, the stored tree, if it still leads to the
signed root, says leaf by leaf what the signed log held: which event was altered, deleted,
moved or inserted, which case was deleted or cut off. Where the stored tree was rewritten too,
or the log forked, the report says so in one line.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from caseledger.audit import merkle
from caseledger.audit.chains import ChainBreak, scan_chains
from caseledger.audit.identity import ledger_identity
from caseledger.audit.keys import Signer
from caseledger.audit.log import StoredLeaf, TreeLog, row_leaf
from caseledger.audit.offline import (
    CONSISTENCY_FORMAT,
    RECEIPT_FORMAT,
    Checkpoint,
    VerifierKey,
    checkpoint_body,
    parse_checkpoint,
    verify_consistency,
)
from caseledger.errors import (
    CaseNotFound,
    CheckpointOfAnotherLedger,
    MalformedProof,
    ProofRejected,
    SealError,
)

if TYPE_CHECKING:
    from caseledger.store.event_store import CaseStore

__all__ = [
    "LogCheck",
    "check_against",
    "consistency_file",
    "cosign",
    "latest_checkpoint",
    "origin_of",
    "receipt",
    "take_checkpoint",
    "witness_proof",
    "witness_state",
]


def origin_of(store: CaseStore, *, create: bool = False) -> str | None:
    """The origin line of this ledger's checkpoints (None if it has no identity yet)."""
    identity = ledger_identity(store, create=create)
    return None if identity is None else f"caseledger/{identity}"


def _current_leaves(store: CaseStore) -> list[tuple[int, str, int, bytes]]:
    """Every event as stored now, in recording order: position, stream, version, leaf hash."""
    return [
        (
            n.id,
            str(n.originator_id),
            _version(n.originator_version),
            row_leaf(n.originator_id, n.originator_version, n.topic, n.state),
        )
        for n in store.notifications()
    ]


def _version(value: object) -> int:
    """A stored version as reported: a damaged one (text in SQLite's column) as 0."""
    return value if type(value) is int else 0


def take_checkpoint(store: CaseStore, signer: Signer) -> Checkpoint:
    """Extend the tree, check the log, sign its size and root, keep the checkpoint."""
    tree = TreeLog(store)
    tree.extend()
    report, _ = scan_chains(store)
    if not report.ok:
        raise SealError(f"the ledger does not verify, so it cannot be signed: {report.breaks[0]}")
    stored = tree.leaves()
    current = _current_leaves(store)
    kept = tree.checkpoints()
    old = parse_checkpoint(kept[-1][1], source="the last checkpoint kept") if kept else None
    leaves = [c[3] for c in current]
    if [leaf.hash for leaf in stored] != leaves[: len(stored)]:  # (events recorded since
        # the tree was extended above are no mismatch: the checkpoint is of the tree's size)
        if old is not None and (
            len(leaves) < old.size or merkle.root_of_leaves(leaves[: old.size]) != old.root
        ):
            raise SealError(
                "the ledger's events no longer match its last checkpoint (`caseledger verify "
                "--key PUB` names what changed), so it cannot be signed"
            )
        tree.rebuild()  # only the tree was damaged: the events are those signed last
        stored = tree.leaves()
    origin = origin_of(store, create=True)
    assert origin is not None
    size = len(stored)
    root = tree.root(size)
    if old is not None:
        proof = tree.consistency_proof(old.size, size) if old.size <= size else []
        try:
            verify_consistency(old.size, size, old.root, root, proof, source="the log")
        except ProofRejected as error:
            raise SealError(
                f"the log does not extend its last checkpoint ({error.problem}; `caseledger "
                "verify --key PUB` names what changed), so it cannot be signed"
            ) from None
    checkpoint = signer.sign(
        Checkpoint(origin, size, root, checkpoint_body(origin, size, root), ())
    )
    tree.save_checkpoint(size, checkpoint.text)
    return checkpoint


def latest_checkpoint(store: CaseStore) -> Checkpoint | None:
    """The last checkpoint kept in the ledger's database, if any."""
    kept = TreeLog(store).checkpoints()
    return parse_checkpoint(kept[-1][1], source="the last checkpoint kept") if kept else None


def _check_origin(store: CaseStore, checkpoint: Checkpoint, source: str) -> None:
    origin = origin_of(store)
    if origin != checkpoint.origin:
        raise CheckpointOfAnotherLedger(
            source, checkpoint.origin, origin or "a ledger never checkpointed"
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def receipt(store: CaseStore, case_no: str, checkpoint: Checkpoint, *, source: str) -> bytes:
    """The receipt (回执) of a case: its events up to the checkpoint, their leaf indexes and
    inclusion proofs, and the checkpoint (JSON, ``caseledger-receipt/1``)."""
    _check_origin(store, checkpoint, source)
    tree = TreeLog(store)
    tree.extend()
    if tree.size() < checkpoint.size or tree.root(checkpoint.size) != checkpoint.root:
        raise ProofRejected(
            source,
            "root hash",
            "the ledger's tree does not lead to it: the log was changed "
            "since (`caseledger verify --checkpoint` names what)",
        )
    leaves = tree.leaves_of(case_no, checkpoint.size)
    rows = {version: (topic, state) for version, topic, state in store.stream_rows(case_no)}
    if not leaves:
        raise CaseNotFound(
            case_no,
            hint=f"not as of the checkpoint of {checkpoint.size} events (it was recorded "
            "after it): take a new checkpoint (`caseledger checkpoint`) to prove it",
        )
    events = []
    for leaf in leaves:
        topic, state = rows.get(leaf.version, ("", b""))
        if row_leaf(case_no, leaf.version, topic, state) != leaf.hash:
            raise ProofRejected("case", f"version {leaf.version}", "its stored row was changed")
        path = tree.inclusion_path(leaf.leaf_index, checkpoint.size)
        events.append(
            {
                "leaf_index": leaf.leaf_index,
                "version": leaf.version,
                "topic": topic,
                "state": _b64(bytes(state)),
                "inclusion_proof": [_b64(h) for h in path],
            }
        )
    data = {
        "format": RECEIPT_FORMAT,
        "case_no": case_no,
        "checkpoint": checkpoint.text,
        "events": events,
    }
    return json.dumps(data, ensure_ascii=False, indent=1).encode() + b"\n"


def consistency_file(
    store: CaseStore, old: Checkpoint, new: Checkpoint, *, source: str = "checkpoint"
) -> bytes:
    """The proof that ``new``'s log extends ``old``'s (JSON, ``caseledger-consistency/1``)."""
    _check_origin(store, old, source)
    _check_origin(store, new, source)
    if old.size > new.size:
        old, new = new, old
    tree = TreeLog(store)
    proof = tree.consistency_proof(old.size, new.size)
    data = {
        "format": CONSISTENCY_FORMAT,
        "old": old.text,
        "new": new.text,
        "consistency_proof": [_b64(h) for h in proof],
    }
    return json.dumps(data, indent=1).encode() + b"\n"


def cosign(
    checkpoint: Checkpoint,
    log_key: VerifierKey,
    witness: Signer,
    state: Path,
    proof: list[bytes],
    *,
    source: str = "checkpoint",
) -> Checkpoint:
    """A witness's co-signature: ``checkpoint`` is checked to be signed by ``log_key`` and,
    by ``proof``, to extend the last checkpoint this witness signed (kept in the file
    ``state``); then signed by ``witness`` and kept as the new state. A log that forked from
    what the witness signed before is refused (:class:`ProofRejected`)."""
    checkpoint.check_signed(log_key, source=source)
    previous = witness_state(state)
    if previous is not None:
        if previous.origin != checkpoint.origin:
            raise ProofRejected(
                source,
                "origin",
                f"{checkpoint.origin!r}: this witness keeps {previous.origin!r} in {str(state)!r}",
            )
        verify_consistency(
            previous.size, checkpoint.size, previous.root, checkpoint.root, proof, source=source
        )
    signed = witness.sign(checkpoint)
    try:
        state.write_text(signed.text, encoding="utf-8")
    except OSError as error:
        raise MalformedProof(str(state), "", f"cannot be written: {error.strerror}") from None
    return signed


def witness_state(state: Path) -> Checkpoint | None:
    """The last checkpoint a witness signed, kept in the file ``state`` (None: no file)."""
    try:
        data = state.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise MalformedProof(str(state), "", f"cannot be read: {error.strerror}") from None
    return parse_checkpoint(data, source=str(state))


def witness_proof(store: CaseStore, state: Path, checkpoint: Checkpoint) -> list[bytes]:
    """The consistency proof a witness needs, from the ledger's tree: from the checkpoint
    in ``state`` (none yet: no proof needed) to ``checkpoint``."""
    previous = witness_state(state)
    if previous is None:
        return []
    if previous.size > checkpoint.size:
        raise ProofRejected(
            str(state),
            "tree size",
            f"the witness signed {previous.size} "
            f"events, the checkpoint has only {checkpoint.size}: rolled back",
        )
    return TreeLog(store).consistency_proof(previous.size, checkpoint.size)


# -- checking the log against a checkpoint -------------------------------------------------


@dataclass(frozen=True)
class LogCheck:
    """What :func:`check_against` found: events named (``breaks``) and problems of the log
    as a whole (``problems``: a fork, a rewritten tree)."""

    breaks: tuple[ChainBreak, ...]
    problems: tuple[str, ...]


def check_against(
    store: CaseStore, checkpoint: Checkpoint, key: VerifierKey, *, source: str = "checkpoint"
) -> LogCheck:
    """Check the log's first ``checkpoint.size`` events against its signed root (see the
    module's documentation). The checkpoint must be signed by ``key`` and of this ledger."""
    checkpoint.check_signed(key, source=source)
    _check_origin(store, checkpoint, source)
    size = checkpoint.size
    current = _current_leaves(store)
    if (
        len(current) >= size
        and merkle.root_of_leaves([c[3] for c in current[:size]]) == checkpoint.root
    ):
        return LogCheck((), ())
    stored = TreeLog(store).leaves()
    if (
        len(stored) >= size
        and merkle.root_of_leaves([s.hash for s in stored[:size]]) == checkpoint.root
    ):
        return LogCheck(_differences(stored[:size], current), ())
    if len(current) < size:
        problem = (
            f"the checkpoint covers {size} events, the log holds {len(current)}: events were "
            "removed, and the ledger's tree was rewritten or removed, so they cannot be named"
        )
    elif not stored:
        problem = (
            f"the log's first {size} events do not hash to the checkpoint's root, and the "
            "ledger's tree is gone, so the events cannot be named: history was rewritten, or "
            "this is a copy that went its own way"
        )
    elif [s.hash for s in stored[:size]] == [c[3] for c in current[: min(size, len(stored))]]:
        problem = (
            f"the log forked from the checkpoint: its first {size} events are not the ones "
            "signed (the ledger's tree agrees with them, so the history was rewritten whole, "
            "or this is a copy that went its own way)"
        )
    else:
        problem = (
            f"the log's first {size} events do not hash to the checkpoint's root: history was "
            "rewritten, and the ledger's tree too, so the events cannot be named"
        )
    return LogCheck((), (problem,))


def _differences(
    signed: list[StoredLeaf], current: list[tuple[int, str, int, bytes]]
) -> tuple[ChainBreak, ...]:
    """Leaf by leaf, what differs between the signed log and the log as stored now. Leaves
    are matched by hash (a leaf covers the stream, the version and every stored byte, so
    each is unique): a signed leaf found nowhere was altered (its stream and version are
    there, with other bytes) or removed; one found before an earlier signed leaf was moved;
    an event found among the signed ones that none of them is, was inserted."""
    found_at = {c[3]: number for number, c in enumerate(current)}
    here = {(c[1], c[2]) for c in current}
    signed_hashes = {leaf.hash for leaf in signed}
    remaining = Counter(c[1] for c in current)
    missing: dict[str, list[StoredLeaf]] = {}
    breaks: list[ChainBreak] = []
    last = -1
    for leaf in signed:
        where = f"(leaf {leaf.leaf_index} of the checkpoint)"
        number = found_at.get(leaf.hash)
        if number is not None:
            if number < last:
                breaks.append(
                    ChainBreak(
                        leaf.stream,
                        leaf.version,
                        f"moved: found before the events signed ahead of it {where}: reordered",
                    )
                )
            last = max(last, number)
        elif (leaf.stream, leaf.version) in here:
            breaks.append(
                ChainBreak(
                    leaf.stream,
                    leaf.version,
                    f"altered since the checkpoint {where}: its stored row differs",
                )
            )
        else:
            missing.setdefault(leaf.stream, []).append(leaf)
    for stream, leaves in missing.items():
        versions = {leaf.version for leaf in leaves}
        of_stream = [leaf.version for leaf in signed if leaf.stream == stream]
        if not remaining[stream] and len(leaves) == len(of_stream):
            breaks.append(
                ChainBreak(
                    stream, 1, f"deleted: the whole case is gone ({len(of_stream)} signed events)"
                )
            )
            continue
        top = max(of_stream)
        for leaf in leaves:
            tail = all(v in versions for v in range(leaf.version, top + 1))
            what = "cut off: removed from the end of the case" if tail else "deleted"
            breaks.append(
                ChainBreak(
                    stream, leaf.version, f"{what} (leaf {leaf.leaf_index} of the checkpoint)"
                )
            )
    signed_keys = {(leaf.stream, leaf.version) for leaf in signed}
    for _, stream, version, leaf_hash in current[: last + 1]:
        if leaf_hash not in signed_hashes and (stream, version) not in signed_keys:
            breaks.append(
                ChainBreak(
                    stream, version, "inserted among the signed events: not in the checkpoint's log"
                )
            )
    return tuple(sorted(set(breaks), key=lambda b: (b.case_no, b.version, b.problem)))
