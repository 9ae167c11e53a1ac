"""The OCR pipeline: detect -> crop -> read -> restore the small crops -> read them -> keep.

Each step is a public method (:meth:`Pipeline.detect`, :meth:`~Pipeline.crop`,
:meth:`~Pipeline.restore`, :meth:`~Pipeline.recognize`); :meth:`Pipeline.run` composes them, and
the benchmarks call the same steps.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..documents import DEFAULT_DPI, is_pdf, iter_pages, load_page, page_count
from ..errors import EngineOutputError, InputImageError, UsageError, blame_plugin
from ..geometry import is_degenerate, order_clockwise, perspective_crop
from ..imaging import load_image, to_order
from ..keep import DEFAULT_KEEP, keep_policy
from ..options import DEFAULT_MIN_HEIGHT, StageOptions, resolve_options
from ..plugin_manager import PluginHost
from ..results import Document, Page, Word
from ..stage import build_stage, check_stage_settings


def engine_output_error(exc: EngineOutputError, source: str, page: int | None = None) -> dict:
    """The ``Document.errors`` entry of a page the engine returned a malformed result for: it
    names the plugin (``plugin``), which makes the CLI exit 5."""
    where = source + (f" page {page}" if page is not None else "")
    entry: dict = {"source": source, "page": page} if page is not None else {"source": source}
    return entry | {"error": f"{where}: {exc}", "plugin": exc.plugin}


def document_exit_code(doc: Document) -> int:
    """The CLI's exit code for a finished batch: 5 when a plugin failed on a page (its error
    names the plugin), else 3 when an input could not be read, else 0."""
    if any("plugin" in e for e in doc.errors):
        return EngineOutputError.exit_code
    return InputImageError.exit_code if doc.errors else 0


class Pipeline:
    """An engine with a restoration stage between its detection and its recognition.

    Args:
        engine: engine name (see ``--list-plugins``).
        restorer: restorer name; ``None`` picks the engine's ``preferred_restorer``, else
            :func:`~sgenet_ocr.stage.default_restorer`.
        min_height: crops whose text is lower than this (page px) are restored.
        device: "cpu", "cuda" or "cuda:N", for the restorer (engines take their own
            ``device`` engine option).
        threads: CPU threads of the restorer's torch or onnxruntime work and of engines that
            take a ``threads`` option (None: :func:`~sgenet_ocr.options.default_threads`, half
            the physical cores). torch's setting is process-wide.
        compare: also recognise the unrestored crops, to report the engine-alone reading.
        keep: the keep policy (:mod:`sgenet_ocr.keep`): ``"confident"`` (default) reads the
            original crop too and keeps whichever reading the engine is more confident of;
            ``"restored"`` always keeps the restored crop's reading.
        engine_prior: when the engine's recogniser is SGENet's prior (RapidOCR, PaddleOCR), use
            the probabilities of its reading of the original crop instead of running the prior
            (default True; False runs the prior as other engines do).
        trust: under a keep policy that reads the original crop, a reading of it at least this
            confident is kept and the crop is not restored (default: the engine's
            ``trusted_confidence``; above 1: restore every small crop).
        plugins: extra plugins (``.py`` paths or module names).
        engine_options / restorer_options: passed to the factories.
        keep_crops: keep each restored word's (original, restored) crops on the page.
        options: extra values for hooks (``options.extra``, e.g. options added by plugins'
            ``add_options``).
        host: a :class:`PluginHost` to use instead of building one (the CLI's, whose plugins
            also added its options).

    :meth:`from_options` builds a pipeline from resolved :class:`~sgenet_ocr.options.StageOptions`.
    """

    def __init__(self, engine: str = "easyocr", restorer: str | None = None,
                 min_height: float = DEFAULT_MIN_HEIGHT, device: str = "cpu",
                 compare: bool = False, keep: str = DEFAULT_KEEP, engine_prior: bool = True,
                 trust: float | None = None, plugins: Iterable[str] = (), threads: int | None = None,
                 engine_options: dict[str, Any] | None = None,
                 restorer_options: dict[str, Any] | None = None,
                 keep_crops: bool = False, options: dict[str, Any] | None = None,
                 host: PluginHost | None = None):
        resolved = resolve_options(options, engine=engine, restorer=restorer, min_height=min_height,
                                   device=device, compare=compare, keep=keep, engine_prior=engine_prior,
                                   trust=trust, threads=threads,
                                   engine_options=engine_options,
                                   restorer_options=restorer_options)
        self._setup(resolved, host or PluginHost(plugins), keep_crops)

    @classmethod
    def from_options(cls, options: StageOptions, host: PluginHost | None = None,
                     keep_crops: bool = False) -> "Pipeline":
        pipeline = cls.__new__(cls)
        pipeline._setup(options, host or PluginHost(), keep_crops)
        return pipeline

    def _setup(self, options: StageOptions, host: PluginHost, keep_crops: bool) -> None:
        self.closed = False
        self.host = host
        self.host.engines.factory(options.engine)  # bad settings fail before the engine loads
        check_stage_settings(self.host, options)
        engine_options = self.host.engines.with_threads(options.engine, options.engine_options, options.threads)
        self.engine = self.host.engines.create(options.engine, **engine_options)
        try:
            self.stage = build_stage(self.host, options, self.engine)
            # The prior's charset when the engine's own reading guides the restorer (else None).
            self.guidance = self.stage.guidance_charset(self.engine)
            if self.guidance is not None:
                self.stage.restorer.prepare_guidance()
        except BaseException:
            self.engine.close()
            raise
        self.options, self.restorer = self.stage.options, self.stage.restorer
        self.engine_name, self.restorer_name = options.engine, self.options.restorer
        self.compare, self.keep, self.keep_crops = options.compare, options.keep, keep_crops
        trust = options.trust if options.trust is not None else getattr(self.engine, "trusted_confidence", None)
        self.policy = keep_policy(options.keep, trust)

    # The steps ---------------------------------------------------------------------------

    def detect(self, rgb: np.ndarray) -> tuple[list[np.ndarray], int]:
        """The engine's text quads on an RGB page, clockwise from top-left, and how many
        degenerate ones (no area, off the page, not finite) were dropped."""
        quads, skipped = [], 0
        for q in self._engine_call("detect", to_order(rgb, self.engine.color_order)):
            q = self._checked_quad(q)
            if q is None or is_degenerate(q, rgb.shape):
                skipped += 1
            else:
                quads.append(q)
        return quads, skipped

    def _checked_quad(self, box) -> np.ndarray | None:
        """One detected box, clockwise; None for NaN, inf or beyond float32 (quads are float32:
        no box, skipped like a degenerate one). Not 4 points is the engine's bug, for this page."""
        try:
            points = np.asarray(box, dtype=np.float64)
            if not np.all(np.abs(points) <= np.finfo(np.float32).max):
                return None
            return order_clockwise(points)
        except (TypeError, ValueError) as exc:
            raise self._malformed(f"a box that is not 4 points ({exc})") from None

    @staticmethod
    def crop(rgb: np.ndarray, quads: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each quad's text, rectified to a horizontal RGB crop."""
        return [perspective_crop(rgb, q) for q in quads]

    def restore(self, crops: Sequence[np.ndarray], quads: Sequence[np.ndarray] | None = None,
                flags: Sequence[bool] | None = None, prior_probs: Sequence[np.ndarray | None] | None = None):
        """The stage on the crops: ``(crops, restored flags)``, unselected crops unchanged.
        ``flags``/``prior_probs``: see :meth:`RestorationStage.apply`."""
        self._check_open()
        return self.stage.apply(crops, quads, flags, prior_probs)

    def recognize(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """The engine's ``(text, confidence)`` for each RGB crop."""
        return self.recognize_with_probs(crops, None)[0]

    def recognize_with_probs(self, crops: Sequence[np.ndarray], charset: Sequence[str] | None
                             ) -> tuple[list[tuple[str, float]], list[np.ndarray | None] | None]:
        """:meth:`recognize`, plus the engine's per-step probabilities over ``charset`` for each
        crop (``OcrEngine.recognize_with_probs``) when ``charset`` is given and the engine
        provides them; else ``None`` for the probabilities."""
        if not len(crops):
            return [], None
        order = self.engine.color_order
        crops = [to_order(c, order) for c in crops]
        if charset is None:
            readings, probs = self._engine_call("recognize", crops), None
        else:
            readings, probs = self._engine_call("recognize_with_probs", crops, charset)
        readings = list(readings)
        if len(readings) != len(crops):
            raise self._malformed(f"{len(readings)} readings for {len(crops)} crops")
        if probs is not None:
            self._check_probs(probs, len(crops), len(charset))
        return [self._checked_reading(r) for r in readings], probs

    def _check_probs(self, probs, count: int, classes: int) -> None:
        if len(probs) != count:
            raise self._malformed(f"probabilities for {len(probs)} crops, not {count}")
        for p in probs:
            if p is not None and (np.ndim(p) != 2 or np.shape(p)[1] != classes or not len(p)):
                raise self._malformed(f"probabilities of shape {np.shape(p)}, not (steps, {classes})")

    def _checked_reading(self, reading) -> tuple[str, float]:
        """``(text, confidence)`` with a finite confidence, else the engine's bug, for this page."""
        try:
            text, confidence = reading
            confidence = float(confidence)
        except (TypeError, ValueError):
            confidence = math.nan
        if not math.isfinite(confidence):
            raise self._malformed(f"a reading that is not (text, finite confidence): {reading!r:.80}")
        return str(text), confidence

    def _malformed(self, what: str) -> EngineOutputError:
        return EngineOutputError(self.host.engines.owner(self.engine_name), f"engine {self.engine_name!r} returned {what}")

    # The whole page ----------------------------------------------------------------------

    def run(self, image, source: str | None = None) -> Page:
        """OCR one page: a path, bytes (or memoryview), a binary file object (``.read()``), a
        PIL image or an array in RGB order (``HxW``, ``HxWx3``, ``HxWx4``; OpenCV's BGR arrays
        need ``img[:, :, ::-1]``). InputImageError for an unreadable image, UsageError for
        anything else."""
        if source is None:
            source = str(image) if isinstance(image, (str, Path)) else str(getattr(image, "name", "<image>"))
        if isinstance(image, (str, Path)):
            if (count := page_count(image)) > 1:
                raise UsageError(f"{image}: a document of {count} pages; use run_document() or run_many()")
            rgb = load_page(image, 1 if is_pdf(Path(image)) else None)
        else:
            rgb = load_image(image)
        page = Page(source=source, width=rgb.shape[1], height=rgb.shape[0], engine=self.engine_name,
                    restorer=self.restorer_name, compare=self.compare, keep=self.keep)

        t0 = time.perf_counter()
        quads, page.skipped_boxes = self.detect(rgb)
        crops = self.crop(rgb, quads)
        flags = self.stage.select(crops, quads)
        t1 = time.perf_counter()
        # Read the originals first: the words left alone, and the restored ones whose original
        # reading is used (keep policy, --compare) or whose probabilities guide SGENet (the
        # engine's recogniser is the prior: it need not run again). No crop is read twice.
        first = [i for i, f in enumerate(flags)
                 if not f or self.compare or self.policy.reads_original or self.guidance is not None]
        first_readings, first_probs = self.recognize_with_probs([crops[i] for i in first], self.guidance)
        originals: list = [None] * len(crops)
        probs: list = [None] * len(crops)
        for k, i in enumerate(first):
            originals[i] = first_readings[k]
            probs[i] = first_probs[k] if first_probs is not None else None
        # A confident enough reading of the original is kept: that crop is not restored.
        flags = [f and not (originals[i] is not None and self.policy.trusts(originals[i]))
                 for i, f in enumerate(flags)]
        t2 = time.perf_counter()
        final, flags = self.restore(crops, quads, flags, probs)
        t3 = time.perf_counter()
        restored_idx = [i for i, f in enumerate(flags) if f]
        readings = list(originals)
        for i, reading in zip(restored_idx, self.recognize([final[i] for i in restored_idx])):
            readings[i] = reading
        t4 = time.perf_counter()
        page.timings = {"detect": t1 - t0, "recognize": t2 - t1, "restore": t3 - t2, "recognize_restored": t4 - t3}

        # The engine alone on the restored words: for --compare, and for the keep policy.
        baseline = [o if o is not None else r for o, r in zip(originals, readings)]
        kept, kept_original = self.policy.apply(baseline, readings, flags)

        for i, (quad, (text, conf)) in enumerate(zip(quads, kept)):
            word = Word(quad=quad, text=text, confidence=float(conf), restored=flags[i],
                        kept_original=kept_original[i])
            if self.compare:
                word.baseline_text, word.baseline_confidence = baseline[i][0], float(baseline[i][1])
            page.words.append(word)
            if self.keep_crops and flags[i]:
                page.crops.append((i, crops[i], final[i]))
        self.host.call("page_done", page=page, options=self.options)
        return page

    def run_document(self, path: str | Path, dpi: int = DEFAULT_DPI, doc: Document | None = None) -> Document:
        """OCR every page of a file (PDF pages rendered at ``dpi``, TIFF pages, animation
        frames; a plain image is one page). A page that cannot be read is recorded in
        ``Document.errors`` with its number; the other pages go on."""
        doc = doc if doc is not None else Document()
        for part in iter_pages(path, dpi):
            if part.error:
                doc.errors.append({"source": str(path), "page": part.number, "error": part.error})
                continue
            try:
                page = self.run(part.image, source=str(path))
            except EngineOutputError as exc:
                doc.errors.append(engine_output_error(exc, str(path), part.number if part.count > 1 else None))
                continue
            page.page = part.number if part.count > 1 else None
            doc.pages.append(page)
        return doc

    def run_many(self, inputs: Iterable, progress: bool = False, dpi: int = DEFAULT_DPI) -> Document:
        """OCR several inputs (files: every page; arrays, bytes, PIL images: one page each);
        a bad input, or a page the engine returned a malformed result for, is recorded in
        ``Document.errors``, the rest go on."""
        from tqdm import tqdm

        inputs = list(inputs)
        doc = Document()
        for item in tqdm(inputs, desc="inputs", unit="file", disable=not progress or len(inputs) < 2):
            try:
                if isinstance(item, (str, Path)):
                    self.run_document(item, dpi, doc)
                else:
                    doc.pages.append(self.run(item))
            except InputImageError as exc:
                doc.errors.append({"source": str(item), "error": str(exc)})
            except EngineOutputError as exc:
                doc.errors.append(engine_output_error(exc, str(item)))
        return doc

    def _engine_call(self, method: str, *args):
        self._check_open()
        with self._blame_engine(method):
            return getattr(self.engine, method)(*args)

    def _blame_engine(self, method: str):
        return blame_plugin(self.host.engines.owner(self.engine_name), f"{method} of engine {self.engine_name!r}")

    def _check_open(self) -> None:
        # A closed engine may be freed native code (Tesseract segfaulted): refuse by name instead.
        if self.closed:
            raise UsageError("this Pipeline is closed (after close() or its with block): make a new one")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.restorer.close()
        self.engine.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
