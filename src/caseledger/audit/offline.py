"""The offline verifier of caseledger's transparency log: one file, the standard library and
``cryptography`` only (no database, no eventsourcing, nothing else of caseledger), so an
auditor can read it whole, or copy it alone and run it::

    python offline.py receipt.json --key 'caseledger-ledger+1a2b3c4d+AX...'

It checks what ``caseledger prove`` and ``caseledger checkpoint`` write:

- **leaf and node hashes** as RFC 6962 / RFC 9162 §2.1 define them: a leaf is
  ``SHA-256(0x00 || data)``, a node ``SHA-256(0x01 || left || right)``, the empty tree's root
  ``SHA-256()``; the data of a leaf is one stored event (:func:`event_leaf`);
- **inclusion proofs** (RFC 9162 §2.1.3.2) and **consistency proofs** (§2.1.4.2), verified
  exactly as the RFC's algorithms say;
- **checkpoints**: C2SP signed notes (``tlog-checkpoint``): an origin line, the tree size in
  decimal, the root hash in base64, a blank line, then one signature line per signer,
  ``— NAME base64(key id (4 bytes) || Ed25519 signature)``; the key id is the first 4 bytes of
  ``SHA-256(NAME || "\\n" || 0x01 || public key)``, and a verifier key is written
  ``NAME+hex(key id)+base64(0x01 || public key)``. A witness co-signs by adding its own line.
- **receipts** (回执, ``caseledger-receipt/1``): a case's stored events, each with its leaf
  index and inclusion proof, and the signed checkpoint they lead to; and **consistency
  files** (``caseledger-consistency/1``): two checkpoints and the proof between them.

Everything refused raises a :class:`ProofError` naming the field at fault:
:class:`MalformedProof` (not of the form), :class:`SignatureRejected` (not signed by the key
given), :class:`ProofRejected` (signed, but the hashes do not lead to the signed root),
:class:`KeyFileError` (a key not of the format). Inside caseledger these are the classes of
``caseledger.errors``; copied alone, the file defines its own.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

try:
    from caseledger.errors import (
        KeyFileError,
        MalformedProof,
        ProofError,
        ProofRejected,
        SignatureRejected,
    )
except ImportError:  # this file copied alone, without caseledger

    class ProofError(ValueError):  # type: ignore[no-redef]
        def __init__(self, source: str, field: str, problem: str, *, fix: str = "") -> None:
            self.source, self.field, self.problem = source, field, problem
            where = f"{source}: {field}" if field else source
            super().__init__(f"{where}: {problem}" + (f"; {fix}" if fix else ""))

    class MalformedProof(ProofError):  # type: ignore[no-redef]
        pass

    class SignatureRejected(ProofError):  # type: ignore[no-redef]
        pass

    class ProofRejected(ProofError):  # type: ignore[no-redef]
        pass

    class KeyFileError(ProofError):  # type: ignore[no-redef]
        pass


__all__ = [
    "CONSISTENCY_FORMAT",
    "EMPTY_ROOT",
    "RECEIPT_FORMAT",
    "Checkpoint",
    "VerifiedReceipt",
    "VerifierKey",
    "checkpoint_body",
    "event_leaf",
    "key_id",
    "leaf_hash",
    "main",
    "node_hash",
    "parse_checkpoint",
    "parse_verifier_key",
    "root_from_inclusion",
    "verify_consistency",
    "verify_file",
    "verify_inclusion",
    "verify_receipt",
]

RECEIPT_FORMAT = "caseledger-receipt/1"
CONSISTENCY_FORMAT = "caseledger-consistency/1"
LEAF_FORMAT = b"caseledger-event/1"
"""The first field of every leaf's data: the encoding of a stored event, versioned."""
ED25519 = 0x01
"""The signed-note algorithm byte of Ed25519."""
SIGNATURE_PREFIX = "\u2014 "
"""A signature line starts with an em dash and a space."""
MAX_LINE = 10_000
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f]")

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the tree of no leaves (RFC 9162 §2.1.1)."""


# -- RFC 6962 hashing ---------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def event_leaf(stream: str, version: int, topic: str, state: bytes) -> bytes:
    """The data of the leaf of one stored event: every stored value of its row, each as
    a 4-byte big-endian length and its bytes (the stream's id, the version in decimal and
    the topic in UTF-8, the state exactly as stored), after the format's name."""
    s, v, t = stream.encode(), str(version).encode(), topic.encode()
    return b"".join((
        _LEAF_PREFIX, len(s).to_bytes(4, "big"), s, len(v).to_bytes(4, "big"), v,
        len(t).to_bytes(4, "big"), t, len(state).to_bytes(4, "big"), state,
    ))  # fmt: skip


