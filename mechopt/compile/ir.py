"""Individual-rationality rows against the outside option U_i.

* ``ex_post``: ``v_i(x(s), θ_i) − p_i(s) ≥ U_i(θ_i)`` at every profile (labels
  ``agent``, ``type``, ``profile``);
* ``interim``: ``E[v_i − p_i | θ_i = t] ≥ U_i(t)`` (labels ``agent``, ``type``);
* ``ex_ante``: ``E[v_i − p_i] ≥ E[U_i]`` (label ``agent``).
"""

from __future__ import annotations

import numpy as np

from .layout import Layout, Rows
from .terms import interim_payment_terms, interim_value_terms, payment_terms, value_terms


def ex_post_ir_rows(rows: Rows, lay: Layout, i: int) -> None:
    data, S = rows.data, lay.S
    own = lay.own_type(i)
    prof = np.arange(S)
    local = rows.new(S, data.U[i][own], equality=False, agent=i, type=own, profile=prof)
    one = data.ones(S)
    value_terms(rows, lay, i, local, prof, own, one)
    payment_terms(rows, lay, i, local, prof, -one)


def interim_ir_rows(rows: Rows, lay: Layout, i: int) -> None:
    data = rows.data
    T = lay.shape[i]
    t = np.arange(T)
    if i in lay.interim_agents:
        local = rows.new(T, data.U[i], equality=False, agent=i, type=t)
        one = data.ones(T)
        interim_value_terms(rows, lay, i, local, t, t, one)
        interim_payment_terms(rows, lay, i, local, t, -one)
        return
    belief = data.beliefs(i, lay.shape)
    view = lay.agent_view(i)
    keep = np.array([data.marg[i][k] != 0 for k in t])
    local_all = rows.new(int(keep.sum()), data.U[i][keep], equality=False, agent=i, type=t[keep])
    local_of = np.full(T, -1)
    local_of[keep] = local_all
    tt, rr = np.nonzero(belief != 0)
    tt_keep = keep[tt]
    tt, rr = tt[tt_keep], rr[tt_keep]
    w = belief[tt, rr]
    value_terms(rows, lay, i, local_of[tt], view[tt, rr], tt, w)
    payment_terms(rows, lay, i, local_of[tt], view[tt, rr], -w)


def ex_ante_ir_rows(rows: Rows, lay: Layout, i: int) -> None:
    data = rows.data
    rhs = (data.marg[i] * data.U[i]).sum()
    local = rows.new(1, np.array([rhs], dtype=object if data.exact else float), equality=False, agent=i)
    if i in lay.interim_agents:
        T = lay.shape[i]
        t = np.arange(T)
        interim_value_terms(rows, lay, i, np.full(T, local[0]), t, t, data.marg[i])
        interim_payment_terms(rows, lay, i, np.full(T, local[0]), t, -data.marg[i])
        return
    S = lay.S
    prof = np.arange(S)
    value_terms(rows, lay, i, np.full(S, local[0]), prof, lay.own_type(i), data.joint)
    payment_terms(rows, lay, i, np.full(S, local[0]), prof, -data.joint)
