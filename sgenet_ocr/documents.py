"""Multi-page input: PDF pages (rendered with pypdfium2), every page of a TIFF, every frame of an
animated GIF/WebP/PNG. Single-page images go through :func:`~sgenet_ocr.imaging.load_image`
unchanged, so they read exactly as before.

:func:`iter_pages` yields one :class:`PageImage` per page; a page that cannot be read carries its
one-line ``error`` instead of pixels, so one bad page never loses the others. Whole-file problems
(missing, not a document, broken or encrypted PDF) raise :class:`InputImageError` before any page.
"""
from __future__ import annotations

import numbers
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import InputImageError, MissingDependencyError, UsageError
from .imaging import IMAGE_SUFFIXES, MAX_PIXELS, load_image, pil_to_rgb

PDF_SUFFIXES = {".pdf"}
INPUT_SUFFIXES = IMAGE_SUFFIXES | PDF_SUFFIXES
DEFAULT_DPI = 200  # small print stays small, as it was scanned; 300 DPI quadruples the pixels


@dataclass
class PageImage:
    """One page of an input file: RGB ``uint8`` pixels or the reason it could not be read."""

    number: int  # 1-based
    count: int  # pages in the file
    image: np.ndarray | None = None
    error: str | None = None


def is_pdf(path: Path) -> bool:
    if Path(path).suffix.lower() in PDF_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(5) == b"%PDF-"
    except OSError:
        return False


def check_dpi(dpi) -> None:
    """A whole number >= 1; UsageError if not (PDFium renders 0 DPI as "Crop exceeds page
    dimensions", which would blame the PDF)."""
    if isinstance(dpi, bool) or not isinstance(dpi, numbers.Integral) or dpi < 1:
        raise UsageError(f"dpi must be a whole number >= 1, got {dpi!r}")


def iter_pages(path: str | Path, dpi: int = DEFAULT_DPI, only: int | None = None) -> Iterator[PageImage]:
    """Every page of ``path`` (PDF, multi-page TIFF, animated image or a plain image); with
    ``only``, just that page (1-based; nothing when the file has fewer)."""
    check_dpi(dpi)
    path = Path(path)
    if not path.is_file():
        load_image(path)  # raises the one-line reason (missing, a folder, ...)
    if is_pdf(path):
        yield from _pdf_pages(path, dpi, only)
        return
    frames = _frame_count(path)
    if frames <= 1:
        if only in (None, 1):
            yield PageImage(1, 1, image=load_image(path))
        return
    yield from _frames(path, frames, only)


def _indices(count: int, only: int | None) -> range:
    """The 0-based pages to read: all, or just ``only`` (1-based) when the file has it."""
    if only is None:
        return range(count)
    return range(only - 1, only) if 1 <= only <= count else range(0)


def _frame_count(path: Path) -> int:
    try:
        with Image.open(path) as img:
            return int(getattr(img, "n_frames", 1))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return 1  # load_image names the problem


def _frames(path: Path, count: int, only: int | None = None) -> Iterator[PageImage]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            for index in _indices(count, only):
                try:
                    img.seek(index)
                    w, h = img.size
                    if w * h > MAX_PIXELS:
                        raise InputImageError(f"image too large ({w}x{h})")
                    img.load()
                    yield PageImage(index + 1, count, image=pil_to_rgb(img.copy()))
                except InputImageError as exc:
                    yield PageImage(index + 1, count, error=f"{path}: page {index + 1}: {exc}")
                except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombWarning) as exc:
                    yield PageImage(index + 1, count, error=f"{path}: page {index + 1}: corrupt or truncated ({exc})")


def _open_pdf(path: Path):
    try:
        import pypdfium2 as pdfium
    except ImportError:
        raise MissingDependencyError("pypdfium2", "pdf", "PDF input needs 'pypdfium2'") from None
    if path.is_file() and path.stat().st_size == 0:
        raise InputImageError(f"{path}: empty file")
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise InputImageError(f"{path}: PDF is encrypted (password protected)") from None
        if _has_no_pages(path):
            raise InputImageError(f"{path}: PDF has no pages") from None
        raise InputImageError(f"{path}: broken PDF ({reason})") from None


def _has_no_pages(path: Path) -> bool:
    """Whether a PDF that PDFium refused is a sound one without pages. PDFium refuses those too,
    and its error code is then whatever an earlier failure left ("Success" in a fresh process), so
    ask pikepdf (OCRmyPDF's dependency) where it is installed."""
    try:
        import pikepdf
    except ImportError:
        return False
    try:
        with pikepdf.open(path) as pdf:
            return len(pdf.pages) == 0
    except Exception:  # noqa: BLE001 - any failure means it is broken, which the caller says
        return False


def _pdf_pages(path: Path, dpi: int, only: int | None = None) -> Iterator[PageImage]:
    pdf = _open_pdf(path)
    try:
        count = len(pdf)
        if count == 0:
            raise InputImageError(f"{path}: PDF has no pages")
        scale = dpi / 72.0
        for index in _indices(count, only):
            try:
                page = pdf[index]
                w, h = (round(v * scale) for v in page.get_size())
                if w * h > MAX_PIXELS:
                    raise InputImageError(f"{w}x{h} px at {dpi} DPI is over the {MAX_PIXELS / 1e6:.0f} MP limit")
                bitmap = page.render(scale=scale)
                yield PageImage(index + 1, count, image=pil_to_rgb(bitmap.to_pil()))
            except InputImageError as exc:
                yield PageImage(index + 1, count, error=f"{path}: page {index + 1}: {exc}")
            except Exception as exc:  # noqa: BLE001 - pdfium reports page damage in several types
                yield PageImage(index + 1, count, error=f"{path}: page {index + 1}: cannot render ({exc})")
    finally:
        pdf.close()


def page_count(path: str | Path) -> int:
    """Pages of a PDF or frames of an image file (1 for anything unreadable: loading names it)."""
    path = Path(path)
    if not path.is_file():
        return 1
    if is_pdf(path):
        try:
            pdf = _open_pdf(path)
        except InputImageError:
            return 1
        try:
            return len(pdf)
        finally:
            pdf.close()
    return _frame_count(path)


def load_page(path: str | Path, number: int | None, dpi: int = DEFAULT_DPI) -> np.ndarray:
    """One page's pixels again (1-based ``number``; None: a single image), e.g. to annotate it."""
    if number is None:
        return load_image(path)
    for page in iter_pages(path, dpi, only=number):  # renders that page alone
        if page.error:
            raise InputImageError(page.error)
        return page.image
    raise InputImageError(f"{path}: has no page {number}")


def list_inputs(folder: str | Path) -> list[Path]:
    """Images and PDFs under ``folder``, sorted. InputImageError when the folder itself cannot
    be read (rather than reporting it as empty)."""
    try:
        with os.scandir(folder):
            pass
    except PermissionError:
        raise InputImageError(f"{folder}: folder cannot be read (permission denied)") from None
    except OSError as exc:
        raise InputImageError(f"{folder}: folder cannot be read ({exc.strerror or exc})") from None
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in INPUT_SUFFIXES and p.is_file())
