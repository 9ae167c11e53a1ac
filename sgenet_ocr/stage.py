"""The restoration stage: decide which crops need help, restore them as one batch.

:func:`build_stage` is the one place a stage is made (for :class:`~sgenet_ocr.pipeline.Pipeline`,
:func:`sgenet_ocr.attach` and the evaluation): it checks the settings, picks the restorer and
creates it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .devices import parse_device
from .errors import PluginError, UsageError
from .geometry import quad_height
from .options import StageOptions


@dataclass
class StageStats:
    """Running totals, handy when the stage is attached to a user's engine object."""

    crops_seen: int = 0
    crops_restored: int = 0
    crops_guided: int = 0  # restored with the engine's own probabilities instead of the prior
    restore_seconds: float = 0.0


@dataclass
class RestorationStage:
    host: Any  # the PluginHost (not imported: the plugin manager's hookspecs name this class)
    restorer: Any  # a sgenet_ocr.restorers.Restorer
    options: Any  # StageOptions (anything with ``min_height`` does, e.g. in tests)
    stats: StageStats = field(default_factory=StageStats)

    def select(self, crops: Sequence[np.ndarray], quads: Sequence[np.ndarray] | None = None) -> list[bool]:
        """Ask the ``needs_restoration`` hook about each crop."""
        flags = []
        for i, crop in enumerate(crops):
            quad = None if quads is None else quads[i]
            height = quad_height(quad) if quad is not None else float(crop.shape[0])
            answer = self.host.call("needs_restoration", crop=crop, quad=quad, text_height=height,
                                options=self.options)
            flags.append(bool(answer))
        return flags

    def guidance_charset(self, engine: Any) -> list[str] | None:
        """The charset to ask ``engine.recognize_with_probs`` for, when the engine's recogniser
        is the restorer's semantic prior (then its probabilities replace the prior's run) and
        ``options.engine_prior`` allows it; else ``None``."""
        prior = getattr(self.restorer, "guided_by", None)
        if prior is not None and getattr(self.options, "engine_prior", True) and getattr(engine, "recognizer_prior", None) == prior:
            return list(self.restorer.prior_charset)
        return None

    def apply(self, crops: Sequence[np.ndarray], quads: Sequence[np.ndarray] | None = None,
              flags: Sequence[bool] | None = None, prior_probs: Sequence[np.ndarray | None] | None = None):
        """Restore the crops that need it. Returns ``(crops_out, restored_flags)``.

        ``flags`` are :meth:`select`'s answers when the caller already has them. ``prior_probs``:
        one entry per crop, the engine's probabilities (see :meth:`guidance_charset`) or ``None``.
        """
        flags = self.select(crops, quads) if flags is None else [bool(f) for f in flags]
        chosen = [c for c, f in zip(crops, flags) if f]
        out = list(crops)
        if chosen:
            guide = None if prior_probs is None else [p for p, f in zip(prior_probs, flags) if f]
            if guide is not None and all(p is None for p in guide):
                guide = None
            t0 = time.perf_counter()
            restored = self.host.call("restore_crops", crops=chosen, restorer=self.restorer,
                                      options=self.options, prior_probs=guide)
            self.stats.restore_seconds += time.perf_counter() - t0
            if restored is None or len(restored) != len(chosen):
                raise PluginError(
                    f"restorer {getattr(self.restorer, 'name', '?')!r} returned "
                    f"{'nothing' if restored is None else len(restored)} crops for {len(chosen)}"
                )
            it = iter(restored)
            out = [next(it) if f else c for c, f in zip(crops, flags)]
            self.stats.crops_guided += 0 if guide is None else sum(p is not None for p in guide)
        self.stats.crops_seen += len(crops)
        self.stats.crops_restored += len(chosen)
        return out, flags


def default_restorer() -> str:
    """``sgenet`` once trained weights are shipped (or ``$SGENET_WEIGHTS`` names some), else
    ``bicubic``. Shipped weights missing their sidecar (or the sidecar its weights) still pick
    ``sgenet``, whose loading names the missing file (exit 6): a broken install never quietly
    becomes bicubic."""
    try:
        from .models import env_weights, ships_weights
    except ImportError:
        return "bicubic"
    return "sgenet" if ships_weights("sgenet") or env_weights() else "bicubic"


def _takes_default_weights(host, options: StageOptions) -> bool:
    """The chosen restorer takes ``weights`` and the user named none."""
    from .models import env_weights
    from .registry import takes_option

    return ("weights" not in options.restorer_options and not env_weights()
            and takes_option(host.restorers.factory(options.restorer), "weights"))


def check_stage_settings(host, options: StageOptions) -> None:
    """The cheap checks of :func:`build_stage`, run before anything heavy loads: a device that
    exists here and (when named) a known restorer, listing the known ones. (``min_height``,
    ``keep`` and the device's name are checked when the options are made.)"""
    parse_device(options.device)
    if "device" in options.restorer_options:
        raise UsageError("device is not a restorer option: use --device (device= in Python)")
    if options.restorer is not None:
        host.restorers.factory(options.restorer)


def with_engine_defaults(host, options: StageOptions, engine=None) -> StageOptions:
    """``options`` with the engine's choices where the user made none (see :func:`build_stage`);
    benchmarks use it to measure what the pipeline would run."""
    preferred = getattr(engine, "preferred_restorer", None)
    options = options.replace(restorer=options.restorer or preferred or default_restorer())
    matched = getattr(engine, "preferred_weights", None)
    if matched and _takes_default_weights(host, options):
        options = options.replace(restorer_options={**options.restorer_options, "weights": matched})
    return options


def build_stage(host, options: StageOptions, engine=None) -> RestorationStage:
    """Create the restorer and the stage around it.

    ``engine``: the engine (an instance or its class) whose defaults apply where the user chose
    nothing: the restorer is ``options.restorer``, else the engine's ``preferred_restorer``,
    else :func:`default_restorer`; a restorer that takes ``weights`` gets the engine's
    ``preferred_weights`` unless the user named weights (option or ``$SGENET_WEIGHTS``). The
    stage's options name the restorer and weights used.
    """
    check_stage_settings(host, options)
    options = with_engine_defaults(host, options, engine)
    restorer_options = host.restorers.with_threads(options.restorer, options.restorer_options, options.threads)
    restorer = host.restorers.create(options.restorer, device=options.device, **restorer_options)
    return RestorationStage(host, restorer, options)
