"""Duration distributions used by scenarios.

Every distribution maps a uniform draw ``u`` in [0, 1) to a value through its
inverse CDF (:meth:`Dist.from_uniform`).  Sampling by inverse transform is what
makes common random numbers work across policies *and* across scenario
variants: the same customer keeps the same quantile of "how hard is my
problem" even if a sweep changes the mean, so differences between runs are
caused by the change, not by reshuffled luck.
"""
from __future__ import annotations

import math
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import special

#: bounds of every distribution parameter (docs/scenario.md "Limits"): minutes up to ~19
#: years; a coefficient of variation from 1e-6 (cv**2 must not underflow) to 100 (above,
#: nearly every draw is 0 and the mean is carried by astronomically rare values)
MAX_MINUTES = 1e7
MIN_CV, MAX_CV = 1e-6, 100.0
MAX_VALUES = 1_000_000

__all__ = [
    "Dist",
    "Fixed",
    "Exponential",
    "LogNormal",
    "Gamma",
    "Uniform",
    "Triangular",
    "Empirical",
    "Distribution",
]


def libm_log1p(x) -> np.ndarray:
    """``log1p`` of every element as the C library computes it (``math.log1p``), at numpy speed.

    Why not ``np.log1p``: numpy sends transcendental ufuncs to CPU-specific SIMD code
    (AVX-512 / SVML on machines that have it, the C library elsewhere), and the two differ
    in the last bit.  Every sampled duration goes through ``log1p`` or ``exp``, so with numpy's
    the same seed gave different tickets on different machines (seen 2026-12-02: the stored
    result digests of the tests, recorded on an AVX-512 machine, failed on one without).
    ``scipy.special.boxcox1p(x, 0)`` is exactly the C library's ``log1p(x)`` (scipy's compiled
    loop calls it, with no CPU dispatch), in a C loop; ``tests/test_distributions.py`` checks
    that it equals ``math.log1p`` value for value.
    """
    return special.boxcox1p(np.asarray(x, dtype=float), 0.0)


def libm_exp(x) -> np.ndarray:
    """``exp`` of every element as the C library computes it (``math.exp``): see
    :func:`libm_log1p`; ``scipy.special.inv_boxcox(x, 0)`` is the C library's ``exp(x)``."""
    return special.inv_boxcox(np.asarray(x, dtype=float), 0.0)


class Dist(BaseModel):
    """Base class: a validated, immutable distribution spec."""

    # strict like every other number of a scenario: true, "10" and " 5 " are not numbers
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF applied element-wise to uniforms in [0, 1)."""
        raise NotImplementedError

    @property
    def mean(self) -> float:
        raise NotImplementedError

    @property
    def is_zero(self) -> bool:
        """True when every draw is 0 (a switched-off friction)."""
        return False


class Fixed(Dist):
    dist: Literal["fixed"]
    value: float = Field(ge=0, le=MAX_MINUTES)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), float(self.value))

    @property
    def mean(self) -> float:
        return float(self.value)

    @property
    def is_zero(self) -> bool:
        return self.value == 0


class Exponential(Dist):
    dist: Literal["exponential"]
    mean_: float = Field(gt=0, le=MAX_MINUTES, alias="mean")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False,
                              strict=True)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        return -self.mean_ * libm_log1p(-np.asarray(u, dtype=float))

    @property
    def mean(self) -> float:
        return float(self.mean_)


class LogNormal(Dist):
    """Log-normal given by its mean and coefficient of variation (not mu/sigma):
    those are the numbers support managers actually know."""

    dist: Literal["lognormal"]
    mean_: float = Field(gt=0, le=MAX_MINUTES, alias="mean")
    cv: float = Field(ge=MIN_CV, le=MAX_CV)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False,
                              strict=True)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        sigma2 = math.log1p(self.cv**2)
        mu = math.log(self.mean_) - sigma2 / 2
        z = special.ndtri(np.clip(np.asarray(u, dtype=float), 1e-300, 1 - 1e-16))
        return libm_exp(mu + math.sqrt(sigma2) * z)

    @property
    def mean(self) -> float:
        return float(self.mean_)


class Gamma(Dist):
    dist: Literal["gamma"]
    mean_: float = Field(gt=0, le=MAX_MINUTES, alias="mean")
    cv: float = Field(ge=MIN_CV, le=MAX_CV)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False,
                              strict=True)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        shape = 1.0 / self.cv**2
        scale = self.mean_ / shape
        return special.gammaincinv(shape, np.asarray(u, dtype=float)) * scale

    @property
    def mean(self) -> float:
        return float(self.mean_)


class Uniform(Dist):
    dist: Literal["uniform"]
    low: float = Field(ge=0, le=MAX_MINUTES)
    high: float = Field(ge=0, le=MAX_MINUTES)

    @model_validator(mode="after")
    def _ordered(self) -> "Uniform":
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def is_zero(self) -> bool:
        return self.high == 0


class Triangular(Dist):
    dist: Literal["triangular"]
    low: float = Field(ge=0, le=MAX_MINUTES)
    mode: float = Field(ge=0, le=MAX_MINUTES)
    high: float = Field(ge=0, le=MAX_MINUTES)

    @model_validator(mode="after")
    def _ordered(self) -> "Triangular":
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError(
                f"need low <= mode <= high and low < high (got {self.low}, {self.mode}, {self.high})"
            )
        return self

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        a, c, b = self.low, self.mode, self.high
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3


class Empirical(Dist):
    """Resamples observed durations with equal weight (e.g. from a ticket log)."""

    dist: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0, le=MAX_MINUTES)]] = Field(min_length=1,
                                                                        max_length=MAX_VALUES)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        vals = np.sort(np.asarray(self.values, dtype=float))
        idx = np.minimum((np.asarray(u, dtype=float) * len(vals)).astype(np.int64), len(vals) - 1)
        return vals[idx]

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def is_zero(self) -> bool:
        return max(self.values) == 0


Distribution = Annotated[
    Union[Fixed, Exponential, LogNormal, Gamma, Uniform, Triangular, Empirical],
    Field(discriminator="dist"),
]
"""Any distribution, chosen by its ``dist`` key."""

ZERO = Fixed(dist="fixed", value=0)
