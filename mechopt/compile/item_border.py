"""Several bidders, several items, additive values, BIC: per-item reduced forms with Border's inequalities.

Notation.  Agents ``i = 0..n−1`` with type vectors ``θ_i = t ∈ Θ_i`` (``T_i`` of
them, independent priors ``f_i(t) > 0``), items ``j = 0..m−1``, and additive
values: agent i values an assignment at ``Σ_{j it gets} w_i(t, j)`` (``w_i``,
shape ``(T_i, m)``, read off the value table exactly).  An ex post mechanism
assigns each item to at most one agent.  The design sees the allocation only
through the *per-item interim* probabilities

    Q_i(t, j) = E_{θ_{-i}} [ P(item j goes to i | t, θ_{-i}) ],

because an agent's interim value of reporting s is ``Σ_j w_i(t, j) Q_i(s, j)``
(additivity) and payments are interim (``p_i(θ) = P_i(θ_i)``, see
:class:`~mechopt.compile.reductions.InterimPayments`).  So the LP has columns
``Q`` and ``P`` only: ``Σ_i T_i (m + 1)`` instead of ``(n + 1)^m Π T_i``.

**Why it is exact.**  (1) For each item j separately, ``(Q_i(·, j))_i`` is the
interim allocation of *some* ex post allocation of item j iff Border's
inequalities hold (Border 1991, 2007; Che, Kim & Mierendorff 2013): for every
profile of type sets ``A_i ⊆ Θ_i``,

    Σ_i Σ_{t∈A_i} f_i(t) Q_i(t, j) ≤ 1 − Π_i (1 − f_i(A_i)).

(2) Any family of per-item ex post allocations ``x_j(θ)`` combines into one
lottery over assignments with exactly these marginals — draw the items
independently: ``x(θ, a) = Π_j x_j(θ, a_j)`` — and additive values see only
the marginals.  So the optimum over ``(Q, P)`` equals the optimum of the full
ex post LP.  (3) Types are only labels here (vector types, any order): for
fixed ``A_{-i}`` the left side minus the right side is modular in ``A_i``,
``Σ_{t∈A_i} f_i(t) (Q_i(t, j) − β_i) + const`` with ``β_i = Π_{k≠i} (1 − f_k(A_k))``,
so a most violated set profile is made of *upper sets of Q*: each ``A_i`` a
prefix of agent i's types sorted by ``Q_i(·, j)`` decreasing.  The separation
(:func:`separate`) enumerates every combination of such prefixes (``Π (T_i + 1)``
per item, by broadcasting), so an empty answer proves every Border inequality.

**Identical agents** (same types, prior, outside options and item values;
``Design(symmetric=False)`` turns it off) share one ``(Q, P)``: the design is
invariant under permuting them, so averaging an optimum over those
permutations is an optimum with identical interim rules (as in
:mod:`mechopt.compile.symmetry`).  The Border rows keep one set per agent, so
nothing else changes.

Rows: ``border`` (Border's inequalities, generated: labels ``item`` and, per agent, the
size of its set, ``lp.labels("border")["<agent> set"]``),
``ic`` (BIC pairs of each class, generated: labels ``agent``, ``type``,
``report``), ``ir``, ``budget``.  Columns ``Q ∈ [0, 1]`` (the bound is the
Border inequality of one type alone), ``P`` free.

**Recovery** (:func:`mechopt.recover.item_allocation`): item by item, an ex
post allocation with interim rule ``Q(·, j)`` (tight Border sets, then small
transportation problems), combined independently across items.  Identical
agents whose profile table would not fit get an :class:`~mechopt.rules.ItemRule`
instead (:func:`mechopt.recover.item_rule`: one hierarchical tree per item,
Border 1991), verified on interim quantities (:mod:`mechopt.verify_rules`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from .layout import Layout, Rows

if TYPE_CHECKING:  # pragma: no cover
    from ..design import Design

__all__ = ["applies", "Structure", "structure", "ItemBorderLayout", "layout", "Cut", "build_rows",
           "objective_vector", "initial_cuts", "initial_pairs", "all_pairs", "one_class", "separate", "ic_gains",
           "MAX_TABLE"]

MAX_TABLE = 5_000_000  # profile-table entries (S·K) of the recovered mechanism
MAX_SEPARATION = 30_000_000  # prefix profiles enumerated per item by the exact separation


def _assignments(env) -> list[tuple[int, ...]] | None:
    """Each outcome's assignment (agent index or −1 per item), read from the labels ``"b1|-"``."""
    names = {a.name: i for i, a in enumerate(env.agents)}
    out = []
    for lab in env.outcomes:
        parts = lab.split("|")
        try:
            out.append(tuple(-1 if p == "-" else names[p] for p in parts))
        except KeyError:
            return None
    return out


