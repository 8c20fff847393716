"""``Design.solve(exact=True)`` and the exact simplex repair of float bases.

Every expected answer here is derived in the test: impossibility arguments
written out in the docstrings (with the posted-price mechanism as the
feasible boundary case), discrete Myerson revenues from virtual values in
Fractions (Myerson 1981; Elkind 2007 for the discrete form), exact interim IC
checks written here, and scipy's ``linprog`` on an independently built LP.
"""

from __future__ import annotations

import pickle
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import mechopt as mo
from mechopt.certificates import ExactModel, exact_result
from mechopt.certificates.repair import repair
from mechopt.errors import MechoptError
from mechopt.pipeline import recover_and_verify

F = Fraction


# ----------------------------------------------------------------- helpers
def trade(low_buyer) -> mo.Design:
    b = mo.Agent("buyer", [low_buyer, F(3, 2), F(2)])
    s = mo.Agent("seller", [F(0), F(1, 2), F(1)])
    return mo.Design(mo.bilateral_trade(b, s), ic="dsic", ir="ex_post", budget="exact",
                     allocation="efficient", objective="welfare")


def myerson_revenue(types: list[list[Fraction]], priors: list[list[Fraction]]) -> Fraction:
    """Optimal single-item revenue for independent bidders with regular discrete priors.

    Discrete virtual value φ(θ_k) = θ_k − (θ_{k+1} − θ_k)·P(θ > θ_k)/P(θ = θ_k); with φ
    increasing the optimum is E[max(0, max_i φ_i(θ_i))] (Myerson 1981, discrete form).
    """
    phis = []
    for t, f in zip(types, priors):
        T = len(t)
        tail = [sum(f[k + 1:], F(0)) for k in range(T)]
        phi = [t[k] - ((t[k + 1] - t[k]) * tail[k] / f[k] if k + 1 < T else F(0)) for k in range(T)]
        assert all(a <= b for a, b in zip(phi, phi[1:])), "the formula needs a regular prior"
        phis.append(phi)
    total = F(0)
    for idx in np.ndindex(*[len(t) for t in types]):
        prob = F(1)
        for i, k in enumerate(idx):
            prob *= priors[i][k]
        total += prob * max([F(0)] + [phis[i][k] for i, k in enumerate(idx)])
    return total


def _interim_utility(env, x, p, prior, i: int, t: int, report: int) -> Fraction:
    """Agent i of type t reporting ``report``: Σ over profiles with own type t of prior · (value − payment)."""
    shape, V = env.shape, env.values_exact[i]
    u = F(0)
    for prof in np.ndindex(*shape):
        if prof[i] != t:
            continue
        s_rep = np.ravel_multi_index(tuple(report if j == i else prof[j] for j in range(len(shape))), shape)
        u += prior[prof] * (sum((x[s_rep, k] * V[t][k] for k in range(x.shape[1])), F(0)) - p[s_rep, i])
    return u


def interim_ic_gaps(env, x: np.ndarray, p: np.ndarray, prior: np.ndarray) -> list[Fraction]:
    """Exact BIC gains of every misreport (≤ 0 when BIC), computed from x and p directly."""
    gains = []
    for i in range(len(env.agents)):
        for t in range(env.shape[i]):
            truth = _interim_utility(env, x, p, prior, i, t, t)
            gains += [_interim_utility(env, x, p, prior, i, t, r) - truth for r in range(env.shape[i]) if r != t]
    return gains


# ----------------------------------------------------------------- the 1e-9 gap
def test_trade_with_a_1e9_gap_is_exactly_infeasible():
    """Buyer values [1 − 1e-9, 3/2, 2], seller [0, 1/2, 1]: no mechanism exists.

    Efficiency forces trade whenever b > s.  At s = 0 the buyer trades at every type, so
    DSIC makes his payment constant and ex post IR of the lowest type caps it at 1 − 1e-9;
    with an exact budget the seller of type 0 facing b = 3/2 receives at most 1 − 1e-9.
    The seller of type 1 facing b = 3/2 also trades and needs at least 1 (IR), so type 0
    would report 1: seller DSIC fails.  HiGHS cannot see a 1e-9 violation.
    """
    d = trade(F("0.999999999"))
    r = d.solve(exact=True)
    assert r.status == "infeasible"
    assert r.exact.status == "infeasible" and r.exact.objective is None and r.exact.x is None
    c = r.certificate
    assert c.kind == "infeasibility" and c.verified and c.exact
    assert c.verify(exact=True)
    # the argument uses IC, IR and the budget: each family is needed
    fams = set(c.weights.index.get_level_values("family"))
    assert {"ic", "ir", "budget"} <= fams
    for fam in ("ic", "ir", "budget"):
        assert not c.verify(weights=c.weights.drop(fam, level="family"))
    # the same weights read 0 ≥ (a positive multiple of) 1e-9
    yb = c.check().numbers["yb"]
    assert 0 < yb < F(1, 10**6)
    # the float answer, for contrast, is an "optimum"; certify=True refuses to certify it
    c2 = d.solve(certify=True).certificate
    assert not c2.verified and not c2.exact
    assert any("infeasible" in note for note in c2.notes)


