"""LP duality for teaching: virtual values, binding rows, complementary slackness.

Virtual values are shadow prices
--------------------------------
Take one agent with scalar types ``v_0 < … < v_{T-1}`` (its value for "winning"
is ``v_t``; every outcome it values is worth ``v_t`` to it), prior masses
``f_t`` and ``F_t = Σ_{j≤t} f_j``.  With BIC on interim variables the LP has

* ``X̄_t − Σ_r w(r) x((t, r), win) = 0``        (family ``interim``, dual ``μ_t``)
* ``v_s (X̄_s − X̄_t) − P̄_s + P̄_t ≥ 0``          (family ``ic``, row (type s, report t), dual ``λ_{s→t}``)
* ``v_t X̄_t − P̄_t ≥ U_t``                      (family ``ir``, dual ``γ_t``)

and the revenue objective ``Σ_t f_t P̄_t``.  Dual feasibility (stationarity of
the Lagrangian ``c·z + λ·(Az − b)`` in the free columns) reads

* in ``P̄_t``:  ``f_t = Σ_s λ_{t→s} − Σ_s λ_{s→t} + γ_t``;
* in ``X̄_t``:  ``μ_t = Σ_s v_s λ_{s→t} − v_t (Σ_s λ_{t→s} + γ_t)``.

Eliminating ``γ_t`` gives the *ironed virtual value*, the shadow value of one
unit of interim allocation per unit of prior mass::

    φ̄_t = −μ_t / f_t = v_t − Σ_s (v_s − v_t) λ_{s→t} / f_t .

Only the IC rows that *report* t enter: the allocation given to t is also
offered to every type s tempted to mimic t, at a rent ``(v_s − v_t)`` per unit.
With adjacent IC only (the single-crossing reduction) that is
``φ̄_t = v_t − [(v_{t+1} − v_t) λ_{t+1→t} − (v_t − v_{t-1}) λ_{t-1→t}] / f_t``:
the downward row of type t+1 and the upward row of type t−1.  The x columns'
stationarity then says ``π(s) φ̄_i(θ_i) + ν_s ≤ 0`` with equality where x > 0:
the item goes to the highest nonnegative φ̄, Myerson's rule.

Summing the ``P̄`` condition over the types above t gives the *raw* virtual
value: the net downward IC multiplier across the cut between t and t+1, plus
the IR multipliers above t, equals the mass above t::

    Σ_{s>t≥u} λ_{s→u} − Σ_{u≤t<s} λ_{u→s} + Σ_{j>t} γ_j = 1 − F_t ,
    φ_t = v_t − (v_{t+1} − v_t) · (that cut weight) / f_t
        = v_t − (v_{t+1} − v_t) (1 − F_t) / f_t .

So the discrete convention is the *forward* difference ``v_{t+1} − v_t`` with
``1 − F_t`` (mass strictly above t) — ``φ_{T-1} = v_{T-1}`` at the top.  Where
the upward multipliers ``λ_{t→t+1}`` are positive (both adjacent rows bind: the
allocation is pooled), ``Σ_{j≤t} f_j φ̄_j = Σ_{j≤t} f_j φ_j − (v_{t+1} − v_t) λ_{t→t+1}``:
the cumulative ironed values lie below the raw ones and touch them where there
is no pooling — the convex hull of Myerson's ironing.

Dual solutions are not unique
-----------------------------
The LP is degenerate, so its optimal duals form a face, and a solver returns
one vertex of it.  Types that never receive the good have zero utility, so
their IR rows all bind and IR weight may sit on any of them; on a pooled block
only the block's average φ̄ is pinned down; where an agent's allocation is flat
between two opponents' virtual values, its φ̄ is only bracketed.  The vertex's
values are correct shadow prices, just not the textbook ones.

:func:`virtual_values` therefore reports by default the *minimum-norm* optimal
dual (``canonical=True``): among all duals that are feasible and
complementary to the solver's primal optimum, the one minimizing
``Σ_i Σ_t f_t φ̄_{i,t}²`` (a small QP, :func:`minimum_norm_dual`).  Since every
optimal dual has ``Σ_{j≤t} f_j φ̄_j ≤ Σ_{j≤t} f_j φ_j`` with equality at the top,
this is the taut string under the cumulative raw values: exactly Myerson's
ironed virtual values (slopes of the convex hull), and Myerson's dual is in
the face.  ``canonical="ir"`` only moves IR weight of never-served types down
to the lowest type along binding downward IC rows (``λ'_{t+1→t} = λ_{t+1→t} +
Σ_{j>t} γ_j``, again an optimal dual); ``canonical=False`` gives the solver's
vertex as it is.

DSIC (per-profile IC rows) works the same way within each opponents' profile
r (masses ``π(t, r)``); the reported value is the average over r.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import MechoptError

if TYPE_CHECKING:  # pragma: no cover
    from .result import Result

__all__ = [
    "virtual_values",
    "virtual_value_table",
    "closed_form_virtual_values",
    "slacks",
    "binding",
    "complementary_slackness",
    "ComplementarySlackness",
    "minimum_norm_dual",
]

TOL = 1e-7


# --------------------------------------------------------------------------- helpers
def _require_duals(result: Result) -> None:
    if result.status != "optimal":
        raise MechoptError(f"duality needs an optimal result; this one is {result.status!r}")
    if result.output.row_dual is None or result.output.z is None:
        raise MechoptError("this result carries no duals (a MIP, or a backend that returned none)")


def slacks(result: Result) -> np.ndarray:
    """Row slacks ``A z − b`` of the solved LP (≥ 0 on ``≥`` rows, ≈ 0 on ``=`` rows)."""
    _require_duals(result)
    lp = result.lp
    return lp.A @ result.output.z - lp.rhs


def _agent_setup(result: Result, agent: str | int):
    _require_duals(result)
    design = result.design
    env = design.env
    i = env.agent_index(agent)
    a = env.agents[i]
    if not a.is_scalar:
        raise MechoptError(f"virtual values need scalar types; agent {a.name!r} has type vectors")
    if not env.is_independent:
        raise MechoptError("virtual values are read off IC duals for independent priors; this prior is correlated")
    if design.ic not in ("bic", "dsic"):
        raise MechoptError(f"virtual values are IC multipliers; this design has ic={design.ic!r}")
    groups = result.lp.layout.groups[i]
    if len(groups) != 1:
        raise MechoptError(
            f"virtual values are defined for single-parameter agents (one valued outcome group); "
            f"agent {a.name!r} has {len(groups)} groups"
        )
    outcomes = groups[0]
    v = np.asarray(env.values[i][:, outcomes[0]], dtype=float)
    return env, i, a, outcomes, v


def _contexts(result: Result, i: int):
    """Context of every profile for agent i: one context (BIC) or the opponents' profile (DSIC).

    Returns ``(C, ctx_of_profile (S,), mass (C, T))`` with ``mass[c, t]`` the prior
    probability of agent i's type t together with context c.
    """
    env = result.design.env
    lay = result.lp.layout
    view = lay.agent_view(i)  # (T, R)
    T, R = view.shape
    f = np.asarray(env.agents[i].prior, dtype=float)
    if result.design.ic == "bic":
        return 1, np.zeros(lay.S, dtype=int), f[None, :], view
    ctx = np.empty(lay.S, dtype=int)
    ctx[view] = np.arange(R)[None, :]
    w = np.moveaxis(env.joint_prior, i, 0).reshape(T, R).sum(axis=0)
    return R, ctx, (f[:, None] * w[None, :]).T, view


def _rent_matrix(result: Result, i: int):
    """Sparse map λ ↦ Σ_s (v_s − v_t) λ_{s→t} (aggregated over contexts), shape (T_i, m)."""
    import scipy.sparse as sp

    lp = result.lp
    env = result.design.env
    v = np.asarray(env.values[i][:, lp.layout.groups[i][0][0]], dtype=float)
    fam = lp.family("ic")
    rep, share = _representative(result, i)
    mine = np.flatnonzero(fam.codes["agent"] == rep)
    s, t = fam.codes["type"][mine], fam.codes["report"][mine]
    return sp.csr_matrix(((v[s] - v[t]) * share, (t, fam.start + mine)), shape=(v.size, lp.A.shape[0])), v


def _representative(result: Result, i: int) -> tuple[int, float]:
    """Whose rows hold agent i's constraints, and agent i's share of their multipliers: under the
    symmetric reduced form (mechopt.compile.symmetry) agent 0's rows stand for all n identical
    bidders and the objective is n times one bidder's, so each bidder's multiplier is λ / n."""
    if getattr(result.lp.plan, "symmetric", False):
        return 0, 1.0 / result.design.env.n_agents
    return i, 1.0


def _solve(prob) -> None:
    try:
        prob.solve(solver="HIGHS")
    except Exception:  # pragma: no cover - fall back to an interior-point solver
        prob.solve(solver="CLARABEL")


def minimum_norm_dual(result: Result, tol: float = 1e-9) -> np.ndarray:
    """The optimal dual that minimizes ``Σ_i Σ_t f_t φ̄_{i,t}²`` over the face of optimal duals.

    The face is cut out by dual feasibility and complementary slackness with the
    solver's primal optimum.  For a revenue objective the minimizer is unique in
    φ̄ and equals Myerson's ironing (the slopes of the convex hull: the taut
    string under the cumulative raw virtual values).  Two stages: first the IR
    multipliers are put on types as low as possible (an LP over the face), then
    the norm is minimized (a QP); both with cvxpy/HiGHS.  Cached on ``result``.
    """
    cached = result.__dict__.get("_mechopt_min_norm_dual")
    if cached is not None:
        return cached
    _require_duals(result)
    import cvxpy as cp

    lp = result.lp
    env = result.design.env
    z = result.output.z
    m, N = lp.A.shape
    lam = cp.Variable(m)
    sl = lp.A @ z - lp.rhs
    scale = max(1.0, float(np.abs(lp.A).max()))
    ineq = ~lp.equality
    cons = []
    pos = np.flatnonzero(ineq & (sl <= tol * scale * 10))
    zero = np.flatnonzero(ineq & (sl > tol * scale * 10))
    if pos.size:
        cons.append(lam[pos] >= 0)
    if zero.size:
        cons.append(lam[zero] == 0)
    d = lp.c + lp.A.T @ lam
    free = ~np.isfinite(lp.lb) & ~np.isfinite(lp.ub)
    at_lb = np.isfinite(lp.lb) & (z <= lp.lb + tol * 10)
    interior = ~free & ~at_lb
    if free.any():
        cons.append(d[np.flatnonzero(free)] == 0)
    if interior.any():
        cons.append(d[np.flatnonzero(interior)] == 0)
    if at_lb.any():
        cons.append(d[np.flatnonzero(at_lb)] <= 0)
    terms = []
    for i, a in enumerate(env.agents):
        if not (a.is_scalar and len(lp.layout.groups[i]) == 1):
            continue
        R, v = _rent_matrix(result, i)
        f = np.asarray(a.prior, dtype=float)
        keep = f > 0
        fphi = v * f - R @ lam
        terms.append(cp.sum(cp.multiply(1.0 / f[keep], cp.square(fphi[np.flatnonzero(keep)]))))
    if not terms:
        raise MechoptError("no single-parameter agent with scalar types: nothing to canonicalize")
    # stage 1: IR weight as low as possible (Myerson's dual puts it all on the lowest type)
    if any(fm.name == "ir" for fm in lp.families):
        fir = lp.family("ir")
        code = fir.codes.get("type")
        if code is not None and (code >= 0).all():
            # height of a type in its agent's value order (a cost type: the highest cost is lowest)
            rank = code.astype(float)
            ag = fir.codes.get("agent")
            for i, a in enumerate(env.agents):
                if ag is not None and a.is_scalar and len(lp.layout.groups[i]) == 1:
                    v = np.asarray(env.values[i][:, lp.layout.groups[i][0][0]], dtype=float)
                    if _decreasing(v):
                        rank[ag == i] = a.n_types - 1 - code[ag == i]
        if code is not None and (code >= 0).all() and (rank > 0).any():
            rows = np.flatnonzero(rank > 0)
            height = lam[fir.start + rows] @ rank[rows]
            low = cp.Problem(cp.Minimize(height), cons)
            _solve(low)
            if low.status in ("optimal", "optimal_inaccurate"):
                cons = cons + [height <= low.value + 1e-9 * max(1.0, abs(low.value))]
    # stage 2: minimum norm of the virtual values
    prob = cp.Problem(cp.Minimize(cp.sum(terms)), cons)
    _solve(prob)
    if prob.status not in ("optimal", "optimal_inaccurate") or lam.value is None:
        raise MechoptError(f"the minimum-norm dual QP failed ({prob.status})")
    y = np.asarray(lam.value, dtype=float)
    result.__dict__["_mechopt_min_norm_dual"] = y
    return y


def _duals_for(result: Result, canonical) -> tuple[np.ndarray, bool]:
    if canonical is True or canonical == "min_norm":
        return minimum_norm_dual(result), False
    if canonical == "ir":
        return result.output.row_dual, True
    if canonical is False or canonical == "vertex":
        return result.output.row_dual, False
    raise ValueError(f"canonical must be True/'min_norm', 'ir' or False/'vertex', got {canonical!r}")


def _dual_parts(result: Result, agent: str | int, canonical):
    """IC multipliers, IR multipliers and masses per context, plus the canonical IR shift."""
    env, i, a, outcomes, v = _agent_setup(result, agent)
    lp = result.lp
    y, ir_shift = _duals_for(result, canonical)
    rep, share = _representative(result, i)
    y = y * share
    C, ctx, mass, view = _contexts(result, i)
    T = a.n_types
    f = np.asarray(a.prior, dtype=float)
    w_ctx = mass.sum(axis=1) if C > 1 else np.ones(1)  # probability of each context

    # IC rows of agent i: (context, true type s, report t, dual, slack)
    fam = lp.family("ic")
    rows = np.arange(fam.start, fam.stop)
    mine = fam.codes["agent"] == rep
    rows = rows[mine]
    s_true = fam.codes["type"][mine]
    t_rep = fam.codes["report"][mine]
    if C > 1:
        c_ic = ctx[fam.codes["profile"][mine]]
    else:
        c_ic = np.zeros(rows.size, dtype=int)
    lam = y[rows]
    sl = slacks(result)[rows]

    # IR multipliers per (context, type)
    gamma = np.zeros((C, T))
    if any(fm.name == "ir" for fm in lp.families):
        fir = lp.family("ir")
        ir_rows = np.arange(fir.start, fir.stop)
        mine_ir = fir.codes["agent"] == rep
        g = y[ir_rows[mine_ir]]
        types = fir.codes.get("type")
        prof = fir.codes.get("profile")
        if types is not None and (types[mine_ir] >= 0).all():
            tt = types[mine_ir]
            if prof is not None and (prof[mine_ir] >= 0).all():
                cc = ctx[prof[mine_ir]] if C > 1 else np.zeros(tt.size, dtype=int)
                np.add.at(gamma, (cc, tt), g)
            else:  # interim rows: spread over contexts by their probability
                per_type = np.zeros(T)
                np.add.at(per_type, tt, g)
                gamma += w_ctx[:, None] * per_type[None, :]
        else:  # ex ante row: coefficients f_t on every type
            gamma += g.sum() * mass

    # agent i's allocation of its valued outcomes, per (context, type)
    x = result.mechanism.x
    alloc_prof = x[:, outcomes].sum(axis=1)
    if C > 1:
        alloc = alloc_prof[view].T  # (R, T)
    else:
        alloc = np.asarray(result.mechanism.interim[a.name][[env.outcomes[k] for k in outcomes]].sum(axis=1))[None, :]

    # canonical shift: IR weight above t moved down through row (t+1 -> t)
    shift = np.zeros((C, T))  # extra multiplier on row (t+1 -> t) in context c
    if ir_shift and not _decreasing(v):  # costs: the solver's IR weight is left where it is
        down_slack = np.full((C, T), np.inf)
        dn = s_true == t_rep + 1
        down_slack[c_ic[dn], t_rep[dn]] = sl[dn]
        scale = max(1.0, float(np.abs(v).max()))
        for c in range(C):
            carry = 0.0
            for t in range(T - 2, -1, -1):
                carry += gamma[c, t + 1]
                ok = (down_slack[c, t] <= TOL * scale and alloc[c, t] <= TOL and v[t + 1] > v[t])
                if ok:
                    shift[c, t] = carry
                else:
                    carry = 0.0
    return dict(env=env, i=i, a=a, v=v, f=f, C=C, mass=mass, s=s_true, t=t_rep, c=c_ic, lam=lam,
                slack=sl, gamma=gamma, shift=shift, alloc=alloc)


def _ironed_from_parts(P: dict) -> np.ndarray:
    v, f = P["v"], P["f"]
    T = v.size
    # Σ_s (v_s − v_t) λ_{s→t}, summed over contexts
    rent = np.zeros(T)
    np.add.at(rent, P["t"], (v[P["s"]] - v[P["t"]]) * P["lam"])
    dv = np.append(np.diff(v), 0.0)
    rent += dv * P["shift"].sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(f > 0, v - rent / np.where(f > 0, f, 1.0), np.nan)


def _decreasing(v: np.ndarray) -> bool:
    """Values that decrease in the type (a seller whose type is a cost: ``v_t = −c_t``)."""
    return v.size > 1 and bool(np.all(np.diff(v) < 0))


def _reversed_parts(P: dict) -> dict:
    """The same multipliers with the types listed in reverse order (values then increase)."""
    T = P["v"].size
    return {**P, "v": P["v"][::-1], "f": P["f"][::-1], "s": T - 1 - P["s"], "t": T - 1 - P["t"],
            "gamma": P["gamma"][:, ::-1]}


def _raw_from_parts(P: dict) -> np.ndarray:
    """Raw virtual values; for decreasing values (costs) the types are read in reverse order, so
    ``φ_t = v_t − (v_{t−1} − v_t) F_{t−1} / f_t``, i.e. minus the virtual cost ``c_t + (c_t − c_{t−1}) F_{t−1}/f_t``
    (the discrete ``c + F(c)/f(c)``; Myerson 1981 read as a reverse auction)."""
    if _decreasing(P["v"]):
        return _raw_from_parts(_reversed_parts(P))[::-1]
    v, f = P["v"], P["f"]
    T = v.size
    s, t, lam = P["s"], P["t"], P["lam"]
    cut = np.zeros(T)  # net downward IC weight across the cut {≤ k} | {> k}
    for k in range(T - 1):
        down = (s > k) & (t <= k)
        up = (s <= k) & (t > k)
        cut[k] = lam[down].sum() - lam[up].sum()
    g = P["gamma"].sum(axis=0)
    above = np.append(np.cumsum(g[::-1])[::-1][1:], 0.0)  # Σ_{j>k} γ_j
    dv = np.append(np.diff(v), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(f > 0, v - dv * (cut + above) / np.where(f > 0, f, 1.0), np.nan)


# --------------------------------------------------------------------------- public API
def virtual_values(result: Result, agent: str | int, ironed: bool = False, canonical=True) -> pd.Series:
    """Virtual values of one agent, read off the IC (and IR) duals of an optimal revenue LP.

    Parameters
    ----------
    result : Result
        An optimal result (LP, not MIP) of a design with ``ic="bic"`` or ``"dsic"``,
        independent scalar types, and an agent that values one group of outcomes.
    agent : str or int
    ironed : bool
        ``False``: the raw values ``φ_t = v_t − (v_{t+1} − v_t)·W_t / f_t`` where
        ``W_t`` is the net downward IC multiplier across the cut above t plus the
        IR multipliers above t (``= 1 − F_t`` under a revenue objective, by dual
        feasibility).  ``True``: ``φ̄_t = v_t − Σ_s (v_s − v_t) λ_{s→t} / f_t``, the
        shadow value of type t's interim allocation (nondecreasing; constant on
        ironing intervals).  See the module docstring for the derivation.
    canonical : bool or str
        Which optimal dual to read (see the module docstring): ``True`` /
        ``"min_norm"`` (default; Myerson's ironing for revenue designs),
        ``"ir"`` (solver's dual with IR weight moved to the lowest type), ``False``
        / ``"vertex"`` (the solver's dual as it is).  Raw values
        (``ironed=False``) do not depend on the choice for a revenue objective.

    Returns
    -------
    pandas.Series
        Indexed by the agent's types (index name = agent name); ``attrs`` hold
        ``agent``, ``ironed``, ``canonical`` and ``design``.
    """
    P = _dual_parts(result, agent, canonical)
    vals = _ironed_from_parts(P) if ironed else _raw_from_parts(P)
    a = P["a"]
    out = pd.Series(vals, index=pd.Index(a.type_labels, name=a.name),
                    name="ironed_virtual_value" if ironed else "virtual_value")
    out.attrs.update(agent=a.name, ironed=ironed, canonical=canonical, design=result.design.describe())
    return out


def closed_form_virtual_values(agent, ironed: bool = False, costs: bool = False) -> pd.Series:
    """Myerson's discrete virtual values from an :class:`~mechopt.Agent`'s types and prior.

    ``φ_t = v_t − (v_{t+1} − v_t)(1 − F_t)/f_t`` (``φ_{T-1} = v_{T-1}``) with ``v_t`` the
    type; ironed: the slopes of the lower convex hull of ``(F_t, Σ_{j≤t} f_j φ_j)``
    (from ``(0, 0)``).  Types with zero mass are dropped from the hull and get NaN.

    ``costs=True``: the types are costs and the agent's value is ``v_t = −c_t``
    (procurement); the result is minus the virtual cost,
    ``−[c_t + (c_t − c_{t−1}) F_{t−1} / f_t]`` (ironed: minus the ironed virtual cost),
    i.e. the same formula with the types read from the highest cost down.
    """
    from .mechanisms.auctions import virtual_values as exact_virtual_values
    from .spec import Agent

    if not agent.is_scalar:
        raise MechoptError("closed-form virtual values need scalar types")
    if costs:  # values −c increase from the highest cost down: Myerson on the reversed agent
        flipped = Agent(agent.name, [-c for c in agent.types_exact[::-1]], prior=list(agent.prior_exact[::-1]))
        out = closed_form_virtual_values(flipped, ironed=ironed).iloc[::-1]
        out.index = pd.Index(agent.type_labels, name=agent.name)
        return out
    exact = exact_virtual_values(agent, ironed=ironed)
    f = np.asarray(agent.prior, dtype=float)
    vals = np.array([np.nan if (x is None or f[t] == 0) else float(x) for t, x in enumerate(exact)])
    out = pd.Series(vals, index=pd.Index(agent.type_labels, name=agent.name),
                    name="ironed_virtual_value" if ironed else "virtual_value")
    return out


def virtual_value_table(result: Result, agent: str | int, canonical=True) -> pd.DataFrame:
    """Side by side: prior, interim allocation, the LP's raw and ironed virtual values
    (``canonical`` dual, see :func:`virtual_values`), and the closed forms from the prior."""
    env = result.design.env
    a = env.agents[env.agent_index(agent)]
    P = _dual_parts(result, agent, canonical)
    df = pd.DataFrame(index=pd.Index(a.type_labels, name=a.name))
    df["prob"] = P["f"]
    df["allocation"] = (P["alloc"] * (P["mass"] / np.where(P["f"] > 0, P["f"], 1.0))).sum(axis=0) \
        if P["C"] > 1 else P["alloc"][0]
    df["lp_raw"] = _raw_from_parts(P)
    df["lp_ironed"] = _ironed_from_parts(P)
    costs = _decreasing(P["v"])  # procurement: the closed form is minus the virtual cost
    df["formula_raw"] = closed_form_virtual_values(a, costs=costs).to_numpy()
    df["formula_ironed"] = closed_form_virtual_values(a, ironed=True, costs=costs).to_numpy()
    return df


def binding(result: Result, tol: float = 1e-9, equalities: bool = False) -> dict[str, pd.DataFrame]:
    """Binding rows per family: labels, ``slack`` and ``dual`` of the rows with ``|slack| ≤ tol``.

    Equality rows always bind; they are listed only with ``equalities=True``.
    Families with no binding row are omitted.
    """
    sl = slacks(result)
    y = result.output.row_dual
    lp = result.lp
    out = {}
    for f in lp.families:
        s = sl[f.start: f.stop]
        eq = lp.equality[f.start: f.stop]
        keep = (np.abs(s) <= tol) & (equalities | ~eq)
        if not keep.any():
            continue
        df = lp.labels(f.name).copy()
        df["slack"] = s
        df["dual"] = y[f.start: f.stop]
        out[f.name] = df[keep]
    return out


@dataclass
class ComplementarySlackness:
    """Complementary-slackness report.

    Attributes
    ----------
    families : dict of DataFrame
        Per row family: labels, ``slack`` (``A z − b``), ``dual`` (λ), ``product``
        (slack·dual, 0 at an exact optimum).  Key ``"columns"``: every column with
        a finite bound, its ``value`` (distance to the bound), ``reduced_cost``
        (``c + Aᵀλ``, ≤ 0 on x ≥ 0) and ``product``.
    max_product : float
        Largest |product| over all rows and columns.
    summary : DataFrame
        Per family: rows, binding rows, rows with positive dual, max |product|.
    """

    families: dict[str, pd.DataFrame]
    max_product: float
    summary: pd.DataFrame

    def __getitem__(self, key: str) -> pd.DataFrame:
        return self.families[key]

    @property
    def ok(self) -> bool:
        return self.max_product <= 1e-6

    def __repr__(self) -> str:
        return f"ComplementarySlackness(max |slack·dual| = {self.max_product:.3g})\n{self.summary}"


def complementary_slackness(result: Result, tol: float = 1e-9) -> ComplementarySlackness:
    """Slack, dual and their product for every row (and bounded column) of an optimal LP."""
    sl = slacks(result)
    y = result.output.row_dual
    lp = result.lp
    z = result.output.z
    fams: dict[str, pd.DataFrame] = {}
    rows = []
    for f in lp.families:
        df = lp.labels(f.name).copy()
        df["slack"] = sl[f.start: f.stop]
        df["dual"] = y[f.start: f.stop]
        df["product"] = df["slack"] * df["dual"]
        fams[f.name] = df
        rows.append({
            "family": f.name, "rows": f.size,
            "binding": int((np.abs(df["slack"]) <= tol).sum()),
            "positive_dual": int((np.abs(df["dual"]) > tol).sum()),
            "max_abs_product": float(np.abs(df["product"]).max()) if f.size else 0.0,
        })
    red = lp.c + lp.A.T @ y
    bounded = np.flatnonzero(np.isfinite(lp.lb))
    cols = pd.DataFrame({
        "column": bounded,
        "value": z[bounded] - lp.lb[bounded],
        "reduced_cost": red[bounded],
    })
    cols["product"] = cols["value"] * cols["reduced_cost"]
    fams["columns"] = cols
    rows.append({
        "family": "columns", "rows": int(bounded.size),
        "binding": int((np.abs(cols["value"]) <= tol).sum()),
        "positive_dual": int((np.abs(cols["reduced_cost"]) > tol).sum()),
        "max_abs_product": float(np.abs(cols["product"]).max()) if bounded.size else 0.0,
    })
    summary = pd.DataFrame(rows).set_index("family")
    return ComplementarySlackness(fams, float(summary["max_abs_product"].max()), summary)