def _item_values(env, asg: list[tuple[int, ...]], m: int) -> list[np.ndarray] | None:
    """``w_i`` (T_i, m) exact, or None when some value is not the sum of item values."""
    pos = {a: k for k, a in enumerate(asg)}
    out = []
    for i, V in enumerate(env.values_exact):
        cols = []
        for j in range(m):
            single = tuple(i if jj == j else -1 for jj in range(m))
            if single not in pos:
                return None
            cols.append(V[:, pos[single]])
        w = np.stack(cols, axis=1)
        for k, a in enumerate(asg):
            mine = [j for j in range(m) if a[j] == i]
            want = w[:, mine].sum(axis=1) if mine else np.full(V.shape[0], Fraction(0), dtype=object)
            if any(x != y for x, y in zip(V[:, k], want)):
                return None
        out.append(w)
    return out


def applies(design: Design) -> tuple[bool, str]:
    """``(ok, reason)``: whether the per-item reduced form is exact for this design."""
    env = design.env
    checks = [
        (env.kind == "multi_item", "not a multi-item environment"),
        (env.n_agents >= 2, "one buyer (item symmetry or the plain LP)"),
        (env.meta.get("valuation", "additive") == "additive", "values are not additive across items"),
        (env.is_private, "interdependent values"),
        (env.is_independent, "the prior is correlated"),
        (design.ic in ("bic", "none"), f"ic={design.ic!r} (needs bic: DSIC reads ex post allocations)"),
        (design.ir in ("interim", "ex_ante", "none"), f"ir={design.ir!r}"),
        (design.budget in ("ex_ante", "none", "exact", "ex_post"), f"budget={design.budget!r}"),
        (design.allocation == "free", f"allocation={design.allocation!r}"),
        (not design.deterministic, "deterministic"),
        (all(c == 0 for c in env.cost_exact), "the designer has costs"),
    ]
    for ok, why in checks:
        if not ok:
            return False, why
    for a in env.agents:
        if any(f <= 0 for f in a.prior_exact):
            return False, f"agent {a.name!r} has types of zero probability"
    if env.n_profiles * env.n_outcomes > MAX_TABLE and not (one_class(design) and design.budget in ("ex_ante", "none")):
        return False, (f"the recovered mechanism's table would exceed {MAX_TABLE:,} entries (identical bidders "
                       "get an item rule instead, under an ex ante budget or none: its payments are interim)")
    if not size_ok(env):
        return False, f"more than {MAX_SEPARATION:,} prefix profiles per item to separate"
    if structure(env) is None:
        return False, "outcomes are not item assignments with additive values"
    return True, "applies"


def one_class(design: Design) -> bool:
    """Whether every agent is identical (one shared interim rule; ``symmetric`` not False)."""
    if getattr(design, "symmetric", None) is False:
        return False
    st = structure(design.env)
    return st is not None and len(st.reps) == 1


@dataclass
class Structure:
    """Item values, assignments and classes of identical agents.

    Attributes
    ----------
    m : int
        Items.
    assign : ndarray, shape (K, m)
        Agent receiving item j in outcome k (−1: nobody).
    w : list of ndarray
        Exact item values, agent i: ``(T_i, m)`` object arrays.
    cls : tuple of int
        Class (shared columns) of each agent.
    """

    m: int
    assign: np.ndarray
    w: list
    cls: tuple[int, ...] = ()
    reps: tuple[int, ...] = ()  # first agent of each class
    wf: list = field(default_factory=list)

    def with_classes(self, env, symmetric: bool) -> Structure:
        cls, reps = [], []
        for i, a in enumerate(env.agents):
            key = None
            if symmetric:
                for c, r in enumerate(reps):
                    b = env.agents[r]
                    if (a.n_types == b.n_types and (a.types_exact == b.types_exact).all()
                            and (a.prior_exact == b.prior_exact).all()
                            and (env.outside_exact[i] == env.outside_exact[r]).all()
                            and (self.w[i] == self.w[r]).all()):
                        key = c
                        break
            if key is None:
                key = len(reps)
                reps.append(i)
            cls.append(key)
        return Structure(self.m, self.assign, self.w, tuple(cls), tuple(reps), self.wf)


