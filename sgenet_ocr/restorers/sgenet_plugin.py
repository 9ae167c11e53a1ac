"""Built-in plugin registering the ``sgenet`` restorer.

torch and the model are imported inside the factory, so loading plugins (and starting the
CLI) stays fast when another restorer is used.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ModelError
from ..plugin_manager import hookimpl


def create_sgenet_restorer(device: str = "cpu", weights: str | Path | None = None, **options):
    """Factory: shipped weights by default, or ``weights`` (a safetensors path)."""
    from ..models import PRETRAINED, has_pretrained

    if weights is None and not has_pretrained("sgenet"):
        raise ModelError(
            f"the sgenet restorer has no trained weights yet ({PRETRAINED['sgenet'].weights_path} is "
            "missing): pass a weights file (weights=PATH) or use --restorer bicubic")
    from .sgenet_restorer import SgenetRestorer

    return SgenetRestorer(weights=True if weights is None else weights, device=device, **options)


@hookimpl
def register_restorers(register):
    register("sgenet", create_sgenet_restorer)
