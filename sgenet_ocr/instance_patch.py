"""Shadow attributes on one object (never its class) and put them back exactly.

Also :func:`restore_in_order`, the colour-order bridge between an engine's own crops and the
RGB restoration stage.

Engine plugins use this for ``sgenet_ocr.hook(obj)``: the wrapper goes into the instance's
``__dict__``, so other instances of the same class are untouched, and undoing it restores the
instance's own attribute if it had one or removes the shadow if the class provided it.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

_MISSING = object()


def patch_instance(target: Any, replacements: Mapping[str, Any]) -> Callable[[], None]:
    """Set ``target.<name> = value`` for each item; returns an idempotent undo function."""
    saved = {name: target.__dict__.get(name, _MISSING) for name in replacements}
    for name, value in replacements.items():
        setattr(target, name, value)

    def undo() -> None:
        for name, value in replacements.items():
            if target.__dict__.get(name, _MISSING) is not value:
                continue  # already undone, or replaced by someone else since: leave it
            if saved[name] is _MISSING:
                delattr(target, name)
            else:
                setattr(target, name, saved[name])

    return undo


def chain(undos: list[Callable[[], None]]) -> Callable[[], None]:
    """One undo function for several, run in reverse order."""

    def undo() -> None:
        for step in reversed(undos):
            step()

    return undo


def restore_in_order(stage, crops: Sequence[np.ndarray], quads: Sequence[np.ndarray] | None,
                     order: str) -> list[np.ndarray]:
    """Run ``stage`` on crops in an engine's colour order ("RGB"/"BGR"); same order back.

    The stage works in RGB. Crops it leaves alone are returned as they came (same objects).
    """
    from .imaging import to_order

    if len(crops) == 0:
        return []
    rgb = [to_order(np.ascontiguousarray(c), order) for c in crops]  # the swap is its own inverse
    out, flags = stage.apply(rgb, quads)
    return [to_order(np.ascontiguousarray(o, dtype=np.uint8), order) if f else c
            for c, o, f in zip(crops, out, flags)]
