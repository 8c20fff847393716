"""Incentive-compatibility rows: truth-telling is at least as good as each report.

Row (agent i, true type t, report s) reads ``u_i(t | t) − u_i(s | t) ≥ 0``:

* ``dsic``: one row per opponents' profile r (label ``profile`` = the truthful
  profile (t, r));
* ``ex_post`` (interdependent values): the same rows with every value taken at
  the true profile (t, r): ``v_i(x(t, r), (t, r)) − p_i(t, r) ≥
  v_i(x(s, r), (t, r)) − p_i(s, r)`` (for private values these are the DSIC rows);
* ``bic`` with interdependent values: the conditional-beliefs rows below, with
  values at the true profile (whatever the prior).  Efficient ex post
  implementation then needs single crossing (Maskin 1992; Dasgupta & Maskin
  2000) and generically fails with multidimensional signals (Jehiel &
  Moldovanu 2001); with correlated signals BIC still allows full surplus
  extraction (Crémer & McLean 1985, 1988);
* ``bic`` with independent priors: on interim variables,
  ``Σ_g V[t,g] (X̄[t,g] − X̄[s,g]) − P̄[t] + P̄[s] ≥ 0``;
* ``bic`` with a correlated prior: expectations under π(r | t), written out.

With scalar types and values affine in the own type, only adjacent reports
(s = t ± 1) are written: adding the two adjacent rows gives monotonicity of the
interim "slope", and monotonicity plus local IC implies every other IC row
(the single-crossing argument of Myerson 1981, Lemma 2).  ``LinearProgram.reductions``
records when this was used.  Otherwise all pairs t ≠ s are written, or — when
the solver generates IC rows lazily (see :mod:`mechopt.compile.generation`) —
the subset of pairs passed to :func:`mechopt.compile.compile_design`.
"""

from __future__ import annotations

import numpy as np

from .layout import Layout, Rows
from .terms import interim_payment_terms, interim_value_terms, payment_terms, value_terms


def dsic_rows(rows: Rows, lay: Layout, i: int, t: np.ndarray, s: np.ndarray) -> None:
    data = rows.data
    view = lay.agent_view(i)
    R = view.shape[1]
    M = t.size
    tt, ss = np.repeat(t, R), np.repeat(s, R)
    rr = np.tile(np.arange(R), M)
    prof_t, prof_s = view[tt, rr], view[ss, rr]
    local = rows.new(M * R, data.zeros(M * R), equality=False, agent=i, type=tt, report=ss, profile=prof_t)
    one = data.ones(M * R)
    value_terms(rows, lay, i, local, prof_t, tt, one)
    value_terms(rows, lay, i, local, prof_s, tt, -one, at=prof_t)
    payment_terms(rows, lay, i, local, prof_t, -one)
    payment_terms(rows, lay, i, local, prof_s, one)


def bic_rows_interim(rows: Rows, lay: Layout, i: int, t: np.ndarray, s: np.ndarray) -> None:
    data = rows.data
    local = rows.new(t.size, data.zeros(t.size), equality=False, agent=i, type=t, report=s)
    one = data.ones(t.size)
    interim_value_terms(rows, lay, i, local, t, t, one)
    interim_value_terms(rows, lay, i, local, t, s, -one)
    interim_payment_terms(rows, lay, i, local, t, -one)
    interim_payment_terms(rows, lay, i, local, s, one)


def bic_rows_correlated(rows: Rows, lay: Layout, i: int, t: np.ndarray, s: np.ndarray) -> None:
    data = rows.data
    belief = data.beliefs(i, lay.shape)  # (T, R)
    has_mass = np.array([data.marg[i][k] != 0 for k in t])
    t, s = t[has_mass], s[has_mass]
    view = lay.agent_view(i)
    R = view.shape[1]
    local = rows.new(t.size, data.zeros(t.size), equality=False, agent=i, type=t, report=s)
    m_idx, r_idx = np.nonzero(belief[t] != 0)
    w = belief[t[m_idx], r_idx]
    lt, ts, ss = local[m_idx], t[m_idx], s[m_idx]
    prof_t, prof_s = view[ts, r_idx], view[ss, r_idx]
    value_terms(rows, lay, i, lt, prof_t, ts, w)
    value_terms(rows, lay, i, lt, prof_s, ts, -w, at=prof_t)
    payment_terms(rows, lay, i, lt, prof_t, -w)
    payment_terms(rows, lay, i, lt, prof_s, w)
    del R
