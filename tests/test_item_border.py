"""Several bidders × several items, additive values, BIC: the per-item reduced form
(:mod:`mechopt.compile.item_border`) against independent LPs and brute force.

The reference LP in :func:`linprog_revenue` is written here from the definitions (ex post
lotteries over assignments, interim payments, BIC and interim IR on interim
expectations), with scipy's linprog: nothing of mechopt's compiler is used.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import mechopt as mo
from mechopt.compile import compile_design
from mechopt.compile import item_border as ib
from mechopt.recover import single_item_allocation


def linprog_revenue(types: list[np.ndarray], priors: list[np.ndarray], items: int, outside: float = 0.0) -> float:
    """Optimal BIC + interim IR revenue of the ex post LP, written from scratch.

    Variables: x[s, a] ≥ 0 for every type profile s and assignment a (item → bidder or nobody),
    Σ_a x[s, a] = 1; interim payments P_i[t].  Bidder i of type t reporting r expects
    Σ_s' π_{-i}(s') Σ_a x[(r, s'), a] Σ_{j: a_j = i} t_j − P_i[r].
    """
    n = len(types)
    T = [len(t) for t in types]
    profiles = list(itertools.product(*[range(k) for k in T]))
    assigns = list(itertools.product(range(-1, n), repeat=items))
    S, K = len(profiles), len(assigns)
    nx = S * K
    nP = sum(T)
    offP = np.concatenate([[0], np.cumsum(T)])[:-1] + nx
    N = nx + nP

    def xcol(s, a):
        return s * K + a

    A_eq, b_eq = [], []
    for s in range(S):
        row = np.zeros(N)
        row[[xcol(s, a) for a in range(K)]] = 1
        A_eq.append(row)
        b_eq.append(1)

    def interim_value(i, t_true, r):  # coefficients of x in bidder i's expected value (true t, report r)
        row = np.zeros(N)
        for s, prof in enumerate(profiles):
            if prof[i] != r:
                continue
            w = np.prod([priors[k][prof[k]] for k in range(n) if k != i])
            for a, asg in enumerate(assigns):
                v = sum(types[i][t_true][j] for j in range(items) if asg[j] == i)
                row[xcol(s, a)] += w * v
        return row

    A_ub, b_ub = [], []
    for i in range(n):
        vals = {(t, r): interim_value(i, t, r) for t in range(T[i]) for r in range(T[i])}
        for t in range(T[i]):
            ir = vals[(t, t)].copy()
            ir[offP[i] + t] = -1
            A_ub.append(-ir)
            b_ub.append(-outside)
            for r in range(T[i]):
                if r != t:
                    row = vals[(t, t)] - vals[(t, r)]
                    row[offP[i] + t] -= 1
                    row[offP[i] + r] += 1
                    A_ub.append(-row)
                    b_ub.append(0)
    c = np.zeros(N)
    for i in range(n):
        c[offP[i]: offP[i] + T[i]] = -np.asarray(priors[i], dtype=float)
    bounds = [(0, None)] * nx + [(None, None)] * nP
    res = linprog(c, A_ub=np.array(A_ub), b_ub=b_ub, A_eq=np.array(A_eq), b_eq=b_eq, bounds=bounds, method="highs")
    assert res.status == 0
    return -res.fun


def _vectors(grid: list[float], items: int) -> np.ndarray:
    return np.array(list(itertools.product(grid, repeat=items)), dtype=float)


@pytest.mark.parametrize("grid,items,n", [([0, 1], 2, 2), ([0, 0.5, 1], 2, 2), ([0, 1], 2, 3), ([0, 1], 3, 2)])
def test_symmetric_revenue_equals_independent_lp(grid, items, n):
    bidders = [mo.Agent(f"b{i}", mo.grid(grid[0], grid[-1], len(grid))) for i in range(n)]
    r = mo.Design(mo.multi_item(bidders, items=items), ic="bic", ir="interim", objective="revenue").solve()
    assert r.status == "optimal" and r.reductions["allocation"] == "interim per item (Border)"
    assert "1 interim rule(s)" in r.reductions["item_border"]
    vec = _vectors(grid, items)
    pri = np.full(len(vec), 1 / len(vec))
    ref = linprog_revenue([vec] * n, [pri] * n, items)
    assert r.objective == pytest.approx(ref, abs=1e-8)
    assert r.verification["ok"]


def test_asymmetric_priors_and_outside_option_equal_independent_lp():
    """Bidder b's item values are on a different grid with a skewed prior; both have an outside option."""
    pa = [Fraction(1, 2), Fraction(1, 2)]
    pb = [Fraction(1, 6), Fraction(1, 3), Fraction(1, 2)]
    a = mo.Agent("a", np.array([[Fraction(x), Fraction(y)] for x in (0, 1) for y in (0, 1)], dtype=object),
                 prior=[p * q for p in pa for q in pa], outside=Fraction(1, 10))
    vb = (0, Fraction(1, 2), 2)
    b = mo.Agent("b", np.array([[x, y] for x in vb for y in vb], dtype=object),
                 prior=[p * q for p in pb for q in pb], outside=Fraction(1, 10))
    r = mo.Design(mo.multi_item([a, b], items=2), ic="bic", ir="interim", objective="revenue").solve()
    assert r.status == "optimal" and "2 interim rule(s)" in r.reductions["item_border"]
    ref = linprog_revenue([np.asarray(a.types, float), np.asarray(b.types, float)],
                          [np.asarray(a.prior, float), np.asarray(b.prior, float)], 2, outside=0.1)
    assert r.objective == pytest.approx(ref, abs=1e-8)


def test_identical_bidders_get_identical_interim_rules_and_marginals_match_q():
    bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, 4)) for i in range(2)]
    r = mo.Design(mo.multi_item(bidders, items=2), ic="bic", ir="interim", objective="revenue").solve()
    lp = r.lp
    Q, _ = ib.interim_rules(lp.layout, r.output.z, lp.design.env)
    np.testing.assert_allclose(Q[0], Q[1])
    # the recovered ex post lottery has exactly these per-item interim probabilities
    env = lp.design.env
    x = r.mechanism.x.reshape(env.shape + (env.n_outcomes,))
    asg = np.array([[(-1 if p == "-" else int(p[1])) for p in o.split("|")] for o in env.outcomes])
    for i in range(2):
        for j in range(2):
            won = x[..., asg[:, j] == i].sum(axis=-1)  # (T0, T1)
            interim = (won * np.asarray(env.agents[1 - i].prior)[None if i == 0 else slice(None),
                                                                 slice(None) if i == 0 else None]).sum(axis=1 - i)
            np.testing.assert_allclose(interim, Q[i][:, j], atol=1e-7)


