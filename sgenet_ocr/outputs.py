"""Where the CLI writes: every output is checked before any OCR work, never lands on an input, and
two pages never share a file name.

``--json -`` means standard output. ``--annotate`` is a file for one page and a folder for
several; ``--save-crops`` is a folder. A folder that holds inputs is refused as an output folder:
annotations named like the inputs would replace them.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from .errors import UsageError

STDOUT = "-"
ANNOTATION_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


def check_writable_folder(folder: Path, what: str) -> None:
    """``folder`` exists (or can be made) and a file can be created in it; UsageError otherwise."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{what}: {folder} is a file, not a folder")
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{what}: {probe} is a file, not a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".sgenet-write-check-"):
            pass
    except OSError as exc:
        raise UsageError(f"{what}: cannot write in {probe} ({exc.strerror or exc})") from None


def _holds_inputs(folder: Path, input_dirs: set[Path], input_files: set[Path]) -> bool:
    """``folder`` is, or lies inside, an input folder (read recursively: what we write there would
    be read next time), or directly holds an input file (a same-named output would replace it)."""
    return any(folder == d or d in folder.parents for d in input_dirs) or \
        any(folder == f.parent for f in input_files)


def check_outputs(json_out: Path | None, annotate: Path | None, save_crops: Path | None,
                  inputs: Sequence[str], files: Sequence[Path], several: bool) -> None:
    """Refuse (exit 2) every output that cannot be written or would replace an input."""
    input_files = {Path(f).resolve() for f in files}
    input_dirs = {Path(i).resolve() for i in inputs if Path(i).is_dir()}
    if json_out is not None and str(json_out) != STDOUT:
        target = json_out.resolve()
        if target in input_files:
            raise UsageError(f"--json {json_out} is one of the inputs; refusing to overwrite it")
        if target.is_dir():
            raise UsageError(f"--json {json_out} is a folder; give a file name")
        check_writable_folder(target.parent, "--json")
    if annotate is not None:
        target = annotate.resolve()
        if several:
            if _holds_inputs(target, input_dirs, input_files):
                raise UsageError(f"--annotate {annotate} holds inputs; annotations there could replace them: "
                                 "give another folder")
            check_writable_folder(target, "--annotate")
        else:
            if target in input_files:
                raise UsageError(f"--annotate {annotate} is the input; refusing to overwrite it")
            if target.is_dir():
                raise UsageError(f"--annotate {annotate} is a folder; for one page give a file name "
                                 f"({', '.join(sorted(ANNOTATION_SUFFIXES))})")
            if target.suffix.lower() not in ANNOTATION_SUFFIXES:
                raise UsageError(f"--annotate {annotate}: not an image file name "
                                 f"({', '.join(sorted(ANNOTATION_SUFFIXES))})")
            check_writable_folder(target.parent, "--annotate")
    if save_crops is not None:
        if _holds_inputs(save_crops.resolve(), input_dirs, input_files):
            raise UsageError(f"--save-crops {save_crops} holds inputs; give another folder")
        check_writable_folder(save_crops.resolve(), "--save-crops")


def check_output_file(path: str | Path, option: str, suffixes: set[str] | None = None,
                      inputs: Sequence[str | Path] = ()) -> Path:
    """A file a command writes when it is done (``--json``, ``--grid``, ...), checked before any
    work (UsageError, exit 2): not a folder, not one of ``inputs``, one of ``suffixes`` if given,
    in a folder that exists or can be made and can be written. Returns it as a Path."""
    target = Path(path)
    resolved = target.resolve()
    if resolved in {Path(i).resolve() for i in inputs}:
        raise UsageError(f"{option} {path} is one of the inputs; refusing to overwrite it")
    if resolved.is_dir():
        raise UsageError(f"{option} {path} is a folder; give a file name")
    if suffixes and resolved.suffix.lower() not in suffixes:
        raise UsageError(f"{option} {path}: not a file name ending in {', '.join(sorted(suffixes))}")
    check_writable_folder(resolved.parent, option)
    return target


def output_file(option: str, suffixes: set[str] | None = None) -> Callable[[str], Path]:
    """The ``argparse`` type of an output file option: :func:`check_output_file` as the command
    line is parsed, so a long benchmark never ends in an error about where to write."""
    return lambda value: check_output_file(value, option, suffixes)


def page_names(sources: Sequence[str], pages: Sequence[int | None]) -> list[str]:
    """A file name stem per page, unique in the run: the input's stem (``-pN`` for a page of a
    multi-page file); where two inputs share a stem (``a.png``, ``a.tif``; ``x/p.gif``,
    ``y/p.jpg``) their whole paths, made file-name safe, tell them apart."""
    stems = [Path(s).stem for s in sources]
    sources_of: dict[str, set[str]] = {}
    for stem, source in zip(stems, sources):
        sources_of.setdefault(stem, set()).add(source)
    names = []
    for stem, source, page in zip(stems, sources, pages):
        if len(sources_of[stem]) > 1:
            stem = re.sub(r"[^\w-]+", "_", os.path.normpath(source)).strip("_")
        names.append(stem + (f"-p{page}" if page is not None else ""))
    return names
