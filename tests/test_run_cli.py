"""run_cli: every command-line entry point prints one-line errors with the documented exit codes."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from sgenet_ocr.cli import run_cli
from sgenet_ocr.errors import EXIT_CODES, ModelError, UsageError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.*

# (module, bad arguments, the command's error prefix)
ENTRY_POINTS = [
    ("sgenet_ocr.pipeline.__main__", ["--no-such-flag"], "sgenet-ocr: error: "),
    ("sgenet_ocr.export", ["--no-such-flag"], "sgenet-ocr export: error: "),
    ("sgenet_ocr.evaluate", ["--no-such-flag"], "sgenet-ocr evaluate: error: "),
    ("sgenet_ocr.train", ["--no-such-flag"], "sgenet-ocr train: error: "),
    ("sgenet_ocr.batch.__main__", ["--no-such-flag"], "sgenet-ocr batch: error: "),
    ("sgenet_ocr.app.__main__", ["--no-such-flag"], "sgenet-ocr app: error: "),
    ("sgenet_ocr.gpu_kit", ["run", "--no-such-flag"], "sgenet-ocr gpu-kit: error: "),
    ("sgenet_ocr.data.textzoom", ["--no-such-flag"], "sgenet-ocr textzoom: error: "),
    ("sgenet_ocr.evaluation.report", [], "sgenet-ocr report: error: "),
    ("sgenet_ocr.evaluation.compare", ["--no-such-flag"], "sgenet-ocr compare: error: "),
    ("benchmarks.e2e", ["--no-such-flag"], "sgenet-ocr e2e: error: "),
    ("benchmarks.run_all", ["--no-such-flag"], "sgenet-ocr run_all: error: "),
    ("benchmarks.sr", ["--no-such-flag"], "sgenet-ocr sr: error: "),
]


def one_line(err: str, prefix: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(prefix), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("module, argv, prefix", ENTRY_POINTS, ids=[m for m, _, _ in ENTRY_POINTS])
def test_every_entry_point_reports_usage_errors_in_one_line(module, argv, prefix, capsys):
    main = importlib.import_module(module).main
    assert main(argv) == UsageError.exit_code
    one_line(capsys.readouterr().err, prefix)


@pytest.mark.parametrize("module", ["sgenet_ocr.export", "sgenet_ocr.evaluate", "sgenet_ocr.evaluation.report",
                                    "benchmarks.e2e", "benchmarks.documents"])
def test_help_exits_zero(module, capsys):
    assert importlib.import_module(module).main(["--help"]) == 0
    assert "usage" in capsys.readouterr().out


@pytest.mark.parametrize("raised, code, text", [
    (ModelError("weights file x is corrupt"), 6, "weights file x is corrupt"),
    (ValueError("a bug\nover two lines"), 1, "internal error: ValueError: a bug over two lines"),
    (KeyboardInterrupt(), 130, "interrupted"),
    (SystemExit("sr: no crop set under /data"), 2, "sr: no crop set under /data"),  # sys.exit("...")
])
def test_failures_become_one_line_and_an_exit_code(raised, code, text, capsys):
    def body(argv):
        raise raised

    assert run_cli("demo", body, []) == code
    assert one_line(capsys.readouterr().err, "sgenet-ocr demo: error: ").endswith(text)
    assert code in EXIT_CODES


def test_bodies_may_return_results_or_nothing():
    assert run_cli(None, lambda argv: None) == 0
    assert run_cli(None, lambda argv: {"rows": []}) == 0
    assert run_cli(None, lambda argv: 3) == 3


def test_a_reader_that_leaves_stops_the_command_quietly(tmp_path):
    """``report ... | head -1``: exit 141 and nothing on stderr (it was an internal error, exit 1)."""
    import json
    import subprocess

    result = {"settings": {"protocol": "half", "data": "d", "samples": 2, "recognizers": ["ppocr"]},
              "rows": [{"recognizer": "ppocr", "restorer": "identity", "bucket": "all", "accuracy": 0.5,
                        "n": 2, "psnr": None, "ssim": None}]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result))
    proc = subprocess.Popen([sys.executable, "-m", "sgenet_ocr.evaluation.report", *[str(path)] * 3000],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline()  # the first line, then the reader goes
    proc.stdout.close()
    assert proc.wait(timeout=120) == 141 and proc.stderr.read() == b""
    assert 141 in EXIT_CODES
