"""Loudness (ITU-R BS.1770-4) and a peak limiter, on float audio shaped (samples, channels).

``integrated_loudness`` is the K-weighted, gated mean power in LUFS: a high-shelf (+4 dB above
~1.7 kHz, the head) and a high-pass (~38 Hz, RLB) filter per channel, 400 ms blocks with 75%
overlap, an absolute gate at -70 LUFS and a relative gate 10 LU below the ungated mean.
The filter coefficients are the standard's 48 kHz ones re-derived for any rate (as libebur128
and pyloudnorm do), so 44.1 kHz is measured correctly. ``true_peak`` oversamples 4x (BS.1770
Annex 2). ``limit`` is a look-ahead brickwall limiter: the gain it needs at each sample is
spread backwards over the look-ahead window by a running minimum, then smoothed by a moving
average of the same length, so it reaches the reduction before the peak and never overshoots.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import lfilter, resample_poly

ABSOLUTE_GATE = -70.0  # LUFS
RELATIVE_GATE = -10.0  # LU below the ungated loudness
BLOCK_SECONDS = 0.4
OVERLAP = 0.75


def _shelf(rate: int) -> tuple[np.ndarray, np.ndarray]:
    """The 'head' high-shelf of the K-weighting filter at ``rate`` Hz."""
    gain_db, q, fc = 3.999843853973347, 0.7071752369554196, 1681.974450955533
    k = np.tan(np.pi * fc / rate)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    b = np.array([vh + vb * k / q + k * k, 2 * (k * k - vh), vh - vb * k / q + k * k]) / a0
    a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    return b, a


def _highpass(rate: int) -> tuple[np.ndarray, np.ndarray]:
    """The RLB high-pass of the K-weighting filter at ``rate`` Hz."""
    q, fc = 0.5003270373238773, 38.13547087602444
    k = np.tan(np.pi * fc / rate)
    a0 = 1 + k / q + k * k
    return np.array([1.0, -2.0, 1.0]), np.array(
        [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    )


def k_weighted(audio: np.ndarray, rate: int) -> np.ndarray:
    """``audio`` (samples, channels) through the K-weighting filter."""
    (b1, a1), (b2, a2) = _shelf(rate), _highpass(rate)  # one 4th-order filter: one pass
    x = lfilter(np.convolve(b1, b2), np.convolve(a1, a2), np.asarray(audio, np.float64), axis=0)
    return x.reshape(len(x), -1)


def block_powers(power: np.ndarray, rate: int) -> np.ndarray:
    """Mean power of every 400 ms block, 100 ms apart, from per-sample power (summed over the
    channels, whose weights are 1 for left and right): sums over 100 ms hops, four per block."""
    hop = round(BLOCK_SECONDS * (1 - OVERLAP) * rate)
    m = len(power) // hop
    if m < 4:
        return np.zeros(0)
    hops = power[: m * hop].reshape(m, hop).sum(axis=1)
    return (hops[:-3] + hops[1:-2] + hops[2:-1] + hops[3:]) / (4 * hop)


def gated(blocks: np.ndarray) -> float:
    """Integrated loudness in LUFS of block powers: absolute, then relative gate."""
    with np.errstate(divide="ignore"):
        lk = -0.691 + 10 * np.log10(blocks)
    kept = blocks[lk > ABSOLUTE_GATE]
    if kept.size == 0:
        return float("-inf")
    relative = -0.691 + 10 * np.log10(kept.mean()) + RELATIVE_GATE
    with np.errstate(divide="ignore"):
        kept = kept[-0.691 + 10 * np.log10(kept) > relative]
    return float(-0.691 + 10 * np.log10(kept.mean()))


def gated_loudness(k: np.ndarray, rate: int) -> float:
    """Integrated loudness in LUFS of K-weighted audio (:func:`k_weighted`)."""
    return gated(block_powers((k * k).sum(axis=1), rate))


def integrated_loudness(audio: np.ndarray, rate: int) -> float:
    """Integrated loudness in LUFS of ``audio`` (samples, channels); -inf for silence."""
    return gated_loudness(k_weighted(audio, rate), rate)


TRUE_PEAK_CANDIDATES = 2000  # local maxima examined by true_peak
TRUE_PEAK_HALF_WINDOW = 24  # samples either side of each, resampled 4x
TRUE_PEAK_CORE = 4  # samples either side of each whose oversampled values are kept


def true_peak(audio: np.ndarray) -> float:
    """The largest absolute value after 4x oversampling (linear, 1.0 = 0 dBFS).

    Oversampling a whole song is slow (seconds), and an inter-sample peak sits beside a large
    sample, so only windows around the :data:`TRUE_PEAK_CANDIDATES` largest local maxima are
    oversampled (``tests/test_render_audio.py`` checks it against the whole-signal value).
    """
    x = np.abs(np.asarray(audio, np.float64).reshape(len(audio), -1)).max(axis=1)
    if x.size == 0:
        return 0.0
    h = TRUE_PEAK_HALF_WINDOW
    inner = np.flatnonzero((x[1:-1] >= x[:-2]) & (x[1:-1] >= x[2:])) + 1
    if inner.size > TRUE_PEAK_CANDIDATES:
        inner = inner[np.argpartition(x[inner], -TRUE_PEAK_CANDIDATES)[-TRUE_PEAK_CANDIDATES:]]
    top = inner
    if top.size == 0:
        return float(x.max())
    padded = np.pad(np.asarray(audio, np.float64).reshape(len(audio), -1), ((h, h), (0, 0)))
    windows = padded[top[:, None] + np.arange(2 * h + 1)[None, :]]  # (k, 2h+1, channels)
    up = resample_poly(windows, 4, 1, axis=1)
    # only the middle: near a window's edges the interpolation filter runs out of samples
    core = up[:, 4 * (h - TRUE_PEAK_CORE) : 4 * (h + TRUE_PEAK_CORE) + 1]
    return float(max(np.abs(core).max(), x.max()))


def db(x: float) -> float:
    return float(20 * np.log10(x)) if x > 0 else float("-inf")


def limiter_gain(
    peak: np.ndarray, ceiling: float, rate: int, lookahead_s: float = 0.005
) -> np.ndarray:
    """The smooth per-sample gain (<= 1) that brings ``peak`` (the largest absolute value of
    each sample over the channels) under ``ceiling``."""
    need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    if need.min() >= 1.0:
        return need
    n = max(1, round(lookahead_s * rate))
    # a running minimum over 2n samples, then a moving average over n: every sample whose
    # peak needs a reduction gets at least that reduction, reached smoothly over n samples
    gain = uniform_filter1d(minimum_filter1d(need, 2 * n + 1), n + 1)
    return np.minimum(gain, need)  # the smoothing may not lift a sample above what it needs


def limit(audio: np.ndarray, ceiling: float, rate: int) -> np.ndarray:
    """``audio`` (samples, channels) with its sample peaks brought under ``ceiling``."""
    gain = limiter_gain(np.abs(audio).max(axis=1), ceiling, rate)
    return audio * gain[:, None].astype(audio.dtype)


def normalise(
    audio: np.ndarray, rate: int, target_lufs: float = -14.0, ceiling_dbtp: float = -1.0
) -> tuple[np.ndarray, float, float]:
    """``audio`` at ``target_lufs`` integrated with its true peak under ``ceiling_dbtp``.

    Returns (audio, loudness, true peak in dBTP) as measured on the result. Quiet music with
    loud peaks is limited (a few ms of gain reduction on each peak), not left quiet. The
    K-weighting is linear and the limiter's gain moves slowly beside it, so while searching
    for the gain the loudness is measured on the K-weighted input times that gain (one filter
    pass); the result is measured afresh.
    """
    k = k_weighted(audio, rate)
    power = (k * k).sum(axis=1)  # per sample, over the channels
    loud = gated(block_powers(power, rate))
    if not np.isfinite(loud):
        return audio, loud, db(true_peak(audio))
    ceiling = 10 ** (ceiling_dbtp / 20)
    peak = np.abs(audio).max(axis=1)
    scale = 10 ** ((target_lufs - loud) / 20)
    sample_ceiling = ceiling * 0.94  # under the true-peak ceiling: inter-sample peaks
    gain = np.full(len(audio), scale)
    for _ in range(6):  # limiting lowers loudness a little: re-gain and re-limit until it holds
        gain = scale * limiter_gain(peak * scale, sample_ceiling, rate)
        loud = gated(block_powers(power * gain * gain, rate))
        tp = true_peak(audio * gain[:, None])
        if tp > ceiling:  # a steep transient rings between samples: limit it harder
            sample_ceiling *= 0.99 * ceiling / tp
        elif abs(loud - target_lufs) < 0.1:
            break
        else:
            scale *= 10 ** ((target_lufs - loud) / 20)
    out = (audio * gain[:, None]).astype(audio.dtype)
    tp = true_peak(out)
    if tp > ceiling:  # rare inter-sample overs left by the limiter: scale them under
        out = out * np.asarray(ceiling / tp, dtype=out.dtype)
        tp = true_peak(out)
    return out, integrated_loudness(out, rate), db(tp)
