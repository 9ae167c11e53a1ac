"""Batch OCR on Ray Data: detection -> restoration -> recognition in an actor pool.

Each actor owns one :class:`sgenet_ocr.Pipeline` (loaded once) and is fed with batches of input
paths by ``Dataset.map_batches(..., compute=ActorPoolStrategy(size=N))``. The driver (the process
that calls :func:`run_batch`) streams the results back and writes them to an output folder in
shards (see :mod:`sgenet_ocr.batch.output`), so a killed run loses at most the rows not yet in a
shard and a rerun skips every input already in the folder.

Ray: ``ray.init()`` on this machine, or the cluster named by ``address`` / ``$RAY_ADDRESS``.
Input files must be readable at the same path on every node that runs actors (one machine, or a
shared filesystem); the output folder is written by the driver only.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .. import errors as _errors
from ..errors import InputImageError, MissingDependencyError, SgenetOcrError, UsageError
from ..keep import keep_policy
from .output import FORMATS, OutputFolder, read_results, shard_files

__all__ = ["run_batch", "BatchResult", "PageWorker", "expand_inputs", "read_results", "shard_files", "FORMATS"]

# Settings an actor's Pipeline is built from (the keyword arguments of Pipeline()).
PIPELINE_KEYS = ("engine", "restorer", "min_height", "device", "compare", "keep", "plugins",
                 "engine_options", "restorer_options")


@dataclass
class BatchResult:
    """What one :func:`run_batch` call did."""

    output: Path
    inputs: int = 0  # distinct inputs named by this call (files found, plus unreadable names)
    skipped: int = 0  # already in the output folder from an earlier run
    pages: int = 0  # pages written by this call
    errors: list[dict[str, str]] = field(default_factory=list)  # error rows of this call's inputs (earlier runs too)
    shards: int = 0  # shards written by this call
    nodes: dict[str, int] = field(default_factory=dict)  # Ray node id -> rows processed there
    workers: int = 0
    seconds: float = 0.0  # wall time of the Ray job (start of the dataset to the last shard)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # summed page timings of this call

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


def expand_inputs(inputs: Iterable[str | Path], lists: Iterable[str | Path] = ()
                  ) -> tuple[list[tuple[str, str]], list[dict[str, str]]]:
    """Inputs -> ``[(source, absolute path)]`` and error rows, like the pipeline CLI.

    ``inputs``: image files or folders (searched recursively, sorted); ``lists``: text files with
    one path a line (``#`` comments and blank lines skipped; relative paths are relative to the
    current folder). ``source`` is the name the pipeline CLI would report; duplicates are dropped.
    """
    from ..documents import INPUT_SUFFIXES, list_inputs

    names: list[str] = [str(i) for i in inputs]
    for lst in lists:
        try:
            text = Path(lst).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--list {lst}: cannot read ({exc.strerror or exc})") from None
        names.extend(s.strip() for s in text.splitlines() if s.strip() and not s.lstrip().startswith("#"))
    files: dict[str, str] = {}
    errors: list[dict[str, str]] = []
    for item in names:
        path = Path(item)
        if path.is_dir():
            found = list_inputs(path)
            if not found:
                known = ", ".join(sorted(INPUT_SUFFIXES))
                errors.append({"source": item, "error": f"{item}: folder holds no images ({known})"})
            for p in found:
                files.setdefault(str(p), str(p.resolve()))
        elif not path.exists():
            errors.append({"source": item, "error": f"{item}: no such file"})
        else:
            files.setdefault(item, str(path.resolve()))
    seen: set[str] = set()
    errors = [e for e in errors if not (e["source"] in seen or seen.add(e["source"]))]
    return list(files.items()), errors


def process_one(pipeline, path: str, source: str) -> list[dict[str, Any]]:
    """One input -> its output rows: ``Page.export()`` with ``source`` for each page (a PDF or
    TIFF has several, with their ``page`` numbers), or error rows."""
    try:
        doc = pipeline.run_document(path)
    except InputImageError as exc:
        return [{"source": source, "error": str(exc).replace(path, source)}]
    except SgenetOcrError as exc:  # e.g. the engine raised on this page: a row, not a failed job
        return [{"source": source, "error": f"{source}: {exc}"}]
    except Exception as exc:  # noqa: BLE001 - one bad page must not stop a million others
        return [{"source": source, "error": f"{source}: internal error: {type(exc).__name__}: {exc}"}]
    rows = [{**page.export(), "source": source} for page in doc.pages]
    rows += [{**e, "source": source, "error": e["error"].replace(path, source)} for e in doc.errors]
    return rows


# A page on which the actor's process died this many times (a crash in native engine code, the
# OOM killer) becomes an error row instead of being retried for ever.
MAX_PAGE_CRASHES = 2


class CrashLedger:
    """Pages in flight, kept by one small Ray actor for the job: ``begin`` says how many earlier
    attempts at the page never reached ``end``, i.e. how often a worker died on it."""

    def __init__(self):
        self.open: dict[str, int] = {}

    def begin(self, source: str) -> int:
        n = self.open.get(source, 0)
        self.open[source] = n + 1
        return n

    def end(self, source: str) -> None:
        self.open.pop(source, None)


class PageWorker:
    """The Ray Data actor: one Pipeline, loaded once, OCRs batches of ``{source, path}`` rows.

    A Pipeline that cannot be built (missing extra, bad weights, plugin error) does not kill the
    actor: every row it gets carries the error in ``fatal``, and the driver stops with that
    error's exit code. Ray restarts an actor whose process died and retries its batch; a page
    that killed it :data:`MAX_PAGE_CRASHES` times is then an error row (``ledger``).
    """

    def __init__(self, settings: dict[str, Any], threads: int = 1, ledger=None):
        import ray

        self.node = ray.get_runtime_context().get_node_id()
        self.ledger = ledger
        self.fatal = ""
        self.pipeline = None
        from .. import Pipeline

        try:
            self.pipeline = Pipeline(**settings, threads=max(1, int(threads)))  # = the actor's CPUs
        except SgenetOcrError as exc:
            self.fatal = f"{type(exc).__name__}\t{exc}"

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        sources = [str(s) for s in batch["source"]]
        if self.pipeline is None:
            records = [""] * len(sources)
        else:
            records = [json.dumps(self._one(str(p), s), ensure_ascii=False) for s, p in zip(sources, batch["path"])]
        n = len(sources)
        return {"source": np.array(sources, dtype=object), "record": np.array(records, dtype=object),
                "node": np.array([self.node] * n, dtype=object), "fatal": np.array([self.fatal] * n, dtype=object)}

    def _one(self, path: str, source: str) -> list[dict[str, Any]]:
        if self.ledger is None:
            return process_one(self.pipeline, path, source)
        import ray

        crashes = ray.get(self.ledger.begin.remote(source))
        if crashes >= MAX_PAGE_CRASHES:
            rows = [{"source": source, "error": f"{source}: the worker process died {crashes} times on this page "
                                                "(a crash in the engine, or out of memory); skipped"}]
        else:
            rows = process_one(self.pipeline, path, source)
        self.ledger.end.remote(source)
        return rows


def _raise_fatal(fatal: str) -> None:
    name, _, message = fatal.partition("\t")
    cls = getattr(_errors, name, None)
    exc = SgenetOcrError(f"a Ray worker could not build its pipeline: {message}")
    if isinstance(cls, type) and issubclass(cls, SgenetOcrError):
        exc.exit_code = cls.exit_code
    raise exc


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise MissingDependencyError("ray", "ray", "batch OCR on Ray needs 'ray[data]'") from None
    return ray


def pipeline_settings(engine: str | None = None, restorer: str | None = None, min_height: float | None = None,
                      device: str | None = None, compare: bool = False, keep: str | None = None,
                      plugins: Iterable[str] = (), engine_options: dict | None = None,
                      restorer_options: dict | None = None) -> dict[str, Any]:
    """The ``Pipeline`` keyword arguments every actor gets: only the settings given (``Pipeline``
    supplies its own defaults), with plugin files made absolute for the workers."""
    given = {"engine": engine, "restorer": restorer, "device": device, "keep": keep,
             "min_height": None if min_height is None else float(min_height),
             "compare": bool(compare) or None, "engine_options": engine_options or None,
             "restorer_options": restorer_options or None,
             "plugins": [str(Path(p).resolve()) if Path(p).is_file() else str(p) for p in plugins] or None}
    return {k: v for k, v in given.items() if v is not None}


def check_settings(settings: dict[str, Any]) -> None:
    """Cheap checks on the driver before Ray starts: min_height, and engine and restorer names.

    The actors build the real ``Pipeline``, which checks everything (reported from there, with
    its exit code); these only save a Ray start-up on a typo.
    """
    mh = settings.get("min_height")
    if mh is not None and (not math.isfinite(mh) or mh < 0):
        raise UsageError(f"min_height must be a number >= 0, got {mh!r}")
    if settings.get("keep") is not None:
        keep_policy(settings["keep"])  # UsageError naming the known ones
    from ..options import DEFAULT_ENGINE
    from ..plugin_manager import PluginHost

    host = PluginHost(settings.get("plugins", ()))
    host.engines.factory(settings.get("engine", DEFAULT_ENGINE))  # UsageError naming the known ones
    if settings.get("restorer"):
        host.restorers.factory(settings["restorer"])


def run_batch(inputs: Iterable[str | Path], output: str | Path, *, lists: Iterable[str | Path] = (),
              fmt: str = "jsonl", workers: int | None = None, cpus_per_worker: float = 1,
              gpus_per_worker: float | None = None,
              batch_size: int = 4, shard_size: int = 256, flush_seconds: float = 60.0,
              address: str | None = None, progress: bool = True,
              on_shard: Callable[[Path, int], None] | None = None, **pipeline_kwargs) -> BatchResult:
    """OCR every input with a Ray Data actor pool and write the rows to ``output`` (resumable).

    Args:
        inputs / lists: see :func:`expand_inputs`.
        output: result folder (created; an earlier run's folder is resumed).
        fmt: ``"jsonl"`` or ``"parquet"`` shards.
        workers: actors (each one Pipeline); default: the cluster's CPUs // ``cpus_per_worker``.
        cpus_per_worker: Ray CPUs each actor reserves (and its torch threads).
        gpus_per_worker: Ray GPUs each actor reserves (for ``device="cuda"``).
        batch_size: inputs per actor call.
        shard_size / flush_seconds: a shard is written every ``shard_size`` rows or when the
            oldest unwritten row is ``flush_seconds`` old, whichever comes first.
        address: Ray cluster address; default ``$RAY_ADDRESS``, else a local Ray on this machine.
            A Ray session already initialised in this process is used as it is.
        pipeline_kwargs: ``Pipeline`` settings (engine, restorer, min_height, device, compare,
            keep, plugins, engine_options, restorer_options).
    """
    unknown = set(pipeline_kwargs) - set(PIPELINE_KEYS)
    if unknown:
        raise UsageError(f"unknown pipeline settings {sorted(unknown)}; known: {', '.join(PIPELINE_KEYS)}")
    if batch_size < 1 or shard_size < 1 or cpus_per_worker <= 0 or (workers is not None and workers < 1):
        raise UsageError("batch size, shard size, workers and CPUs per worker must be positive")
    settings = pipeline_settings(**pipeline_kwargs)
    check_settings(settings)
    files, expand_errors = expand_inputs(inputs, lists)
    if not files and not expand_errors:
        raise UsageError("no inputs given")
    with OutputFolder(output, fmt, settings) as out:
        done = out.open()
        result = BatchResult(output=Path(output))
        result.inputs = len(files) + len(expand_errors)

        new_errors = [e for e in expand_errors if e["source"] not in done]
        todo = [(s, p) for s, p in files if s not in done]
        result.skipped = result.inputs - len(todo) - len(new_errors)
        named = {s for s, _ in files} | {e["source"] for e in expand_errors}
        result.errors = [{"source": s, "error": err} for s, err in done.items() if err is not None and s in named]
        if new_errors:
            out.write_shard(new_errors)
            result.shards += 1
            result.errors.extend(new_errors)
        if not todo:
            return result

        ray = _import_ray()
        started_here = False
        if not ray.is_initialized():
            address = address or os.environ.get("RAY_ADDRESS") or None
            try:
                local = {} if address else {"include_dashboard": False}
                ray.init(address=address, logging_level="WARNING" if progress else "ERROR",
                         log_to_driver=progress, **local)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                where = f"at {address}" if address else "on this machine"
                raise UsageError(f"cannot start or reach a Ray cluster {where}: {str(exc).splitlines()[0]}") from None
            started_here = True
        try:
            _run_job(ray, todo, settings, out, result, workers, cpus_per_worker, gpus_per_worker, batch_size,
                     shard_size, flush_seconds, progress, on_shard)
        finally:
            if started_here:
                ray.shutdown()
    return result


def _run_job(ray, todo, settings, out, result, workers, cpus_per_worker, gpus_per_worker, batch_size,
             shard_size, flush_seconds, progress, on_shard) -> None:
    from ray.data import ActorPoolStrategy, DataContext

    ctx = DataContext.get_current()
    ctx.enable_progress_bars = progress
    ctx.print_on_execution_start = progress
    n_batches = math.ceil(len(todo) / batch_size)
    if workers is None:
        cpus = ray.cluster_resources().get("CPU", 1)
        workers = max(1, int(cpus // cpus_per_worker))
    workers = max(1, min(workers, n_batches))
    result.workers = workers
    threads = max(1, math.ceil(cpus_per_worker))

    t0 = time.perf_counter()
    ds = ray.data.from_items([{"source": s, "path": p} for s, p in todo],
                             override_num_blocks=min(n_batches, 10_000))
    # Pages are slow (seconds): queue at most 2 batches per actor, so a small job spreads evenly.
    ledger = ray.remote(num_cpus=0)(CrashLedger).remote()
    ds = ds.map_batches(PageWorker,
                        fn_constructor_kwargs={"settings": settings, "threads": threads, "ledger": ledger},
                        compute=ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=2),
                        num_cpus=cpus_per_worker,
                        batch_size=batch_size, batch_format="numpy",
                        **({"num_gpus": gpus_per_worker} if gpus_per_worker else {}))
    buffer: list[dict[str, Any]] = []
    oldest = 0.0

    def flush():
        path = out.write_shard(buffer)
        if path is not None:
            result.shards += 1
            if on_shard:
                on_shard(path, len(buffer))
        buffer.clear()

    try:
        for row in ds.iter_rows():
            if row["fatal"]:
                _raise_fatal(row["fatal"])
            recs = json.loads(row["record"])  # every page of one input: never split over shards
            if not buffer:
                oldest = time.monotonic()
            buffer.extend(recs)
            result.nodes[row["node"]] = result.nodes.get(row["node"], 0) + len(recs)
            for rec in recs:
                if "error" in rec:
                    result.errors.append(rec)
                else:
                    result.pages += 1
                    for k, v in rec.get("timings", {}).items():
                        result.stage_seconds[k] = result.stage_seconds.get(k, 0.0) + v
            if len(buffer) >= shard_size or time.monotonic() - oldest >= flush_seconds:
                flush()
    finally:
        flush()  # rows already OCRed are kept, also on Ctrl-C or an error
        result.seconds = time.perf_counter() - t0


def summary_line(result: BatchResult) -> str:
    parts = [f"{result.pages} pages", f"{len(result.errors)} errors"]
    if result.skipped:
        parts.append(f"{result.skipped} already in {result.output}")
    line = ", ".join(parts)
    if result.pages:
        line += (f"; {result.seconds:.1f} s with {result.workers} workers on {len(result.nodes)} "
                 f"node(s), {result.pages_per_second:.2f} pages/s")
    return line + f"; results in {result.output}"
