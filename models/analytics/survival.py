"""Kaplan–Meier estimates, so items that never became tickets are censored, not dropped."""

from __future__ import annotations

import numpy as np


def kaplan_meier(durations: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Event times and the survival probability just after each (S(t) = P(not yet ticketed))."""
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    keep = ~np.isnan(d)
    d, e = d[keep], e[keep]
    if d.size == 0:
        return np.empty(0), np.empty(0)
    order = np.argsort(d, kind="stable")
    d, e = d[order], e[order]
    times, first = np.unique(d, return_index=True)
    at_risk = d.size - first
    events = np.add.reduceat(e.astype(int), first)
    surv = np.cumprod(1.0 - events / at_risk)
    mask = events > 0
    return times[mask], surv[mask]


def km_quantile(durations: np.ndarray, observed: np.ndarray, q: float) -> float | None:
    """Time by which a fraction q of items were ticketed; None when never reached."""
    times, surv = kaplan_meier(durations, observed)
    hit = np.nonzero(surv <= 1.0 - q + 1e-12)[0]
    return float(times[hit[0]]) if hit.size else None


def km_share_by(durations: np.ndarray, observed: np.ndarray, t: float) -> float | None:
    """Estimated share of items ticketed within t."""
    times, surv = kaplan_meier(durations, observed)
    if np.asarray(durations).size == 0:
        return None
    idx = np.searchsorted(times, t, side="right") - 1
    return float(1.0 - (surv[idx] if idx >= 0 else 1.0))