def test_symmetric_false_keeps_one_rule_per_bidder_same_optimum():
    bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, 3)) for i in range(2)]
    env = mo.multi_item(bidders, items=2)
    r1 = mo.Design(env, ic="bic", ir="interim").solve()
    r2 = mo.Design(env, ic="bic", ir="interim", symmetric=False).solve()
    assert "2 interim rule(s)" in r2.reductions["item_border"]
    assert r1.objective == pytest.approx(r2.objective, abs=1e-9)


def test_dsic_unit_demand_and_correlated_priors_do_not_use_it():
    bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, 2)) for i in range(2)]
    for env, design_kw, why in [
        (mo.multi_item(bidders, items=2), {"ic": "dsic", "ir": "ex_post"}, "ic='dsic'"),
        (mo.multi_item(bidders, items=2, valuation="unit_demand"), {"ic": "bic"}, "not additive"),
    ]:
        r = mo.Design(env, **design_kw).solve()
        assert why in r.reductions["why"]["item_border"]
        assert r.reductions.get("allocation") != "interim per item (Border)"


def test_unbounded_relaxation_is_decided_on_every_ic_pair():
    bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, 3)) for i in range(2)]
    d = mo.Design(mo.multi_item(bidders, items=2), ic="bic", ir="none", objective="revenue")
    r = d.solve()
    assert r.status == "unbounded"
    assert r.certificate.verify()


