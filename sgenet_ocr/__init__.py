"""sgenet-ocr: make existing OCR engines read small, blurry text.

SGENet super-resolution as a pluggy stage between text detection and recognition.
"""
from .errors import SgenetOcrError
from .plugin_manager import hookimpl
from .hooking import hook, unhook
from .pipeline import Pipeline
from .results import Document, Page, Word

__version__ = "0.1.0"
__all__ = ["Pipeline", "hook", "unhook", "Page", "Word", "Document", "hookimpl", "SgenetOcrError", "__version__"]
