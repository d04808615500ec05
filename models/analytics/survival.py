"""Kaplan–Meier estimates, the one implementation: censored items count as still waiting.

Items that never became tickets (or never got done) are censored at the time observation
stopped, not dropped: dropping them would make a team that tickets half its items look as
fast as one that tickets all of them.
"""

from __future__ import annotations

import numpy as np

KmRow = tuple[float, int, int, int, float]


def km_table(durations: np.ndarray, observed: np.ndarray) -> list[KmRow]:
    """(time, at_risk, events, censored, survival after time) at every distinct time.

    NaN durations (unknown) are left out.
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    keep = ~np.isnan(d)
    d, e = d[keep], e[keep]
    if d.size == 0:
        return []
    order = np.argsort(d, kind="stable")
    d, e = d[order], e[order]
    times, first, counts = np.unique(d, return_index=True, return_counts=True)
    at_risk = d.size - first
    events = np.add.reduceat(e.astype(int), first)
    surv = np.cumprod(1.0 - events / at_risk)
    return [(float(t), int(n), int(ev), int(c - ev), float(s))
            for t, n, ev, c, s in zip(times, at_risk, events, counts, surv, strict=True)]


def _event_steps(durations: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Event times and the survival just after each (the steps of the curve)."""
    rows = [(t, s) for t, _, ev, _, s in km_table(durations, observed) if ev]
    if not rows:
        return np.empty(0), np.empty(0)
    times, surv = zip(*rows, strict=True)
    return np.asarray(times), np.asarray(surv)


def km_quantile(durations: np.ndarray, observed: np.ndarray, q: float) -> float | None:
    """Time by which a fraction q of items had the event; None when never reached."""
    times, surv = _event_steps(durations, observed)
    hit = np.nonzero(surv <= 1.0 - q + 1e-12)[0]
    return float(times[hit[0]]) if hit.size else None


def km_share_by(durations: np.ndarray, observed: np.ndarray, t: float) -> float | None:
    """Estimated share of items that had the event within t; None for no items at all."""
    if np.asarray(durations).size == 0:
        return None
    times, surv = _event_steps(durations, observed)
    idx = np.searchsorted(times, t, side="right") - 1
    return float(1.0 - (surv[idx] if idx >= 0 else 1.0))