_STRUCT: dict[int, tuple[Any, Structure | None]] = {}


def structure(env, symmetric: bool = True) -> Structure | None:
    """The environment's :class:`Structure` (cached per environment), None if not additive assignments."""
    hit = _STRUCT.get(id(env))
    if hit is None or hit[0] is not env:
        base = None
        asg = _assignments(env)
        m = int(env.meta.get("items", 0))
        if asg is not None and m >= 1 and all(len(a) == m for a in asg) and len(set(asg)) == len(asg):
            w = _item_values(env, asg, m)
            if w is not None:
                base = Structure(m, np.array(asg, dtype=np.int64), w,
                                 wf=[np.asarray(x, dtype=float) for x in w])
        if len(_STRUCT) > 64:
            _STRUCT.clear()
        _STRUCT[id(env)] = hit = (env, base)
    base = hit[1]
    return None if base is None else base.with_classes(env, symmetric)


@dataclass(frozen=True)
class Cut:
    """One Border inequality of item ``j``: ``sets[i]`` are agent i's types (sorted indices)."""

    j: int
    sets: tuple

    def key(self) -> tuple:
        return (self.j, *(s.tobytes() for s in self.sets))


@dataclass
class ItemBorderLayout(Layout):
    """``Q_c(t, j)`` at ``Q0[c] + t·m + j`` and ``P_c(t)`` at ``PP0[c] + t`` per class c.

    ``X0[i]`` / ``P0[i]`` point to agent i's class (so ``pcol`` gives interim payments).
    """

    m: int = 1
    cls: tuple = ()
    Q0: dict = field(default_factory=dict)
    PP0: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        col = 0
        reps: dict[int, int] = {}
        for i, c in enumerate(self.cls):
            reps.setdefault(c, i)
        for c, i in reps.items():
            self.Q0[c] = col
            col += self.shape[i] * self.m
        for c, i in reps.items():
            self.PP0[c] = col
            col += self.shape[i]
        for i, c in enumerate(self.cls):
            self.X0[i] = self.Q0[c]
            self.P0[i] = self.PP0[c]
        self.n_cols = col

    @property
    def n_q(self) -> int:
        """Number of ``Q`` columns (the first ones)."""
        return min(self.PP0.values())

    def qcol(self, i: int, t: np.ndarray, j) -> np.ndarray:
        return self.Q0[self.cls[i]] + np.asarray(t) * self.m + j


def layout(design: Design, st: Structure) -> ItemBorderLayout:
    env = design.env
    K = env.n_outcomes
    groups = [[[k for k in range(K) if st.assign[k, j] == i] for j in range(st.m)] for i in range(env.n_agents)]
    return ItemBorderLayout(tuple(env.shape), K, True, (), groups, ex_post_x=False, m=st.m, cls=st.cls)


def _marg(env, i: int, exact: bool) -> np.ndarray:
    a = env.agents[i]
    return np.asarray(a.prior_exact, dtype=object) if exact else np.asarray(a.prior, dtype=float)