def test_unbounded_certificate_point_meets_every_border_row():
    """The relaxation's feasible point can break Border rows never generated; the certificate must come
    from a formulation where its point is a real mechanism (here: the ex post LP)."""
    a0 = mo.Agent("a0", [[5, 1], [0, 5], [0, 3], [0, 2]], [Fraction(1, 8), Fraction(1, 4), Fraction(1, 2),
                                                             Fraction(1, 8)])
    a1 = mo.Agent("a1", [[2, 2], [0, 5]], [Fraction(4, 5), Fraction(1, 5)])
    r = mo.Design(mo.multi_item([a0, a1], items=2), ic="bic", ir="interim", objective="utility").solve()
    assert r.status == "unbounded" and r.certificate.verify()
    assert not r.lp.plan.item_border
    assert any(f["reduction"] == "item_border" for f in r.reductions["fallback"])


def test_small_type_masses_are_recovered_without_falling_back():
    """Skewed discretized priors (type vectors of mass ~4e-7): the level construction reads tight sets
    up to a tolerance; the recovery must still match Q (else the verifier rejects, falls back)."""
    import scipy.stats as ss

    ag = [mo.Agent(f"b{i}", mo.discretize(ss.beta(2, 5), 6)) for i in range(2)]
    d = mo.Design(mo.multi_item(ag, items=2), ic="bic", ir="interim")
    r = d.solve(fallback=False)
    assert r.status == "optimal" and r.verification["ok"]
    assert r.objective == pytest.approx(d.solve(reductions=False).objective, abs=1e-8)


def test_design_compile_is_the_full_lp_not_a_relaxation():
    d = mo.Design(mo.multi_item([mo.Agent(f"b{i}", mo.grid(0, 1, 2)) for i in range(2)], items=2))
    lp = d.compile()
    assert not lp.plan.item_border and "lottery" in lp.sizes["families"]


def test_sweep_warm_start_does_not_slow_the_generation_rounds():
    from mechopt.sweeps import WarmStart

    d = mo.Design(mo.multi_item([mo.Agent(f"b{i}", mo.grid(0, 1, 5)) for i in range(2)], items=2),
                  objective="welfare")
    cold, warm = d.solve(), d.solve(warm=WarmStart())
    assert warm.objective == pytest.approx(cold.objective, abs=1e-9)
    assert warm.solver["item_rounds"] <= cold.solver["item_rounds"] + 2  # hot-started rounds, not cold ones


def test_exact_twin_has_the_float_lps_coefficients():
    bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, 3)) for i in range(2)]
    d = mo.Design(mo.multi_item(bidders, items=2), ic="bic", ir="interim", budget="ex_ante")
    lp = d.solve().lp
    twin = compile_design(d, exact=True, plan=lp.plan)
    ex = twin.exact
    import scipy.sparse as sp

    A = sp.coo_matrix(([float(v) for v in ex["vals"]], (ex["rows"], ex["cols"])), shape=lp.A.shape).toarray()
    np.testing.assert_allclose(A, lp.A.toarray(), atol=1e-15)
    np.testing.assert_allclose([float(v) for v in ex["rhs"]], lp.rhs, atol=1e-15)


def test_rejected_recovery_falls_back_to_the_ex_post_lp(monkeypatch):
    import mechopt.recover as rec

    def broken(lp, z):
        env = lp.design.env
        x = np.zeros((env.n_profiles, env.n_outcomes))
        x[:, -1] = 1.0  # every item to the last bidder: not the LP's interim rule
        return x

    monkeypatch.setattr(rec, "item_allocation", broken)
    bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, 2)) for i in range(2)]
    d = mo.Design(mo.multi_item(bidders, items=2), ic="bic", ir="interim")
    r = d.solve()
    assert r.status == "optimal" and r.verification["ok"]
    assert any(f["reduction"] == "item_border" for f in r.reductions["fallback"])
    ref = linprog_revenue([_vectors([0, 1], 2)] * 2, [np.full(4, 0.25)] * 2, 2)
    assert r.objective == pytest.approx(ref, abs=1e-8)


