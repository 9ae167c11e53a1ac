"""Built-in plugin registering the ``sgenet-onnx`` restorer (SGENet on onnxruntime).

onnxruntime and torch are imported inside the factory, so loading plugins stays fast.
"""
from __future__ import annotations

from pathlib import Path

from ..plugin_manager import hookimpl


def create_sgenet_onnx_restorer(device: str = "cpu", weights: str | Path | None = None,
                                onnx_path: str | Path | None = None, **options):
    """Factory: ``onnx_path`` as given, else an export (cached) of ``weights`` or the shipped weights."""
    from .onnx_restorer import SgenetOnnxRestorer

    return SgenetOnnxRestorer(weights=True if weights is None else weights, onnx_path=onnx_path,
                              device=device, **options)


@hookimpl
def register_restorers(register):
    register("sgenet-onnx", create_sgenet_onnx_restorer)