def build_rows(design: Design, lay: ItemBorderLayout, st: Structure, cuts, pairs: dict, exact: bool) -> list[Rows]:
    """Families ``border`` (the cuts), ``ic`` (``pairs[c] = (t, s)`` per class), ``ir``, ``budget``.

    Parameters
    ----------
    cuts : sequence of Cut
    pairs : dict
        Class → ``(t, s)`` arrays of (true type, report) pairs.
    exact : bool
        Fraction coefficients (the exact twin) instead of floats.
    """
    from .layout import Data

    env = design.env
    data = Data.of(design, exact=exact)
    n, m = env.n_agents, st.m
    one = Fraction(1) if exact else 1.0
    out = []
    fam = Rows("border", data)
    if cuts:
        items_ = np.array([c.j for c in cuts])
        stay = [one] * len(cuts) if exact else np.ones(len(cuts))
        local = np.arange(len(cuts))
        parts = []
        for i in range(n):
            f = _marg(env, i, exact)
            sizes = np.array([c.sets[i].size for c in cuts])
            types = np.concatenate([c.sets[i] for c in cuts]).astype(np.int64)
            rows_ = np.repeat(local, sizes)
            if exact:
                mass = [sum(f[c.sets[i]].tolist(), Fraction(0)) for c in cuts]
                stay = [a * (one - b) for a, b in zip(stay, mass)]
            else:
                stay = stay * (1.0 - np.bincount(rows_, weights=f[types], minlength=len(cuts)))
            parts.append((rows_, lay.qcol(i, types, np.repeat(items_, sizes)), -f[types]))
        rhs = np.array([v - one for v in stay], dtype=object) if exact else stay - 1.0
        sizes_all = np.array([[c.sets[i].size for i in range(n)] for c in cuts], dtype=np.int64)
        setsize = np.ravel_multi_index(sizes_all.T, tuple(T + 1 for T in env.shape))
        local = fam.new(len(cuts), rhs, equality=False, item=items_, setsize=setsize)
        for rows_, cols_, vals_ in parts:
            fam.terms(local[rows_], cols_, vals_)
    out.append(fam)
    W = st.w if exact else st.wf
    if design.ic != "none":
        fam = Rows("ic", data)
        for c, i in enumerate(st.reps):
            t, s = pairs[c]
            k = t.size
            local = fam.new(k, data.zeros(k), equality=False, agent=i, type=t, report=s)
            for j in range(m):
                fam.terms(local, lay.qcol(i, t, j), W[i][t, j])
                fam.terms(local, lay.qcol(i, s, j), -W[i][t, j])
            fam.terms(local, lay.P0[i] + t, -data.ones(k))
            fam.terms(local, lay.P0[i] + s, data.ones(k))
        out.append(fam)
    if design.ir != "none":
        fam = Rows("ir", data)
        for i in st.reps:
            T = env.shape[i]
            t = np.arange(T)
            U = data.U[i]
            if design.ir == "interim":
                local = fam.new(T, U, equality=False, agent=i, type=t)
                for j in range(m):
                    fam.terms(local, lay.qcol(i, t, j), W[i][:, j])
                fam.terms(local, lay.P0[i] + t, -data.ones(T))
            else:  # ex ante: one row per class (identical agents have identical rows)
                f = _marg(env, i, exact)
                local = fam.new(1, np.array([(f * U).sum()], dtype=object if exact else float), equality=False,
                                agent=i)
                for j in range(m):
                    fam.terms(np.full(T, local[0]), lay.qcol(i, t, j), f * W[i][:, j])
                fam.terms(np.full(T, local[0]), lay.P0[i] + t, -f)
        out.append(fam)
    if design.budget != "none":  # no designer cost: E[Σ_i P_i] ≥ 0 (= 0 for an exact budget)
        fam = Rows("budget", data)
        local = fam.new(1, data.zeros(1), equality=design.budget == "exact")
        for i in range(n):
            T = env.shape[i]
            fam.terms(np.full(T, local[0]), lay.P0[i] + np.arange(T), _marg(env, i, exact))
        out.append(fam)
    return out


def objective_vector(design: Design, lay: ItemBorderLayout, st: Structure, exact: bool):
    """``(c, offset)``: revenue ``Σ_i E[P_i]``, welfare ``Σ_i E[Σ_j w_i Q_i]``, utility, gains, feasibility."""
    env = design.env
    zero = Fraction(0) if exact else 0.0
    c = np.array([zero] * lay.n_cols, dtype=object) if exact else np.zeros(lay.n_cols)
    kind = design.objective
    W = st.w if exact else st.wf
    offset = zero
    if kind == "gains":
        from .objective import status_quo_value

        offset = -status_quo_value(design, exact)
    for i in range(env.n_agents):
        T = env.shape[i]
        t = np.arange(T)
        f = _marg(env, i, exact)
        if kind in ("revenue", "utility"):
            sign = 1 if kind == "revenue" else -1
            c[lay.P0[i] + t] += sign * f
        if kind in ("welfare", "utility", "gains"):
            for j in range(st.m):
                c[lay.qcol(i, t, j)] += f * W[i][:, j]
    return c, offset


# ---------------------------------------------------------------------------
# generation: initial rows and separation


