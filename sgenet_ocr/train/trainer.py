"""The training loop: steps (accumulated, bf16 on a GPU), EMA exports, validation, checkpoints."""
from __future__ import annotations

import csv
import math
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..data.degrade import DegradeConfig
from ..data.pairs import PairDataset, WidthBucketSampler, collate
from ..errors import UsageError
from ..metrics import paired_change, word_correct
from .config import DEFAULT_CONFIG, check_config, pick_device
from .loading import (build_crops, fit_to_shared_memory, leave_stop_signals_to_the_trainer, validation_batches,
                      validation_set, validation_source)
from .losses import TextFocus, at_size_of, decoded_texts, pixel_loss
from .optim import Ema, make_optimizer

EXPORT_NAME = "sgenet_x2.safetensors"
BEST_NAME = "best_" + EXPORT_NAME  # the EMA weights of the best validation so far
LOG_FIELDS = ["kind", "step", "minutes", "lr", "loss", "pixel", "ctc", "distill", "sec_per_step",
              "val_l1", "val_psnr", "val_acc_sr", "val_acc_bicubic", "val_acc_hr", "samples_per_s",
              "val_select", "val_engines", "feature", "val_vs_start"]  # new columns go last: resumed logs stay aligned


class Trainer:
    """One training run of ``cfg`` into the folder ``out`` (``run()`` trains it; ``resume``
    continues from ``out/last.pt``)."""

    def __init__(self, cfg: dict, out: Path, resume: bool = False):
        from ..models import create_model

        check_config(cfg)  # also for a config built in code, not only by load_config
        self.cfg, self.out = cfg, out
        out.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(cfg["seed"])
        if cfg.get("threads"):
            torch.set_num_threads(int(cfg["threads"]))
        self.device = pick_device(cfg["device"])
        # model.init_weights: fine-tune from a weights file or a shipped name such as "sgenet";
        # model.kwargs update its stored config (e.g. base: crop re-bases it, models/sgenet.py).
        init = cfg["model"].get("init_weights")
        self.model = create_model(cfg["model"]["name"], pretrained=init or False,
                                  **(cfg["model"].get("kwargs") or {}))
        if cfg["model"].get("zero_correction"):
            # Start exactly at the base (a crop base at the recogniser's input size: the raw
            # crop as the recogniser would see it) instead of a correction learned for another.
            torch.nn.init.zeros_(self.model.to_rgb.weight)
            torch.nn.init.zeros_(self.model.to_rgb.bias)
        self.model.to(self.device)
        self.init_from = lineage(init)
        self.prior = self.model.prior
        self.prior.eval()
        prior_ids = {id(p) for p in self.prior.parameters()}
        for p in self.prior.parameters():
            p.requires_grad_(False)
        self.trainable = {n: p for n, p in self.model.named_parameters() if id(p) not in prior_ids}
        tcfg = cfg["train"]
        self.optimizer = make_optimizer(self.trainable.values(), tcfg)
        self.ema = Ema(self.trainable, tcfg["ema_decay"])
        # The recogniser of the text-focus losses and of validation, as its engine runs it: the
        # model's prior, or an engine's recogniser (loss.recogniser) for engine-matched weights.
        from ..models.prior import create_reader

        self.text = TextFocus(create_reader(cfg["loss"].get("recogniser") or self.prior.name).to(self.device))
        # NHWC is oneDNN's (and cuDNN's) native conv layout: the same steps, less time per step.
        self.memory_format = torch.channels_last if tcfg.get("channels_last", True) else torch.contiguous_format
        self.model.to(memory_format=self.memory_format)
        self.text.prior.to(memory_format=self.memory_format)
        # bf16 autocast only on CUDA (where it pays); train_step falls back to fp32 if an op refuses.
        on_gpu = self.device.type != "cpu"
        self.amp = tcfg.get("amp", "none") == "bf16" and on_gpu
        if on_gpu:
            # No cudnn.benchmark: batch sizes vary with the width bucket, the last batch of each
            # and the legible crops the text losses keep, and every new shape would be re-tuned.
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        if float(cfg["loss"].get("feature_weight", 0.0)) > 0 and not self.text.prior.has_features:
            raise UsageError(f"loss.feature_weight needs a reader that exposes its features (ppocrv4_rec), "
                             f"not {self.text.prior.name}")
        if cfg["loss"].get("text_on", "all") not in ("all", "legible"):
            raise UsageError(f"loss.text_on must be 'all' or 'legible', not {cfg['loss']['text_on']!r}")
        self.step, self.minutes_before = 0, 0.0
        # Loader batches per optimizer step: a CPU imitates a GPU's large batch (its text-loss
        # gradient is mostly noise at batch 16: MODEL_CARD stage 14's noise scale), at the same cost per sample.
        self.accumulate = max(1, int(tcfg.get("accumulate", 1)))
        self.val_result: dict = {}
        self.best_score = -1.0  # the validation selection score of the best weights so far
        # The selection's words, right or wrong, at the run's first validation (the weights it
        # started from) and at the latest: every validation says whether its change is more than noise.
        self.start_hits: list[bool] | None = None
        self.start_step = 0
        self.last_hits: list[bool] = []
        vcfg = cfg.get("validation") or {}
        # Engines that judge checkpoints (checkpoint_selection); none: the recogniser's accuracy.
        self.judges = None
        if vcfg.get("readers"):
            from ..checkpoint_selection import EngineJudges

            self.judges = EngineJudges(vcfg["readers"], vcfg.get("max_height", 12)) or None
        if resume and (out / "last.pt").is_file():
            self._load_checkpoint(out / "last.pt")

        degrade = DegradeConfig.from_dict(cfg["data"].get("degrade"))
        train_crops, val_crops = build_crops(cfg)
        base_args = {"base": self.model.config.base, "output_scale": self.model.output_scale}
        self.train_set = PairDataset(train_crops, degrade, **base_args)
        self.val_batches = validation_batches(
            validation_set(cfg, val_crops, degrade, keep_native=bool(self.judges), **base_args),
            tcfg["batch_size"], cfg["seed"])
        self.sampler = WidthBucketSampler(self.train_set.aspect_widths(), tcfg["batch_size"],
                                          seed=cfg["seed"], width_budget=tcfg.get("batch_width_budget"),
                                          textzoom_fraction=cfg["data"]["textzoom_fraction"],
                                          start_batch=self.step * self.accumulate)
        workers, prefetch = fit_to_shared_memory(int(cfg["data"].get("num_workers", 0)), 4,
                                                 self._batch_bytes(degrade.lr_height))
        self.loader = DataLoader(self.train_set, batch_sampler=self.sampler, collate_fn=collate,
                                 num_workers=workers, persistent_workers=workers > 0,
                                 worker_init_fn=leave_stop_signals_to_the_trainer if workers > 0 else None,
                                 pin_memory=on_gpu, prefetch_factor=prefetch)
        self.n_train, self.n_val = len(train_crops), len(val_crops)
        self._stop_signal = None
        self.started = time.monotonic()  # reset when run() starts; set here so minutes() always works

    # -- bookkeeping
    def minutes(self) -> float:
        return self.minutes_before + (time.monotonic() - self.started) / 60.0

    def lr_at(self) -> float:
        t = self.cfg["train"]
        progress = max(self.step / t["max_steps"], self.minutes() / t["max_minutes"])
        cosine = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
        scale = t["min_lr_ratio"] + (1 - t["min_lr_ratio"]) * cosine
        warm = min(1.0, (self.step + 1) / max(1, t["warmup_steps"]))
        return t["lr"] * scale * warm

    def _log(self, row: dict) -> None:
        path = self.out / "log.csv"
        new = not path.exists()
        with path.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=LOG_FIELDS)
            if new:
                writer.writeheader()
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})

    def _save_checkpoint(self) -> None:
        state = {
            "model": {k: v for k, v in self.model.state_dict().items()},
            "ema": self.ema.shadow, "optimizer": self.optimizer.state_dict(),
            "step": self.step, "minutes": self.minutes(), "config": self.cfg,
            "validation": self.val_result, "best_score": self.best_score,
            "start_hits": self.start_hits, "start_step": self.start_step,
            "validation_source": validation_source(self.cfg),
        }
        tmp = self.out / "last.pt.tmp"
        torch.save(state, tmp)
        os.replace(tmp, self.out / "last.pt")
        self.export()

    def _load_checkpoint(self, path: Path) -> None:
        state = torch.load(path, map_location=self.device, weights_only=False)
        self.model.load_state_dict(state["model"])
        for k, v in state["ema"].items():
            self.ema.shadow[k].copy_(v)
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.minutes_before = int(state["step"]), float(state["minutes"])
        self.val_result = state.get("validation") or {}
        self.best_score = state.get("best_score", state.get("best_acc", -1.0))
        self.start_hits, self.start_step = state.get("start_hits"), int(state.get("start_step", 0))
        print(f"resumed from {path} at step {self.step} ({self.minutes_before:.1f} min)", flush=True)
        judged_before = state.get("validation_source", "held-out training crops, training degradation")
        if judged_before != validation_source(self.cfg):
            # Scores on other words do not compare: the best weights and the paired bar start again.
            print(f"validation changed ({judged_before} -> {validation_source(self.cfg)}): "
                  f"best weights and the paired comparison restart from this step", flush=True)
            self.val_result, self.best_score, self.start_hits = {}, -1.0, None

    def export(self, name: str = EXPORT_NAME) -> str:
        """Write the EMA weights as ``name`` with ``save_weights``; returns their sha256."""
        from ..models import save_weights

        meta = {
            "arch": self.cfg["model"]["name"], "scale": self.model.output_scale, "steps": self.step,
            "train_minutes": round(self.minutes(), 2), "device": str(self.device),
            "data": [str(s) for s in self.cfg["data"]["train"]], "n_train_crops": self.n_train,
            "synth_fraction": self.cfg["data"].get("synth_fraction", 0.0),
            "loss": self.cfg["loss"], "batch_size": self.cfg["train"]["batch_size"],
            "ema_decay": self.cfg["train"]["ema_decay"], "seed": self.cfg["seed"],
            "validation": self.val_result,
            "training_config": self.cfg.get("config_file", DEFAULT_CONFIG.name),
        }
        if self.init_from:
            meta["init_from"] = self.init_from
        self.ema.swap()
        try:
            # Write into a side folder, then move both files: a crash never leaves half a file.
            staging = self.out / ".export"
            digest = save_weights(self.model, staging / name, meta)
            for part in (name, Path(name).with_suffix(".json").name):
                os.replace(staging / part, self.out / part)
        finally:
            self.ema.swap()
        return digest

    def _batch_bytes(self, lr_height: int) -> int:
        """The most a training batch can hold (float32 LR, HR and the crop base, if any)."""
        lr_pixels = lr_height * self.sampler.largest_batch_width()
        per_lr_pixel = 1 + self.model.output_scale ** 2 * (2 if self.model.config.base == "crop" else 1)
        return 4 * 3 * lr_pixels * per_lr_pixel

    # -- validation
    @torch.no_grad()
    def validate(self) -> dict:
        """EMA model on the held-out pairs: L1, PSNR, the recogniser's word accuracy and, with
        ``validation.readers``, the engines' accuracies and the selection score (``select``)."""
        from ..checkpoint_selection import to_images

        self.model.eval()
        self.ema.swap()
        l1s, psnrs, hits = [], [], {"sr": [], "bicubic": [], "hr": []}
        images: dict[str, list] = {"sr": [], "identity": [], "bicubic": [], "hr": []}
        try:
            for batch in self.val_batches:
                lr, hr = batch["lr"].to(self.device), batch["hr"].to(self.device)
                sr = self.model(lr, base=self._base(batch)).clamp(0, 1)
                hr = at_size_of(hr, sr)
                bic = F.interpolate(lr, size=hr.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 1)
                l1s.append(F.l1_loss(sr, hr).item())
                mse = ((sr - hr) ** 2).flatten(1).mean(1).clamp_min(1e-10)
                psnrs.extend((10 * torch.log10(1 / mse)).tolist())
                for key, batch_images in (("sr", sr), ("bicubic", bic), ("hr", hr)):
                    if key != "sr" and self.val_result.get("acc_" + key) is not None:
                        continue  # the baselines do not change between validations
                    texts = decoded_texts(self.text.prior.decode(self.text.prior(batch_images)))
                    hits[key].extend(v for v in map(word_correct, texts, batch["label"]) if v is not None)
                if self.judges:
                    images["sr"] += to_images(sr)
                    if not self.judges.baselines:
                        images["bicubic"] += to_images(bic)
                        images["hr"] += to_images(hr)
                        images["identity"] += batch["native"]
        finally:
            self.ema.swap()
            self.model.train()
            self.prior.eval()
        result = {"step": self.step, "l1": float(np.mean(l1s)), "psnr": float(np.mean(psnrs))}
        for key, values in hits.items():
            result["acc_" + key] = float(np.mean(values)) if values else self.val_result.get("acc_" + key)
        result.update(select=result["acc_sr"], selected_by=f"{self.text.prior.name} accuracy on all validation crops "
                                                             f"({validation_source(self.cfg)})")
        self.last_hits = list(hits["sr"])
        if self.judges:
            labels = [label for batch in self.val_batches for label in batch["label"]]
            heights = [native.shape[0] for batch in self.val_batches for native in batch["native"]]
            if not self.judges.baselines:
                self.judges.measure_baselines(images, labels, heights)
            engines = self.judges.accuracies(images["sr"], labels, heights)
            self.last_hits = [hit for name in engines for hit in self.judges.last_small_hits[name]]
            result.update(engines=engines, baselines=self.judges.baselines,
                          select=self.judges.score(engines),
                          selected_by=f"mean accuracy of {', '.join(engines)} on LR text <= "
                                      f"{self.judges.max_height} px ({validation_source(self.cfg)})")
        self.val_result = result
        return result

    # -- training
    def autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp)

    def train_step(self, batch: dict | list[dict]) -> dict:
        """One optimizer step on a batch, or on several whose gradients add up (train.accumulate)."""
        batches = batch if isinstance(batch, list) else [batch]
        if not self.amp:
            return self._train_step(batches)
        try:
            return self._train_step(batches)
        except RuntimeError as exc:  # an op without a bf16 kernel: warn once, go on in fp32
            if "bfloat16" not in str(exc).lower():
                raise  # out of memory, a CUDA fault...: fp32 would not fix it (nor fit, after an OOM)
            tqdm.write(f"bf16 autocast failed ({str(exc).splitlines()[0][:200]}); training in fp32")
            self.amp = False
            return self._train_step(batches)

    def _base(self, batch: dict) -> torch.Tensor | None:
        """The batch's base images for ``base="crop"`` models, else None (the model makes its own)."""
        if "base" not in batch:
            return None
        return batch["base"].to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)

    def _train_step(self, batches: list[dict]) -> dict:
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr_at()
        self.optimizer.zero_grad(set_to_none=True)
        text_now = self.step % max(1, int(self.cfg["loss"].get("text_every", 1))) == 0
        # Batches differ in width, so they cannot be stacked: each adds its share of the mean
        # gradient, weighted by its size, which is what one batch of them all would give.
        total = sum(int(b["lr"].shape[0]) for b in batches)
        sums: dict[str, float] = {}
        for batch in batches:
            share = int(batch["lr"].shape[0]) / total
            for key, value in self._backward(batch, share, text_now).items():
                sums[key] = sums.get(key, 0.0) + share * value
        if self.cfg["train"]["grad_clip"]:
            torch.nn.utils.clip_grad_norm_(self.trainable.values(), self.cfg["train"]["grad_clip"])
        self.optimizer.step()
        self.ema.update(self.step)
        self.step += 1
        return {**sums, "samples": float(total)}

    def _backward(self, batch: dict, share: float, text_now: bool) -> dict[str, float]:
        """Add ``share`` x this batch's loss gradient to the parameters' grads; return its parts."""
        lcfg = self.cfg["loss"]
        lr = batch["lr"].to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)
        hr = batch["hr"].to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format)
        with self.autocast():
            sr = self.model(lr, base=self._base(batch))
        sr = sr.float()
        hr = at_size_of(hr, sr)
        parts = {"pixel": pixel_loss(sr, hr, lcfg["pixel"])}
        loss = lcfg["pixel_weight"] * parts["pixel"]
        if text_now and (lcfg["ctc_weight"] > 0 or lcfg["distill_weight"] > 0 or lcfg.get("feature_weight", 0) > 0):
            text_loss, sr_grad, text_parts = self.text_focus(sr.detach(), hr, batch["label"])
            parts.update(text_parts)
            # One backward through SGENet for both terms; the prior's graph was freed chunk by chunk.
            torch.autograd.backward([loss * share, sr], [None, sr_grad * share])
            loss = loss.detach() + text_loss
        else:
            (loss * share).backward()
        scalars = {k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in parts.items()}
        return {"loss": float(loss.detach()), **scalars}

    def text_focus(self, sr: torch.Tensor, hr: torch.Tensor, labels: list[str]):
        """Text-focus losses and their gradient w.r.t. ``sr``, computed ``text_chunk`` crops at a
        time so the prior's activations never exist for the whole batch (memory stays flat)."""
        lcfg = self.cfg["loss"]
        chunk = max(1, int(lcfg.get("text_chunk", 8)))
        only_legible = lcfg.get("text_on", "all") == "legible"
        feature_weight = float(lcfg.get("feature_weight", 0.0))
        leaf = sr.requires_grad_(True)
        total, sums = 0.0, {}
        n = sr.shape[0]
        for start in range(0, n, chunk):
            part = slice(start, min(n, start + chunk))
            weight = (part.stop - part.start) / n  # chunk means -> batch mean
            probs, feats = self._read(leaf[part], feature_weight > 0)
            probs_hr = feats_hr = None
            if lcfg["distill_weight"] > 0 or only_legible or feature_weight > 0:
                with torch.no_grad():
                    probs_hr, feats_hr = self._read(hr[part], feature_weight > 0)
            # Crop weights: all crops, or only those whose HR the prior reads (text_on: legible).
            keep = (self.text.legible(probs_hr, labels[part]) if only_legible
                    else torch.ones(probs.shape[0], dtype=torch.bool)).to(probs)
            term = probs.new_zeros(())
            if lcfg["ctc_weight"] > 0:
                ctc = (self.text.ctc(probs, labels[part]) * keep).mean()
                term = term + lcfg["ctc_weight"] * ctc
                sums["ctc"] = sums.get("ctc", 0.0) + weight * ctc.item()
            if lcfg["distill_weight"] > 0:
                distill = (self.text.distill(probs, probs_hr) * keep).mean()
                term = term + lcfg["distill_weight"] * distill
                sums["distill"] = sums.get("distill", 0.0) + weight * distill.item()
            if feature_weight > 0:
                # Every crop: matching what the reader sees in HR needs no label.
                feature = self.text.feature_match(feats, feats_hr).mean()
                term = term + feature_weight * feature
                sums["feature"] = sums.get("feature", 0.0) + weight * feature.item()
            (term * weight).backward()
            total += weight * term.item()
        return total, leaf.grad, sums

    def _read(self, images: torch.Tensor, with_features: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The text reader's probabilities of ``images`` and, if asked, its sequence features."""
        with self.autocast():
            if not with_features:
                return self.text.prior(images).float(), None
            probs, feats = self.text.prior.forward_features(images)
        return probs.float(), feats.float()

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Stop at the next batch, validating and saving what there is: what SIGTERM or Ctrl-C
        does during :meth:`run` (a caller that caught one earlier passes it on)."""
        self._stop_signal = signum

    def _on_signal(self, signum, _frame) -> None:
        self.stop(signum)

    def run(self) -> dict:
        """Train until a budget or a signal stops it; handlers are restored afterwards."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            return self._run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self.judges:
                self.judges.close()

    def _run(self) -> dict:
        tcfg, logcfg = self.cfg["train"], self.cfg["log"]
        self.started = time.monotonic()
        print(f"training on {self.device}: {self.n_train} train / {self.n_val} val crops "
              f"({validation_source(self.cfg)}), "
              f"{sum(p.numel() for p in self.trainable.values())} trainable parameters", flush=True)
        if not self.val_result:
            self._report_val(self.validate())
        last_ckpt = last_val = time.monotonic()
        window: list[dict] = []
        window_start = time.monotonic()
        accumulate, pending = self.accumulate, []
        bar = tqdm(total=tcfg["max_steps"], initial=self.step, desc="train", dynamic_ncols=True,
                   mininterval=1.0 if sys.stderr.isatty() else 30.0)
        reason = "max_steps"
        self.model.train()
        self.prior.eval()
        for batch in self.loader:
            if self.step >= tcfg["max_steps"]:
                break
            if self.minutes() >= tcfg["max_minutes"]:
                reason = "max_minutes"
                break
            if self._stop_signal is not None:
                reason = f"signal {self._stop_signal}"
                break
            pending.append(batch)
            if len(pending) < accumulate:
                continue
            window.append(self.train_step(pending))
            pending = []
            bar.update(1)
            if len(window) >= logcfg["log_every_steps"]:
                elapsed = time.monotonic() - window_start
                samples = sum(w.pop("samples") for w in window)
                avg = {k: float(np.mean([w.get(k, np.nan) for w in window])) for k in window[0]}
                sec = elapsed / len(window)
                bar.set_postfix(loss=f"{avg['loss']:.4f}", s_step=f"{sec:.2f}", min=f"{self.minutes():.1f}",
                                samples_s=f"{samples / elapsed:.0f}")
                self._log({"kind": "train", "step": self.step, "minutes": self.minutes(),
                           "lr": self.lr_at(), "sec_per_step": sec, "samples_per_s": samples / elapsed, **avg})
                window, window_start = [], time.monotonic()
            now = time.monotonic()
            if now - last_val >= logcfg["val_every_minutes"] * 60:
                self._report_val(self.validate())
                last_val = time.monotonic()
            if now - last_ckpt >= logcfg["checkpoint_every_minutes"] * 60:
                self._save_checkpoint()
                last_ckpt = time.monotonic()
        bar.close()
        result = self.validate()
        self._report_val(result)
        self._save_checkpoint()
        print(f"stopped ({reason}) at step {self.step} after {self.minutes():.1f} min; "
              f"weights: {self.out / EXPORT_NAME}", flush=True)
        return result

    def _report_val(self, result: dict) -> None:
        if result["select"] > self.best_score:  # keep the best weights: a late step can be worse
            self.best_score = result["select"]
            self.export(BEST_NAME)
        engines = self.judges.summary(result["engines"]) if self.judges else ""
        versus = self._versus_start()
        self._log({"kind": "val", "step": self.step, "minutes": self.minutes(),
                   "val_l1": result["l1"], "val_psnr": result["psnr"], "val_acc_sr": result["acc_sr"],
                   "val_acc_bicubic": result["acc_bicubic"], "val_acc_hr": result["acc_hr"],
                   "val_select": result["select"], "val_engines": engines, "val_vs_start": versus})
        tqdm.write(f"[val step {self.step}] l1 {result['l1']:.4f} psnr {result['psnr']:.2f} "
                   f"prior acc: sr {result['acc_sr']:.3f} bicubic {result['acc_bicubic']:.3f} "
                   f"hr {result['acc_hr']:.3f}" + (f" | select {result['select']:.3f}: {engines}" if engines else "")
                   + (f" | {versus}" if versus else ""))
        sys.stdout.flush()

    def _versus_start(self) -> str:
        """The selection's words fixed and broken since the run's first validation, with the sign
        test's p: a best score that is only the luckiest of many noisy validations shows here."""
        if self.start_hits is None or len(self.start_hits) != len(self.last_hits):
            self.start_hits, self.start_step = list(self.last_hits), self.step  # the bar from now on
            return ""
        fixed, broken, p = paired_change(self.start_hits, self.last_hits)
        net = fixed - broken
        return (f"{net:+d} word{'' if abs(net) == 1 else 's'} vs step {self.start_step} "
                f"(fixed {fixed}, broken {broken}, p {p:.2f})")


def lineage(init) -> dict | None:
    """What a fine-tune started from (sha256, steps, minutes, config, and its own start), read
    from the initial weights' sidecar, so every shipped file says how it was made."""
    if not init:
        return None
    from ..models import resolve_weights
    from ..models.weights import read_sidecar

    side = read_sidecar(resolve_weights(init).path) or {}
    meta = side.get("metadata", {})
    lineage = {"sha256": side.get("sha256"), "steps": meta.get("steps"),
               "train_minutes": meta.get("train_minutes"), "training_config": meta.get("training_config")}
    if meta.get("init_from"):
        lineage["init_from"] = meta["init_from"]
    return lineage
