"""Budget-balanced Bayesian mechanisms: AGV (expected externality) and CGK.

Both keep the efficient allocation and make every agent pay, in expectation,
the externality its report imposes on the others, which is BIC on any finite
type space (no payoff-equivalence argument is needed, so no discretization
choice either).  Sign convention: ``p[s, i]`` is paid *by* agent i.  Some
texts (e.g. Cramton, Gibbons & Klemperer 1987) write ``T_i`` for the transfer
*to* agent i: ``p_i = −T_i``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import SpecError
from ..mechanism import Mechanism
from ._base import conditional_mean, efficient_allocation, expand_own, others_welfare

if TYPE_CHECKING:  # pragma: no cover
    from ..spec import Environment

__all__ = ["agv", "cgk", "expected_externality"]


def expected_externality(env: Environment, x: np.ndarray, i: int) -> np.ndarray:
    """``e_i(θ_i) = E_{θ_{-i}}[Σ_{j≠i} v_j(x(θ), θ_j) − c(x(θ))]``, shape ``(T_i,)``.

    The others' (designer included) expected welfare when i reports θ_i; the
    expectation is over the product of the opponents' marginals, computed
    without conditioning on the true type, as in Arrow (1979) and
    d'Aspremont & Gérard-Varet (1979).
    """
    return conditional_mean(env, i, others_welfare(env, x, i), independent=True)


def _cost_shares(env: Environment, x: np.ndarray) -> np.ndarray:
    """Payments ``g`` (S, n) with ``Σ_i g_i = c(x(θ))`` and ``E[g_i(θ̂_i, θ_{-i})]`` constant in θ̂_i.

    Hoeffding decomposition of ``ψ(θ) = c(x(θ))`` for independent types:
    ``ψ = E ψ + Σ_j (ψ_j(θ_j) − E ψ) + R(θ)`` with ``ψ_j = E[ψ | θ_j]`` and
    ``E[R | θ_i] = 0`` for every i.  Agent i pays ``E ψ / n + R / n`` and agent
    j's main effect ``ψ_j − E ψ`` (cyclically, j = i + 1), none of which it can
    move in expectation by its own report.
    """
    n = env.n_agents
    psi = x @ env.cost
    if not np.any(psi):
        return np.zeros((env.n_profiles, n))
    prior = np.ones(())
    for a in env.agents:
        prior = np.multiply.outer(prior, a.prior)
    mean = float(np.asarray(prior).reshape(-1) @ psi)
    main = np.stack([expand_own(env, j, conditional_mean(env, j, psi, independent=True)) - mean for j in range(n)], 1)
    resid = psi - mean - main.sum(axis=1)
    g = (mean + resid)[:, None] / n + np.roll(main, -1, axis=1)
    return g


def agv(env: Environment, tie: str = "first", name: str = "AGV") -> Mechanism:
    """The expected-externality mechanism of Arrow (1979) and d'Aspremont & Gérard-Varet (1979).

    ``p_i(θ) = (1/(n−1)) Σ_{j≠i} e_j(θ_j) − e_i(θ_i) + g_i(θ)`` with ``e_i`` the
    :func:`expected_externality` (cost included) and ``g`` the cost shares
    (zero when the environment has no cost).  Efficient, BIC and exactly
    budget balanced at every profile (``Σ_i p_i = c(x(θ))``); not IR in
    general (e.g. in bilateral trade, by Myerson & Satterthwaite 1983).

    Parameters
    ----------
    env : Environment
        At least two agents.  BIC is guaranteed for independent types (the
        expectations use the product of the marginals either way).
    tie : {"first", "uniform"}
        Tie rule among welfare maximizers.
    name : str

    Returns
    -------
    Mechanism

    Notes
    -----
    AGV is often said not to handle a cost that depends on θ (a public
    project's cost when built).  With independent types it can: the
    cost ``ψ(θ) = c(x(θ))`` is split by its Hoeffding decomposition so that no
    agent can move its expected share by misreporting (see ``_cost_shares``).
    """
    n = env.n_agents
    if n < 2:
        raise SpecError("agv needs at least two agents")
    x = efficient_allocation(env, tie)
    e = np.stack([expand_own(env, i, expected_externality(env, x, i)) for i in range(n)], axis=1)
    p = (e.sum(axis=1, keepdims=True) - e) / (n - 1) - e + _cost_shares(env, x)
    return Mechanism(env, x, p, name)


def cgk(env: Environment, tie: str = "first", name: str = "CGK") -> Mechanism:
    """The mechanism of Cramton, Gibbons & Klemperer's (1987) sufficiency proof, on a grid.

    Cramton, Gibbons & Klemperer pay agent i
    ``T_i(v) = c_i − ∫_0^{v_i} x g(x) dx + (1/(n−1)) Σ_{j≠i} ∫_0^{v_j} x g(x) dx``
    with ``c_i = (1/n) Σ_j W(v_j*) − W(v_i*)``.  In the continuum
    ``−∫_0^{v} x g(x) dx`` is the expected externality ``e_i(v)`` up to a
    constant, so CGK is dAGV plus constants that equalize the agents' worst
    participation slack.  **Discrete counterpart** (used here, for any
    environment): start from :func:`agv` (exact expected externalities), let
    ``s_i = min_θ_i [Ū_i(θ_i) − U_i(θ_i)]`` be agent i's least interim
    participation slack over its types of positive mass (attained at the
    discrete analogue of ``v_i*``, where ``G(v_i*) = r_i``: the type that
    minimizes the marginal payoff ``Ū_i − r_i θ_i``), and set

        p_i = p_i^{AGV} + s_i − (1/n) Σ_j s_j.

    Every agent's least slack becomes ``(1/n) Σ_j s_j``, so the mechanism is
    efficient, BIC, exactly budget balanced and interim IR **iff**
    ``Σ_j s_j ≥ 0`` (the discrete CGK condition, ``details["dissolvable"]``).
    ``Σ_j s_j`` equals the revenue of :func:`gvcg` (Groves form).

    Parameters
    ----------
    env : Environment
        Typically :func:`mechopt.partnership`; independent types.
    tie : {"first", "uniform"}
    name : str

    Returns
    -------
    Mechanism
        ``details``: ``slack`` per agent, ``total_slack``, ``dissolvable``,
        ``critical_type`` (the discrete ``v_i*``) per agent.
    """
    m = agv(env, tie, name)
    p = m.p.copy()
    slack, crit = {}, {}
    s = np.empty(env.n_agents)
    for i, a in enumerate(env.agents):
        tab = m.interim[a.name]
        gap = np.where(a.prior > 0, tab["utility"].to_numpy() - env.outside[i], np.inf)
        t = int(np.argmin(gap))
        s[i] = gap[t]
        slack[a.name], crit[a.name] = float(gap[t]), a.type_labels[t]
    p += s[None, :] - s.mean()
    scale = max(1.0, max(float(np.abs(V).max()) for V in env.values))
    out = Mechanism(env, m.x, p, name)
    out.details = {
        "slack": slack, "total_slack": float(s.sum()), "dissolvable": bool(s.sum() >= -1e-9 * scale),
        "critical_type": crit,
    }
    return out
