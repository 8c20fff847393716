"""Efficient mechanisms with Groves transfers: Groves, VCG (Clarke pivot), gVCG.

Sign convention: ``p[s, i]`` is paid *by* agent i, as in Krishna (2002, *Auction
Theory*); texts that write ``t_i`` for a transfer *to* agent i (e.g. Mas-Colell,
Whinston & Green 1995, ch. 23) have ``p_i = −t_i``.
The designer's cost ``c(k)`` counts as the value ``−c(k)`` of a passive agent
0, so "the others' welfare" in a Groves transfer includes it:

    p_i(θ) = h_i(θ_{-i}) − [Σ_{j≠i} v_j(k*(θ), θ_j) − c(k*(θ))].

These are exact in a discrete setting (no integrals): an agent's utility is
``W(k*(θ), θ) − h_i(θ_{-i})`` and truth maximizes welfare, so every Groves
mechanism is DSIC on any finite type space, whatever the tie rule among
welfare maximizers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SpecError
from ..mechanism import Mechanism
from ._base import (
    conditional_mean,
    efficient_allocation,
    from_own_view,
    others_welfare,
    own_type_index,
    own_values,
    own_view,
    require_independent,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..spec import Environment

__all__ = ["groves", "vcg", "gvcg"]

HFunction = Callable[[int, Any], Any]


def _others_types(env: Environment, i: int):
    """The opponents' types at each of agent i's ``R`` opponent profiles.

    Scalar types: float array of shape ``(R, n−1)`` (columns = the other agents
    in environment order, rows = their profiles in C order).  Vector types: a
    list of ``n − 1`` arrays of shape ``(R, d_j)``.
    """
    shape = env.shape
    rest = [j for j in range(env.n_agents) if j != i]
    if not rest:
        return np.zeros((1, 0))
    idx = np.unravel_index(np.arange(int(np.prod([shape[j] for j in rest]))), tuple(shape[j] for j in rest))
    cols = [np.asarray(env.agents[j].types, dtype=float)[k] for j, k in zip(rest, idx)]
    if all(env.agents[j].is_scalar for j in rest):
        return np.stack(cols, axis=1)
    return cols


def groves(env: Environment, h: HFunction | None = None, tie: str = "first", name: str = "groves") -> Mechanism:
    """A Groves mechanism: efficient allocation, ``p_i = h_i(θ_{-i}) − W_{-i}(k*(θ), θ)``.

    Parameters
    ----------
    env : Environment
    h : callable ``h(i, others) -> array``, optional
        Agent i's pivot term as a function of the opponents' types only.
        ``i`` is the agent's index; ``others`` holds the opponents' types at
        every opponent profile: a float array of shape ``(R, n−1)`` for scalar
        types (column j = the j-th *other* agent in environment order; rows =
        opponents' profiles in C order, ``R = S / T_i``), or a list of ``n − 1``
        arrays ``(R, d)`` for vector types.  Return shape ``(R,)`` (or a scalar,
        broadcast).  Default ``h = 0`` (pure Groves: each agent is paid the
        others' welfare).
    tie : {"first", "uniform"}
        Tie rule among welfare maximizers (see :func:`efficient_allocation`).
    name : str

    Returns
    -------
    Mechanism
        ``x`` (S, K) efficient, ``p`` (S, n).

    Examples
    --------
    A Groves (1973) mechanism: four bidders valuing one item 10, 8, 6, 4 and
    ``h_i`` = half of the others' values pay 9, 0, 1, 2:

    >>> import mechopt as mo
    >>> env = mo.single_item([mo.Agent(f"a{j}", [4, 6, 8, 10]) for j in range(4)])
    >>> m = mo.mechanisms.groves(env, lambda i, others: others.sum(axis=1) / 2)
    >>> m.payments.loc[(10.0, 8.0, 6.0, 4.0)].tolist()
    [9.0, 0.0, 1.0, 2.0]
    """
    x = efficient_allocation(env, tie)
    S, n = env.n_profiles, env.n_agents
    p = np.empty((S, n))
    for i in range(n):
        if h is None:
            hi = np.zeros(S)
        else:
            R = S // env.shape[i]
            val = np.asarray(h(i, _others_types(env, i)), dtype=float)
            try:
                val = np.broadcast_to(val.reshape(-1) if val.size == R else val, (R,))
            except ValueError as exc:
                raise SpecError(
                    f"groves: h({i}, others) must return {R} numbers (one per opponents' profile) or one number;"
                    f" got shape {val.shape}"
                ) from exc
            hi = from_own_view(env, i, np.broadcast_to(val[None, :], (env.shape[i], R)))
        p[:, i] = hi - others_welfare(env, x, i)
    return Mechanism(env, x, p, name)


def vcg(env: Environment, tie: str = "first", name: str = "VCG") -> Mechanism:
    """The VCG (Clarke pivot) mechanism: Vickrey 1961, Clarke 1971, Groves 1973.

    ``h_i(θ_{-i}) = max_k [Σ_{j≠i} v_j(k, θ_j) − c(k)]`` over the outcomes possible
    without agent i (``env.meta["requires"]``: in procurement, seller i cannot supply
    in its absence): each agent pays the externality it imposes on the others
    (designer included).  For one item with interdependent values it is the
    generalized VCG of Dasgupta & Maskin (2000)
    (:func:`mechopt.mechanisms.interdependent.generalized_vcg`).  DSIC, efficient,
    never runs a deficit when ``h_i`` is attained by the others' own optimum;
    not IR in general (the bilateral-trade seller pays ``θ_b`` to keep the good:
    ``p_b = θ_s 1{θ_s < θ_b}``, ``p_s = θ_b 1{θ_s ≥ θ_b}`` with ``tie="first"``).

    Parameters
    ----------
    env : Environment
    tie : {"first", "uniform"}
        Tie rule among welfare maximizers.
    name : str

    Returns
    -------
    Mechanism
    """
    if not env.is_private and env.n_outcomes == env.n_agents + 1:
        # one item with interdependent values: the Dasgupta–Maskin generalized VCG
        from .interdependent import generalized_vcg

        return generalized_vcg(env, name=name)
    x = efficient_allocation(env, tie)
    W = env.welfare_table
    p = np.empty((env.n_profiles, env.n_agents))
    requires = env.meta.get("requires", {})  # outcomes that cannot happen without agent i
    for i in range(env.n_agents):
        others = W - own_values(env, i)
        if requires.get(i):
            others = others.copy()
            others[:, requires[i]] = -np.inf  # the world without i: i cannot supply / win
        p[:, i] = others.max(axis=1) - others_welfare(env, x, i)
    return Mechanism(env, x, p, name)


def gvcg(env: Environment, tie: str | None = None, payments: str = "groves", name: str | None = None) -> Mechanism:
    """Generalized VCG (Krishna & Perry 1998, "Efficient mechanism design", working paper).

    Parameters
    ----------
    env : Environment
    tie : {"first", "uniform", "status_quo"}, optional
        Tie rule among welfare maximizers.  Default ``"status_quo"`` with
        ``payments="optimal"``, else ``"first"``.  ``"status_quo"`` splits a tie
        like the status-quo lottery q (the lottery whose value to every agent
        and type is its outside option, ``Σ_k q_k v_i(k, t) = U_i(t)``: shares
        in a partnership, no trade in bilateral trade) restricted to the tied
        outcomes, and uniformly when q puts no weight on them or does not exist.
        Ties matter for revenue on a grid: a partnership's ties split by shares
        keep every tied partner exactly at its outside option.
    payments : {"groves", "optimal", "interim"}
        ``"groves"`` (default): Krishna and Perry's formula, DSIC, efficient, interim IR,

            p_i(θ) = W(k*(θ̃_i, θ_{-i}); θ̃_i, θ_{-i}) − W_{-i}(k*(θ), θ) − U_i(θ̃_i),

        with ``W`` the total welfare (cost included), ``W_{-i}`` the others'
        part, and the **discrete least charitable type** ``θ̃_i`` = the grid
        point minimizing ``E[max_k W(k; θ_i, θ_{-i}) | θ_i] − U_i(θ_i)`` over
        agent i's types of positive mass (the smallest such index on ties).
        On a finite grid this is exactly the revenue-maximal **Groves**
        mechanism that is interim IR, but *not* the revenue-maximal efficient
        BIC mechanism: on a grid, payoff equivalence fails and information
        rents can be cut below the Groves rents (the gap closes as the grid
        refines).

        ``"optimal"``: the discrete Krishna–Perry mechanism with **threshold
        (envelope) payments**: same allocation; for every agent i and every
        opponents' profile θ_{-i}, the ex post utility ``u_i(·, θ_{-i})`` is the
        least vector over agent i's types satisfying every DSIC constraint
        ``u_i(t) ≥ u_i(s) + v_i(x(s, θ_{-i}), t) − v_i(x(s, θ_{-i}), s)`` and ex
        post IR ``u_i(t) ≥ U_i(t)`` (a longest path from the IR "source" over
        the T_i types, solved by Bellman–Ford for all θ_{-i} at once), and
        ``p_i = v_i(x, θ_i) − u_i``.  For one-dimensional types with values
        affine in the type this is the familiar threshold rule: an agent whose
        outcome changes at the grid point ``τ`` pays the value at ``τ`` of the
        change — the smallest grid type at which it still gets its outcome —
        on top of what its least charitable type (where IR binds) pays.
        DSIC, ex post IR, efficient; with the allocation fixed, the constraints
        separate by (i, θ_{-i}) and the least utilities solve each block, so
        the revenue equals the LP optimum of ``Design(env, ic="dsic",
        ir="ex_post", allocation="efficient", objective="revenue")`` whenever
        the efficient allocation is unique; on the grids tested it also equals
        the BIC, interim-IR optimum (Krishna and Perry 1998: in their setting
        the revenue-maximal efficient BIC mechanism can be taken DSIC).
        ``details["least_charitable_type"]`` lists, per agent, the types where
        IR binds at every opponents' profile.

        ``"interim"``: the BIC counterpart — interim utilities ``Ū_i`` least
        subject to interim IC and interim IR, payments ``P̄_i(θ_i)`` depending
        on the own report only (independent types): BIC and interim IR, same
        revenue as ``"optimal"`` on the grids tested.

    Returns
    -------
    Mechanism
        ``details`` holds the least charitable type of every agent.

    Notes
    -----
    The least-charitable-type argument needs the expectation over ``θ_{-i}``
    not to depend on ``θ_i``: with a correlated prior ``"groves"`` uses the
    conditional expectation ``E[· | θ_i]`` and interim IR is then not guaranteed;
    ``"optimal"`` requires independent types.
    """
    if payments not in ("groves", "optimal", "interim"):
        raise SpecError(f"gvcg: payments must be 'groves', 'optimal' or 'interim', got {payments!r}")
    if tie is None:
        tie = "status_quo" if payments == "optimal" else "first"
    x = _status_quo_ties(env) if tie == "status_quo" else efficient_allocation(env, tie)
    S, n = env.n_profiles, env.n_agents
    p = np.empty((S, n))
    lct: dict[str, Any] = {}
    if payments == "groves":
        wmax = (x * env.welfare_table).sum(axis=1)  # = max welfare at every profile
        for i, a in enumerate(env.agents):
            score = conditional_mean(env, i, wmax) - env.outside[i]
            score = np.where(a.prior > 0, score, np.inf)
            t = int(np.argmin(score))
            lct[a.name] = a.type_labels[t]
            at_lct = np.broadcast_to(own_view(env, i, wmax)[t][None, :], (env.shape[i], S // env.shape[i]))
            p[:, i] = from_own_view(env, i, at_lct) - others_welfare(env, x, i) - env.outside[i][t]
        label = "gVCG"
    elif payments == "optimal":
        for i, a in enumerate(env.agents):
            V = env.values[i]
            xv = own_view(env, i, x)  # (T, R, K)
            u = _least_ex_post_utility(V, xv, env.outside[i], a.prior > 0)  # (T, R)
            value = np.einsum("trk,tk->tr", xv, V)
            p[:, i] = from_own_view(env, i, value - u)
            scale = max(1.0, float(np.abs(V).max()))
            binding = np.flatnonzero((a.prior > 0) & (u - env.outside[i][:, None] <= 1e-9 * scale).all(axis=1))
            lct[a.name] = [a.type_labels[t] for t in binding]
        label = "gVCG (optimal)"
    else:
        require_independent(env, "gvcg(payments='interim')")
        for i, a in enumerate(env.agents):
            V = env.values[i]
            Xbar = np.stack([conditional_mean(env, i, x[:, k]) for k in range(env.n_outcomes)], axis=1)
            U = _least_interim_utility(V, Xbar, env.outside[i], a.prior > 0)
            Pbar = (V * Xbar).sum(axis=1) - U
            p[:, i] = Pbar[own_type_index(env, i)]
            scale = max(1.0, float(np.abs(V).max()))
            binding = np.flatnonzero((a.prior > 0) & (U - env.outside[i] <= 1e-9 * scale))
            lct[a.name] = [a.type_labels[t] for t in binding]
        label = "gVCG (interim)"
    m = Mechanism(env, x, p, name or label)
    m.details = {"least_charitable_type": lct, "payments": payments}
    return m


def _least_interim_utility(V: np.ndarray, Xbar: np.ndarray, outside: np.ndarray, has_mass: np.ndarray) -> np.ndarray:
    """Least ``Ū`` (shape ``(T,)``) with ``Ū(t) ≥ Ū(s) + G[s, t]`` and ``Ū(t) ≥ U(t)`` where ``has_mass``.

    ``G[s, t] = (V[t] − V[s])·X̄(s)`` is type t's gain from mimicking s.  The
    least solution is the longest path from the IR "source"; it exists because
    an efficient allocation has no positive IC cycle (it is Groves-implementable).
    """
    M = V @ Xbar.T  # M[t, s] = V[t]·X̄(s)
    G = M.T - np.diag(M)[:, None]  # G[s, t] = M[t, s] − M[s, s]
    U = np.where(has_mass, outside, -np.inf)
    T = V.shape[0]
    for _ in range(T + 1):
        new = np.maximum(U, (U[:, None] + G).max(axis=0))
        if np.array_equal(new, U):
            break
        U = new
    return U


def _least_ex_post_utility(V: np.ndarray, xv: np.ndarray, outside: np.ndarray, has_mass: np.ndarray) -> np.ndarray:
    """Least ex post utilities ``u`` (shape ``(T, R)``), one DSIC system per opponents' profile r.

    ``u[t, r] ≥ u[s, r] + G[s, t, r]`` with ``G[s, t, r] = (V[t] − V[s])·x(s, r)`` (type t's gain
    from reporting s), and ``u[t, r] ≥ U(t)`` for types of positive mass.  Types of zero mass
    get the least utility their constraints allow (no IR floor).  The longest-path iteration
    terminates because an efficient allocation has no positive IC cycle.

    Parameters
    ----------
    V : ndarray, shape (T, K)
    xv : ndarray, shape (T, R, K)
        Allocation with the own type first.
    outside : ndarray, shape (T,)
    has_mass : ndarray of bool, shape (T,)
    """
    T, R, _ = xv.shape
    M = np.einsum("tk,srk->str", V, xv)  # M[s, t, r] = V[t]·x(s, r)
    own = M[np.arange(T), np.arange(T)]  # (T, R): V[s]·x(s, r)
    G = M - own[:, None, :]
    floor = np.where(has_mass, outside, -np.inf)[:, None]
    u = np.broadcast_to(floor, (T, R)).copy()
    for _ in range(T + 1):
        new = np.maximum(u, (u[:, None, :] + G).max(axis=0))
        if np.array_equal(new, u):
            break
        u = new
    return u


def _status_quo_ties(env: Environment) -> np.ndarray:
    """Efficient allocation, ties split like the status-quo lottery (see :func:`gvcg`), shape (S, K)."""
    best = env.efficient_outcomes().astype(float)
    A = np.vstack(env.values)  # (Σ T_i, K): Σ_k q_k V_i[t, k] = U_i(t), and Σ_k q_k = 1
    A = np.vstack([A, np.ones(env.n_outcomes)])
    b = np.concatenate(list(env.outside) + [np.ones(1)])
    q, *_ = np.linalg.lstsq(A, b, rcond=None)
    if not (np.allclose(A @ q, b, atol=1e-9) and (q >= -1e-12).all()):
        return best / best.sum(axis=1, keepdims=True)
    w = best * np.clip(q, 0, None)[None, :]
    mass = w.sum(axis=1, keepdims=True)
    return np.where(mass > 1e-12, w / np.where(mass > 0, mass, 1), best / best.sum(axis=1, keepdims=True))