# ---------------------------------------------------------------------------
# separation and recovery against brute force


def _brute_worst(Q: list[np.ndarray], f: list[np.ndarray]) -> float:
    """max over ALL set profiles of Σ_i Σ_{A_i} f Q − 1 + Π (1 − f(A_i)) (Border's inequalities)."""
    best = -np.inf
    subsets = [list(itertools.product([0, 1], repeat=q.size)) for q in Q]
    for combo in itertools.product(*subsets):
        lhs = sum(float(np.dot(np.array(m), fi * qi)) for m, fi, qi in zip(combo, f, Q))
        stay = np.prod([1 - float(np.dot(np.array(m), fi)) for m, fi in zip(combo, f)])
        best = max(best, lhs - 1 + stay)
    return best


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6))
def test_prefix_separation_finds_the_worst_border_violation(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    T = [int(rng.integers(1, 5)) for _ in range(n)]
    f = [rng.dirichlet(np.ones(t)) for t in T]
    Q = [rng.uniform(0, 1.2 / n, t) for t in T]
    D, _ = ib.border_slack(Q, f)
    brute = _brute_worst(Q, f)
    event("violated" if brute > 1e-12 else "feasible")
    event(f"{n} agents")
    assert float(D.max()) == pytest.approx(brute, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6))
def test_single_item_recovery_reproduces_a_feasible_interim_rule(seed):
    """Q is the interim rule of a random ex post allocation (so Border-feasible); the recovered
    allocation must have exactly that interim rule, whatever order Q puts the types in."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 4))
    T = [int(rng.integers(1, 5)) for _ in range(n)]
    f = [rng.dirichlet(np.ones(t)) for t in T]
    y = rng.dirichlet(np.ones(n + 1), size=int(np.prod(T)))  # column 0: unassigned
    y = y.reshape(tuple(T) + (n + 1,))
    joint = f[0]
    for fi in f[1:]:
        joint = np.multiply.outer(joint, fi)
    Q = []
    for i in range(n):
        axes = tuple(k for k in range(n) if k != i)
        Q.append((y[..., i + 1] * joint).sum(axis=axes) / f[i])
    x = single_item_allocation(Q, f).reshape(tuple(T) + (n + 1,))
    assert np.all(x >= -1e-9) and np.allclose(x.sum(axis=-1), 1)
    for i in range(n):
        axes = tuple(k for k in range(n) if k != i)
        np.testing.assert_allclose((x[..., i + 1] * joint).sum(axis=axes) / f[i], Q[i], atol=1e-7)
    event(f"{n} agents")


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6))
def test_random_designs_match_the_plain_lp(seed):
    """Random 2–3 bidders × 2 items: the reduced form's status and optimum equal the plain ex post LP's."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 4))
    T = 2 if n == 3 else int(rng.integers(2, 4))
    bidders = []
    same = rng.random() < 0.5
    for i in range(n):
        if same and i > 0:
            bidders.append(mo.Agent(f"b{i}", bidders[0].types_exact, prior=bidders[0].prior_exact,
                                    outside=bidders[0].outside_exact[0]))
            continue
        pts = np.sort(rng.choice(np.arange(0, 7), size=T, replace=False))
        w = rng.integers(1, 5, size=T)
        bidders.append(mo.Agent(f"b{i}", [Fraction(int(v), 4) for v in pts],
                                prior=[Fraction(int(v), int(w.sum())) for v in w],
                                outside=Fraction(int(rng.integers(0, 2)), 4)))
    env = mo.multi_item(bidders, items=2)
    ir = str(rng.choice(["interim", "ex_ante"]))
    budget = str(rng.choice(["none", "ex_ante", "exact"]))
    objective = str(rng.choice(["revenue", "welfare", "gains"]))
    d = mo.Design(env, ic="bic", ir=ir, budget=budget, objective=objective)
    r1 = d.solve()
    r2 = d.solve(reductions=False, ic_generation=False)
    event("identical bidders" if same else "different bidders")
    event(f"{objective}, budget {budget}")
    assert r1.reductions.get("allocation") == "interim per item (Border)"
    assert r1.status == r2.status
    if r1.status == "optimal":
        assert r1.verification["ok"]
        assert r1.objective == pytest.approx(r2.objective, abs=1e-7)


