"""The core engine against truths computed independently in the tests.

Closed forms used here (all on discrete type grids, computed with Fractions):

* Discrete Myerson (Myerson 1981, discretized): with types v_1 < … < v_T, masses f_k and
  F_k = Σ_{j≤k} f_j, the virtual value is φ_k = v_k − (v_{k+1} − v_k)(1 − F_k)/f_k; for
  regular (nondecreasing φ) independent bidders the optimal revenue (BIC or DSIC, interim
  IR) is E[max(0, max_i φ_i(v_i))].
* One buyer: the optimal mechanism is a posted price, revenue max_k v_k (1 − F_{k−1}).
* Bilateral trade on grid(0, 1, T), uniform: the largest revenue of an efficient BIC,
  interim-IR mechanism is (5 − T)/(6T) (derived in ``test_efficient_bilateral_trade_revenue``).
* Crémer–McLean: with a full-rank correlated prior, BIC + interim IR extracts the full
  surplus E[max_i v_i].
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import mechopt as mo


def discrete_myerson_revenue(types: list[list[Fraction]], priors: list[list[Fraction]]) -> Fraction:
    """E[max(0, max_i φ_i)] for independent bidders with regular discrete priors."""
    phis = []
    for v, f in zip(types, priors):
        F = np.cumsum(np.array(f, dtype=object))
        phi = [v[k] - ((v[k + 1] - v[k]) * (1 - F[k]) / f[k] if k + 1 < len(v) else 0) for k in range(len(v))]
        assert all(a <= b for a, b in zip(phi, phi[1:])), "test prior must be regular"
        phis.append(phi)
    total = Fraction(0)
    for idx in np.ndindex(*[len(v) for v in types]):
        prob = np.prod([priors[i][k] for i, k in enumerate(idx)])
        total += prob * max([Fraction(0)] + [phis[i][k] for i, k in enumerate(idx)])
    return total


def uniform(T: int) -> list[Fraction]:
    return [Fraction(1, T)] * T


def test_grid_is_exact():
    g = mo.grid(0, 1, 6)
    assert list(g) == [Fraction(k, 5) for k in range(6)]
    assert list(mo.grid(0.2, 1, 5)) == [Fraction(1, 5) + k * Fraction(1, 5) for k in range(5)]


def test_two_symmetric_bidders_match_discrete_myerson():
    T = 21
    grid = list(mo.grid(0, 1, T))
    expected = discrete_myerson_revenue([grid, grid], [uniform(T), uniform(T)])
    assert expected == Fraction(55, 126)
    env = mo.single_item([mo.Agent("b1", grid), mo.Agent("b2", grid)])
    for ic, ir in [("bic", "interim"), ("dsic", "ex_post"), ("dsic", "interim")]:
        r = mo.Design(env, ic=ic, ir=ir, objective="revenue").solve()
        assert r.status == "optimal" and r.verification["ok"]
        assert r.objective == pytest.approx(float(expected), abs=1e-9)


def test_asymmetric_bidders_match_discrete_myerson():
    g1 = list(mo.grid(0, 1, 11))
    g2 = list(mo.grid(0, 2, 9))
    # a decreasing-density prior for bidder 2 (still regular)
    w2 = [Fraction(9 - k, 45) for k in range(9)]
    expected = discrete_myerson_revenue([g1, g2], [uniform(11), w2])
    env = mo.single_item([mo.Agent("b1", g1), mo.Agent("b2", g2, prior=w2)])
    r = mo.Design(env, ic="bic", ir="interim").solve()
    assert r.status == "optimal" and r.verification["ok"]
    assert r.objective == pytest.approx(float(expected), abs=1e-9)


def test_seller_value_shifts_the_reserve():
    g = list(mo.grid(0, 1, 11))
    v0 = Fraction(3, 10)
    # with seller value v0, the revenue net of v0 is E[max(0, max_i φ_i − v0)]; one bidder suffices
    phi = [g[k] - (g[k + 1] - g[k]) * (11 - k - 1) if k < 10 else g[k] for k in range(11)]
    expected = sum((max(Fraction(0), p - v0) for p in phi), Fraction(0)) / 11
    env = mo.single_item([mo.Agent("b", g)], seller_value=v0)
    r = mo.Design(env, ic="dsic", ir="ex_post").solve()
    assert r.objective == pytest.approx(float(expected), abs=1e-9)


def test_single_buyer_posted_price():
    values = [Fraction(v) for v in (1, 2, 4, 5, 9)]
    prior = [Fraction(w, 20) for w in (6, 5, 4, 3, 2)]
    tail = [sum(prior[k:], Fraction(0)) for k in range(5)]
    expected = max(values[k] * tail[k] for k in range(5))
    env = mo.single_item([mo.Agent("buyer", values, prior=prior)])
    for det in (False, True):
        r = mo.Design(env, ic="bic", ir="interim", deterministic=det).solve()
        assert r.status == "optimal" and r.verification["ok"]
        assert r.objective == pytest.approx(float(expected), abs=1e-9)


def test_bic_optimum_equals_dsic_optimum_independent_single_item():
    rng = np.random.default_rng(3)
    agents = [
        mo.Agent("a", mo.grid(0, 1, 6), prior=rng.dirichlet(np.ones(6))),
        mo.Agent("b", mo.grid(0, 3, 5), prior=rng.dirichlet(np.ones(5))),
    ]
    env = mo.single_item(agents)
    bic = mo.Design(env, ic="bic", ir="interim").solve()
    dsic = mo.Design(env, ic="dsic", ir="ex_post").solve()
    assert bic.objective == pytest.approx(dsic.objective, abs=1e-8)


def test_full_surplus_extraction_with_correlated_prior():
    joint = np.array([[3, 1, 1], [1, 3, 1], [1, 1, 3]], dtype=float) / 15
    types = [1, 2, 4]
    env = mo.single_item([mo.Agent("b1", types), mo.Agent("b2", types)], prior=joint)
    full_surplus = sum(joint[i, j] * max(types[i], types[j]) for i in range(3) for j in range(3))
    r = mo.Design(env, ic="bic", ir="interim").solve()
    assert r.status == "optimal" and r.verification["ok"]
    assert r.reductions["bic"] == "conditional beliefs"
    assert r.objective == pytest.approx(full_surplus, abs=1e-8)
    # the agents keep nothing in expectation
    assert r.metrics["utility"] == pytest.approx(0, abs=1e-8)
    # with ex post IR and DSIC surplus extraction fails: revenue strictly lower
    dsic = mo.Design(env, ic="dsic", ir="ex_post").solve()
    assert dsic.objective < full_surplus - 1e-3


@pytest.mark.parametrize("T", [3, 5, 7, 11, 21])
def test_efficient_bilateral_trade_revenue(T):
    """Largest revenue of an efficient, BIC, interim-IR mechanism on grid(0, 1, T).

    Derivation (grid step Δ = 1/(T−1), uniform masses 1/T, no trade at ties, which is
    efficient and weakly cheapest): interim trade probabilities are Q_b(k) = k/T and
    Q_s(k) = (T−1−k)/T. Binding adjacent downward IC and IR of the lowest buyer / highest
    seller give rents E[U_b] = E[U_s] = Σ_k (1/T) Σ_{j<k} Δ j/T = (T−2)/(6T). Expected gains
    from trade are Σ_{d≥1} (T−d) dΔ / T² = (T+1)/(6T). Revenue = gains − rents =
    (5 − T)/(6T): positive for T < 5, zero at T = 5, → −1/6 (Myerson–Satterthwaite).
    """
    b, s = mo.Agent("buyer", mo.grid(0, 1, T)), mo.Agent("seller", mo.grid(0, 1, T))
    env = mo.bilateral_trade(b, s)
    r = mo.Design(env, ic="bic", ir="interim", budget="none", allocation="efficient").solve()
    assert r.status == "optimal" and r.verification["ok"]
    assert r.objective == pytest.approx((5 - T) / (6 * T), abs=1e-9)
    balanced = mo.Design(env, ic="bic", ir="interim", budget="ex_ante", allocation="efficient",
                         objective="feasibility").solve()
    assert balanced.status == ("optimal" if T <= 5 else "infeasible")


def test_second_best_bilateral_trade_approaches_9_64():
    gains = []
    for T in (11, 21, 41):
        b, s = mo.Agent("buyer", mo.grid(0, 1, T)), mo.Agent("seller", mo.grid(0, 1, T))
        r = mo.Design(mo.bilateral_trade(b, s), ic="bic", ir="interim", budget="ex_ante",
                      objective="welfare").solve()
        assert r.verification["ok"]
        gains.append(r.objective - 0.5)  # welfare counts the seller's E[θ_s] = 1/2
    # monotone approach to the continuum second best 9/64 (Myerson–Satterthwaite 1983)
    assert gains[0] > gains[1] > gains[2] > 9 / 64
    assert gains[2] - 9 / 64 < 0.01


def test_reductions_do_not_change_the_optimum():
    rng = np.random.default_rng(7)
    agents = [mo.Agent(f"b{i}", sorted(rng.choice(np.arange(1, 20), 5, replace=False)),
                       prior=rng.dirichlet(np.ones(5))) for i in range(2)]
    env = mo.single_item(agents)
    for ic, ir, budget in [("bic", "interim", "none"), ("dsic", "ex_post", "none"), ("bic", "ex_ante", "ex_ante")]:
        d = mo.Design(env, ic=ic, ir=ir, budget=budget)
        full = mo.compile.compile_design(d, reductions=False)
        reduced = d.compile()
        assert reduced.A.shape[0] < full.A.shape[0]
        from mechopt.backends import highs

        a, b = highs.solve(full), highs.solve(reduced)
        assert a.objective == pytest.approx(b.objective, abs=1e-8)


def test_partnership_equal_shares_dissolvable():
    agents = [mo.Agent(n, mo.grid(0, 1, 6)) for n in ("p1", "p2")]
    env = mo.partnership(agents, [0.5, 0.5])
    r = mo.Design(env, ic="bic", ir="interim", budget="exact", allocation="efficient",
                  objective="feasibility").solve()
    assert r.status == "optimal" and r.verification["ok"]
    one_seller = mo.partnership(agents, [1, 0])
    r = mo.Design(one_seller, ic="bic", ir="interim", budget="exact", allocation="efficient",
                  objective="feasibility").solve()
    assert r.status == "infeasible"


def test_public_project_vcg_welfare_and_multi_item_sizes():
    agents = [mo.Agent(n, [0, 1, 2]) for n in ("a", "b", "c")]
    env = mo.public_project(agents, cost=3)
    r = mo.Design(env, ic="dsic", ir="none", budget="none", allocation="efficient", objective="welfare").solve()
    W = env.welfare_table.max(axis=1) @ env.joint_prior.reshape(-1)
    assert r.objective == pytest.approx(W)
    two = mo.multi_item([mo.Agent("b", mo.grid(0, 1, 3))], items=2)
    assert two.shape == (9,) and two.n_outcomes == 4
    unit = mo.multi_item([mo.Agent("b", mo.grid(0, 1, 3))], items=2, valuation="unit_demand")
    assert unit.values[0][-1, unit.outcomes.index("b|b")] == 1.0


def test_unbounded_revenue_without_ir():
    env = mo.single_item([mo.Agent("b", [1, 2])])
    r = mo.Design(env, ic="dsic", ir="none").solve()
    assert r.status == "unbounded" and r.objective is None


def test_result_tables_and_duals_are_labelled():
    env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 5)), mo.Agent("b2", mo.grid(0, 1, 5))])
    r = mo.Design(env, ic="bic", ir="interim").solve()
    alloc = r.mechanism.allocation
    assert list(alloc.columns) == ["unsold", "b1", "b2"]
    assert alloc.index.names == ["b1", "b2"]
    np.testing.assert_allclose(alloc.sum(axis=1), 1)
    interim = r.mechanism.interim["b1"]
    assert {"b1", "payment", "utility", "prob"} <= set(interim.columns)
    ic = r.duals["ic"]
    assert {"agent", "type", "report", "dual"} <= set(ic.columns)
    assert (ic["dual"] >= -1e-9).all()
    assert set(r.duals) == {"cumulative", "border", "ic", "ir"}  # the Border reduction applies
    assert {"b1", "b2", "dual"} <= set(r.duals["border"].columns)
    assert "optimal" in repr(r)
    full = mo.Design(env, ic="bic", ir="interim").solve(border=False)
    assert set(full.duals) == {"lottery", "interim", "ic", "ir"}


def test_write_lp_file(tmp_path):
    env = mo.single_item([mo.Agent("b1", [1, 2])])
    lp = mo.Design(env, ic="dsic", ir="ex_post").compile()
    from mechopt.backends.highs import write_lp

    write_lp(lp, tmp_path / "m.mps")
    assert (tmp_path / "m.mps").read_text().startswith(("NAME", "*"))
    assert lp.sizes["rows"] == lp.A.shape[0]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: mo.Agent("a", [1, 2], prior=[0.5, 0.6]), "sums to"),
        (lambda: mo.Agent("a", [1, 2], prior=[-0.5, 1.5]), "negative"),
        (lambda: mo.Agent("a", [1, 2], prior=[1.0]), "shape"),
        (lambda: mo.Agent("a", [1, float("nan")]), "finite"),
        (lambda: mo.Agent("a", [2, 1]), "increasing"),
        (lambda: mo.single_item([mo.Agent("a", [1]), mo.Agent("a", [2])]), "unique"),
        (lambda: mo.Environment([mo.Agent("a", [1, 2])], ["x", "y"], [[[1, 2, 3], [1, 2, 3]]]), "shape"),
        (lambda: mo.Design(mo.single_item([mo.Agent("a", [1])]), ic="bayesian"), "dsic, bic, none"),
        (lambda: mo.partnership([mo.Agent("a", [1]), mo.Agent("b", [1])], [0.5, 0.6]), "sum"),
        (lambda: mo.single_item([mo.Agent("a", [1, 2]), mo.Agent("b", [1, 2])], prior=[[1, 0]]), "shape"),
    ],
)
def test_bad_input_gives_clear_errors(make, message):
    with pytest.raises(mo.MechoptError, match=message):
        make()


def test_discretize_midpoint_and_quantile():
    from scipy import stats

    types, prior = mo.discretize(stats.uniform(0, 1), 4)
    np.testing.assert_allclose(types, [0.125, 0.375, 0.625, 0.875])
    np.testing.assert_allclose(prior, 0.25)
    t, p = mo.discretize(stats.beta(2, 5), 50, method="quantile")
    assert np.all(np.diff(t) > 0) and p.sum() == pytest.approx(1)
    with pytest.raises(mo.MechoptError, match="support"):
        mo.discretize(stats.norm(), 10)
    t, p = mo.discretize(stats.norm(), 10, support=(-3, 3))
    assert p.sum() == pytest.approx(1) and t[0] == pytest.approx(-2.7)


def test_one_bidder_continuum_limit_quarter():
    """Uniform[0, 1], one buyer: the optimal mechanism posts price 1/2, revenue 1/4 (Myerson 1981).

    Midpoint discretization with n cells (n even): types (k + 1/2)/n with mass 1/n; price
    (k + 1/2)/n sells to n − k types, revenue (k + 1/2)(n − k)/n², maximal at k = n/2:
    (n + 1)/(4n) = 1/4 + 1/(4n). The discretization gap is therefore O(1/n).
    """
    from scipy import stats

    n = 40
    env = mo.single_item([mo.Agent("b", mo.discretize(stats.uniform(0, 1), n))])
    r = mo.Design(env, ic="dsic", ir="ex_post").solve()
    assert r.objective == pytest.approx((n + 1) / (4 * n), abs=1e-9)
    assert abs(r.objective - 0.25) <= 1 / (4 * n) + 1e-9
