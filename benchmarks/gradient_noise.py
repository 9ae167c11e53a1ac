"""How large a batch does each training loss need? The gradient noise scale of each term.

    python benchmarks/gradient_noise.py --config sgenet_ocr/configs/sgenet_ppocr48.yaml \
        --set model.zero_correction=false --terms pixel,ctc,distill --batches 24 \
        --json gradient_noise.json [--markdown gradient_noise.md]

A loss term helps only when the mean of its batch gradients points somewhere: when the batch is
small against the term's *noise scale* ``B_noise = B tr(Sigma_B) / |G|^2`` (McCandlish et al.
2018, "An Empirical Model of Large-Batch Training": ``Sigma_B`` is the covariance of a batch-B
gradient, ``G`` the true gradient), each step mostly follows noise. This script draws
``--batches`` training batches from the config's loader, takes each term's gradient on the same
batches with the weights held fixed, and reports per term: ``tr(Sigma_B)``, an unbiased ``|G|^2``
(``|mean|^2 - tr(Sigma_B) / K``) with its standard error under ``G = 0``, ``B_noise`` when ``|G|^2``
is clearly above zero or else a lower bound on it (``|G|^2`` taken at two standard errors), and
the cosine between gradients of different batches.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``benchmarks.*`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sgenet_ocr.cli import ArgumentParser, run_cli  # noqa: E402
from sgenet_ocr.errors import UsageError  # noqa: E402
from sgenet_ocr.outputs import output_file  # noqa: E402

# Each term's loss weights (pixel, ctc, distill, feature): one term alone, at unit weight (the
# noise scale does not depend on a term's weight); "config" is the config's own mix.
WEIGHT_KEYS = ("pixel_weight", "ctc_weight", "distill_weight", "feature_weight")
TERMS = {"pixel": (1.0, 0.0, 0.0, 0.0), "ctc": (0.0, 1.0, 0.0, 0.0), "distill": (0.0, 0.0, 1.0, 0.0),
         "feature": (0.0, 0.0, 0.0, 1.0), "config": None}


def noise_scale(grads, batch_size: float) -> dict:
    """Statistics of K batch gradients (a K x P float64 tensor) of mean batch size ``batch_size``."""
    import torch

    k = grads.shape[0]
    mean = grads.mean(0)
    centred = grads - mean
    trace = float((centred ** 2).sum() / (k - 1))              # tr(Sigma_B)
    g2 = float(mean.dot(mean)) - trace / k                       # unbiased |G|^2
    gram = centred @ centred.T                                   # tr(Sigma^2) from the K x K Gram
    g2_se = float((2 * (gram ** 2).sum() / (k - 1) ** 2) ** 0.5 / k)
    clear = g2 > 2 * g2_se
    unit = torch.nn.functional.normalize(grads, dim=1)
    pairs = (unit[0:k - 1:2] * unit[1:k:2]).sum(1)
    halves = torch.nn.functional.cosine_similarity(grads[: k // 2].mean(0), grads[k // 2:].mean(0), dim=0)
    return {
        "tr_sigma_b": trace, "g2": g2, "g2_se": g2_se,
        "b_noise": batch_size * trace / g2 if clear else None,
        "b_noise_lower_bound": None if clear else batch_size * trace / (max(g2, 0.0) + 2 * g2_se),
        "cos_batches": float(pairs.mean()), "cos_halves": float(halves),
        "grad_norm": float(grads.norm(dim=1).mean()),
    }


def measure(config: str | None, overrides: list[str], terms: list[str], batches: int, threads: int,
            progress=print) -> dict:
    import torch

    from sgenet_ocr.train import Trainer, load_config

    cfg = load_config(config, [*overrides, "train.grad_clip=0", "loss.text_every=1", "data.num_workers=0",
                               f"threads={threads}", "validation.readers=[]"])
    weights = {t: TERMS[t] or tuple(cfg["loss"].get(k, 0.0) for k in WEIGHT_KEYS) for t in terms}
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(cfg, Path(out))
        trainer.optimizer.step = lambda: None  # every gradient at the same weights
        trainer.model.train()
        grads: dict[str, list] = {t: [] for t in terms}
        sizes = []
        for i, batch in enumerate(trainer.loader):
            if i >= batches:
                break
            for term in terms:
                loss = trainer.cfg["loss"]
                loss.update(zip(WEIGHT_KEYS, weights[term]))
                trainer.train_step(batch)
                grads[term].append(torch.cat([p.grad.flatten() for p in trainer.trainable.values()]).double())
            sizes.append(int(batch["lr"].shape[0]))
            progress(f"batch {i + 1}/{batches} ({sizes[-1]} crops)")
    mean_batch = sum(sizes) / len(sizes)
    return {
        "settings": {"config": str(config) if config else "sgenet_default.yaml", "overrides": overrides,
                     "init_weights": cfg["model"].get("init_weights"), "batches": len(sizes),
                     "mean_batch_size": mean_batch, "threads": threads,
                     "loss": {k: cfg["loss"][k] for k in ("pixel", "text_on", "recogniser")}},
        "terms": {t: noise_scale(torch.stack(g), mean_batch) for t, g in grads.items()},
    }


def markdown(result: dict) -> str:
    s = result["settings"]
    lines = [f"Gradient noise scale: {s['config']} {' '.join(s['overrides'])}, weights "
             f"{s['init_weights']}, {s['batches']} batches of {s['mean_batch_size']:.1f} crops on average.",
             "", "| term | tr(Sigma_B) | \\|G\\|^2 (se) | B_noise | cos(batch, batch) | cos(half, half) |",
             "|---|---|---|---|---|---|"]
    for term, r in result["terms"].items():
        scale = f"{r['b_noise']:.0f}" if r["b_noise"] is not None else f"> {r['b_noise_lower_bound']:.0f}"
        lines.append(f"| {term} | {r['tr_sigma_b']:.3g} | {r['g2']:.3g} ({r['g2_se']:.2g}) | {scale} | "
                     f"{r['cos_batches']:.2f} | {r['cos_halves']:.2f} |")
    return "\n".join(lines) + "\n"


def _main(argv) -> int:
    parser = ArgumentParser(prog="gradient_noise.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="training config (default: sgenet_default.yaml)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--terms", default="pixel,ctc,distill", help=f"comma list of {', '.join(TERMS)}")
    parser.add_argument("--batches", type=int, default=24, help="batches drawn (at least 4)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=output_file("--json"), required=True)
    parser.add_argument("--markdown", type=output_file("--markdown"))
    args = parser.parse_args(argv)
    terms = [t.strip() for t in args.terms.split(",") if t.strip()]
    unknown = [t for t in terms if t not in TERMS]
    if not terms or unknown:
        raise UsageError(f"unknown term(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(TERMS)}")
    if args.batches < 4:
        raise UsageError("--batches must be at least 4")
    result = measure(args.config, args.set, terms, args.batches, args.threads,
                     lambda msg: print(f"[gradient-noise] {msg}", file=sys.stderr, flush=True))
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    text = markdown(result)
    if args.markdown:
        args.markdown.write_text(text)
    print(text)
    return 0


def main(argv=None) -> int:
    return run_cli("gradient_noise", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
