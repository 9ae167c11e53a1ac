"""Where the ``ppocrv4_rec`` prior's network comes from (torch-free: engines ask without loading torch)."""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from ..errors import MissingDependencyError, ModelError

PRIOR_ONNX_ENV = "SGENET_PRIOR_ONNX"


def ppocr_rec_model_path() -> Path:
    """The PP-OCRv4 recogniser's ONNX file: ``$SGENET_PRIOR_ONNX`` when set (the GPU kit carries
    the file to machines without the rapidocr wheel), else the one inside rapidocr-onnxruntime."""
    override = os.environ.get(PRIOR_ONNX_ENV)
    if override:
        if not Path(override).is_file():
            raise ModelError(f"{PRIOR_ONNX_ENV} names no file: {override}")
        return Path(override)
    try:
        import rapidocr_onnxruntime
    except ImportError:
        raise MissingDependencyError("rapidocr-onnxruntime", "rapidocr",
                                     "the ppocrv4_rec semantic prior needs 'rapidocr-onnxruntime'") from None
    models = Path(rapidocr_onnxruntime.__file__).parent / "models"
    found = sorted(models.glob("*rec*.onnx"))
    if not found:
        raise ModelError(f"no recognition .onnx model found in {models}")
    return found[0]


@lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def is_prior_model(path: str | Path) -> bool:
    """True when ``path`` holds the same ONNX recogniser the ``ppocrv4_rec`` prior is built from
    (by content: the user may point an engine at a copy). False when the prior is unavailable."""
    try:
        prior = ppocr_rec_model_path()
    except (ModelError, MissingDependencyError):
        return False
    files = [Path(path), prior]
    if not all(f.is_file() for f in files):
        return False
    stats = [f.stat() for f in files]
    if stats[0].st_size != stats[1].st_size:
        return False
    return len({_sha256(str(f.resolve()), s.st_size, s.st_mtime) for f, s in zip(files, stats)}) == 1