@pytest.mark.parametrize("low", [F(1), F("1.000000001"), F(11, 10)])
def test_trade_boundary_is_feasible(low):
    """With the lowest buyer value ≥ 1, posting the price 1 is efficient (every profile has
    b ≥ 1 ≥ s), DSIC, ex post IR and exactly budget balanced; welfare = E[b] (uniform prior)."""
    r = trade(low).solve(exact=True)
    assert r.status == "optimal"
    assert r.exact.objective == (low + F(3, 2) + F(2)) / 3
    assert r.certificate.verified and r.certificate.exact


# ----------------------------------------------------------------- exact optima
def test_myerson_55_126_exact_mechanism():
    g = list(mo.grid(0, 1, 21))
    u = [F(1, 21)] * 21
    expected = myerson_revenue([g, g], [u, u])
    assert expected == F(55, 126)
    env = mo.single_item([mo.Agent("b1", g), mo.Agent("b2", g)])
    r = mo.Design(env, ic="bic", ir="interim", objective="revenue").solve(exact=True)
    assert r.status == "optimal"
    ex = r.exact
    assert ex.objective == expected and isinstance(ex.objective, Fraction)
    assert r.certificate.objective == expected and r.certificate.verified
    S, K = 21 * 21, 3
    assert ex.x.shape == (S, K) and ex.p.shape == (S, 2)
    assert all(isinstance(v, Fraction) for v in ex.x.ravel()) and all(isinstance(v, Fraction) for v in ex.p.ravel())
    # exact feasibility and revenue, recomputed from the exact mechanism in this test
    assert all(sum(row, F(0)) == 1 for row in ex.x) and all(v >= 0 for v in ex.x.ravel())
    prior = np.full((21, 21), F(1, 441), dtype=object)
    assert sum((prior.ravel()[s] * (ex.p[s, 0] + ex.p[s, 1]) for s in range(S)), F(0)) == expected
    assert max(interim_ic_gaps(env, ex.x, ex.p, prior)) <= 0
    assert abs(r.objective - 55 / 126) < 1e-12
    assert r.verification["ok"]


@pytest.mark.parametrize("ic,ir", [("dsic", "ex_post"), ("bic", "interim")])
def test_prior_with_1e12_entry_certifies(ic, ir):
    """A 1e-12 prior mass: HiGHS's basis is exactly suboptimal; the repair certifies the
    discrete Myerson optimum (virtual values (−(1−ε)/(3ε), −2/3 + 4ε/3… , 4ε/3, 1))."""
    eps = F(1, 10**12)
    g = list(mo.grid(0, 1, 4))
    f1 = [eps, F(1, 4), F(1, 4), F(1, 2) - eps]
    f2 = [F(1, 4)] * 4
    expected = myerson_revenue([g, g], [f1, f2])
    env = mo.single_item([mo.Agent("b1", g, prior=f1), mo.Agent("b2", g, prior=f2)])
    r = mo.Design(env, ic=ic, ir=ir, objective="revenue").solve(certify=True)
    c = r.certificate
    assert c.verified and c.exact
    assert c.objective == expected
    rx = mo.Design(env, ic=ic, ir=ir, objective="revenue").solve(exact=True)
    assert rx.exact.objective == expected


