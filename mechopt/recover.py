"""The recover stage: the mechanism ``(x, p)`` from an LP solution.

For the plain formulation the allocation and payments are columns of the
solution.  Under the Border reduced form (:mod:`mechopt.compile.border`) the LP
holds only interim win probabilities ``Q_i(t)``; an ex post allocation with
exactly that reduced form exists by Border's theorem (Border 1991, 2007) and is
found here by a transportation LP.  This is the inverse of the reduction, and
it lives outside ``compile/`` because it calls a solver.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .backends.highs import highs_lp

if TYPE_CHECKING:  # pragma: no cover
    from .compile import LinearProgram

__all__ = ["mechanism_arrays", "single_item_allocation", "item_allocation", "recover_allocation",
           "recover_allocation_levels", "interim_q", "balanced_payments",
           "symmetric_rule", "hierarchical_tree", "count_rule", "item_rule"]

LEVELS_ABOVE = 20_000  # profiles above which the Border recovery goes level by level


def mechanism_arrays(lp: LinearProgram, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Allocation ``(S, K)`` and ex post payments ``(S, n)`` from a solution vector ``z`` (N,)."""
    if lp.plan.item_symmetric:  # orbit representatives → every type (permuted lotteries)
        from .compile import items

        orb = lp.plan.item_orbits if lp.plan.item_orbits is not None else items.orbits(lp.design.env)
        return items.expand(orb, lp.allocation(z), lp.payments(z)[:, 0])
    if lp.plan.item_border:  # per-item reduced forms: item by item, combined independently
        x = item_allocation(lp, z)
        p = lp.payments(z)
        if lp.design.budget in ("exact", "ex_post"):
            p = balanced_payments(lp.design.env, x, p)
        return x, p
    x = lp.allocation(z)
    if x is None:
        levels = recover_allocation_levels(lp, z) if lp.layout.S > LEVELS_ABOVE else None
        x, lp.recover_seconds = levels if levels is not None else recover_allocation(lp, z)
    design = lp.design
    if lp.plan.payments == "envelope":  # DSIC single item: payments from the allocation
        from .compile.envelope import payments

        return x, payments(design.env, x)
    p = lp.payments(z)
    if lp.plan.payments == "interim" and design.budget in ("exact", "ex_post"):
        p = balanced_payments(design.env, x, p)
    return x, p


