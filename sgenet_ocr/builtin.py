"""Built-in plugin: the identity and bicubic restorers and the default stage behaviour."""
from __future__ import annotations

from .plugin_manager import hookimpl
from .restorers import BicubicRestorer, IdentityRestorer


@hookimpl
def register_restorers(register):
    register("identity", lambda device="cpu", **_: IdentityRestorer())
    register("bicubic", lambda device="cpu", **_: BicubicRestorer())


@hookimpl(trylast=True)
def needs_restoration(crop, quad, text_height, options):
    return bool(text_height < getattr(options, "min_height", 24))


@hookimpl(trylast=True)
def restore_crops(crops, restorer, options):
    return restorer.restore(crops)
