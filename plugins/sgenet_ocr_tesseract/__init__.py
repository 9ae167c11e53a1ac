"""sgenet_ocr plugin: the ``tesseract`` engine (Tesseract 5 via tesserocr), independent of PP-OCR.

``recognize`` reads each crop in Tesseract's single-line mode (PSM 7); ``detect`` returns the
word boxes of Tesseract's own layout analysis (sparse-text mode, no recognition pass).

Why tesserocr rather than the ``tesseract`` command line: it installs from PyPI as a
self-contained wheel (it bundles libtesseract and leptonica, nothing to compile), and it keeps
one loaded Tesseract in process, so reading a page's words costs milliseconds each instead of
one process start (and one model load) per crop. The language data is the only system part:
Debian/Ubuntu ``apt-get install tesseract-ocr-eng`` (the engine finds it through the
``tessdata`` option, ``$TESSDATA_PREFIX`` or the usual install folders and passes it to
Tesseract explicitly, since the wheel's built-in default path does not exist on most systems).

Engine options: ``language`` (default "eng"), ``tessdata`` (folder holding
``<language>.traineddata``), ``margin`` (border to add around crops, in crop heights).
"""
from __future__ import annotations

from sgenet_ocr.plugin_manager import hookimpl


def create_engine(**options):
    """Factory registered as engine ``tesseract``."""
    from sgenet_ocr.registry import check_options

    from .engine import TesseractEngine, import_tesserocr

    check_options(TesseractEngine, options, "engine 'tesseract'")  # a misspelt option is the user's error
    import_tesserocr()  # a missing package is reported before anything else
    return TesseractEngine(**options)


@hookimpl
def register_engines(register):
    register("tesseract", create_engine)
