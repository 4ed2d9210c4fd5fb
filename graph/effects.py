"""Effect measurement for a list version with a community-randomised hold-out (issue 12,
item 7). Pure functions over arrays, no database.

The hold-out (:mod:`graph.holdout`) assigns whole clusters to treatment ``T`` or control
``C``, so customers of one cluster are not independent draws: an interval that treats them
as independent is too narrow. The estimator here is the one a cluster-randomised trial uses:

* **Difference in conversion rates** ``mean(y | T) − mean(y | C)``, the OLS slope of ``y``
  on ``[1, treated]``.
* **Cluster-robust variance, CR1** (Liang & Zeger 1986; the small-sample factor
  ``G/(G−1) · (N−1)/(N−K)`` Stata applies): the sandwich ``(X'X)⁻¹ (Σ_g s_g s_gᵀ) (X'X)⁻¹``
  with ``s_g`` the cluster's summed scores ``Σ_{i∈g} x_i e_i``, and a Student-t interval
  with ``G − 1`` degrees of freedom (``scipy.stats.t``). statsmodels (whose OLS
  ``cov_type="cluster"`` is the same estimator) is not a dependency of crkg; the sandwich
  for two regressors is a few numpy reductions.
* **CUPED** (Deng et al., WSDM 2013) with a pre-period metric ``x``: ``θ = cov(y, x) /
  var(x)`` over all rows, ``y' = y − θ (x − mean x)``, and the same estimator on ``y'``. The
  point estimate keeps its expectation (``x`` is measured before the assignment); its
  variance shrinks by about ``ρ² = corr(y, x)²``.

Each is available per segment (:func:`by_segment`): a segment's rows keep their clusters,
so the interval stays cluster-robust inside the segment.

Examples
--------
>>> y = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 1, 0], dtype=float)
>>> treated = np.array([1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
>>> clusters = np.array(["a", "a", "b", "b", "c", "c", "d", "d", "e", "e", "f", "f"])
>>> est = difference(y, treated, clusters)
>>> round(est.difference, 4), est.treated.clusters, est.control.clusters
(0.1667, 3, 3)
>>> est.low < est.difference < est.high
True
>>> x = y + np.linspace(-0.2, 0.2, 12)
>>> adj = cuped(y, x, treated, clusters)
>>> adj.std_error < est.std_error
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy.stats import t as student_t

from graph.errors import CrkgError

METHOD: Final = (
    "difference in conversion rates; CR1 cluster-robust variance by hold-out cluster; "
    "t(G-1) interval"
)
CUPED_METHOD: Final = "CUPED (theta = cov(y,x)/var(x), pre-period metric); " + METHOD
LEVEL: Final = 0.95

FloatArray = npt.NDArray[np.float64]


class EffectError(CrkgError):
    """The data cannot give an effect (an empty arm, too few clusters, mismatched lengths)."""


@dataclass(frozen=True)
class Arm:
    """One arm's counts: customers, clusters, the outcome's sum and mean."""

    customers: int
    clusters: int
    conversions: float  # the sum of y (conversions for a 0/1 outcome)
    rate: float

    def to_json(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "clusters": self.clusters,
            "conversions": self.conversions,
            "rate": self.rate,
        }


@dataclass(frozen=True)
class Estimate:
    """The difference treated − control with its cluster-robust interval."""

    method: str
    treated: Arm
    control: Arm
    difference: float
    std_error: float
    low: float
    high: float
    p_value: float
    degrees_of_freedom: int
    level: float
    theta: float | None = None  # CUPED only
    variance_reduction: float | None = None  # CUPED only: 1 − var(CUPED) / var(plain)

    @property
    def significant(self) -> bool:
        """Whether the interval excludes zero."""
        return bool(self.low > 0.0 or self.high < 0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "treated": self.treated.to_json(),
            "control": self.control.to_json(),
            "difference": self.difference,
            "std_error": self.std_error,
            "low": self.low,
            "high": self.high,
            "p_value": self.p_value,
            "degrees_of_freedom": self.degrees_of_freedom,
            "level": self.level,
            "theta": self.theta,
            "variance_reduction": self.variance_reduction,
        }


def _inputs(
    y: npt.ArrayLike, treated: npt.ArrayLike, clusters: npt.ArrayLike
) -> tuple[FloatArray, npt.NDArray[np.bool_], npt.NDArray[np.intp]]:
    yy = np.asarray(y, dtype=np.float64)
    tt = np.asarray(treated, dtype=bool)
    cc = np.asarray(clusters)
    if not (yy.ndim == tt.ndim == cc.ndim == 1) or not (len(yy) == len(tt) == len(cc)):
        raise EffectError("y, treated and clusters must be 1-d arrays of one length")
    if not np.all(np.isfinite(yy)):
        raise EffectError("y must be finite")
    _, codes = np.unique(cc, return_inverse=True)
    return yy, tt, codes.astype(np.intp)


def _arm(y: FloatArray, codes: npt.NDArray[np.intp], mask: npt.NDArray[np.bool_]) -> Arm:
    n = int(mask.sum())
    total = float(y[mask].sum())
    return Arm(n, int(np.unique(codes[mask]).size), total, total / n if n else float("nan"))


def difference(
    y: npt.ArrayLike,
    treated: npt.ArrayLike,
    clusters: npt.ArrayLike,
    *,
    level: float = LEVEL,
) -> Estimate:
    """The difference in means treated − control with a CR1 cluster-robust interval.

    Parameters
    ----------
    y : array of float
        The outcome per customer (1 converted, 0 not; any finite metric works).
    treated : array of bool
        True for the treatment arm, False for the control arm.
    clusters : array
        The randomisation unit of each customer (the list row's hold-out ``cluster``).
    level : float
        The interval's confidence level.

    Returns
    -------
    Estimate
        Per-arm counts, the difference, its standard error, interval and p-value.

    Examples
    --------
    >>> est = difference([1, 0, 0, 0, 1, 1, 0, 1], [1, 1, 1, 1, 0, 0, 0, 0], list("aabbccdd"))
    >>> est.difference, est.degrees_of_freedom
    (-0.5, 3)
    """
    yy, tt, codes = _inputs(y, treated, clusters)
    g = int(codes.max()) + 1 if len(codes) else 0
    if tt.all() or not tt.any():
        raise EffectError("both arms need customers")
    treated_arm, control_arm = _arm(yy, codes, tt), _arm(yy, codes, ~tt)
    if g < 3:
        raise EffectError("a cluster-robust interval needs at least 3 clusters")
    n, k = len(yy), 2
    diff = treated_arm.rate - control_arm.rate
    # residuals of the OLS on [1, T]: y minus its arm's mean
    resid = yy - np.where(tt, treated_arm.rate, control_arm.rate)
    s0 = np.bincount(codes, weights=resid, minlength=g)  # cluster score, intercept
    s1 = np.bincount(codes, weights=resid * tt, minlength=g)  # cluster score, treatment
    meat = np.array([[s0 @ s0, s0 @ s1], [s1 @ s0, s1 @ s1]])
    n1 = float(tt.sum())
    bread = np.linalg.inv(np.array([[n, n1], [n1, n1]], dtype=np.float64))
    cov = bread @ meat @ bread * (g / (g - 1)) * ((n - 1) / (n - k))
    se = float(np.sqrt(max(cov[1, 1], 0.0)))
    df = g - 1
    crit = float(student_t.ppf(0.5 + level / 2, df))
    p = float(2 * student_t.sf(abs(diff) / se, df)) if se > 0 else float(diff == 0)
    return Estimate(
        method=METHOD,
        treated=treated_arm,
        control=control_arm,
        difference=float(diff),
        std_error=se,
        low=float(diff - crit * se),
        high=float(diff + crit * se),
        p_value=p,
        degrees_of_freedom=df,
        level=level,
    )


def cuped_theta(y: npt.ArrayLike, x: npt.ArrayLike) -> float:
    """CUPED's ``θ = cov(y, x) / var(x)`` over all rows (0 when ``x`` is constant).

    Examples
    --------
    >>> cuped_theta([1.0, 2.0, 3.0], [2.0, 4.0, 6.0])
    0.5
    """
    yy, xx = np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64)
    var = float(np.var(xx, ddof=1)) if len(xx) > 1 else 0.0
    if var == 0.0:
        return 0.0
    return float(np.cov(yy, xx, ddof=1)[0, 1] / var)


def cuped(
    y: npt.ArrayLike,
    x: npt.ArrayLike,
    treated: npt.ArrayLike,
    clusters: npt.ArrayLike,
    *,
    level: float = LEVEL,
) -> Estimate:
    """The CUPED-adjusted difference: :func:`difference` on ``y − θ (x − mean x)``.

    Parameters
    ----------
    y, treated, clusters, level
        As :func:`difference`.
    x : array of float
        The pre-period metric per customer (measured before the assignment).

    Returns
    -------
    Estimate
        The adjusted estimate with ``theta`` and ``variance_reduction`` (against the
        unadjusted estimator on the same rows). The arms' counts are the unadjusted ones.

    Examples
    --------
    >>> y = [1, 0, 1, 0, 1, 1, 0, 0]
    >>> est = cuped(y, [0.9, 0.1, 0.8, 0.2, 0.7, 0.9, 0.1, 0.3], [1, 1, 1, 1, 0, 0, 0, 0],
    ...             list("aabbccdd"))
    >>> est.theta > 0, est.variance_reduction > 0
    (True, True)
    """
    yy, xx = np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64)
    if xx.shape != yy.shape or not np.all(np.isfinite(xx)):
        raise EffectError("x must be a finite array of y's length")
    plain = difference(yy, treated, clusters, level=level)
    theta = cuped_theta(yy, xx)
    adjusted = difference(yy - theta * (xx - xx.mean()), treated, clusters, level=level)
    reduction = 1.0 - adjusted.std_error**2 / plain.std_error**2 if plain.std_error else 0.0
    return replace(
        adjusted,
        method=CUPED_METHOD,
        treated=plain.treated,
        control=plain.control,
        theta=theta,
        variance_reduction=float(reduction),
    )


def by_segment(
    y: npt.ArrayLike,
    treated: npt.ArrayLike,
    clusters: npt.ArrayLike,
    segments: Sequence[str | None] | npt.ArrayLike,
    *,
    x: npt.ArrayLike | None = None,
    level: float = LEVEL,
) -> dict[str, Estimate | str]:
    """The estimate per segment (CUPED when ``x`` is given); a segment whose rows cannot give
    an estimate maps to the reason instead. A missing segment reads ``"(none)"``.

    Examples
    --------
    >>> out = by_segment([1, 0, 0, 0, 1, 1, 0, 1], [1, 1, 1, 1, 0, 0, 0, 0], list("aabbccdd"),
    ...                  ["s", "s", "s", "s", "s", "s", "s", "t"])
    >>> round(out["s"].difference, 4), out["t"]
    (-0.4167, 'both arms need customers')
    """
    yy, tt = np.asarray(y, dtype=np.float64), np.asarray(treated, dtype=bool)
    cc = np.asarray(clusters)
    ss = np.array(["(none)" if s is None else str(s) for s in np.asarray(segments, dtype=object)])
    xx = None if x is None else np.asarray(x, dtype=np.float64)
    out: dict[str, Estimate | str] = {}
    for segment in sorted(set(ss.tolist())):
        mask = ss == segment
        try:
            if xx is None:
                out[segment] = difference(yy[mask], tt[mask], cc[mask], level=level)
            else:
                out[segment] = cuped(yy[mask], xx[mask], tt[mask], cc[mask], level=level)
        except EffectError as exc:
            out[segment] = str(exc)
    return out
