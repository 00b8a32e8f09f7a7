"""Fitting duration distributions to observed activity times (scipy, maximum likelihood).

Candidates are the scenario distributions a support manager can read -
exponential, log-normal and gamma - chosen by AIC (exponential has one
parameter, the others two).  Durations that do not vary (a fixed write-up
time) become ``fixed``; so do fewer than ``MIN_FIT_SAMPLES`` observations (too
few to tell a spread), which ``FitResult.too_few`` flags so the written scenario
can mark it as an assumption.  Every candidate's fit is kept for the report.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from ..schema import CONFIDENCE_TEXT, CONFIDENCE_Z

FIXED_CV = 0.01    # below this relative spread a duration is treated as constant
MIN_FIT_SAMPLES = 3   # fewer observations: the sample mean as a fixed duration (an assumption)


@dataclass
class Fit:
    dist: str
    spec: dict            # scenario distribution, e.g. {dist: lognormal, mean: .., cv: ..}
    mean: float
    cv: float
    aic: float
    ks: float = math.nan  # Kolmogorov-Smirnov distance of the fitted CDF to the sample


@dataclass
class FitResult:
    n: int
    sample_mean: float
    sample_sd: float
    best: Fit
    candidates: list[Fit] = field(default_factory=list)

    @property
    def too_few(self) -> bool:
        """Fixed only because there were too few observations to fit a spread."""
        return self.n < MIN_FIT_SAMPLES

    def assumption(self, what: str) -> str | None:
        """The ``ASSUMPTION:`` note the written scenario needs for this fit, if any."""
        if not self.too_few:
            return None
        return (f"ASSUMPTION: {what} fixed at the sample mean {_r(self.sample_mean)} min (only {self.n} "
                f"observation(s); {MIN_FIT_SAMPLES} or more are needed to fit a spread)")

    @property
    def mean_ci(self) -> tuple[float, float]:
        """95 % confidence interval of the mean (normal approximation)."""
        half = CONFIDENCE_Z * self.sample_sd / math.sqrt(self.n) if self.n > 1 else math.inf
        return self.sample_mean - half, self.sample_mean + half

    def describe(self) -> str:
        lo, hi = self.mean_ci
        alts = ", ".join(f"{c.dist} AIC {c.aic:.1f}" for c in self.candidates if c is not self.best)
        ks = f", KS {self.best.ks:.3f}" if not math.isnan(self.best.ks) else ""
        return (f"n={self.n}, mean {self.sample_mean:.2f} ({CONFIDENCE_TEXT} CI {lo:.2f}-{hi:.2f}) -> "
                f"{_spec_text(self.best.spec)}{ks}" + (f"; also tried {alts}" if alts else ""))


def _r(x: float) -> float:
    """Round to 4 significant digits: enough for a scenario, readable in YAML."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.4g}")


def _spec_text(spec: dict) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in spec.items()) + "}"


def fit_durations(values) -> FitResult | None:
    """Best-fitting scenario distribution for positive durations (minutes); None if no data."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x) & (x >= 0)]
    n = len(x)
    if n == 0:
        return None
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else 0.0
    if n < MIN_FIT_SAMPLES or mean <= 0 or sd / mean < FIXED_CV:
        fixed = Fit("fixed", {"dist": "fixed", "value": _r(mean)}, mean, 0.0, math.nan)
        return FitResult(n, mean, sd, fixed, [fixed])
    pos = x[x > 0]
    if len(pos) < len(x):            # zeros (rounded to the clock's resolution): nudge
        x = np.where(x > 0, x, max(pos.min() / 2, 1e-3) if len(pos) else 1e-3)
    cands: list[Fit] = []
    # exponential
    ll = float(stats.expon.logpdf(x, scale=mean).sum())
    cands.append(Fit("exponential", {"dist": "exponential", "mean": _r(mean)}, mean, 1.0,
                     2 * 1 - 2 * ll, float(stats.kstest(x, "expon", args=(0, mean)).statistic)))
    # log-normal (closed-form MLE)
    logs = np.log(x)
    mu, sigma = float(logs.mean()), float(logs.std(ddof=0))
    if sigma > 0:
        ll = float(stats.lognorm.logpdf(x, s=sigma, scale=math.exp(mu)).sum())
        m = math.exp(mu + sigma**2 / 2)
        cv = math.sqrt(math.expm1(sigma**2))
        cands.append(Fit("lognormal", {"dist": "lognormal", "mean": _r(m), "cv": _r(cv)}, m, cv,
                         2 * 2 - 2 * ll, float(stats.kstest(x, "lognorm",
                                                              args=(sigma, 0, math.exp(mu))).statistic)))
    # gamma (numerical MLE, location fixed at 0)
    try:
        a, _, scale = stats.gamma.fit(x, floc=0)
        if a > 0 and scale > 0 and math.isfinite(a):
            ll = float(stats.gamma.logpdf(x, a, scale=scale).sum())
            m, cv = a * scale, 1 / math.sqrt(a)
            cands.append(Fit("gamma", {"dist": "gamma", "mean": _r(m), "cv": _r(cv)}, m, cv,
                             2 * 2 - 2 * ll, float(stats.kstest(x, "gamma",
                                                                  args=(a, 0, scale)).statistic)))
    except (ValueError, RuntimeError, FloatingPointError):
        pass
    best = min(cands, key=lambda c: c.aic)
    return FitResult(n, mean, sd, best, cands)
