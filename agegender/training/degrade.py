"""Image-quality degradations of face chips: the named, deterministic ones of the robustness suite, and the
random mix used as training augmentation (drawn independently of age, so image quality stops predicting age).

Strengths are given for UTKFace's 200 px chips and scaled to the chip size they are applied at.
"""

import cv2
import numpy as np

REFERENCE = 200.0
_SEPIA = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32)


def greyscale(chip: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    return np.repeat(grey[:, :, None], 3, axis=2)


def sepia(chip: np.ndarray) -> np.ndarray:
    return np.clip(chip.astype(np.float32) @ _SEPIA.T, 0, 255).astype(np.uint8)


def blur(chip: np.ndarray, sigma: float) -> np.ndarray:
    sigma *= chip.shape[0] / REFERENCE
    return cv2.GaussianBlur(chip, (0, 0), sigma) if sigma > 0.05 else chip


def resample(chip: np.ndarray, pixels: float, up=cv2.INTER_LINEAR) -> np.ndarray:
    """Down to `pixels` (on a 200 px chip) with area averaging, and back up."""
    size = chip.shape[0]
    small = max(4, round(pixels * size / REFERENCE))
    if small >= size:
        return chip
    return cv2.resize(cv2.resize(chip, (small, small), interpolation=cv2.INTER_AREA), (size, size), interpolation=up)


def jpeg(chip: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", chip, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else chip


def noise(chip: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    return np.clip(chip + rng.normal(0.0, sigma, chip.shape), 0, 255).astype(np.uint8)


def tone(chip: np.ndarray, gamma: float = 1.0, gain: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """255 * (x / 255) ** gamma * gain + offset, clipped."""
    x = (chip.astype(np.float32) / 255.0) ** gamma * gain * 255.0 + offset
    return np.clip(x, 0, 255).astype(np.uint8)


def contrast(chip: np.ndarray, factor: float) -> np.ndarray:
    mean = chip.mean()
    return np.clip(mean + (chip.astype(np.float32) - mean) * factor, 0, 255).astype(np.uint8)


def sharpen(chip: np.ndarray, amount: float) -> np.ndarray:
    soft = cv2.GaussianBlur(chip, (0, 0), 1.0 * chip.shape[0] / REFERENCE)
    return cv2.addWeighted(chip, 1 + amount, soft, -amount, 0)


def old_scan(chip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sepia, blur, 48 px and noise: an old photo scanned."""
    return noise(resample(blur(sepia(contrast(chip, 0.7)), 1.2), 48), 6.0, rng)


SUITE = {
    "none": lambda c, r: c,
    "greyscale": lambda c, r: greyscale(c),
    "sepia": lambda c, r: sepia(c),
    "blur": lambda c, r: blur(c, 1.5),
    "down48": lambda c, r: resample(c, 48),
    "down32": lambda c, r: resample(c, 32),
    "jpeg20": lambda c, r: jpeg(c, 20),
    "noise": lambda c, r: noise(c, 10.0, r),
    "dark_gamma": lambda c, r: tone(c, gamma=2.2),
    "dark_half": lambda c, r: tone(c, gain=0.5),
    "overexposed": lambda c, r: tone(c, gamma=0.6, gain=1.25),
    "faded_sepia": lambda c, r: sepia(contrast(c, 0.5)),
    "old_scan": old_scan,
}
DESCRIPTIONS = {
    "none": "no degradation",
    "greyscale": "greyscale",
    "sepia": "sepia",
    "blur": "Gaussian blur, sigma 1.5 px on a 200 px chip",
    "down48": "down to 48 px and back",
    "down32": "down to 32 px and back",
    "jpeg20": "JPEG quality 20",
    "noise": "Gaussian noise, sigma 10",
    "dark_gamma": "dark: gamma 2.2",
    "dark_half": "dark: brightness x0.5",
    "overexposed": "over-exposed: gamma 0.6, gain 1.25",
    "faded_sepia": "low contrast (x0.5) and sepia",
    "old_scan": "old scan: low contrast, sepia, blur 1.2, 48 px, noise 6",
}


def degrade(chips: np.ndarray, name: str, seed: int = 0) -> np.ndarray:
    """A copy of uint8 RGB chips [N, S, S, 3] under one named degradation; the same for the same seed."""
    if name not in SUITE:
        raise ValueError(f"unknown degradation {name!r}; known: {', '.join(SUITE)}")
    return np.stack([SUITE[name](chip, np.random.default_rng(seed + i)) for i, chip in enumerate(chips)])


def random_quality(chip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Training augmentation: a random mix of the suite's kinds of degradation at rates that matter."""
    u = rng.random(8)
    if u[0] < 0.15:
        chip = greyscale(chip)
    elif u[0] < 0.30:
        chip = sepia(chip)
    if u[1] < 0.20:
        chip = tone(chip, gamma=float(np.exp(rng.uniform(np.log(0.5), np.log(2.4)))), gain=rng.uniform(0.5, 1.3))
    if u[2] < 0.10:
        chip = contrast(chip, rng.uniform(0.4, 0.8))
    if u[3] < 0.25:
        chip = blur(chip, rng.uniform(0.5, 3.0))
    if u[4] < 0.30:
        up = cv2.INTER_LINEAR if rng.random() < 0.5 else cv2.INTER_CUBIC
        chip = resample(chip, float(np.exp(rng.uniform(np.log(24), np.log(96)))), up)
    if u[5] < 0.10:
        chip = sharpen(chip, rng.uniform(0.3, 1.5))
    if u[6] < 0.20:
        chip = noise(chip, rng.uniform(3.0, 15.0), rng)
    if u[7] < 0.35:
        chip = jpeg(chip, int(rng.integers(10, 91)))
    return chip
