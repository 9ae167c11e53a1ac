"""OCRmyPDF plugin: an OCR engine whose text layer comes from the sgenet-ocr pipeline.

OCRmyPDF renders each page, asks its OCR engine for the words and lays them as invisible text over
the page. This engine answers with our pipeline: a chosen engine (EasyOCR, RapidOCR, PaddleOCR or
Tesseract) reads the page, and the small words go through the restoration stage first.

    ocrmypdf --plugin sgenet_ocr.ocrmypdf_plugin --sgenet-engine rapidocr in.pdf out.pdf

It is also registered under OCRmyPDF's ``ocrmypdf`` entry point, so once sgenet-ocr is installed
``--sgenet-engine NAME`` alone selects it. Without that option OCRmyPDF keeps its own engine (the
plugin never takes over a plain ``ocrmypdf`` run). Options: ``--sgenet-engine``,
``--sgenet-restorer``, ``--sgenet-min-height``, ``--sgenet-keep``. Models load once per worker
process. Uses OCRmyPDF 17's ``generate_ocr`` element tree: one line per detected box, its words
laid out along the box by character count.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from ocrmypdf import hookimpl
from ocrmypdf.hocrtransform import BoundingBox, OcrClass, OcrElement
from ocrmypdf.pluginspec import OcrEngine, OrientationConfidence
from PIL import Image
from pydantic import BaseModel

if TYPE_CHECKING:
    from .pipeline import Pipeline
    from .results import Page

NAMESPACE = "sgenet"


class SgenetOptions(BaseModel):
    """``--sgenet-*`` options (OCRmyPDF's plugin option model)."""

    engine: str | None = None
    restorer: str | None = None
    min_height: float | None = None
    keep: str | None = None


@hookimpl
def register_options():
    return {NAMESPACE: SgenetOptions}


@hookimpl
def add_options(parser):
    if any("--sgenet-engine" in action.option_strings for action in parser._actions):
        return  # registered twice (entry point and --plugin): the options exist already
    group = parser.add_argument_group("sgenet-ocr", "Restore small text before recognising it (sgenet-ocr)")
    group.add_argument("--sgenet-engine", dest="sgenet_engine", metavar="NAME",
                       help="OCR engine of the sgenet-ocr pipeline (easyocr, rapidocr, paddleocr, tesseract); "
                            "selects this plugin's OCR engine")
    group.add_argument("--sgenet-restorer", dest="sgenet_restorer", metavar="NAME",
                       help="restorer (default: the engine's preferred one)")
    group.add_argument("--sgenet-min-height", dest="sgenet_min_height", type=float, metavar="PX",
                       help="restore words lower than this many page pixels (default 24)")
    group.add_argument("--sgenet-keep", dest="sgenet_keep", choices=("confident", "restored"),
                       help="which reading of a restored word to keep (default: confident)")


def _ours(options) -> SgenetOptions | None:
    """This plugin's options in OCRmyPDF's options (None before they are parsed)."""
    return getattr(options, NAMESPACE, None) if options is not None else None


def _settings(options) -> dict | None:
    """The pipeline settings asked for, or None when this engine was not selected."""
    ours = _ours(options)
    if ours is None or not ours.engine:
        return None
    settings = {"engine": ours.engine, "restorer": ours.restorer, "keep": ours.keep,
                "min_height": ours.min_height}
    return {k: v for k, v in settings.items() if v is not None}


def _orphan_options(options) -> list[str]:
    """Our options given without ``--sgenet-engine``: OCRmyPDF would run without this plugin and
    ignore them, a silent surprise."""
    ours = _ours(options)
    if ours is None or ours.engine:
        return []
    given = {"--sgenet-restorer": ours.restorer, "--sgenet-min-height": ours.min_height, "--sgenet-keep": ours.keep}
    return [flag for flag, value in given.items() if value is not None]


@hookimpl
def check_options(options):
    orphans = _orphan_options(options)
    if orphans:
        from ocrmypdf.exceptions import BadArgsError

        verb = "needs" if len(orphans) == 1 else "need"
        raise BadArgsError(f"sgenet-ocr: {', '.join(orphans)} {verb} --sgenet-engine NAME, which selects this "
                           "plugin's OCR engine; without it OCRmyPDF runs its own Tesseract")
    settings = _settings(options)
    if settings:
        from .errors import SgenetOcrError

        try:
            pipeline_for(settings)
        except SgenetOcrError as exc:
            from ocrmypdf.exceptions import BadArgsError

            raise BadArgsError(f"sgenet-ocr: {exc}") from None


_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _cached_pipeline(settings: tuple) -> "Pipeline":
    from .pipeline import Pipeline

    return Pipeline(**dict(settings))


def pipeline_for(settings: dict) -> "Pipeline":
    """One pipeline per settings per process: models load once per OCRmyPDF worker."""
    with _LOCK:
        return _cached_pipeline(tuple(sorted(settings.items())))


def page_element(page: "Page", dpi: float, page_number: int) -> OcrElement:
    """Our page as OCRmyPDF's element tree: a line per box, its words spread by character count."""
    lines = []
    for word in page.words:
        text = word.text.strip()
        if not text:
            continue
        quad = np.asarray(word.quad, dtype=float)
        left, top = quad.min(axis=0)
        right, bottom = quad.max(axis=0)
        left, top = max(0.0, left), max(0.0, top)
        right, bottom = min(float(page.width), right), min(float(page.height), bottom)
        if right <= left or bottom <= top:
            continue
        tokens = text.split()
        total = sum(len(t) for t in tokens) + len(tokens) - 1  # spaces count as characters
        step = (right - left) / max(total, 1)
        words, x = [], left
        for token in tokens:
            end = min(right, x + step * len(token))
            words.append(OcrElement(ocr_class=OcrClass.WORD, text=token, confidence=float(word.confidence),
                                    bbox=BoundingBox(left=x, top=top, right=end, bottom=bottom)))
            x = end + step
        lines.append(OcrElement(ocr_class=OcrClass.LINE, bbox=BoundingBox(left=left, top=top, right=right,
                                                                          bottom=bottom), children=words))
    return OcrElement(ocr_class=OcrClass.PAGE, bbox=BoundingBox(left=0, top=0, right=page.width, bottom=page.height),
                      dpi=float(dpi), page_number=page_number, children=lines)


class SgenetOcrEngine(OcrEngine):
    """OCRmyPDF's view of the sgenet-ocr pipeline."""

    @staticmethod
    def version() -> str:
        from . import __version__

        return __version__

    @staticmethod
    def creator_tag(options) -> str:
        settings = _settings(options) or {}
        return f"sgenet-ocr {SgenetOcrEngine.version()} ({settings.get('engine', '?')})"

    def __str__(self) -> str:
        return f"sgenet-ocr {self.version()}"

    @staticmethod
    def languages(options) -> set[str]:
        return {"eng"}  # the engines are set up with their English models

    @staticmethod
    def get_orientation(input_file: Path, options) -> OrientationConfidence:
        return OrientationConfidence(angle=0, confidence=0.0)

    @staticmethod
    def get_deskew(input_file: Path, options) -> float:
        return 0.0

    @staticmethod
    def supports_generate_ocr() -> bool:
        return True

    @staticmethod
    def generate_ocr(input_file: Path, options, page_number: int = 0) -> tuple[OcrElement, str]:
        pipeline = pipeline_for(_settings(options))
        with Image.open(input_file) as img:
            dpi = img.info.get("dpi", (300, 300))
            dpi = float(dpi[0] if isinstance(dpi, tuple) else dpi)
            page = pipeline.run(img.copy(), source=f"{input_file}")
        return page_element(page, dpi, page_number), page.text

    @staticmethod
    def generate_hocr(input_file: Path, output_hocr: Path, output_text: Path, options) -> None:
        raise NotImplementedError("sgenet-ocr provides generate_ocr(); OCRmyPDF 17 calls that")

    @staticmethod
    def generate_pdf(input_file: Path, output_pdf: Path, output_text: Path, options) -> None:
        raise NotImplementedError("sgenet-ocr renders through OCRmyPDF's fpdf2 renderer (generate_ocr)")


@hookimpl
def get_ocr_engine(options):
    return SgenetOcrEngine() if _settings(options) else None
