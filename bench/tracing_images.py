"""Test images and leak attacks for the tracing bench, all generated (nothing downloaded).

Four families, in the spirit of what a car maker hands its suppliers: shaded renders,
photo-like textures, line drawings with labels, and mixed technical sheets."""

from __future__ import annotations

import cv2
import numpy as np

FAMILIES = ("render", "photo", "drawing", "sheet")


def _noise(rng: np.random.Generator, height: int, width: int, octaves: int = 6) -> np.ndarray:
    field = np.zeros((height, width), np.float32)
    for octave in range(octaves):
        cells = 4 * 2**octave
        small = rng.random((cells, max(2, cells * width // height))).astype(np.float32)
        field += cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC) / 2**octave
    field -= field.min()
    return field / (field.max() + 1e-6)


def _render(rng, height, width):
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([(40 + 60 * y / height + c * 20) for c in range(3)], axis=-1)
    image = base + rng.normal(0, 1.5, base.shape)
    for _ in range(rng.integers(6, 12)):
        cx, cy = rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height
        ax, ay = rng.uniform(0.05, 0.3) * width, rng.uniform(0.05, 0.25) * height
        colour = rng.uniform(30, 230, 3)
        inside = ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2
        shade = np.clip(1.2 - inside, 0, 1)[..., None]
        light = np.exp(-(((x - cx + ax / 3) / ax) ** 2 + ((y - cy + ay / 3) / ay) ** 2) * 4)
        body = (inside < 1)[..., None]
        image = np.where(body, colour * (0.45 + 0.55 * shade) + 90 * light[..., None], image)
    for _ in range(rng.integers(3, 8)):
        p1 = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        p2 = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        cv2.line(image, p1, p2, tuple(float(v) for v in rng.uniform(0, 255, 3)), 3, cv2.LINE_AA)
    for _ in range(rng.integers(15, 40)):
        centre = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        colour = tuple(float(v) for v in rng.uniform(0, 255, 3))
        cv2.circle(image, centre, int(rng.uniform(2, 9)), colour, -1, cv2.LINE_AA)
    image = cv2.GaussianBlur(np.clip(image, 0, 255), (0, 0), 0.8)
    return image + _noise(rng, height, width, octaves=8)[..., None] * 24


def _photo(rng, height, width):
    layers = [_noise(rng, height, width) for _ in range(3)]
    detail = _noise(rng, height, width, octaves=8)
    image = np.stack(layers, axis=-1) * 200 + detail[..., None] * 55
    for _ in range(rng.integers(20, 60)):
        centre = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        radius = int(rng.uniform(3, width / 12))
        colour = tuple(float(v) for v in rng.uniform(0, 255, 3))
        cv2.circle(image, centre, radius, colour, -1, cv2.LINE_AA)
    image = cv2.GaussianBlur(image, (0, 0), 0.7)
    return np.clip(image + rng.normal(0, 3, image.shape), 0, 255)


def _drawing(rng, height, width):
    image = np.full((height, width, 3), 250, np.uint8)
    for _ in range(rng.integers(25, 50)):
        kind = rng.integers(0, 3)
        colour = (30, 30, 30)
        if rng.random() >= 0.7:
            colour = tuple(int(v) for v in rng.integers(0, 200, 3))
        p1 = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        p2 = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        if kind == 0:
            cv2.line(image, p1, p2, colour, int(rng.integers(1, 4)), cv2.LINE_AA)
        elif kind == 1:
            cv2.rectangle(image, p1, p2, colour, int(rng.integers(1, 3)), cv2.LINE_AA)
        else:
            cv2.circle(image, p1, int(rng.uniform(5, width / 6)), colour, 2, cv2.LINE_AA)
    for index in range(rng.integers(6, 14)):
        origin = (int(rng.uniform(0, width * 0.8)), int(rng.uniform(20, height)))
        label = f"MS11-{index:02d} R{int(rng.integers(1, 99))}"
        cv2.putText(image, label, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20, 20, 20), 2)
    return image.astype(np.float32)


def _sheet(rng, height, width):
    image = _drawing(rng, height, width)
    h2, w2 = height // 2, width // 2
    image[:h2, :w2] = _render(rng, h2, w2)
    image[h2:, w2:] = _photo(rng, height - h2, width - w2)
    return image


def make_image(index: int, height: int = 800, width: int = 1200) -> np.ndarray:
    """The index-th test image (uint8 BGR), deterministic."""
    rng = np.random.default_rng(1000 + index)
    family = FAMILIES[index % len(FAMILIES)]
    maker = {"render": _render, "photo": _photo, "drawing": _drawing, "sheet": _sheet}[family]
    if index % 3 == 1:
        height, width = width, height
    return np.clip(maker(rng, height, width), 0, 255).astype(np.uint8)


def family_of(index: int) -> str:
    return FAMILIES[index % len(FAMILIES)]


# --- What a leak does to a copy -----------------------------------------------------------


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def rescale(image: np.ndarray, width_share: float) -> np.ndarray:
    height, width = image.shape[:2]
    size = (max(1, round(width * width_share)), max(1, round(height * width_share)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def crop(image: np.ndarray, area_kept: float, rng: np.random.Generator) -> np.ndarray:
    height, width = image.shape[:2]
    side = np.sqrt(area_kept)
    h, w = round(height * side), round(width * side)
    top = int(rng.integers(0, height - h + 1))
    left = int(rng.integers(0, width - w + 1))
    return image[top : top + h, left : left + w].copy()


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), borderValue=(0, 0, 0))


def brightness_contrast(image: np.ndarray, brightness: float, contrast: float) -> np.ndarray:
    """brightness and contrast as shares: +0.2 is 20% brighter (of full scale) / stronger."""
    out = (image.astype(np.float32) - 128) * (1 + contrast) + 128 + 255 * brightness
    return np.clip(out, 0, 255).astype(np.uint8)


def screenshot(image: np.ndarray) -> np.ndarray:
    """Shown on a screen at 60% and captured: bilinear rescale, sharpened UI, PNG to JPEG 75."""
    height, width = image.shape[:2]
    shown = cv2.resize(image, (round(width * 0.6), round(height * 0.6)), cv2.INTER_LINEAR)
    return jpeg(shown, 75)
