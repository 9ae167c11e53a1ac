"""TextZoom-format LMDB datasets: read, write, and convert a crops folder into one.

Layout (as in TextZoom, Wang et al. 2020): keys ``num-samples`` (decimal count) and, for
1-based ``i``, ``image_hr-%09d``, ``image_lr-%09d`` (encoded image bytes, PNG when written
here) and ``label-%09d`` (UTF-8 text). TextZoom's test set is a folder with one LMDB per
difficulty, ``easy/``, ``medium/`` and ``hard/``; :func:`open_splits` reads either layout.

    python -m sgenet_ocr.data.textzoom CROPS_DIR OUT_LMDB [--protocol textzoom|aspect] [--limit N]

converts a crops folder (``images/`` + ``labels.tsv``) into TextZoom pairs: the HR is the
crop resized to 128x32 and the LR its bicubic 64x16 downscale (``textzoom``), or the HR at
height 32 keeping the aspect ratio and an LR of half its size (``aspect``).
"""
from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from PIL import Image

from ..cli import ArgumentParser, run_cli
from ..errors import MissingDependencyError, UsageError
from ..outputs import check_writable_folder

SPLITS = ("easy", "medium", "hard")
MAP_SIZE = 1 << 32  # 4 GiB of address space; LMDB only uses what it writes


def _lmdb():
    try:
        import lmdb
    except ImportError:
        raise MissingDependencyError("lmdb", "train", "TextZoom LMDB files need the 'lmdb' package") from None
    return lmdb


@dataclass
class Pair:
    """One TextZoom sample: RGB ``uint8`` LR and HR images and the word."""

    lr: np.ndarray
    hr: np.ndarray
    label: str


def encode_png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def decode_image(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def is_lmdb(path: str | Path) -> bool:
    """A folder holding ``data.mdb`` (one LMDB) ."""
    return (Path(path) / "data.mdb").is_file()


def write_lmdb(path: str | Path, pairs: Iterable[Pair]) -> int:
    """Write pairs as a TextZoom LMDB at ``path`` (a folder); returns the count written."""
    lmdb = _lmdb()
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    env = lmdb.open(str(path), map_size=MAP_SIZE)
    count = 0
    try:
        with env.begin(write=True) as txn:
            for count, pair in enumerate(pairs, 1):
                txn.put(b"image_hr-%09d" % count, encode_png(pair.hr))
                txn.put(b"image_lr-%09d" % count, encode_png(pair.lr))
                txn.put(b"label-%09d" % count, pair.label.encode("utf-8"))
            txn.put(b"num-samples", str(count).encode())
    finally:
        env.close()
    return count


class TextZoomLmdb:
    """Random access to a TextZoom LMDB: ``len()``, ``[i]`` (0-based) -> :class:`Pair`."""

    def __init__(self, path: str | Path):
        lmdb = _lmdb()
        self.path = Path(path)
        if not is_lmdb(self.path):
            raise UsageError(f"not an LMDB folder (no data.mdb): {self.path}")
        self.env = lmdb.open(str(self.path), readonly=True, lock=False, readahead=False, meminit=False)
        with self.env.begin() as txn:
            raw = txn.get(b"num-samples")
        if raw is None:
            raise UsageError(f"{self.path}: LMDB has no 'num-samples' key (not TextZoom format)")
        self.count = int(raw)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> Pair:
        if not 0 <= index < self.count:
            raise IndexError(index)
        key = index + 1
        with self.env.begin() as txn:
            hr = txn.get(b"image_hr-%09d" % key)
            lr = txn.get(b"image_lr-%09d" % key)
            label = txn.get(b"label-%09d" % key)
        if hr is None or lr is None or label is None:
            raise UsageError(f"{self.path}: sample {key} is incomplete")
        return Pair(decode_image(lr), decode_image(hr), label.decode("utf-8"))

    def __iter__(self) -> Iterator[Pair]:
        for i in range(self.count):
            yield self[i]

    def close(self) -> None:
        """Release the LMDB (it can only be open once per process)."""
        self.env.close()

    def __enter__(self) -> "TextZoomLmdb":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_splits(path: str | Path) -> dict[str, TextZoomLmdb]:
    """``{"all": db}`` for one LMDB, or ``{"easy": .., "medium": .., "hard": ..}`` for a TextZoom
    test folder (any subset of the three that exists)."""
    path = Path(path)
    if is_lmdb(path):
        return {"all": TextZoomLmdb(path)}
    found = {name: TextZoomLmdb(path / name) for name in SPLITS if is_lmdb(path / name)}
    if not found:
        raise UsageError(f"{path}: neither an LMDB nor a folder with easy/medium/hard LMDBs")
    return found


def crop_to_pair(image: np.ndarray, label: str, protocol: str = "textzoom") -> Pair:
    """TextZoom pair of a crop: HR 128x32 / LR 64x16 (``textzoom``) or aspect-kept (``aspect``)."""
    if protocol == "textzoom":
        hr_w, hr_h = 128, 32
    elif protocol == "aspect":
        hr_h = 32
        hr_w = max(2, int(round(image.shape[1] * hr_h / image.shape[0] / 2)) * 2)
    else:
        raise UsageError(f"unknown conversion protocol {protocol!r} (textzoom or aspect)")
    hr = np.asarray(Image.fromarray(image).resize((hr_w, hr_h), Image.Resampling.BICUBIC))
    lr = np.asarray(Image.fromarray(hr).resize((hr_w // 2, hr_h // 2), Image.Resampling.BICUBIC))
    return Pair(lr, hr, label)


def convert_folder(crops_dir: str | Path, out: str | Path, protocol: str = "textzoom",
                   limit: int | None = None) -> int:
    """Write the crops of ``crops_dir`` as a TextZoom LMDB at ``out``; returns the count."""
    from tqdm import tqdm

    from .crops import load_crops

    crops = load_crops(crops_dir, limit=limit)
    pairs = (crop_to_pair(c.image, c.label, protocol) for c in tqdm(crops, desc="convert", unit="crop"))
    return write_lmdb(out, pairs)


def main(argv: list[str] | None = None) -> int:
    return run_cli("textzoom", _main, argv)


def _main(argv: list[str] | None) -> int:
    parser = ArgumentParser(prog="python -m sgenet_ocr.data.textzoom",
                                     description="Convert a crops folder into a TextZoom LMDB.")
    parser.add_argument("crops_dir")
    parser.add_argument("out_lmdb")
    parser.add_argument("--protocol", default="textzoom", choices=("textzoom", "aspect"))
    parser.add_argument("--limit", type=int)
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    out = Path(args.out_lmdb)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; the LMDB is a folder")
    if out.is_dir() and any(out.iterdir()):  # an earlier LMDB would keep its old records beyond ours
        raise UsageError(f"{out} is not empty: give a new or empty folder for the LMDB")
    check_writable_folder(out, "out_lmdb")
    count = convert_folder(args.crops_dir, out, args.protocol, args.limit)
    print(f"wrote {count} pairs to {args.out_lmdb}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