# ----------------------------------------------------------------- repair against scipy
def _linprog_value(lp) -> tuple[int, float | None]:
    """scipy's linprog (HiGHS dual simplex, called by scipy on the float LP: a path independent of
    mechopt's backend, scaling and exact repair).  Its interior point ends with "solve error"
    on some unbounded LPs here, and its presolve calls some unbounded LPs infeasible (the
    exact certificate of unboundedness proves otherwise), so the simplex runs without presolve."""
    from scipy.optimize import linprog

    A = lp.A.toarray()
    eq, ge = lp.equality, ~lp.equality
    bounds = list(zip([None if not np.isfinite(v) else v for v in lp.lb],
                      [None if not np.isfinite(v) else v for v in lp.ub]))
    res = linprog(-lp.c, A_ub=-A[ge] if ge.any() else None, b_ub=-lp.rhs[ge] if ge.any() else None,
                  A_eq=A[eq] if eq.any() else None, b_eq=lp.rhs[eq] if eq.any() else None,
                  bounds=bounds, method="highs-ds", options={"presolve": False})
    return res.status, (None if res.status != 0 else -res.fun + lp.offset)


_CHOICES = st.tuples(
    st.sampled_from(["dsic", "bic"]), st.sampled_from(["ex_post", "interim", "none"]),
    st.sampled_from(["exact", "ex_post", "ex_ante", "none"]), st.booleans(),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    vals=st.lists(st.integers(0, 6), min_size=1, max_size=3),
    low=st.sampled_from([F(9, 10), F(1), F(11, 10)]),
    choice=st.one_of(st.just(("dsic", "ex_post", "exact", True)), _CHOICES),
    objective=st.sampled_from(["revenue", "welfare", "utility"]),
)
def test_exact_agrees_with_an_independent_solver(vals, low, choice, objective):
    """Status and value of solve(exact=True) against scipy's interior point method on the same
    LP.  For (dsic, ex post IR, exact budget, efficient): infeasible when 0 < min b < 1 < max b
    (the argument of the 1e-9 test above), feasible when min b ≥ 1 (posted price 1)."""
    ic, ir, budget, efficient = choice
    types = sorted({F(v, 2) for v in vals} | {low})
    env = mo.bilateral_trade(mo.Agent("buyer", types), mo.Agent("seller", [F(0), F(1, 2), F(1)]))
    d = mo.Design(env, ic=ic, ir=ir, budget=budget, objective=objective,
                  allocation="efficient" if efficient else "free")
    r = d.solve(exact=True)
    event(f"exact status {r.status}")
    status, value = _linprog_value(r.lp)
    assert r.status in ("optimal", "infeasible", "unbounded")
    assert r.certificate.verified
    if r.status == "optimal":
        assert status == 0 and abs(float(r.exact.objective) - value) <= 1e-7 * max(1.0, abs(value))
    elif r.status == "infeasible":
        assert status == 2
    else:
        assert status == 3
    if choice == ("dsic", "ex_post", "exact", True):
        if 0 < types[0] < 1 < types[-1]:
            event("theorem: infeasible")
            assert r.status == "infeasible"
        elif types[0] >= 1:
            event("theorem: posted price 1")
            assert r.status in ("optimal", "unbounded")


def test_repair_from_the_slack_basis_reaches_the_same_exact_optimum():
    """Ignoring HiGHS's basis entirely, exact pivots from the slack basis end at 55/126."""
    g = mo.grid(0, 1, 6)
    env = mo.single_item([mo.Agent("b1", g), mo.Agent("b2", g)])
    r = mo.Design(env, ic="bic", ir="interim", objective="revenue").solve()
    model = ExactModel(r.lp)
    gl = list(g)
    expected = myerson_revenue([gl, gl], [[F(1, 6)] * 6] * 2)
    warm = repair(model, r.output.basis)
    cold = repair(model, None)
    bland = repair(model, None, bland=True)  # Bland's rule throughout (Bland 1977): same optimum
    assert bland.pivots["bland"]
    for out in (warm, cold, bland):
        assert out.status == "optimal"
        chk = model.check_optimality(out.z, out.lam)
        assert chk.ok and chk.numbers["value"] == expected
    assert warm.total_pivots == 0 < cold.total_pivots


def test_repair_finds_farkas_from_an_optimal_looking_basis():
    d = trade(F("0.999999999"))
    r = d.solve()
    out = repair(ExactModel(r.lp), r.output.basis)
    assert out.status == "infeasible" and out.total_pivots > 0
    assert ExactModel(r.lp).check_farkas(out.farkas).ok


def test_repair_proves_unboundedness():
    """Revenue without IR is unbounded (charge everyone more): the repair returns a ray."""
    env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 3))])
    r = mo.Design(env, ic="dsic", ir="none", objective="revenue").solve(exact=True)
    assert r.status == "unbounded" and r.certificate.verified
    model = ExactModel(r.lp)
    out = repair(model, None)
    assert out.status == "unbounded" and model.check_ray(out.ray).ok and model.check_primal(out.z).ok


