"""Signing keys of the ledger and of its witnesses: Ed25519, in the signed-note key format.

A private key is the text ``PRIVATE+KEY+NAME+KEYID+BASE64(0x01 || 32-byte seed)``; its
public half, the **verifier key** that is published, ``NAME+KEYID+BASE64(0x01 || 32-byte
public key)`` (:class:`~caseledger.audit.offline.VerifierKey`). ``caseledger keys new``
writes the private key to a file readable by its owner only; it is never stored in the
ledger's database. A program is given it as that file's path, or as the text itself in an
environment variable (``CASELEDGER_SIGNING_KEY``).
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from caseledger.audit.offline import ED25519, Checkpoint, VerifierKey, key_id, parse_verifier_key
from caseledger.errors import KeyFileError

__all__ = ["SIGNING_KEY_ENV", "Signer", "load_signer", "load_verifier", "new_signer"]

SIGNING_KEY_ENV = "CASELEDGER_SIGNING_KEY"
"""The environment variable that may hold the ledger's private key (the text itself)."""

_PREFIX = "PRIVATE+KEY+"
_FIX = "give the file written by `caseledger keys new` (or its text)"


@dataclass(frozen=True)
class Signer:
    """A private key: signs checkpoints under ``name``."""

    name: str
    seed: bytes

    @property
    def verifier(self) -> VerifierKey:
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return VerifierKey(self.name, key_id(self.name, public), public)

    def private_text(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"{_PREFIX}{self.name}+{self.verifier.id.hex()}+{encoded}\n"

    def sign(self, checkpoint: Checkpoint) -> Checkpoint:
        """The checkpoint with this key's signature line added (replacing an older one)."""
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(checkpoint.body.encode())
        return checkpoint.with_signature(self.name, self.verifier.id, signature)


def new_signer(name: str) -> Signer:
    """A new random key named ``name`` (no spaces, no ``+``: it appears in signature lines)."""
    if not name or any(c.isspace() or c == "+" for c in name) or not name.isprintable():
        raise KeyFileError(
            "key name",
            "",
            f"{name!r} has spaces, '+' or control characters",
            fix="name it like a host or a department: caseledger.example.gov",
        )
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return Signer(name, seed)


def parse_signer(text: str, *, source: str) -> Signer:
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or "+".join(parts[:2]) + "+" != _PREFIX:
        raise KeyFileError(
            source, "", "not a private key (PRIVATE+KEY+NAME+KEYID+BASE64)", fix=_FIX
        )
    name, hex_id, encoded = parts[2:]
    try:
        data = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise KeyFileError(source, "key", "not base64", fix=_FIX) from None
    if len(data) != 33 or data[0] != ED25519:
        raise KeyFileError(source, "key", "not an Ed25519 key (0x01 and 32 bytes)", fix=_FIX)
    signer = Signer(name, data[1:])
    if signer.verifier.id.hex() != hex_id:
        raise KeyFileError(source, "key id", "does not match the name and key: altered", fix=_FIX)
    return signer


def load_signer(path: Path | None = None) -> Signer:
    """The private key of the file at ``path``, else of ``$CASELEDGER_SIGNING_KEY``."""
    if path is None:
        text = os.environ.get(SIGNING_KEY_ENV)
        if not text:
            raise KeyFileError(
                "signing key",
                "",
                f"none given and ${SIGNING_KEY_ENV} is not set",
                fix="give --key FILE (made by `caseledger keys new`)",
            )
        return parse_signer(text, source=f"${SIGNING_KEY_ENV}")
    return parse_signer(_read(path), source=str(path))


def load_verifier(text: str) -> VerifierKey:
    """A verifier key given as the key itself (``NAME+KEYID+BASE64``) or as a file's path."""
    if Path(text).is_file():
        return parse_verifier_key(_read(Path(text)), source=text)
    return parse_verifier_key(text, source="verifier key")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise KeyFileError(str(path), "", f"cannot be read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise KeyFileError(str(path), "", "not text: a binary file?", fix=_FIX) from None
