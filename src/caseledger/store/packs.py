"""The rule-pack versions a ledger holds: its pack streams (``@`` and a content hash), read
back into :class:`RulePack` objects that judge exactly as the packs did when recorded.

Each ``pack_recorded`` event holds one pack of a version's lineage, and names the recorded
version of the pack it extends by its content hash; :class:`LedgerPacks` reads them all
(they are few: one per version ever used), rebuilds each on its parent, and refuses one
whose content does not give its hash (:class:`RecordedPackAltered`).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass

from caseledger.domain.events import upcast
from caseledger.errors import RecordedPackAltered, StoreError
from caseledger.rules.pack import RulePack
from caseledger.rules.versions import PackContent, pack_from_content
from caseledger.store.event_store import CaseStore

__all__ = ["HeldVersion", "LedgerPacks"]


@dataclass(frozen=True)
class HeldVersion:
    """A pack version recorded in the ledger, and its first use."""

    content: PackContent
    first_used_at: dt.datetime
    first_case: str | None
    recorded_at: dt.datetime

    @property
    def stream_id(self) -> str:
        return "@" + self.content.content_hash


class LedgerPacks:
    """The pack versions recorded in ``store``, by content hash (a :class:`HeldPacks`)."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._held: dict[str, HeldVersion] | None = None
        self._packs: dict[str, RulePack] = {}
        self._owner = os.getpid()

    def refresh(self) -> None:
        """Forget what was read: the next question reads the pack streams again."""
        with self._lock:
            self._held = None

    def held(self) -> dict[str, HeldVersion]:
        """Every recorded version by content hash, in the order first recorded."""
        with self._lock:
            if self._held is None:
                self._held = self._read()
            return self._held

    def knows(self, content_hash: str) -> bool:
        """Whether the ledger holds version ``content_hash``, read again if it was not
        held when last read (in the process that opened the store): another process may
        have recorded it since, and recording it again would conflict with its stream."""
        if content_hash in self.held():
            return True
        if os.getpid() != self._owner:
            return False
        self.refresh()
        return content_hash in self.held()

    def _read(self) -> dict[str, HeldVersion]:
        found: dict[str, HeldVersion] = {}
        decode = self._store.decoder
        for _, stream_id, version, topic, stored in self._store.topic_rows("pack_recorded"):
            try:
                state = decode(stream_id, version, stored)
                body = upcast(topic, state.get("event") or {}, state.get("class_version", 1))
                content = PackContent.from_body(body)
                held = HeldVersion(
                    content,
                    dt.datetime.fromisoformat(state["at"]),
                    body.get("first_case"),
                    dt.datetime.fromisoformat(state["recorded_at"]),
                )
            except (KeyError, TypeError, ValueError) as error:
                raise StoreError(
                    f"pack stream {stream_id!r}: stored state does not decode: {error}"
                ) from error
            if stream_id != held.stream_id:
                raise RecordedPackAltered(
                    content.name, stream_id[1:], content.content_hash,
                    "its stream is not named by its content hash",
                )  # fmt: skip
            found.setdefault(content.content_hash, held)
        return found

    def pack(self, content_hash: str) -> RulePack | None:
        """The recorded version ``content_hash`` (read again once if not found: another
        process may have recorded it since; not in a forked worker, whose versions were read
        before it was forked, and which must not use its parent's connection)."""
        if content_hash not in self.held() and os.getpid() == self._owner:
            self.refresh()
        return self._build(content_hash)

    def versions(self) -> list[RulePack]:
        """Every recorded version, in the order first recorded."""
        return [p for h in list(self.held()) if (p := self._build(h)) is not None]

    def _build(self, content_hash: str) -> RulePack | None:
        built = self._packs.get(content_hash)
        if built is not None:
            return built
        held = self.held().get(content_hash)
        if held is None:
            return None
        content = held.content
        parent = None
        if content.extends_hash is not None:
            parent = self._build(content.extends_hash)
            if parent is None:
                raise RecordedPackAltered(
                    content.name, content.content_hash, "(no parent)",
                    f"the version it extends (@{content.extends_hash[:16]}…) is not recorded",
                )  # fmt: skip
        pack = self._packs[content_hash] = pack_from_content(content, parent)
        return pack
