"""Export SGENet, semantic prior included, to one ONNX graph with dynamic batch and width.

Usage::

    python -m sgenet_ocr.export --format onnx OUT.onnx [--weights PATH] [--opset N] [--random-init]

The graph maps ``lr`` ``(N, 3, 16, W)`` RGB in [0, 1] to ``sr`` ``(N, 3, 32, 2W)`` (``(N, 3, 16s, sW)``
for weights with an ``output_scale`` s). It is put
together from three pieces, because the prior is itself an ONNX model that onnx2torch
converted to torch, and tracing that conversion would freeze its shapes:

1. ``prior_input`` (traced from torch): the prior's preprocessing (bilinear resize by the
   integer factor 48/16, RGB -> BGR, [-1, 1]); a scale factor, not a size, keeps W dynamic;
2. the prior's original ONNX graph from the rapidocr wheel (dynamic width by construction);
3. ``sr`` (traced from torch): charset reduction of the prior's output, then SGENet with those
   probabilities.

They are joined by ``Identity`` nodes (onnxruntime removes them). The metadata holds the weights'
sha256, the architecture config and the export settings.

Weights trained with ``base="crop"`` take a second input, ``base``, shaped like ``sr``: the crop
enlarged once to the output size (``sgenet_ocr.imaging.enlarge_once``); both graphs then have it.

``--guided`` exports the SR branch alone: inputs ``lr`` and ``prior_probs`` ``(N, T, C)`` (the
prior's per-step probabilities over its reduced charset, from an engine whose recogniser is the
prior, see ``OcrEngine.recognize_with_probs``), output ``sr``. Without the prior it runs 1.2-1.6x
faster per crop (``benchmarks/results/speed_idle.md``); the charset is in the metadata
(``prior_charset``).
"""
from __future__ import annotations

import copy
import dataclasses
import io
import json
import sys
import warnings
from pathlib import Path

from .cli import ArgumentParser, run_cli
from .errors import ModelError, UsageError
from .outputs import check_output_file

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Squeeze/Unsqueeze with axes inputs, ReduceSum with axes input
EXPORT_VERSION = "2"  # bump when the graph layout changes: invalidates cached exports
INPUT_NAME, OUTPUT_NAME = "lr", "sr"
GUIDE_NAME = "prior_probs"  # the guided graph's second input
BASE_NAME = "base"  # the enlarged crop, an input of base="crop" weights only


def load_for_export(weights: str | Path | None, random_init: bool = False):
    """``(model, sha256 or None, source)``: ``weights`` (a name or path), else the shipped
    weights, else random weights when asked for (tests, speed benchmarks)."""
    from .models import PRETRAINED, create_model, resolve_weights

    # Only a missing weights file means "none shipped"; a missing sidecar is named by resolve_weights.
    if weights is None and not PRETRAINED["sgenet"].weights_path.is_file():
        if random_init:
            return create_model("sgenet", pretrained=False), None, "random-init"
        raise ModelError("no trained sgenet weights are shipped: pass --weights PATH "
                         "(or --random-init for a test export)")
    resolved = resolve_weights(True if weights is None else weights)
    return create_model("sgenet", pretrained=resolved), resolved.sha256, str(resolved.path)


def _swap_mish(module) -> None:
    """Replace every ``nn.Mish`` by :class:`~sgenet_ocr.models.sgenet.ExpMish` (same function;
    onnxruntime's CPU Softplus is scalar code and took 11% of the graph's time at batch 32)."""
    from torch import nn

    from .models.sgenet import ExpMish

    for name, child in module.named_children():
        if isinstance(child, nn.Mish):
            setattr(module, name, ExpMish())
        else:
            _swap_mish(child)


