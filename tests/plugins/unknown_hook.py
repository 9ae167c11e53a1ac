"""A test-only plugin implementing a hook that does not exist."""
from sgenet_ocr import hookimpl


@hookimpl
def restore_everything(crops):
    return crops
