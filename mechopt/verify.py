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

from .numbers import RELATIVE, Tolerances, data_scale

if TYPE_CHECKING:  # pragma: no cover
    from .spec import Environment

__all__ = ["violations", "violations_interdependent", "verify", "mechanism_value", "PROPERTY_NAMES", "DEFAULT_TOL"]

DEFAULT_TOL = RELATIVE  # relative to the data's scale, see mechopt.numbers

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
        Keys ``finite`` (number of NaN/inf entries in x and p), ``lottery``,
        ``deterministic`` (largest ``1 − max_k x(s, k)``) and the names in
        :data:`PROPERTY_NAMES`; values are the worst violations (``≤ 0`` means
        the property holds).  With a non-finite entry every violation is ``inf``.
    """
    x = np.asarray(x, dtype=float)
    p = np.asarray(p, dtype=float)
    S, K, n = env.n_profiles, env.n_outcomes, env.n_agents
    if x.shape != (S, K) or p.shape != (S, n):
        raise ValueError(f"mechanism arrays have shapes {x.shape}, {p.shape}; expected {(S, K)}, {(S, n)}")
    if not (np.isfinite(x).all() and np.isfinite(p).all()):
        # NaN compares false with everything (max(0, nan) = 0): a mechanism with a
        # non-finite entry satisfies nothing.
        bad = float(np.count_nonzero(~np.isfinite(x)) + np.count_nonzero(~np.isfinite(p)))
        return {"finite": bad, "lottery": np.inf, "deterministic": np.inf, "ex_post_ic": np.inf,
                **{k: np.inf for k in PROPERTY_NAMES}}
    if not getattr(env, "is_private", True):
        return violations_interdependent(env, x, p)
    out: dict[str, float] = {"finite": 0.0}
    out["lottery"] = float(max(np.abs(x.sum(axis=1) - 1).max(), (-x).max()))
    out["deterministic"] = float((1 - x.max(axis=1)).max())  # distance of the lottery from a point mass
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


FAMILY_OF = {
    "ic": {"dsic": "dsic", "bic": "bic", "ex_post": "ex_post_ic"},
    "ir": {"ex_post": "ex_post_ir", "interim": "interim_ir", "ex_ante": "ex_ante_ir"},
    "budget": {"exact": "budget_exact", "ex_post": "budget_ex_post", "ex_ante": "budget_ex_ante"},
}


def mechanism_value(env: Environment, x: np.ndarray, p: np.ndarray, objective: str) -> float | None:
    """Expected value of a named objective for the mechanism ``(x, p)``.

    Parameters
    ----------
    env : Environment
    x, p : ndarray
        Allocation ``(S, K)`` and payments ``(S, n)``.
    objective : str
        ``revenue`` E[Σ p − c], ``welfare`` E[Σ v − c], ``utility`` E[Σ (v − p)],
        ``gains`` (welfare − Σ_i E[U_i]) or ``feasibility`` (0).

    Returns
    -------
    float or None
        None for an objective this checker does not know (e.g. a user callable).
    """
    prior = env.joint_prior.reshape(-1)
    W = env.welfare_table
    welfare = float(prior @ (x * W).sum(axis=1))
    if objective == "revenue":
        return float(prior @ (p.sum(axis=1) - x @ env.cost))
    if objective == "welfare":
        return welfare
    if objective == "utility":
        return float(prior @ ((x * (W + env.cost[None, :])).sum(axis=1) - p.sum(axis=1)))
    if objective == "gains":
        return welfare - float(sum(a.prior @ U for a, U in zip(env.agents, env.outside)))
    if objective == "feasibility":
        return 0.0
    return None


def verify(
    env: Environment, x: np.ndarray, p: np.ndarray, design=None, tol: float = DEFAULT_TOL,
    objective: float | None = None,
) -> dict:
    """Check a mechanism against a design's requirements.

    Parameters
    ----------
    env : Environment
    x, p : ndarray
        Allocation ``(S, K)`` and payments ``(S, n)``.
    design : Design, optional
        The requirements (ic, ir, budget, allocation, deterministic, objective).
        Without it every property is reported but ``ok`` only covers the
        lottery conditions and finiteness.
    tol : float
        Allowed violation *relative to the data's scale* (largest absolute
        value, cost or outside option, see :mod:`mechopt.numbers`): values in
        units of 1e-9 are checked to ``tol · 1e-9``.  Lottery and determinism
        conditions (probabilities) are checked to ``tol``.
    objective : float, optional
        The objective value a solver reported.  With a design whose objective
        is named (revenue, welfare, utility, gains, feasibility), the
        mechanism's own value must match it within the tolerance (scaled by
        ``max(scale, |objective|)``); reported as ``max_violation["objective"]``.

    Returns
    -------
    dict
        ``ok`` (bool), ``tol`` (absolute tolerance in value units),
        ``max_violation`` (per family checked: ``finite``, ``lottery``, ``ic``,
        ``ir``, ``budget``, ``efficiency``, ``deterministic``, ``objective``;
        0.0 when satisfied to the last bit), ``properties`` (every property →
        bool) and ``raw`` (every worst violation).
    """
    if design is not None and not all(hasattr(design, k) for k in ("ic", "ir", "budget", "allocation")):
        from .errors import SpecError

        raise SpecError(f"verify/check: design must be a mechopt.Design, got {design!r}")
    x = np.asarray(x, dtype=float)
    p = np.asarray(p, dtype=float)
    raw = violations(env, x, p)
    scale = data_scale(env)
    if not np.isfinite(scale):
        tols = Tolerances(scale, tol, 0.0, 0.0)
    else:
        tols = Tolerances.for_scale(scale, tol)
    value_tol, prob_tol = tols.feasibility, tols.probability
    fam = {"lottery": max(0.0, raw["lottery"])}
    limit = {"lottery": prob_tol}
    if raw["finite"]:
        fam["finite"], limit["finite"] = raw["finite"], 0.0
    if design is not None:
        for family, option in (("ic", design.ic), ("ir", design.ir), ("budget", design.budget)):
            if option != "none" and option in FAMILY_OF[family]:
                fam[family] = max(0.0, raw[FAMILY_OF[family][option]])
                limit[family] = value_tol
        if design.allocation == "efficient":
            fam["efficiency"] = max(0.0, raw["efficient"])
            limit["efficiency"] = value_tol
        if getattr(design, "deterministic", False):
            fam["deterministic"] = max(0.0, raw["deterministic"])
            limit["deterministic"] = prob_tol
        if objective is not None:
            own = mechanism_value(env, x, p, design.objective) if raw["finite"] == 0 else np.inf
            if own is not None:
                gap = abs(float(objective) - own)
                fam["objective"] = gap if np.isfinite(gap) else np.inf
                limit["objective"] = (
                    max(tol, tols.relative) * max(scale, abs(float(objective))) if np.isfinite(objective) else 0.0
                )
                raw["objective"] = own
    props = {name: bool(raw[name] <= value_tol) for name in PROPERTY_NAMES}
    return {
        "ok": bool(all(fam[k] <= limit[k] for k in fam)),
        "tol": value_tol,
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
    if not (np.isfinite(x).all() and np.isfinite(p).all()):  # a non-finite entry satisfies nothing
        bad = float(np.count_nonzero(~np.isfinite(x)) + np.count_nonzero(~np.isfinite(p)))
        return {"finite": bad, "lottery": np.inf, "deterministic": np.inf, "ex_post_ic": np.inf,
                **{k: np.inf for k in PROPERTY_NAMES}}
    out: dict[str, float] = {"finite": 0.0,
                             "lottery": float(max(np.abs(x.sum(axis=1) - 1).max(), (-x).max())),
                             "deterministic": float((1 - x.max(axis=1)).max())}
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
