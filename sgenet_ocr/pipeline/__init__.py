"""The OCR pipeline: detect -> crop -> restore the small crops -> recognise."""
from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable

import numpy as np

from ..errors import InputImageError, PluginError, SgenetOcrError, UsageError
from ..geometry import is_degenerate, order_clockwise, perspective_crop
from ..imaging import load_image, to_order
from ..plugin_manager import PluginHost
from ..results import Document, Page, Word
from ..stage import RestorationStage

DEFAULT_MIN_HEIGHT = 24
# Which reading of a restored word to keep: always the restored crop's, or the more confident of
# the original and restored crops' readings (one more recognition per restored word).
KEEP_CHOICES = ("restored", "confident")


def prefers_original(original: tuple[str, float], restored: tuple[str, float]) -> bool:
    """``keep="confident"``: keep the original crop's ``(text, confidence)`` reading only when
    the engine is strictly more confident of it; ties keep the restored reading."""
    return original[1] > restored[1]


def default_restorer() -> str:
    """``sgenet`` once trained weights are shipped, else ``bicubic``."""
    try:
        from ..models import has_pretrained
    except ImportError:
        return "bicubic"
    return "sgenet" if has_pretrained("sgenet") else "bicubic"


class Pipeline:
    """An engine with a restoration stage between its detection and its recognition.

    Args:
        engine: engine name (see ``--list-plugins``).
        restorer: restorer name; ``None`` picks the engine's ``preferred_restorer``, else
            :func:`default_restorer`.
        min_height: crops whose text is lower than this (page px) are restored.
        device: "cpu" or "cuda", passed to the restorer (and to engines that accept it).
        compare: also recognise the unrestored crops, to report the engine-alone reading.
        keep: ``"confident"`` (default) reads the original crop too and keeps whichever reading
            the engine is more confident of, so restoration only replaces readings the engine
            was less sure of; ``"restored"`` always keeps the restored crop's reading.
        plugins: extra plugins (``.py`` paths or module names).
        engine_options / restorer_options: passed to the factories.
        keep_crops: keep each restored word's (original, restored) crops on the page.
        options: extra values for hooks (e.g. options added by plugins' ``add_options``).
    """

    def __init__(self, engine: str = "easyocr", restorer: str | None = None,
                 min_height: float = DEFAULT_MIN_HEIGHT, device: str = "cpu",
                 compare: bool = False, keep: str = "confident", plugins: Iterable[str] = (),
                 engine_options: dict[str, Any] | None = None,
                 restorer_options: dict[str, Any] | None = None,
                 keep_crops: bool = False, options: dict[str, Any] | None = None):
        if keep not in KEEP_CHOICES:
            raise UsageError(f"unknown keep policy {keep!r}; known: {', '.join(KEEP_CHOICES)}")
        self.host = PluginHost(plugins)
        self.host.engines.factory(engine)  # bad settings fail before the engine loads
        check_stage_settings(self.host, restorer, min_height, device)
        self.engine = self.host.engines.create(engine, **(engine_options or {}))
        try:
            restorer = restorer or getattr(self.engine, "preferred_restorer", None)
            options = dict(options or {}, compare=compare)
            self.stage = build_stage(self.host, restorer, min_height, device, restorer_options, options)
        except BaseException:
            self.engine.close()
            raise
        self.options, self.restorer = self.stage.options, self.stage.restorer
        self.engine_name, self.restorer_name = engine, self.options.restorer
        self.compare, self.keep, self.keep_crops = compare, keep, keep_crops

    def run(self, image, source: str | None = None) -> Page:
        """OCR one page (path, bytes, PIL image or array)."""
        if source is None:
            source = str(image) if isinstance(image, (str, Path)) else "<image>"
        rgb = load_image(image)
        order = self.engine.color_order
        page = Page(source=source, width=rgb.shape[1], height=rgb.shape[0], engine=self.engine_name,
                    restorer=self.restorer_name, compare=self.compare, keep=self.keep)

        t0 = time.perf_counter()
        quads = []
        for q in self._engine_call("detect", to_order(rgb, order)):
            q = order_clockwise(q)
            if is_degenerate(q, rgb.shape):
                page.skipped_boxes += 1
            else:
                quads.append(q)
        t1 = time.perf_counter()
        crops = [perspective_crop(rgb, q) for q in quads]
        t2 = time.perf_counter()
        final, flags = self.stage.apply(crops, quads)
        t3 = time.perf_counter()
        readings = self._recognize(final)
        t4 = time.perf_counter()
        page.timings = {"detect": t1 - t0, "restore": t3 - t2, "recognize": t4 - t3}

        baseline = readings
        if (self.compare or self.keep == "confident") and any(flags):
            restored_idx = [i for i, f in enumerate(flags) if f]
            t5 = time.perf_counter()
            engine_alone = self._recognize([crops[i] for i in restored_idx])
            page.timings["recognize_baseline"] = time.perf_counter() - t5
            baseline = list(readings)
            for i, r in zip(restored_idx, engine_alone):
                baseline[i] = r

        for i, (quad, (text, conf)) in enumerate(zip(quads, readings)):
            kept_original = self.keep == "confident" and flags[i] and prefers_original(baseline[i], (text, conf))
            if kept_original:
                text, conf = baseline[i]
            word = Word(quad=quad, text=text, confidence=float(conf), restored=flags[i],
                        kept_original=kept_original)
            if self.compare:
                word.baseline_text, word.baseline_confidence = baseline[i][0], float(baseline[i][1])
            page.words.append(word)
            if self.keep_crops and flags[i]:
                page.crops.append((i, crops[i], final[i]))
        self.host.hook.page_done(page=page, options=self.options)
        return page

    def run_many(self, inputs: Iterable, progress: bool = False) -> Document:
        """OCR several pages; a bad input is recorded in ``Document.errors``, the rest go on."""
        from tqdm import tqdm

        inputs = list(inputs)
        doc = Document()
        for item in tqdm(inputs, desc="pages", unit="page", disable=not progress or len(inputs) < 2):
            try:
                doc.pages.append(self.run(item))
            except InputImageError as exc:
                doc.errors.append({"source": str(item), "error": str(exc)})
        return doc

    def _recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        if not crops:
            return []
        order = self.engine.color_order
        readings = self._engine_call("recognize", [to_order(c, order) for c in crops])
        if len(readings) != len(crops):
            raise PluginError(f"engine {self.engine_name!r} returned {len(readings)} readings for {len(crops)} crops")
        return [(str(t), float(c)) for t, c in readings]

    def _engine_call(self, method: str, arg):
        try:
            return getattr(self.engine, method)(arg)
        except SgenetOcrError:
            raise
        except Exception as exc:  # noqa: BLE001 - name the plugin, keep the cause chained
            owner = self.host.engines.owner(self.engine_name)
            raise PluginError(f"engine {self.engine_name!r} (plugin {owner!r}) failed in {method}: "
                              f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self.restorer.close()
        self.engine.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def build_stage(host: PluginHost, restorer: str | None, min_height: float, device: str,
                restorer_options: dict[str, Any] | None = None,
                options: dict[str, Any] | None = None) -> RestorationStage:
    """Check the stage settings, create the named restorer and the stage around it.

    Shared by :class:`Pipeline` and :func:`sgenet_ocr.hook`, so both validate alike.
    ``restorer=None`` picks :func:`default_restorer`; the name used is ``stage.options.restorer``.
    """
    name = restorer or default_restorer()
    check_stage_settings(host, name, min_height, device)
    stage_options = SimpleNamespace(**(options or {}))
    stage_options.min_height, stage_options.device, stage_options.restorer = min_height, device, name
    stage_options.compare = getattr(stage_options, "compare", False)
    restorer_obj = host.restorers.create(name, device=device, **(restorer_options or {}))
    return RestorationStage(host, restorer_obj, stage_options)


def check_stage_settings(host: PluginHost, restorer: str | None, min_height: float, device: str) -> None:
    """The cheap checks of :func:`build_stage`, to run before anything heavy loads: a usable
    ``min_height``, a known device and (when named) a known restorer, listing the known ones."""
    if min_height is None or not np.isfinite(min_height) or min_height < 0:
        raise UsageError(f"min_height must be a number >= 0, got {min_height!r}")
    check_device(device)
    if restorer is not None:
        host.restorers.factory(restorer)


def check_device(device: str) -> None:
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise UsageError(f"unknown device {device!r}; use cpu or cuda")
    if device != "cpu":
        import torch

        if not torch.cuda.is_available():
            raise UsageError(f"device {device!r} requested but no CUDA GPU is available; use --device cpu")
