"""The restoration stage: decide which crops need help, restore them as one batch."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Sequence

import numpy as np

from .errors import PluginError, SgenetOcrError
from .geometry import quad_height


@dataclass
class StageStats:
    """Running totals, handy when the stage is hooked into a user's engine object."""

    crops_seen: int = 0
    crops_restored: int = 0
    restore_seconds: float = 0.0


@dataclass
class RestorationStage:
    host: object  # PluginHost
    restorer: object  # Restorer
    options: SimpleNamespace
    stats: StageStats = field(default_factory=StageStats)

    def select(self, crops: Sequence[np.ndarray], quads: Sequence[np.ndarray] | None = None) -> list[bool]:
        """Ask the ``needs_restoration`` hook about each crop."""
        flags = []
        for i, crop in enumerate(crops):
            quad = None if quads is None else quads[i]
            height = quad_height(quad) if quad is not None else float(crop.shape[0])
            answer = self._call("needs_restoration", crop=crop, quad=quad, text_height=height,
                                options=self.options)
            flags.append(bool(answer))
        return flags

    def apply(self, crops: Sequence[np.ndarray], quads: Sequence[np.ndarray] | None = None):
        """Restore the crops that need it. Returns ``(crops_out, restored_flags)``."""
        flags = self.select(crops, quads)
        chosen = [c for c, f in zip(crops, flags) if f]
        out = list(crops)
        if chosen:
            t0 = time.perf_counter()
            restored = self._call("restore_crops", crops=chosen, restorer=self.restorer,
                                  options=self.options)
            self.stats.restore_seconds += time.perf_counter() - t0
            if restored is None or len(restored) != len(chosen):
                raise PluginError(
                    f"restorer {getattr(self.restorer, 'name', '?')!r} returned "
                    f"{'nothing' if restored is None else len(restored)} crops for {len(chosen)}"
                )
            it = iter(restored)
            out = [next(it) if f else c for c, f in zip(crops, flags)]
        self.stats.crops_seen += len(crops)
        self.stats.crops_restored += len(chosen)
        return out, flags

    def _call(self, hook_name: str, **kwargs):
        caller = getattr(self.host.hook, hook_name)
        try:
            return caller(**kwargs)
        except SgenetOcrError:
            raise
        except Exception as exc:  # noqa: BLE001 - name the plugin that raised
            culprit = _plugin_in_traceback(self.host, exc)
            raise PluginError(
                f"plugin {culprit!r} raised in {hook_name}: {type(exc).__name__}: {exc}"
            ) from exc


def _plugin_in_traceback(host, exc: BaseException) -> str:
    """The name of the innermost plugin whose code appears in the exception's traceback."""
    files = {}
    for name, plugin in host.pm.list_name_plugin():
        f = getattr(plugin, "__file__", None)
        if f:
            files[f] = name
    culprit = "?"
    tb = exc.__traceback__
    while tb is not None:
        name = files.get(tb.tb_frame.f_code.co_filename)
        if name:
            culprit = name
        tb = tb.tb_next
    return culprit