# ----------------------------------------------------------------- API edges
def test_exact_result_pickles_and_reports():
    g = mo.grid(0, 1, 4)
    r = mo.Design(mo.single_item([mo.Agent("b1", g), mo.Agent("b2", g)]), ic="bic", ir="interim",
                  objective="revenue").solve(exact=True)
    back = pickle.loads(pickle.dumps(r))
    assert back.exact.objective == r.exact.objective
    assert "exact_seconds" in r.solver


def test_exact_refuses_mips_and_other_backends():
    env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 3))])
    with pytest.raises(MechoptError, match="deterministic"):
        mo.Design(env, ic="dsic", ir="ex_post", objective="revenue", deterministic=True).solve(exact=True)
    with pytest.raises(MechoptError, match="backend"):
        mo.Design(env, ic="dsic", ir="ex_post", objective="revenue").solve(exact=True, backend="cvxpy")


def test_exact_result_function_on_a_float_result():
    r = trade(F("0.999999999")).solve()
    ex = exact_result(r, rebuild=lambda lp, out: recover_and_verify(r.design, lp, out))
    assert ex.status == "infeasible" and ex.exact.float_status == r.status
    assert "float solver" in ex.message


# ----------------------------------------------------------------- the degenerate correlated optimum
def correlated_env() -> mo.Environment:
    """Issue 10's case: a0 types [2, 3, 6, 9], a1 types [2, 6, 7], outcome k1 worth the own type,
    both outcomes cost 1, the joint prior given as the float product of the float marginals
    [.2, .3, .2, .3] and [3, 4, 4]/11 (read exactly as its decimal digits)."""
    t0, t1 = [2, 3, 6, 9], [2, 6, 7]
    p0, p1 = [0.2, 0.3, 0.2, 0.3], list(np.array([3, 4, 4]) / 11)
    agents = [mo.Agent("a0", t0, prior=p0), mo.Agent("a1", t1, prior=p1)]
    values = [[[0, t] for t in t0], [[0, t] for t in t1]]
    return mo.Environment(agents, ["k0", "k1"], values, cost=[1, 1], prior=np.outer(p0, p1))


def test_correlated_degenerate_welfare_optimum_certifies():
    """Welfare ≤ E[max_k Σ_i v_i − c] = E[θ0 + θ1] − 1 (k1 is always best), and it is reached:
    always k1, each agent pays 1/2 (constant, so BIC; θ ≥ 2 so ex post IR; budget 1 − 1 = 0).
    Every HiGHS basis of this LP fails the exact check; the repair certifies the first best."""
    env = correlated_env()
    joint = env.joint_prior_exact_given
    t0 = [F(t) for t in (2, 3, 6, 9)]
    t1 = [F(t) for t in (2, 6, 7)]
    first_best = sum((joint[a, b] * (t0[a] + t1[b]) for a in range(4) for b in range(3)), F(0)) - 1
    d = mo.Design(env, ic="bic", ir="ex_post", budget="ex_post", objective="welfare")
    c = d.solve(certify=True).certificate
    assert c.verified and c.exact
    assert c.objective == first_best
    assert "repair" in c.method or "basis" in c.method
    assert d.solve(exact=True).exact.objective == first_best


@pytest.mark.parametrize("objective", ["revenue", "utility"])
def test_correlated_degenerate_optima_certify(objective):
    d = mo.Design(correlated_env(), ic="bic", ir="ex_post", budget="ex_post", objective=objective)
    r = d.solve(certify=True)
    c = r.certificate
    assert c.verified and c.exact
    status, value = _linprog_value(r.lp)
    assert status == 0 and abs(float(c.objective) - value) <= 1e-7 * max(1.0, abs(value))


# ----------------------------------------------------------------- certificates match what is checked
def test_tampered_public_weights_are_rejected():
    d = trade(F("0.999999999"))
    c = d.solve(exact=True).certificate
    assert c.verified and c.exact
    w = c.weights
    assert c.verify(weights=w.copy())          # as documented: verify(weights=w)
    k = int(np.flatnonzero(w.index.get_level_values("family") == "budget")[0])
    w.iloc[k] = w.iloc[k] * 2                  # edit the public table in place
    assert not c.verify() and not c.verified and not c.exact
    w.iloc[k] = w.iloc[k] / 2                  # restored: verified again
    assert c.verify() and c.verified and c.exact
    bad = c.weights.copy()
    j = int(np.flatnonzero(bad.index.get_level_values("family") == "ir")[0])
    assert bad.iloc[j] > 0
    bad.iloc[j] = -bad.iloc[j]                 # a negative weight on a ≥ row proves nothing
    c.weights = bad                            # or replace the table
    assert not c.verify() and not c.exact
    assert "negative weight" in " ".join(c.check().failures)


