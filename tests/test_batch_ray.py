"""Batch OCR on Ray Data (``python -m sgenet_ocr.batch``), with real Ray.

- a local run (``ray.init()`` on this machine) over a small folder with one corrupt file, with a
  real engine, checked against ``Pipeline`` run one by one;
- a run killed after its first shard and resumed: every input exactly once;
- a two-node local cluster (``ray.cluster_utils.Cluster``): the actors, and the pages, spread
  over both nodes, and a page that kills its worker process ends as an error row.

Ray start-up is the cost here (seconds per node on a busy 2-core machine): the cluster is shared
by the resume and the spread tests, and the engines are cheap (Tesseract + bicubic on small
pages; a test engine that only sleeps).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sgenet_ocr import Pipeline
from sgenet_ocr.batch import read_results, run_batch, shard_files
from sgenet_ocr.batch.__main__ import main
from sgenet_ocr.batch.output import MANIFEST, OutputFolder

REPO = Path(__file__).resolve().parents[1]
SLEEPY = str(REPO / "tests" / "plugins" / "ray_sleepy_engine.py")
pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "plugins"), env.get("PYTHONPATH", "")])
    return env


def without_timings(rows):
    return sorted(({k: v for k, v in r.items() if k != "timings"} for r in rows), key=lambda r: r["source"])


def one_by_one(paths, **settings):
    """The reference: ``Pipeline.run`` on each input in turn, as plain data."""
    rows = []
    with Pipeline(**settings) as p:
        for path in paths:
            rows.append(json.loads(json.dumps(p.run(str(path)).export())))
    return rows


@pytest.fixture(scope="module")
def word_pages(tmp_path_factory) -> Path:
    """Eight small pages, each one dark 'word' of a different size (for the sleepy engine)."""
    folder = tmp_path_factory.mktemp("word_pages")
    for i in range(8):
        img = np.full((60, 120, 3), 235, np.uint8)
        img[20:30 + i, 10:40 + 8 * i] = 20
        Image.fromarray(img).save(folder / f"page_{i}.png")
    return folder


@pytest.fixture(scope="module")
def cluster():
    """Two local Ray nodes with 2 CPUs each (shared by the resume and the spread tests)."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    with pytest.MonkeyPatch.context() as mp:
        for k, v in _env().items():  # the nodes' workers import this checkout, as the driver does
            if os.environ.get(k) != v:
                mp.setenv(k, v)
        c = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "object_store_memory": 100 * 2**20})
        c.add_node(num_cpus=2, object_store_memory=100 * 2**20)
        c.wait_for_nodes()
    yield c
    if ray.is_initialized():
        ray.shutdown()
    c.shutdown()


def test_local_run_with_a_corrupt_file_matches_pipeline(tmp_path, capsys):
    pytest.importorskip("ray")
    pytest.importorskip("tesserocr")
    src = tmp_path / "in"
    src.mkdir()
    sign = Image.open(REPO / "examples" / "street_sign.jpg")
    sign.resize((512, 320)).save(src / "sign_half.jpg")
    sign.resize((384, 240)).save(src / "sign_small.png")
    (src / "broken.jpg").write_bytes((REPO / "examples" / "street_sign.jpg").read_bytes()[:300])  # truncated
    out = tmp_path / "out"
    argv = [str(src), "--output", str(out), "--engine", "tesseract", "--restorer", "bicubic",
            "--workers", "2", "--batch-size", "1", "--shard-size", "2", "-q",
            "--address", "local"]  # a new local Ray, even where `ray start` left an instance behind

    assert main(argv) == 3  # the corrupt file is an error row, not a failed job
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("sgenet-ocr")]  # not Ray's logs
    assert len(err) == 1 and err[0].startswith(f"sgenet-ocr batch: error: {src / 'broken.jpg'}: ")
    rows = read_results(out)
    names = ("broken.jpg", "sign_half.jpg", "sign_small.png")
    assert sorted(r["source"] for r in rows) == sorted(str(src / n) for n in names)
    errors = [r for r in rows if "error" in r]
    assert len(errors) == 1 and set(errors[0]) == {"source", "error"}
    assert errors[0]["error"].startswith(str(src / "broken.jpg") + ": ")
    pages = [r for r in rows if "error" not in r]
    assert all(set(p["timings"]) >= {"detect", "restore", "recognize"} for p in pages)
    assert any(p["words"] for p in pages)
    reference = one_by_one([src / "sign_half.jpg", src / "sign_small.png"], engine="tesseract", restorer="bicubic")
    assert without_timings(pages) == without_timings(reference)

    # Everything is in the folder: a rerun starts no Ray job, writes nothing, still reports the error.
    before = [p.name for p in shard_files(out)]
    assert main(argv) == 3
    assert [p.name for p in shard_files(out)] == before


