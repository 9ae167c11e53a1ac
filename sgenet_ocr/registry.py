"""Name -> factory registries owned by the host, filled through the ``register_*`` hooks."""
from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping

from .errors import PluginError, UsageError, blame_plugin


def check_options(target: Callable[..., Any], options: Mapping[str, Any], what: str) -> None:
    """UsageError naming each option ``target`` (a factory or a class) does not take, and the
    ones it does, from its signature. A target that takes ``**kwargs`` accepts anything here: a
    factory that passes them on checks them against what it calls (``check_options(Cls, ...)``)."""
    try:
        params = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):  # a builtin or C callable without a signature
        return
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    known = sorted(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    unknown = sorted(set(options) - set(known))
    if unknown:
        listed = ", ".join(repr(u) for u in unknown)
        raise UsageError(f"unknown {what} option{'s' if len(unknown) > 1 else ''} {listed}; "
                         f"known: {', '.join(known) or 'none'}")


class Registry:
    """Named factories of one kind ("engine", "restorer"); the host picks one by name."""

    def __init__(self, kind: str):
        self.kind = kind
        self._factories: dict[str, Callable[..., Any]] = {}
        self._owners: dict[str, str] = {}

    def register(self, name: str, factory: Callable[..., Any], owner: str = "?") -> None:
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {owner!r} registered a {self.kind} with an empty name")
        known = self._factories.get(name)
        if known is not None and known is not factory:
            raise PluginError(
                f"{self.kind} {name!r} is registered by both {self._owners[name]!r} and {owner!r}"
            )
        self._factories[name] = factory
        self._owners[name] = owner

    def names(self) -> list[str]:
        return sorted(self._factories)

    def owner(self, name: str) -> str:
        return self._owners[name]

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def factory(self, name: str) -> Callable[..., Any]:
        try:
            return self._factories[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise UsageError(f"unknown {self.kind} {name!r}; known {self.kind}s: {known}") from None

    def create(self, name: str, **options: Any) -> Any:
        """Build the named object; errors inside the factory are attributed to its plugin, but
        an option the factory does not take is the user's error (UsageError naming it)."""
        factory = self.factory(name)
        check_options(factory, options, f"{self.kind} {name!r}")
        with blame_plugin(self._owners[name], f"the {self.kind} {name!r} factory"):
            return factory(**options)
