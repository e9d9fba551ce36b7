"""The hooks a rule pack implements (pluggy), each prefixed ``caseledger_``.

A rule pack is a plug-in: a module, registered under the entry-point group
``caseledger.rulepacks`` (or the ``hooks.py`` or ``__init__.py`` of a pack folder given
explicitly, run only where pack code is allowed), that implements :func:`caseledger_rulepack`
with the ``hookimpl`` marker. Its hooks apply to its own pack only: caseledger calls each
plug-in's implementations (through pluggy, the other plug-ins left out) for the pack that
plug-in provides, so nothing depends on the order plug-ins were registered in. A function
named like a hook but not marked is refused, as is a marked one that is not a hook here.

Example (``my_pack/__init__.py``)::

    from pathlib import Path
    from caseledger.rules import PackSource, hookimpl

    @hookimpl
    def caseledger_rulepack() -> PackSource:
        return PackSource(Path(__file__).parent / "pack.toml")
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from caseledger.rules.model import PackHeader
    from caseledger.rules.pack import RulePack

__all__ = [
    "PROJECT",
    "PackSource",
    "caseledger_check_pack",
    "caseledger_items",
    "caseledger_rulepack",
    "hookimpl",
    "hookspec",
]


@dataclass(frozen=True)
class PackSource:
    """Where a plug-in's pack is: its ``pack.toml``. Its scenario files are always the
    ``scenarios/`` folder beside it, where ``caseledger packs test`` and the pytest plugin
    look; ``scenarios`` is accepted only to name that folder, as packs written before did
    (the bundled packs among them, whose source is part of their content hash)."""

    path: Path
    scenarios: InitVar[Path | None] = None

    def __post_init__(self, scenarios: Path | None) -> None:
        if scenarios is not None and Path(scenarios) != Path(self.path).parent / "scenarios":
            raise ValueError(
                f"scenarios {scenarios} is not the scenarios folder beside {self.path}: "
                "scenario files are found there only (move them, and give the path alone)"
            )


PROJECT = "caseledger"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Mark a rule pack's hook implementations with ``@hookimpl``."""


@hookspec
def caseledger_rulepack() -> PackSource:  # type: ignore[empty-body]
    """Return this plug-in's pack: where its ``pack.toml`` is (its scenario files are the
    ``scenarios/`` folder beside it).

    Required. Called once when packs are discovered.
    """


@hookspec
def caseledger_items(pack: PackHeader) -> dict[str, list[dict[str, Any]]]:  # type: ignore[empty-body]
    """Return catalogue items that data files cannot hold conveniently, e.g. read from the
    province's catalogue export shipped with the pack: ``{code: [version, ...]}``, each version
    in the form of an ``[[items."CODE"]]`` table. They are validated like the file's items.

    Optional. Called once when the pack is loaded, with the pack's ``[pack]`` header.
    """


@hookspec
def caseledger_check_pack(pack: RulePack) -> list[str]:  # type: ignore[empty-body]
    """Return problems that only code can find in the loaded pack (e.g. every item of a
    department has a scope), one sentence each, saying what is wrong and how to fix it.

    Optional. Called when the pack is loaded and by ``caseledger packs validate``; any
    problem makes the pack unusable.
    """
