"""Selling one item: Myerson's optimal auction, second price with reserve, posted prices.

Single-item environments (:func:`mechopt.single_item`): outcome 0 is
``"unsold"``, outcome ``i + 1`` gives the item to agent i, who values it θ_i;
the seller's value ``seller_value`` is the designer's cost of a sale.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SpecError
from ..exact import exact_array
from ..mechanism import Mechanism
from ._base import TIES, from_own_view, own_view, require_kind, scalar_types

if TYPE_CHECKING:  # pragma: no cover
    from ..spec import Agent, Environment

__all__ = ["myerson", "second_price", "posted_price", "virtual_values", "threshold_payments"]


def virtual_values(agent: Agent, ironed: bool = True) -> np.ndarray:
    """Myerson's discrete virtual values of one agent, exactly (object array of Fractions).

    Parameters
    ----------
    agent : Agent
        Scalar types ``v_0 < … < v_{T-1}`` with masses ``f_t``, ``F_t = Σ_{j≤t} f_j``.
    ironed : bool
        Return the ironed values (default) or the raw ones.

    Returns
    -------
    numpy.ndarray, shape (T,)

    Notes
    -----
    **Discrete convention** (forward difference, mass strictly above):

        φ_t = v_t − (v_{t+1} − v_t) (1 − F_t) / f_t,     φ_{T-1} = v_{T-1}.

    Derivation: with the lowest type's IR binding and downward adjacent IC
    binding (the cheapest payments that implement a monotone interim
    allocation X), ``P_t = v_t X_t − Σ_{s<t} (v_{s+1} − v_s) X_s``, hence
    ``Σ_t f_t P_t = Σ_t f_t φ_t X_t``: exactly the LP's revenue, with no
    O(1/n) discretization error.  **Ironing**: ``φ̄_t`` is the slope, on
    ``(F_{t-1}, F_t]``, of the lower convex hull of the points
    ``(F_t, Σ_{j≤t} f_j φ_j)`` (starting at ``(0, 0)``), so ``φ̄`` is
    nondecreasing and ``Σ_t f_t φ_t X_t = Σ_t f_t φ̄_t X_t`` for every X
    constant on the ironed intervals.  A type of zero mass gets the hull's
    right slope at ``F_{t-1}`` (its left slope at ``F = 1``).
    """
    if not agent.is_scalar:
        raise SpecError(f"virtual values need scalar types; agent {agent.name!r} has type vectors")
    v = list(agent.types_exact)
    f = list(agent.prior_exact)
    T = len(v)
    F, acc = [], Fraction(0)
    for ft in f:
        acc += ft
        F.append(acc)
    raw = [None] * T
    for t in range(T):
        if t == T - 1:
            raw[t] = v[t]
        elif f[t] > 0:
            raw[t] = v[t] - (v[t + 1] - v[t]) * (1 - F[t]) / f[t]
    if not ironed:
        return np.array(raw, dtype=object)
    # lower convex hull of (q, H) through the distinct quantiles
    q = [Fraction(0)] + F
    H = [Fraction(0)]
    for t in range(T):
        H.append(H[-1] + (f[t] * raw[t] if f[t] > 0 else 0))
    hull = [0]
    for k in range(1, T + 1):
        if q[k] <= q[hull[-1]]:
            continue
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            if (H[b] - H[a]) * (q[k] - q[a]) >= (H[k] - H[a]) * (q[b] - q[a]):
                hull.pop()
            else:
                break
        hull.append(k)
    slopes = [(H[b] - H[a]) / (q[b] - q[a]) for a, b in zip(hull[:-1], hull[1:])]
    out = []
    for t in range(T):
        left = q[t]  # F_{t-1}
        seg = next((j for j, b in enumerate(hull[1:]) if q[b] > left), len(slopes) - 1)
        out.append(slopes[seg])
    return np.array(out, dtype=object)


def threshold_payments(env: Environment, x: np.ndarray) -> np.ndarray:
    """Cheapest DSIC, ex post IR payments for a monotone single-item allocation.

    ``p_i(t, θ_{-i}) = v_t x_i(t, θ_{-i}) − Σ_{s<t} (v_{s+1} − v_s) x_i(s, θ_{-i})``:
    the lowest type gets zero utility and every downward adjacent IC
    constraint binds (the discrete payment identity, exact on the grid).

    Parameters
    ----------
    env : Environment
        A single-item environment.
    x : ndarray, shape (S, n + 1)

    Returns
    -------
    ndarray, shape (S, n)
    """
    p = np.empty((env.n_profiles, env.n_agents))
    for i, a in enumerate(env.agents):
        v = np.asarray(a.types, dtype=float)
        xi = own_view(env, i, x[:, i + 1])  # (T, R)
        rent = np.zeros_like(xi)
        rent[1:] = np.cumsum(np.diff(v)[:, None] * xi[:-1], axis=0)
        p[:, i] = from_own_view(env, i, v[:, None] * xi - rent)
    return p


def _award(score: np.ndarray, eligible: np.ndarray, tie: str) -> np.ndarray:
    """Lottery (S, n+1) giving the item to an eligible agent with the highest score."""
    if tie not in TIES:
        raise SpecError(f"tie must be one of {TIES}, got {tie!r}")
    S, n = score.shape
    masked = np.where(eligible, score, -np.inf)
    top = masked.max(axis=1, keepdims=True)
    win = eligible & (masked == top)
    if tie == "first":
        first = win.argmax(axis=1)
        win = np.zeros_like(win)
        win[np.arange(S), first] = True
        win &= eligible.any(axis=1, keepdims=True)
    count = win.sum(axis=1, keepdims=True)
    x = np.zeros((S, n + 1))
    x[:, 1:] = win / np.maximum(count, 1)
    x[:, 0] = (count[:, 0] == 0).astype(float)
    return x


def _bids(env: Environment) -> np.ndarray:
    return np.stack([scalar_types(env, i) for i in range(env.n_agents)], axis=1)


def myerson(env: Environment, tie: str = "uniform", name: str = "Myerson") -> Mechanism:
    """Myerson's revenue-maximizing auction (Myerson 1981) on a finite grid, ironed.

    The item goes to the bidder with the highest ironed virtual value
    ``φ̄_i(θ_i)`` (:func:`virtual_values`, decided in exact arithmetic) provided
    it is at least the seller's value; otherwise it stays unsold.  Bidders
    with equal ironed values share it (``tie="uniform"``, default) or it goes
    to the lowest-indexed one (``"first"``); either way the allocation is
    constant on ironed intervals, as optimality requires.  Payments are the
    :func:`threshold_payments` (DSIC, ex post IR, the lowest type pays 0).

    Asymmetric priors give discriminatory reserves ``φ̄_i⁻¹(seller_value)``.
    With symmetric regular priors the *allocation* is that of a second-price
    auction with reserve (the lowest type with ``φ̄ ≥ seller_value``), but on a
    grid the optimal *payments* are the threshold payments, not the second
    bid: a winner against a lower bid ``b`` pays ``b`` plus half a grid step
    (ties shared), because discrete information rents are smaller than the
    continuum's.  The continuum statement returns as the grid refines.
    Its expected revenue equals the optimum of ``Design(env, ic="bic",
    ir="interim", objective="revenue")`` (and of the DSIC/ex post IR design).

    Parameters
    ----------
    env : Environment
        From :func:`mechopt.single_item`, independent types.
    tie : {"uniform", "first"}
    name : str

    Returns
    -------
    Mechanism
        ``details["virtual_values"]``: ironed virtual values per agent (floats).
    """
    require_kind(env, ("single_item",), "myerson")
    if not env.is_independent:
        raise SpecError("myerson needs independent types; this environment has a correlated prior")
    phis = [virtual_values(a, ironed=True) for a in env.agents]
    v0 = env.meta.get("seller_value", Fraction(0))
    # rank every exact virtual value so that comparisons and ties are exact
    levels = sorted(set().union(*[set(p) for p in phis]) | {v0})
    rank = {val: r for r, val in enumerate(levels)}
    score = np.stack(
        [np.array([rank[val] for val in phi])[np.unravel_index(np.arange(env.n_profiles), env.shape)[i]]
         for i, phi in enumerate(phis)], axis=1,
    )
    x = _award(score, score >= rank[v0], tie)
    m = Mechanism(env, x, threshold_payments(env, x), name)
    m.details = {"virtual_values": {a.name: [float(v) for v in phi] for a, phi in zip(env.agents, phis)}}
    return m


def second_price(env: Environment, reserve: Any = 0, tie: str = "uniform", name: str | None = None) -> Mechanism:
    """Second-price (Vickrey) auction with a reserve price.

    The highest bid at or above ``reserve`` wins (ties: shared uniformly, or
    lowest index with ``tie="first"``); the winner pays the larger of the
    reserve and the highest competing bid.  DSIC and ex post IR.

    Parameters
    ----------
    env : Environment
        From :func:`mechopt.single_item`.
    reserve : number or sequence of n numbers
        A common reserve, or one per bidder (then a bidder pays the larger of
        its own reserve and the highest competing eligible bid).
    tie : {"uniform", "first"}
    name : str, optional

    Returns
    -------
    Mechanism
    """
    require_kind(env, ("single_item",), "second_price")
    n = env.n_agents
    r = np.broadcast_to(np.asarray(exact_array(reserve, "reserve"), dtype=float), (n,))
    b = _bids(env)
    eligible = b >= r[None, :]
    x = _award(b, eligible, tie)
    p = np.empty_like(b)
    for i in range(n):
        others = np.where(eligible, b, -np.inf)
        others[:, i] = -np.inf
        price = np.maximum(others.max(axis=1), r[i])
        p[:, i] = x[:, i + 1] * price
    label = name or ("second price" if not np.any(r) else f"second price (reserve {_fmt(reserve)})")
    return Mechanism(env, x, p, label)


def posted_price(env: Environment, price: Any, tie: str = "uniform", name: str | None = None) -> Mechanism:
    """A take-it-or-leave-it price.

    * Single item: every bidder with ``θ_i ≥ price`` (or its own price when
      a sequence of n prices is given) accepts; the item goes to one of them
      (shared uniformly, or lowest index with ``tie="first"``), who pays the price.
    * Bilateral trade: trade iff ``θ_b ≥ price ≥ θ_s``; the buyer pays the
      price and the seller receives it (``p_s = −price``).

    DSIC, ex post IR, and (bilateral trade) exactly budget balanced.

    Parameters
    ----------
    env : Environment
        From :func:`mechopt.single_item` or :func:`mechopt.bilateral_trade`.
    price : number or sequence of n numbers
    tie : {"uniform", "first"}
    name : str, optional

    Returns
    -------
    Mechanism
    """
    require_kind(env, ("single_item", "bilateral_trade"), "posted_price")
    label = name or f"posted price {_fmt(price)}"
    if env.kind == "bilateral_trade":
        c = float(exact_array(price, "price").item()) if np.ndim(price) == 0 else None
        if c is None:
            raise SpecError("posted_price: bilateral trade takes one price")
        tb, ts = scalar_types(env, 0), scalar_types(env, 1)
        trade = ((tb >= c) & (ts <= c)).astype(float)
        x = np.stack([1 - trade, trade], axis=1)
        p = np.stack([c * trade, -c * trade], axis=1)
        return Mechanism(env, x, p, label)
    n = env.n_agents
    c = np.broadcast_to(np.asarray(exact_array(price, "price"), dtype=float), (n,))
    b = _bids(env)
    x = _award(np.zeros_like(b), b >= c[None, :], tie)
    return Mechanism(env, x, x[:, 1:] * c[None, :], label)


def _fmt(v: Any) -> str:
    if isinstance(v, Sequence) and not isinstance(v, str) or isinstance(v, np.ndarray):
        return "(" + ", ".join(f"{float(u):g}" for u in np.asarray(v, dtype=float)) + ")"
    return f"{float(v):g}"
