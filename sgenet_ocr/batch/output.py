"""The batch output folder: a manifest and result shards, each written atomically.

A folder written by ``python -m sgenet_ocr.batch`` holds:

- ``_sgenet_batch.json``: the manifest (format and the pipeline settings of the run);
- ``part-NNNNNN.jsonl`` (or ``.parquet``): result shards. Every row is one input: a page, as
  ``Page.export()`` / the pages of ``--json``, or an error row ``{"source": ..., "error": ...}``
  as in the ``errors`` of ``--json``.

A shard is written to a hidden temporary file and renamed into place, so a killed run leaves only
whole shards (and maybe a temporary file, removed on the next start). Shards are never rewritten:
a resumed run reads the sources already present and adds new shards after the last one.
"""
from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from typing import Any, Iterable

from ..errors import UsageError

MANIFEST = "_sgenet_batch.json"
LOCK = ".lock"  # "HOST PID" of the run writing the folder
FORMATS = ("jsonl", "parquet")
_SHARD = re.compile(r"^part-(\d{6,})\.(jsonl|parquet)$")
_TEMP = re.compile(r"^\.part-\d{6,}\.(jsonl|parquet)\.tmp-\d+$")
_MANIFEST_VERSION = 1


def shard_files(folder: Path) -> list[Path]:
    """The result shards in ``folder``, in the order they were written."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if _SHARD.match(p.name)), key=lambda p: int(_SHARD.match(p.name)[1]))


def read_results(folder: str | Path) -> list[dict[str, Any]]:
    """Every row of a batch output folder (pages and error rows), in the order written."""
    folder = Path(folder)
    rows: list[dict[str, Any]] = []
    for path in shard_files(folder):
        rows.extend(_read_shard(path))
    return rows


def _read_shard(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    import pyarrow.parquet as pq

    return [_from_parquet_row(r) for r in pq.read_table(path).to_pylist()]


class OutputFolder:
    """The output folder of one batch job: checks ownership, knows what is done, writes shards."""

    def __init__(self, folder: str | Path, fmt: str, settings: dict[str, Any]):
        if fmt not in FORMATS:
            raise UsageError(f"unknown output format {fmt!r}; known: {', '.join(FORMATS)}")
        self.folder, self.fmt, self.settings = Path(folder), fmt, settings
        self._next = 1
        self._locked = False

    def open(self) -> dict[str, str | None]:
        """Create or reopen the folder; return ``{source: error or None}`` of the rows already in it.

        Refuses (usage error) a path that is a file, a non-empty folder that is not a batch output,
        and a batch output written with other settings or in another format.
        """
        f = self.folder
        manifest = f / MANIFEST
        if f.exists() and not f.is_dir():
            raise UsageError(f"--output {f}: is a file, not a folder")
        if f.is_dir() and any(f.iterdir()) and not manifest.is_file():
            raise UsageError(f"--output {f}: folder is not empty and holds no {MANIFEST}; refusing to write "
                             "into a folder this tool did not create (use a new or empty folder)")
        if manifest.is_file() and shard_files(f):
            self._check_manifest(manifest)
        else:  # new, or a run that wrote nothing (e.g. stopped by a bad setting): settings may change
            f.mkdir(parents=True, exist_ok=True)
            _write_atomic(manifest, json.dumps({"version": _MANIFEST_VERSION, "format": self.fmt,
                                                "settings": self.settings}, indent=2).encode())
        self._lock()
        for p in f.iterdir():  # shards a killed run was writing: they never reached their name
            if _TEMP.match(p.name):
                p.unlink()
        done: dict[str, str | None] = {}
        shards = shard_files(f)
        for path in shards:
            for row in _read_sources(path):
                done[row[0]] = row[1]
        if shards:
            self._next = int(_SHARD.match(shards[-1].name)[1]) + 1
        return done

    def close(self) -> None:
        """Release the folder (the lock taken by :meth:`open`)."""
        if self._locked:
            (self.folder / LOCK).unlink(missing_ok=True)
            self._locked = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _lock(self) -> None:
        """One run at a time per folder; the lock of a run that died on this host is taken over."""
        path, me = self.folder / LOCK, f"{socket.gethostname()} {os.getpid()}"
        for _ in range(3):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    owner = path.read_text(encoding="utf-8").strip()
                except OSError:
                    continue  # released meanwhile
                host, _, pid = owner.partition(" ")
                if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
                    path.unlink(missing_ok=True)  # stale: that run was killed
                    continue
                raise UsageError(f"--output {self.folder}: another run (host {host}, pid {pid}) is writing it; "
                                 f"wait for it, or delete {path} if that run is gone") from None
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(me)
            self._locked = True
            return
        raise UsageError(f"--output {self.folder}: could not take {path}")

    def _check_manifest(self, manifest: Path) -> None:
        try:
            meta = json.loads(manifest.read_text(encoding="utf-8"))
            fmt, settings = meta["format"], meta["settings"]
        except (OSError, ValueError, KeyError, TypeError):
            raise UsageError(f"--output {self.folder}: {MANIFEST} is unreadable; use a new folder") from None
        if fmt != self.fmt:
            raise UsageError(f"--output {self.folder} holds {fmt} results; resume it with --format {fmt}")
        if settings != self.settings:
            diff = ", ".join(f"{k} {settings.get(k)!r} (now {self.settings.get(k)!r})"
                             for k in sorted(set(settings) | set(self.settings))
                             if settings.get(k) != self.settings.get(k))
            raise UsageError(f"--output {self.folder} holds results of other settings: {diff}; "
                             "use another --output folder or the same settings")

    def write_shard(self, rows: list[dict[str, Any]]) -> Path | None:
        """Write ``rows`` as the next shard (temporary file, then rename); return its path."""
        if not rows:
            return None
        path = self.folder / f"part-{self._next:06d}.{self.fmt}"
        self._next += 1
        if self.fmt == "jsonl":
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
            _write_atomic(path, data)
        else:
            _write_parquet_atomic(path, rows)
        return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_sources(path: Path) -> Iterable[tuple[str, str | None]]:
    if path.suffix == ".jsonl":
        for row in _read_shard(path):
            yield row["source"], row.get("error")
        return
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["source", "error"])
    yield from zip(table.column("source").to_pylist(), table.column("error").to_pylist())


# Parquet: one fixed schema for every shard, so the folder reads as one dataset. Keys a page does
# not have (an error row's page fields, ``kept_original`` without keep="confident", the
# ``baseline_*`` fields without compare) are null and dropped again by ``read_results``.
def _parquet_schema():
    import pyarrow as pa

    word = pa.struct([
        ("quad", pa.list_(pa.list_(pa.float64()))), ("text", pa.string()), ("confidence", pa.float64()),
        ("restored", pa.bool_()), ("kept_original", pa.bool_()),
        ("baseline_text", pa.string()), ("baseline_confidence", pa.float64()),
    ])
    return pa.schema([
        ("source", pa.string()), ("page", pa.int64()), ("error", pa.string()), ("width", pa.int64()),
        ("height", pa.int64()),
        ("engine", pa.string()), ("restorer", pa.string()), ("keep", pa.string()),
        ("words", pa.list_(word)), ("timings", pa.map_(pa.string(), pa.float64())),
    ])


_PAGE_KEYS = ("source", "width", "height", "engine", "restorer", "keep", "words", "timings")


def _write_parquet_atomic(path: Path, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema()
    table = pa.Table.from_pylist(
        [{**r, "timings": list(r["timings"].items()) if "timings" in r else None} for r in rows], schema=schema)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _from_parquet_row(row: dict[str, Any]) -> dict[str, Any]:
    # "page" only for a page of a multi-page file, as in Page.export() and the error rows
    numbered = {"page": row["page"]} if row.get("page") is not None else {}
    if row.get("error") is not None:
        return {"source": row["source"], **numbered, "error": row["error"]}
    page = {"source": row["source"], **numbered, **{k: row[k] for k in _PAGE_KEYS if k != "source"}}
    page["timings"] = dict(page["timings"] or [])
    page["words"] = [{k: v for k, v in w.items() if v is not None} for w in page["words"] or []]
    return page
