"""``python -m sgenet_ocr.app``: a local web page to look at what the restoration stage does.

This module is the page's logic, without the web UI library: :class:`PipelineCache` keeps one
:class:`~sgenet_ocr.Pipeline` per setting (models load once and serve every later request),
:func:`analyze` OCRs one upload with the public ``Pipeline`` API and turns the result into what
the page shows (annotated page, restored crop pairs, timings, the JSON download) or into the
CLI's one-line error. :mod:`sgenet_ocr.app.ui` lays it out with Gradio.
"""
from __future__ import annotations

import base64
import html
import io
import json
import tempfile
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from PIL import Image

from ..cli import error_prefix
from ..errors import InputImageError, SgenetOcrError
from ..documents import is_pdf, load_page, page_count
from ..keep import KEEP_POLICIES
from ..options import DEFAULT_MIN_HEIGHT

ENGINES = ("easyocr", "rapidocr", "paddleocr", "tesseract")
RESTORERS = ("sgenet", "sgenet-onnx", "bicubic", "identity")
DEFAULT_RESTORER = "default"  # the engine's preferred restorer, as with the CLI's --restorer left out
PDF_DPI = 150  # a page on screen: a fifth of the pixels of the CLI's 200 DPI


def error_line(message: str) -> str:
    """The CLI's one-line error, ``sgenet-ocr: error: ...``, for ``message``."""
    return error_prefix() + " ".join(str(message).split())


def keep_choices() -> list[str]:
    """The keep policies ``Pipeline(keep=...)`` accepts."""
    return list(KEEP_POLICIES)


def known_names(kind: str, fallback: tuple[str, ...]) -> list[str]:
    """Engine (``kind="engines"``) or restorer names registered by the plugins, else ``fallback``."""
    try:
        from ..plugin_manager import PluginHost

        names = list(getattr(PluginHost(), kind).names())
    except Exception:  # noqa: BLE001 - the page still works with the built-in names
        names = []
    return names or list(fallback)


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    pipeline: Any = None


