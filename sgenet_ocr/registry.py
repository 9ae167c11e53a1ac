"""Name -> factory registries owned by the host, filled through the ``register_*`` hooks."""
from __future__ import annotations

import inspect
import numbers
from typing import Any, Callable, Mapping

from .errors import PluginError, UsageError, blame_plugin


def check_options(target: Callable[..., Any], options: Mapping[str, Any], what: str,
                  kwargs_defaults: Mapping[str, Any] | None = None) -> None:
    """UsageError naming each option ``target`` (a factory or a class) does not take, and the
    ones it does, from its signature; and an option whose value is not of its default's kind
    (see :func:`check_option_types`; ``kwargs_defaults``: the defaults of the options it takes
    through ``**kwargs``). A target that takes ``**kwargs`` accepts any other name here: a
    factory that passes them on checks them against what it calls (``check_options(Cls, ...)``)."""
    try:
        params = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):  # a builtin or C callable without a signature
        return
    named = {p.name: p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    unknown = sorted(set(options) - set(named))
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in params):
        listed = ", ".join(repr(u) for u in unknown)
        raise UsageError(f"unknown {what} option{'s' if len(unknown) > 1 else ''} {listed}; "
                         f"known: {', '.join(sorted(named)) or 'none'}")
    defaults = {k: p.default for k, p in named.items() if p.default is not p.empty}
    check_option_types({**(kwargs_defaults or {}), **defaults}, options, what)


def _kind_of(default: Any) -> tuple[type, str] | None:
    """What a value must be to stand for ``default``; None where that cannot be told (a bool
    default may stand for more, e.g. ``weights=True`` also takes a path)."""
    if isinstance(default, bool):
        return None
    if isinstance(default, int):
        return numbers.Integral, "a whole number"
    if isinstance(default, float):
        return numbers.Real, "a number"
    if isinstance(default, str):
        return str, "text"
    return None


def check_option_types(defaults: Mapping[str, Any], options: Mapping[str, Any], what: str) -> None:
    """UsageError naming an option whose value is not the kind of its default (a number where
    the default is one, text where it is text): ``batch_size="x"`` fails here, before a model loads."""
    for name, value in options.items():
        kind = _kind_of(defaults.get(name))
        if kind and (isinstance(value, bool) or not isinstance(value, kind[0])):
            raise UsageError(f"{what} option {name} must be {kind[1]}, got {value!r}")


def refused_option(exc: BaseException, options: Mapping[str, Any]) -> str | None:
    """The option a factory's TypeError or ValueError is about: the one whose value the message
    quotes (``int('x')``: "invalid literal ... 'x'"). None for any other error: a plugin's own
    bug stays its own."""
    if not isinstance(exc, (TypeError, ValueError)):
        return None
    message = str(exc)
    for name, value in options.items():
        if isinstance(value, (str, list, dict)) and repr(value) in message:
            return name
    return None


def takes_option(factory: Callable[..., Any], name: str) -> bool:
    """Whether ``factory`` declares the option ``name`` (not just ``**kwargs``)."""
    try:
        return name in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


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

    def with_threads(self, name: str, options: Mapping[str, Any], threads: int) -> dict[str, Any]:
        """``options`` plus the run's ``threads`` where the named factory declares that option
        and the user set none (a factory without it runs no thread pool of its own)."""
        if "threads" in options or not takes_option(self.factory(name), "threads"):
            return dict(options)
        return {**options, "threads": threads}

    def create(self, name: str, **options: Any) -> Any:
        """Build the named object; errors inside the factory are attributed to its plugin, but
        an option the factory does not take, or refuses the value of, is the user's error
        (UsageError naming it). A factory that returns None is its plugin's error."""
        factory = self.factory(name)
        what, owner = f"{self.kind} {name!r}", self._owners[name]
        check_options(factory, options, what)
        with blame_plugin(owner, f"the {what} factory"):
            try:
                made = factory(**options)
            except (TypeError, ValueError) as exc:
                option = refused_option(exc, options)
                if option is None:
                    raise
                raise UsageError(f"{what} option {option}={options[option]!r} was refused: "
                                 f"{type(exc).__name__}: {exc}") from exc
        if made is None:
            raise PluginError(f"plugin {owner!r}: the {what} factory returned None instead of an object")
        return made
