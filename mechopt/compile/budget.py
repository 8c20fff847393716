"""Budget rows: revenue net of designer cost, ``Σ_i p_i(s) − Σ_k c_k x(s, k)``.

``exact``: ``= 0`` at every profile; ``ex_post``: ``≥ 0`` at every profile
(labels: ``profile``); ``ex_ante``: ``≥ 0`` in expectation (one row).

With interim payments (:class:`~mechopt.compile.reductions.InterimPayments`)
``exact`` and ``ex_post`` budgets become one ex ante row (``= 0`` and ``≥ 0``):
with independent types and at least two agents, interim payments that balance
the budget in expectation are the interim payments of ex post payments that
balance it at every profile (d'Aspremont & Gérard-Varet 1979; the construction
is :func:`mechopt.recover.balanced_payments`).
"""

from __future__ import annotations

import numpy as np

from .layout import Layout, Rows


def _surplus_terms(rows: Rows, lay: Layout, local: np.ndarray, prof: np.ndarray, weight: np.ndarray) -> None:
    data = rows.data
    for i in range(lay.n):
        rows.terms(local, lay.pcol(prof, i), weight)
    for k in range(lay.K):
        if data.cost[k] != 0:
            rows.terms(local, lay.xcol(prof, k), -data.cost[k] * weight)


def budget_rows(rows: Rows, lay: Layout, level: str) -> None:
    data, S = rows.data, lay.S
    if lay.interim_payments and level in ("exact", "ex_post"):
        local = rows.new(1, data.zeros(1), equality=level == "exact")
        for i in range(lay.n):
            T = lay.shape[i]
            rows.terms(np.full(T, local[0]), lay.P0[i] + np.arange(T), data.marg[i])
        for col, val in zip(*lay.expected_cost_terms(data)):
            rows.terms(np.full(col.size, local[0]), col, -val)
    elif level in ("exact", "ex_post"):
        local = rows.new(S, data.zeros(S), equality=level == "exact", profile=np.arange(S))
        _surplus_terms(rows, lay, local, np.arange(S), data.ones(S))
    elif level == "ex_ante":
        local = rows.new(1, data.zeros(1), equality=False)
        if lay.interim_payments:
            for i in range(lay.n):
                T = lay.shape[i]
                rows.terms(np.full(T, local[0]), lay.P0[i] + np.arange(T), data.marg[i])
            for col, val in zip(*lay.expected_cost_terms(data)):
                rows.terms(np.full(col.size, local[0]), col, -val)
        else:
            _surplus_terms(rows, lay, np.repeat(local, S), np.arange(S), data.joint)