class PipelineCache:
    """Pipelines by setting, built on first use and reused by every later request.

    A pipeline's models load when it is built, so a setting seen before costs no loading.
    Requests with the same setting run one at a time (engines are not all thread-safe); other
    settings run meanwhile. The least recently used pipeline beyond ``size`` is closed.
    """

    def __init__(self, size: int = 4, factory: Callable[..., Any] | None = None):
        if factory is None:
            from ..pipeline import Pipeline as factory
        self.size, self.factory = max(1, size), factory
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()

    @staticmethod
    def key(engine: str, restorer: str | None, min_height: float, keep: str) -> tuple:
        return (engine, restorer, float(min_height), keep)

    @contextmanager
    def use(self, engine: str, restorer: str | None, min_height: float, keep: str) -> Iterator[tuple[Any, float | None]]:
        """``(pipeline, seconds it took to build or None when reused)``, held for this request."""
        key = self.key(engine, restorer, min_height, keep)
        with self._lock:
            entry = self._entries.setdefault(key, _Entry())
            self._entries.move_to_end(key)
            evicted = []
            while len(self._entries) > self.size:
                evicted.append(self._entries.popitem(last=False)[1])
        for old in evicted:
            with old.lock:  # waits for a request still using it
                self._close(old)
        with entry.lock:
            built = None
            if entry.pipeline is None:
                t0 = time.perf_counter()
                try:
                    entry.pipeline = self.factory(engine=engine, restorer=restorer, min_height=min_height,
                                                  keep=keep, compare=True, keep_crops=True)
                except BaseException:
                    with self._lock:
                        if self._entries.get(key) is entry:
                            del self._entries[key]
                    raise
                built = time.perf_counter() - t0
            yield entry.pipeline, built

    def __len__(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        with self._lock:
            entries, self._entries = list(self._entries.values()), OrderedDict()
        for entry in entries:
            with entry.lock:
                self._close(entry)

    @staticmethod
    def _close(entry: _Entry) -> None:
        if entry.pipeline is not None:
            try:
                entry.pipeline.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
            entry.pipeline = None


@dataclass
class Result:
    """What the page shows for one request: either ``error`` or the rest."""

    error: str | None = None  # the CLI's one-line message
    annotated: Image.Image | None = None
    crops_html: str = ""
    timings_html: str = ""
    summary: str = ""
    json_path: str | None = None
    page: Any = None  # the sgenet_ocr.Page


def load_upload(path: str | Path, pdf_page: int = 1) -> np.ndarray:
    """An uploaded image, or one page of an uploaded PDF or multi-page TIFF, as RGB; errors name
    the file as uploaded."""
    path = Path(path)
    try:
        number = pdf_page if is_pdf(path) or page_count(path) > 1 else None
        return load_page(path, number, dpi=PDF_DPI)
    except InputImageError as exc:
        # Uploads are stored under a temporary folder: name the file as the user knows it.
        raise InputImageError(str(exc).replace(str(path), path.name)) from None


def analyze(cache: PipelineCache, upload: str | Path | None, engine: str, restorer: str | None,
            min_height: float, keep: str, pdf_page: int = 1, out_dir: str | Path | None = None) -> Result:
    """OCR one upload with the cached pipeline for these settings; never raises."""
    try:
        return _analyze(cache, upload, engine, restorer, min_height, keep, pdf_page, out_dir)
    except SgenetOcrError as exc:
        return Result(error=error_line(str(exc)))
    except Exception as exc:  # noqa: BLE001 - one line in the page, never a traceback
        return Result(error=error_line(f"internal error: {type(exc).__name__}: {exc}"))


def _analyze(cache, upload, engine, restorer, min_height, keep, pdf_page, out_dir) -> Result:
    from ..annotate import annotate_page

    if not upload:
        return Result(error=error_line("no input image given: upload an image or a PDF, or pick an example"))
    upload = Path(upload)
    restorer = None if restorer in (None, "", DEFAULT_RESTORER) else restorer
    min_height = DEFAULT_MIN_HEIGHT if min_height is None else float(min_height)
    rgb = load_upload(upload, int(pdf_page or 1))
    source = upload.name if upload.suffix.lower() != ".pdf" else f"{upload.name}#page={int(pdf_page or 1)}"
    with cache.use(engine, restorer, min_height, keep) as (pipeline, built):
        page = pipeline.run(rgb, source=source)
        restored_readings = _restored_readings(pipeline, page)
    annotated = annotate_page(rgb, page)

    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="sgenet_ocr_app_"))
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / f"{upload.stem}.json"
    json_path.write_text(json.dumps({"pages": [page.export()]}, indent=2, ensure_ascii=False), encoding="utf-8")
    restored = sum(w.restored for w in page.words)
    summary = (f"{html.escape(source)}: {page.width}x{page.height}, engine {html.escape(page.engine)}, "
               f"restorer {html.escape(page.restorer)}, keep {html.escape(page.keep)}; "
               f"{len(page.words)} words, {restored} restored (text lower than {min_height:g} px)")
    return Result(annotated=annotated, crops_html=crops_html(page, restored_readings),
                  timings_html=timings_html(page, built), summary=summary, json_path=str(json_path), page=page)


def _restored_readings(pipeline, page) -> dict[int, tuple[str, float]]:
    """The engine's reading of each restored crop, by word index.

    ``Word.text`` is that reading unless the keep policy kept the original crop's
    (``kept_original``); only those crops are read again here, to show both readings.
    """
    readings = {i: (w.text, w.confidence) for i, w in enumerate(page.words) if w.restored and not w.kept_original}
    missing = [(i, restored) for i, _, restored in page.crops if i not in readings]
    if missing:
        for (i, _), reading in zip(missing, pipeline.recognize([crop for _, crop in missing])):
            readings[i] = (str(reading[0]), float(reading[1]))
    return readings


