"""Data augmentation layers (Keras 3 semantics): RandomTranslation, RandomRotation,
RandomZoom, RandomFlip. Active only when training; at inference they return their input.

Every geometric layer draws one inverse affine map per image, ``output (x, y) <- input
(x', y')`` with ``x' = a0*x + a1*y + a2`` and ``y' = b0*x + b1*y + b2`` (Keras's
``affine_transform`` convention, pixel centres at integer coordinates), and samples the whole
batch in one numba pass (no Python loop over images):
- ``interpolation="nearest"``: the pixel at ``floor(x' + 0.5), floor(y' + 0.5)``;
- ``"bilinear"``: ``sum_k w_k * pixel_k`` over the 4 neighbours, ``w = (1-fx)(1-fy), ...``.
A neighbour outside the image is mapped by ``fill_mode`` (Keras's documented modes):
``reflect`` ``(d c b a | a b c d | d c b a)``, ``wrap`` ``(a b c d | a b c d | a b c d)``,
``nearest`` ``(a a a a | a b c d | d d d d)``, ``constant`` ``(k k k k | a b c d | k k k k)``
with ``k = fill_value`` (so bilinear blends the border with k, as Keras's padded sampling).
(Keras's torch backend swaps ``reflect`` for ``mirror`` and lacks ``wrap``; these layers
follow the documented modes of its numpy/jax/tensorflow backends.)

Inputs: ``(batch, height, width)`` grayscale or ``(batch, height, width, channels)``; a
rank-3 input is a batch of grayscale images (Keras reads it as one image). For data (the
usual case) the kernel runs and no graph is built; when the input needs a gradient the same
sampling is built from Tensor ops (a weighted gather per neighbour), so it flows.
Randomness: ``seed=k`` gives the layer its own generator; ``None`` draws from
``minigrad.random.generator()`` at call time, so ``mg.random.seed(n)`` fixes it.
"""
import math

import numpy as np

from .. import random as mgrandom
from .._kernel import kernel
from ..grad_mode import is_grad_enabled
from ..ops.datamap import data_map
from ..ops.shape import where
from ..tensor import Tensor
from .base import Layer

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("nearest", "bilinear")
_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


def _factor_range(layer, arg, factor):
    """Keras's factor rule: f -> (-|f|, |f|); (lo, hi) -> sorted; every value in [-1, 1]."""
    if isinstance(factor, (tuple, list)):
        values = list(factor)
        if len(values) != 2:
            raise ValueError(f"{layer}: {arg} must be a number or a pair (lower, upper) in "
                             f"[-1, 1], got {factor!r}")
    elif isinstance(factor, (int, float, np.integer, np.floating)) and not isinstance(
            factor, bool):
        values = [-abs(float(factor)), abs(float(factor))]
    else:
        raise ValueError(  # noqa: TRY004 (Keras raises ValueError for a bad factor)
            f"{layer}: {arg} must be a number or a pair (lower, upper) in [-1, 1], got "
            f"{factor!r}")
    for v in values:
        if not (isinstance(v, (int, float, np.integer, np.floating)) and -1.0 <= v <= 1.0):
            raise ValueError(f"{layer}: {arg} values must lie in [-1, 1], got {factor!r}")
    lo, hi = sorted(float(v) for v in values)
    return lo, hi


def _check_choice(layer, arg, value, choices):
    if value not in choices:
        raise ValueError(f"{layer}: unknown {arg} {value!r}; expected one of {choices}")
    return value


