"""What OCRmyPDF's ``ocrmypdf`` entry point registers: the hooks of :mod:`.ocrmypdf_plugin`.

A module of its own because pluggy refuses one module registered twice, and a user may also name
the plugin with ``ocrmypdf --plugin sgenet_ocr.ocrmypdf_plugin``; the hooks tolerate running twice.
"""
from .ocrmypdf_plugin import add_options, check_options, get_ocr_engine, register_options

__all__ = ["add_options", "check_options", "get_ocr_engine", "register_options"]
