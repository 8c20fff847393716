"""Duals of the revenue LP are Myerson's virtual values (closed forms computed here, independently)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import mechopt as mo
from mechopt import duality as du

ATOL = 1e-5


# ----------------------------------------------------------------- independent closed forms
def myerson_raw(v, f):
    """φ_k = v_k − (v_{k+1} − v_k)(1 − F_k)/f_k, φ at the top = v_top (exact rationals)."""
    v = [Fraction(x) for x in v]
    f = [Fraction(x) for x in f]
    out, F = [], Fraction(0)
    for k in range(len(v)):
        F += f[k]
        step = v[k + 1] - v[k] if k + 1 < len(v) else Fraction(0)
        out.append(v[k] - step * (1 - F) / f[k])
    return np.array([float(x) for x in out])


def myerson_ironed(v, f):
    """Slopes of the greatest convex minorant of k ↦ (F_k, Σ_{j≤k} f_j φ_j), by pool-adjacent-violators."""
    phi = myerson_raw(v, f)
    w = np.asarray(f, dtype=float)
    blocks = []  # [weighted sum, weight, count]
    for p, m in zip(phi, w):
        blocks.append([p * m, m, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, m2, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += m2
            blocks[-1][2] += c
    return np.concatenate([[b[0] / b[1]] * b[2] for b in blocks])


def weights(raw):
    w = np.asarray(raw, dtype=object)
    total = sum(Fraction(x) for x in w)
    return [Fraction(x) / total for x in w]


def solve(agents, ic="bic", ir="interim", **options):
    r = mo.Design(mo.single_item(agents), ic=ic, ir=ir, objective="revenue").solve(**options)
    assert r.status == "optimal"
    return r


UNIFORM = [mo.Agent("b1", mo.grid(0, 1, 11)), mo.Agent("b2", mo.grid(0, 1, 11))]
SKEW_W = weights([9, 8, 7, 6, 5, 4, 3, 2, 1])  # decreasing density: regular
SKEWED = [mo.Agent("b1", mo.grid(0, 1, 9), prior=SKEW_W), mo.Agent("b2", mo.grid(0, 1, 9), prior=SKEW_W)]
BIMODAL_W = weights([10, 10, 10, 10, 10, 10, 1, 1, 4, 4, 2, 1])  # a dip above the reserve: irregular
BIMODAL = [mo.Agent("b1", mo.grid(0, 1, 12), prior=BIMODAL_W), mo.Agent("b2", mo.grid(0, 1, 12), prior=BIMODAL_W)]


# ----------------------------------------------------------------- regular priors
@pytest.mark.parametrize("agents", [UNIFORM, SKEWED], ids=["uniform", "skewed"])
@pytest.mark.parametrize("ic,ir", [("bic", "interim"), ("dsic", "ex_post")])
def test_regular_duals_are_virtual_values(agents, ic, ir):
    r = solve(agents, ic, ir)
    a = agents[0]
    expect = myerson_raw(a.types_exact, a.prior_exact)
    assert np.all(np.diff(expect) > 0)  # the prior is regular
    raw = du.virtual_values(r, "b1")
    ironed = du.virtual_values(r, "b1", ironed=True)
    assert isinstance(raw, pd.Series) and raw.index.name == "b1"
    assert list(raw.index) == [float(t) for t in a.types_exact]
    np.testing.assert_allclose(raw.to_numpy(), expect, atol=ATOL)
    np.testing.assert_allclose(ironed.to_numpy(), expect, atol=ATOL)


def test_uniform_closed_form_values():
    # grid(0,1,11), f = 1/11: φ_k = k/10 − (1/10)(10 − k) = (2k − 10)/10
    r = solve(UNIFORM)
    phi = du.virtual_values(r, "b2", ironed=True)
    np.testing.assert_allclose(phi.to_numpy(), [(2 * k - 10) / 10 for k in range(11)], atol=ATOL)


def test_ironed_values_come_from_ic_rows_and_match_interim_duals():
    """φ̄_t = v_t − Σ_s (v_s − v_t) λ_{s→t} / f_t equals −μ_t / f_t (interim-definition dual), any vertex."""
    r = solve(SKEWED, border=False)  # the ex post LP, where the interim-definition rows exist
    a = SKEWED[0]
    f = np.asarray(a.prior, dtype=float)
    v = np.asarray(a.types, dtype=float)
    ic = r.duals["ic"]
    ic = ic[ic["agent"] == "b1"]
    rent = np.zeros(v.size)
    for s, t, lam in zip(ic["type"], ic["report"], ic["dual"]):
        rent[list(v).index(t)] += (s - t) * lam
    by_ic = v - rent / f
    mu = r.duals["interim"]
    mu = mu[mu["agent"] == "b1"]["dual"].to_numpy()
    np.testing.assert_allclose(by_ic, -mu / f, atol=1e-9)
    vertex = du.virtual_values(r, "b1", ironed=True, canonical=False)
    np.testing.assert_allclose(vertex.to_numpy(), by_ic, atol=1e-9)


def test_expected_virtual_surplus_is_revenue():
    for agents in (SKEWED, BIMODAL):
        r = solve(agents)
        total_raw = total_ironed = 0.0
        for a in agents:
            X = r.mechanism.interim[a.name][a.name].to_numpy()
            f = np.asarray(a.prior, dtype=float)
            total_raw += float(np.sum(f * X * du.virtual_values(r, a.name).to_numpy()))
            total_ironed += float(np.sum(f * X * du.virtual_values(r, a.name, ironed=True).to_numpy()))
        assert total_raw == pytest.approx(r.objective, abs=1e-7)
        assert total_ironed == pytest.approx(r.objective, abs=1e-6)


# ----------------------------------------------------------------- irregular prior: ironing
@pytest.mark.parametrize("ic,ir", [("bic", "interim"), ("dsic", "ex_post")])
def test_bimodal_prior_is_ironed(ic, ir):
    r = solve(BIMODAL, ic, ir)
    a = BIMODAL[0]
    raw_expect = myerson_raw(a.types_exact, a.prior_exact)
    assert np.any(np.diff(raw_expect) < 0)  # irregular
    iron_expect = myerson_ironed(a.types_exact, a.prior_exact)
    raw = du.virtual_values(r, "b1").to_numpy()
    ironed = du.virtual_values(r, "b1", ironed=True).to_numpy()
    np.testing.assert_allclose(raw, raw_expect, atol=ATOL)
    np.testing.assert_allclose(ironed, iron_expect, atol=ATOL)
    assert np.all(np.diff(ironed) >= -ATOL)  # nondecreasing
    interval = slice(5, 8)  # where the raw values dip: types 5/11 .. 7/11
    assert np.ptp(ironed[interval]) < ATOL  # constant on the ironing interval
    assert np.ptp(raw[interval]) > 0.1
    # and the optimal mechanism pools those types
    X = r.mechanism.interim["b1"]["b1"].to_numpy()
    assert np.ptp(X[interval]) < 1e-7


def test_asymmetric_bidders():
    b2_w = weights([1, 2, 3, 4, 5, 4, 3, 2, 1])
    agents = [mo.Agent("b1", mo.grid(0, 1, 12), prior=BIMODAL_W), mo.Agent("b2", mo.grid(0, 2, 9), prior=b2_w)]
    for ic, ir in [("bic", "interim"), ("dsic", "ex_post")]:
        r = solve(agents, ic, ir)
        for a in agents:
            np.testing.assert_allclose(du.virtual_values(r, a.name, ironed=True).to_numpy(),
                                       myerson_ironed(a.types_exact, a.prior_exact), atol=ATOL)
            np.testing.assert_allclose(du.virtual_values(r, a.name).to_numpy(),
                                       myerson_raw(a.types_exact, a.prior_exact), atol=ATOL)
        # Myerson's rule: the good goes to the highest nonnegative ironed virtual value
        phi1 = du.virtual_values(r, "b1", ironed=True).to_numpy()
        phi2 = du.virtual_values(r, "b2", ironed=True).to_numpy()
        x = r.mechanism.x.reshape(12, 9, 3)
        win1 = (phi1[:, None] > phi2[None, :] + 1e-6) & (phi1[:, None] > 1e-6)
        assert np.allclose(x[..., 1][win1], 1.0)
        none = (phi1[:, None] < -1e-6) & (phi2[None, :] < -1e-6)
        assert np.allclose(x[..., 0][none], 1.0)


def test_closed_form_helper_matches_independent_formula():
    a = BIMODAL[0]
    np.testing.assert_allclose(du.closed_form_virtual_values(a).to_numpy(),
                               myerson_raw(a.types_exact, a.prior_exact), atol=1e-12)
    np.testing.assert_allclose(du.closed_form_virtual_values(a, ironed=True).to_numpy(),
                               myerson_ironed(a.types_exact, a.prior_exact), atol=1e-12)


def test_virtual_value_table_and_canonical_options():
    r = solve(BIMODAL)
    t = du.virtual_value_table(r, "b1")
    assert {"prob", "allocation", "lp_raw", "lp_ironed", "formula_raw", "formula_ironed"} <= set(t.columns)
    np.testing.assert_allclose(t["lp_ironed"], t["formula_ironed"], atol=ATOL)
    ir_only = du.virtual_values(r, "b1", ironed=True, canonical="ir")
    assert ir_only.attrs["canonical"] == "ir"
    with pytest.raises(ValueError):
        du.virtual_values(r, "b1", canonical="nonsense")


# ----------------------------------------------------------------- binding rows, complementary slackness
def test_binding_and_complementary_slackness():
    r = solve(UNIFORM, border=False)  # the ex post LP (lottery and interim rows)
    b = du.binding(r, tol=1e-9)
    assert "ic" in b and "ir" in b and "lottery" not in b
    assert (b["ic"]["slack"].abs() <= 1e-9).all()
    # the lowest type's IR binds; downward adjacent IC rows bind
    assert 0.0 in set(b["ir"][b["ir"]["agent"] == "b1"]["type"])
    down = b["ic"][(b["ic"]["agent"] == "b1") & (b["ic"]["report"] < b["ic"]["type"])]
    assert len(down) == 10
    assert "lottery" in du.binding(r, equalities=True)
    cs = du.complementary_slackness(r)
    assert cs.max_product < 1e-9 and cs.ok
    assert set(cs.families) >= {"lottery", "interim", "ic", "ir", "columns"}
    for name in ("ic", "ir"):
        df = cs[name]
        assert {"slack", "dual", "product"} <= set(df.columns)
        assert (df["dual"] >= -1e-9).all() and (df["slack"] >= -1e-9).all()
    cols = cs["columns"]
    assert (cols["reduced_cost"] <= 1e-9).all()  # x ≥ 0 columns: c + Aᵀλ ≤ 0
    assert "max_abs_product" in cs.summary.columns


def test_errors():
    none_ic = mo.Design(mo.single_item(UNIFORM), ic="none", ir="interim").solve()
    with pytest.raises(mo.MechoptError):
        du.virtual_values(none_ic, "b1")
    with pytest.raises(mo.SpecError):
        du.virtual_values(solve(UNIFORM), "nobody")
    trade = mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, 6)), mo.Agent("seller", mo.grid(0, 1, 6)))
    infeasible = mo.Design(trade, ic="bic", ir="interim", budget="ex_ante", allocation="efficient",
                           objective="feasibility").solve()
    assert infeasible.status == "infeasible"
    with pytest.raises(mo.MechoptError):
        du.complementary_slackness(infeasible)
