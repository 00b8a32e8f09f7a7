"""Numbers a reader can trust: one place that turns values, intervals and parameters into text.

Rules (docs/report.md, "Formatting"):

- **Precision follows the interval.** A value with a 95 % half-width is
  printed to the half-width's first significant digit (two when it starts
  with 1), so "± 0.0" never appears; a half-width of exactly zero (every
  replication identical) reads "(no spread)".
- **No interval past the possible values.** Times, counts and money cannot be
  negative, shares cannot pass 100 %, a relative change cannot fall below
  −100 %.  An interval cut at such a bound is shown as a range
  ("0.2 % (0 to 0.6 %)"); a change to exactly zero reads "−100 % (all removed)".
- **Shares are percentages**, everywhere (tables, sentences, figure axes).
- **Money carries its currency** (scenario key ``currency``; default
  :data:`DEFAULT_CURRENCY`): a symbol is written before the amount ("$12.40"),
  a code after it ("12.40 EUR").
- **Parameters have human names**: distributions read "lognormal, mean 15 min,
  CV 0.5", never ``mean_=15.0``; policy and friction keys lose their
  underscores.

Every function returns plain (unescaped) text; the writers escape it.
"""
from __future__ import annotations

import math
from typing import Any, Optional

from ..schema import CONFIDENCE_LEVEL, is_utilisation, known_metric, metric_info

__all__ = ["DEFAULT_CURRENCY", "currency_of", "metric_kind", "is_share", "is_money", "label",
           "fmt_number", "fmt_value", "fmt_half", "fmt_money", "fmt_pct", "fmt_rel", "pct_digits", "shows_zero", "fmt_pp", "describe_dist",
           "human_name", "describe_params", "MINUS", "fmt_level"]

DEFAULT_CURRENCY = "EUR"
MINUS = "−"


def fmt_level(level: float = CONFIDENCE_LEVEL) -> str:
    """A confidence level as the text says it: ``95 %`` (the catalogue's level by default)."""
    return f"{level * 100:g} %"


def currency_of(scenario: Any) -> str:
    """The scenario's currency label (``currency``), or the documented default."""
    cur = getattr(scenario, "currency", None) if scenario is not None else None
    return str(cur).strip() if cur else DEFAULT_CURRENCY


def metric_kind(metric: str) -> str:
    """``share`` | ``time`` | ``count`` | ``money`` | ``ratio``, as the catalogue says; a name the
    catalogue does not know is a plain number (``ratio``)."""
    return str(metric_info(metric).kind) if known_metric(metric) else "ratio"


def is_share(metric: str) -> bool:
    return metric_kind(metric) == "share"


def is_money(metric: str) -> bool:
    return metric_kind(metric) == "money"


def label(metric: str, currency: Optional[str] = None) -> str:
    """The metric's readable name, with the currency for money ("… per resolved ticket (EUR)")."""
    text = metric_info(metric).label if known_metric(metric) else metric
    if is_money(metric) and currency:
        text = f"{text} ({currency})"
    elif is_share(metric) and "%" not in text:
        text = f"{text} (%)"
    return text


# --------------------------------------------------------------------------- numbers
def _digits_for(half: float) -> int:
    """Decimals that show ``half`` to one significant digit (two when it starts with a 1)."""
    if not half or math.isnan(half) or math.isinf(half):
        return 0
    d = -math.floor(math.log10(abs(half)))
    if int(abs(half) * 10 ** d + 1e-9) < 2:
        d += 1
    return max(0, min(d, 8))


def _default_digits(x: float) -> int:
    a = abs(x)
    return 2 if a < 10 else 1 if a < 1000 else 0


def fmt_number(x: float, digits: Optional[int] = None) -> str:
    """A plain number with thousands separators and a real minus sign."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    d = _default_digits(x) if digits is None else digits
    text = f"{x:,.{d}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")          # no "−0.00"
    return text.replace("-", MINUS)


def _unit(metric: str, currency: Optional[str]) -> tuple[float, str, str]:
    """(scale, prefix, suffix) of a metric's printed unit."""
    if is_share(metric):
        return 100.0, "", " %"
    if is_money(metric) and currency:
        cur = currency
        if len(cur) <= 2 and not cur.isalpha():      # a symbol: $, €, £, ¥, R$
            return 1.0, cur, ""
        return 1.0, "", f" {cur}"
    return 1.0, "", ""


def _bounds(metric: str, mean: float) -> tuple[float, float]:
    """The values ``metric`` can take: all known metrics are >= 0; shares <= 1 (utilisation <= max(1, mean))."""
    high = math.inf
    if is_share(metric):
        high = max(1.0, mean) if is_utilisation(metric) else 1.0
    return 0.0, high