def balanced_payments(env, x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Ex post payments that balance the budget at every profile, with unchanged interim payments.

    Given payments ``p`` (S, n) (e.g. interim payments ``P̄_i(θ_i)`` broadcast to
    profiles) whose expected surplus ``E[Σ_i p_i − c(x)]`` is ``≥ 0``, let
    ``D = c(x) − Σ_i p_i − E[c(x) − Σ_i p_i]`` (mean zero) and, with independent
    types, add ``g_1 = D − E[D | θ_1]`` to agent 1's payment and
    ``g_2 = E[D | θ_1]`` to agent 2's.  Then ``E[g_1 | θ_1] = 0`` and
    ``E[g_2 | θ_2] = E[D] = 0`` (independence), so every agent's interim payment
    is unchanged (IC, IR and the objective with them), and
    ``Σ_i p_i − c(x) = −E[D_0] ≥ 0`` at every profile: exactly the expected
    surplus (d'Aspremont & Gérard-Varet 1979; Börgers 2015, ch. 3).

    Parameters
    ----------
    env : Environment
        Independent prior, at least two agents.
    x : ndarray, shape (S, K)
    p : ndarray, shape (S, n)

    Returns
    -------
    ndarray, shape (S, n)
    """
    prior = env.joint_prior.reshape(-1)
    gap = x @ env.cost - p.sum(axis=1)
    D = gap - prior @ gap
    f1 = np.asarray(env.agents[0].prior, dtype=float)
    Dv = D.reshape(env.shape[0], -1)  # (T_1, rest), C order
    w = prior.reshape(env.shape[0], -1)
    cond = np.where(f1 > 0, (w * Dv).sum(axis=1) / np.where(f1 > 0, f1, 1.0), 0.0)  # E[D | θ_1]
    g2 = np.repeat(cond, Dv.shape[1])
    out = p.copy()
    out[:, 0] += D - g2
    out[:, 1] += g2
    return out


def single_item_allocation(Q: list[np.ndarray], f: list[np.ndarray]) -> np.ndarray:
    """An ex post allocation of one item with interim win probabilities ``Q_i`` (T_i,), any type order.

    Each agent's types are sorted by ``Q_i`` (so its upper sets are the sets of
    highest ``Q_i``: Border's inequalities on them are all of them, see
    :mod:`mechopt.compile.item_border`), the allocation is built level by level through
    tight Border sets (:func:`recover_allocation_levels`), or by the transportation LP
    (:func:`recover_allocation`) when a level is too large, and the table is put back
    in the original type order.

    Returns
    -------
    ndarray, shape (Π T_i, n + 1)
        Column 0: unassigned; column i + 1: agent i gets the item.
    """
    Q = [np.clip(np.asarray(q, dtype=float), 0.0, 1.0) for q in Q]
    order = [np.argsort(q, kind="stable") for q in Q]
    shape = tuple(q.size for q in Q)
    Qs = [q[o] for q, o in zip(Q, order)]
    fs = [np.asarray(fi, dtype=float)[o] for fi, o in zip(f, order)]
    x = _levels(Qs, fs, shape, tol=1e-8 * min(1.0, min(float(f_.min()) for f_ in fs)))
    if x is None or _interim_gap(x, Qs, fs) > 1e-9:
        # the level construction reads tight sets up to a tolerance; where that misplaces mass
        # (types of tiny probability), the transportation LP gives the nearest exact match
        x = _transport(Qs, fs, shape)
    # x is indexed by sorted positions; position r of agent i holds its type order[i][r]
    table = x.reshape(shape + (len(shape) + 1,))
    inv = [np.argsort(o) for o in order]
    return table[np.ix_(*inv)].reshape(-1, len(shape) + 1)


def _interim_gap(x: np.ndarray, Q: list[np.ndarray], f: list[np.ndarray]) -> float:
    """Largest |interim win probability of ``x`` (S, n + 1) − Q_i(t)| over agents and types."""
    shape = tuple(q.size for q in Q)
    n = len(shape)
    y = x.reshape(shape + (n + 1,))
    gap = 0.0
    for i in range(n):
        w = y[..., i + 1]
        for k in range(n - 1, -1, -1):  # average out the others' types, last axis first
            if k != i:
                w = np.tensordot(w, f[k], axes=([k], [0])) if k < w.ndim else w
        gap = max(gap, float(np.abs(w - Q[i]).max(initial=0.0)))
    return gap


def item_allocation(lp: LinearProgram, z: np.ndarray) -> np.ndarray:
    """The ex post lottery ``x`` (S, K) of a per-item reduced form (:mod:`mechopt.compile.item_border`).

    Item j is given by :func:`single_item_allocation` of ``Q_i(·, j)``; items are drawn
    independently, so outcome k (an assignment ``a``) has probability ``Π_j x_j(θ, a_j)``
    and item j's marginal is ``x_j``: every agent's interim value is the LP's.
    """
    from .compile.item_border import interim_rules

    start = time.perf_counter()
    env = lp.design.env
    st = lp.plan.item_structure
    Q, _ = interim_rules(lp.layout, z, env)
    f = [np.asarray(a.prior, dtype=float) for a in env.agents]
    per_item = [single_item_allocation([q[:, j] for q in Q], f) for j in range(st.m)]
    x = np.ones((env.n_profiles, env.n_outcomes))
    for j in range(st.m):
        x *= per_item[j][:, st.assign[:, j] + 1]
    lp.recover_seconds = time.perf_counter() - start
    return x


def item_rule(lp: LinearProgram, z: np.ndarray):
    """An :class:`~mechopt.rules.ItemRule` for a per-item reduced form whose agents are identical
    (one class): per item, the hierarchical tree (:func:`hierarchical_tree`) of the common interim
    rule ``Q(·, j)`` on the types sorted by it; no profile table."""
    from .compile.item_border import interim_rules
    from .rules import HierarchicalRule, ItemRule

    env = lp.design.env
    st = lp.plan.item_structure
    Q, P = interim_rules(lp.layout, z, env)
    f = np.asarray(env.agents[0].prior, dtype=float)
    items, orders = [], []
    for j in range(st.m):
        q = np.clip(Q[0][:, j], 0.0, 1.0)
        order = np.argsort(q, kind="stable")
        tree = hierarchical_tree(q[order], f[order], env.n_agents)
        items.append(HierarchicalRule(env.n_agents, f[order], tree, P[0][order], q_target=q[order]))
        orders.append(order)
    return ItemRule(env.n_agents, f, items, orders, np.asarray(st.assign), P[0])


def interim_q(lp: LinearProgram, z: np.ndarray) -> list[np.ndarray]:
    """The interim win probabilities ``Q_i`` (T_i,) of a Border solution vector."""
    from .compile.border import q_columns

    lay = lp.layout
    return [z[q_columns(lay, i, np.arange(lay.shape[i]))] for i in range(lay.n)]


def recover_allocation(lp: LinearProgram, z: np.ndarray) -> tuple[np.ndarray, float]:
    """An ex post allocation ``x`` (S, K) whose interim win probabilities are the LP's Q.

    Solves the transportation LP ``y(s, i) ≥ 0``, ``Σ_i y(s, i) ≤ 1``,
    ``Σ_{θ_{-i}} π_{-i}(θ_{-i}) y((t, θ_{-i}), i) = Q_i(t)`` with HiGHS; the
    equalities carry slacks whose sum is minimized, so a Q that meets Border's
    inequalities only up to solver tolerance still yields the nearest
    allocation (the verifier judges the result; a rejected one makes the
    pipeline fall back to the ex post LP).  ``x(s, 0) = 1 − Σ_i y(s, i)``.

    Returns
    -------
    x : ndarray, shape (S, K)
    seconds : float
        Time spent (building and solving the LP).
    """
    start = time.perf_counter()
    lay = lp.layout
    env = lp.design.env
    Q = [np.clip(q, 0.0, 1.0) for q in interim_q(lp, z)]
    f = [np.asarray(a.prior, dtype=float) for a in env.agents]
    x = _transport(Q, f, tuple(lay.shape))
    return x, time.perf_counter() - start


def _transport(Q: list[np.ndarray], f: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """The transportation LP of :func:`recover_allocation` for interim rules ``Q_i`` (T_i,) and
    independent priors ``f_i``: ``x`` (S, n + 1), outcome 0 = unassigned."""
    S, n = math.prod(shape), len(shape)
    prof = np.arange(S)
    own = np.unravel_index(prof, shape)
    joint = np.ones(())
    for fi in f:
        joint = np.multiply.outer(joint, fi)
    joint = joint.reshape(-1)
    offs = np.concatenate([[0], np.cumsum(shape)])
    r_parts, c_parts, v_parts = [], [], []
    for i in range(n):
        r_parts += [prof, S + offs[i] + own[i]]
        c_parts += [prof * n + i, prof * n + i]
        v_parts += [np.ones(S), joint / f[i][own[i]]]
    # y = 0 with slacks = Q is a feasible start: primal simplex only improves it
    # (measured at T = 201 per bidder: 0.4 s, against 3.8 s for dual simplex)
    y = _solve_transport(r_parts, c_parts, v_parts, S, n, np.concatenate(Q), np.full(S * n, np.inf), strategy=4)
    x = np.empty((S, n + 1))
    x[:, 1:] = y
    x[:, 0] = np.clip(1.0 - y.sum(axis=1), 0.0, 1.0)
    return x


# ---------------------------------------------------------------------------
# Identical bidders: an ex post rule for the symmetric interim rule, no table


def symmetric_rule(lp: LinearProgram, z: np.ndarray):
    """The ex post rule of a symmetric reduced-form solution (:mod:`mechopt.compile.symmetry`).

    Returns a :class:`~mechopt.rules.HierarchicalRule` whose interim win
    probability is the LP's ``Q`` and whose payments are the LP's ``P``; see
    :func:`hierarchical_tree` for the construction and its proof.
    """
    from .rules import HierarchicalRule

    lay = lp.layout
    T, n = lay.shape[0], lay.n
    Q = np.asarray(z[lay.X0[0]: lay.X0[0] + T], dtype=float)
    P = np.asarray(z[lay.P0[0]: lay.P0[0] + T], dtype=float)
    f = np.asarray(lp.design.env.agents[0].prior, dtype=float)
    return HierarchicalRule(n, f, hierarchical_tree(Q, f, n), P, q_target=Q)


def hierarchical_tree(Q: np.ndarray, f: np.ndarray, n: int, tol: float = 1e-10):
    """A tree of pooling, splitting, mixing and withholding that implements ``Q``.

    Parameters
    ----------
    Q : ndarray, shape (T,)
        A symmetric interim rule: nondecreasing, ``Q ≥ 0``, and Border's
        inequalities ``n Σ_{t≥a} f(t) Q(t) ≤ 1 − F(a−1)^n`` (up to ``tol``).
    f : ndarray, shape (T,)
        The type distribution (positive masses).
    n : int
        Number of bidders.

    Returns
    -------
    Node
        The root of a :class:`~mechopt.rules.HierarchicalRule` tree.

    Notes
    -----
    Write ``F_a = P(θ < a)`` and, for an interval ``[l, u)`` of types,
    ``cap(a, u) = (F_u^n − F_a^n) / n``: the probability, per bidder, that the
    highest type of the profile lies in ``[a, u)``.  Call ``q`` *feasible on*
    ``[l, u)`` when it is nondecreasing, ``≥ 0`` and
    ``U(a) = Σ_{a≤t<u} f(t) q(t) ≤ cap(a, u)`` for ``l ≤ a < u`` (Border's
    inequalities, Border 1991, for a rule run only when the highest type lies
    in ``[l, u)``; for ``[0, T)`` these are the LP's rows).  The construction
    keeps the invariant *the node built for (q, [l, u)) is run exactly when
    the highest type lies in [l, u), and gives every type t in [l, u) the
    unconditional win probability q(t)*:

    * ``U(a) = cap(a, u)`` at some ``l < a < u`` (a tight upper set): **split**
      at every tight a.  A child ``[a, b)`` runs exactly when the highest type
      lies in it, and ``q`` restricted to it is feasible on it because
      ``U(a') − U(b) ≤ cap(a', u) − cap(b, u) = cap(a', b)``.
    * ``U(l) < cap(l, u)`` and no tight interior set: **scale**: with
      ``μ = max_a U(a) / cap(a, u) ≤ 1``, run the node of ``q/μ`` (feasible,
      with a tight set) with probability μ and keep the item otherwise; the win
      probabilities are ``μ · q/μ = q``.  ``μ = 0`` is **none**.
    * ``U(l) = cap(l, u)`` and no tight interior set: if ``q`` is constant, it
      equals ``c = cap(l, u) / (F_u − F_l)`` and **pool** (uniform among the
      bidders in ``[l, u)``, always selling) gives every type ``c``: by
      symmetry all types in the interval get the same probability and the
      bidders' total is the probability that the highest type is in it.
      Otherwise **mix**: ``q = λ R + (1 − λ) c`` with
      ``λ = max_{l<a<u} (U(a) − c (F_u − F_a)) / (cap(a, u) − c (F_u − F_a))``
      in ``(0, 1]`` (``q`` nondecreasing makes the numerators ``≥ 0``; the
      denominators are positive because highest-wins beats pooling on every
      proper upper set when n ≥ 2).  ``R = (q − (1 − λ) c) / λ`` is
      nondecreasing, has ``U_R(l) = cap(l, u)`` and ``U_R ≤ cap`` with
      equality at the maximizing a, so R's node splits.

    Win probabilities are linear in the rule, so each case preserves the
    invariant; every mix or scale is followed by a split, so the recursion
    ends.  At the root ``[0, T)`` the node runs always: the rule's interim win
    probability is Q (up to ``tol``, the solver's feasibility tolerance).
    """
    from .rules import Node

    Q = np.maximum(np.asarray(Q, dtype=float), 0.0)
    f = np.asarray(f, dtype=float)
    T = Q.shape[0]
    Fc = np.concatenate([[0.0], np.cumsum(f)])
    Fc[-1] = 1.0
    Fn = Fc ** n
    scale_tol = tol * max(1.0, float(Q.max(initial=0.0)))
    import sys

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 8 * T + 100))

    def build(q: np.ndarray, lo: int, hi: int) -> Node:
        mass = Fc[hi] - Fc[lo]
        if q.max() <= scale_tol:
            return Node("none", lo, hi)
        U = np.cumsum((f[lo:hi] * q)[::-1])[::-1]  # U[a − lo] = Σ_{a≤t<hi} f q
        cap = (Fn[hi] - Fn[lo:hi]) / n
        slack = cap - U
        tight = np.flatnonzero(slack[1:] <= tol * np.maximum(cap[1:], 1e-300) + 1e-15) + 1
        if tight.size:
            cuts = np.concatenate([[0], tight, [hi - lo]])
            kids = tuple(build(q[a:b], lo + a, lo + b) for a, b in zip(cuts[:-1], cuts[1:]))
            return Node("split", lo, hi, children=kids)
        if slack[0] > tol * cap[0] + 1e-15:
            mu = float(np.clip((U / cap).max(), 0.0, 1.0))
            if mu <= 0.0:
                return Node("none", lo, hi)
            child = _force_tight(build, q / mu, lo, hi, U / mu, cap, tol)
            return Node("scale", lo, hi, prob=mu, children=(child,))
        c = cap[0] / mass
        if hi - lo == 1 or np.abs(q - c).max() <= tol * max(1.0, c) * 10:
            return Node("pool", lo, hi)
        outer = Fc[hi] - Fc[lo + 1: hi]  # mass of [a, hi) for a = lo+1 .. hi−1
        num = U[1:] - c * outer
        den = cap[1:] - c * outer
        ratio = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
        lam = float(np.clip(ratio.max(), 0.0, 1.0))
        if lam <= tol:
            return Node("pool", lo, hi)
        R = (q - (1.0 - lam) * c) / lam
        a_star = int(np.argmax(ratio)) + 1
        child = _split_at(build, R, lo, hi, a_star)
        return Node("mix", lo, hi, prob=lam, children=(child,))

    return build(Q, 0, T)


def _force_tight(build, q: np.ndarray, lo: int, hi: int, U: np.ndarray, cap: np.ndarray, tol: float):
    """Build the node of a scaled rule, splitting at its (now) tight upper set."""
    ratio = U / cap
    a = int(np.argmax(ratio))
    if a == 0:
        return build(q, lo, hi)
    return _split_at(build, q, lo, hi, a)


def _split_at(build, q: np.ndarray, lo: int, hi: int, a: int):
    """Split ``[lo, hi)`` at ``lo + a`` where the upper set is tight (up to rounding), then build both parts."""
    from .rules import Node

    return Node("split", lo, hi, children=(build(q[:a], lo, lo + a), build(q[a:], lo + a, hi)))


# ---------------------------------------------------------------------------
# Asymmetric bidders: recovery level by level (tight Border sets), small LPs only

LEVEL_LP_LIMIT = 2_000_000  # sub-profiles of one level's transportation LP


def recover_allocation_levels(lp: LinearProgram, z: np.ndarray, tol: float = 1e-8) -> tuple[np.ndarray, float] | None:
    """An ex post allocation ``x`` (S, K) with the LP's interim rule Q, through tight Border sets.

    A Border inequality that binds at Q, on the upper-set profile ``A`` (a *tight
    set*), forces the allocation: whenever some bidder's (bidder, type) pair lies
    in A, the item goes to a bidder whose pair lies in A (the bidders' total
    interim probability on A already equals ``P(some pair in A)``; Border 1991,
    Che, Kim & Mierendorff 2013).  Take a maximal chain ``A_1 ⊂ A_2 ⊂ …`` of
    tight sets and give each pair the *level* of the first set holding it
    (pairs in none: one last level; pairs with ``Q = 0``: never served).  At a
    profile, only the pairs of the lowest level present can win; so the ex post
    allocation splits into independent transportation problems, one per level,
    over the states "type t of the level" or "below the level" of each bidder —
    a level with one bidder is solved in closed form, others by a small LP
    (HiGHS).  The independent verifier checks the result like any other.

    Returns None when a level's LP would exceed :data:`LEVEL_LP_LIMIT` sub-profiles
    (the caller then uses :func:`recover_allocation`).
    """
    start = time.perf_counter()
    lay = lp.layout
    env = lp.design.env
    Q = [np.clip(q, 0.0, 1.0) for q in interim_q(lp, z)]
    f = [np.asarray(a.prior, dtype=float) for a in env.agents]
    x = _levels(Q, f, tuple(lay.shape), tol)
    return None if x is None else (x, time.perf_counter() - start)


def _levels(Q: list[np.ndarray], f: list[np.ndarray], shape: tuple[int, ...], tol: float = 1e-8) -> np.ndarray | None:
    """The level-by-level construction of :func:`recover_allocation_levels` for interim rules ``Q_i``
    nondecreasing in the type index: ``x`` (S, n + 1), or None when a level is too large."""
    from .compile.border import border_slack

    n = len(shape)
    D = border_slack(Q, f).reshape(-1)
    D[-1] = -np.inf
    ext = tuple(T + 1 for T in shape)
    tight = np.stack(np.unravel_index(np.flatnonzero(D >= -tol), ext), axis=1)
    order = np.argsort((np.array(shape) - tight).sum(axis=1), kind="stable")
    chain, cur = [], np.array(shape)
    for a in tight[order]:  # smallest tight superset of the current set, repeatedly
        if np.all(a <= cur) and np.any(a < cur):
            chain.append(a)
            cur = a
    m = len(chain)
    INF = m + 1
    level = []
    for i in range(n):
        lv = np.full(shape[i], m)
        for k in range(m - 1, -1, -1):
            lv[np.arange(shape[i]) >= chain[k][i]] = k
        lv[(lv == m) & (Q[i] <= tol)] = INF
        level.append(lv)
    solutions = {}
    for k in sorted(set(np.concatenate(level).tolist()) - {INF}):
        members = [np.flatnonzero(level[i] == k) for i in range(n)]
        below = np.array([f[i][level[i] > k].sum() for i in range(n)])
        sub = tuple(mem.size + 1 for mem in members)
        if math.prod(sub) > LEVEL_LP_LIMIT:
            return None
        solutions[k] = (members, _level_lp(members, below, f, Q, sub))
    # tabulate: each profile is served at the lowest level present
    S = math.prod(shape)
    prof = np.unravel_index(np.arange(S), shape)
    lv = np.stack([level[i][prof[i]] for i in range(n)], axis=1)
    low = lv.min(axis=1)
    x = np.zeros((S, n + 1))
    for k, (members, y) in solutions.items():
        rows = np.flatnonzero(low == k)
        if rows.size == 0:
            continue
        states = []
        for i in range(n):
            pos = np.zeros(shape[i], dtype=np.int64)
            pos[members[i]] = np.arange(1, members[i].size + 1)
            states.append(np.where(lv[rows, i] == k, pos[prof[i][rows]], 0))
        sigma = np.ravel_multi_index(states, tuple(mem.size + 1 for mem in members))
        x[rows, 1:] = y[sigma]
    x[:, 0] = np.clip(1.0 - x[:, 1:].sum(axis=1), 0.0, 1.0)
    return x


def _level_lp(members, below, f, Q, sub) -> np.ndarray:
    """Allocation ``y`` (Π sub, n) of one level: bidder i wins at sub-profile σ with probability y[σ, i]."""
    n = len(members)
    M = math.prod(sub)
    active = [i for i in range(n) if members[i].size]
    if len(active) == 1:  # one bidder: served whenever present, scaled to its interim targets
        i = active[0]
        reach = float(np.prod([below[j] for j in range(n) if j != i]))
        y = np.zeros((M, n))
        states = np.unravel_index(np.arange(M), sub)
        s = states[i]
        target = np.concatenate([[0.0], Q[i][members[i]]])
        y[:, i] = np.clip(target[s] / reach if reach > 0 else 0.0, 0.0, 1.0) * (s > 0)
        return y
    states = np.unravel_index(np.arange(M), sub)
    w = [np.concatenate([[below[j]], f[j][members[j]]]) for j in range(n)]
    sig = np.arange(M)
    offs = np.concatenate([[0], np.cumsum([mem.size for mem in members])])
    r_parts, c_parts, v_parts = [], [], []
    ub = np.zeros(M * n)
    for i in range(n):
        s = states[i]
        ok = s > 0
        ub[sig[ok] * n + i] = 1.0
        others = np.ones(M)
        for j in range(n):
            if j != i:
                others *= w[j][states[j]]
        r_parts += [sig[ok], M + offs[i] + s[ok] - 1]
        c_parts += [sig[ok] * n + i, sig[ok] * n + i]
        v_parts += [np.ones(ok.sum()), others[ok]]
    return _solve_transport(r_parts, c_parts, v_parts, M, n, np.concatenate([Q[i][members[i]] for i in range(n)]), ub)


def _solve_transport(r_parts: list, c_parts: list, v_parts: list, M: int, n: int, target: np.ndarray,
                     ub: np.ndarray, strategy: int | None = None) -> np.ndarray:
    """Allocation ``y`` (M, n) of a transportation LP with slacks, solved by HiGHS.

    Rows ``0..M−1``: ``Σ_i y(σ, i) ≤ 1`` per (sub-)profile σ; rows ``M + r``: the interim targets,
    ``(coefficients given) + u⁺_r − u⁻_r = target_r``; minimize ``Σ (u⁺ + u⁻)`` so a target met by
    Border's inequalities only up to rounding still gets the nearest allocation.  The caller gives
    the coefficients of the ``y(σ, i)`` columns (``σ·n + i``) as COO parts and their upper bounds ``ub``.
    """
    import highspy

    m_def = target.size
    N = M * n + 2 * m_def
    d = np.arange(m_def)
    r_parts = [*r_parts, M + d, M + d]
    c_parts = [*c_parts, M * n + d, M * n + m_def + d]
    v_parts = [*v_parts, np.ones(m_def), -np.ones(m_def)]
    A = sp.csc_matrix((np.concatenate(v_parts), (np.concatenate(r_parts), np.concatenate(c_parts))),
                      shape=(M + m_def, N))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if strategy is not None:
        h.setOptionValue("simplex_strategy", strategy)
    h.passModel(highs_lp(A, np.concatenate([np.zeros(M * n), np.ones(2 * m_def)]), np.zeros(N),
                         np.concatenate([ub, np.full(2 * m_def, np.inf)]),
                         np.concatenate([np.full(M, -np.inf), target]), np.concatenate([np.ones(M), target])))
    h.run()
    y = np.clip(np.asarray(h.getSolution().col_value, dtype=float)[: M * n].reshape(M, n), 0.0, 1.0)
    total = y.sum(axis=1)
    y[total > 1] /= total[total > 1, None]
    return y


def count_rule(lp: LinearProgram, z: np.ndarray):
    """The anonymous rule of a type-count solution (:mod:`mechopt.compile.counts`)."""
    from .rules import CountRule

    lay = lp.layout
    T = lay.shape[0]
    cnt = getattr(lp, "count_vectors", None)
    if cnt is None:
        from .compile.counts import count_vectors

        cnt = count_vectors(lay.n, T)
    x = np.clip(np.asarray(z[: lay.M * lay.K], dtype=float).reshape(lay.M, lay.K), 0.0, 1.0)
    x /= x.sum(axis=1, keepdims=True)
    P = np.asarray(z[lay.P0[0]: lay.P0[0] + T], dtype=float)
    return CountRule(lay.n, np.asarray(lp.design.env.agents[0].prior, dtype=float), cnt, x, P)
