"""The independent checker.

Given an environment and a mechanism as plain arrays (allocation ``x`` of shape
``(S, K)`` and payments ``p`` of shape ``(S, n)``, profiles in C order), it
recomputes every condition from the environment's value tables, without using
anything the LP compiler built: IC against *all* misreports (not only adjacent
ones), IR at each level, budget at each level, the lottery conditions and
allocative efficiency.  Each condition is reported as its worst violation
(``0`` when it holds exactly, positive when it fails).

The checks are vectorized per agent: reports are compared through arrays of
shape ``(T_i, T_i, S / T_i)`` (DSIC) or ``(T_i, T_i, K)`` (BIC).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .spec import Environment

__all__ = ["violations", "violations_interdependent", "verify", "PROPERTY_NAMES", "DEFAULT_TOL"]

DEFAULT_TOL = 1e-6

PROPERTY_NAMES = (
    "dsic", "bic", "ex_post_ir", "interim_ir", "ex_ante_ir",
    "budget_exact", "budget_ex_post", "budget_ex_ante", "efficient",
)


def _agent_view(env: Environment, i: int, x: np.ndarray, p: np.ndarray):
    """Allocation ``(T_i, R, K)``, own payment ``(T_i, R)`` and opponents' beliefs ``(T_i, R)``."""
    shape, K = env.shape, env.n_outcomes
    xi = np.moveaxis(x.reshape(shape + (K,)), i, 0).reshape(shape[i], -1, K)
    pi = np.moveaxis(p[:, i].reshape(shape), i, 0).reshape(shape[i], -1)
    joint = np.moveaxis(env.joint_prior, i, 0).reshape(shape[i], -1)
    marg = joint.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        belief = np.where(marg > 0, joint / np.where(marg > 0, marg, 1), 0.0)
    return xi, pi, belief, marg[:, 0]