def test_killed_run_resumes_and_every_input_appears_once(tmp_path, word_pages, cluster):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sgenet_ocr.batch", str(word_pages), "--output", str(out), "--engine", "sleepy",
           "--plugin", SLEEPY, "--workers", "1", "--batch-size", "1", "--shard-size", "1", "-q"]
    env = dict(_env(), RAY_ADDRESS=cluster.address)  # also the path a real cluster run takes
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not shard_files(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # no chance to clean up: like a lost machine
    proc.wait(timeout=30)
    first = {p.name: p.read_bytes() for p in shard_files(out)}
    assert 1 <= len(first) < 8, proc.stderr.read().decode()[-2000:]

    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = read_results(out)
    sources = [r["source"] for r in rows]
    assert sorted(sources) == sorted(str(p) for p in word_pages.iterdir()) and len(set(sources)) == 8
    assert {n: (out / n).read_bytes() for n in first} == first  # earlier shards are never rewritten
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    reference = one_by_one(sorted(word_pages.iterdir()), engine="sleepy", plugins=[SLEEPY],
                           engine_options={"delay": 0})
    assert without_timings(rows) == without_timings(reference)


def test_two_node_cluster_spreads_the_pages_and_survives_a_crashing_page(tmp_path, word_pages, cluster):
    import ray
    from ray.data import DataContext

    crash = tmp_path / "crash"
    crash.mkdir()
    Image.fromarray(np.full((61, 50, 3), 235, np.uint8)).save(crash / "segfault.png")  # kills its worker
    ray.init(address=cluster.address)
    node_ids = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    DataContext.get_current().wait_for_min_actors_s = 120  # both actors up before the first page
    try:
        # 2 CPUs per actor and 2 CPUs per node: one actor per node.
        result = run_batch([word_pages, crash], tmp_path / "out", workers=2, cpus_per_worker=2, batch_size=1,
                           progress=False, engine="sleepy", plugins=[SLEEPY],
                           engine_options={"delay": 0.3, "crash_height": 61}, fmt="parquet")
    finally:
        DataContext.get_current().wait_for_min_actors_s = -1
        ray.shutdown()
    assert result.workers == 2 and result.pages == 8
    assert len(node_ids) == 2 and set(result.nodes) <= node_ids and len(result.nodes) == 2, result.nodes
    assert all(n >= 1 for n in result.nodes.values())
    # Ray restarts the dead actor and retries; the page that killed it twice is an error row.
    assert [e["source"] for e in result.errors] == [str(crash / "segfault.png")]
    assert "worker process died 2 times on this page" in result.errors[0]["error"]
    rows = read_results(tmp_path / "out")
    assert len(rows) == 9
    reference = one_by_one(sorted(word_pages.iterdir()), engine="sleepy", plugins=[SLEEPY],
                           engine_options={"delay": 0})
    assert without_timings([r for r in rows if "error" not in r]) == without_timings(reference)  # Parquet too


# --- the output folder, without Ray -----------------------------------------------------------

def test_output_folder_refuses_what_it_does_not_own(tmp_path, capsys):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert main([str(REPO / "examples"), "--output", str(foreign), "--engine", "sleepy", "--plugin", SLEEPY]) == 2
    assert "refusing to write" in capsys.readouterr().err
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]

    a_file = tmp_path / "results.jsonl"
    a_file.write_text("x")
    assert main([str(REPO / "examples"), "--output", str(a_file), "--engine", "sleepy", "--plugin", SLEEPY]) == 2
    assert a_file.read_text() == "x"


