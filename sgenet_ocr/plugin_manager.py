"""Builds the pluggy plugin manager: built-ins, entry points, then ``--plugin`` arguments."""
from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Iterable

import pluggy

from . import hookspecs
from .errors import PluginError, UsageError, blame_plugin
from .hookspecs import PROJECT, hookimpl  # noqa: F401 - hookimpl: kept importable from here
from .registry import Registry

ENTRY_POINT_GROUP = "sgenet_ocr"
BUILTIN_PLUGINS = ("sgenet_ocr.builtin",)


class PluginHost:
    """Owns the pluggy manager and the engine and restorer registries."""

    def __init__(self, plugins: Iterable[str] = (), entry_points: bool = True):
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        for name in BUILTIN_PLUGINS:
            self._register_module(importlib.import_module(name), name)
        if entry_points:
            self._load_entry_points()
        for spec in plugins:
            self.load(spec)
        self._check_pending()
        self.engines = Registry("engine")
        self.restorers = Registry("restorer")
        self._fill(self.engines, "register_engines")
        self._fill(self.restorers, "register_restorers")

    def _check_pending(self) -> None:
        """Hook implementations must match a hookspec (catches typos in plugins)."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self.pm.get_name(exc.plugin) if exc.plugin is not None else "?"
            raise PluginError(f"plugin {name!r} implements a hook that does not exist: {exc}") from None

    @property
    def hook(self):
        return self.pm.hook

    def plugin_names(self) -> list[str]:
        return sorted(name for name, _ in self.pm.list_name_plugin())

    def load(self, spec: str) -> None:
        """Load a plugin from a ``.py`` path or an importable module name (idempotent)."""
        path = Path(spec)
        if path.is_file() and path.suffix != ".py":
            raise UsageError(f"plugin {spec!r} is not a Python file: name a .py file or an importable module")
        if path.is_dir() and not all(part.isidentifier() for part in spec.split(".")):
            raise UsageError(f"plugin {spec!r} is a folder: name a .py file or an importable module")
        if spec.endswith(".py") or path.is_file():
            if not path.is_file():
                raise UsageError(f"plugin file not found: {spec}")
            key = str(path.resolve())
            if self.pm.get_plugin(key) is not None:
                return
            module_name = f"sgenet_ocr_plugin_{abs(hash(key)):x}"
            try:
                spec_obj = importlib.util.spec_from_file_location(module_name, path)
                module = importlib.util.module_from_spec(spec_obj)
                spec_obj.loader.exec_module(module)
            except Exception as exc:  # noqa: BLE001
                raise PluginError(f"plugin {spec!r} failed to load: {type(exc).__name__}: {exc}") from None
            self._register_module(module, key)
            return
        try:
            module = importlib.import_module(spec)
        except ModuleNotFoundError as exc:
            if exc.name == spec.split(".")[0] or exc.name == spec:
                raise UsageError(f"plugin {spec!r} not found: not a .py file or importable module") from None
            raise PluginError(f"plugin {spec!r} failed to load: {exc}") from None
        except Exception as exc:  # noqa: BLE001
            raise PluginError(f"plugin {spec!r} failed to load: {type(exc).__name__}: {exc}") from None
        if getattr(module, "__file__", None) is None:  # a plain folder imports as a namespace package
            raise UsageError(f"plugin {spec!r} is a folder without __init__.py, not a plugin module: "
                             "name a .py file or an importable module")
        self._register_module(module, spec)

    def _register_module(self, module, name: str) -> None:
        # The same module reached twice (entry point and --plugin, or two --plugin) is fine.
        if self.pm.is_registered(module) or self.pm.get_plugin(name) is not None:
            return
        try:
            self.pm.register(module, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {name!r} is invalid: {exc}") from None

    def _load_entry_points(self) -> None:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if self.pm.get_plugin(ep.name) is not None or self.pm.is_blocked(ep.name):
                continue
            try:
                module = ep.load()
            except Exception as exc:  # noqa: BLE001
                raise PluginError(
                    f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}"
                ) from None
            self._register_module(module, ep.name)

    def _fill(self, registry: Registry, hook_name: str) -> None:
        caller = getattr(self.pm.hook, hook_name)
        for impl in caller.get_hookimpls():
            def register(name, factory, _owner=impl.plugin_name):
                registry.register(name, factory, owner=_owner)
            with blame_plugin(impl.plugin_name, hook_name):
                impl.function(register=register)

    def culprit(self, exc: BaseException) -> str:
        """The innermost plugin whose code is in ``exc``'s traceback ("?" if none is)."""
        files = {getattr(plugin, "__file__", None): name for name, plugin in self.pm.list_name_plugin()}
        culprit = "?"
        tb = exc.__traceback__
        while tb is not None:
            culprit = files.get(tb.tb_frame.f_code.co_filename, culprit)
            tb = tb.tb_next
        return culprit

    def call(self, hook_name: str, **kwargs):
        """Call a hook; an exception in a plugin becomes a PluginError naming that plugin."""
        with blame_plugin(self.culprit, hook_name):
            return getattr(self.pm.hook, hook_name)(**kwargs)


@functools.lru_cache(maxsize=8)
def shared_host(plugins: tuple[str, ...] = ()) -> PluginHost:
    """One host per plugin list for the process: :func:`sgenet_ocr.attach` calls reuse it
    instead of loading every plugin again."""
    return PluginHost(plugins)
