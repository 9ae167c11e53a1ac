"""``hook(obj)`` / ``unhook(obj)``: put the restoration stage inside a user's own engine object."""
from __future__ import annotations

from typing import Iterable, TypeVar

from .errors import UsageError
from .pipeline import DEFAULT_MIN_HEIGHT, build_stage
from .plugin_manager import PluginHost

T = TypeVar("T")
_ATTR = "_sgenet_ocr_unhook"


def hook(target: T, restorer: str | None = None, min_height: float = DEFAULT_MIN_HEIGHT,
         device: str = "cpu", plugins: Iterable[str] = ()) -> T:
    """Make ``target`` (e.g. an ``easyocr.Reader``) restore small crops before recognising them.

    The user's own calls (``reader.readtext(...)``) keep their signature and output format.
    Hooking an already hooked object replaces the earlier stage. Returns ``target``; its
    stage (with running ``stats``) is at ``target._sgenet_ocr_stage``. A hooked engine always
    reads the restored crop: :class:`~sgenet_ocr.pipeline.Pipeline`'s ``keep="confident"``
    needs a second recognition that happens outside the engine's own call.
    """
    host = PluginHost(plugins)
    stage = build_stage(host, restorer, min_height, device)
    unhook(target)
    undo = host.hook.hook_engine_object(target=target, stage=stage)
    if undo is None:
        # Engine plugins name the types they can hook in a module-level HOOKABLE_TYPES.
        known = sorted(t for _, plugin in host.pm.list_name_plugin() for t in getattr(plugin, "HOOKABLE_TYPES", ()))
        raise UsageError(
            f"no plugin knows how to hook a {type(target).__module__}.{type(target).__qualname__}; "
            f"supported: {', '.join(known) or 'none'}"
        )
    setattr(target, _ATTR, undo)
    setattr(target, "_sgenet_ocr_stage", stage)
    return target


def unhook(target: T) -> T:
    """Undo :func:`hook`; a no-op for objects that are not hooked."""
    undo = getattr(target, _ATTR, None)
    if undo is not None:
        undo()
        for attr in (_ATTR, "_sgenet_ocr_stage"):
            try:
                delattr(target, attr)
            except AttributeError:
                pass
    return target
