"""A test-only plugin whose restoration decision raises, to check the error names the plugin."""
from sgenet_ocr import hookimpl


@hookimpl
def needs_restoration(crop, quad, text_height, options):
    raise ZeroDivisionError("boom in the decision hook")