def test_tampered_optimality_duals_are_rejected():
    g = mo.grid(0, 1, 6)
    env = mo.single_item([mo.Agent("b1", g), mo.Agent("b2", g)])
    c = mo.Design(env, ic="bic", ir="interim", objective="revenue").solve(exact=True).certificate
    assert c.verified
    w = c.weights
    ic = np.flatnonzero(w.index.get_level_values("family") == "ic")
    w.iloc[ic[0]] = w.iloc[ic[0]] + F(1, 10**9)
    assert not c.verified and not c.exact
    assert c.verify(weights=w.iloc[:0]) is False


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    m0=st.lists(st.integers(1, 9), min_size=4, max_size=4),
    m1=st.lists(st.integers(1, 9), min_size=3, max_size=3),
    objective=st.sampled_from(["revenue", "welfare", "utility"]),
)
def test_float_joint_priors_always_certify(m0, m1, objective):
    """A joint prior given as the float product of float marginals (16-digit decimals, and
    identical interim beliefs across types: a very degenerate LP) makes HiGHS's bases exactly
    infeasible or suboptimal in most draws; every optimum must still certify, matching scipy."""
    a, b = np.array(m0, dtype=float), np.array(m1, dtype=float)
    t0, t1 = [2, 3, 6, 9], [2, 6, 7]
    agents = [mo.Agent("a0", t0), mo.Agent("a1", t1)]
    values = [[[0, t] for t in t0], [[0, t] for t in t1]]
    env = mo.Environment(agents, ["k0", "k1"], values, cost=[1, 1], prior=np.outer(a / a.sum(), b / b.sum()))
    d = mo.Design(env, ic="bic", ir="ex_post", budget="ex_post", objective=objective)
    r = d.solve(certify=True)
    assert r.status == "optimal"
    c = r.certificate
    event("repaired by exact pivots" if "repair" in c.method else "HiGHS basis exact")
    assert c.verified and c.exact
    status, value = _linprog_value(r.lp)
    assert status == 0 and abs(float(c.objective) - value) <= 1e-7 * max(1.0, abs(value))


def test_farkas_falls_back_to_the_exact_repair(monkeypatch):
    """With the rounded ray and both Farkas LPs failing, the exact repair still proves
    Myerson–Satterthwaite (efficient, BIC, interim IR, ex ante budget on grid(0, 1, 8))."""
    from mechopt.certificates import build

    monkeypatch.setattr(build, "_farkas_lp", lambda model, S: (None, "disabled in this test"))
    env = mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, 8)), mo.Agent("seller", mo.grid(0, 1, 8)))
    r = mo.Design(env, ic="bic", ir="interim", budget="ex_ante", allocation="efficient").solve()
    model = ExactModel(r.lp)
    noisy = r.output.dual_ray * (1 + 1e-6 * np.sin(np.arange(r.output.dual_ray.size)))  # fails rounding
    y, info = build.farkas_weights(model, noisy, basis=r.output.basis)
    assert y is not None and "exact simplex repair" in info["method"]
    assert model.check_farkas(y).ok


def test_cvxpy_user_constraints_are_not_certified_as_another_lp():
    """Capping the trade probability at 1/2 lowers second-best welfare; a certificate of the
    compiled LP (without the cap) would certify a different problem, so certify=True is refused
    before solving, with the fix in the message."""
    b, s = mo.Agent("buyer", mo.grid(0, 1, 6)), mo.Agent("seller", mo.grid(0, 1, 6))
    d = mo.Design(mo.bilateral_trade(b, s), ic="bic", ir="interim", budget="ex_ante", objective="welfare")
    with pytest.raises(MechoptError, match="user constraints"):
        d.solve(backend="cvxpy", constraints=lambda m: [m.x[:, 1] <= 0.5], certify=True)
    capped = d.solve(backend="cvxpy", constraints=lambda m: [m.x[:, 1] <= 0.5])
    free = d.solve(backend="cvxpy", certify=True)
    assert free.certificate.verified and free.objective > capped.objective + 0.05
