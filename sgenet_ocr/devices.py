"""Device names: ``cpu``, ``cuda`` or ``cuda:N``, parsed and checked in this one place.

The pipeline, the restorers, the engines and training all take a ``device`` string and pass it
through :func:`parse_device`, so a bad name or a missing GPU reads the same wherever it is
caught, before any model loads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import UsageError

_PATTERN = re.compile(r"^(cpu|cuda)(?::(\d+))?$")


@dataclass(frozen=True)
class Device:
    """A parsed device: ``kind`` is "cpu" or "cuda"; ``index`` the GPU number (None: default)."""

    kind: str
    index: int | None = None

    @property
    def is_cuda(self) -> bool:
        return self.kind == "cuda"

    @property
    def cuda_index(self) -> int:
        """The GPU number to hand to libraries that want one (0 for plain ``cuda``)."""
        return self.index or 0

    def __str__(self) -> str:
        return self.kind if self.index is None else f"{self.kind}:{self.index}"


def parse_device(device: "str | Device | object" = "cpu", *, check: bool = True,
                 cpu_only: str | None = None) -> Device:
    """Parse ``device`` ("cpu", "cuda", "cuda:N", a :class:`Device` or a ``torch.device``).

    Args:
        device: the name; ``None`` means "cpu".
        check: for a CUDA device, also check that torch sees a GPU (torch is imported only
            then, so CPU runs never pay for it).
        cpu_only: the name of a component that runs on the CPU only; a CUDA device is then a
            usage error naming it.

    Returns:
        The :class:`Device`. Raises :class:`~sgenet_ocr.errors.UsageError` (exit code 2) for an
        unknown name, a CUDA device where ``cpu_only``, or a CUDA device without a GPU.
    """
    if isinstance(device, Device):
        parsed = device
    else:
        text = "cpu" if device is None else str(device).strip().lower()
        match = _PATTERN.match(text)
        if match is None:
            raise UsageError(f"unknown device {device!r}; use cpu, cuda or cuda:N")
        parsed = Device(match.group(1), None if match.group(2) is None else int(match.group(2)))
    if parsed.is_cuda and cpu_only:
        raise UsageError(f"{cpu_only} runs on the CPU only, not {str(parsed)!r}; use --device cpu")
    if parsed.is_cuda and check:
        count = cuda_device_count()
        if not count:
            raise UsageError(f"device {str(parsed)!r} requested but no CUDA GPU is available; use --device cpu")
        if parsed.cuda_index >= count:
            raise UsageError(f"device {str(parsed)!r} requested but torch sees {count} CUDA GPU(s): "
                             f"use cuda:0{f' to cuda:{count - 1}' if count > 1 else ''}")
    return parsed


def cuda_device_count() -> int:
    """How many CUDA GPUs torch sees (0 when torch is not installed)."""
    try:
        import torch
    except ImportError:
        return 0
    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0
