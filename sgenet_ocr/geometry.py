"""Quads and perspective crops.

A quad is a ``(4, 2)`` float32 array of page pixels, clockwise from the top-left corner
(top-left, top-right, bottom-right, bottom-left), the ICDAR 2015 convention.
"""
from __future__ import annotations

import numpy as np

MIN_SIDE = 2.0  # px; anything thinner holds no readable text
#: A crop is scaled down (aspect kept) to at most this many pixels and this long a side: a
#: +-1e6 px box from a broken detector must not allocate terabytes (cv2 also needs sides < 32767).
MAX_CROP_PIXELS = 16_000_000
MAX_CROP_SIDE = 16_384


def as_quad(points) -> np.ndarray:
    """Validate 4 points (any nesting: 8 numbers, 4 pairs) into a ``(4, 2)`` float32 array."""
    quad = np.asarray(points, dtype=np.float64).reshape(-1)
    if quad.size != 8:
        raise ValueError(f"a quad needs 8 finite numbers, got {quad.size}")
    with np.errstate(over="ignore"):
        quad = quad.astype(np.float32)  # beyond float32's range becomes inf, refused below
    if not np.all(np.isfinite(quad)):
        raise ValueError(f"a quad needs 8 finite numbers, got {quad.tolist()}")
    return quad.reshape(4, 2)


def order_clockwise(points) -> np.ndarray:
    """Order 4 points clockwise (in image coordinates, y down) starting at the top-left.

    The start is the corner nearest the top-left of the bounding box, which keeps a slightly
    rotated word's reading direction, and the order follows the angle around the centroid.
    """
    quad = as_quad(points).astype(np.float64)
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    quad = quad[np.argsort(angles)]  # increasing angle is clockwise when y points down
    start = np.argmin(quad.sum(axis=1))
    return np.roll(quad, -start, axis=0).astype(np.float32)


def quad_size(quad: np.ndarray) -> tuple[float, float]:
    """``(width, height)``: means of the opposite side lengths."""
    q = np.asarray(quad, dtype=np.float64)
    side = lambda a, b: float(np.hypot(*(q[a] - q[b])))  # noqa: E731
    return (side(0, 1) + side(3, 2)) / 2, (side(0, 3) + side(1, 2)) / 2


def quad_height(quad: np.ndarray) -> float:
    """The text height in page pixels: mean of the left and right edges."""
    return quad_size(quad)[1]


def quad_area(quad: np.ndarray) -> float:
    """Shoelace area; 0 for degenerate (collinear or repeated) points."""
    x, y = np.asarray(quad, dtype=np.float64).T
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def is_degenerate(quad: np.ndarray, image_shape: tuple[int, ...] | None = None) -> bool:
    """True for quads that cannot hold text: too thin, no area, or entirely off the image."""
    w, h = quad_size(quad)
    if w < MIN_SIDE or h < MIN_SIDE or quad_area(quad) < MIN_SIDE * MIN_SIDE:
        return True
    if image_shape is not None:
        ih, iw = image_shape[:2]
        q = np.asarray(quad)
        if q[:, 0].max() <= 0 or q[:, 1].max() <= 0 or q[:, 0].min() >= iw or q[:, 1].min() >= ih:
            return True
    return False


def perspective_crop(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Rectify the quad's content into an upright ``(h, w, C)`` crop.

    Parts of the quad outside the image are filled by replicating the border, so a box that
    pokes out of the page still gives a crop of the right size. A huge box is scaled down to
    :data:`MAX_CROP_PIXELS` and :data:`MAX_CROP_SIDE`. ValueError for a quad that is not 8
    finite numbers.
    """
    import cv2

    q = as_quad(quad)
    w, h = quad_size(q)
    w, h = max(w, 1.0), max(h, 1.0)
    scale = min(1.0, MAX_CROP_SIDE / w, MAX_CROP_SIDE / h, (MAX_CROP_PIXELS / (w * h)) ** 0.5)
    out_w, out_h = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    target = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(q, target)
    return cv2.warpPerspective(image, matrix, (out_w, out_h), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)
