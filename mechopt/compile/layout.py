"""Column layout, numeric data and row accumulation shared by the family builders.

Columns (all in one vector ``z``):

* ``x[s, k]`` at ``x0 + s·K + k`` — probability of outcome k at profile s, ``≥ 0``;
* ex post payments ``p[s, i]`` at ``p0 + s·n + i`` (free), when the design needs
  them; otherwise payments are *interim*: ``P̄_i[t]`` is the primitive variable
  and ``p_i(θ) = P̄_i(θ_i)`` (see :func:`payments_can_be_interim`);
* interim variables of agent i (when used): ``X̄_i[t, g]`` at ``X0_i + t·G_i + g``
  and ``P̄_i[t]`` at ``P0_i + t``, where ``g`` runs over agent i's *value groups*:
  the distinct nonzero columns of ``V_i`` (outcomes agent i values alike are
  merged, outcomes it values at 0 for every type are dropped);
* with the Border reduction (:mod:`mechopt.compile.border`, ``ex_post_x=False``)
  there are no ``x`` columns: ``X̄_i`` is primitive and the cumulative variables
  ``C_i[a] = Σ_{t ≥ a} f_i(t) X̄_i[t]`` sit at ``C0_i + a`` (a = 0..T_i − 1).

Every coefficient array is built from :class:`Data`, whose arrays are float64
or exact (object arrays of Fractions); the same code builds both LPs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..design import Design


@dataclass
class Data:
    """Numbers of the environment in one arithmetic (float64 or exact)."""

    exact: bool
    V: list[np.ndarray]  # (T_i, K)
    cost: np.ndarray  # (K,)
    U: list[np.ndarray]  # (T_i,)
    joint: np.ndarray  # (S,) prior over profiles, C order
    marg: list[np.ndarray]  # (T_i,)
    PV: list[np.ndarray] | None = None  # (S, K) profile values; only for interdependent values

    @classmethod
    def of(cls, design: Design, exact: bool) -> Data:
        env = design.env
        if exact:
            V = list(env.values_exact)
            joint = env.joint_prior_exact.reshape(-1)
            marg = [a.prior_exact for a in env.agents]
            PV = None if env.is_private else list(env.profile_values_exact)
            return cls(True, V, env.cost_exact, list(env.outside_exact), joint, marg, PV)
        return cls(False, list(env.values), env.cost, list(env.outside), env.joint_prior.reshape(-1),
                   [a.prior for a in env.agents], None if env.is_private else list(env.profile_values))

    def ones(self, m: int) -> np.ndarray:
        return np.array([Fraction(1)] * m, dtype=object) if self.exact else np.ones(m)

    def zeros(self, m: int) -> np.ndarray:
        return np.array([Fraction(0)] * m, dtype=object) if self.exact else np.zeros(m)

    def others_weight(self, i: int, shape: tuple[int, ...]) -> np.ndarray:
        """Independent prior: probability of each opponent profile r, shape (R,)."""
        w = np.ones((), dtype=object if self.exact else float)
        if self.exact:
            w = np.array(Fraction(1), dtype=object)
        for j, m in enumerate(self.marg):
            if j != i:
                w = np.multiply.outer(w, m)
        return np.asarray(w).reshape(-1)

    def beliefs(self, i: int, shape: tuple[int, ...]) -> np.ndarray:
        """Conditional beliefs π(θ_{-i} | θ_i = t), shape (T_i, R) (rows of zero mass are 0)."""
        joint = np.moveaxis(self.joint.reshape(shape), i, 0).reshape(shape[i], -1)
        marg = self.marg[i]
        out = np.empty_like(joint)
        for t in range(shape[i]):
            out[t] = joint[t] / marg[t] if marg[t] != 0 else joint[t] * 0
        return out


def value_groups(V_exact: np.ndarray) -> list[list[int]]:
    """Outcomes grouped by identical value columns; all-zero columns dropped.

    Parameters
    ----------
    V_exact : ndarray, shape (T, K)
        Exact value table of one agent.
    """
    groups: dict[tuple, list[int]] = {}
    for k in range(V_exact.shape[1]):
        col = tuple(V_exact[:, k])
        if all(v == 0 for v in col):
            continue
        groups.setdefault(col, []).append(k)
    return list(groups.values())


def _scaled_integers(values: np.ndarray) -> np.ndarray | None:
    """Exact rationals as int64 numerators over one common denominator (None if they would not fit)."""
    flat = values.ravel()
    den = math.lcm(*{int(getattr(v, "denominator", 1)) for v in flat})
    if den > 2**40:
        return None
    ints = [int(v.numerator) * (den // int(v.denominator)) if hasattr(v, "denominator") else int(v) * den
            for v in flat]
    if max(map(abs, ints), default=0) >= 2**30:
        return None
    return np.array(ints, dtype=np.int64).reshape(values.shape)


_AFFINE_CACHE: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, bool]] = {}


def affine_in_type(types_exact: np.ndarray, V_exact: np.ndarray) -> bool:
    """Cached :func:`_affine_in_type` (environments are immutable; the same arrays are asked about
    by the size check, the plan and every fallback)."""
    key = (id(types_exact), id(V_exact))
    hit = _AFFINE_CACHE.get(key)
    if hit is not None and hit[0] is types_exact and hit[1] is V_exact:
        return hit[2]
    out = _affine_in_type(types_exact, V_exact)
    if len(_AFFINE_CACHE) > 256:
        _AFFINE_CACHE.clear()
    _AFFINE_CACHE[key] = (types_exact, V_exact, out)  # keeps the arrays alive: ids stay unique
    return out


def _affine_in_type(types_exact: np.ndarray, V_exact: np.ndarray) -> bool:
    """True when every column of V (T, K) is an affine function of the scalar type (T,), checked exactly.

    Column k is affine iff ``(V[j, k] − V[0, k])(t[1] − t[0]) = (V[1, k] − V[0, k])(t[j] − t[0])`` for
    every j.  When the data are rationals whose common-denominator numerators fit in 30 bits (grids,
    decimals) the products are computed in exact int64 arithmetic, vectorized (a grid of 100,000
    types: milliseconds instead of seconds); otherwise in Fractions.
    """
    if types_exact.ndim != 1 or types_exact.shape[0] < 3:
        return types_exact.ndim == 1
    t = _scaled_integers(types_exact)
    V = _scaled_integers(np.asarray(V_exact, dtype=object))
    if t is not None and V is not None:
        dt, dV = t - t[0], V - V[0]  # |entries| < 2^31, so the products below stay < 2^62
        return bool(np.all(dV * dt[1] == np.outer(dt, dV[1])))
    dt = types_exact[1:] - types_exact[:-1]
    for k in range(V_exact.shape[1]):
        slopes = (V_exact[1:, k] - V_exact[:-1, k]) / dt
        if any(s != slopes[0] for s in slopes[1:]):
            return False
    return True


def payments_can_be_interim(design: Design) -> bool:
    """Whether ``p_i(θ) = P̄_i(θ_i)`` loses nothing.

    True with independent priors when no constraint and no objective looks at
    ex post payments except through the budget: IC is bic/none, IR is
    interim/ex_ante/none, and the budget is ex_ante/none, or exact/ex_post with
    at least two agents.  Every IC and IR row and the objective depend on
    payments only through E[p_i | θ_i]; an exact (or no-deficit) budget at every
    profile is then met by ex post payments with the same interim payments
    whenever it is met in expectation (d'Aspremont & Gérard-Varet 1979; see
    :func:`mechopt.recover.balanced_payments`).
    """
    env = design.env
    budget_ok = design.budget in ("ex_ante", "none") or (
        design.budget in ("exact", "ex_post") and env.n_agents >= 2
    )
    return (
        env.is_independent
        and design.ic in ("bic", "none")
        and design.ir in ("interim", "ex_ante", "none")
        and budget_ok
    )


@dataclass
class Layout:
    """Where every variable lives in ``z``."""

    shape: tuple[int, ...]
    K: int
    interim_payments: bool
    interim_agents: tuple[int, ...]
    groups: list[list[list[int]]]
    ex_post_x: bool = True
    x0: int = 0
    p0: int = -1
    X0: dict[int, int] = field(default_factory=dict)
    P0: dict[int, int] = field(default_factory=dict)
    C0: dict[int, int] = field(default_factory=dict)
    n_cols: int = 0

    @property
    def S(self) -> int:
        return int(np.prod(self.shape))

    @property
    def n(self) -> int:
        return len(self.shape)

    @property
    def n_x(self) -> int:
        """Number of ex post allocation columns (0 under the Border reduction)."""
        return self.S * self.K if self.ex_post_x else 0

    def __post_init__(self) -> None:
        col = self.n_x
        if not self.interim_payments:
            self.p0 = col
            col += self.S * self.n
        for i in range(self.n):
            if i in self.interim_agents:
                self.X0[i] = col
                col += self.shape[i] * len(self.groups[i])
            if i in self.interim_agents or self.interim_payments:
                self.P0[i] = col
                col += self.shape[i]
        if not self.ex_post_x:
            for i in range(self.n):
                self.C0[i] = col
                col += self.shape[i]
        self.n_cols = col

    def agent_view(self, i: int) -> np.ndarray:
        """Flat profile index arranged as (T_i, R): entry [t, r] is the profile with θ_i = t."""
        return np.moveaxis(np.arange(self.S).reshape(self.shape), i, 0).reshape(self.shape[i], -1)

    def own_type(self, i: int) -> np.ndarray:
        """Type index of agent i at every profile, shape (S,)."""
        return np.unravel_index(np.arange(self.S), self.shape)[i]

    # Expected linear functionals of the allocation, written on whatever columns hold it:
    # the ex post lotteries x, or (Border reduced form) the interim win probabilities
    # Q_i = X̄_i of a single item, where outcome i+1 is "agent i wins".
    def expected_cost_terms(self, data: Data) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Columns and coefficients of ``E[c(x)] = Σ_s π(s) Σ_k c_k x(s, k)``."""
        cols, vals = [], []
        if self.ex_post_x:
            prof = np.arange(self.S)
            for k in range(self.K):
                if data.cost[k] != 0:
                    cols.append(self.xcol(prof, k))
                    vals.append(data.cost[k] * data.joint)
            return cols, vals
        for i in range(self.n):
            if data.cost[i + 1] != 0:
                cols.append(self.X0[i] + np.arange(self.shape[i]))
                vals.append(data.cost[i + 1] * data.marg[i])
        return cols, vals

    def expected_value_terms(self, data: Data) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Columns and coefficients of ``E[Σ_i v_i(x, θ_i)]`` (``v_i(x, θ)`` with interdependent values)."""
        cols, vals = [], []
        if self.ex_post_x:
            prof = np.arange(self.S)
            for i in range(self.n):
                own = self.own_type(i)
                for k in range(self.K):
                    cols.append(self.xcol(prof, k))
                    v = data.V[i][own, k] if data.PV is None else data.PV[i][:, k]
                    vals.append(v * data.joint)
            return cols, vals
        for i in range(self.n):
            t = np.arange(self.shape[i])
            cols.append(self.X0[i] + t)
            vals.append(data.V[i][t, i + 1] * data.marg[i])
        return cols, vals

    def xcol(self, prof: np.ndarray, k: int | np.ndarray) -> np.ndarray:
        return self.x0 + prof * self.K + k

    def pcol(self, prof: np.ndarray, i: int) -> np.ndarray:
        """Column of agent i's payment at profiles ``prof`` (ex post or, if interim, P̄_i[θ_i])."""
        if self.interim_payments:
            return self.P0[i] + np.unravel_index(prof, self.shape)[i]
        return self.p0 + prof * self.n + i


