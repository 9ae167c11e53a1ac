"""Offline PaddleOCR 3.x model dirs, provisioned from the ONNX files in the rapidocr wheel.

PaddleOCR 3.x runs with ``engine="onnxruntime"`` (no paddlepaddle) from a model dir holding
``inference.onnx`` and ``inference.yml`` (model name, pre-processing, post-processing). The
``rapidocr-onnxruntime`` wheel ships PP-OCRv4 mobile detection and recognition as ONNX; the
recogniser's character list is stored in its ONNX metadata. We write both dirs into a user
cache folder once, and check them (size and sha256 of the model, exact bytes of the config)
every time they are used, rebuilding whatever is missing or corrupt.

Cache root: ``$SGENET_CACHE/paddleocr`` if set, else ``~/.cache/sgenet-ocr/paddleocr``.
"""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from sgenet_ocr.errors import MissingDependencyError, ModelError
from sgenet_ocr.models.weights import sha256_of

MODEL_FILE, CONFIG_FILE = "inference.onnx", "inference.yml"
CACHE_NAME = "pp-ocrv4-from-rapidocr-1.4.4"
_lock = threading.Lock()


@dataclass(frozen=True)
class ModelSpec:
    """One model dir: PaddleX model name, source ONNX file in the rapidocr wheel, its role."""

    role: str  # "det" or "rec"
    model_name: str
    source_file: str


DET = ModelSpec("det", "PP-OCRv4_mobile_det", "ch_PP-OCRv4_det_infer.onnx")
REC = ModelSpec("rec", "PP-OCRv4_mobile_rec", "ch_PP-OCRv4_rec_infer.onnx")


def cache_root() -> Path:
    env = os.environ.get("SGENET_CACHE")
    base = Path(env) if env else Path.home() / ".cache" / "sgenet-ocr"
    return base / "paddleocr" / CACHE_NAME


def source_path(spec: ModelSpec) -> Path:
    try:
        import rapidocr_onnxruntime
    except ImportError:
        raise MissingDependencyError(
            "rapidocr-onnxruntime", "paddleocr",
            "the paddleocr engine's offline models come from the 'rapidocr-onnxruntime' wheel",
        ) from None
    path = Path(rapidocr_onnxruntime.__file__).parent / "models" / spec.source_file
    if not path.is_file():
        raise ModelError(f"{path} is missing from the rapidocr-onnxruntime install; reinstall it")
    return path


@functools.lru_cache(maxsize=None)
def _file_digest(path: str, size: int, mtime: float) -> str:
    """sha256 of a file; cached per (path, size, mtime) so repeated checks stay cheap."""
    return sha256_of(Path(path))


def sha256(path: Path) -> str:
    st = path.stat()
    return _file_digest(str(path), st.st_size, st.st_mtime)


def character_list(onnx_path: Path) -> list[str]:
    """The recogniser's characters, one per line of the ONNX ``character`` metadata."""
    st = onnx_path.stat()
    return list(_character_list(str(onnx_path), st.st_size, st.st_mtime))


@functools.lru_cache(maxsize=None)
def _character_list(onnx_path: str, size: int, mtime: float) -> tuple[str, ...]:
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    meta = {p.key: p.value for p in model.metadata_props}
    if "character" not in meta:
        raise ModelError(f"{onnx_path} has no 'character' metadata; cannot build the dictionary")
    return tuple(meta["character"].splitlines())


def config_text(spec: ModelSpec, onnx_path: Path) -> str:
    """The ``inference.yml`` PaddleX needs for this model (deterministic, so it can be compared)."""
    import yaml

    bgr = {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}}
    if spec.role == "det":
        config = {
            "Global": {"model_name": spec.model_name},
            "PreProcess": {"transform_ops": [
                bgr,
                {"DetResizeForTest": {"resize_long": 960}},
                {"NormalizeImage": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                                    "scale": 1 / 255, "order": "hwc"}},
                {"ToCHWImage": None},
            ]},
            "PostProcess": {"name": "DBPostProcess", "thresh": 0.3, "box_thresh": 0.6,
                            "max_candidates": 1000, "unclip_ratio": 1.5},
        }
    else:
        config = {
            "Global": {"model_name": spec.model_name},
            "PreProcess": {"transform_ops": [bgr, {"RecResizeImg": {"image_shape": [3, 48, 320]}}]},
            "PostProcess": {"name": "CTCLabelDecode", "character_dict": character_list(onnx_path)},
        }
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