@kernel
def _affine_sample_fwd(x, coef, xtab, xlo, ytab, ylo, nearest, fill, out):
    """out[b, i, j, :] = x[b] sampled at x' = a0*j + a1*i + a2, y' = b0*j + b1*i + b2.

    A neighbour's integer column k is read from column ``xtab[k - xlo]`` (rows likewise):
    the tables hold the fill mode's mapping, -1 meaning "outside: use ``fill``"."""
    nb, h, w, nc = x.shape
    for b in range(nb):
        a0, a1, a2 = coef[b, 0], coef[b, 1], coef[b, 2]
        b0, b1, b2 = coef[b, 3], coef[b, 4], coef[b, 5]
        for i in range(h):
            for j in range(w):
                xs = a0 * j + a1 * i + a2 + (0.5 if nearest else 0.0)
                ys = b0 * j + b1 * i + b2 + (0.5 if nearest else 0.0)
                fx0, fy0 = np.floor(xs), np.floor(ys)
                fx, fy = xs - fx0, ys - fy0
                kx, ky = int(fx0) - xlo, int(fy0) - ylo
                x0, x1, y0, y1 = xtab[kx], xtab[kx + 1], ytab[ky], ytab[ky + 1]
                for c in range(nc):
                    v00 = fill if y0 < 0 or x0 < 0 else x[b, y0, x0, c]
                    if nearest:
                        out[b, i, j, c] = v00
                        continue
                    v01 = fill if y0 < 0 or x1 < 0 else x[b, y0, x1, c]
                    v10 = fill if y1 < 0 or x0 < 0 else x[b, y1, x0, c]
                    v11 = fill if y1 < 0 or x1 < 0 else x[b, y1, x1, c]
                    out[b, i, j, c] = ((1 - fy) * ((1 - fx) * v00 + fx * v01)
                                       + fy * ((1 - fx) * v10 + fx * v11))


def _index_table(coords, n, fill_mode):
    """(table, lo): ``table[k - lo]`` is where integer coordinate k reads from along an axis
    of length n (``_fix_index``), -1 outside for ``constant``; k spans ``coords``' range
    with a margin for the neighbour and for rounding."""
    lo = int(np.floor(coords.min())) - 2
    k = np.arange(lo, int(np.floor(coords.max())) + 4)
    fixed, inside = _fix_index(k, n, fill_mode)
    if fill_mode == "constant":
        fixed = np.where(inside, fixed, -1)
    return np.ascontiguousarray(fixed, dtype=np.int64), lo


def _fix_index(i, n, fill_mode):
    """Integer indices ``i`` mapped into [0, n) by ``fill_mode`` (the one place the fill
    modes are written), and the mask of those that were inside (``constant`` fills the rest).
    ``reflect`` is half-sample symmetric, of period 2n."""
    inside = (i >= 0) & (i < n)
    if fill_mode == "reflect":
        m = np.mod(i, 2 * n)
        return np.where(m >= n, 2 * n - 1 - m, m), inside
    if fill_mode == "wrap":
        return np.mod(i, n), inside
    return np.clip(i, 0, n - 1), inside   # nearest; constant masks afterwards


def _sample_graph(x4, xs, ys, interpolation, fill_mode, fill_value):
    """The same sampling as ``_affine_sample_fwd`` written with Tensor ops (a gather per
    neighbour, weighted), so a gradient flows to ``x4``; used only when one is needed."""
    b, h, w, c = x4.shape
    flat = x4.reshape(b * h * w, c)
    base = np.arange(b).reshape(b, 1, 1) * (h * w)
    if interpolation == "nearest":
        taps = [(np.floor(ys + 0.5).astype(np.intp), np.floor(xs + 0.5).astype(np.intp),
                 np.ones(ys.shape))]
    else:
        x0, y0 = np.floor(xs), np.floor(ys)
        fx, fy = xs - x0, ys - y0
        x0, y0 = x0.astype(np.intp), y0.astype(np.intp)
        taps = [(y0, x0, (1 - fy) * (1 - fx)), (y0, x0 + 1, (1 - fy) * fx),
                (y0 + 1, x0, fy * (1 - fx)), (y0 + 1, x0 + 1, fy * fx)]
    out, fill_weight = None, 0.0
    for iy, ix, weight in taps:
        iy, in_y = _fix_index(iy, h, fill_mode)
        ix, in_x = _fix_index(ix, w, fill_mode)
        if fill_mode == "constant":
            fill_weight = fill_weight + np.where(in_y & in_x, 0.0, weight)
            weight = np.where(in_y & in_x, weight, 0.0)
        term = flat[base + iy * w + ix] * weight[..., None].astype(x4.dtype)
        out = term if out is None else out + term
    if fill_mode == "constant" and fill_value != 0:
        out = out + (fill_value * fill_weight[..., None]).astype(x4.dtype)
    return out


