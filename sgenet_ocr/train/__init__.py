"""Train SGENet on real word crops with on-the-fly realistic degradation.

    python -m sgenet_ocr.train --config sgenet_ocr/configs/sgenet_default.yaml --out runs/NAME \
        [--set train.batch_size=16 ...] [--max-minutes 75] [--device cpu] [--resume]

Loss = ``pixel_weight * L1(SR, HR)`` + ``ctc_weight * CTC(prior(SR), label)`` +
``distill_weight * KL(prior(HR) || prior(SR))`` + ``feature_weight * MSE(features(SR),
features(HR))``, the prior being the frozen pretrained recogniser (``loss.recogniser``, else
``model.prior``) and the features what its classifier reads: the last three are the "text
focus" terms that reward SR images the recogniser reads as it reads HR. With ``loss.text_on: legible`` they count only the crops whose HR
the prior reads as the label (the others would stay wrong even after perfect SR). The run
writes, under ``--out``: ``log.csv`` (train and validation rows), ``last.pt`` (model, EMA,
optimiser, step: ``--resume`` continues from it) every ``checkpoint_every_minutes``, and
``sgenet_x2.safetensors`` (+ ``.json``) holding the EMA weights at every checkpoint and at the
end. It stops by itself after ``max_minutes`` of training (summed over resumes) or
``max_steps``, or on SIGTERM/SIGINT after saving.

One home per part: ``config`` (defaults, recipe, overrides), ``loading`` (crops, validation
pairs, loader memory), ``losses`` (pixel and text focus), ``optim`` (optimiser, EMA),
``trainer`` (the loop, exports, validation, checkpoints), ``cli`` (this command).
"""
from __future__ import annotations

from .cli import main
from .config import DEFAULT_CONFIG, load_config, resolve_data_path
from .loading import fit_to_shared_memory
from .losses import TextFocus
from .optim import make_optimizer
from .trainer import BEST_NAME, EXPORT_NAME, Trainer

__all__ = ["BEST_NAME", "DEFAULT_CONFIG", "EXPORT_NAME", "TextFocus", "Trainer", "fit_to_shared_memory",
           "load_config", "main", "make_optimizer", "resolve_data_path"]
