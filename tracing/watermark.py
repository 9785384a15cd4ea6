"""The invisible mark in a recipient's copy of an image, and reading it back from a leak.

The signal processing is OpenCV's (colour conversion, resampling, SIFT features, RANSAC
homography, warping); this module is the glue that turns a disclosure's code into a
pattern and a leaked image back into bits.

How it works (informed, spread-spectrum watermarking: the buyer holds the masters):
- The image is divided into a grid of cells (``GRID_LONG`` cells on its long side).
  Every cell carries one of the code's bits, times a keyed pseudo-random chip (+1/-1);
  each bit owns about (cells / CODE_BITS) cells scattered over the whole image, so a
  crop keeps a part of every bit.
- The cell pattern is upsampled smoothly to the image, weighted by the local texture of
  the master (the mark hides where the picture is busy) and scaled so that the PSNR of
  the copy against its master is ``TARGET_PSNR`` dB; only luminance changes.
- To read, the leak is registered onto a master (SIFT matches + RANSAC homography undo
  crop, rescale and rotation; where a smooth picture gives too few points, a coarse
  template search and ECC intensity alignment do), brightness and contrast are matched
  by a least-squares fit, the master is subtracted, and each bit is the sign of the
  matched-filter sum over its cells. Re-encoding, rescaling and cropping lower that sum;
  they rarely flip its sign.

The code is a keyed derivation (HMAC-SHA256) of the disclosure's secret fingerprint: a
recipient who learns its code learns nothing of the fingerprint, nor any other code.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import cv2
import numpy as np

CODE_BITS = 128
GRID_LONG = 128
MIN_GRID_SHORT = 16
TARGET_PSNR = 40.0
# Features are found on images scaled to at most this long side; the mark is read at
# ANALYSIS_LONG, far above the grid, so that registration error stays below a cell.
FEATURE_LONG = 1200
FEATURE_COUNT = 4000
FEATURE_CONTRAST = 0.02
ANALYSIS_LONG = 1024
ECC_LONG = 512
TEXTURE_LONG = 1600
MIN_INLIERS = 12
# Feature registrations with fewer inliers are checked against the intensity alignment.
CONFIDENT_INLIERS = 40


def derive_code(fingerprint: str, key: bytes) -> np.ndarray:
    """The CODE_BITS bits (0/1, uint8) marked for a disclosure's fingerprint."""
    digest = hmac.new(key, b"tracing-code:" + fingerprint.encode(), hashlib.sha256).digest()
    return np.unpackbits(np.frombuffer(digest[: CODE_BITS // 8], dtype=np.uint8))


def code_hex(bits: np.ndarray) -> str:
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def bits_from_hex(text: str) -> np.ndarray:
    return np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8))


def grid_shape(height: int, width: int) -> tuple[int, int]:
    if width >= height:
        return max(MIN_GRID_SHORT, round(GRID_LONG * height / width)), GRID_LONG
    return GRID_LONG, max(MIN_GRID_SHORT, round(GRID_LONG * width / height))


def _layout(shape: tuple[int, int], key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Which bit each cell carries and its chip, fixed by the key and the grid shape."""
    seed = hmac.new(key, f"tracing-layout:{shape[0]}x{shape[1]}".encode(), hashlib.sha256)
    rng = np.random.default_rng(int.from_bytes(seed.digest()[:16], "big"))
    cells = shape[0] * shape[1]
    bit_of_cell = rng.permutation(np.resize(np.arange(CODE_BITS), cells)).reshape(shape)
    chips = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=shape)
    return bit_of_cell, chips


def _luminance(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image.astype(np.float32)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def _texture_weight(gray: np.ndarray) -> np.ndarray:
    """Where the mark may be stronger: local contrast, floored so flat areas carry some.
    Computed on at most TEXTURE_LONG pixels a side (it is a smooth field) and brought back
    to the image's size, which keeps a 24-megapixel image well under a gigabyte."""
    small, factor = _scaled(gray, TEXTURE_LONG)
    sigma = max(1.5, max(small.shape) / 600)
    mean = cv2.GaussianBlur(small, (0, 0), sigma)
    var = cv2.GaussianBlur(small * small, (0, 0), sigma) - mean * mean
    local = np.sqrt(np.maximum(var, 0.0, out=var), out=var)
    local = cv2.GaussianBlur(local, (0, 0), sigma * 2)
    scale = float(np.mean(local)) + 1e-3
    weight = np.clip(local / scale, 0.25, 3.0).astype(np.float32)
    if factor == 1.0:
        return weight
    return cv2.resize(weight, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)


def embed(image: np.ndarray, code: np.ndarray, key: bytes) -> np.ndarray:
    """A copy of ``image`` (uint8 BGR or grey) carrying ``code``; the input is untouched."""
    height, width = image.shape[:2]
    shape = grid_shape(height, width)
    bit_of_cell, chips = _layout(shape, key)
    signs = code.astype(np.float32) * 2 - 1
    cell_pattern = chips * signs[bit_of_cell]
    delta = cv2.resize(cell_pattern, (width, height), interpolation=cv2.INTER_LINEAR)
    delta *= _texture_weight(_luminance(image))
    rms = float(np.sqrt(np.mean(np.square(delta, dtype=np.float32)))) + 1e-9
    delta *= (255.0 / 10 ** (TARGET_PSNR / 20)) / rms
    step = np.rint(delta).astype(np.int16)
    del delta
    if image.ndim == 2:
        return np.clip(image.astype(np.int16) + step, 0, 255).astype(np.uint8)
    marked = np.empty_like(image)
    for channel in range(image.shape[2]):
        marked[..., channel] = np.clip(image[..., channel].astype(np.int16) + step, 0, 255)
    return marked


def _scaled(gray: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    factor = min(1.0, long_side / max(gray.shape))
    if factor == 1.0:
        return gray, 1.0
    size = (max(1, round(gray.shape[1] * factor)), max(1, round(gray.shape[0] * factor)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), factor


@dataclass
class Features:
    keypoints: np.ndarray  # (n, 2) float32, in full-image coordinates
    descriptors: np.ndarray | None
    shape: tuple[int, int]


def features(image: np.ndarray) -> Features:
    """SIFT features of an image (computed once per master and reused for every trace)."""
    gray = _luminance(image)
    small, factor = _scaled(gray, FEATURE_LONG)
    sift = cv2.SIFT_create(nfeatures=FEATURE_COUNT, contrastThreshold=FEATURE_CONTRAST)
    keypoints, descriptors = sift.detectAndCompute(small.astype(np.uint8), None)
    points = np.array([kp.pt for kp in keypoints], dtype=np.float32).reshape(-1, 2) / factor
    return Features(points, descriptors, gray.shape[:2])


@dataclass
class Registration:
    homography: np.ndarray  # maps leak coordinates to master coordinates
    inliers: int


def register(leak: Features, master: Features) -> Registration | None:
    """The homography that lays the leak onto the master, or None when they do not match."""
    if leak.descriptors is None or master.descriptors is None:
        return None
    if len(leak.descriptors) < MIN_INLIERS or len(master.descriptors) < MIN_INLIERS:
        return None
    matcher = cv2.FlannBasedMatcher({"algorithm": 1, "trees": 4}, {"checks": 64})
    pairs = matcher.knnMatch(leak.descriptors, master.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    src = leak.keypoints[[m.queryIdx for m in good]]
    dst = master.keypoints[[m.trainIdx for m in good]]
    homography, mask = cv2.findHomography(src, dst, cv2.RANSAC, 4.0, maxIters=4000)
    if homography is None:
        return None
    inliers = int(mask.sum())
    if inliers < MIN_INLIERS or inliers < 0.15 * len(good):
        return None
    return Registration(homography, inliers)


def locate(
    leak: np.ndarray, leak_features: Features, master: np.ndarray, master_features: Features
) -> Registration | None:
    """Where the leak lies on the master: by feature points, else (a smooth picture whose
    points are too few or too alike once shrunk or cropped) by intensity alignment."""
    found = register(leak_features, master_features)
    if found is not None and found.inliers >= CONFIDENT_INLIERS:
        return found
    # Few points: they may agree on a wrong homography (alike dots on a smooth render).
    # The intensity alignment is tried too, and the one whose picture agrees better wins.
    by_intensity = register_by_intensity(leak, master)
    if found is None or by_intensity is None:
        return found or by_intensity
    leak_gray, master_gray = _luminance(leak), _luminance(master)
    if agreement(leak_gray, master_gray, by_intensity.homography) > agreement(
        leak_gray, master_gray, found.homography
    ):
        return by_intensity
    return found


def _laid_on_master(
    leak_gray: np.ndarray, master_gray: np.ndarray, homography: np.ndarray, long_side: int
) -> tuple[np.ndarray, tuple[int, int], np.ndarray, np.ndarray]:
    """The master scaled to at most `long_side` pixels a side, and the leak laid onto it
    by `homography` (leak to master): the scaling, the size, the master, the leak."""
    factor = min(1.0, long_side / max(master_gray.shape))
    scale = np.diag([factor, factor, 1.0])
    size = (
        max(8, round(master_gray.shape[1] * factor)),
        max(8, round(master_gray.shape[0] * factor)),
    )
    template = cv2.resize(master_gray, size, interpolation=cv2.INTER_AREA)
    warped = cv2.warpPerspective(leak_gray, scale @ homography, size, flags=cv2.INTER_AREA)
    return scale, size, template, warped


def _covered(leak_gray: np.ndarray, to_master: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Which pixels of the master, at `size`, the leak covers once laid on it."""
    laid = cv2.warpPerspective(
        np.full(leak_gray.shape, 255, np.uint8), to_master, size, flags=cv2.INTER_NEAREST
    )
    return laid > 0


def agreement(leak_gray: np.ndarray, master_gray: np.ndarray, homography: np.ndarray) -> float:
    """How alike the leak laid onto the master by `homography` and the master are: their
    correlation over the covered part at ECC_COARSE_LONG pixels (-1 when it covers little)."""
    scale, size, master_small, warped = _laid_on_master(
        leak_gray, master_gray, homography, ECC_COARSE_LONG
    )
    covered = cv2.erode(_covered(leak_gray, scale @ homography, size).astype(np.uint8), None)
    covered = covered.astype(bool)
    if covered.sum() < 0.05 * covered.size:
        return -1.0
    a = warped[covered] - warped[covered].mean()
    b = master_small[covered] - master_small[covered].mean()
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))


# The intensity registration (for smooth pictures, such as renders, where SIFT finds too
# few distinctive points once the leak is small or cropped): a coarse search of where
# the leak sits in the master, then ECC alignment at two resolutions.
COARSE_LONG = 160
COARSE_SHARES = np.geomspace(0.45, 1.0, 18)  # the share of the master's width the leak spans
ECC_COARSE_LONG = 256
MIN_CORRELATION = 0.9


def register_by_intensity(leak: np.ndarray, master: np.ndarray) -> Registration | None:
    """The homography that lays the leak onto the master found from the pictures' intensity
    rather than from feature points, or None when even the best alignment leaves them
    unlike (ECC correlation under MIN_CORRELATION). Tried when features fail."""
    leak_gray, master_gray = _luminance(leak), _luminance(master)
    small_master, factor = _scaled(master_gray, COARSE_LONG)
    master_height, master_width = small_master.shape
    height, width = leak_gray.shape
    best = None
    for share in COARSE_SHARES:
        scale = share * master_width / width  # small-master pixels per leak pixel
        size = (round(width * scale), round(height * scale))
        if size[0] > master_width or size[1] > master_height or min(size) < 16:
            continue
        template = cv2.resize(leak_gray, size, interpolation=cv2.INTER_AREA)
        # Corners a rotation filled with black say nothing about where the leak sits.
        mask = ((template > 2) & (template < 253)).astype(np.uint8)
        if mask.mean() < 0.5:
            continue
        scores = cv2.matchTemplate(small_master, template, cv2.TM_CCORR_NORMED, mask=mask)
        scores = np.nan_to_num(scores, nan=-1.0, posinf=-1.0, neginf=-1.0)
        _, peak, _, (left, top) = cv2.minMaxLoc(scores)
        if best is None or peak > best[0]:
            best = (peak, scale, left, top)
    if best is None:
        return None
    _, scale, left, top = best
    homography = np.diag([1 / factor, 1 / factor, 1.0]) @ np.array(
        [[scale, 0, left], [0, scale, top], [0, 0, 1]], dtype=np.float64
    )
    correlation = 0.0
    for long_side, motion in (
        (ECC_COARSE_LONG, cv2.MOTION_AFFINE),
        (ECC_LONG, cv2.MOTION_HOMOGRAPHY),
    ):
        refined = _ecc(leak_gray, master_gray, homography, long_side, motion)
        if refined is None:
            return None
        homography, correlation = refined
    if correlation < MIN_CORRELATION:
        return None
    return Registration(homography, 0)


def _ecc(
    leak_gray: np.ndarray, master_gray: np.ndarray, homography: np.ndarray, long_side: int, motion
) -> tuple[np.ndarray, float] | None:
    """`homography` (leak to master) refined by ECC on the master scaled to `long_side`,
    and the correlation it reached; None when ECC does not converge."""
    scale, size, template, warped = _laid_on_master(leak_gray, master_gray, homography, long_side)
    covered = _covered(leak_gray, scale @ homography, size)
    mask = cv2.erode((covered & (warped > 2) & (warped < 253)).astype(np.uint8), None)
    if mask.sum() < 0.05 * mask.size:
        return None
    start = np.eye(3 if motion == cv2.MOTION_HOMOGRAPHY else 2, 3, dtype=np.float32)
    try:
        correlation, refine = cv2.findTransformECC(
            template,
            warped,
            start,
            motion,
            (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5),
            mask,
            3,
        )
    except cv2.error:
        return None
    refine = refine.astype(np.float64)
    if refine.shape[0] == 2:
        refine = np.vstack([refine, [0.0, 0.0, 1.0]])
    refine_full = np.linalg.inv(scale) @ refine @ scale
    return np.linalg.inv(refine_full) @ homography, float(correlation)


@dataclass
class Reading:
    bits: np.ndarray  # 0/1 per code bit
    strength: np.ndarray  # |matched-filter sum| per bit, normalised by its noise
    coverage: float  # share of the master's area the leak covers


def read(leak: np.ndarray, master: np.ndarray, registration: Registration, key: bytes) -> Reading:
    """The bits carried by ``leak``, once laid onto ``master`` by ``registration``."""
    # Read at the resolution the leak still has (a copy shrunk to 30% holds no finer
    # detail), so that the master is compared at the same sharpness.
    affine = registration.homography[:2, :2] / registration.homography[2, 2]
    leak_scale = float(np.sqrt(abs(np.linalg.det(affine))))  # master pixels per leak pixel
    long_side = max(master.shape[:2])
    master_gray, factor = _scaled(
        _luminance(master), min(ANALYSIS_LONG, round(long_side / max(leak_scale, 1.0)))
    )
    height, width = master_gray.shape
    to_analysis = np.diag([factor, factor, 1.0]) @ registration.homography
    leak_gray = _luminance(leak)
    size = (master_gray.shape[1], master_gray.shape[0])
    residual, valid, spread = _residual(leak_gray, master_gray, to_analysis)
    if valid.sum() < 0.05 * valid.size:
        return Reading(np.zeros(CODE_BITS, np.uint8), np.zeros(CODE_BITS), 0.0)
    # Features give the homography to a pixel or so; intensity alignment (ECC) often
    # refines it to a fraction of a pixel, which matters where lines are thin. Kept only
    # when it leaves less residual (it can also wander off).
    refined = _refine(leak_gray, master_gray, to_analysis, valid)
    if refined is not None:
        candidate = _residual(leak_gray, master_gray, refined)
        if candidate[1].sum() >= 0.05 * valid.size and candidate[2] < spread:
            residual, valid, spread = candidate
    weights = valid.astype(np.float32)
    residual *= weights
    shape = grid_shape(height, width)
    size = (shape[1], shape[0])
    cell_residual = cv2.resize(residual, size, interpolation=cv2.INTER_AREA)
    cell_cover = cv2.resize(weights, size, interpolation=cv2.INTER_AREA)
    texture = cv2.resize(_texture_weight(master_gray), size, interpolation=cv2.INTER_AREA)
    bit_of_cell, chips = _layout(shape, key)
    usable = cell_cover > 0.3
    mean_residual = np.where(usable, cell_residual / np.maximum(cell_cover, 1e-6), 0.0)
    # Matched filter: each cell's residual against its expected sign and amplitude.
    contribution = (mean_residual * chips * texture * usable).ravel()
    scores = np.bincount(bit_of_cell.ravel(), weights=contribution, minlength=CODE_BITS)
    noise = np.sqrt(
        np.bincount(
            bit_of_cell.ravel(),
            weights=((mean_residual * texture) ** 2 * usable).ravel(),
            minlength=CODE_BITS,
        )
    )
    strength = np.abs(scores) / (noise + 1e-9)
    return Reading((scores > 0).astype(np.uint8), strength, float(usable.mean()))


def _residual(
    leak_gray: np.ndarray, master_gray: np.ndarray, to_analysis: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """The leak laid onto the master minus the master (brightness and contrast matched),
    the pixels where it means something, and its robust spread."""
    height, width = master_gray.shape
    warped = cv2.warpPerspective(
        leak_gray, to_analysis, (width, height), flags=cv2.INTER_AREA, borderValue=0
    )
    valid = cv2.warpPerspective(
        np.ones_like(leak_gray, dtype=np.uint8), to_analysis, (width, height), borderValue=0
    )
    valid = cv2.erode(valid, np.ones((5, 5), np.uint8)).astype(bool)
    valid &= (warped > 2) & (warped < 253)
    if valid.sum() < 16:
        return warped, valid, float("inf")
    # Brightness and contrast: leak ~ gain * master + offset over the covered area.
    design = np.stack([master_gray[valid], np.ones(int(valid.sum()), np.float32)], axis=1)
    (gain, offset), *_ = np.linalg.lstsq(design, warped[valid], rcond=None)
    residual = warped - (gain * master_gray + offset)
    spread = 1.4826 * float(np.median(np.abs(residual[valid]))) + 1e-3
    valid &= np.abs(residual) < 6 * spread + 4 * abs(gain)
    return residual, valid, spread


def _refine(
    leak_gray: np.ndarray, master_gray: np.ndarray, to_analysis: np.ndarray, valid: np.ndarray
) -> np.ndarray | None:
    """The homography refined by OpenCV's ECC alignment, run on at most ECC_LONG pixels a
    side (the costly step of a trace); None when it does not converge."""
    scale, size, template, warped = _laid_on_master(leak_gray, master_gray, to_analysis, ECC_LONG)
    mask = cv2.resize(valid.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    try:
        _, refine = cv2.findTransformECC(
            template,
            warped,
            np.eye(3, dtype=np.float32),
            cv2.MOTION_HOMOGRAPHY,
            (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 1e-5),
            cv2.erode(mask, np.ones((5, 5), np.uint8)),
            3,
        )
    except cv2.error:
        return None
    # warped(W x) ~ template(x) at the small scale; back at analysis scale.
    refine_full = np.linalg.inv(scale) @ refine.astype(np.float64) @ scale
    return np.linalg.inv(refine_full) @ to_analysis