def _torch_pieces(model):
    """The two traced pieces as torch modules: prior preprocessing, and charset reduction + SR."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    prior, cfg = model.prior, model.config
    for attr in ("onnx_path", "input_height", "mean", "std"):
        if not hasattr(prior, attr):
            raise ModelError(f"prior {type(prior).__name__} is not ONNX-backed; it cannot be exported")
    if prior.input_height % cfg.input_height:
        raise ModelError(f"prior height {prior.input_height} is not a multiple of {cfg.input_height}")
    if getattr(prior, "min_width", 0):
        raise ModelError("export of a prior with min_width padding is not supported")
    factor = prior.input_height // cfg.input_height

    class PriorInput(nn.Module):
        """What ``prior.preprocess`` does, with a scale factor so the width stays symbolic.

        At LR height 16 the prior's width ceil(48 * W / 16) is exactly 3 W, so both agree.
        """

        def __init__(self):
            super().__init__()
            self.register_buffer("bgr", torch.tensor([2, 1, 0]), persistent=False)

        def forward(self, lr):
            x = F.interpolate(lr, scale_factor=float(factor), mode="bilinear", align_corners=False)
            return (x.index_select(1, self.bgr) - prior.mean) / prior.std

    # SGENet.state_dict() hides the frozen prior; the TorchScript exporter pairs parameters with
    # that state dict, so a hidden entry shifts every later weight. Export a copy that shows all.
    sr_model = copy.deepcopy(model).eval()
    sr_model.config = dataclasses.replace(sr_model.config, finetune_prior=True)
    _swap_mish(sr_model)
    columns = getattr(prior, "columns", None) if getattr(prior, "reduce_charset", False) else None

    class SrFromRawProbs(nn.Module):
        def __init__(self):
            super().__init__()
            self.sgenet = sr_model

        def forward(self, lr, raw_probs, base=None):
            probs = raw_probs
            if columns is not None:  # same renormalised reduction as PPOCRv4Prior.forward
                kept = raw_probs.index_select(-1, columns)
                probs = kept / kept.sum(dim=-1, keepdim=True).clamp_min(1e-8)
            return self.sgenet(lr, prior_probs=probs, base=base)

    return PriorInput().eval(), SrFromRawProbs().eval()


def _trace(module, args, input_names, output_names, dynamic_axes, opset: int):
    import onnx
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and GRU batch-size warnings: width/batch are symbolic
        torch.onnx.export(module, args, buffer, dynamo=False, opset_version=opset,
                          input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, do_constant_folding=True)
    return onnx.load_from_string(buffer.getvalue())


def _metadata(model, opset: int, extra: dict | None) -> dict:
    return {"sgenet_config": json.dumps(dataclasses.asdict(model.config), sort_keys=True),
            "export_version": EXPORT_VERSION, "opset": str(opset),
            "prior_onnx": Path(model.prior.onnx_path).name, **(extra or {})}


def _with_metadata(proto, meta: dict):
    import onnx

    for key, value in meta.items():
        proto.metadata_props.add(key=key, value=str(value))
    onnx.checker.check_model(proto)
    return proto


def _base_example(model, lr, names: list, axes: dict) -> tuple:
    """For ``base="crop"`` weights: add the ``base`` input to ``names``/``axes`` and return an
    example base for tracing; else ``()``."""
    if not model.takes_base:
        return ()
    import torch.nn.functional as F

    names.append(BASE_NAME)
    axes[BASE_NAME] = {0: "batch", 3: "out_width"}
    return (F.interpolate(lr, scale_factor=model.output_scale, mode="bilinear", align_corners=False),)


def build_guided_onnx(model, opset: int = DEFAULT_OPSET, metadata: dict | None = None):
    """The SR branch alone, guided by given prior probabilities, as an ``onnx.ModelProto``."""
    import torch

    if opset < MIN_OPSET:
        raise UsageError(f"--opset must be at least {MIN_OPSET}, got {opset}")
    _, sr_module = _torch_pieces(model.eval())
    sgenet = sr_module.sgenet  # the export copy, Mish swapped
    lr = torch.rand(2, 3, model.config.input_height, 64)
    with torch.no_grad():
        probs = model.prior(lr)

    class Guided(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.sgenet = sgenet

        def forward(self, lr, prior_probs, base=None):
            return self.sgenet(lr, prior_probs=prior_probs, base=base)

    names, axes = [INPUT_NAME, GUIDE_NAME], {INPUT_NAME: {0: "batch", 3: "width"}, GUIDE_NAME: {0: "batch", 1: "steps"},
                                            OUTPUT_NAME: {0: "batch", 3: "out_width"}}
    args = (lr, probs, *_base_example(model, lr, names, axes))
    proto = _trace(Guided().eval(), args, names, [OUTPUT_NAME], axes, opset)
    proto.producer_name = "sgenet_ocr.export"
    meta = _metadata(model, opset, metadata)
    meta.update(guided="1", prior_charset=json.dumps(list(model.prior.charset)))
    return _with_metadata(proto, meta)


def build_onnx(model, opset: int = DEFAULT_OPSET, metadata: dict | None = None):
    """The whole model (prior included) as an ``onnx.ModelProto``."""
    import onnx
    import torch
    from onnx import compose, helper, version_converter

    if opset < MIN_OPSET:
        raise UsageError(f"--opset must be at least {MIN_OPSET}, got {opset}")
    model = model.eval()
    pre_module, sr_module = _torch_pieces(model)
    lr = torch.rand(2, 3, model.config.input_height, 64)
    with torch.no_grad():
        prepared = pre_module(lr)
        raw = model.prior.raw_forward(prepared)
    pre = _trace(pre_module, (lr,), ["lr"], ["prior_input"],
                 {"lr": {0: "batch", 3: "width"}, "prior_input": {0: "batch", 3: "prior_width"}}, opset)
    names, axes = ["lr", "raw_probs"], {"lr": {0: "batch", 3: "width"}, "raw_probs": {0: "batch", 1: "steps"},
                                        "sr": {0: "batch", 3: "out_width"}}
    sr = _trace(sr_module, (lr, raw, *_base_example(model, lr, names, axes)), names, ["sr"], axes, opset)
    rec = onnx.load(model.prior.onnx_path)
    rec_opset = next((o.version for o in rec.opset_import if o.domain in ("", "ai.onnx")), opset)
    if rec_opset != opset:
        rec = version_converter.convert_version(rec, opset)

    pre, rec, sr = (compose.add_prefix(m, p) for m, p in ((pre, "pre/"), (rec, "prior/"), (sr, "sr/")))
    link = [
        helper.make_node("Identity", [INPUT_NAME], ["pre/lr"], name="feed_prior"),
        helper.make_node("Identity", [INPUT_NAME], ["sr/lr"], name="feed_sr"),
        helper.make_node("Identity", ["pre/prior_input"], [rec.graph.input[0].name], name="prior_in"),
        helper.make_node("Identity", [rec.graph.output[0].name], ["sr/raw_probs"], name="prior_out"),
        helper.make_node("Identity", ["sr/sr"], [OUTPUT_NAME], name="output"),
    ]
    if model.takes_base:
        link.insert(2, helper.make_node("Identity", [BASE_NAME], ["sr/" + BASE_NAME], name="feed_base"))
    lr_info = helper.make_tensor_value_info(INPUT_NAME, onnx.TensorProto.FLOAT,
                                            ["batch", 3, model.config.input_height, "width"])
    out_dims = ["batch", 3, model.config.input_height * model.output_scale, "out_width"]
    sr_info = helper.make_tensor_value_info(OUTPUT_NAME, onnx.TensorProto.FLOAT, out_dims)
    inputs = [lr_info]
    if model.takes_base:
        inputs.append(helper.make_tensor_value_info(BASE_NAME, onnx.TensorProto.FLOAT, out_dims))
    *feeds, prior_in, prior_out, output = link
    graph = helper.make_graph(
        [*feeds, *pre.graph.node, prior_in, *rec.graph.node, prior_out, *sr.graph.node, output],
        "sgenet", inputs, [sr_info],
        initializer=[*pre.graph.initializer, *rec.graph.initializer, *sr.graph.initializer])
    merged = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                               producer_name="sgenet_ocr.export")
    merged.ir_version = max(m.ir_version for m in (pre, rec, sr))
    return _with_metadata(merged, _metadata(model, opset, metadata))


def export_onnx(model, path: str | Path, opset: int = DEFAULT_OPSET, metadata: dict | None = None,
                guided: bool = False) -> Path:
    """Write the model (``guided``: the SR branch alone) to ``path`` atomically (a half-written
    file never has the final name)."""
    import os

    import onnx

    proto = (build_guided_onnx if guided else build_onnx)(model, opset, metadata)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        onnx.save(proto, str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    """The ``metadata_props`` of an exported file (without loading the weights)."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in proto.metadata_props}


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m sgenet_ocr.export",
                            description="Export SGENet (semantic prior included) for deployment.")
    parser.add_argument("output", help="output file, e.g. sgenet_x2.onnx")
    parser.add_argument("--format", choices=["onnx"], default="onnx", help="export format (default onnx)")
    parser.add_argument("--weights", help="weights: a shipped name or a .safetensors path (default: the shipped weights)")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset (default {DEFAULT_OPSET})")
    parser.add_argument("--guided", action="store_true",
                        help="export the SR branch alone, taking the prior's probabilities as input 'prior_probs'")
    parser.add_argument("--random-init", action="store_true",
                        help="export random weights when no weights exist (tests and speed checks only)")
    return parser


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.opset < MIN_OPSET:
        raise UsageError(f"--opset must be at least {MIN_OPSET}, got {args.opset}")
    # An .onnx name: never the .safetensors weights it reads or their .json sidecar.
    check_output_file(args.output, "output", {".onnx"})
    model, sha, source = load_for_export(args.weights, args.random_init)
    path = export_onnx(model, args.output, args.opset,
                       metadata={"weights_sha256": sha or "none (random init)", "weights_source": source},
                       guided=args.guided)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, opset {args.opset}, weights {source})")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli("export", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