def _needs_graph(x):
    return x.requires_grad and is_grad_enabled()


class _Augmentation(Layer):
    """Shared plumbing: seed handling, input checks, identity at inference, get_config."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._rng = None if seed is None else mgrandom.make_generator(seed)

    def _generator(self):
        return self._rng if self._rng is not None else mgrandom.generator()

    def call(self, x, training=False):
        if not training:
            return x
        if x.ndim not in (3, 4):
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}): expected images "
                             f"(batch, height, width) or (batch, height, width, channels), "
                             f"got shape {x.shape}")
        x4 = x if x.ndim == 4 else x.reshape(*x.shape, 1)
        if _needs_graph(x4):
            y = self._augment(x4, self._generator())
        else:       # the draw inside an op: a replayed step (models/tape.py) draws anew
            y = data_map(self._augment_data, x4)
        return y if x.ndim == 4 else y.reshape(*x.shape)

    def _augment_data(self, data):
        return self._augment(Tensor._make(data, None), self._generator()).data

    def _augment(self, x4, rng):
        raise NotImplementedError

    def get_config(self):
        cfg = super().get_config()
        cfg["seed"] = self.seed
        return cfg


class _AffineAugmentation(_Augmentation):
    """A geometric augmentation: subclasses return the per-image inverse map coefficients."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        who = type(self).__name__
        self.fill_mode = _check_choice(who, "fill_mode", fill_mode, _FILL_MODES)
        self.interpolation = _check_choice(who, "interpolation", interpolation,
                                           _INTERPOLATIONS)
        self.fill_value = float(fill_value)

    def _augment(self, x4, rng):
        b, h, w, _ = x4.shape
        coef = np.stack(np.broadcast_arrays(*self._maps(rng, b, h, w)), axis=1)
        if _needs_graph(x4):
            a0, a1, a2, b0, b1, b2 = (coef[:, k].reshape(b, 1, 1) for k in range(6))
            xg = np.arange(w, dtype=np.float64).reshape(1, 1, w)
            yg = np.arange(h, dtype=np.float64).reshape(1, h, 1)
            return _sample_graph(x4, a0 * xg + a1 * yg + a2, b0 * xg + b1 * yg + b2,
                                 self.interpolation, self.fill_mode, self.fill_value)
        # the corners bound every sampled coordinate of an affine map
        cx = np.array([0.0, w - 1, 0.0, w - 1])
        cy = np.array([0.0, 0.0, h - 1, h - 1])
        xtab, xlo = _index_table(coef[:, :1] * cx + coef[:, 1:2] * cy + coef[:, 2:3], w,
                                 self.fill_mode)
        ytab, ylo = _index_table(coef[:, 3:4] * cx + coef[:, 4:5] * cy + coef[:, 5:6], h,
                                 self.fill_mode)
        data = np.ascontiguousarray(x4.data)
        out = np.empty_like(data)
        _affine_sample_fwd(data, coef, xtab, xlo, ytab, ylo, self.interpolation == "nearest",
                           data.dtype.type(self.fill_value), out)
        return Tensor._make(out, None)

    def _maps(self, rng, b, h, w):
        """(a0, a1, a2, b0, b1, b2), each of shape (b,)."""
        raise NotImplementedError

    def get_config(self):
        cfg = super().get_config()
        cfg.update(fill_mode=self.fill_mode, interpolation=self.interpolation,
                   fill_value=self.fill_value)
        return cfg


def _json_factor(factor):
    return list(factor) if isinstance(factor, tuple) else factor