def test_resume_with_other_settings_is_refused(tmp_path, capsys):
    settings = {"engine": "sleepy", "min_height": 24.0}
    with OutputFolder(tmp_path, "jsonl", {"engine": "bogus"}) as failed:
        failed.open()  # a run that stopped before its first row: its settings may still change
    with OutputFolder(tmp_path, "jsonl", settings) as first:
        first.open()
        first.write_shard([{"source": "a.png", "error": "a.png: empty file"}])
    with pytest.raises(Exception, match="other settings: min_height 24.0 \\(now 10.0\\)"):
        OutputFolder(tmp_path, "jsonl", dict(settings, min_height=10.0)).open()
    with pytest.raises(Exception, match="resume it with --format jsonl"):
        OutputFolder(tmp_path, "parquet", settings).open()


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_shards_round_trip_and_leftover_temp_files_are_removed(tmp_path, fmt):
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    page = {"source": "a.png", "width": 4, "height": 3, "engine": "e", "restorer": "r", "keep": "confident",
            "words": [{"quad": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], "text": "hi",
                       "confidence": 0.5, "restored": True, "kept_original": False}],
            "timings": {"detect": 0.1, "restore": 0.0, "recognize": 0.2, "recognize_baseline": 0.1}}
    error = {"source": "b.png", "error": "b.png: not an image file"}
    folder = OutputFolder(tmp_path, fmt, {})
    assert folder.open() == {}
    folder.write_shard([error, page])
    folder.close()
    (tmp_path / f".part-000002.{fmt}.tmp-123").write_bytes(b"half a shard")
    again = OutputFolder(tmp_path, fmt, {})
    assert again.open() == {"a.png": None, "b.png": "b.png: not an image file"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", MANIFEST, f"part-000001.{fmt}"]
    pdf_pages = [dict(page, source="d.pdf", page=1), {"source": "d.pdf", "page": 2, "error": "d.pdf: page 2: x"}]
    again.write_shard([dict(page, source="c.png"), *pdf_pages])
    assert [p.name for p in shard_files(tmp_path)] == [f"part-000001.{fmt}", f"part-000002.{fmt}"]
    again.close()
    assert read_results(tmp_path) == [error, page, dict(page, source="c.png"), *pdf_pages]


def test_every_page_of_a_pdf_is_a_row(tmp_path):
    from sgenet_ocr.batch import process_one

    pdf = tmp_path / "doc.pdf"
    pages = [Image.new("RGB", (300, 100), "white") for _ in range(2)]
    pages[0].save(pdf, save_all=True, append_images=pages[1:], resolution=100)
    with Pipeline(engine="tesseract", restorer="identity") as p:
        rows = process_one(p, str(pdf), "in/doc.pdf")
    assert [(r["source"], r["page"]) for r in rows] == [("in/doc.pdf", 1), ("in/doc.pdf", 2)]
    assert all("error" not in r for r in rows)


def test_batch_help_lists_exit_codes():
    out = subprocess.run([sys.executable, "-m", "sgenet_ocr.batch", "--help"], capture_output=True, text=True,
                         env=_env(), cwd=REPO)
    assert out.returncode == 0 and "exit codes" in out.stdout and "--cpus-per-worker" in out.stdout


def test_one_run_per_folder_and_a_dead_runs_lock_is_taken_over(tmp_path):
    import socket

    first = OutputFolder(tmp_path, "jsonl", {})
    first.open()
    with pytest.raises(Exception, match="another run .* is writing it"):
        OutputFolder(tmp_path, "jsonl", {}).open()
    first.close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / ".lock").write_text(f"{socket.gethostname()} {dead.stdout.strip()}")  # a killed run's lock
    with OutputFolder(tmp_path, "jsonl", {}) as again:
        again.open()
    assert not (tmp_path / ".lock").exists()


def test_inputs_from_folders_and_lists_missing_ones_are_error_rows(tmp_path, word_pages):
    from sgenet_ocr.batch import expand_inputs

    listing = tmp_path / "paths.txt"
    listing.write_text(f"# frames\n{word_pages / 'page_1.png'}\n\n{tmp_path / 'gone.jpg'}\n")
    (tmp_path / "empty").mkdir()
    files, errors = expand_inputs([word_pages, tmp_path / "empty"], [listing])
    assert [s for s, _ in files] == sorted(str(p) for p in word_pages.iterdir())  # page_1 once
    assert all(Path(p).is_absolute() for _, p in files)
    assert [e["source"] for e in errors] == [str(tmp_path / "empty"), str(tmp_path / "gone.jpg")]
    assert errors[1]["error"] == f"{tmp_path / 'gone.jpg'}: no such file"
