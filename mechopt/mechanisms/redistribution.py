"""Redistribution mechanisms: Cavallo (2006) and Green & Laffont (1979).

Some texts (e.g. Cramton, Gibbons & Klemperer 1987) write ``T_i`` for the
transfer *to* agent i; mechopt's payments are paid *by* the agent,
``p_i = −T_i``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import SpecError
from ..mechanism import Mechanism
from ._base import TIES, from_own_view, own_values, own_view
from .groves import vcg

if TYPE_CHECKING:  # pragma: no cover
    from ..spec import Environment

__all__ = ["cavallo", "green_laffont"]


def cavallo(env: Environment, tie: str = "uniform", name: str = "Cavallo") -> Mechanism:
    """VCG with Cavallo's (2006) redistribution of its revenue.

    Agent i receives ``r_i(θ_{-i}) = (1/n) min_{θ'_i ∈ Θ_i} Rev(θ'_i, θ_{-i})``,
    where ``Rev = Σ_j p_j^{VCG} − c(x)`` is the VCG surplus: the least surplus
    agent i could bring about by its own report (minimum over its grid).  It
    does not depend on i's report, so the mechanism stays DSIC and efficient.
    Single item with lowest type 0 (Cavallo 2006): with ``v_1 ≥ v_2 ≥ …``, agents
    1 and 2 get back ``v_3 / n``, the others ``v_2 / n``, and the seller keeps
    ``(2/n)(v_2 − v_3)``.  Cavallo's rule is meant for environments where the
    VCG surplus is nonnegative; with a designer cost (public project) the
    least surplus can be negative and ``r_i`` then *charges* agent i.

    Parameters
    ----------
    env : Environment
    tie : {"uniform", "first"}
        Tie rule among welfare maximizers (only the allocation changes).
    name : str

    Returns
    -------
    Mechanism
    """
    base = vcg(env, tie)
    n = env.n_agents
    surplus = base.p.sum(axis=1) - base.x @ env.cost
    p = base.p.copy()
    for i in range(n):
        low = own_view(env, i, surplus).min(axis=0)  # (R,)
        p[:, i] -= from_own_view(env, i, np.broadcast_to(low[None, :], (env.shape[i], low.size))) / n
    return Mechanism(env, base.x, p, name)


def _argmax_lottery(W: np.ndarray, tie: str) -> np.ndarray:
    """Lottery over the maximizers of every row of ``W`` (S, K), ties within 1e-9 (relative)."""
    scale = max(1.0, float(np.abs(W).max()))
    near = W >= W.max(axis=1, keepdims=True) - 1e-9 * scale
    if tie == "uniform":
        return near / near.sum(axis=1, keepdims=True)
    x = np.zeros(W.shape)
    x[np.arange(W.shape[0]), near.argmax(axis=1)] = 1.0
    return x


def green_laffont(env: Environment, tie: str = "uniform", name: str = "Green-Laffont") -> Mechanism:
    """A Green–Laffont mechanism (Green & Laffont 1979): DSIC and exactly budget balanced.

    An agent j is drawn uniformly at random and left out; the others play
    VCG (Clarke pivot) among themselves, ignoring j's report, and j receives
    their surplus ``Σ_{i≠j} p_i^{(−j)} − c(x^{(−j)})``.  The mechanism is the
    average over j: ``x = (1/n) Σ_j x^{(−j)}``,
    ``p_i = (1/n) [Σ_{j≠i} p_i^{(−j)} − (Σ_{l≠i} p_l^{(−i)} − c(x^{(−i)}))]``.
    Single item: the highest bidder gets the item with probability
    ``1 − 1/n`` and the second highest with probability ``1/n``.  DSIC
    (no one's report affects what it receives as the left-out agent), exactly
    budget balanced at every profile, not efficient.

    Parameters
    ----------
    env : Environment
        At least two agents.
    tie : {"uniform", "first"}
        Tie rule within each sub-mechanism.
    name : str

    Returns
    -------
    Mechanism
    """
    if tie not in TIES:
        raise SpecError(f"tie must be one of {TIES}, got {tie!r}")
    n = env.n_agents
    if n < 2:
        raise SpecError("green_laffont needs at least two agents")
    S, K = env.n_profiles, env.n_outcomes
    own = [own_values(env, i) for i in range(n)]
    x = np.zeros((S, K))
    p = np.zeros((S, n))
    for j in range(n):
        Wj = env.welfare_table - own[j]  # welfare without agent j (cost included)
        xj = _argmax_lottery(Wj, tie)
        surplus = -(xj @ env.cost)
        for i in range(n):
            if i == j:
                continue
            others = Wj - own[i]
            pij = others.max(axis=1) - (xj * others).sum(axis=1)
            p[:, i] += pij
            surplus += pij
        p[:, j] -= surplus
        x += xj
    return Mechanism(env, x / n, p / n, name)
