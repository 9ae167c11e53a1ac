"""The run's settings, resolved once: CLI flags over a preset over the defaults.

Every hook that takes ``options`` gets the same frozen :class:`StageOptions`: typed fields for
the settings the core knows, and ``extra`` for everything else (options plugins add through
``add_options``, other CLI values). A plugin option also reads as an attribute
(``options.shout``), as it would on argparse's namespace.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from .devices import parse_device
from .errors import UsageError
from .keep import DEFAULT_KEEP, keep_policy

DEFAULT_ENGINE = "easyocr"
#: Crops whose text is lower than this many page pixels are restored.
DEFAULT_MIN_HEIGHT = 24
DEFAULT_DEVICE = "cpu"

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class StageOptions:
    """The settings of one run, as hooks see them (``options``).

    ``restorer`` is None until the stage is built; then it is the restorer actually used (the
    user's choice, else the engine's preferred one, else the package default).
    """

    engine: str = DEFAULT_ENGINE
    restorer: str | None = None
    min_height: float = DEFAULT_MIN_HEIGHT
    device: str = DEFAULT_DEVICE
    keep: str = DEFAULT_KEEP
    compare: bool = False
    engine_options: Mapping[str, Any] = field(default_factory=dict)
    restorer_options: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        for name in ("engine_options", "restorer_options", "extra"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        check_min_height(self.min_height)
        object.__setattr__(self, "device", str(parse_device(self.device, check=False)))
        keep_policy(self.keep)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not fields: plugin options live in ``extra``.
        extra = self.__dict__.get("extra", _EMPTY)
        if name in extra:
            return extra[name]
        raise AttributeError(f"no option {name!r} (known: {', '.join(sorted(_FIELDS | set(extra)))})")

    def replace(self, **changes: Any) -> "StageOptions":
        return dataclasses.replace(self, **changes)


_FIELDS = {f.name for f in dataclasses.fields(StageOptions)}
#: Keys a preset (``presets/NAME.yaml``) may set.
PRESET_KEYS = frozenset({"engine", "restorer", "min_height", "keep", "device", "engine_options",
                         "restorer_options", "description"})


def check_min_height(value: Any) -> None:
    """A number >= 0 (``inf`` restores every crop, as the evaluation does); UsageError if not."""
    try:
        ok = value is not None and not math.isnan(float(value)) and float(value) >= 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise UsageError(f"min_height must be a number >= 0, got {value!r}")


def resolve_options(flags: Mapping[str, Any] | None = None, preset: Mapping[str, Any] | None = None,
                    **values: Any) -> StageOptions:
    """Build the run's :class:`StageOptions`.

    Args:
        flags: CLI values (``vars(args)``) or keyword settings; a ``None`` value means "not
            given". Keys that are not fields go to ``extra``.
        preset: a loaded preset (see :mod:`sgenet_ocr.presets`).
        values: more flags (they win over ``flags``).

    Returns:
        The options: each field from the flags, else the preset, else its default.
        ``engine_options`` and ``restorer_options`` merge key by key (flags win).
    """
    given = {**(flags or {}), **values}
    preset = dict(preset or {})
    resolved: dict[str, Any] = {}
    for name in ("engine", "restorer", "min_height", "device", "keep", "compare"):
        value = given.get(name)
        if value is None:
            value = preset.get(name)
        if value is not None:
            resolved[name] = value
    for name in ("engine_options", "restorer_options"):
        resolved[name] = {**(preset.get(name) or {}), **(given.get(name) or {})}
    resolved["extra"] = {k: v for k, v in given.items() if k not in _FIELDS}
    return StageOptions(**resolved)


def parse_key_value(items: list[str] | tuple[str, ...], flag: str) -> dict[str, Any]:
    """``KEY=VALUE`` strings (a repeatable flag) as a dict; values are read as JSON when they
    parse (numbers, true/false, lists), else kept as text."""
    import json

    out: dict[str, Any] = {}
    for item in items or ():
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"{flag} expects KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out
