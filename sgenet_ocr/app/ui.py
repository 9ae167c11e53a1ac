"""The page, laid out with Gradio: settings and upload on the left, results on the right.

Import this only after :func:`sgenet_ocr.app.__main__.offline_environment` (no telemetry).
"""
from __future__ import annotations

import html
import tempfile
from pathlib import Path

import gradio as gr

from ..imaging import IMAGE_SUFFIXES
from . import DEFAULT_RESTORER, ENGINES, RESTORERS, PipelineCache, analyze, keep_choices, known_names

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
TITLE = "sgenet-ocr: see the restoration stage at work"
INTRO = """# sgenet-ocr: see it before you trust it
Upload a photo, a scan or a PDF page, pick an engine and a restorer, and compare: boxes are
**green** where the small crop was restored, **blue** where the engine read it alone, **orange**
where restoration changed the reading. Below, each restored crop before and after, with what the
engine read each time. Everything runs on this machine."""
CSS = """
#status .sgenet-error {color:#b00020; font-weight:600; font-family:monospace; padding:6px 0;}
#status .sgenet-summary {padding:6px 0;}
"""


def examples() -> list[str]:
    if not EXAMPLES_DIR.is_dir():
        return []
    return sorted(str(p) for p in EXAMPLES_DIR.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def build(cache: PipelineCache, engine: str = "easyocr", restorer: str | None = None,
          min_height: float = 24, keep: str = "confident") -> gr.Blocks:
    workdir = Path(tempfile.mkdtemp(prefix="sgenet_ocr_app_"))
    engines = known_names("engines", ENGINES)
    restorers = [DEFAULT_RESTORER] + known_names("restorers", RESTORERS)

    def run(upload, engine, restorer, min_height, keep, pdf_page):
        result = analyze(cache, upload, engine, restorer, min_height, keep, pdf_page,
                         out_dir=Path(tempfile.mkdtemp(dir=workdir)))
        if result.error:
            status = f"<div class='sgenet-error'>{html.escape(result.error)}</div>"
            return status, None, "", "", None
        status = f"<div class='sgenet-summary'>{result.summary}</div>"
        return status, result.annotated, result.crops_html, result.timings_html, result.json_path

    def on_change(upload, *settings):
        if not upload:  # cleared: no error, just nothing shown
            return "", None, "", "", None
        return run(upload, *settings)

    with gr.Blocks(title=TITLE, delete_cache=(3600, 3600)) as page:  # uploads older than an hour go
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                upload = gr.File(label="Image or PDF", file_types=sorted(IMAGE_SUFFIXES) + [".pdf"],
                                 elem_id="upload")
                engine_in = gr.Dropdown(engines, value=engine, label="Engine", elem_id="engine")
                restorer_in = gr.Dropdown(restorers, value=restorer or DEFAULT_RESTORER, label="Restorer",
                                          info="default: the engine's preferred one, as on the command line",
                                          elem_id="restorer")
                min_height_in = gr.Number(value=min_height, minimum=0, label="Min height (px)",
                                          info="crops with text lower than this are restored", elem_id="min-height")
                keep_in = gr.Radio(keep_choices(), value=keep, label="Keep",
                                   info="confident: the more confident reading of original and restored crop",
                                   elem_id="keep")
                pdf_page_in = gr.Number(value=1, minimum=1, precision=0, label="PDF page", elem_id="pdf-page")
                button = gr.Button("Run OCR", variant="primary", elem_id="run")
                if examples():
                    gr.Examples(examples(), inputs=[upload], label="Shipped examples")
            with gr.Column(scale=3):
                status = gr.HTML(elem_id="status")
                annotated = gr.Image(label="Annotated page", show_label=False, type="pil", interactive=False,
                                     buttons=["download", "fullscreen"], elem_id="annotated")  # label hid the legend
                gr.Markdown("### Restored crops: original | restored")
                crops = gr.HTML(elem_id="crops")
                with gr.Row():
                    timings = gr.HTML(elem_id="timings")
                    json_out = gr.File(label="Results JSON", interactive=False, elem_id="json")
        inputs = [upload, engine_in, restorer_in, min_height_in, keep_in, pdf_page_in]
        outputs = [status, annotated, crops, timings, json_out]
        upload.change(on_change, inputs, outputs, concurrency_limit=4)
        button.click(run, inputs, outputs, concurrency_limit=4)
    return page