def fmt_value(metric: str, mean: float, half: float = math.nan, currency: Optional[str] = None,
              signed: bool = False) -> str:
    """A metric's mean with its 95 % interval, in the metric's unit, kept within possible values.

    ``signed=True`` formats a *difference* (no bounds, explicit sign).
    """
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    scale, pre, suf = _unit(metric, currency)
    if metric_kind(metric) == "count" and not signed:
        return f"{pre}{mean:,.0f}{suf}"
    m, h = mean * scale, (half * scale if half is not None and not math.isnan(half) else math.nan)
    digits = _default_digits(m) if math.isnan(h) or h == 0 else _digits_for(h)

    def num(x: float, unit: bool = True) -> str:
        s = fmt_number(x, digits)
        if signed and x > 0 and s.strip("0.,") != "":
            s = "+" + s
        return f"{pre}{s}{suf}" if unit else f"{pre}{s}"

    text = num(m)
    if math.isnan(h):
        return text
    if h == 0:
        return f"{pre}0{suf}" if m == 0 else f"{text} (no spread)"      # "0", not "0.00 (no spread)"
    low, high = m - h, m + h
    if not signed:
        lo_b, hi_b = _bounds(metric, mean)
        lo_b, hi_b = lo_b * scale, hi_b * scale
        if low < lo_b or high > hi_b:
            lo_t = _g(lo_b) if low < lo_b else fmt_number(low, digits)
            hi_t = _g(hi_b) if high > hi_b else fmt_number(high, digits)
            return f"{text} ({pre}{lo_t} to {pre}{hi_t}{suf})"
    if suf and suf != " %":          # a currency code once, after the interval: 63.46 ± 0.14 EUR
        return f"{num(m, unit=False)} ± {fmt_number(h, digits)}{suf}"
    return f"{text} ± {fmt_number(h, digits)}{suf}"


def fmt_half(metric: str, half: float, currency: Optional[str] = None) -> str:
    """A half-width alone, to its own first significant digit(s), in the metric's unit: '± 94', '± 4.8 %'."""
    if half is None or math.isnan(half):
        return "-"
    scale, pre, suf = _unit(metric, currency)
    h = half * scale
    return f"± {pre}{fmt_number(h, _digits_for(h) if h > 0 else 0)}{suf}"


def fmt_money(x: float, currency: str, digits: Optional[int] = None) -> str:
    if x is None or math.isnan(x):
        return "-"
    _, pre, suf = _unit("cost_per_resolved", currency)
    return f"{pre}{fmt_number(x, digits)}{suf}"


def shows_zero(x: float, digits: int) -> bool:
    """True when ``x`` prints as zero with ``digits`` decimals (``0.04`` at 1 decimal: "0.0").

    A margin that prints as zero is no margin to the reader: the wording must say
    "tie", never "ahead by 0.0 %" (docs/report.md, "Formatting").
    """
    return x is not None and not math.isnan(x) and float(f"{abs(x):.{max(0, digits)}f}") == 0.0


def pct_digits(rel: float, half: float = math.nan) -> int:
    """Decimals of a relative change shown as a percentage.

    With an interval: the half-width's precision.  Without one (or no spread):
    0 above 10 %, 1 above 1 %, else 2 — and, when that would print a non-zero
    change as "0.00", enough decimals to show its first significant digit, so
    a real (if tiny) difference is never printed as zero.
    """
    if half is not None and not math.isnan(half) and half > 0:
        return _digits_for(half * 100)
    v = abs(rel) * 100 if rel is not None and not math.isnan(rel) else 0.0
    d = 0 if v >= 10 else 1 if v >= 1 else 2
    if v > 0 and shows_zero(v, d):
        d = _digits_for(v)
    return d


def fmt_pct(x: float, half: float = math.nan) -> str:
    """|x| as a percentage: 0.312 -> '31 %', 0.043 -> '4.3 %'; with ``half``, to its precision."""
    if x is None or math.isnan(x):
        return "?"
    v = abs(x) * 100
    d = pct_digits(x, half)
    return f"{v:.{d}f} %"