def problems(model_dir: Path, spec: ModelSpec) -> list[str]:
    """What is wrong with a provisioned dir (empty list: it is intact)."""
    src = source_path(spec)
    model, config = model_dir / MODEL_FILE, model_dir / CONFIG_FILE
    found = []
    if not model.is_file():
        found.append(f"{MODEL_FILE} missing")
    elif model.stat().st_size != src.stat().st_size:
        found.append(f"{MODEL_FILE} has {model.stat().st_size} bytes, expected {src.stat().st_size}")
    elif sha256(model) != sha256(src):
        found.append(f"{MODEL_FILE} sha256 mismatch")
    if not config.is_file():
        found.append(f"{CONFIG_FILE} missing")
    elif config.read_text(encoding="utf-8", errors="replace") != config_text(spec, src):
        found.append(f"{CONFIG_FILE} differs from the expected config")
    return found


def _build(model_dir: Path, spec: ModelSpec) -> None:
    """Write the dir next to its final place, then swap it in (never a half-written dir)."""
    src = source_path(spec)
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.role}-", dir=model_dir.parent))
    try:
        shutil.copyfile(src, tmp / MODEL_FILE)
        (tmp / CONFIG_FILE).write_text(config_text(spec, src), encoding="utf-8")
        if model_dir.exists():
            shutil.rmtree(model_dir)
        os.replace(tmp, model_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_model_dir(spec: ModelSpec, root: Path | None = None) -> Path:
    """The intact model dir for ``spec``, (re)built if missing or corrupt."""
    model_dir = (root or cache_root()) / spec.role
    with _lock:
        if problems(model_dir, spec):
            try:
                _build(model_dir, spec)
            except OSError as exc:
                raise ModelError(f"cannot write PaddleOCR models to {model_dir}: {exc}; "
                                 f"set SGENET_CACHE to a writable folder") from None
            left = problems(model_dir, spec)
            if left:
                raise ModelError(f"PaddleOCR model dir {model_dir} still broken after rebuilding: "
                                 f"{'; '.join(left)}")
    return model_dir


def provision(root: Path | None = None) -> dict[str, tuple[str, Path]]:
    """``{"det": (model_name, dir), "rec": (model_name, dir)}``, ready for PaddleOCR."""
    return {spec.role: (spec.model_name, ensure_model_dir(spec, root)) for spec in (DET, REC)}


def read_model_name(model_dir: Path) -> str:
    """``Global.model_name`` of a user's own PaddleOCR model dir."""
    import yaml

    config = Path(model_dir) / CONFIG_FILE
    if not config.is_file():
        raise ModelError(f"{model_dir} is not a PaddleOCR model dir: no {CONFIG_FILE}")
    try:
        return str(yaml.safe_load(config.read_text(encoding="utf-8"))["Global"]["model_name"])
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise ModelError(f"{config}: cannot read Global.model_name ({exc})") from None


def offline_kwargs(root: Path | None = None) -> dict:
    """Keyword arguments for a user's own ``paddleocr.PaddleOCR(...)`` that run fully offline.

    Our provisioned det/rec dirs on ONNX Runtime, and the document orientation, unwarping and
    text-line orientation modules off (their models are not shipped offline).
    """
    dirs = provision(root)
    return {
        "text_detection_model_name": dirs["det"][0], "text_detection_model_dir": str(dirs["det"][1]),
        "text_recognition_model_name": dirs["rec"][0], "text_recognition_model_dir": str(dirs["rec"][1]),
        "use_doc_orientation_classify": False, "use_doc_unwarping": False,
        "use_textline_orientation": False, "engine": "onnxruntime", "device": "cpu",
    }