def _data_uri(rgb: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _reading_html(label: str, text: str | None, confidence: float | None, kept: bool) -> str:
    shown = html.escape(text) if text else "<i>(nothing read)</i>"
    conf = "" if confidence is None else f" <span class='conf'>{confidence:.2f}</span>"
    mark = " <b class='kept-mark'>&#10003; kept</b>" if kept else ""
    cls = "reading kept" if kept else "reading"
    return f"<div class='{cls}'><span class='label'>{label}:</span> <span class='text'>{shown}</span>{conf}{mark}</div>"


CROPS_CSS = """
<style>
.sgenet-crops {display:flex; flex-wrap:wrap; gap:12px;}
.sgenet-crops .crop-pair {border:1px solid #ccc; border-radius:6px; padding:8px; background:#fff; color:#111;}
.sgenet-crops .images {display:flex; gap:10px; align-items:flex-end;}
.sgenet-crops figure {margin:0; text-align:center; font-size:12px; color:#555;}
.sgenet-crops img {height:64px; max-width:360px; object-fit:contain; border:1px solid #eee;}
.sgenet-crops img.original {image-rendering:pixelated;}
.sgenet-crops .reading {font-size:14px; margin-top:4px;}
.sgenet-crops .reading.kept {background:#e6f7ea; border-radius:4px;}
.sgenet-crops .conf {color:#666;}
.sgenet-crops .kept-mark {color:#0a7a34;}
.sgenet-timings td, .sgenet-timings th {padding:2px 10px; text-align:right;}
.sgenet-timings td:first-child, .sgenet-timings th:first-child {text-align:left;}
</style>
"""


def crops_html(page, restored_readings: dict[int, tuple[str, float]]) -> str:
    """One box per restored crop: original | restored, both readings with confidences, the kept one marked."""
    if not page.crops:
        return CROPS_CSS + "<p class='no-crops'>No crop was restored: no text lower than the minimum height.</p>"
    boxes = []
    for i, original, restored in page.crops:
        word = page.words[i]
        text, conf = restored_readings.get(i, (None, None))
        boxes.append(
            f"<div class='crop-pair' data-word='{i}'>"
            f"<div class='images'>"
            f"<figure><img class='original' src='{_data_uri(original)}' alt='original crop {i}'>"
            f"<figcaption>original {original.shape[1]}x{original.shape[0]}</figcaption></figure>"
            f"<figure><img class='restored' src='{_data_uri(restored)}' alt='restored crop {i}'>"
            f"<figcaption>restored {restored.shape[1]}x{restored.shape[0]}</figcaption></figure>"
            f"</div>"
            + _reading_html("engine alone", word.baseline_text, word.baseline_confidence, word.kept_original)
            + _reading_html("restored", text, conf, not word.kept_original)
            + "</div>")
    return CROPS_CSS + "<div class='sgenet-crops'>" + "".join(boxes) + "</div>"


STAGE_NAMES = {"detect": "detect and crop", "recognize": "recognize originals", "restore": "restore",
               "recognize_restored": "recognize restored crops"}


def timings_html(page, built: float | None) -> str:
    """Seconds per stage, their total, and the pipeline's loading time when this request built it."""
    rows = [(STAGE_NAMES.get(k, k), v) for k, v in page.timings.items()]
    rows.append(("<b>total</b>", sum(page.timings.values())))
    body = "".join(f"<tr><td>{name}</td><td>{seconds:.3f}</td></tr>" for name, seconds in rows)
    load = (f"<p class='load'>models loaded for this setting in {built:.1f} s (once: later requests reuse them)</p>"
            if built is not None else "<p class='load'>models reused from an earlier request</p>")
    return (CROPS_CSS + "<table class='sgenet-timings'><tr><th>stage</th><th>seconds</th></tr>"
            + body + "</table>" + load)
