"""Checkpoints, receipts, consistency proofs and witnesses: what is signed verifies, and
every change to it (each bit flipped, an index, a size, a leaf, a sibling, a path cut short,
another key) is refused with a typed error naming the field; never an untyped exception,
never "valid"."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseledger import (
    CaseLedger,
    Checkpoint,
    CheckpointOfAnotherLedger,
    KeyFileError,
    MalformedProof,
    ProofError,
    ProofRejected,
    SealError,
    SignatureRejected,
    Signer,
    load_signer,
    new_signer,
    parse_checkpoint,
)
from caseledger.audit import merkle, offline
from caseledger.audit.checkpoint import cosign
from tests import tamper
from tests.conftest import fixed_clock
from tests.helpers import APPROVED, CHIEF, RECEIVED, accepted_case, at, command

OFFLINE = Path(offline.__file__)


@dataclass
class Signed:
    url: str
    signer: Signer
    checkpoint: Checkpoint
    receipt: bytes
    consistency: bytes
    small: bytes
    """The receipt of a case of one event."""


def _cases(ledger: CaseLedger, numbers: range) -> None:
    for n in numbers:
        accepted_case(ledger, f"QZ-{n}")
        ledger.record(command(f"QZ-{n}", 3, APPROVED, at(14), CHIEF))


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signed]:
    """A small ledger of 5 cases (15 events, and the pack version's) checkpointed at 10 and
    at 17 events."""
    url = f"sqlite:///{tmp_path_factory.mktemp('signed')}/ledger.db"
    signer = new_signer("caseledger.test")
    with CaseLedger(url, clock=fixed_clock) as ledger:
        _cases(ledger, range(1, 4))
        first = ledger.checkpoint(signer)
        _cases(ledger, range(4, 6))
        ledger.record(command("QZ-9", 1, RECEIVED, at(12)))
        second = ledger.checkpoint(signer)
        yield Signed(
            url, signer, second, ledger.receipt("QZ-2"), ledger.consistency(first),
            ledger.receipt("QZ-9"),
        )  # fmt: skip


def _accepts(data: bytes, signed: Signed, tmp_path: Path | None = None) -> bool:
    """Whether the offline verifier accepts ``data`` (from a file if ``tmp_path``, as the
    command line reads it; else as bytes read); any refusal must be a ProofError."""
    try:
        if tmp_path is not None:
            path = tmp_path / "proof.json"
            path.write_bytes(data)
            offline.verify_file(path, signed.signer.verifier)
            return True
        try:
            parsed = json.loads(data.decode("utf-8"))
        except ValueError:
            return False  # (verify_file says MalformedProof, tested below)
        if isinstance(parsed, dict) and parsed.get("format") == offline.CONSISTENCY_FORMAT:
            offline.verify_consistency_file(parsed, signed.signer.verifier)
        else:
            offline.verify_receipt(parsed, signed.signer.verifier)
    except ProofError:
        return False
    return True


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def test_a_receipt_and_a_consistency_proof_verify_offline(signed: Signed, tmp_path: Path) -> None:
    assert _accepts(signed.receipt, signed, tmp_path)
    assert _accepts(signed.consistency, signed, tmp_path)
    receipt = json.loads(signed.receipt)
    assert receipt["case_no"] == "QZ-2"
    assert [e["version"] for e in receipt["events"]] == [1, 2, 3]
    # leaf 1 is the pack version QZ-1's acceptance recorded (every event is a leaf)
    assert [e["leaf_index"] for e in receipt["events"]] == [4, 5, 6]
    assert parse_checkpoint(receipt["checkpoint"]).size == 17
    assert _accepts(signed.small, signed, tmp_path)


@pytest.mark.parametrize("which", ["small", "consistency"])
def test_every_bit_flipped_in_a_proof_file_is_refused_or_means_the_same(
    signed: Signed, which: str
) -> None:
    original: bytes = getattr(signed, which)
    meaning = json.loads(original)
    accepted = 0
    for position in range(len(original)):
        for bit in range(8):
            changed = bytearray(original)
            changed[position] ^= 1 << bit
            if _accepts(bytes(changed), signed):
                accepted += 1
                assert _json(bytes(changed)) == meaning, (position, bit)
    assert accepted < len(original)  # only the few flips that leave the JSON value as it was


def test_every_bit_flipped_in_a_checkpoint_is_refused(signed: Signed) -> None:
    text = signed.checkpoint.text.encode()
    key = signed.signer.verifier
    for position in range(len(text)):
        for bit in range(8):
            changed = bytearray(text)
            changed[position] ^= 1 << bit
            with pytest.raises((MalformedProof, SignatureRejected)):
                parse_checkpoint(bytes(changed)).check_signed(key)


def _receipt_with(signed: Signed, change: Any) -> bytes:
    data = json.loads(signed.receipt)
    change(data)
    return json.dumps(data).encode()


def _hash_b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


MUTATIONS = {
    "leaf index + 1": lambda d: d["events"][1].update(leaf_index=d["events"][1]["leaf_index"] + 1),
    "leaf index - 1": lambda d: d["events"][1].update(leaf_index=d["events"][1]["leaf_index"] - 1),
    "leaf index past the tree": lambda d: d["events"][2].update(leaf_index=15),
    "wrong leaf (another event's state)": lambda d: d["events"][0].update(
        state=d["events"][1]["state"]
    ),
    "wrong topic": lambda d: d["events"][2].update(topic="denied"),
    "another case": lambda d: d.update(case_no="QZ-3"),
    "swapped siblings": lambda d: d["events"][0]["inclusion_proof"].reverse(),
    "truncated path": lambda d: d["events"][0]["inclusion_proof"].pop(),
    "a sibling too many": lambda d: d["events"][0]["inclusion_proof"].append(_hash_b64(b"\0" * 32)),
    "a sibling changed": lambda d: d["events"][1]["inclusion_proof"].__setitem__(
        0, _hash_b64(b"\1" * 32)
    ),
    "an event left out": lambda d: d["events"].pop(1),
    "events reordered": lambda d: d["events"].reverse(),
    "no events": lambda d: d.update(events=[]),
}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=list(MUTATIONS))
def test_a_changed_receipt_is_refused(signed: Signed, tmp_path: Path, mutation: str) -> None:
    assert not _accepts(_receipt_with(signed, MUTATIONS[mutation]), signed, tmp_path)


def _checkpoint_text(signed: Signed, size: int | None = None, root: bytes | None = None) -> str:
    c = signed.checkpoint
    body = offline.checkpoint_body(c.origin, c.size if size is None else size, root or c.root)
    return Checkpoint(c.origin, c.size, c.root, body, c.signatures).text


@pytest.mark.parametrize("delta", [-1, 1])
def test_a_tree_size_changed_by_one_is_refused(signed: Signed, delta: int) -> None:
    size = signed.checkpoint.size + delta
    forged = _checkpoint_text(signed, size=size)
    changed = _receipt_with(signed, lambda d: d.update(checkpoint=forged))
    with pytest.raises(SignatureRejected, match="altered"):  # the signature covers the size
        offline.verify_receipt(json.loads(changed), signed.signer.verifier)
    data = json.loads(signed.consistency)
    for which in ("old", "new"):
        old = parse_checkpoint(data[which])
        body = offline.checkpoint_body(old.origin, old.size + delta, old.root)
        text = Checkpoint(old.origin, old.size, old.root, body, old.signatures).text
        assert not _accepts(json.dumps({**data, which: text}).encode(), signed)


def test_an_inclusion_path_proves_nothing_at_a_size_or_index_one_off() -> None:
    """At the level of the proof itself (a size or index that the key's owner signed
    wrongly): a path for another shape of tree does not lead to the root."""
    for n in range(2, 40):
        hashes = [offline.leaf_hash(bytes([i])) for i in range(n)]
        node = merkle.list_nodes(hashes)
        root = merkle.root(node, n)
        for m in range(n):
            path = merkle.inclusion_path(node, m, n)
            for index in (m - 1, m + 1):
                if 0 <= index < n:
                    with pytest.raises(ProofRejected):
                        offline.verify_inclusion(index, n, hashes[m], path, root)
            with pytest.raises(ProofRejected):
                offline.verify_inclusion(m, n, hashes[m], path, merkle.root(node, n - 1))


def test_another_key_is_refused_naming_the_signature(signed: Signed) -> None:
    data = json.loads(signed.receipt)
    other = new_signer("caseledger.test")  # the same name, another key
    with pytest.raises(SignatureRejected, match="no signature by key"):
        offline.verify_receipt(data, other.verifier)
    forged = other.sign(parse_checkpoint(data["checkpoint"]))
    data["checkpoint"] = Checkpoint(
        forged.origin, forged.size, forged.root, forged.body, forged.signatures[1:]
    ).text
    with pytest.raises(SignatureRejected):
        offline.verify_receipt(data, signed.signer.verifier)


def test_a_truncated_file_is_a_malformed_proof_at_every_length(
    signed: Signed, tmp_path: Path
) -> None:
    path = tmp_path / "cut.json"
    for length in range(0, len(signed.receipt) - 1, 7):
        path.write_bytes(signed.receipt[:length])
        with pytest.raises(ProofError):
            offline.verify_file(path, signed.signer.verifier)
    text = signed.checkpoint.text
    for length in range(len(text) - 1):
        with pytest.raises((MalformedProof, SignatureRejected)):
            parse_checkpoint(text[:length]).check_signed(signed.signer.verifier)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("origin\n12\nnot base64!\n\n— k AAAA\n", "root hash"),
        ("origin\n012\nAAAA\n\n— k AAAA\n", "tree size"),
        ("origin\ntwelve\nAAAA\n\n— k AAAA\n", "tree size"),
        ("origin\n" + "9" * 5000 + "\nAAAA\n\n— k AAAA\n", "tree size"),
        ("origin\n12\n\n— k AAAA\n", "root hash"),
        ("origin\n12\n" + _hash_b64(b"r" * 32) + "\n\n", "signatures"),
        ("origin\n12\n" + _hash_b64(b"r" * 32) + "\n\n- k AAAA\n", "signature line 1"),
        ("origin\n12\n" + _hash_b64(b"r" * 32) + "\n\n— k AAAA\n", "signature line 1"),
        ("origin\n12\n" + _hash_b64(b"r" * 32) + "\n", "signatures"),
    ],
)
def test_a_malformed_checkpoint_names_its_field(text: str, field: str) -> None:
    with pytest.raises(MalformedProof) as caught:
        parse_checkpoint(text, source="cp.txt")
    assert caught.value.field == field and str(caught.value).startswith(f"cp.txt: {field}: ")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("name+1234abcd", ""),
        ("na me+1234abcd+AAAA", "name"),
        ("name+12zz+AAAA", "key id"),
        ("name+1234abcd+AAAA", "key"),
    ],
)
def test_a_malformed_verifier_key_names_its_field(text: str, field: str) -> None:
    with pytest.raises(KeyFileError) as caught:
        offline.parse_verifier_key(text)
    assert caught.value.field == field


def test_an_altered_verifier_key_is_refused(signed: Signed) -> None:
    _, key_id, key = str(signed.signer.verifier).split("+", 2)
    with pytest.raises(KeyFileError, match="key id"):
        offline.parse_verifier_key(f"other+{key_id}+{key}")


@given(data=st.data())
def test_the_offline_verifier_accepts_no_mutated_receipt_that_means_something_else(
    signed: Signed, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    original = signed.receipt
    changed = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        position = data.draw(st.integers(0, len(changed) - 1), label="position")
        edit = data.draw(st.sampled_from(["replace", "insert", "delete"]), label="edit")
        byte = data.draw(st.integers(0, 255), label="byte")
        if edit == "replace":
            changed[position] = byte
        elif edit == "insert":
            changed.insert(position, byte)
        elif len(changed) > 1:
            del changed[position]
    tmp_path = tmp_path_factory.mktemp("fuzz")
    if _accepts(bytes(changed), signed, tmp_path):
        assert _json(bytes(changed)) == json.loads(original)


# -- checkpoints of the ledger --------------------------------------------------------------


def test_a_checkpoint_is_kept_in_the_ledger_and_is_the_default_to_verify_against(
    ledger: CaseLedger,
) -> None:
    signer = new_signer("ledger")
    assert ledger.latest_checkpoint() is None
    _cases(ledger, range(1, 3))
    taken = ledger.checkpoint(signer)
    assert taken.size == 7 and taken.origin.startswith("caseledger/")  # 6, and the pack's
    kept = ledger.latest_checkpoint()
    assert kept is not None and kept.text == taken.text
    report = ledger.verify(key=signer.verifier)
    assert report.ok and report.checkpoint == 7


def test_a_ledger_that_does_not_verify_or_forked_is_not_signed(
    ledger: CaseLedger, ledger_url: str
) -> None:
    signer = new_signer("ledger")
    _cases(ledger, range(1, 3))
    ledger.checkpoint(signer)
    tamper.delete(ledger_url, "QZ-1", 2)
    with pytest.raises(SealError, match="QZ-1"):
        ledger.checkpoint(signer)


def test_a_checkpoint_of_another_ledger_is_refused_as_such(
    open_ledger: Any, tmp_path: Path
) -> None:
    signer = new_signer("ledger")
    one = open_ledger()
    _cases(one, range(1, 3))
    checkpoint = one.checkpoint(signer)
    with CaseLedger(f"sqlite:///{tmp_path}/other.db", clock=fixed_clock) as other:
        _cases(other, range(1, 3))  # the same cases, byte for byte: another ledger still
        other.checkpoint(signer)
        with pytest.raises(CheckpointOfAnotherLedger, match="not a sign of tampering"):
            other.verify(checkpoint=checkpoint, key=signer.verifier)
        with pytest.raises(CheckpointOfAnotherLedger):
            other.receipt("QZ-1", checkpoint)


def test_a_witness_cosigns_only_a_log_that_extends_what_it_signed(
    ledger: CaseLedger, tmp_path: Path
) -> None:
    log, witness = new_signer("ledger"), new_signer("supervision")
    state = tmp_path / "witness.state"
    _cases(ledger, range(1, 3))
    first = ledger.checkpoint(log)
    signed = cosign(first, log.verifier, witness, state, [])
    assert signed.signed_by(witness.verifier) and signed.signed_by(log.verifier)
    assert parse_checkpoint(state.read_text()).text == signed.text
    _cases(ledger, range(3, 5))
    second = ledger.checkpoint(log)
    proof = [
        base64.b64decode(h) for h in json.loads(ledger.consistency(first))["consistency_proof"]
    ]
    cosign(second, log.verifier, witness, state, proof)
    body = offline.checkpoint_body(second.origin, 20, b"\7" * 32)
    forked = log.sign(Checkpoint(second.origin, 20, b"\7" * 32, body, ()))
    with pytest.raises(ProofRejected, match="forked"):
        cosign(forked, log.verifier, witness, state, proof)
    with pytest.raises(SignatureRejected):
        cosign(second, witness.verifier, witness, state, [])
    assert parse_checkpoint(state.read_text()).size == second.size


# -- keys -----------------------------------------------------------------------------------


def test_a_private_key_round_trips_through_its_file_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = new_signer("caseledger.city.gov.cn")
    (tmp_path / "k").write_text(signer.private_text())
    assert load_signer(tmp_path / "k") == signer
    monkeypatch.setenv("CASELEDGER_SIGNING_KEY", signer.private_text())
    assert load_signer() == signer
    monkeypatch.delenv("CASELEDGER_SIGNING_KEY")
    with pytest.raises(KeyFileError, match="CASELEDGER_SIGNING_KEY"):
        load_signer()
    (tmp_path / "k").write_text(signer.private_text().replace("PRIVATE", "PUBLIC"))
    with pytest.raises(KeyFileError, match="not a private key"):
        load_signer(tmp_path / "k")
    with pytest.raises(KeyFileError, match="spaces"):
        new_signer("two words")


# -- the verifier, copied alone -------------------------------------------------------------


def test_the_offline_verifier_imports_only_the_standard_library_and_cryptography() -> None:
    import ast

    tree = ast.parse(OFFLINE.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party == {"cryptography", "caseledger"}  # caseledger's errors, if there


def test_the_offline_verifier_copied_alone_verifies_and_refuses(
    signed: Signed, tmp_path: Path
) -> None:
    shutil.copy(OFFLINE, tmp_path / "verify_receipt.py")
    (tmp_path / "receipt.json").write_bytes(signed.receipt)
    blocked = (  # as on an auditor's machine without caseledger
        "import runpy, sys; sys.modules['caseledger'] = None; sys.argv = sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    key = str(signed.signer.verifier)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", blocked, "verify_receipt.py", *arguments],
            cwd=tmp_path, capture_output=True, text=True, env=environment, check=False,
        )  # fmt: skip

    done = run("receipt.json", "--key", key)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("receipt verified: case 'QZ-2', 3 events (leaves 4, 5, 6)")
    (tmp_path / "receipt.json").write_bytes(signed.receipt.replace(b'"QZ-2"', b'"QZ-3"'))
    refused = run("receipt.json", "--key", key)
    assert refused.returncode == 1 and refused.stderr.startswith("REFUSED: receipt.json: ")
    assert "Traceback" not in refused.stderr