def test_face_is_taken_on_the_full_lp_not_the_generated_relaxation():
    """The optimal face of the reduced-form result equals the face computed from the plain LP's result."""
    bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, 3)) for i in range(2)]
    d = mo.Design(mo.multi_item(bidders, items=2), ic="bic", ir="interim", objective="revenue")
    on, off = d.solve(), d.solve(reductions=False)
    f_on, f_off = on.face(("revenue", "welfare")), off.face(("revenue", "welfare"))
    np.testing.assert_allclose(f_on[["min", "max"]].to_numpy(float), f_off[["min", "max"]].to_numpy(float), atol=1e-7)
    assert f_on.loc["revenue", "width"] < 1e-6


def test_presolve_unboundedness_claim_without_a_ray_is_rechecked():
    """HiGHS's presolve called this bounded ex post LP unbounded (no primal ray); the backend re-solves
    without presolve and gets the optimum the per-item reduced form finds."""
    t = [0, Fraction(7, 3), Fraction(5, 3), 2, Fraction(4, 3), Fraction(-2, 3)]
    w = [4503, 2835, 218942, 1289, 769583, 2849]
    f = [Fraction(x, sum(w)) for x in w]
    u = [-1, 0, Fraction(-1, 2), Fraction(-1, 2), Fraction(1, 2), Fraction(-1, 2)]
    env = mo.multi_item([mo.Agent(f"a{i}", [[v] for v in t], f, u) for i in range(3)], items=1)
    d = mo.Design(env, ic="bic", ir="ex_ante", budget="ex_post", objective="utility")
    plain, reduced = d.solve(reductions=False), d.solve()
    assert plain.status == reduced.status == "optimal"
    assert plain.verification["ok"] and reduced.verification["ok"]
    assert plain.objective == pytest.approx(reduced.objective, abs=1e-8)


def test_identical_bidders_beyond_the_table_get_an_item_rule(monkeypatch):
    """Forced onto the rule path (table limit patched small): the ItemRule (one hierarchical tree per item,
    items drawn independently) has the LP's per-item interim rule, its optimum equals the plain LP's, and
    its tabulated lotteries reproduce the interim probabilities computed here from the table."""
    import mechopt.compile.item_border as ibm
    import mechopt.pipeline as pl

    bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, 3)) for i in range(3)]
    env = mo.multi_item(bidders, items=2)
    d = mo.Design(env, ic="bic", ir="interim", objective="revenue")
    plain = d.solve(reductions=False)
    monkeypatch.setattr(ibm, "MAX_TABLE", 100)
    monkeypatch.setattr(pl, "MAX_TABLE", {**pl.MAX_TABLE, "per-item Border": 100})
    r = d.solve()
    rule = r.mechanism.rule
    assert type(rule).__name__ == "ItemRule" and r.verification["ok"]
    assert r.verification["checked_on"].startswith("interim quantities")
    assert r.objective == pytest.approx(plain.objective, abs=1e-8)
    x, _ = rule.tabulate()  # 729 profiles x 27 assignments: small enough to check by hand
    assert np.all(x >= -1e-12) and np.allclose(x.sum(axis=1), 1.0)
    Q, _ = ib.interim_rules(r.lp.layout, r.output.z, env)
    f = np.asarray(env.agents[0].prior, dtype=float)
    T = f.size
    asg = np.array([[(-1 if p == "-" else int(p[1])) for p in o.split("|")] for o in env.outcomes])
    table = x.reshape(T, T, T, -1)
    for j in range(2):
        won = table[..., asg[:, j] == 0].sum(axis=-1)  # bidder b0 gets item j, (T, T, T)
        interim = np.einsum("abc,b,c->a", won, f, f)
        np.testing.assert_allclose(interim, Q[0][:, j], atol=1e-7)