def initial_pairs(env, st: Structure) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Each class's types with their nearest types (L1 over the item values, 2m + 4 of them), both ways."""
    from .generation import initial_pairs as nearest

    return {c: nearest(np.asarray(st.wf[i]), neighbours=2 * st.m + 4) for c, i in enumerate(st.reps)}


def all_pairs(T: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (true type, report) pair ``t ≠ s`` of T types, sorted."""
    t, s = np.divmod(np.arange(T * T), T)
    keep = t != s
    return t[keep], s[keep]


def initial_cuts(env, st: Structure) -> list[Cut]:
    """Per item: every agent's full type set together (``Σ_i E[Q_i] ≤ 1``) and each agent's
    upper sets in its value for the item (the others empty)."""
    out = []
    for j in range(st.m):
        out.append(Cut(j, tuple(np.arange(T) for T in env.shape)))
        for i in st.reps:
            v = st.wf[i][:, j]
            for level in np.unique(v)[1:]:
                sets = tuple(np.flatnonzero(v >= level) if k == i else np.empty(0, np.int64)
                             for k in range(env.n_agents))
                out.append(Cut(j, sets))
    return out


def interim_rules(lay: ItemBorderLayout, z: np.ndarray, env) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per agent: ``Q_i`` (T_i, m) and ``P_i`` (T_i,) from a solution vector."""
    Q, P = [], []
    for i in range(env.n_agents):
        T = env.shape[i]
        Q.append(np.asarray(z[lay.X0[i]: lay.X0[i] + T * lay.m], dtype=float).reshape(T, lay.m))
        P.append(np.asarray(z[lay.P0[i]: lay.P0[i] + T], dtype=float))
    return Q, P


def border_slack(q: list[np.ndarray], marg: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Violation ``D`` of every prefix profile of one item, shape ``(T_0 + 1, …)``, and each agent's order.

    Agent i's prefixes follow ``Q_i(·, j)`` decreasing; ``D > 0`` is a violated inequality.
    """
    D = np.zeros(())
    stay = np.ones(())
    orders = []
    for qi, f in zip(q, marg):
        o = np.argsort(-qi, kind="stable")
        orders.append(o)
        D = np.add.outer(D, np.concatenate([[0.0], np.cumsum(f[o] * qi[o])]))
        stay = np.multiply.outer(stay, 1.0 - np.concatenate([[0.0], np.cumsum(f[o])]))
    return D - 1.0 + stay, orders


def separate(Q: list[np.ndarray], marg: list[np.ndarray], st: Structure, tol: float,
             limit: int = 100) -> tuple[list[Cut], float]:
    """Violated Border inequalities of every item: ``(cuts, worst violation)``.

    Enumerates every prefix profile of every item (exact separation, see the module
    docstring); per item the ``limit`` most violated are returned, sets of identical
    agents equal first (Border 1991: for a common interim rule those suffice).
    """
    n = len(Q)
    out, worst = [], -np.inf
    for j in range(st.m):
        D, orders = border_slack([q[:, j] for q in Q], marg)
        worst = max(worst, float(D.max()))
        flat = np.flatnonzero(D.reshape(-1) > tol)
        if flat.size == 0:
            continue
        idx = np.unravel_index(flat, D.shape)
        same = np.ones(flat.size, dtype=bool)
        for a, b in itertools.combinations(range(n), 2):
            if st.cls[a] == st.cls[b]:
                same &= idx[a] == idx[b]
        if same.any():  # equal sets for identical agents first
            flat = flat[same]
        if flat.size > limit:
            flat = flat[np.argpartition(-D.reshape(-1)[flat], limit)[:limit]]
        idx = np.unravel_index(flat, D.shape)
        for r in range(flat.size):
            out.append(Cut(j, tuple(np.sort(orders[i][: idx[i][r]]) for i in range(n))))
    return out, worst


def ic_gains(st: Structure, Q: list[np.ndarray], P: list[np.ndarray], c: int) -> np.ndarray:
    """Interim gain ``[t, s]`` of class c's agent reporting s when its type is t, shape (T, T)."""
    i = st.reps[c]
    util = st.wf[i] @ Q[i].T - P[i][None, :]
    return util - np.diag(util)[:, None]


def size_ok(env) -> bool:
    """Whether the exact separation's enumeration fits (``Π (T_i + 1)`` per item)."""
    return math.prod(T + 1 for T in env.shape) <= MAX_SEPARATION