class RandomTranslation(_AffineAugmentation):
    """Shift each image by ``dy = u * height`` pixels down and ``dx = v * width`` right, with
    ``u ~ U(height range)``, ``v ~ U(width range)`` (a factor f means [-f, f]; negative =
    up/left). Inverse map: ``x' = x - dx, y' = y - dy``."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _factor_range("RandomTranslation", "height_factor", height_factor)
        self.width_range = _factor_range("RandomTranslation", "width_factor", width_factor)

    def _maps(self, rng, b, h, w):
        dy = rng.uniform(*self.height_range, size=b) * h
        dx = rng.uniform(*self.width_range, size=b) * w
        one, zero = np.ones(b), np.zeros(b)
        return one, zero, -dx, zero, one, -dy

    def get_config(self):
        cfg = super().get_config()
        cfg.update(height_factor=_json_factor(self.height_factor),
                   width_factor=_json_factor(self.width_factor))
        return cfg


class RandomRotation(_AffineAugmentation):
    """Rotate each image about its centre ``((W-1)/2, (H-1)/2)`` by ``theta = 2*pi*u``,
    ``u ~ U(factor range)`` (``factor`` in fractions of a full turn; positive =
    counter-clockwise). Inverse map: ``x' = cos*x - sin*y + ox``, ``y' = sin*x + cos*y + oy``
    with the offsets that keep the centre fixed."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = factor
        self.factor_range = _factor_range("RandomRotation", "factor", factor)

    def _maps(self, rng, b, h, w):
        lo, hi = self.factor_range
        theta = rng.uniform(lo * 2 * math.pi, hi * 2 * math.pi, size=b)
        c, s = np.cos(theta), np.sin(theta)
        ox = ((w - 1) - (c * (w - 1) - s * (h - 1))) / 2
        oy = ((h - 1) - (s * (w - 1) + c * (h - 1))) / 2
        return c, -s, ox, s, c, oy

    def get_config(self):
        cfg = super().get_config()
        cfg["factor"] = _json_factor(self.factor)
        return cfg


class RandomZoom(_AffineAugmentation):
    """Zoom each image about its centre: ``zy = 1 + u``, ``u ~ U(height range)``; ``zx`` from
    ``width_factor`` likewise, or ``zx = zy`` when it is None (aspect kept). A positive factor
    zooms OUT (the image shrinks), a negative one zooms IN (Keras's convention). Inverse map:
    ``x' = zx*x + (W-1)/2*(1-zx)``, ``y' = zy*y + (H-1)/2*(1-zy)``."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _factor_range("RandomZoom", "height_factor", height_factor)
        self.width_range = (None if width_factor is None
                            else _factor_range("RandomZoom", "width_factor", width_factor))

    def _maps(self, rng, b, h, w):
        lo, hi = self.height_range
        zy = rng.uniform(1 + lo, 1 + hi, size=b)
        if self.width_range is None:
            zx = zy
        else:
            zx = rng.uniform(1 + self.width_range[0], 1 + self.width_range[1], size=b)
        zero = np.zeros(b)
        return zx, zero, (w - 1) / 2 * (1 - zx), zero, zy, (h - 1) / 2 * (1 - zy)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(height_factor=_json_factor(self.height_factor),
                   width_factor=_json_factor(self.width_factor))
        return cfg


class RandomFlip(_Augmentation):
    """Flip each image with probability 1/2: ``"horizontal"`` left-right, ``"vertical"``
    top-bottom. ``"horizontal_and_vertical"`` uses ONE coin per image for both flips, as
    Keras 3 does: an image is either kept or flipped both ways (turned 180 degrees)."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.mode = _check_choice("RandomFlip", "mode", mode, _FLIP_MODES)

    def _augment(self, x4, rng):
        if _needs_graph(x4):    # the coins drawn inside an op: a captured step draws anew
            flip = data_map(self._flips, args=(x4.shape,)).data
        else:                   # (already inside the op of call's no-gradient path)
            flip = self._flip_mask(rng, x4.shape)
        rows = slice(None, None, -1) if self.mode != "horizontal" else slice(None)
        cols = slice(None, None, -1) if self.mode != "vertical" else slice(None)
        return where(flip, x4[:, rows, cols], x4)

    def _flips(self, shape):
        return self._flip_mask(self._generator(), shape)

    @staticmethod
    def _flip_mask(rng, shape):
        """One coin per image: True where it is flipped (probability 1/2)."""
        b = shape[0]
        return np.broadcast_to((rng.uniform(size=b) <= 0.5).reshape(b, 1, 1, 1), shape)

    def get_config(self):
        cfg = super().get_config()
        cfg["mode"] = self.mode
        return cfg