def fmt_rel(rel: float, half: float, policy_mean: float, ref_mean: float) -> str:
    """A relative change (policy / reference − 1) with its interval, never past −100 %."""
    if policy_mean is None or math.isnan(policy_mean):
        return "-"
    if ref_mean == 0 or ref_mean is None or math.isnan(ref_mean):
        if policy_mean == 0:
            return "none under either"
        return f"none → {fmt_number(policy_mean)}"
    if policy_mean == 0 and ref_mean > 0:
        return f"{MINUS}100 % (all removed)"
    if rel is None or math.isnan(rel):
        return "-"
    if rel == 0 and (half is None or math.isnan(half) or half == 0):
        return "0 %" + (" (no spread)" if half == 0 else "")
    has_half = half is not None and not math.isnan(half)
    d = _digits_for(half * 100) if has_half and half > 0 else (0 if abs(rel) >= 0.1 else 1 if abs(rel) >= 0.01 else 2)

    def pct(x: float, sign: bool = True) -> str:
        s = f"{abs(x) * 100:.{d}f}"
        if s.strip("0.") == "":
            return "0"
        return ((MINUS if x < 0 else "+") if sign else "") + s

    body = f"{pct(rel)} %"
    if not has_half:
        return body
    if half == 0:
        return body + " (no spread)"
    low, high = rel - half, rel + half
    if ref_mean > 0 and low < -1:
        return f"{body} ({MINUS}100 to {pct(high)} %)"
    return f"{body} (±{pct(half, sign=False)} %)"


def fmt_pp(diff: float, half: float) -> str:
    """A difference of two shares in percentage points, to the precision of its interval."""
    if diff is None or math.isnan(diff):
        return "-"
    d = _digits_for(half * 100) if half is not None and not math.isnan(half) and half > 0 else 1
    s = f"{abs(diff) * 100:.{d}f}"
    sign = "" if s.strip("0.") == "" else (MINUS if diff < 0 else "+")
    text = f"{sign}{s} pp"
    if half is not None and not math.isnan(half):
        text += " (no spread)" if half == 0 else f" ± {half * 100:.{d}f} pp"
    return text


# --------------------------------------------------------------------------- parameters
_DIST_NAMES = {"fixed": "fixed", "exponential": "exponential", "lognormal": "lognormal",
               "gamma": "gamma", "uniform": "uniform", "triangular": "triangular",
               "empirical": "empirical"}


def _g(x: Any) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x)


def describe_dist(d: Any, unit: str = "min") -> str:
    """'lognormal, mean 15 min, CV 0.5'; 'none' for a switched-off (always 0) friction."""
    if d is None:
        return "-"
    data = d.model_dump(mode="json", by_alias=True, exclude_none=True) if hasattr(d, "model_dump") else d
    if not isinstance(data, dict):
        return str(data)
    kind = data.get("dist", "")
    u = f" {unit}" if unit else ""
    if kind == "fixed":
        v = data.get("value", 0)
        return "none (0)" if v == 0 else f"always {_g(v)}{u}"
    if kind == "exponential":
        return f"exponential, mean {_g(data.get('mean'))}{u}"
    if kind in ("lognormal", "gamma"):
        return f"{kind}, mean {_g(data.get('mean'))}{u}, CV {_g(data.get('cv'))}"
    if kind == "uniform":
        return f"uniform, {_g(data.get('low'))} to {_g(data.get('high'))}{u}"
    if kind == "triangular":
        return (f"triangular, {_g(data.get('low'))} to {_g(data.get('high'))}{u}, "
                f"most likely {_g(data.get('mode'))}")
    if kind == "empirical":
        vals = data.get("values") or []
        mean = sum(vals) / len(vals) if vals else float("nan")
        return f"empirical, {len(vals)} observed values, mean {mean:.3g}{u}"
    rest = ", ".join(f"{human_name(k)} {_g(v)}" for k, v in data.items() if k != "dist")
    return f"{_DIST_NAMES.get(kind, kind)}, {rest}" if rest else str(kind)


_NAMES = {
    "triage_accuracy": "triage accuracy", "swarm_overhead": "swarm overhead",
    "swarm_wait_is_queue": "customer waits while the owner waits for a helper",
    "swarm_owner_contribution": "owner's contribution to a swarm (share of a qualified agent's rate)",
    "swarm_coordination": "coordination effort per helper (share of the work)",
    "swarm_search": "time to find a helper", "swarm_helper_fit": "chance the helper found can resolve it",
    "context_switch": "context switch after an interruption", "handoff": "handoff (passing agent)",
    "repeat": "repeat (customer re-explains)", "helper_mode": "helper mode",
    "max_helpers": "most helpers per swarm", "per_hour": "arrivals per hour",
    "warmup_days": "warm-up (days)", "cost_per_hour": "cost per hour",
}


def human_name(key: str) -> str:
    """A parameter key as words: ``triage_accuracy`` -> ``triage accuracy``."""
    key = str(key)
    return _NAMES.get(key, key.rstrip("_").replace("_", " "))


def describe_params(params: Optional[dict]) -> str:
    """'triage accuracy 0.85, helper mode any' (or 'defaults')."""
    if not params:
        return "defaults"
    parts = []
    for k, v in params.items():
        if isinstance(v, dict) and "dist" in v:
            v = describe_dist(v)
        elif isinstance(v, bool):
            v = "yes" if v else "no"
        parts.append(f"{human_name(k)} {_g(v)}")
    return ", ".join(parts)
