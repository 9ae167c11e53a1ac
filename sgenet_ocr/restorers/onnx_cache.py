"""On-disk cache of ONNX exports, keyed by the weights' sha256 and the export settings.

The first ``sgenet-onnx`` restorer for a set of weights exports the model (tens of seconds);
later ones load the cached file. A file that does not parse, or whose metadata names other
weights, is rebuilt. Files are written atomically, so concurrent first uses are safe.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..errors import UsageError
from ..export import DEFAULT_OPSET, EXPORT_VERSION, export_onnx, read_metadata
from ..models import ResolvedWeights, resolve_weights

CACHE_ENV = "SGENET_OCR_CACHE"


def default_cache_dir() -> Path:
    """``$SGENET_OCR_CACHE``, else ``$XDG_CACHE_HOME/sgenet_ocr/onnx``, else ``~/.cache/sgenet_ocr/onnx``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "sgenet_ocr" / "onnx"


def _prior_tag() -> str:
    """Identifies the prior's ONNX file (name and size) so a new rapidocr wheel re-exports."""
    from ..models.prior_files import ppocr_rec_model_path

    path = ppocr_rec_model_path()
    return hashlib.sha256(f"{path.name}:{path.stat().st_size}".encode()).hexdigest()[:8]


def cache_path(sha256: str, cache_dir: str | Path | None = None, opset: int = DEFAULT_OPSET,
               guided: bool = False) -> Path:
    folder = Path(cache_dir) if cache_dir else default_cache_dir()
    kind = "sgenet-guided" if guided else "sgenet"
    return folder / f"{kind}-{sha256[:16]}-p{_prior_tag()}-e{EXPORT_VERSION}-op{opset}.onnx"


def is_valid_export(path: Path, sha256: str) -> bool:
    """The file parses as ONNX and its metadata names these weights."""
    try:
        return read_metadata(path).get("weights_sha256") == sha256
    except Exception:  # noqa: BLE001 - any parse failure means a corrupt or partial file
        return False


def check_writable(folder: Path) -> None:
    """UsageError naming the cache folder when an export could not be written there (before the
    tens of seconds an export takes)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"ONNX cache folder {folder} cannot be written ({exc.strerror or exc}): set "
                         f"${CACHE_ENV} or the restorer option cache_dir to a writable folder") from None


def cached_export(weights: "str | Path | bool | ResolvedWeights | None" = True, cache_dir: str | Path | None = None,
                  opset: int = DEFAULT_OPSET, rebuild: bool = False, guided: bool = False) -> Path:
    """Path of the ONNX export of ``weights`` (see :func:`~sgenet_ocr.models.resolve_weights`),
    exporting if needed; ``guided``: the SR branch alone (see :mod:`sgenet_ocr.export`)."""
    resolved = weights if isinstance(weights, ResolvedWeights) else resolve_weights(weights)
    path = cache_path(resolved.sha256, cache_dir, opset, guided)
    if not rebuild and path.is_file() and is_valid_export(path, resolved.sha256):
        return path
    check_writable(path.parent)
    from ..models import create_model

    model = create_model("sgenet", pretrained=resolved)
    return export_onnx(model, path, opset, metadata={"weights_sha256": resolved.sha256,
                                                     "weights_source": str(resolved.path)}, guided=guided)
