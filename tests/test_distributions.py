"""Sampling is the same on every machine: the transcendental functions are the C library's.

numpy's ``log1p``/``exp`` use CPU-specific SIMD code on some machines (AVX-512), which
differs from the C library in the last bit, so results for one seed depended on the CPU.
``sim.distributions`` computes them through scipy loops that call the C library; these
tests pin that equivalence value for value (if a scipy release changed it, results would
drift across machines again and these would say so).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from sim.distributions import Exponential, LogNormal, libm_exp, libm_log1p


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261202)


def test_log1p_is_the_c_librarys(rng):
    x = np.concatenate([-rng.random(20_000), rng.random(2_000) * 1e6, [0.0, -0.0, -1e-300]])
    assert libm_log1p(x).tolist() == [math.log1p(v) for v in x.tolist()]


def test_exp_is_the_c_librarys(rng):
    x = np.concatenate([rng.normal(size=20_000) * 10, [0.0, -745.0, 709.0]])
    assert libm_exp(x).tolist() == [math.exp(v) for v in x.tolist()]


def test_edges_follow_ieee_not_exceptions():
    assert libm_log1p(np.array([-1.0]))[0] == -math.inf
    assert libm_exp(np.array([1000.0, -1000.0])).tolist() == [math.inf, 0.0]
    assert np.isnan(libm_exp(np.array([math.nan]))[0])


def test_inverse_cdfs_use_them(rng):
    u = rng.random(5_000)
    expo = Exponential(dist="exponential", mean=7.0)
    assert expo.from_uniform(u).tolist() == [-7.0 * math.log1p(-v) for v in u.tolist()]
    logn = LogNormal(dist="lognormal", mean=15.0, cv=0.7)
    got = logn.from_uniform(u)
    sigma2 = math.log1p(0.7 ** 2)
    from scipy import special

    z = special.ndtri(np.clip(u, 1e-300, 1 - 1e-16))
    assert got.tolist() == [math.exp(math.log(15.0) - sigma2 / 2 + math.sqrt(sigma2) * v)
                            for v in z.tolist()]
