"""sgenet-ocr: make existing OCR engines read small, blurry text.

SGENet super-resolution as a pluggy stage between text detection and recognition.
"""
from .attach import attach, detach, hook, unhook
from .errors import SgenetOcrError
from .hookspecs import hookimpl
from .options import StageOptions
from .pipeline import Pipeline
from .results import Document, Page, Word

__version__ = "0.1.0"
__all__ = ["Pipeline", "attach", "detach", "hook", "unhook", "Page", "Word", "Document", "StageOptions",
           "hookimpl", "SgenetOcrError", "__version__"]
