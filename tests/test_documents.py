"""Multi-page input (PDF, TIFF, animated images) and the OCRmyPDF plugin, with real files."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from sgenet_ocr.documents import INPUT_SUFFIXES, iter_pages, page_count
from sgenet_ocr.errors import InputImageError, UsageError


def _pages(count: int, size=(200, 100)) -> list[Image.Image]:
    pages = []
    for i in range(count):
        img = Image.new("RGB", size, "white")
        ImageDraw.Draw(img).rectangle([10 + 20 * i, 10, 40 + 20 * i, 40], fill=(200, 0, 0))
        pages.append(img)
    return pages


def test_pdf_pages_render_at_the_asked_resolution(tmp_path):
    pdf = tmp_path / "doc.pdf"
    first, *rest = _pages(3)
    first.save(pdf, save_all=True, append_images=rest, resolution=100)  # 2 x 1 inch pages
    pages = list(iter_pages(pdf, dpi=150))
    assert [(p.number, p.count) for p in pages] == [(1, 3), (2, 3), (3, 3)]
    assert all(p.error is None and p.image.shape == (150, 300, 3) for p in pages)
    # each page is its own: the red square moves right page by page
    reds = [int(np.argmax(p.image[:, :, 0].astype(int) - p.image[:, :, 1] > 100) % 300) for p in pages]
    assert reds[0] < reds[1] < reds[2]


def test_tiff_gives_every_page_and_gif_every_frame(tmp_path):
    tiff, gif = tmp_path / "scan.tiff", tmp_path / "anim.gif"
    first, *rest = _pages(3)
    first.save(tiff, save_all=True, append_images=rest)
    first.save(gif, save_all=True, append_images=rest, duration=100)
    for path in (tiff, gif):
        pages = list(iter_pages(path))
        assert len(pages) == 3 and all(p.image.shape == (100, 200, 3) for p in pages)
        assert not np.array_equal(pages[0].image, pages[2].image)


def test_single_images_read_as_before(tmp_path):
    from sgenet_ocr.imaging import load_image

    path = tmp_path / "one.png"
    _pages(1)[0].save(path)
    (page,) = iter_pages(path)
    assert (page.number, page.count) == (1, 1)
    np.testing.assert_array_equal(page.image, load_image(path))
    assert ".pdf" in INPUT_SUFFIXES


def test_broken_and_encrypted_pdfs_are_named(tmp_path):
    pikepdf = pytest.importorskip("pikepdf")
    good = tmp_path / "good.pdf"
    _pages(1)[0].save(good, resolution=72)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(good.read_bytes()[:200])
    with pytest.raises(InputImageError, match="broken.pdf: broken PDF"):
        list(iter_pages(broken))
    locked = tmp_path / "locked.pdf"
    with pikepdf.open(good) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(owner="o", user="secret"))
    with pytest.raises(InputImageError, match="locked.pdf: PDF is encrypted"):
        list(iter_pages(locked))
    not_pdf = tmp_path / "fake.pdf"
    not_pdf.write_text("hello")
    with pytest.raises(InputImageError, match="fake.pdf"):
        list(iter_pages(not_pdf))
    empty = tmp_path / "empty.pdf"
    empty.touch()
    with pytest.raises(InputImageError, match="empty.pdf: empty file$"):
        list(iter_pages(empty))
    no_pages = tmp_path / "no_pages.pdf"
    pikepdf.new().save(no_pages)
    with pytest.raises(InputImageError, match="no_pages.pdf: PDF has no pages$"):
        list(iter_pages(no_pages))
    assert page_count(empty) == page_count(no_pages) == 1  # loading names what is wrong


# ----------------------------------------------------------------------------- OCRmyPDF plugin
def _receipt_pdf(shared_data: Path, out: Path, dpi: int = 100) -> Path:
    """One SROIE receipt (scanned at ~150 DPI) as a PDF page at ``dpi``: smaller print."""
    image = Image.open(shared_data / "sroie_dev" / "images" / "000.jpg").convert("RGB")
    scale = dpi / 150
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    image.save(out, resolution=dpi)
    return out


def _text_boxes(pdf: Path) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each character of the PDF's text layer with its box in PDF points (bottom-left origin)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    page = doc[0]
    text = page.get_textpage()
    chars = [(text.get_text_range(i, 1), text.get_charbox(i)) for i in range(text.count_chars())]
    doc.close()
    return chars


@pytest.mark.slow
@pytest.mark.needs_data
def test_ocrmypdf_plugin_text_layer_sits_on_the_pipeline_words(shared_data, tmp_path):
    pytest.importorskip("ocrmypdf")
    from sgenet_ocr import Pipeline

    source = _receipt_pdf(shared_data, tmp_path / "receipt.pdf")
    out = tmp_path / "out.pdf"
    cmd = [sys.executable, "-m", "ocrmypdf", "--plugin", "sgenet_ocr.ocrmypdf_plugin", "--sgenet-engine",
           "rapidocr", "--sgenet-restorer", "sgenet", "--jobs", "1", "--output-type", "pdf", "--quiet",
           str(source), str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]

    (page_image,) = iter_pages(source, dpi=100)
    with Pipeline(engine="rapidocr", restorer="sgenet") as ocr:
        page = ocr.run(page_image.image)
    assert sum(w.restored for w in page.words) > 0  # small print went through the stage
    chars = _text_boxes(out)
    height_pt = page.height * 72 / 100
    found = 0
    words = [w for w in page.words if w.text.strip()]
    for word in words:
        x0, y0 = np.asarray(word.quad).min(axis=0) * 72 / 100
        x1, y1 = np.asarray(word.quad).max(axis=0) * 72 / 100
        # chars whose centre lies in the word's box (page y grows down, PDF y grows up)
        inside = "".join(c for c, (l, b, r, t) in chars
                         if x0 - 1 <= (l + r) / 2 <= x1 + 1 and height_pt - y1 - 1 <= (b + t) / 2 <= height_pt - y0 + 1)
        found += "".join(inside.split()) == "".join(word.text.split())
    assert len(words) > 20
    assert found / len(words) >= 0.8, f"{found}/{len(words)} words at their places"


def test_plugin_stays_out_of_plain_ocrmypdf_runs():
    pytest.importorskip("ocrmypdf")
    from types import SimpleNamespace

    from sgenet_ocr import ocrmypdf_plugin

    assert ocrmypdf_plugin.get_ocr_engine(None) is None
    assert ocrmypdf_plugin.get_ocr_engine(SimpleNamespace(sgenet=ocrmypdf_plugin.SgenetOptions())) is None
    chosen = SimpleNamespace(sgenet=ocrmypdf_plugin.SgenetOptions(engine="tesseract", min_height=30))
    assert isinstance(ocrmypdf_plugin.get_ocr_engine(chosen), ocrmypdf_plugin.SgenetOcrEngine)
    assert ocrmypdf_plugin._settings(chosen) == {"engine": "tesseract", "min_height": 30}


def test_plugin_options_without_the_engine_are_refused():
    """--sgenet-restorer without --sgenet-engine would leave OCRmyPDF on its own Tesseract and the
    option silently unused."""
    pytest.importorskip("ocrmypdf")
    from types import SimpleNamespace

    from ocrmypdf.exceptions import BadArgsError

    from sgenet_ocr import ocrmypdf_plugin

    orphan = SimpleNamespace(sgenet=ocrmypdf_plugin.SgenetOptions(restorer="sgenet", keep="restored"))
    with pytest.raises(BadArgsError, match="--sgenet-restorer, --sgenet-keep need --sgenet-engine"):
        ocrmypdf_plugin.check_options(orphan)
    ocrmypdf_plugin.check_options(SimpleNamespace(sgenet=ocrmypdf_plugin.SgenetOptions()))  # plain OCRmyPDF


def test_plugin_parses_when_registered_twice():
    """Installed, OCRmyPDF loads our entry-point module by itself; a user may also pass --plugin."""
    pytest.importorskip("ocrmypdf")
    from importlib.metadata import entry_points

    from ocrmypdf.cli import get_options_and_plugins

    from sgenet_ocr import ocrmypdf_plugin

    installed = any(ep.value == "sgenet_ocr.ocrmypdf_entry" for ep in entry_points(group="ocrmypdf"))
    entry = [] if installed else ["--plugin", "sgenet_ocr.ocrmypdf_entry"]  # as the entry point would
    ours = ["--sgenet-engine", "tesseract", "--sgenet-min-height", "30", "in.pdf", "out.pdf"]
    for args in ([*entry, *ours], [*entry, "--plugin", "sgenet_ocr.ocrmypdf_plugin", *ours]):
        options, manager = get_options_and_plugins(args)
        assert (options.sgenet.engine, options.sgenet.min_height, options.sgenet.restorer) == ("tesseract", 30.0, None)
        assert isinstance(manager.get_ocr_engine(options=options), ocrmypdf_plugin.SgenetOcrEngine)
    plain, manager = get_options_and_plugins([*entry, "in.pdf", "out.pdf"])
    assert not isinstance(manager.get_ocr_engine(options=plain), ocrmypdf_plugin.SgenetOcrEngine)



# ----------------------------------------------------------------------------- CLI and Pipeline
def _text_pages(count: int) -> list[Image.Image]:
    """Pages with a few printed words each (a different word per page)."""
    from PIL import ImageFont

    from sgenet_ocr.data.synth import font_files

    font = ImageFont.truetype(next(f for f in font_files() if f.endswith("DejaVuSans.ttf")), 40)
    pages = []
    for i in range(count):
        img = Image.new("RGB", (560, 140), "white")
        ImageDraw.Draw(img).text((20, 40), ["HELLO WORLD", "OPEN DAILY", "EXIT HERE"][i % 3], fill="black", font=font)
        pages.append(img)
    return pages


def _cli(*argv) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "sgenet_ocr.pipeline", *map(str, argv)],
                          capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.slow
def test_cli_reads_every_page_of_a_pdf_and_a_tiff(tmp_path):
    import json

    pdf, tiff = tmp_path / "doc.pdf", tmp_path / "scan.tif"
    first, *rest = _text_pages(3)
    first.save(pdf, save_all=True, append_images=rest[:1], resolution=100)
    first, *rest = _text_pages(3)  # fresh images: saving a PDF leaves settings on them
    first.save(tiff, save_all=True, append_images=rest)
    out = tmp_path / "out.json"
    code, stdout, stderr = _cli(pdf, tiff, "--engine", "tesseract", "--restorer", "bicubic", "--dpi", "100",
                                "--json", out, "--annotate", tmp_path / "ann", "-q")
    assert code == 0, stderr
    pages = json.loads(out.read_text())["pages"]
    assert [(Path(p["source"]).name, p["page"]) for p in pages] == [
        ("doc.pdf", 1), ("doc.pdf", 2), ("scan.tif", 1), ("scan.tif", 2), ("scan.tif", 3)]
    texts = [" ".join(w["text"] for w in p["words"]).upper() for p in pages]
    assert "HELLO" in texts[0] and "OPEN" in texts[1] and "HELLO" in texts[2] and "OPEN" in texts[3]
    assert sorted(p.name for p in (tmp_path / "ann").iterdir()) == [
        "doc-p1.png", "doc-p2.png", "scan-p1.png", "scan-p2.png", "scan-p3.png"]


def test_a_dpi_below_one_is_a_usage_error_not_a_broken_pdf(tmp_path):
    pdf = tmp_path / "doc.pdf"
    _text_pages(1)[0].save(pdf, resolution=100)
    code, _, stderr = _cli(pdf, "--engine", "tesseract", "--dpi", "0", "-q")
    assert code == 2 and stderr.strip() == "sgenet-ocr: error: dpi must be a whole number >= 1, got 0"
    for bad in (0, -72, 1.5, True):  # the library says the same, before rendering anything
        with pytest.raises(UsageError, match="dpi must be a whole number >= 1"):
            list(iter_pages(pdf, dpi=bad))


def test_cli_names_a_broken_pdf_and_keeps_the_others(tmp_path):
    import json

    broken, good = tmp_path / "broken.pdf", tmp_path / "one.png"
    broken.write_bytes(b"%PDF-1.7\n garbage")
    _text_pages(1)[0].save(good)
    out = tmp_path / "out.json"
    code, _, stderr = _cli(broken, good, "--engine", "tesseract", "--restorer", "identity", "--json", out, "-q")
    assert code == 3
    assert "broken.pdf: broken PDF" in stderr and "Traceback" not in stderr
    result = json.loads(out.read_text())
    assert [Path(p["source"]).name for p in result["pages"]] == ["one.png"]
    assert "page" not in result["pages"][0]  # single images keep the old schema
    assert result["errors"][0]["source"].endswith("broken.pdf")


def test_pipeline_run_refuses_a_multi_page_file_and_reads_a_one_page_pdf(tmp_path):
    from sgenet_ocr import Pipeline
    from sgenet_ocr.errors import UsageError

    many, one = tmp_path / "many.pdf", tmp_path / "one.pdf"
    first, second = _text_pages(2)
    first.save(many, save_all=True, append_images=[second], resolution=100)
    first.save(one, resolution=100)
    with Pipeline(engine="tesseract", restorer="identity") as ocr:
        with pytest.raises(UsageError, match="document of 2 pages; use run_document"):
            ocr.run(many)
        assert "HELLO" in ocr.run(one).text.upper()
        doc = ocr.run_document(many, dpi=100)
    assert [p.page for p in doc.pages] == [1, 2] and not doc.errors


def test_load_page_renders_only_that_page(tmp_path, monkeypatch):
    import sgenet_ocr.documents as documents

    pdf = tmp_path / "doc.pdf"
    first, *rest = _pages(3)
    first.save(pdf, save_all=True, append_images=rest, resolution=100)
    rendered = []
    original = documents.pil_to_rgb
    monkeypatch.setattr(documents, "pil_to_rgb", lambda img: rendered.append(1) or original(img))
    third = documents.load_page(pdf, 3, dpi=100)
    assert len(rendered) == 1
    np.testing.assert_array_equal(third, list(iter_pages(pdf, dpi=100))[2].image)
    with pytest.raises(InputImageError, match="has no page 4"):
        documents.load_page(pdf, 4, dpi=100)