def _blocks(T: int, R: int, budget: int = 4_000_000) -> list[slice]:
    """Slices of true types so that each (block, T, R) utility array has about ``budget`` entries."""
    step = max(1, budget // max(1, T * R))
    return [slice(a, min(T, a + step)) for a in range(0, T, step)]


def violations(env: Environment, x: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Worst violation of every property, recomputed from the environment.

    Parameters
    ----------
    env : Environment
    x : ndarray, shape (S, K)
        Lottery over outcomes at every profile.
    p : ndarray, shape (S, n)
        Payment made by each agent at every profile.

    Returns
    -------
    dict
        Keys ``lottery`` and the names in :data:`PROPERTY_NAMES`; values are the
        worst violations (``≤ 0`` means the property holds).
    """
    if not getattr(env, "is_private", True):
        return violations_interdependent(env, x, p)
    x = np.asarray(x, dtype=float)
    p = np.asarray(p, dtype=float)
    S, K, n = env.n_profiles, env.n_outcomes, env.n_agents
    if x.shape != (S, K) or p.shape != (S, n):
        raise ValueError(f"mechanism arrays have shapes {x.shape}, {p.shape}; expected {(S, K)}, {(S, n)}")
    out: dict[str, float] = {}
    out["lottery"] = float(max(np.abs(x.sum(axis=1) - 1).max(), (-x).max()))
    dsic = bic = ex_post_ir = interim_ir = ex_ante_ir = -np.inf
    for i in range(n):
        V, U = env.values[i], env.outside[i]
        xi, pi, belief, marg = _agent_view(env, i, x, p)
        # truthful ex post utility (T, R) and, per block of true types, every report's (t, T, R)
        own_val = np.einsum("tk,trk->tr", V, xi)
        truth = own_val - pi
        ex_post_ir = max(ex_post_ir, float((U[:, None] - truth).max()))
        interim_util = np.empty((V.shape[0], V.shape[0]))
        for block in _blocks(V.shape[0], xi.shape[1]):
            util = np.einsum("tk,srk->tsr", V[block], xi) - pi[None, :, :]
            dsic = max(dsic, float((util - truth[block, None, :]).max()))
            interim_util[block] = np.einsum("tr,tsr->ts", belief[block], util)
        interim_truth = np.diag(interim_util)
        bic = max(bic, float((interim_util - interim_truth[:, None]).max()))
        has_mass = marg > 0
        if has_mass.any():
            interim_ir = max(interim_ir, float((U - interim_truth)[has_mass].max()))
        ex_ante_ir = max(ex_ante_ir, float(marg @ (U - interim_truth)))
    surplus = p.sum(axis=1) - x @ env.cost
    prior = env.joint_prior.reshape(-1)
    out.update(
        dsic=dsic, bic=bic, ex_post_ir=ex_post_ir, interim_ir=interim_ir, ex_ante_ir=ex_ante_ir,
        budget_exact=float(np.abs(surplus).max()),
        budget_ex_post=float((-surplus).max()),
        budget_ex_ante=float(-(prior @ surplus)),
        ex_post_ic=dsic,  # private values: ex post IC is DSIC
    )
    W = env.welfare_table
    out["efficient"] = float((W.max(axis=1) - (x * W).sum(axis=1)).max())
    return out


def _scale(env: Environment) -> float:
    vmax = max(float(np.abs(V).max()) for V in env.values)
    return max(1.0, vmax, float(np.abs(env.cost).max()))


FAMILY_OF = {
    "ic": {"dsic": "dsic", "bic": "bic", "ex_post": "ex_post_ic"},
    "ir": {"ex_post": "ex_post_ir", "interim": "interim_ir", "ex_ante": "ex_ante_ir"},
    "budget": {"exact": "budget_exact", "ex_post": "budget_ex_post", "ex_ante": "budget_ex_ante"},
}


def verify(
    env: Environment, x: np.ndarray, p: np.ndarray, design=None, tol: float = DEFAULT_TOL
) -> dict:
    """Check a mechanism against a design's requirements.

    Parameters
    ----------
    env : Environment
    x, p : ndarray
        Allocation ``(S, K)`` and payments ``(S, n)``.
    design : Design, optional
        The requirements (ic, ir, budget, allocation).  Without it every
        property is reported but ``ok`` only covers the lottery conditions.
    tol : float
        Allowed violation, relative to the largest value or cost (at least 1).

    Returns
    -------
    dict
        ``ok`` (bool), ``tol`` (absolute tolerance used), ``max_violation``
        (per family asked for: ``lottery``, ``ic``, ``ir``, ``budget``,
        ``efficiency``; 0.0 when satisfied to the last bit), ``properties``
        (every property → bool) and ``raw`` (every worst violation).
    """
    raw = violations(env, x, p)
    abs_tol = tol * _scale(env)
    fam = {"lottery": max(0.0, raw["lottery"])}
    if design is not None:
        for family, option in (("ic", design.ic), ("ir", design.ir), ("budget", design.budget)):
            if option != "none":
                fam[family] = max(0.0, raw[FAMILY_OF[family][option]])
        if design.allocation == "efficient":
            fam["efficiency"] = max(0.0, raw["efficient"])
    props = {name: bool(raw[name] <= abs_tol) for name in PROPERTY_NAMES}
    return {
        "ok": bool(all(v <= abs_tol for v in fam.values())),
        "tol": abs_tol,
        "max_violation": fam,
        "properties": props,
        "raw": raw,
    }


def violations_interdependent(env: Environment, x: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Worst violations with interdependent values, recomputed from the profile value tables.

    Agent i's value of outcome k is ``v_i(k, θ)`` at the *true* profile θ
    (``env.profile_values[i]``, shape ``(S, K)``).  With ``A_i[t, r] = (t, r)``
    the profile where i has type t and the others r:

    * ``ex_post_ic``: ``max v_i(x(s, r), (t, r)) − p_i(s, r) − [v_i(x(t, r), (t, r)) − p_i(t, r)]``
      over t, s, r (truth is an ex post equilibrium; Maskin 1992, Dasgupta & Maskin 2000);
    * ``dsic``: the same gain against every report r' of the others while their true
      types are r (dominant strategies; rarely attainable with interdependent values);
    * ``bic``: the gain in expectation over π(r | t) (values at the true profile);
    * IR, budget, lottery and efficiency as in :func:`violations`, with profile values.

    Parameters
    ----------
    env : Environment
        With ``env.is_private`` False.
    x : ndarray, shape (S, K)
    p : ndarray, shape (S, n)

    Returns
    -------
    dict
        The keys of :func:`violations` (``ex_post_ic`` included).
    """
    x = np.asarray(x, dtype=float)
    p = np.asarray(p, dtype=float)
    shape, S, K, n = env.shape, env.n_profiles, env.n_outcomes, env.n_agents
    if x.shape != (S, K) or p.shape != (S, n):
        raise ValueError(f"mechanism arrays have shapes {x.shape}, {p.shape}; expected {(S, K)}, {(S, n)}")
    out: dict[str, float] = {"lottery": float(max(np.abs(x.sum(axis=1) - 1).max(), (-x).max()))}
    worst = dict.fromkeys(("dsic", "bic", "ex_post_ic", "ex_post_ir", "interim_ir", "ex_ante_ir"), -np.inf)
    for i in range(n):
        T, U = shape[i], env.outside[i]
        xi, pi, belief, marg = _agent_view(env, i, x, p)  # (T, R, K), (T, R), (T, R), (T,)
        vi = np.moveaxis(env.profile_values[i].reshape(shape + (K,)), i, 0).reshape(T, -1, K)  # at (t, r)
        truth = np.einsum("trk,trk->tr", vi, xi) - pi
        # dev[t, s, r]: true profile (t, r), i reports s, the others report r truthfully
        dev = np.einsum("trk,srk->tsr", vi, xi) - pi[None, :, :]
        worst["ex_post_ic"] = max(worst["ex_post_ic"], float((dev - truth[:, None, :]).max()))
        interim = np.einsum("tr,tsr->ts", belief, dev)
        worst["bic"] = max(worst["bic"], float((interim - np.diag(interim)[:, None]).max()))
        for t in range(T):
            # the others' reports q may differ from their true types r: g[s, q, r]
            g = np.einsum("rk,sqk->sqr", vi[t], xi) - pi[:, :, None]
            worst["dsic"] = max(worst["dsic"], float((g - g[t][None]).max()))
        worst["ex_post_ir"] = max(worst["ex_post_ir"], float((U[:, None] - truth).max()))
        interim_truth = np.diag(interim)
        if (marg > 0).any():
            worst["interim_ir"] = max(worst["interim_ir"], float((U - interim_truth)[marg > 0].max()))
        worst["ex_ante_ir"] = max(worst["ex_ante_ir"], float(marg @ (U - interim_truth)))
    surplus = p.sum(axis=1) - x @ env.cost
    prior = env.joint_prior.reshape(-1)
    out.update(worst)
    out.update(
        budget_exact=float(np.abs(surplus).max()),
        budget_ex_post=float((-surplus).max()),
        budget_ex_ante=float(-(prior @ surplus)),
    )
    W = env.welfare_table
    out["efficient"] = float((W.max(axis=1) - (x * W).sum(axis=1)).max())
    return out
