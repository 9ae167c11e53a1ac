"""The built-in plugin: every shipped restorer and the default stage behaviour.

Restorers: ``identity``, ``bicubic``, ``sgenet`` (PyTorch) and ``sgenet-onnx`` (onnxruntime).
torch, onnxruntime and the model are imported inside the factories, so loading plugins (and
starting the CLI) stays fast when another restorer is used.
"""
from __future__ import annotations

from pathlib import Path

from .errors import UsageError
from .hookspecs import hookimpl
from .registry import check_options
from .restorers import BicubicRestorer, IdentityRestorer


def create_identity_restorer(device: str = "cpu"):
    """Factory of ``identity``: takes no options (a misspelt one is a usage error, not ignored)."""
    return IdentityRestorer()


def create_bicubic_restorer(device: str = "cpu", scale: int = 2):
    """Factory of ``bicubic``: ``scale``, a whole number >= 1."""
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise UsageError(f"restorer 'bicubic' option scale must be a whole number >= 1, got {scale!r}")
    return BicubicRestorer(scale)


def create_sgenet_restorer(device: str = "cpu", weights: str | Path | None = None, threads: int | None = None,
                           **options):
    """Factory of ``sgenet``: ``weights`` (a name or a path), else ``$SGENET_WEIGHTS``, else the
    shipped weights; ``threads``: torch's (the run's ``--threads``)."""
    from .models import env_weights
    from .restorers.sgenet_restorer import SgenetRestorer

    check_options(SgenetRestorer, options, "restorer 'sgenet'")
    return SgenetRestorer(weights=weights if weights is not None else env_weights(), device=device,
                          threads=threads, **options)


def create_sgenet_onnx_restorer(device: str = "cpu", weights: str | Path | None = None,
                                onnx_path: str | Path | None = None, threads: int | None = None, **options):
    """Factory of ``sgenet-onnx``: ``onnx_path`` as given, else a cached export of ``weights``
    (else ``$SGENET_WEIGHTS``, else the shipped weights); ``threads``: onnxruntime's."""
    from .models import env_weights
    from .restorers.onnx_restorer import SgenetOnnxRestorer

    check_options(SgenetOnnxRestorer, options, "restorer 'sgenet-onnx'")
    weights = weights if weights is not None else env_weights()
    return SgenetOnnxRestorer(weights=weights, onnx_path=onnx_path, device=device, threads=threads, **options)


@hookimpl
def register_restorers(register):
    register("identity", create_identity_restorer)
    register("bicubic", create_bicubic_restorer)
    register("sgenet", create_sgenet_restorer)
    register("sgenet-onnx", create_sgenet_onnx_restorer)


@hookimpl(trylast=True)
def needs_restoration(crop, quad, text_height, options):
    return bool(text_height < options.min_height)


@hookimpl(trylast=True)
def restore_crops(crops, restorer, options, prior_probs):
    if prior_probs is None:
        return restorer.restore(crops)
    return restorer.restore(crops, prior_probs=prior_probs)
