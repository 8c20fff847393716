"""Anonymous mechanisms for identical agents: profiles collapse to type counts.

**When it applies** (:func:`applies`).  Every agent has the same exact types,
prior, outside option and value table (the outcomes are common, e.g. a public
project), the prior is independent, ``ic`` ∈ {bic, none} with IC written on
interim variables, ``ir`` ∈ {interim, ex_ante, none}, ``budget`` ∈ {ex_ante,
none}, random allocation (free or efficient), and more than
:data:`MIN_PROFILES` profiles.  ``Design(symmetric=False)`` turns it off.

**Why it is exact.**  Permuting the agents maps feasible mechanisms to feasible
ones with the same objective, so the average of an optimum over all n!
permutations is an optimum; it is *anonymous*: the lottery depends on the
profile only through its type counts ``m = (m_1, …, m_T)``, ``Σ m_t = n``, and
every agent has the same interim payment ``P(t)``.  Profiles ``Tⁿ`` become
``C(n + T − 1, n)`` count vectors (8 agents × 11 types: 214 million → 43,758).
An agent of type t sees the others' counts ``m − e_t`` with the multinomial
probability ``w(m − e_t) = (n−1)! Π_s f_s^{m'_s} / m'_s!``, so its interim
outcome probabilities are ``X(t, k) = Σ_{m: m_t ≥ 1} w(m − e_t) x(m, k)``
(family ``interim``); IC (adjacent rows where the values are affine in the
type), IR and the ex ante budget are written on ``X`` and ``P`` of one agent.

**Exact twin.**  With ``Data(exact=True)`` the same rows come out in the same
order with Fraction coefficients: the multinomial weights are computed over
the prior's common denominator D as ``n!/Π m_s! · Π a_s^{m_s} / Dⁿ``
(``f_s = a_s / D``), so certificates (:mod:`mechopt.certificates`) and
``solve(exact=True)`` work on the count LP.  The efficiency restriction
(:func:`inefficient`) is decided in exact integer arithmetic for both LPs.
"""


from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import gammaln

from . import ic as ic_mod
from . import ir as ir_mod
from .layout import Data, Layout, Rows
from .terms import pairs

if TYPE_CHECKING:  # pragma: no cover
    from ..design import Design

__all__ = ["applies", "count_vectors", "multinomial", "row_positions", "CountLayout", "layout", "build_rows",
           "objective_vector", "inefficient", "interim_weights", "count_data",
           "MIN_PROFILES", "MAX_COUNTS"]

MIN_PROFILES = 20_000
MAX_COUNTS = 2_000_000


def applies(design: Design) -> tuple[bool, str]:
    env = design.env
    if getattr(design, "symmetric", None) is False:
        return False, "symmetric=False"
    if env.n_agents < 2 or env.kind == "single_item" or env.kind == "multi_item":
        return False, "type counts are used for agents with common outcomes (public project, table)"
    if not env.is_independent:
        return False, "the prior is correlated"
    checks = [(design.ic in ("bic", "none"), f"ic={design.ic!r}"),
              (design.ir in ("interim", "ex_ante", "none"), f"ir={design.ir!r}"),
              (design.budget in ("ex_ante", "none"), f"budget={design.budget!r} (needs ex post payments)"),
              (not design.deterministic, "deterministic")]
    for ok, why in checks:
        if not ok:
            return False, why
    a0 = env.agents[0]
    if a0.types_exact.ndim != 1:
        return False, "vector types"
    key = [_key(a0.types_exact), _key(a0.prior_exact), _key(env.outside_exact[0]), _key(env.values_exact[0])]
    for i, a in enumerate(env.agents[1:], start=1):
        if [_key(a.types_exact), _key(a.prior_exact), _key(env.outside_exact[i]), _key(env.values_exact[i])] != key:
            return False, f"agents {a0.name!r} and {a.name!r} are not identical"
    if env.n_profiles <= MIN_PROFILES:
        return False, f"the plain LP is small ({env.n_profiles:,} profiles)"
    M = math.comb(env.n_agents + a0.n_types - 1, env.n_agents)
    if M > MAX_COUNTS:
        return False, f"{M:,} count vectors"
    return True, "applies"


