"""The transparency log on the command line: ``keys new``, ``checkpoint``, ``witness``,
``prove`` and ``verify-proof`` (which needs no ledger: it runs the offline verifier,
:mod:`caseledger.audit.offline`).

Exit codes as everywhere: 0 success, 1 a bad input (a malformed file, a key that cannot be
read, a checkpoint of another ledger), 3 a proof or checkpoint that does not verify (not
signed by the key given, or hashes that do not lead to the signed root).
"""

from __future__ import annotations

import base64
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from caseledger.audit.checkpoint import cosign, witness_proof, witness_state
from caseledger.audit.keys import SIGNING_KEY_ENV, load_signer, load_verifier, new_signer
from caseledger.audit.offline import (
    CONSISTENCY_FORMAT,
    Checkpoint,
    load_json,
    parse_checkpoint,
    verify_consistency_file,
    verify_file,
)
from caseledger.cli.common import (
    EXIT_TAMPERED,
    PlainCommand,
    PlainGroup,
    err,
    fail,
    open_ledger,
    out,
    reports_errors,
    suggesting_streams,
    write_private,
)
from caseledger.errors import MalformedProof, ProofRejected, SignatureRejected

__all__ = ["keys_app", "read_checkpoint", "register"]

keys_app = typer.Typer(
    help="Signing keys (签名密钥) of the ledger and of its witnesses.",
    no_args_is_help=True,
    cls=PlainGroup,
)

F = TypeVar("F", bound=Callable[..., Any])

KeyFile = Annotated[
    Path | None,
    typer.Option(
        "--key",
        metavar="FILE",
        help=f"The private key file (caseledger keys new); default: ${SIGNING_KEY_ENV}.",
    ),
]
Output = Annotated[
    Path | None, typer.Option("--out", metavar="FILE", help="Write it here instead of stdout.")
]


