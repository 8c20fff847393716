"""The Border reduction (single-item BIC on interim win probabilities) is exact."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import mechopt as mo
from mechopt.compile import compile_design

BORDER = "interim (Border)"


def both(env, **design):
    """Solve with the Border reduction and with the ex post LP; check both and return them."""
    d = mo.Design(env, **design)
    red, full = d.solve(), d.solve(border=False)
    assert red.reductions["allocation"] == BORDER, red.reductions.get("border_reason")
    assert full.reductions["allocation"] == "ex post"
    assert red.status == full.status == "optimal"
    assert red.objective == pytest.approx(full.objective, abs=1e-8)
    assert red.verification["ok"], red.verification
    assert "recover_seconds" in red.solver and "recover_seconds" not in full.solver
    assert red.lp.sizes["cols"] < full.lp.sizes["cols"]
    assert {"cumulative", "border", "ic"} <= set(red.duals) and "lottery" not in red.duals
    x = red.mechanism.allocation.to_numpy()
    np.testing.assert_allclose(x.sum(axis=1), 1, atol=1e-9)
    assert (x >= -1e-12).all()
    return red, full


def test_symmetric_uniform():
    env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 11)), mo.Agent("b2", mo.grid(0, 1, 11))])
    red, _ = both(env, ic="bic", ir="interim", objective="revenue", symmetric=False)
    assert set(red.lp.labels("border").columns) == {"b1", "b2"}
    assert red.reductions["symmetry"] == "off" and red.reductions["why"]["symmetry"] == "symmetric=False"
    sym, _ = both(env, ic="bic", ir="interim", objective="revenue")  # identical bidders: one interim rule
    assert sym.lp.sizes["families"]["border"] == 11 and sym.reductions["why"]["symmetry"].startswith("applies")


def test_asymmetric_grids_and_priors():
    env = mo.single_item([
        mo.Agent("b1", mo.grid(0, 1, 8)),
        mo.Agent("b2", mo.grid(Fraction(1, 5), Fraction(3, 2), 6), prior=[0.1, 0.2, 0.3, 0.1, 0.1, 0.2]),
    ])
    both(env, ic="bic", ir="interim", objective="revenue")


def test_irregular_prior_needs_ironing():
    bimodal = np.array([5, 1, 1, 1, 5, 1, 1, 1, 5], dtype=float)
    env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 9), prior=bimodal / bimodal.sum()),
                          mo.Agent("b2", mo.grid(0, 1, 7))])
    both(env, ic="bic", ir="interim", objective="revenue")


def test_three_bidders():
    env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 5)), mo.Agent("b2", mo.grid(0, 2, 4)),
                          mo.Agent("b3", mo.grid(1, 2, 5), prior=[0.1, 0.3, 0.2, 0.2, 0.2])])
    red, _ = both(env, ic="bic", ir="interim", objective="revenue")
    assert red.lp.sizes["families"]["border"] == 6 * 5 * 6 - 1


def test_seller_value():
    env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 9)), mo.Agent("b2", mo.grid(0, 1, 9))],
                         seller_value=Fraction(3, 10))
    both(env, ic="bic", ir="interim", objective="revenue")
    both(env, ic="bic", ir="interim", objective="welfare")


@pytest.mark.parametrize("ir,budget,objective", [
    ("ex_ante", "none", "revenue"),
    ("interim", "ex_ante", "welfare"),
    ("ex_ante", "ex_ante", "utility"),
    ("none", "ex_ante", "utility"),
])
def test_ex_ante_constraints_and_other_objectives(ir, budget, objective):
    env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 7)), mo.Agent("b2", mo.grid(0, 1, 6))],
                         seller_value=Fraction(1, 5))
    both(env, ic="bic", ir=ir, budget=budget, objective=objective)


def test_exact_optimality_certificate():
    env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 21)), mo.Agent("b2", mo.grid(0, 1, 21))])
    r = mo.Design(env, ic="bic", ir="interim", objective="revenue").solve(certify=True)
    assert r.reductions["allocation"] == BORDER
    c = r.certificate
    assert c.verify(exact=True)
    assert c.objective == Fraction(55, 126)
    twin = compile_design(r.design, exact=True, **r.lp.options)
    assert twin.A.shape == r.lp.A.shape and twin.reductions["allocation"] == BORDER


def test_cvxpy_backend_uses_the_ex_post_lp():
    env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 5)), mo.Agent("b2", mo.grid(0, 1, 5))])
    d = mo.Design(env, ic="bic", ir="interim", objective="revenue")
    r = d.solve(backend="cvxpy")
    assert r.reductions["allocation"] == "ex post"
    assert r.objective == pytest.approx(d.solve().objective, abs=1e-6)


AGENTS = [mo.Agent("b1", mo.grid(0, 1, 5)), mo.Agent("b2", mo.grid(0, 1, 5))]


@pytest.mark.parametrize("env,design", [
    (mo.single_item(AGENTS), dict(ic="dsic", ir="ex_post")),
    (mo.single_item(AGENTS, prior=np.full((5, 5), 1 / 25) + np.diag(np.full(5, 0.01)) - 0.01 / 5),
     dict(ic="bic", ir="interim")),
    (mo.single_item(AGENTS), dict(ic="none", ir="interim")),
    (mo.single_item(AGENTS), dict(ic="bic", ir="interim", allocation="efficient")),
    (mo.single_item(AGENTS), dict(ic="bic", ir="interim", deterministic=True)),
    (mo.single_item(AGENTS), dict(ic="bic", ir="ex_post")),
    (mo.single_item(AGENTS), dict(ic="bic", ir="interim", budget="ex_post")),
    (mo.bilateral_trade(*AGENTS), dict(ic="bic", ir="interim", budget="ex_ante", objective="welfare")),
])
def test_refused_where_it_does_not_provably_apply(env, design):
    d = mo.Design(env, **design)
    lp = d.compile()
    assert lp.reductions.get("allocation") != BORDER
    assert "x" in lp.column_blocks()
    with pytest.raises(mo.SpecError):
        compile_design(d, border=True)


def test_size_rule_and_switches():
    tiny = mo.single_item([mo.Agent("b1", [1, 2]), mo.Agent("b2", [1, 2])])  # 9 thresholds > 2·4 profiles
    d = mo.Design(tiny, ic="bic", ir="interim", symmetric=False)
    assert d.compile().reductions["allocation"] == "ex post"
    assert mo.Design(tiny, ic="bic", ir="interim").compile().reductions["allocation"] == BORDER  # symmetric: T rows
    forced = d.solve(border=True)
    assert forced.reductions["allocation"] == BORDER and forced.verification["ok"]
    assert forced.objective == pytest.approx(d.solve().objective, abs=1e-9)
    one = mo.Design(mo.single_item([mo.Agent("b", mo.grid(0, 1, 6))]), ic="bic", ir="interim")
    assert one.compile().reductions["allocation"] == BORDER
    assert one.solve().objective == pytest.approx(one.solve(border=False).objective, abs=1e-9)