def _key(arr) -> list:
    return [(v.numerator, v.denominator) for v in np.asarray(arr, dtype=object).ravel().tolist()]


def count_vectors(n: int, T: int) -> np.ndarray:
    """All ``m ∈ ℕ^T`` with ``Σ m = n``, shape (C(n+T−1, n), T), in lexicographic order of multisets."""
    combos = np.array(list(itertools.combinations_with_replacement(range(T), n)), dtype=np.int64).reshape(-1, n)
    out = np.zeros((combos.shape[0], T), dtype=np.int64)
    np.add.at(out, (np.repeat(np.arange(combos.shape[0]), n), combos.ravel()), 1)
    return out


def multinomial(counts: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Probability of each count vector under i.i.d. draws from ``f``.

    Parameters
    ----------
    counts : ndarray of int, shape (M, T)
        Count vectors (rows), all with the same sum n.
    f : ndarray, shape (T,)
        The prior: float64, or an object array of Fractions (then the answer is exact).

    Returns
    -------
    ndarray, shape (M,)
        float64 (through log-gamma), or Fractions when ``f`` holds Fractions.
    """
    if np.asarray(f).dtype == object:
        return _multinomial_exact(counts, f)
    n = int(counts[0].sum())
    logw = (math.lgamma(n + 1) - gammaln(counts + 1.0).sum(axis=1)
            + counts @ np.log(np.where(f > 0, f, 1.0)))
    w = np.exp(logw)
    w[(counts[:, f <= 0] > 0).any(axis=1)] = 0.0
    return w


def _multinomial_exact(counts: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Exact multinomial probabilities: with ``f_s = a_s / D`` (D the common denominator),
    ``P(m) = n!/Π m_s! · Π a_s^{m_s} / Dⁿ`` in integers, one Fraction per count vector."""
    fr = [Fraction(v) for v in np.asarray(f, dtype=object).tolist()]
    D = math.lcm(*(v.denominator for v in fr)) if fr else 1
    a = [int(v * D) for v in fr]
    M = counts.shape[0]
    out = np.empty(M, dtype=object)
    if M == 0:
        return out
    n = int(counts[0].sum())
    fact = [math.factorial(k) for k in range(n + 1)]
    pw = [[a_s ** k for k in range(n + 1)] for a_s in a]
    den = D ** n
    for r, row in enumerate(counts.tolist()):
        num, div = fact[n], 1
        for s_, k in enumerate(row):
            if k:
                num *= pw[s_][k]
                div *= fact[k]
        out[r] = Fraction(num // div, den)  # n!/Π m_s! is an integer, so div divides num
    return out


def row_positions(table: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Row of ``table`` (M, T) equal to each row of ``queries`` (Q, T); −1 where none (no integer overflow)."""
    both = np.concatenate([table, queries])
    base = int(both.max(initial=0)) + 1
    if both.size and both.min() >= 0 and base ** both.shape[1] < 2**62:  # mixed-radix keys fit in int64
        key = both @ (base ** np.arange(both.shape[1], dtype=np.int64))
        tk, qk = key[: table.shape[0]], key[table.shape[0]:]
        if tk.size == 0:
            return np.full(qk.size, -1)
        order = np.argsort(tk, kind="stable")
        at = np.minimum(np.searchsorted(tk[order], qk), tk.size - 1)
        return np.where(tk[order][at] == qk, order[at], -1)
    _, inv = np.unique(both, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    pos = np.full(inv.max() + 1, -1)
    pos[inv[: table.shape[0]]] = np.arange(table.shape[0])
    return pos[inv[table.shape[0]:]]


@dataclass
class CountLayout(Layout):
    """``x(m, k)`` at ``m·K + k``, then ``X(t, g)`` and ``P(t)`` of the representative agent."""

    M: int = 0

    def __post_init__(self) -> None:
        T = self.shape[0]
        G = len(self.groups[0])
        self.x0 = 0
        for i in range(len(self.shape)):
            self.X0[i] = self.M * self.K
            self.P0[i] = self.M * self.K + T * G
        self.n_cols = self.M * self.K + T * G + T

    @property
    def S(self) -> int:
        return self.M


def layout(design: Design, counts: np.ndarray, groups) -> CountLayout:
    env = design.env
    return CountLayout(env.shape, env.n_outcomes, True, tuple(range(env.n_agents)), [groups] * env.n_agents,
                       M=counts.shape[0])


def count_data(design: Design, exact: bool) -> Data:
    """The numbers the count LP reads, float64 or exact, without the joint prior over Tⁿ profiles."""
    env = design.env
    if exact:
        return Data(True, list(env.values_exact), env.cost_exact, list(env.outside_exact), np.empty(0, dtype=object),
                    [a.prior_exact for a in env.agents])
    return Data(False, list(env.values), env.cost, list(env.outside), np.empty(0), [a.prior for a in env.agents])


def interim_weights(counts: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triplets ``(t, m, w)``: an agent of type t faces the others' counts ``m − e_t`` with probability w.

    ``w`` is float64, or Fractions when ``f`` holds Fractions (see :func:`multinomial`); the
    triplets come in the same order either way."""
    n, T = int(counts[0].sum()), counts.shape[1]
    others = count_vectors(n - 1, T)
    w_o = multinomial(others, f)
    ts, ms, qs = [], [], []
    for t in range(T):
        m = np.flatnonzero(counts[:, t] >= 1)
        q = counts[m].copy()
        q[:, t] -= 1
        ts.append(np.full(m.size, t))
        ms.append(m)
        qs.append(q)
    pos = row_positions(others, np.concatenate(qs))
    return np.concatenate(ts), np.concatenate(ms), w_o[pos]


def build_rows(design: Design, lay: CountLayout, data: Data, counts: np.ndarray, groups, adjacent: bool) -> list[Rows]:
    """Families ``lottery``, ``interim``, ``ic``, ``ir``, ``budget`` in the arithmetic of ``data``
    (efficiency is imposed by column bounds, :func:`inefficient`).

    Parameters
    ----------
    design : Design
    lay : CountLayout
    data : Data
        Float64 or exact (``data.exact``: Fraction coefficients and right-hand sides; the rows,
        their order and their labels are the same).
    counts : ndarray of int, shape (M, T)
        :func:`count_vectors`.
    groups : list of list of int
        Value groups of the representative agent.
    adjacent : bool
        Adjacent IC rows only.
    """
    M, K, T, n = lay.M, lay.K, lay.shape[0], lay.n
    out = []
    fam = Rows("lottery", data)
    local = fam.new(M, data.ones(M), equality=True)
    for k in range(K):
        fam.terms(local, np.arange(M) * K + k, data.ones(M))
    out.append(fam)
    cost = data.cost if data.exact else np.asarray(data.cost, dtype=float)
    f = data.marg[0] if data.exact else np.asarray(data.marg[0], dtype=float)
    t, m, w = interim_weights(counts, f)
    fam = Rows("interim", data)
    G = len(groups)
    for g, ks in enumerate(groups):
        local = fam.new(T, data.zeros(T), equality=True, agent=0, type=np.arange(T), group=g)
        fam.terms(local, lay.X0[0] + np.arange(T) * G + g, data.ones(T))
        for k in ks:
            fam.terms(local[t], m * K + k, -w)
    out.append(fam)
    if design.ic != "none":
        fam = Rows("ic", data)
        tt, ss = pairs(T, adjacent)
        ic_mod.bic_rows_interim(fam, lay, 0, tt, ss)
        out.append(fam)
    if design.ir != "none":
        fam = Rows("ir", data)
        {"interim": ir_mod.interim_ir_rows, "ex_ante": ir_mod.ex_ante_ir_rows}[design.ir](fam, lay, 0)
        out.append(fam)
    if design.budget == "ex_ante":
        fam = Rows("budget", data)
        local = fam.new(1, data.zeros(1), equality=False)
        fam.terms(np.full(T, local[0]), lay.P0[0] + np.arange(T), n * f)
        pm = multinomial(counts, f)
        for k in range(K):
            if cost[k] != 0:
                fam.terms(np.full(M, local[0]), np.arange(M) * K + k, -cost[k] * pm)
        out.append(fam)
    return out


def inefficient(design: Design, counts: np.ndarray) -> np.ndarray:
    """Boolean (M, K): outcome k does not maximize welfare at count vector m, decided exactly.

    The welfare ``W(m, k) = Σ_t m_t V[t, k] − c_k`` is computed in integers over the common
    denominator of the values and costs (int64 when it cannot overflow, Python integers
    otherwise), so ties are ties and the float LP and its exact twin get the same bounds.
    ``allocation="efficient"`` fixes these ``x(m, k)`` to 0 through column bounds.
    """
    env = design.env
    out = np.zeros((counts.shape[0], env.n_outcomes), dtype=bool)
    if design.allocation != "efficient" or counts.shape[0] == 0:
        return out
    V = np.asarray(env.values_exact[0], dtype=object)
    cost = np.asarray(env.cost_exact, dtype=object)
    D = math.lcm(*(Fraction(v).denominator for v in np.concatenate([V.ravel(), cost]).tolist()))
    Vi = np.array([[int(Fraction(v) * D) for v in row] for row in V.tolist()], dtype=object).reshape(V.shape)
    ci = np.array([int(Fraction(v) * D) for v in cost.tolist()], dtype=object)
    n = int(counts[0].sum())
    bound = n * max((abs(v) for v in Vi.ravel().tolist()), default=0) + max((abs(v) for v in ci.tolist()), default=0)
    if bound < 2**62:
        W = counts.astype(np.int64) @ Vi.astype(np.int64) - ci.astype(np.int64)[None, :]
    else:
        W = counts.astype(object) @ Vi - ci[None, :]
    return W < W.max(axis=1, keepdims=True)


def objective_vector(design: Design, lay: CountLayout, data: Data, counts: np.ndarray, groups):
    """The objective ``(c, offset)`` on the count LP's columns, in the arithmetic of ``data``.

    Returns
    -------
    c : ndarray, shape (lay.n_cols,)
        float64, or Fractions when ``data.exact``.
    offset : float or Fraction
    """
    exact = data.exact
    if design.objective == "gains":  # welfare net of the status quo (every agent's outside option)
        from .objective import status_quo_value

        c, _ = objective_vector(design.replace(objective="welfare"), lay, data, counts, groups)
        return c, -status_quo_value(design, exact)
    M, K, T, n = lay.M, lay.K, lay.shape[0], lay.n
    f = data.marg[0] if exact else np.asarray(data.marg[0], dtype=float)
    V = data.V[0] if exact else np.asarray(data.V[0], dtype=float)
    cost = data.cost if exact else np.asarray(data.cost, dtype=float)
    pm = multinomial(counts, f)
    c = data.zeros(lay.n_cols)
    kind = design.objective
    G = len(groups)
    P = lay.P0[0] + np.arange(T)
    if kind in ("revenue", "welfare"):
        c[: M * K] -= (pm[:, None] * cost[None, :]).reshape(-1)
    if kind == "revenue":
        c[P] = n * f
    if kind in ("welfare", "utility"):
        for g, ks in enumerate(groups):
            c[lay.X0[0] + np.arange(T) * G + g] += n * f * V[:, ks[0]]
    if kind == "utility":
        c[P] = -n * f
    return c, (Fraction(0) if exact else 0.0)
