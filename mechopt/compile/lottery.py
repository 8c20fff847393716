"""Lottery rows (Σ_k x(s, k) = 1) and allocative efficiency rows.

Efficiency: at profile s, ``−Σ_{k ∉ E(s)} x(s, k) ≥ 0`` where ``E(s)`` are the
welfare-maximizing outcomes (ties decided exactly); one row per profile that
has an inefficient outcome.  Labels: ``profile``.
"""

from __future__ import annotations

import numpy as np

from .layout import Layout, Rows


def lottery_rows(rows: Rows, lay: Layout) -> None:
    S, K = lay.S, lay.K
    local = rows.new(S, rows.data.ones(S), equality=True, profile=np.arange(S))
    for k in range(K):
        rows.terms(local, lay.xcol(np.arange(S), k), rows.data.ones(S))


def efficiency_rows(rows: Rows, lay: Layout, efficient: np.ndarray) -> None:
    """``efficient``: boolean (S, K) of welfare maximizers."""
    bad = ~efficient
    prof = np.flatnonzero(bad.any(axis=1))
    local = rows.new(prof.size, rows.data.zeros(prof.size), equality=False, profile=prof)
    s_idx, k_idx = np.nonzero(bad[prof])
    rows.terms(local[s_idx], lay.xcol(prof[s_idx], k_idx), -rows.data.ones(s_idx.size))
