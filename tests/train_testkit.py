"""A tiny SGENet and a tiny crops folder: real training steps in a fraction of a second."""
from __future__ import annotations

from pathlib import Path

from sgenet_ocr.data.synth import render_words

TINY_MODEL = {"channels": 16, "guidance_dim": 16, "gru_hidden": 8, "num_blocks": 1, "guidance_heads": 2,
              "text_layers": 1, "text_to_image_layers": 1, "image_to_text_layers": 1}


def make_word_folder(folder: Path) -> Path:
    """A crops folder (images/ + labels.tsv) of 20 rendered words (the package's own synthetic data)."""
    from PIL import Image

    (folder / "images").mkdir(parents=True)
    lines = []
    for i, crop in enumerate(render_words(20, seed=11, words=["EXIT", "Hotel", "PARK", "road"])):
        Image.fromarray(crop.image).save(folder / "images" / f"{i}.png")
        lines.append(f"{i}.png\t{crop.label}\n")
    (folder / "labels.tsv").write_text("".join(lines))
    return folder


def tiny_training_settings(word_folder: Path) -> list[str]:
    """Config overrides: the tiny SGENet on short LR crops (max 32 px wide) from ``word_folder``."""
    return [f"data.train=[{word_folder}]", "data.val_count=4", "data.num_workers=0",
            "data.textzoom_fraction=0", "data.min_hr_height=16", "data.degrade.max_lr_width=32",
            f"model.kwargs={TINY_MODEL}", "train.batch_size=8", "train.warmup_steps=1",
            "log.log_every_steps=1", "threads=1", "device=cpu", "validation.readers=[]"]
