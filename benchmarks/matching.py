"""End-to-end matching of detected words to ground truth (ICDAR 2015 end-to-end rules).

The rules, as implemented here:

1. Predictions whose text is empty after TextZoom normalisation are dropped (nothing to
   submit). Ground truth marked ``###``, or whose text normalises to empty, is don't care.
2. A prediction is ignored (neither right nor wrong) when more than half of its area lies in
   one don't-care region, as in the ICDAR 2015 script.
3. The remaining predictions and cared-for ground truth are paired one-to-one, greedily by
   decreasing quad IoU, keeping pairs with IoU >= 0.5 (the official script pairs in index
   order; best-first pairing differs only when a box overlaps two others above 0.5).
4. A pair is a hit when the normalised texts are equal. Recall = hits / cared-for ground
   truth, precision = hits / kept predictions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from sgenet_ocr.metrics import normalize_text

IOU_THRESHOLD = 0.5
DONT_CARE_AREA_SHARE = 0.5


def polygon(quad):
    """A valid shapely polygon for a quad (self-intersecting quads are repaired)."""
    try:
        from shapely.geometry import Polygon
        from shapely.validation import make_valid
    except ImportError:
        from sgenet_ocr.errors import MissingDependencyError

        raise MissingDependencyError("shapely", "bench", "benchmark matching needs 'shapely'") from None

    poly = Polygon(np.asarray(quad, dtype=np.float64).reshape(4, 2))
    if not poly.is_valid:
        poly = make_valid(poly)
    return poly


def _overlap(a, b) -> float:
    try:
        return a.intersection(b).area
    except Exception:  # noqa: BLE001 - shapely topology errors on degenerate shapes
        return 0.0


def quad_iou(a, b) -> float:
    """Intersection over union of two quads (0 when either has no area)."""
    pa, pb = (a if hasattr(a, "area") else polygon(a)), (b if hasattr(b, "area") else polygon(b))
    inter = _overlap(pa, pb)
    union = pa.area + pb.area - inter
    return float(inter / union) if union > 0 else 0.0


def greedy_match(iou: np.ndarray, threshold: float = IOU_THRESHOLD) -> list[tuple[int, int]]:
    """One-to-one ``(row, column)`` pairs, best IoU first, each with IoU >= ``threshold``."""
    pairs: list[tuple[int, int]] = []
    if iou.size == 0:
        return pairs
    used_rows, used_cols = set(), set()
    order = np.argsort(-iou, axis=None, kind="stable")
    for flat in order:
        r, c = divmod(int(flat), iou.shape[1])
        if iou[r, c] < threshold:
            break
        if r in used_rows or c in used_cols:
            continue
        pairs.append((r, c))
        used_rows.add(r)
        used_cols.add(c)
    return pairs


@dataclass
class PageMatch:
    """The outcome for one page."""

    gt_hit: list[bool]  # per cared-for ground truth, in the order given to match_page
    gt_index: list[int]  # index of each cared-for ground truth in the page's item list
    predictions: int  # kept (not ignored) predictions
    ignored_predictions: int
    hits: int = 0
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (item index, prediction index)


def match_page(gt_quads: Sequence, gt_texts: Sequence[str], gt_dont_care: Sequence[bool],
               pred_quads: Sequence, pred_texts: Sequence[str]) -> PageMatch:
    """Apply the end-to-end rules (module doc) to one page."""
    pred_keep = [i for i, t in enumerate(pred_texts) if normalize_text(t)]
    care = [i for i, (t, dc) in enumerate(zip(gt_texts, gt_dont_care)) if not dc and normalize_text(t)]
    care_set = set(care)
    ignore = [i for i in range(len(gt_texts)) if i not in care_set]

    pred_polys = {i: polygon(pred_quads[i]) for i in pred_keep}
    gt_polys = {i: polygon(gt_quads[i]) for i in range(len(gt_quads))}
    kept, ignored = [], 0
    for i in pred_keep:
        area = pred_polys[i].area
        in_dont_care = area > 0 and any(
            _overlap(pred_polys[i], gt_polys[g]) / area > DONT_CARE_AREA_SHARE for g in ignore)
        if in_dont_care:
            ignored += 1
        else:
            kept.append(i)

    iou = np.zeros((len(care), len(kept)))
    for r, g in enumerate(care):
        for c, p in enumerate(kept):
            iou[r, c] = quad_iou(gt_polys[g], pred_polys[p])
    result = PageMatch(gt_hit=[False] * len(care), gt_index=care, predictions=len(kept),
                       ignored_predictions=ignored)
    for r, c in greedy_match(iou):
        g, p = care[r], kept[c]
        result.pairs.append((g, p))
        if normalize_text(pred_texts[p]) == normalize_text(gt_texts[g]):
            result.gt_hit[r] = True
            result.hits += 1
    return result
