"""Finding and loading rule packs: entry points and explicit directories, through pluggy.

Packs come from the entry-point group ``caseledger.rulepacks`` (the bundled ``national``
pack is found this way too, exactly as a third-party pack is) and from directories given
explicitly (a directory with a ``pack.toml`` and optionally its hooks in ``hooks.py`` or,
for a package, ``__init__.py``; or a directory of such directories). Each plug-in provides
one pack. A case names its pack, so nothing depends on the order plug-ins are found in; two
plug-ins providing the same pack name are an error. A pack that fails to load is kept aside
with its problems: asking for it raises its :class:`PackError`, and the other packs stay
usable. A pack whose parameters lack values loads (it can be listed, shown, validated and
tested), but :meth:`PackRegistry.get` refuses it for judging with
:class:`PackParameterMissing`: whatever records or judges a case asks through ``get``.

Code in pack folders: a folder's ``pack.toml`` and scenarios are data, read without running
anything. Its ``hooks.py`` (or ``__init__.py``) is Python, run as soon as the pack is loaded,
so a folder that carries one is loaded only where the operator allows pack code
(``allow_code=True``; ``--allow-pack-code`` or ``CASELEDGER_ALLOW_PACK_CODE=1`` on the command
line). Elsewhere it is refused with :class:`PackCodeNotAllowed`, naming the file, and none
of it is used: its data without its code could judge otherwise than its author meant. An
installed pack (an entry point) is code the operator installed, and always loads.

Every plug-in is registered in one pluggy ``PluginManager``, which checks its hook
implementations against :mod:`caseledger.rules.hookspecs`; each hook is called through
``subset_hook_caller`` with the other plug-ins left out, so that a plug-in's hooks apply to
its own pack only. The entry points are read with :mod:`importlib.metadata` rather than
``PluginManager.load_setuptools_entrypoints``, which cannot give what a registry needs: it
stops at the first plug-in that fails to import (so one broken pack would take the others
down, where it must be set aside with its :class:`PackError`), it skips silently a second
entry point of a name already registered, and it does not tell which entry point a plug-in
came from (which every problem of a plug-in names).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import importlib.metadata
import importlib.util
import inspect
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from caseledger.errors import (
    CalendarRangeError,
    PackCodeNotAllowed,
    PackError,
    PackParameterMissing,
    PackProblem,
    RecordedPackMissing,
    UnknownPackVersion,
    UnknownRulePack,
)
from caseledger.rules import hookspecs
from caseledger.rules.hookspecs import PackSource
from caseledger.rules.loader import read_pack_file
from caseledger.rules.model import PackData
from caseledger.rules.pack import RulePack
from caseledger.rules.validation import check_pack
from caseledger.rules.versions import HeldPacks, rebased, split_version

__all__ = [
    "CODE_FILES",
    "ENTRY_POINT_GROUP",
    "PackCodeNotAllowed",
    "PackPlugin",
    "PackRegistry",
    "PackSource",
]

ENTRY_POINT_GROUP = "caseledger.rulepacks"

CODE_FILES = ("hooks.py", "__init__.py")
"""The files of a pack folder that hold its hooks, run when the pack is loaded (the first
found of them)."""


@dataclass(frozen=True, eq=False)
class PackPlugin:
    """A plug-in: the object holding its hook implementations (a module, mostly), where it
    comes from (named in every problem of it), and the name it goes by until its pack is
    read (its entry point's name, or its folder's)."""

    name: str
    origin: str
    hooks: object

    @classmethod
    def installed(cls) -> tuple[list[PackPlugin], dict[str, PackError]]:
        """The plug-ins of the entry-point group, and (by entry-point name) those that cannot
        be imported: a broken plug-in must not break the others."""
        plugins: list[PackPlugin] = []
        failures: dict[str, PackError] = {}
        for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            origin = f"entry point {point.name} = {point.value}"
            try:
                plugins.append(cls(point.name, origin, point.load()))
            except Exception as error:
                failures[point.name] = PackError(
                    [PackProblem(origin, "", f"cannot be imported: {error}", "reinstall it")]
                )
        return plugins, failures

    @classmethod
    def folder(cls, pack_dir: Path, *, allow_code: bool = False) -> PackPlugin:
        """The plug-in of a pack folder: its ``pack.toml``, and its hooks if it carries code,
        which is run only if ``allow_code`` (:class:`PackCodeNotAllowed` otherwise)."""
        origin = f"directory {pack_dir}"
        code_file = code_file_of(pack_dir)
        if code_file is None:
            return cls(pack_dir.name, origin, _DataFolder(pack_dir))
        if not allow_code:
            raise PackCodeNotAllowed(pack_dir, code_file, _pack_name(pack_dir))
        module = _import_hooks(pack_dir, code_file)
        if not hasattr(module, "caseledger_rulepack"):

            @hookspecs.hookimpl
            def caseledger_rulepack() -> PackSource:
                return PackSource(pack_dir / "pack.toml")

            module.caseledger_rulepack = caseledger_rulepack  # type: ignore[attr-defined]
        return cls(pack_dir.name, origin, module)


def code_file_of(pack_dir: Path) -> Path | None:
    """The file of ``pack_dir`` that holds its hooks (run when it is loaded), if any."""
    return next((pack_dir / n for n in CODE_FILES if (pack_dir / n).is_file()), None)


class _DataFolder:
    """The one hook of a pack folder that carries no code: its pack is its ``pack.toml``."""

    def __init__(self, pack_dir: Path) -> None:
        self.pack_dir = pack_dir

    @hookspecs.hookimpl
    def caseledger_rulepack(self) -> PackSource:
        return PackSource(self.pack_dir / "pack.toml")


def _import_hooks(pack_dir: Path, code_file: Path) -> ModuleType:
    name = f"caseledger_dirpack_{hashlib.sha256(str(pack_dir).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, code_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise PackError(
            [PackProblem(str(code_file), "", f"cannot be imported: {error}", "fix the code")]
        ) from error
    return module


def _pack_name(pack_dir: Path) -> str | None:
    try:
        return read_pack_file(pack_dir / "pack.toml").pack.name
    except PackError:
        return None


@dataclass(frozen=True)
class _Loaded:
    plugin: PackPlugin
    source: PackSource
    data: PackData


class _Hooks:
    """The plug-ins of one registry in a pluggy ``PluginManager``, each one's hooks called
    for its own pack only (the others left out of the call)."""

    def __init__(self) -> None:
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        self.plugins: list[PackPlugin] = []

    def register(self, plugin: PackPlugin) -> None:
        """Register ``plugin``, or raise its :class:`PackError` (a hook that is not one of
        caseledger's, a signature that does not match, no ``caseledger_rulepack``)."""
        try:
            self.manager.register(plugin.hooks, name=f"{plugin.name} ({plugin.origin})")
        except (ValueError, pluggy.PluginValidationError) as error:
            message = getattr(error, "message", str(error))
            raise PackError(
                [PackProblem(plugin.origin, "", message, "fix the hook's name or signature")]
            ) from None
        problem = self._problem_of(plugin)
        if problem is not None:
            self.manager.unregister(plugin.hooks)
            raise PackError([problem])
        self.plugins.append(plugin)

    def _problem_of(self, plugin: PackPlugin) -> PackProblem | None:
        callers = self.manager.get_hookcallers(plugin.hooks) or []
        known = sorted(n for n in dir(hookspecs) if n.startswith("caseledger_"))
        unknown = sorted(c.name for c in callers if not c.has_spec())
        if unknown:
            message = (
                f"hook {unknown[0]!r} is not a caseledger hook; known hooks: {', '.join(known)}"
            )
            return PackProblem(plugin.origin, "", message, "fix the hook's name")
        marker = f"{hookspecs.PROJECT}_impl"
        for name in dir(plugin.hooks):
            value = getattr(plugin.hooks, name, None)
            if not name.startswith("caseledger_") or not inspect.isroutine(value):
                continue
            if name not in known:
                message = f"hook {name!r} is not a caseledger hook; known hooks: {', '.join(known)}"
                return PackProblem(plugin.origin, "", message, "fix the hook's name")
            if not hasattr(value, marker):
                return PackProblem(
                    plugin.origin,
                    name,
                    "is not marked as a hook, so caseledger would never call it",
                    "decorate it with @caseledger.rules.hookimpl",
                )
        if not any(c.name == "caseledger_rulepack" for c in callers):
            return PackProblem(
                plugin.origin,
                "",
                "a rule pack plug-in must implement caseledger_rulepack()",
                "add it, marked with @caseledger.rules.hookimpl",
            )
        return None

    def call(self, plugin: PackPlugin, hook: str, **kwargs: Any) -> list[Any]:
        """The results of ``plugin``'s implementations of ``hook``; an exception raised by
        one is the plug-in's :class:`PackError`."""
        others = [p.hooks for p in self.plugins if p is not plugin]
        caller = self.manager.subset_hook_caller(hook, remove_plugins=others)
        try:
            results: list[Any] = caller(**kwargs)
        except Exception as error:
            raise PackError(
                [PackProblem(plugin.origin, hook, f"raised {error!r}", "fix the hook's code")]
            ) from error
        return results

    def read(self, plugin: PackPlugin) -> _Loaded:
        """The pack of ``plugin``: its ``pack.toml``, with the items its hooks give."""
        sources = self.call(plugin, "caseledger_rulepack")
        source = sources[0] if len(sources) == 1 else None
        if not isinstance(source, PackSource):
            got = f"{len(sources)} results" if len(sources) != 1 else type(source).__name__
            raise PackError(
                [
                    PackProblem(
                        plugin.origin,
                        "caseledger_rulepack",
                        f"returned {got}, not one PackSource",
                        "return caseledger.rules.PackSource(path_to_pack_toml), once",
                    )
                ]
            )
        data = read_pack_file(source.path)
        extra: dict[str, Any] = {}
        for items in self.call(plugin, "caseledger_items", pack=data.pack):
            twice = sorted(set(extra) & set(items))
            if twice:
                raise PackError(
                    [
                        PackProblem(
                            plugin.origin, f"items.{code}",
                            "given by two caseledger_items hooks", "give it in one",
                        )
                        for code in twice
                    ]
                )  # fmt: skip
            extra.update(items)
        if extra:
            data = read_pack_file(source.path, extra_items=extra)
        return _Loaded(plugin, source, data)

    def check(self, plugin: PackPlugin, pack: RulePack, file: str) -> list[PackProblem]:
        """The problems ``plugin``'s ``caseledger_check_pack`` hooks find in its pack."""
        messages = [m for found in self.call(plugin, "caseledger_check_pack", pack=pack)
                    for m in found or []]  # fmt: skip
        return [PackProblem(file, "caseledger_check_pack", str(m)) for m in messages]


class PackRegistry:
    """The rule packs available to a ledger, by name; and, once given the versions a ledger
    holds (:meth:`judging`), the pack version each case is judged under."""

    judge_under: str = "recorded"
    """How :meth:`for_case` chooses: ``recorded`` (the version the case was accepted under),
    ``installed`` (the installed version of its pack, whatever it was accepted under), or
    ``NAME@VERSION`` (that version for the cases of NAME and of the packs extending it)."""
    _held: HeldPacks | None = None
    _override: RulePack | None = None

    def __init__(
        self,
        packs: dict[str, RulePack],
        sources: dict[str, PackSource],
        origins: dict[str, str],
        broken: dict[str, PackError],
    ) -> None:
        self._packs = packs
        self._sources = sources
        self._origins = origins
        self.broken = broken
        """Packs (by name, or by plug-in where the name is unknown) that failed to load."""
        self._rebased: dict[str, RulePack] = {}
        """Under a what-if: each recorded pack rebased on the pack put in place, by hash."""

    # -- discovery -----------------------------------------------------------------------
    @classmethod
    def discover(
        cls,
        directories: Iterable[Path] = (),
        *,
        entry_points: bool = True,
        allow_code: bool = False,
    ) -> PackRegistry:
        """Every pack installed (entry points) and in ``directories``; a pack folder that
        carries code is loaded only if ``allow_code`` (else set aside with
        :class:`PackCodeNotAllowed`, by its pack's name where that is free)."""
        plugins, failures = PackPlugin.installed() if entry_points else ([], {})
        refused: list[PackCodeNotAllowed] = []
        for directory in directories:
            for pack_dir in _pack_dirs(Path(directory)):
                try:
                    plugins.append(PackPlugin.folder(pack_dir, allow_code=allow_code))
                except PackCodeNotAllowed as error:
                    refused.append(error)
                except PackError as error:
                    failures[str(pack_dir)] = error
        registry = cls.from_plugins(plugins)
        registry.broken.update(failures)
        for refusal in refused:
            name = refusal.pack
            taken = name is None or name in registry or name in registry.broken
            registry.broken[str(refusal.folder) if taken or name is None else name] = refusal
        return registry

    @classmethod
    def for_folder(
        cls, folder: Path, packs_dirs: Sequence[Path] = (), *, allow_code: bool = False
    ) -> PackRegistry:
        """The packs to test the pack folder ``folder`` with: its own, and the installed ones
        (and those of ``packs_dirs``) it may extend; another pack of the same name is set
        aside. A folder that carries code loads only if ``allow_code``, or if it is the folder
        of an installed plug-in (code the operator installed); the pack under test raises its
        :class:`PackError` here, while another broken pack is kept aside in ``broken``."""
        folder = Path(folder)
        name = read_pack_file(folder / "pack.toml").pack.name
        installed, failures = PackPlugin.installed()
        here = folder.resolve()
        plugins = list(installed)
        for directory in packs_dirs:
            for pack_dir in _pack_dirs(Path(directory)):
                if pack_dir.resolve() == here:
                    continue
                try:
                    plugins.append(PackPlugin.folder(pack_dir, allow_code=allow_code))
                except PackError as error:
                    failures[str(pack_dir)] = error
        own_code = allow_code or any(_lives_in(p, here) for p in installed)
        found = PackPlugin.folder(folder, allow_code=own_code)
        under_test = PackPlugin(name, found.origin, found.hooks)  # its problems by its name
        registry = cls._assemble([*plugins, under_test], under_test)
        failures.pop(name, None)  # whatever else went by the name, this folder is the pack
        registry.broken.update(failures)
        registry.get(name, judging=False)
        return registry

    @classmethod
    def from_plugins(cls, plugins: Sequence[PackPlugin]) -> PackRegistry:
        """The packs of ``plugins``, each plug-in's hooks applied to its own pack."""
        return cls._assemble(plugins)

    @classmethod
    def _assemble(
        cls, plugins: Sequence[PackPlugin], under_test: PackPlugin | None = None
    ) -> PackRegistry:
        hooks = _Hooks()
        broken: dict[str, PackError] = {}
        for plugin in plugins:
            try:
                hooks.register(plugin)
            except PackError as error:
                broken[plugin.name] = error
        items: list[_Loaded] = []
        for plugin in hooks.plugins:
            try:
                items.append(hooks.read(plugin))
            except PackError as error:
                broken[plugin.name] = error
        if under_test is not None:
            tested = next((i.data.pack.name for i in items if i.plugin is under_test), None)
            items = [i for i in items if i.plugin is under_test or i.data.pack.name != tested]
            if tested is not None:
                broken.pop(tested, None)
        loaded: dict[str, _Loaded] = {}
        for item in items:
            name = item.data.pack.name
            if name in loaded:
                first = loaded.pop(name).plugin.origin
                broken[name] = PackError(
                    [
                        PackProblem(
                            item.plugin.origin,
                            "pack.name",
                            f"pack {name!r} is also provided by {first}",
                            "uninstall one of them, or rename one pack",
                        )
                    ]
                )
                continue
            if name in broken:
                continue
            loaded[name] = item
        packs = _build(loaded, broken, hooks)
        return cls(
            packs,
            {n: loaded[n].source for n in packs},
            {n: loaded[n].plugin.origin for n in packs},
            broken,
        )

    def including(self, pack: RulePack, *, origin: str = "given") -> PackRegistry:
        """A registry with ``pack`` added (e.g. a pack built in a test); its parent must be
        one of these packs, and its name must be new."""
        if pack.name in self._packs:
            problem = PackProblem(origin, "pack.name", f"pack {pack.name!r} is already here",
                                  "rename it")  # fmt: skip
            raise PackError([problem])
        return PackRegistry(
            {**self._packs, pack.name: pack},
            {**self._sources, pack.name: PackSource(Path(pack.file))},
            {**self._origins, pack.name: origin},
            dict(self.broken),
        )

    # -- versions (issue 12) -------------------------------------------------------------
    def judging(
        self,
        held: HeldPacks | None = None,
        judge_under: str = "recorded",
        *,
        pack: RulePack | None = None,
        label: str | None = None,
    ) -> PackRegistry:
        """These packs, with the versions a ledger ``held`` (its pack streams), judging each
        case as ``judge_under`` says (see :attr:`judge_under`); ``pack``: judge the cases of
        its name (and of the packs extending it) under ``pack`` instead, as ``label``
        (a what-if). :class:`UnknownPackVersion` for a version neither installed nor held."""
        chosen = copy.copy(self)
        chosen._held = held if held is not None else self._held
        chosen._rebased = {}
        if pack is not None:
            chosen._override, chosen.judge_under = pack, label or f"{pack.name}@{pack.version}"
        elif judge_under in ("recorded", "installed"):
            chosen._override, chosen.judge_under = None, judge_under
        else:
            chosen._override, chosen.judge_under = chosen.version(judge_under), judge_under
        return chosen

    def version(self, asked: str) -> RulePack:
        """The pack version ``NAME@VERSION``, installed or held (the last first used, if the
        ledger holds two contents under one version)."""
        split = split_version(asked)
        if split is None:
            why = "is not 'recorded', 'installed', nor of the form NAME@VERSION"
            raise UnknownPackVersion(asked, self.known_versions(), why=why)
        name, version = split
        installed = self._packs.get(name)
        if installed is not None and installed.version == version:
            return self.get(name, judging=False)
        held = [p for p in self.held_versions() if p.name == name and p.version == version]
        if held:
            return held[-1]
        raise UnknownPackVersion(asked, self.known_versions())

    def held_versions(self) -> list[RulePack]:
        """The versions the ledger holds, in the order first used (none if not given)."""
        return self._held.versions() if self._held is not None else []

    def known_versions(self) -> list[str]:
        """``NAME@VERSION`` of every installed and held version."""
        found = [f"{p.name}@{p.version}" for p in (*self._packs.values(), *self.held_versions())]
        return sorted(set(found))

    def for_case(self, name: str, content_hash: str | None, version: str | None = None) -> RulePack:
        """The pack a case accepted under ``name`` (version ``version``, content hash
        ``content_hash``) is judged under, as :attr:`judge_under` says. A case accepted before
        versions were recorded (no hash) is judged under the installed version."""
        if self.judge_under == "installed" and self._override is None:
            return self.get(name)
        return self._replaced(self.recorded(name, content_hash, version))

    def recorded(self, name: str, content_hash: str | None, version: str | None = None) -> RulePack:
        """The recorded version ``content_hash`` of pack ``name``: installed if the installed
        pack has that content, else held in the ledger, else :class:`RecordedPackMissing`."""
        if content_hash is None:
            return self.get(name, judging=True, replaced=False)
        installed = self._packs.get(name)
        if installed is not None and installed.content_hash == content_hash:
            return installed
        held = self._held.pack(content_hash) if self._held is not None else None
        if held is None:
            raise RecordedPackMissing(name, version, content_hash)
        return held

    def prepare(self) -> None:
        """Read the held versions now (before forking workers that judge)."""
        self.held_versions()

    def _replaced(self, pack: RulePack) -> RulePack:
        override = self._override
        if override is None:
            return pack
        known = self._rebased.get(pack.content_hash)
        if known is None:
            known = self._rebased[pack.content_hash] = rebased(pack, override) or pack
        return known

    # -- questions -----------------------------------------------------------------------
    def names(self) -> list[str]:
        return sorted(self._packs)

    def __contains__(self, name: object) -> bool:
        return name in self._packs

    def __iter__(self) -> Iterator[RulePack]:
        return iter(self._packs[n] for n in self.names())

    def check_day(self, day: dt.date) -> None:
        """Refuse a day outside the range every pack's working-day calendar knows (the board,
        statistics and scores of a day span the packs) with :class:`CalendarRangeError`."""
        first, last = dt.date.min, dt.date.max
        for pack in self:
            first = max(first, pack.calendar.first_day)
            last = min(last, pack.calendar.last_day)
        if not first <= day <= last:
            raise CalendarRangeError(day, first, last)

    def get(self, name: str, *, judging: bool = True, replaced: bool = True) -> RulePack:
        """The pack called ``name``, to judge cases by; its :class:`PackError` if it is
        broken, and :class:`PackParameterMissing` if a parameter of it has no value.
        ``judging=False``: the pack even so, to list, show, validate or test it. A pack not
        installed but held by the ledger (:meth:`judging`) is its version last first used;
        under a what-if (``replaced``), it is rebased on the pack put in its place."""
        if name in self._packs:
            pack = self._packs[name]
            missing = pack.missing_parameters
            if judging and missing:
                declared = {n: pack.parameters[n].declared_in for n in missing}
                raise PackParameterMissing(name, declared)
            return self._replaced(pack) if judging and replaced else pack
        held = [p for p in self.held_versions() if p.name == name]
        if held and name not in self.broken:
            return self._replaced(held[-1]) if judging and replaced else held[-1]
        if name in self.broken:
            raise self.broken[name]
        raise UnknownRulePack(name, self.names())

    def source(self, name: str) -> PackSource:
        self.get(name, judging=False)
        return self._sources[name]

    def origin(self, name: str) -> str:
        self.get(name, judging=False)
        return self._origins[name]


def _lives_in(plugin: PackPlugin, folder: Path) -> bool:
    """Whether ``plugin`` is a module whose file is in ``folder``, or the same code: the
    folder's code files are those of the installed plug-in's folder, byte for byte (a
    checkout of a pack that is installed from a wheel)."""
    file = getattr(plugin.hooks, "__file__", None)
    if not isinstance(file, str):
        return False
    installed = Path(file).resolve().parent
    if installed == folder:
        return True
    code = [name for name in CODE_FILES if (folder / name).is_file()]
    return bool(code) and all(
        (installed / name).is_file()
        and (installed / name).read_bytes() == (folder / name).read_bytes()
        for name in code
    )


def _pack_dirs(directory: Path) -> list[Path]:
    if (directory / "pack.toml").is_file():
        return [directory]
    if not directory.is_dir():
        raise PackError([PackProblem(str(directory), "", "no such directory", "check the path")])
    found = sorted(p.parent for p in directory.glob("*/pack.toml"))
    if not found:
        raise PackError(
            [PackProblem(str(directory), "", "holds no pack.toml", "point at a pack folder")]
        )
    return found


def _hooks_digest(plugin: PackPlugin) -> str:
    if not isinstance(plugin.hooks, ModuleType):
        return ""
    try:
        path = inspect.getsourcefile(plugin.hooks)
    except TypeError:
        return ""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else ""


def _build(
    loaded: dict[str, _Loaded], broken: dict[str, PackError], hooks: _Hooks
) -> dict[str, RulePack]:
    packs: dict[str, RulePack] = {}

    def build(name: str, chain: tuple[str, ...]) -> RulePack | None:
        if name in packs:
            return packs[name]
        if name in broken or name not in loaded:
            return None
        item = loaded[name]
        file = str(item.source.path)
        parent_name = item.data.pack.extends
        parent = None
        if parent_name is not None:
            if parent_name in chain:
                cycle = " → ".join((*chain, parent_name))
                broken[name] = PackError(
                    [
                        PackProblem(
                            file, "pack.extends", f"extends itself: {cycle}", "break the cycle"
                        )
                    ]
                )
                return None
            parent = build(parent_name, (*chain, name))
            if parent is None:
                why = "is broken" if parent_name in broken else "is not installed"
                broken[name] = PackError(
                    [
                        PackProblem(
                            file,
                            "pack.extends",
                            f"extends {parent_name!r}, which {why}",
                            f"install {parent_name!r}, or fix the name; installed: "
                            f"{', '.join(sorted(loaded))}",
                        )
                    ]
                )
                return None
        pack = RulePack(item.data, file, parent, hooks_digest=_hooks_digest(item.plugin))
        try:
            problems = check_pack(pack) + hooks.check(item.plugin, pack, file)
        except PackError as error:
            problems = error.problems
        if problems:
            broken[name] = PackError(problems)
            return None
        packs[name] = pack
        return pack

    for name in sorted(loaded):
        build(name, ())
    return packs
