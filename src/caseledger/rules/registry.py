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
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import inspect
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pluggy

from caseledger.errors import PackError, PackParameterMissing, PackProblem, UnknownRulePack
from caseledger.rules import hookspecs
from caseledger.rules.loader import read_pack_file
from caseledger.rules.model import PackData
from caseledger.rules.pack import RulePack
from caseledger.rules.validation import check_pack

__all__ = ["ENTRY_POINT_GROUP", "PackRegistry", "PackSource"]

ENTRY_POINT_GROUP = "caseledger.rulepacks"


@dataclass(frozen=True)
class PackSource:
    """Where a plug-in's pack is: its ``pack.toml`` and its scenario files."""

    path: Path
    scenarios: Path | None = None

    @property
    def scenario_dir(self) -> Path:
        return self.scenarios or self.path.parent / "scenarios"


@dataclass(frozen=True)
class _Plugin:
    name: str
    origin: str
    module: object


@dataclass(frozen=True)
class _Loaded:
    plugin: _Plugin
    source: PackSource
    data: PackData


class PackRegistry:
    """The rule packs available to a ledger, by name."""

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

    # -- discovery -----------------------------------------------------------------------
    @classmethod
    def discover(
        cls, directories: Iterable[Path] = (), *, entry_points: bool = True
    ) -> PackRegistry:
        """Every pack installed (entry points) and in ``directories``."""
        plugins: list[_Plugin] = []
        failures: dict[str, PackError] = {}
        if entry_points:
            plugins, failures = entry_point_plugins()
        for directory in directories:
            for pack_dir in _pack_dirs(Path(directory)):
                try:
                    plugins.append(_directory_plugin(pack_dir))
                except PackError as error:
                    failures[str(pack_dir)] = error
        registry = cls.from_plugins(plugins)
        registry.broken.update(failures)
        return registry

    @classmethod
    def from_plugins(cls, plugins: Sequence[_Plugin]) -> PackRegistry:
        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        broken: dict[str, PackError] = {}
        usable: list[_Plugin] = []
        for plugin in plugins:
            try:
                manager.register(plugin.module, name=f"{plugin.name} ({plugin.origin})")
                _check_hook_names(plugin)
                usable.append(plugin)
            except (ValueError, pluggy.PluginValidationError) as error:
                message = getattr(error, "message", str(error))
                broken[plugin.name] = PackError(
                    [PackProblem(plugin.origin, "", message, "fix the hook's name or signature")]
                )
        loaded: dict[str, _Loaded] = {}
        for plugin in usable:
            try:
                item = _load(plugin)
            except PackError as error:
                broken[plugin.name] = error
                continue
            name = item.data.pack.name
            if name in loaded:
                first = loaded.pop(name).plugin.origin
                broken[name] = PackError(
                    [
                        PackProblem(
                            plugin.origin,
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
        packs = _build(loaded, broken)
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

    # -- questions -----------------------------------------------------------------------
    def names(self) -> list[str]:
        return sorted(self._packs)

    def __contains__(self, name: object) -> bool:
        return name in self._packs

    def __iter__(self) -> Iterator[RulePack]:
        return iter(self._packs[n] for n in self.names())

    def get(self, name: str, *, judging: bool = True) -> RulePack:
        """The pack called ``name``, to judge cases by; its :class:`PackError` if it is
        broken, and :class:`PackParameterMissing` if a parameter of it has no value.
        ``judging=False``: the pack even so, to list, show, validate or test it."""
        if name in self._packs:
            pack = self._packs[name]
            missing = pack.missing_parameters
            if judging and missing:
                declared = {n: pack.parameters[n].declared_in for n in missing}
                raise PackParameterMissing(name, declared)
            return pack
        if name in self.broken:
            raise self.broken[name]
        raise UnknownRulePack(name, self.names())

    def source(self, name: str) -> PackSource:
        self.get(name, judging=False)
        return self._sources[name]

    def origin(self, name: str) -> str:
        self.get(name, judging=False)
        return self._origins[name]


def entry_point_plugins() -> tuple[list[_Plugin], dict[str, PackError]]:
    """The installed plug-ins, and those that cannot be imported (a broken plug-in must not
    break the others)."""
    plugins: list[_Plugin] = []
    failures: dict[str, PackError] = {}
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {point.name} = {point.value}"
        try:
            plugins.append(_Plugin(point.name, origin, point.load()))
        except Exception as error:
            failures[point.name] = PackError(
                [PackProblem(origin, "", f"cannot be imported: {error}", "reinstall it")]
            )
    return plugins, failures


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


def _directory_plugin(pack_dir: Path) -> _Plugin:
    origin = f"directory {pack_dir}"
    hooks_file = next(
        (f for f in (pack_dir / "hooks.py", pack_dir / "__init__.py") if f.is_file()), pack_dir
    )
    module: Any
    if hooks_file.is_file():
        name = f"caseledger_dirpack_{hashlib.sha256(str(pack_dir).encode()).hexdigest()[:12]}"
        spec = importlib.util.spec_from_file_location(name, hooks_file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            raise PackError(
                [PackProblem(str(hooks_file), "", f"cannot be imported: {error}", "fix the code")]
            ) from error
    else:
        module = SimpleNamespace(__name__=f"pack directory {pack_dir}")
    if not hasattr(module, "caseledger_rulepack"):

        @hookspecs.hookimpl
        def caseledger_rulepack() -> PackSource:
            return PackSource(pack_dir / "pack.toml")

        module.caseledger_rulepack = caseledger_rulepack
    return _Plugin(pack_dir.name, origin, module)


def _check_hook_names(plugin: _Plugin) -> None:
    known = {n for n in dir(hookspecs) if n.startswith("caseledger_")}
    for name in dir(plugin.module):
        if name.startswith("caseledger_") and name not in known:
            raise ValueError(
                f"hook {name!r} is not a caseledger hook; known hooks: {', '.join(sorted(known))}"
            )
    if not hasattr(plugin.module, "caseledger_rulepack"):
        raise ValueError("a rule pack plug-in must implement caseledger_rulepack()")


def _call(plugin: _Plugin, hook: str, **kwargs: Any) -> Any:
    function = getattr(plugin.module, hook, None)
    return None if function is None else function(**kwargs)


def _load(plugin: _Plugin) -> _Loaded:
    source = _call(plugin, "caseledger_rulepack")
    if not isinstance(source, PackSource):
        raise PackError(
            [
                PackProblem(
                    plugin.origin,
                    "caseledger_rulepack",
                    f"returned {type(source).__name__}, not a PackSource",
                    "return caseledger.rules.PackSource(path_to_pack_toml)",
                )
            ]
        )
    data = read_pack_file(source.path)
    extra = _call(plugin, "caseledger_items", pack=data.pack)
    if extra:
        data = read_pack_file(source.path, extra_items=extra)
    return _Loaded(plugin, source, data)


def _hooks_digest(plugin: _Plugin) -> str:
    if not isinstance(plugin.module, ModuleType):
        return ""
    try:
        path = inspect.getsourcefile(plugin.module)
    except TypeError:
        return ""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else ""


def _build(loaded: dict[str, _Loaded], broken: dict[str, PackError]) -> dict[str, RulePack]:
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
        problems = check_pack(pack)
        for message in _call(item.plugin, "caseledger_check_pack", pack=pack) or []:
            problems.append(PackProblem(file, "caseledger_check_pack", str(message)))
        if problems:
            broken[name] = PackError(problems)
            return None
        packs[name] = pack
        return pack

    for name in sorted(loaded):
        build(name, ())
    return packs