def test_three_bidders_two_items_without_a_profile_table():
    """3 identical bidders x 2 items on grid(0, 1, 11): 1.77 million profiles (the ex post LP would need
    48 million lottery columns). The item rule is verified on interim quantities; its revenue lies between
    two theorems' bounds: selling each item by its own optimal auction is feasible (Myerson 1981: revenue
    E[max(φ(θ_1), φ(θ_2), φ(θ_3), 0)] per item, φ_k = θ_k − (θ_{k+1} − θ_k)(1 − F_k)/f_k, regular here)
    and no IR mechanism earns more than the expected surplus E[Σ_j max_i θ_ij]."""
    env = mo.multi_item([mo.Agent(f"b{i}", mo.grid(0, 1, 11)) for i in range(3)], items=2)
    r = mo.Design(env, ic="bic", ir="interim", objective="revenue").solve()
    assert r.status == "optimal" and r.verification["ok"] and r.mechanism.x is None
    k = np.arange(11)
    phi = (2 * k - 10) / 10
    top = np.maximum(np.maximum.outer(np.maximum.outer(phi, phi), phi), 0)
    separate = 2 * top.mean()
    theta = k / 10
    surplus = 2 * np.maximum.outer(np.maximum.outer(theta, theta), theta).mean()
    assert separate - 1e-9 <= r.objective <= surplus
    assert r.objective > separate + 0.01  # screening across items pays with three bidders too
    # the rule evaluates at any profile: the strongest profile (every value 1) sells both items
    top_type = env.agents[0].n_types - 1
    lottery = r.mechanism.rule.allocation([top_type] * 3)
    assert lottery.sum() == pytest.approx(1.0) and lottery[env.outcomes.index("-|-")] < 1e-9
    # the summaries read the rule's interim tables ("item j" columns): no table needed
    m = r.mechanism.metrics
    assert m["revenue"] == pytest.approx(r.objective, abs=1e-9) and m["welfare"] <= surplus + 1e-9
    assert "optimal" in repr(r) and "optimal" in str(r)
    with pytest.raises(mo.errors.SpecError, match="ex post LP"):
        r.face()
    with pytest.raises(ValueError, match="integer type indices"):
        r.mechanism.rule.allocation([[1.7, 2, 3]])
    # an exact budget needs ex post balanced payments, which the rule does not carry: refused clearly
    with pytest.raises(mo.errors.MechoptError, match="item rule|fewer"):
        mo.Design(env, ic="bic", ir="interim", budget="exact", objective="welfare").solve()


def test_border_rows_are_labelled_by_item_and_set_sizes():
    env = mo.multi_item([mo.Agent(f"b{i}", mo.grid(0, 1, 3)) for i in range(2)], items=2)
    r = mo.Design(env, ic="bic", ir="interim").solve()
    lab = r.lp.labels("border")
    assert list(lab.columns) == ["item", "b0 set", "b1 set"]
    # the first row of each item is every type of every bidder: Σ_i E[Q_i(·, j)] ≤ 1
    first = lab.groupby("item").head(1)
    assert (first[["b0 set", "b1 set"]] == 9).all().all()
    # the rows' own coefficients agree with the labelled sizes (f = 1/9 per type)
    rows = r.lp.family("border")
    A = r.lp.A[rows.start: rows.stop]
    assert np.allclose(-A.sum(axis=1).A.ravel(), (lab["b0 set"] + lab["b1 set"]) / 9)
    assert r.duals["border"].columns[:3].tolist() == ["item", "b0 set", "b1 set"]