def rejects_as_tampering(command: F) -> F:
    """A proof or signature that does not verify exits 3 (like ``verify``), not 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ProofRejected, SignatureRejected) as error:
            raise fail(f"NOT VERIFIED: {error}", code=EXIT_TAMPERED) from None

    return wrapper  # type: ignore[return-value]


def _write(output: Path | None, data: bytes, what: str, *, private: bool = False) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        return
    try:
        if private:
            write_private(output, data)
        else:
            output.write_bytes(data)
    except OSError as error:
        raise fail(f"cannot write the {what} to {output}: {error.strerror}") from error
    err.print(f"{what} written to {output}", soft_wrap=True, highlight=False, markup=False)


def read_checkpoint(path: Path) -> Checkpoint:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise MalformedProof(str(path), "", f"cannot be read: {error.strerror}") from None
    return parse_checkpoint(data, source=str(path))


@keys_app.command("new", cls=PlainCommand)
@reports_errors
def keys_new(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The key's name, e.g. caseledger.city.gov.cn.")
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--out", metavar="FILE", help="The private key file (owner-only); FILE.pub too."
        ),
    ],
) -> None:
    """Make an Ed25519 key: the private key into FILE (owner-only, never into the ledger),
    the public verifier key into FILE.pub and onto stdout (publish it)."""
    if output.exists():
        raise fail(f"{output} exists: a key is never overwritten; give another --out")
    signer = new_signer(name)
    _write(output, signer.private_text().encode(), "private key", private=True)
    public = f"{signer.verifier}\n"
    _write(output.with_name(output.name + ".pub"), public.encode(), "verifier key")
    out.print(public, end="", highlight=False, markup=False, soft_wrap=True)


@reports_errors
@rejects_as_tampering
def checkpoint(ctx: typer.Context, key: KeyFile = None, output: Output = None) -> None:
    """Sign the tree's size and root (签名检查点) with the ledger's key; kept in the ledger
    too. Refused for a ledger that does not verify or does not extend its last checkpoint."""
    signer = load_signer(key)
    with open_ledger(ctx) as ledger:
        signed = ledger.checkpoint(signer)
    _write(output, signed.text.encode(), "checkpoint")


@reports_errors
@rejects_as_tampering
def witness(
    ctx: typer.Context,
    checkpoint_file: Annotated[
        Path, typer.Argument(metavar="CHECKPOINT", help="The ledger's signed checkpoint.")
    ],
    log_key: Annotated[
        str, typer.Option("--log-key", metavar="PUB", help="The ledger's verifier key (or file).")
    ],
    state: Annotated[
        Path,
        typer.Option(
            "--state", metavar="FILE", help="The last checkpoint this witness signed (kept)."
        ),
    ],
    key: KeyFile = None,
    proof: Annotated[
        Path | None,
        typer.Option(
            "--proof",
            metavar="FILE",
            help="A consistency file (caseledger prove --since); default: from the ledger.",
        ),
    ] = None,
    output: Output = None,
) -> None:
    """Co-sign a checkpoint (见证) after checking it extends the last one this witness
    signed; a log that forked or was rolled back is refused (exit 3)."""
    signer = load_signer(key)
    verifier = load_verifier(log_key)
    given = read_checkpoint(checkpoint_file)
    if proof is not None:
        data = load_json(proof)
        if not isinstance(data, dict) or data.get("format") != CONSISTENCY_FORMAT:
            raise MalformedProof(str(proof), "format", f"not {CONSISTENCY_FORMAT!r}")
        old, new = verify_consistency_file(data, verifier, source=str(proof))
        if (new.size, new.root) != (given.size, given.root):
            raise MalformedProof(str(proof), "new", "not the checkpoint given")
        kept = witness_state(state)
        if kept is not None and (kept.size, kept.root) != (old.size, old.root):
            raise MalformedProof(str(proof), "old", "not the checkpoint this witness signed last")
        path = [] if kept is None else _proof_hashes(data)
    else:
        with open_ledger(ctx) as ledger:
            path = witness_proof(ledger.store, state, given)
    signed = cosign(given, verifier, signer, state, path, source=str(checkpoint_file))
    _write(output, signed.text.encode(), "co-signed checkpoint")


def _proof_hashes(data: dict[str, Any]) -> list[bytes]:
    return [base64.b64decode(h) for h in data["consistency_proof"]]


@reports_errors
@rejects_as_tampering
def prove(
    ctx: typer.Context,
    case_no: Annotated[
        str | None, typer.Argument(metavar="CASE", help="The case whose receipt to make.")
    ] = None,
    since: Annotated[
        Path | None,
        typer.Option(
            "--since",
            metavar="FILE",
            help="Instead: prove the checkpoint extends this older checkpoint file.",
        ),
    ] = None,
    checkpoint_file: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint", metavar="FILE", help="Against this checkpoint; default: the last one."
        ),
    ] = None,
    output: Output = None,
) -> None:
    """A case's receipt (回执): its events, their leaf indexes and inclusion proofs against a
    signed checkpoint; or, with --since, a consistency proof between two checkpoints."""
    if (case_no is None) == (since is None):
        raise fail("give a CASE (for its receipt) or --since FILE (for a consistency proof)")
    chosen = read_checkpoint(checkpoint_file) if checkpoint_file else None
    with open_ledger(ctx) as ledger, suggesting_streams(ledger):
        if since is not None:
            data = ledger.consistency(read_checkpoint(since), chosen)
            what = "consistency proof"
        else:
            assert case_no is not None
            data = ledger.receipt(case_no, chosen)
            what = "receipt"
    _write(output, data, what)


@reports_errors
@rejects_as_tampering
def verify_proof(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A receipt or consistency file.")],
    key: Annotated[
        str, typer.Option("--key", metavar="PUB", help="The ledger's verifier key (or its file).")
    ],
    witnesses: Annotated[
        list[str] | None,
        typer.Option("--witness", metavar="PUB", help="A witness whose co-signature is needed."),
    ] = None,
) -> None:
    """Verify a receipt or consistency proof offline (离线验证): no ledger, no database."""
    verifier = load_verifier(key)
    others = [load_verifier(w) for w in witnesses or []]
    out.print(verify_file(file, verifier, witnesses=others), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the transparency commands to the ``caseledger`` command line."""
    app.add_typer(keys_app, name="keys")
    app.command("checkpoint", cls=PlainCommand)(checkpoint)
    app.command("witness", cls=PlainCommand)(witness)
    app.command("prove", cls=PlainCommand)(prove)
    app.command("verify-proof", cls=PlainCommand)(verify_proof)
