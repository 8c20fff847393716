"""Interim definition rows (independent priors).

For agent i, own type t and value group g::

    X̄_i[t, g] − Σ_r w(r) Σ_{k ∈ g} x((t, r), k) = 0
    P̄_i[t]    − Σ_r w(r) p_i((t, r))          = 0   (only with ex post payments)

where ``w(r)`` is the probability of the opponents' profile r.  Labels:
``agent``, ``type``, ``group`` (−1 for the payment row).
"""

from __future__ import annotations

import numpy as np

from .layout import Layout, Rows


def interim_rows(rows: Rows, lay: Layout, i: int) -> None:
    data = rows.data
    T = lay.shape[i]
    view = lay.agent_view(i)  # (T, R)
    w = data.others_weight(i, lay.shape)  # (R,)
    R = view.shape[1]
    for g, ks in enumerate(lay.groups[i]):
        local = rows.new(T, data.zeros(T), equality=True, agent=i, type=np.arange(T), group=g)
        rows.terms(local, lay.X0[i] + np.arange(T) * len(lay.groups[i]) + g, data.ones(T))
        for k in ks:
            rows.terms(np.repeat(local, R), lay.xcol(view, k).ravel(), np.tile(-w, T))
    if not lay.interim_payments:
        local = rows.new(T, data.zeros(T), equality=True, agent=i, type=np.arange(T), group=-1)
        rows.terms(local, lay.P0[i] + np.arange(T), data.ones(T))
        rows.terms(np.repeat(local, R), lay.pcol(view, i).ravel(), np.tile(-w, T))
