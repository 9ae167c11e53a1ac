"""The local comparison page, ``python -m sgenet_ocr.app`` (issue #19).

The logic (``sgenet_ocr.app``) is tested directly; the page itself is started as a server and
driven by a real headless Chromium (Debian's ``chromium`` + ``chromium-driver``, through
Selenium) with every non-local request sent to a dead proxy, so it is also checked offline.
``SGENET_APP_SCREENSHOT=docs/app.png`` makes the browser test save the README's screenshot there.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from sgenet_ocr.app import PipelineCache, analyze, error_line, load_upload
from sgenet_ocr.errors import InputImageError, MissingDependencyError, UsageError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "street_sign.jpg"
CORRUPT = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # a PNG signature, then garbage


def _has_tesseract() -> bool:
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return False
    return True


needs_tesseract = pytest.mark.skipif(not _has_tesseract(), reason="the tesseract extra is not installed")


# --- the logic, without a browser -----------------------------------------------------------

class FakePipeline:
    built = 0

    def __init__(self, **settings):
        FakePipeline.built += 1
        self.settings, self.closed, self.runs = settings, False, 0

    def run(self, image, source=None):
        self.runs += 1
        time.sleep(0.01)
        return self

    def close(self):
        self.closed = True


def test_cache_builds_each_setting_once_and_closes_the_oldest():
    FakePipeline.built = 0
    cache = PipelineCache(size=2, factory=FakePipeline)
    with cache.use("tesseract", None, 24, "confident") as (first, built):
        assert built is not None and first.settings["compare"] and first.settings["keep_crops"]
    with cache.use("tesseract", None, 24, "confident") as (again, built):
        assert again is first and built is None
    with cache.use("rapidocr", "bicubic", 24, "confident") as (second, _):
        pass
    with cache.use("tesseract", None, 20, "restored") as (third, _):
        pass
    assert FakePipeline.built == 3 and len(cache) == 2 and first.closed and not second.closed
    cache.close()
    assert second.closed and third.closed


def test_cache_serves_concurrent_requests_from_one_pipeline():
    FakePipeline.built = 0
    cache = PipelineCache(size=4, factory=FakePipeline)
    seen = []

    def request():
        with cache.use("tesseract", None, 24, "confident") as (pipeline, _):
            pipeline.run(None)
            seen.append(pipeline)

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert FakePipeline.built == 1 and len(set(map(id, seen))) == 1 and seen[0].runs == 8


def test_a_failed_build_is_not_cached():
    cache = PipelineCache(factory=lambda **_: (_ for _ in ()).throw(UsageError("unknown engine 'x'")))
    with pytest.raises(UsageError):
        with cache.use("x", None, 24, "confident"):
            pass
    assert len(cache) == 0


def test_bad_uploads_get_the_cli_one_line_message(tmp_path):
    cache = PipelineCache(factory=FakePipeline)
    bad = tmp_path / "x.png"
    bad.write_bytes(CORRUPT)
    result = analyze(cache, bad, "tesseract", None, 24, "confident")
    assert result.error.startswith("sgenet-ocr: error: x.png: ") and str(tmp_path) not in result.error
    assert "\n" not in result.error and result.annotated is None
    assert analyze(cache, None, "tesseract", None, 24, "confident").error.startswith("sgenet-ocr: error: no input")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert analyze(cache, empty, "tesseract", None, 24, "confident").error == error_line("empty.jpg: empty file")


def test_pdf_uploads_render_one_page(tmp_path):
    pytest.importorskip("pypdfium2", reason="the app extra is not installed")
    from PIL import Image

    pdf = tmp_path / "doc.pdf"
    Image.open(EXAMPLE).save(pdf, "PDF", resolution=150)
    rgb = load_upload(pdf)
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and min(rgb.shape[:2]) > 100
    with pytest.raises(InputImageError, match="doc.pdf: has no page 3"):
        load_upload(pdf, 3)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(InputImageError, match="broken.pdf: broken PDF"):
        load_upload(broken)


@needs_tesseract
def test_analyze_shows_crop_pairs_with_both_readings(tmp_path):
    cache = PipelineCache()
    try:
        result = analyze(cache, EXAMPLE, "tesseract", "bicubic", 24, "confident", out_dir=tmp_path)
        again = analyze(cache, EXAMPLE, "tesseract", "bicubic", 24, "confident", out_dir=tmp_path)
    finally:
        cache.close()
    assert result.error is None and result.annotated.size == (result.page.width, result.page.height)
    assert result.crops_html.count("class='crop-pair'") == len(result.page.crops) >= 1
    assert "engine alone:" in result.crops_html and "restored:" in result.crops_html
    assert result.crops_html.count("class='kept-mark'") == len(result.page.crops)  # one kept reading per pair
    assert "models loaded" in result.timings_html and "reused" in again.timings_html
    exported = json.loads(Path(result.json_path).read_text())
    assert exported["pages"][0]["source"] == "street_sign.jpg" and exported["pages"][0]["words"]


def test_cli_help_bad_arguments_and_missing_extra(monkeypatch, capsys):
    from sgenet_ocr.app.__main__ import main

    assert main(["--help"]) == 0
    assert main(["--port", "nope"]) == UsageError.exit_code
    assert capsys.readouterr().err.strip() == "sgenet-ocr app: error: argument --port: invalid int value: 'nope'"
    for bad, message in ((["--port", "70000"], "--port must be 1-65535, got 70000"),
                         (["--cache", "0"], "--cache must be a whole number >= 1, got 0"),
                         (["--min-height", "-4"], "min_height must be a number >= 0, got -4.0")):
        assert main(bad) == UsageError.exit_code  # before the page is built or served
        assert message in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "gradio", None)  # as if the app extra were not installed
    assert main([]) == MissingDependencyError.exit_code
    err = capsys.readouterr().err.strip()
    assert err.startswith("sgenet-ocr app: error: the web page needs") and "sgenet-ocr[app]" in err and "\n" not in err


# --- the page in a real browser ---------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("gradio", reason="the app extra is not installed")
    if not _has_tesseract():
        pytest.skip("the tesseract extra is not installed")
    port = _free_port()
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sgenet_ocr.app", "--port", str(port), "--engine", "tesseract", "--restorer", "bicubic"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise AssertionError(f"the app did not start:\n{proc.stdout.read() if proc.poll() is not None else ''}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (dev extra) is not installed")
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium and chromium-driver are not installed (make setup installs them)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1700", "--proxy-server=http://127.0.0.1:9",  # no network but localhost
                "--disable-background-networking", "--no-first-run"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _open(driver, url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#upload input[type=file]"))


def _upload(driver, path: Path):
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(path))


def _wait(driver, css: str, timeout: float = 120):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.find_elements(By.CSS_SELECTOR, css))


def _requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


@pytest.mark.slow
def test_page_shows_annotated_page_and_crop_pairs(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, server)
    _upload(browser, EXAMPLE)
    pairs = _wait(browser, "#crops .crop-pair")
    loaded = "const i = document.querySelector('#annotated img'); return i && i.complete ? i.naturalWidth : 0"
    WebDriverWait(browser, 60).until(lambda d: d.execute_script(loaded) == 1024)  # the whole page, annotated
    pair = pairs[0]
    assert pair.find_element(By.CSS_SELECTOR, "img.original").is_displayed()
    assert pair.find_element(By.CSS_SELECTOR, "img.restored").is_displayed()
    readings = pair.find_elements(By.CSS_SELECTOR, ".reading")
    assert [r.find_element(By.CSS_SELECTOR, ".label").text for r in readings] == ["engine alone:", "restored:"]
    assert all(r.find_element(By.CSS_SELECTOR, ".conf").text for r in readings)
    assert len(pair.find_elements(By.CSS_SELECTOR, ".reading.kept")) == 1
    status = browser.find_element(By.ID, "status").text
    assert "street_sign.jpg" in status and "engine tesseract" in status and "restorer bicubic" in status
    timings = browser.find_element(By.ID, "timings").text
    assert "detect" in timings and "recognize" in timings and "total" in timings
    assert _wait(browser, "#json a[href*='street_sign.json']")
    assert "Traceback" not in browser.page_source
    outside = [u for u in _requested_urls(browser)
               if not u.startswith((server.rstrip("/"), "data:", "blob:"))]
    assert not outside, f"the page asked the network for {outside}"
    shot = os.environ.get("SGENET_APP_SCREENSHOT")
    if shot:
        browser.execute_script("window.scrollTo(0, 0)")
        Path(shot).parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(shot)
    # Another setting from the page's controls: a new pipeline, then the same one reused.
    for expected in ("models loaded", "models reused"):
        browser.find_element(By.XPATH, "//*[@id='keep']//label[normalize-space()='restored']").click()
        browser.find_element(By.ID, "run").click()
        WebDriverWait(browser, 120).until(
            lambda d: "keep restored" in d.find_element(By.ID, "status").text
            and expected in d.find_element(By.ID, "timings").text)


@pytest.mark.slow
def test_page_shows_one_line_error_for_a_corrupt_upload(server, browser, tmp_path, monkeypatch, capsys):
    from selenium.webdriver.common.by import By

    from sgenet_ocr.pipeline.__main__ import main as cli

    bad = tmp_path / "x.png"
    bad.write_bytes(CORRUPT)
    monkeypatch.chdir(tmp_path)
    assert cli(["x.png", "--engine", "tesseract", "--restorer", "bicubic", "-q"]) == InputImageError.exit_code
    expected = capsys.readouterr().err.strip()
    assert expected == "sgenet-ocr: error: x.png: not an image file (or a format Pillow cannot read)"
    _open(browser, server)
    _upload(browser, bad)
    error = _wait(browser, "#status .sgenet-error")[0]
    assert error.text == expected  # the CLI's line, in the page
    assert "Traceback" not in browser.page_source
    assert not browser.find_elements(By.CSS_SELECTOR, "#crops .crop-pair")