class Rows:
    """Accumulates one family's rows as COO triplets plus rhs, sense and label arrays."""

    def __init__(self, name: str, data: Data) -> None:
        self.name = name
        self.data = data
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.rhs: list[np.ndarray] = []
        self.eq: list[np.ndarray] = []
        self.labels: dict[str, list[np.ndarray]] = {}
        self.chunk_keys: list[set[str]] = []
        self.count = 0

    def terms(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        """Add coefficients; ``rows`` are indices local to this family."""
        rows, cols = np.broadcast_arrays(np.asarray(rows), np.asarray(cols))
        if rows.size:
            self.r.append(rows.ravel())
            self.c.append(cols.ravel())
            self.v.append(np.broadcast_to(vals, rows.shape).ravel())

    def new(self, m: int, rhs: np.ndarray, equality: bool, **labels: np.ndarray) -> np.ndarray:
        """Open ``m`` rows with right-hand sides and labels; returns their local indices."""
        idx = np.arange(self.count, self.count + m)
        self.count += m
        self.rhs.append(np.broadcast_to(rhs, (m,)))
        self.eq.append(np.full(m, equality))
        self.chunk_keys.append(set(labels))
        for key, val in labels.items():
            self.labels.setdefault(key, []).append(np.broadcast_to(np.asarray(val), (m,)))
        return idx
