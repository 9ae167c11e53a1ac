"""The run's settings, resolved once: CLI flags over a preset over the defaults.

Every hook that takes ``options`` gets the same frozen :class:`StageOptions`: typed fields for
the settings the core knows, and ``extra`` for everything else (options plugins add through
``add_options``, other CLI values). A plugin option also reads as an attribute
(``options.shout``), as it would on argparse's namespace.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from .devices import parse_device
from .errors import UsageError
from .hardware import physical_cores
from .keep import DEFAULT_KEEP, keep_policy

DEFAULT_ENGINE = "easyocr"
#: Crops whose text is lower than this many page pixels are restored.
DEFAULT_MIN_HEIGHT = 24
DEFAULT_DEVICE = "cpu"


def default_threads() -> int:
    """Half the physical cores (1 on a 2-core machine). Not one per core: torch's threads wait
    for each other, so one core taken by another job made restoring a page 18x slower (README,
    "Threads")."""
    return max(1, physical_cores() // 2)

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class StageOptions:
    """The settings of one run, as hooks see them (``options``).

    ``restorer`` is None until the stage is built; then it is the restorer actually used (the
    user's choice, else the engine's preferred one, else the package default). ``threads``: CPU
    threads of the torch and onnxruntime work the stage owns (None: :func:`default_threads`).
    """

    engine: str = DEFAULT_ENGINE
    restorer: str | None = None
    min_height: float = DEFAULT_MIN_HEIGHT
    device: str = DEFAULT_DEVICE
    keep: str = DEFAULT_KEEP
    compare: bool = False
    #: Let the engine's own recognition pass stand in for SGENet's prior when the engine's
    #: recogniser is that prior (RapidOCR, PaddleOCR): same guidance, one network run less.
    engine_prior: bool = True
    #: Keep an original reading at least this confident without restoring the crop (keep
    #: policies that read the original); None: the engine's ``trusted_confidence``.
    trust: float | None = None
    threads: int | None = None
    engine_options: Mapping[str, Any] = field(default_factory=dict)
    restorer_options: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        for name in ("engine_options", "restorer_options", "extra"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        check_min_height(self.min_height)
        if self.trust is not None:
            check_trust(self.trust)
        object.__setattr__(self, "threads", default_threads() if self.threads is None else self.threads)
        check_threads(self.threads)
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
PRESET_KEYS = frozenset({"engine", "restorer", "min_height", "keep", "device", "threads", "engine_prior", "trust",
                         "engine_options",
                         "restorer_options", "description"})


def check_min_height(value: Any, where: str = "") -> None:
    """A number >= 0 (``inf`` restores every crop, as the evaluation does); UsageError if not.

    Text (``"20"``) and booleans (``true`` would read as 1) are refused, not converted."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        ok = not math.isnan(float(value)) and float(value) >= 0
    if not ok:
        raise UsageError(f"{where}min_height must be a number >= 0, got {value!r}")


def check_trust(value: Any, where: str = "") -> None:
    """A confidence: a number >= 0 (above 1 trusts nothing); UsageError if not."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(float(value))
    if not ok or float(value) < 0:
        raise UsageError(f"{where}trust must be a confidence >= 0 (above 1: restore every small crop), got {value!r}")


def check_count(value: Any, name: str, where: str = "") -> int:
    """A whole number >= 1 (threads, batch sizes, buckets), returned; UsageError naming ``name``
    if not: text and booleans are refused, not converted, and 0 is not quietly taken as 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise UsageError(f"{where}{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def check_threads(value: Any, where: str = "") -> None:
    check_count(value, "threads", where)


#: Settings given by name: a preset's or a caller's value must be text.
_NAME_KEYS = ("engine", "restorer", "keep", "device")
_OPTION_KEYS = ("engine_options", "restorer_options")
_SWITCH_KEYS = ("compare", "engine_prior")


def check_settings(values: Mapping[str, Any], where: str = "", names: tuple[str, ...] = _NAME_KEYS) -> None:
    """The types of the settings in ``values`` (a preset or keyword settings; ``None`` means
    "not given"): UsageError naming the key, prefixed by ``where``, for a value of the wrong type.
    ``names``: the keys whose value must be text (Python callers may also pass a ``KeepPolicy``
    or a ``torch.device``, checked by their own parsers)."""
    for key in names:
        value = values.get(key)
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{where}{key} must be a name (text), got {value!r}")
    if values.get("min_height") is not None:
        check_min_height(values["min_height"], where)
    if values.get("threads") is not None:
        check_threads(values["threads"], where)
    if values.get("trust") is not None:
        check_trust(values["trust"], where)
    for key in _SWITCH_KEYS:
        if values.get(key) is not None and not isinstance(values[key], bool):
            raise UsageError(f"{where}{key} must be true or false, got {values[key]!r}")
    for key in _OPTION_KEYS:
        value = values.get(key)
        if value is None:
            continue
        if not isinstance(value, Mapping) or not all(isinstance(k, str) and k for k in value):
            raise UsageError(f"{where}{key} must be a mapping of option names to values "
                             f"(e.g. {{batch_size: 8}}), got {value!r}")


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
    check_settings(given, names=("engine", "restorer"))
    check_settings(preset, "preset: ")
    resolved: dict[str, Any] = {}
    for name in ("engine", "restorer", "min_height", "device", "keep", "threads", "trust", *_SWITCH_KEYS):
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
