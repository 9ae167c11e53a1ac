"""The ``sgenet-onnx`` restorer: the exported SGENet graph (prior included) on onnxruntime.

Given the prior's probabilities by the engine (``prior_probs``), it runs the guided export
instead, the SR branch alone (exported and cached next to the full graph, loaded by
:meth:`~SgenetOnnxRestorer.prepare_guidance` or on first use).

Same crop preparation and width bucketing as the torch ``sgenet`` restorer (:mod:`.bucketing`),
so both give the same crops up to float rounding. onnxruntime runs with ``threads`` intra-op
threads (default :func:`~sgenet_ocr.options.default_threads`: not one per core, which stalls
when another job shares the machine) and one inter-op thread (the graph is a chain).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import MissingDependencyError, ModelError, UsageError
from ..devices import parse_device
from ..export import BASE_NAME, DEFAULT_OPSET, GUIDE_NAME, INPUT_NAME, OUTPUT_NAME
from ..prior_probs import fit_steps, prior_charset, prior_steps
from ..models import resolve_weights
from ..models.weights import config_from_dict
from ..options import check_count, default_threads
from . import Restorer
from .bucketing import batch_limit, restore_in_buckets
from .onnx_cache import cached_export


def make_session(path: Path, device: str = "cpu", threads: int | None = None):
    """An onnxruntime session for ``path`` on ``device`` with thread settings for this machine."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise MissingDependencyError("onnxruntime", "all", "the sgenet-onnx restorer needs 'onnxruntime'") from None
    parsed = parse_device(device, check=False)  # onnxruntime, not torch, decides what runs here
    if not parsed.is_cuda:
        providers = ["CPUExecutionProvider"]
    elif "CUDAExecutionProvider" in ort.get_available_providers():
        providers = [("CUDAExecutionProvider", {"device_id": parsed.cuda_index}), "CPUExecutionProvider"]
    else:
        raise UsageError(f"device {str(parsed)!r} requested but this onnxruntime has no CUDA provider "
                         "(install onnxruntime-gpu) or no GPU is present; use --device cpu")
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads) if threads else default_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=providers)
    if parsed.is_cuda and "CUDAExecutionProvider" not in session.get_providers():
        # onnxruntime drops a provider it cannot load (e.g. built for another CUDA) with a log line only
        raise UsageError(f"device {str(parsed)!r} requested but onnxruntime could not start its CUDA provider "
                         "(its CUDA/cuDNN libraries?); use --device cpu")
    return session


class SgenetOnnxRestorer(Restorer):
    """SGENet x2 on onnxruntime; exports (and caches) the model on first use unless ``onnx_path``."""

    name = "sgenet-onnx"
    scale = 2

    def __init__(self, weights: str | Path | bool | None = True, onnx_path: str | Path | None = None,
                 device: str = "cpu", batch_size: int = 32, bucket: int = 16, threads: int | None = None,
                 cache_dir: str | Path | None = None, opset: int = DEFAULT_OPSET):
        self.batch_size = check_count(batch_size, "batch_size", "restorer 'sgenet-onnx' option ")
        self.bucket = check_count(bucket, "bucket", "restorer 'sgenet-onnx' option ")
        self._device, self._threads, self._guided_session = device, threads, None
        self._weights, self._cache_dir, self._opset = None, cache_dir, opset
        if onnx_path is not None:
            self.onnx_path = Path(onnx_path)
            if not self.onnx_path.is_file():
                raise ModelError(f"ONNX file not found: {self.onnx_path}")
            self.session = self._open(self.onnx_path, device, threads)
        else:
            weights = self._weights = resolve_weights(weights)
            self.onnx_path = cached_export(weights, cache_dir, opset)
            try:
                self.session = make_session(self.onnx_path, device, threads)
            except (UsageError, MissingDependencyError):
                raise
            except Exception:  # noqa: BLE001 - a cached file that loads but does not run: export again
                self.onnx_path = cached_export(weights, cache_dir, opset, rebuild=True)
                self.session = make_session(self.onnx_path, device, threads)
        meta = self.session.get_modelmeta().custom_metadata_map
        config = json.loads(meta.get("sgenet_config", "{}"))
        self.input_height = int(config.get("input_height", 16))
        self.scale = config_from_dict(config).output_factor  # output over input size
        self.weights_sha256, self.weights_source = meta.get("weights_sha256"), meta.get("weights_source")
        charset = prior_charset(config)
        if self._weights is not None and charset:  # a user's own file has no guided twin
            self.guided_by, self.prior_charset = config["prior"], charset
        self.input_name = self.session.get_inputs()[0].name
        self.takes_base = BASE_NAME in {i.name for i in self.session.get_inputs()}
        self.output_name = self.session.get_outputs()[0].name

    @staticmethod
    def _open(path: Path, device: str, threads: int | None):
        try:
            return make_session(path, device, threads)
        except (UsageError, MissingDependencyError):
            raise
        except Exception as exc:  # noqa: BLE001 - onnxruntime's own errors are long; keep one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"ONNX file {path} cannot be loaded: {first[:200]}") from None

    def batch_for(self, width: int) -> int:
        return batch_limit(width, self.batch_size)

    def run_batch(self, batch: np.ndarray, prior_probs: Sequence[np.ndarray] | None = None,
                  base: np.ndarray | None = None) -> np.ndarray:
        """Float32 (N, 3, 16, W) in [0, 1] -> (N, 3, 16s, sW) (s = ``self.scale``), one session call; with
        ``prior_probs`` (one array per crop) the guided graph, laid out on the prior's steps;
        ``base`` (the crops enlarged once) for graphs of ``base="crop"`` weights."""
        feeds = {} if base is None else {BASE_NAME: base}
        if prior_probs is None:
            return self.session.run([self.output_name], {self.input_name: batch, **feeds})[0]
        steps = prior_steps(batch.shape[3], self.input_height)
        probs = np.stack([fit_steps(p, steps) for p in prior_probs])
        self.prepare_guidance()
        return self._guided_session.run([OUTPUT_NAME], {INPUT_NAME: batch, GUIDE_NAME: probs, **feeds})[0]

    def prepare_guidance(self) -> None:
        """Open the SR-branch session (its export is cached on disk like the full graph's)."""
        if self._guided_session is None and self.guided_by is not None:
            path = cached_export(self._weights, self._cache_dir, self._opset, guided=True)
            self._guided_session = self._open(path, self._device, self._threads)

    def restore(self, crops: Sequence[np.ndarray],
                prior_probs: Sequence[np.ndarray | None] | None = None) -> list[np.ndarray]:
        return restore_in_buckets(crops, self.run_batch, input_height=self.input_height, scale=self.scale,
                                  bucket=self.bucket, batch_for=self.batch_for, prior_probs=prior_probs,
                                  with_base=self.takes_base)

    def close(self) -> None:
        self.session = self._guided_session = None
