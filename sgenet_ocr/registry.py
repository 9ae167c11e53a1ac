"""Name -> factory registries owned by the host, filled through the ``register_*`` hooks."""
from __future__ import annotations

from typing import Any, Callable

from .errors import PluginError, UsageError, blame_plugin


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
        """Build the named object; errors inside the factory are attributed to its plugin."""
        factory = self.factory(name)
        with blame_plugin(self._owners[name], f"the {self.kind} {name!r} factory"):
            return factory(**options)
