"""The exact twin of the type-count LP (:mod:`mechopt.compile.counts`): certificates and exact answers.

Every test compares with something the count LP did not produce: the plain profile LP solved exactly
(``symmetric=False, exact=True``; a different formulation over Tⁿ profiles), a closed form derived here
for the efficient public project, or welfare maximizers recomputed here in Fractions.

Closed form (efficient public project, BIC + interim IR + ex ante budget, no welfare ties).  Build iff
Σ θ_i > c.  An agent of type t_j then gets the project with probability X_j = P(t_j + S > c), S the sum
of the n − 1 others' types (computed here by convolution).  With X fixed and nondecreasing, the
interim utilities U_j = t_j X_j − P_j satisfy BIC and IR iff U_1 ≥ 0 and
U_{j+1} − U_j ∈ [(t_{j+1} − t_j) X_j, (t_{j+1} − t_j) X_{j+1}] (adjacent IC; the others follow by
single crossing, Myerson 1981), so the least utilities — the largest payments — are U_1 = 0,
U_{j+1} = U_j + (t_{j+1} − t_j) X_j, pointwise.  The largest expected revenue net of cost is therefore
R* = n Σ_j f_j (t_j X_j − U_j) − c · P(Σ θ > c): the design is feasible iff R* ≥ 0 (the discrete
form of the efficient-provision impossibility; Mailath & Postlewaite 1990, Güth & Hellwig 1986),
and then R* is its optimal revenue.
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import mechopt as mo
from mechopt.certificates import ExactModel
from mechopt.compile import compile_design

UNIFORM3 = ([F(0), F(1, 2), F(1)], [F(1, 3)] * 3)
SKEWED4 = ([F(0), F(1, 3), F(2, 3), F(1)], [F(1, 10), F(2, 5), F(3, 10), F(1, 5)])


@pytest.fixture
def small_counts(monkeypatch):
    """Let the count formulation apply to small grids (it normally starts above 20,000 profiles)."""
    import mechopt.compile.counts as counts

    monkeypatch.setattr(counts, "MIN_PROFILES", 0)


def project(types, prior, n, cost) -> mo.Environment:
    return mo.public_project([mo.Agent(f"c{i}", list(types), prior=list(prior)) for i in range(n)], cost=cost)


def sum_law(types, prior, n) -> dict[F, F]:
    """Law of the sum of n i.i.d. types, by convolution."""
    law = {F(0): F(1)}
    for _ in range(n):
        nxt: dict[F, F] = {}
        for s, p in law.items():
            for t, q in zip(types, prior):
                nxt[s + t] = nxt.get(s + t, F(0)) + p * q
        law = nxt
    return law


def closed_form_revenue(types, prior, n, cost) -> F:
    """R* of the module docstring (largest revenue net of cost of the efficient BIC, interim IR rule)."""
    others, everyone = sum_law(types, prior, n - 1), sum_law(types, prior, n)
    assert cost not in everyone, "the closed form assumes no welfare ties"
    X = [sum((p for s, p in others.items() if t + s > cost), F(0)) for t in types]
    U = [F(0)]
    for j in range(len(types) - 1):
        U.append(U[-1] + (types[j + 1] - types[j]) * X[j])
    revenue = n * sum((f * (t * x - u) for f, t, x, u in zip(prior, types, X, U)), F(0))
    return revenue - cost * sum((p for s, p in everyone.items() if s > cost), F(0))


# ------------------------------------------------------------------ the exact twin itself
def test_exact_twin_has_the_same_rows_and_exact_efficiency_bounds(small_counts):
    types, prior = UNIFORM3
    env = project(types, prior, 3, F(3, 2))  # Σθ = 3/2 is a welfare tie: both outcomes allowed there
    design = mo.Design(env, ic="bic", ir="interim", budget="ex_ante", allocation="efficient")
    lp = design.compile()
    assert lp.plan.counts
    twin = compile_design(design, exact=True, plan=lp.plan)
    model = ExactModel(twin)  # raises if rows, order or right-hand sides differ from the float LP
    assert all(isinstance(v, F) for v in twin.exact["vals"])
    assert np.array_equal(twin.A.toarray(), lp.A.toarray())
    # welfare maximizers recomputed here: Σ_t m_t t − c when built, 0 when not
    K, ties, fixed = env.n_outcomes, 0, 0
    for m, row in enumerate(lp.count_vectors.tolist()):
        welfare = [F(0), sum((c * t for c, t in zip(row, types)), F(0)) - F(3, 2)]
        best = max(welfare)
        ties += welfare[0] == welfare[1]
        for k in range(K):
            ub = model.ub[m * K + k]
            if welfare[k] < best:
                fixed += 1
                assert ub == F(0) and lp.ub[m * K + k] == 0.0
            else:
                assert ub is None and lp.ub[m * K + k] == np.inf
    assert ties == 2 and fixed == lp.count_vectors.shape[0] - ties  # {0,1/2,1}, {1/2,1/2,1/2}


def test_exact_multinomial_weights_sum_to_one():
    from mechopt.compile.counts import count_vectors, multinomial

    prior = np.array([F(1, 7), F(0), F(2, 7), F(4, 7)], dtype=object)
    cnt = count_vectors(5, 4)
    w = multinomial(cnt, prior)
    assert sum(w, F(0)) == 1 and all(isinstance(v, F) for v in w)
    assert all(v == 0 for v in w[cnt[:, 1] > 0])  # a type of mass 0 never appears
    # one count vector by hand: (2, 0, 1, 2) has 5!/(2! 1! 2!) = 30 orderings
    k = int(np.flatnonzero((cnt == [2, 0, 1, 2]).all(axis=1))[0])
    assert w[k] == 30 * F(1, 7) ** 2 * F(2, 7) * F(4, 7) ** 2
    np.testing.assert_allclose(multinomial(cnt, prior.astype(float)), w.astype(float), rtol=1e-12)


# ------------------------------------------------------------------ closed form: efficient public project
@pytest.mark.parametrize("types, prior, n, cost", [
    (*UNIFORM3, 3, F(5, 4)),   # R* = −25/108: infeasible
    (*UNIFORM3, 3, F(9, 4)),   # R* = 0 exactly: feasible on the boundary
    (*UNIFORM3, 3, F(11, 4)),  # R* = 1/108
    (*SKEWED4, 3, F(13, 6)),   # R* = −31/3000
    (*SKEWED4, 3, F(5, 2)),    # R* = 1/500
])
def test_efficient_public_project_matches_the_closed_form(small_counts, types, prior, n, cost):
    env = project(types, prior, n, cost)
    design = mo.Design(env, ic="bic", ir="interim", budget="ex_ante", allocation="efficient", objective="revenue")
    best = closed_form_revenue(types, prior, n, cost)
    r = design.solve(exact=True)
    assert r.lp.plan.counts
    if best < 0:
        assert r.status == "infeasible" and r.exact.status == "infeasible"
        cert = design.solve(certify=True).certificate  # the Farkas path of Result.certificate
        assert cert.kind == "infeasibility" and cert.verify(exact=True) and cert.exact
        assert r.certificate.verify(exact=True)
        fam = set(cert.weights.index.get_level_values("family"))
        assert {"budget", "ir", "ic"} <= fam  # the impossibility needs budget, participation and IC
    else:
        assert r.status == "optimal" and r.exact.objective == best
        cert = design.solve(certify=True).certificate
        assert cert.kind == "optimality" and cert.verify(exact=True) and cert.objective == best


# ------------------------------------------------------------------ count LP = plain LP, exactly
def _compare(design) -> tuple[str, F | None]:
    counted = design.solve(exact=True)
    plain = design.replace(symmetric=False).solve(exact=True)
    assert counted.lp.plan.counts and not plain.lp.plan.counts
    assert counted.status == plain.status == counted.exact.status
    if counted.status == "optimal":
        assert counted.exact.objective == plain.exact.objective
        assert counted.certificate.verify(exact=True)
    elif counted.status == "infeasible":
        assert counted.certificate.kind == "infeasibility" and counted.certificate.verify(exact=True)
    return str(counted.status), counted.exact.objective


@pytest.mark.parametrize("kw", [
    dict(allocation="free", ir="interim", budget="ex_ante", objective="welfare"),
    dict(allocation="free", ir="ex_ante", budget="ex_ante", objective="utility"),
    dict(allocation="efficient", ir="interim", budget="ex_ante", objective="revenue"),
    dict(allocation="efficient", ir="none", budget="ex_ante", objective="utility"),
    dict(allocation="free", ir="interim", budget="none", objective="revenue"),
])
def test_count_lp_optimum_equals_the_plain_lp_optimum(small_counts, kw):
    types, prior = SKEWED4
    env = project(types, prior, 3, F(4, 3))  # welfare ties, e.g. at {0, 1/3, 1}
    status, value = _compare(mo.Design(env, ic="bic", **kw))
    # efficient + revenue: infeasible (R* < 0 whichever way the ties are split); the others have optima
    assert (status, isinstance(value, F)) == (("infeasible", False) if kw["objective"] == "revenue"
                                               and kw["allocation"] == "efficient" else ("optimal", True))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 3), T=st.integers(2, 4), data=st.data())
def test_count_lp_equals_plain_lp_on_random_designs(n, T, data):
    import mechopt.compile.counts as counts

    weights = data.draw(st.lists(st.integers(1, 5), min_size=T, max_size=T))
    prior = [F(w, sum(weights)) for w in weights]
    types = sorted(set(data.draw(st.lists(st.integers(0, 8), min_size=T, max_size=T, unique=True))))
    types = [F(t, 4) for t in types]
    cost = F(data.draw(st.integers(0, 8 * n)), 4)  # multiples of 1/4: welfare ties happen
    kw = dict(ic=data.draw(st.sampled_from(["bic", "bic", "none"])),
              ir=data.draw(st.sampled_from(["interim", "interim", "ex_ante", "none"])),
              budget=data.draw(st.sampled_from(["ex_ante", "ex_ante", "none"])),
              allocation=data.draw(st.sampled_from(["free", "efficient"])),
              objective=data.draw(st.sampled_from(["revenue", "welfare", "utility", "gains", "feasibility"])))
    if data.draw(st.booleans()):  # the efficient-provision problem: often infeasible
        kw.update(ic="bic", ir="interim", budget="ex_ante", allocation="efficient")
    if kw["objective"] in ("revenue", "welfare", "utility") and kw["ir"] == "none" and kw["budget"] == "none":
        kw["budget"] = "ex_ante"  # keep most designs bounded
    old = counts.MIN_PROFILES
    counts.MIN_PROFILES = 0
    try:
        status, _ = _compare(mo.Design(project(types, prior, n, cost), **kw))
    finally:
        counts.MIN_PROFILES = old
    event(f"status {status}")
    event(f"allocation {kw['allocation']}")


# ------------------------------------------------------------------ certificates can fail
def test_tampered_certificates_fail(small_counts):
    types, prior = UNIFORM3
    env = project(types, prior, 3, F(5, 4))
    design = mo.Design(env, ic="bic", ir="interim", budget="ex_ante", allocation="efficient")
    cert = design.solve(certify=True).certificate
    assert cert.verify(exact=True)
    w = cert.weights
    budget = w.index[w.index.get_level_values("family") == "budget"][0]
    assert not cert.verify(weights=w.drop(budget))  # without the budget row nothing is contradicted
    lottery = w.index[w.index.get_level_values("family") == "lottery"][0]
    bad = w.copy()
    bad[lottery] = bad[lottery] * 2 + 1
    assert not cert.verify(weights=bad)
    cert.weights = w * -1  # negative weights on ≥ rows
    assert not cert.verify(exact=True) and not cert.exact
    # an optimality certificate with a perturbed dual
    opt = mo.Design(project(types, prior, 3, F(11, 4)), ic="bic", ir="interim", budget="ex_ante",
                    allocation="efficient", objective="revenue").solve(certify=True).certificate
    assert opt.verify(exact=True) and opt.objective == F(1, 108)
    dual = opt.weights.copy()
    dual.iloc[-1] += F(1, 1000)
    assert not opt.verify(weights=dual)


# ------------------------------------------------------------------ the exact mechanism
def test_exact_mechanism_is_feasible_in_exact_arithmetic(small_counts):
    """solve(exact=True) on counts: the exact profile table, checked here by hand in Fractions."""
    types, prior = SKEWED4
    n, cost = 3, F(3, 2)
    env = project(types, prior, n, cost)
    design = mo.Design(env, ic="bic", ir="interim", budget="ex_ante", objective="welfare")
    r = design.solve(exact=True)
    assert r.lp.plan.counts and r.status == "optimal"
    x, p, rule = r.exact.x, r.exact.p, r.exact.rule
    T, S = len(types), len(types) ** n
    assert x.shape == (S, 2) and p.shape == (S, n) and all(isinstance(v, F) for v in x.ravel())
    prof = np.stack(np.unravel_index(np.arange(S), (T,) * n), axis=1)
    assert all(sum(row, F(0)) == 1 and min(row) >= 0 for row in x.tolist())
    np.testing.assert_array_equal(rule.allocation(prof[:7]), x[:7])
    weight = [np.prod([prior[t] for j, t in enumerate(row) if j != 0], dtype=object) for row in prof.tolist()]
    # agent 0's interim probability of building and payment, reporting s
    X = [sum((weight[k] * x[k, 1] for k in range(S) if prof[k, 0] == s), F(0)) for s in range(T)]
    P = [sum((weight[k] * p[k, 0] for k in range(S) if prof[k, 0] == s), F(0)) for s in range(T)]
    for t in range(T):
        assert types[t] * X[t] - P[t] >= 0  # interim IR
        for s in range(T):
            assert types[t] * X[t] - P[t] >= types[t] * X[s] - P[s]  # BIC
    joint = [np.prod([prior[t] for t in row], dtype=object) for row in prof.tolist()]
    revenue = sum((joint[k] * (sum(p[k], F(0)) - cost * x[k, 1]) for k in range(S)), F(0))
    welfare = sum((joint[k] * (sum((types[t] for t in prof[k]), F(0)) - cost) * x[k, 1] for k in range(S)), F(0))
    assert revenue >= 0 and welfare == r.exact.objective


def test_exact_answer_without_a_table_keeps_the_rule(small_counts, monkeypatch):
    import mechopt.rules as rules

    monkeypatch.setattr(rules, "TABLE_LIMIT", 10)
    types, prior = UNIFORM3
    design = mo.Design(project(types, prior, 3, F(11, 4)), ic="bic", ir="interim", budget="ex_ante",
                       allocation="efficient", objective="revenue")
    r = design.solve(exact=True)
    assert r.status == "optimal" and r.exact.objective == F(1, 108)
    assert r.exact.x is None and r.exact.p is None and "result.exact.rule" in r.message
    assert r.exact.rule.allocation([[2, 2, 2]])[0].tolist() == [0, 1]  # Σθ = 3 > 11/4: built
    assert r.exact.rule.allocation([[0, 2, 2]])[0].tolist() == [1, 0]  # Σθ = 2 < 11/4: not built


# ------------------------------------------------------------------ 8 citizens × 11 types
@pytest.mark.slow
@pytest.mark.parametrize("cost", [F(4) + F(1, 20), F(4)])
def test_eight_citizens_efficient_is_infeasible_with_an_exact_certificate(cost):
    """Mailath & Postlewaite (1990): 8 citizens, types grid(0, 1, 11), cost about half the maximum: the
    efficient rule cannot be BIC, interim IR and balanced in expectation; 214 million profiles, 43,758
    count vectors.  Cost 4 + 1/20 has no welfare ties (sums are multiples of 1/10), so the closed form
    R* < 0 of the module docstring applies and is checked first; at cost 4 ties may be split either way."""
    n, T = 8, 11
    types, prior = [F(k, T - 1) for k in range(T)], [F(1, T)] * T
    if cost.denominator != 1:
        assert closed_form_revenue(types, prior, n, cost) < 0
    design = mo.Design(project(types, prior, n, cost), ic="bic", ir="interim", budget="ex_ante",
                       allocation="efficient")
    r = design.solve(certify=True)
    cert = r.certificate
    assert r.lp.plan.counts and r.status == "infeasible"
    assert cert.kind == "infeasibility" and cert.verify(exact=True) and cert.exact
    assert {"budget", "ir", "ic"} <= set(cert.weights.index.get_level_values("family"))
    # speed is a benchmark's business (measured 11-14 s on a 2-core machine, the float solve 5-8 s of it)


@pytest.mark.parametrize("types, prior, cost", [(*UNIFORM3, F(5, 4)), (*SKEWED4, F(4, 3))])
def test_farkas_weights_with_lottery_rows_eliminated(small_counts, types, prior, cost):
    """Without a dual ray (HiGHS's interior point gives none on the large case), the Farkas weights come from
    the small LP over the non-lottery rows; at welfare ties (cost 4/3 with types in thirds) some lotteries
    keep their own unknown.  The weights pass the exact check, and the check still rejects a broken copy."""
    from mechopt.certificates.build import farkas_weights

    env = project(types, prior, 3, cost)
    design = mo.Design(env, ic="bic", ir="interim", budget="ex_ante", allocation="efficient")
    lp = compile_design(design, plan=design.solve().lp.plan)
    model = ExactModel(lp)
    y, info = farkas_weights(model, None)
    assert "lottery rows eliminated" in info["method"], info
    check = model.check_farkas(y)
    assert check.ok and check.numbers["yb"] > 0
    L = lp.family("lottery")
    ties = sum(1 for m in lp.count_vectors.tolist() if sum(k * t for k, t in zip(m, types)) == cost)
    assert (f"{L.size - ties} of {L.size} lottery rows eliminated") in info["method"]
    broken = y.copy()
    broken[L.start] += 1
    assert not model.check_farkas(broken).ok


def test_exact_answer_without_a_dual_ray_uses_the_lottery_elimination(small_counts):
    """solve(exact=True) on an infeasible count LP when HiGHS returns no dual ray (its interior point
    returns none on the 8 × 11 case): the exact answer still comes with a verified Farkas proof."""
    from dataclasses import replace

    from mechopt.certificates import exact_result
    from mechopt.pipeline import recover_and_verify

    types, prior = UNIFORM3
    design = mo.Design(project(types, prior, 3, F(5, 4)), ic="bic", ir="interim", budget="ex_ante",
                       allocation="efficient")
    r = design.solve()
    assert r.status == "infeasible" and r.lp.plan.counts
    r.output = replace(r.output, dual_ray=None)
    e = exact_result(r, rebuild=lambda lp, out: recover_and_verify(design, lp, out, True))
    assert e.status == "infeasible" and e.exact.status == "infeasible"
    assert "lottery rows eliminated" in e.exact.method and e.certificate.verify(exact=True)