_LEAF_PREFIX = len(LEAF_FORMAT).to_bytes(4, "big") + LEAF_FORMAT


# -- RFC 9162 §2.1.3.2 and §2.1.4.2: the two proofs, verified -------------------------------


def root_from_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], *, source: str = "proof"
) -> bytes:
    """The root that the inclusion ``path`` of the leaf hashed ``leaf`` at ``index`` leads to
    in a tree of ``size`` leaves; a path of the wrong length is refused."""
    if not 0 <= index < size:
        raise ProofRejected(source, "leaf_index", f"{index} is not a leaf of a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofRejected(source, "inclusion_proof", "longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofRejected(source, "inclusion_proof", "shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes, *, source: str = "proof"
) -> None:
    """Refuse (:class:`ProofRejected`) unless ``path`` proves the leaf at ``index`` in the
    tree of ``size`` leaves whose root is ``root``."""
    if root_from_inclusion(index, size, leaf, path, source=source) != root:
        raise ProofRejected(
            source, "inclusion_proof", f"leaf {index} does not lead to the root of tree {size}"
        )


def verify_consistency(
    first: int,
    second: int,
    first_root: bytes,
    second_root: bytes,
    path: Sequence[bytes],
    *,
    source: str = "proof",
) -> None:
    """Refuse (:class:`ProofRejected`) unless ``path`` proves the tree of ``first`` leaves
    (root ``first_root``) is a prefix of the tree of ``second`` (root ``second_root``)."""
    if not 0 <= first <= second:
        raise ProofRejected(source, "tree size", f"{first} is not at most {second}")
    if first == second or first == 0:
        if path:
            raise ProofRejected(source, "consistency_proof", "must be empty here")
        if first == second and first_root != second_root:
            raise ProofRejected(source, "root", "two different roots of the same tree size")
        if first == 0 and first_root != EMPTY_ROOT:
            raise ProofRejected(source, "root", "not the root of the empty tree")
        return
    nodes = list(path)
    if not nodes:
        raise ProofRejected(source, "consistency_proof", "empty")
    if first & (first - 1) == 0:  # a power of 2: the old tree is a node of the new one
        nodes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise ProofRejected(source, "consistency_proof", "longer than the trees need")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise ProofRejected(
            source,
            "consistency_proof",
            f"the tree of {first} is not a prefix of the tree of {second}: the log forked",
        )


# -- signed notes, keys and checkpoints (C2SP signed-note, tlog-checkpoint) ----------------


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte id of an Ed25519 key named ``name``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def _check_name(name: str, source: str, field: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise KeyFileError(source, field, f"{name!r} is not a key name (no spaces, no '+')")


@dataclass(frozen=True)
class VerifierKey:
    """A public key that checks signatures: its name, id and the Ed25519 key's 32 bytes."""

    name: str
    id: bytes
    public: bytes

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.public).decode()
        return f"{self.name}+{self.id.hex()}+{encoded}"

    def verifies(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def _b64(text: str, source: str, field: str, *, size: int | None = None) -> bytes:
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise MalformedProof(source, field, f"{_short(text)} is not base64") from None
    if base64.b64encode(data).decode() != text:  # the same bytes written another way
        raise MalformedProof(source, field, f"{_short(text)} is not base64 as written here")
    if size is not None and len(data) != size:
        raise MalformedProof(source, field, f"{len(data)} bytes where {size} belong")
    return data


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def parse_verifier_key(text: str, *, source: str = "key") -> VerifierKey:
    """``NAME+KEYID+BASE64`` (what ``caseledger keys new`` prints), checked whole."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise KeyFileError(
            source,
            "",
            "a verifier key is NAME+KEYID+BASE64",
            fix="give the public key that "
            "`caseledger keys new` printed (or wrote to its .pub file)",
        )
    name, hex_id, encoded = parts
    _check_name(name, source, "name")
    try:
        id_ = bytes.fromhex(hex_id)
    except ValueError:
        id_ = b""
    if len(id_) != 4:
        raise KeyFileError(source, "key id", f"{_short(hex_id)} is not 8 hex digits")
    try:
        data = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise KeyFileError(source, "key", f"{_short(encoded)} is not base64") from None
    if len(data) != 33 or data[0] != ED25519:
        raise KeyFileError(source, "key", "not an Ed25519 key (0x01 and 32 bytes)")
    if key_id(name, data[1:]) != id_:
        raise KeyFileError(source, "key id", "does not match the name and key: altered")
    return VerifierKey(name, id_, data[1:])


@dataclass(frozen=True)
class Checkpoint:
    """A parsed checkpoint: ``body`` is the signed text (origin, size, root, any extension
    lines, each ending in a newline); ``signatures`` the signature lines' (name, key id,
    signature)."""

    origin: str
    size: int
    root: bytes
    body: str
    signatures: tuple[tuple[str, bytes, bytes], ...]

    @property
    def text(self) -> str:
        """The signed note: the body, a blank line, one line per signature."""
        lines = (
            f"{SIGNATURE_PREFIX}{name} {base64.b64encode(kid + sig).decode()}\n"
            for name, kid, sig in self.signatures
        )
        return self.body + "\n" + "".join(lines)

    def signed_by(self, key: VerifierKey) -> bool:
        """Whether one of the signatures is a valid one by ``key``."""
        message = self.body.encode()
        return any(
            name == key.name and kid == key.id and key.verifies(message, sig)
            for name, kid, sig in self.signatures
        )

    def check_signed(self, key: VerifierKey, *, source: str = "checkpoint") -> None:
        """Refuse (:class:`SignatureRejected`) unless ``key`` signed this checkpoint."""
        if self.signed_by(key):
            return
        if not any(name == key.name and kid == key.id for name, kid, _ in self.signatures):
            signers = ", ".join(sorted({name for name, _, _ in self.signatures})) or "nobody"
            raise SignatureRejected(
                source,
                "signature",
                f"no signature by key {key.name!r} (signed by {signers})",
                fix="give the public key of the ledger (or witness) that signed it",
            )
        raise SignatureRejected(
            source,
            "signature",
            f"the signature by {key.name!r} does not verify: the "
            "checkpoint's text or its signature was altered",
        )

    def with_signature(self, name: str, kid: bytes, signature: bytes) -> Checkpoint:
        kept = tuple(s for s in self.signatures if (s[0], s[1]) != (name, kid))
        return Checkpoint(
            self.origin, self.size, self.root, self.body, (*kept, (name, kid, signature))
        )


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The text a checkpoint signs."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def parse_checkpoint(text: str | bytes, *, source: str = "checkpoint") -> Checkpoint:
    """A signed checkpoint, checked line by line (signatures are parsed, not verified: see
    :meth:`Checkpoint.check_signed`)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedProof(source, "text", "not UTF-8: a binary or damaged file?") from None
    if not text.endswith("\n"):
        raise MalformedProof(source, "end", "does not end in a newline: truncated?")
    if _CONTROL.search(text):
        raise MalformedProof(source, "text", "holds control characters")
    body, blank, signed = text.rpartition("\n\n")
    if not blank:
        raise MalformedProof(source, "signatures", "no blank line before the signatures")
    body += "\n"
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        names = ["origin", "tree size", "root hash"]
        raise MalformedProof(source, names[len(lines)], "missing: truncated?")
    if any(len(line) > MAX_LINE for line in lines) or "" in lines:
        raise MalformedProof(source, "text", "an empty or overlong line before the signatures")
    origin, size_text, root_text = lines[:3]
    if (
        not size_text.isdigit()
        or not size_text.isascii()
        or len(size_text) > 19  # a tree size is a 64-bit number
        or size_text != str(int(size_text))
    ):
        raise MalformedProof(source, "tree size", f"{_short(size_text)} is not a decimal number")
    root = _b64(root_text, source, "root hash", size=32)
    signatures = []
    for number, line in enumerate(signed.split("\n")[:-1], start=1):
        field = f"signature line {number}"
        if not line.startswith(SIGNATURE_PREFIX):
            raise MalformedProof(source, field, "does not start with '— ' (em dash, space)")
        name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not space or not name or " " in encoded:
            raise MalformedProof(source, field, "is not '— NAME SIGNATURE'")
        data = _b64(encoded, source, field)
        if len(data) != 4 + 64:
            raise MalformedProof(source, field, f"{len(data)} bytes where 68 belong")
        signatures.append((name, data[:4], data[4:]))
    if not signatures:
        raise MalformedProof(source, "signatures", "none: an unsigned checkpoint")
    return Checkpoint(origin, int(size_text), root, body, tuple(signatures))


# -- receipts and consistency files -------------------------------------------------------


@dataclass(frozen=True)
class VerifiedReceipt:
    """What a verified receipt proves: these events of ``case_no`` (version, topic, stored
    state, leaf index) are in the log of ``checkpoint``, signed by ``signers``."""

    case_no: str
    checkpoint: Checkpoint
    events: tuple[tuple[int, str, bytes, int], ...]
    signers: tuple[str, ...]

    def summary(self) -> str:
        leaves = ", ".join(str(e[3]) for e in self.events)
        events = f"{len(self.events)} event{'' if len(self.events) == 1 else 's'}"
        lines = [
            f"  version {version}: {topic}{_when(state)} (leaf {index})"
            for version, topic, state, index in self.events
        ]
        return "\n".join([
            f"receipt verified: case {self.case_no!r}, {events} (leaves {leaves}) in the log "
            f"{self.checkpoint.origin} of {self.checkpoint.size} events, signed by "
            + ", ".join(self.signers), *lines,
        ])  # fmt: skip


def _when(state: bytes) -> str:
    """``, at TIME`` from a stored state that is plain JSON with an ``at`` (else nothing)."""
    try:
        at = json.loads(state).get("at")
    except (ValueError, AttributeError):
        return ""
    return f", at {at}" if isinstance(at, str) else ""


def _field(data: dict[str, Any], name: str, kind: type, source: str, where: str = "") -> Any:
    field = f"{where}{name}"
    if name not in data:
        raise MalformedProof(source, field, "missing: truncated, or not a caseledger file?")
    value = data[name]
    if kind is int and (type(value) is not int or value < 0):
        raise MalformedProof(source, field, f"{_short(repr(value))} is not a whole number")
    if kind is not int and not isinstance(value, kind):
        raise MalformedProof(source, field, f"not a {kind.__name__}")
    return value


def _hashes(value: Any, source: str, field: str) -> list[bytes]:
    if not isinstance(value, list):
        raise MalformedProof(source, field, "not a list of hashes")
    out = []
    for number, item in enumerate(value):
        if not isinstance(item, str):
            raise MalformedProof(source, f"{field}[{number}]", "not a base64 string")
        out.append(_b64(item, source, f"{field}[{number}]", size=32))
    return out


def _signed_checkpoint(
    text: Any, key: VerifierKey, witnesses: Sequence[VerifierKey], source: str, field: str
) -> tuple[Checkpoint, tuple[str, ...]]:
    if not isinstance(text, str):
        raise MalformedProof(source, field, "not a string")
    checkpoint = parse_checkpoint(text, source=f"{source}: {field}")
    checkpoint.check_signed(key, source=f"{source}: {field}")
    for witness in witnesses:
        checkpoint.check_signed(witness, source=f"{source}: {field}")
    return checkpoint, (key.name, *(w.name for w in witnesses))


def verify_receipt(
    data: Any,
    key: VerifierKey,
    *,
    witnesses: Sequence[VerifierKey] = (),
    source: str = "receipt",
) -> VerifiedReceipt:
    """Check a receipt: its checkpoint signed by ``key`` (and every witness), each event's
    leaf recomputed from its stored values and proven in that checkpoint's tree, the events
    the case's versions 1, 2, 3... in order."""
    if not isinstance(data, dict):
        raise MalformedProof(source, "", "not a JSON object")
    if data.get("format") != RECEIPT_FORMAT:
        raise MalformedProof(source, "format", f"not {RECEIPT_FORMAT!r}")
    case_no = _field(data, "case_no", str, source)
    checkpoint, signers = _signed_checkpoint(
        data.get("checkpoint"), key, witnesses, source, "checkpoint"
    )
    events = _field(data, "events", list, source)
    if not events:
        raise MalformedProof(source, "events", "empty: a receipt proves at least one event")
    proven = []
    last_index = -1
    for number, event in enumerate(events):
        where = f"events[{number}]."
        if not isinstance(event, dict):
            raise MalformedProof(source, f"events[{number}]", "not a JSON object")
        version = _field(event, "version", int, source, where)
        topic = _field(event, "topic", str, source, where)
        state = _b64(_field(event, "state", str, source, where), source, f"{where}state")
        index = _field(event, "leaf_index", int, source, where)
        path = _hashes(
            _field(event, "inclusion_proof", list, source, where), source, f"{where}inclusion_proof"
        )
        if version != number + 1:
            raise MalformedProof(source, f"{where}version", f"{version} where {number + 1} belongs")
        if index <= last_index:
            raise ProofRejected(source, f"{where}leaf_index", "not after the previous event's")
        last_index = index
        leaf = leaf_hash(event_leaf(case_no, version, topic, state))
        verify_inclusion(
            index,
            checkpoint.size,
            leaf,
            path,
            checkpoint.root,
            source=f"{source}: events[{number}]",
        )
        proven.append((version, topic, state, index))
    return VerifiedReceipt(case_no, checkpoint, tuple(proven), signers)


def verify_consistency_file(
    data: Any, key: VerifierKey, *, witnesses: Sequence[VerifierKey] = (), source: str = "proof"
) -> tuple[Checkpoint, Checkpoint]:
    """Check a consistency file: both checkpoints signed by ``key`` (the newer one by every
    witness too), of one origin, and the proof that the older log is a prefix of the newer."""
    if not isinstance(data, dict) or data.get("format") != CONSISTENCY_FORMAT:
        raise MalformedProof(source, "format", f"not {CONSISTENCY_FORMAT!r}")
    old, _ = _signed_checkpoint(data.get("old"), key, (), source, "old")
    new, _ = _signed_checkpoint(data.get("new"), key, witnesses, source, "new")
    if old.origin != new.origin:
        raise ProofRejected(source, "new", f"another log's ({new.origin!r}, not {old.origin!r})")
    path = _hashes(_field(data, "consistency_proof", list, source), source, "consistency_proof")
    verify_consistency(old.size, new.size, old.root, new.root, path, source=source)
    return old, new


def load_json(path: Path) -> Any:
    """A JSON file, or :class:`MalformedProof` saying why not."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise MalformedProof(str(path), "", f"cannot be read: {error.strerror}") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedProof(str(path), "", "not UTF-8 text: a binary file?") from None
    except json.JSONDecodeError as error:
        raise MalformedProof(
            str(path),
            f"line {error.lineno} column {error.colno}",
            f"not JSON ({error.msg}): truncated?",
        ) from None
    except (ValueError, RecursionError) as error:  # a number of thousands of digits...
        raise MalformedProof(str(path), "", f"not JSON this verifier reads ({error})") from None


def verify_file(path: Path, key: VerifierKey, *, witnesses: Sequence[VerifierKey] = ()) -> str:
    """Verify a receipt or a consistency file; the one line that says what was proven."""
    data = load_json(path)
    source = str(path)
    if isinstance(data, dict) and data.get("format") == CONSISTENCY_FORMAT:
        old, new = verify_consistency_file(data, key, witnesses=witnesses, source=source)
        return (
            f"consistent: the log {new.origin} of {new.size} events extends its checkpoint of "
            f"{old.size} events (nothing of those was changed, removed or reordered)"
        )
    return verify_receipt(data, key, witnesses=witnesses, source=source).summary()


def _read_key(text: str, source: str) -> VerifierKey:
    """A verifier key given as the key itself or as the path of a file holding it."""
    if Path(text).is_file():
        try:
            text = Path(text).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise KeyFileError(source, "", f"cannot read {text!r}: {error}") from None
    return parse_verifier_key(text, source=source)


def main(argv: Sequence[str] | None = None) -> int:
    """``python offline.py FILE --key PUB [--witness PUB]...``: 0 verified, 1 refused."""
    parser = argparse.ArgumentParser(description="Verify a caseledger receipt or proof offline.")
    parser.add_argument("file", type=Path, help="a receipt (caseledger prove) or consistency file")
    parser.add_argument("--key", required=True, help="the ledger's verifier key, or its file")
    parser.add_argument("--witness", action="append", default=[], help="a witness's key")
    args = parser.parse_args(argv)
    try:
        key = _read_key(args.key, "--key")
        witnesses = [_read_key(w, "--witness") for w in args.witness]
        print(verify_file(args.file, key, witnesses=witnesses))
    except ProofError as error:
        print(f"REFUSED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
