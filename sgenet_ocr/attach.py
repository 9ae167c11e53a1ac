"""``attach(obj)`` / ``detach(obj)``: put the restoration stage inside a user's own engine object.

("Hook" is kept for pluggy's hooks; ``sgenet_ocr.hook`` and ``unhook`` remain as the
documented aliases of :func:`attach` and :func:`detach`.) Engine plugins implement the
``attach_stage`` hook, in their ``attach.py``, for the object types they know.
"""
from __future__ import annotations

from typing import Iterable, TypeVar

from .errors import UsageError
from .options import DEFAULT_MIN_HEIGHT, resolve_options
from .plugin_manager import PluginHost, shared_host
from .stage import build_stage, check_stage_settings

T = TypeVar("T")
_UNDO = "_sgenet_ocr_unhook"
_STAGE = "_sgenet_ocr_stage"


def attach(target: T, restorer: str | None = None, min_height: float = DEFAULT_MIN_HEIGHT,
           device: str = "cpu", plugins: Iterable[str] = (), host: PluginHost | None = None,
           threads: int | None = None, **restorer_options) -> T:
    """Make ``target`` (e.g. an ``easyocr.Reader``) restore small crops before recognising them.

    The user's own calls (``reader.readtext(...)``) keep their signature and output format.
    Attaching to an object that already has a stage replaces it. Returns ``target``; its stage
    (with running ``stats``) is at ``target._sgenet_ocr_stage``. An attached engine always
    reads the restored crop: :class:`~sgenet_ocr.pipeline.Pipeline`'s ``keep="confident"``
    needs a second recognition that happens outside the engine's own call.
    ``restorer_options`` go to the restorer's factory (e.g. ``weights=``); ``threads`` as for
    :class:`~sgenet_ocr.pipeline.Pipeline` (the restorer's; torch's setting is process-wide).
    """
    host = host or shared_host(tuple(plugins))
    kind = f"{type(target).__module__}.{type(target).__qualname__}"
    # Hooks see the user's object type as the engine: no engine of ours runs here.
    options = resolve_options(engine=kind, restorer=restorer, min_height=min_height, device=device,
                              threads=threads, restorer_options=restorer_options)
    check_stage_settings(host, options)  # the cheap checks first, as Pipeline does
    _check_attachable(host, target, kind)  # and the type, before the restorer loads (seconds for sgenet)
    # The defaults of our engine for this object type (preferred restorer, matched weights).
    stage = build_stage(host, options, host.call("attached_engine", target=target))
    detach(target)
    undo = host.call("attach_stage", target=target, stage=stage)
    if undo is None:
        stage.restorer.close()
        # Engine plugins name the types they can attach to in a module-level ATTACHABLE_TYPES.
        known = sorted(t for _, plugin in host.pm.list_name_plugin() for t in getattr(plugin, "ATTACHABLE_TYPES", ()))
        raise _unsupported(kind, known)
    setattr(target, _UNDO, undo)
    setattr(target, _STAGE, stage)
    return target


def _declared_types(host) -> list[str] | None:
    """The types named in the ATTACHABLE_TYPES of every plugin implementing ``attach_stage``,
    or None when one of them does not declare its types (then only the hook can tell)."""
    names: list[str] = []
    for impl in host.pm.hook.attach_stage.get_hookimpls():
        declared = getattr(impl.plugin, "ATTACHABLE_TYPES", None)
        if declared is None:
            return None
        names.extend(declared)
    return sorted(names)


def _matches(cls: type, public_name: str) -> bool:
    """``paddleocr.PaddleOCR`` names a class ``PaddleOCR`` defined in ``paddleocr`` or a submodule."""
    package, _, name = public_name.rpartition(".")
    module = cls.__module__ or ""
    return cls.__qualname__ == name and (module == package or module.startswith(package + "."))


def _check_attachable(host, target, kind: str) -> None:
    declared = _declared_types(host)
    if declared is None or any(_matches(c, n) for c in type(target).__mro__ for n in declared):
        return
    raise _unsupported(kind, declared)


def _unsupported(kind: str, known: list[str]) -> UsageError:
    return UsageError(f"no plugin knows how to attach the stage to a {kind}; supported: {', '.join(known) or 'none'}")


def detach(target: T) -> T:
    """Undo :func:`attach`; a no-op for objects without a stage."""
    undo = getattr(target, _UNDO, None)
    if undo is not None:
        undo()
        for attr in (_UNDO, _STAGE):
            try:
                delattr(target, attr)
            except AttributeError:
                pass
    return target


# The names the README has always shown.
hook, unhook = attach, detach
