"""Exact certificates: impossibility theorems, exact optima, tampering.

Closed forms are computed here independently of the LP (Fractions, discrete
virtual values) and compared with the certified exact optima.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import mechopt as mo
from mechopt.certificates import Certificate, ExactModel
from mechopt.certificates.build import farkas_weights
from mechopt.certificates.linalg import ExactMatrix, ExactSolver, fractions, reconstruct

F = Fraction


# ----------------------------------------------------------------- helpers
def bilateral(T: int, **kw) -> mo.Design:
    env = mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, T)), mo.Agent("seller", mo.grid(0, 1, T)))
    opts = dict(ic="bic", ir="interim", budget="ex_ante", allocation="efficient")
    opts.update(kw)
    return mo.Design(env, **opts)


def ms_max_revenue(T: int) -> Fraction:
    """Largest expected budget surplus of an efficient, BIC, interim-IR mechanism, uniform grid(0,1,T).

    Discrete virtual values on a grid with step h and equal masses: buyer φ(b_k) = h(2k − T + 1),
    seller γ(s_j) = 2hj.  Efficiency forces trade when b > s (ties may go either way; the best
    is no trade since φ − γ < 0 there), and the surplus is E[(φ − γ)·1{trade}] with the lowest
    buyer and the highest seller left at zero utility.
    """
    h = F(1, T - 1)
    total = sum(((T - d) * (2 * d - T + 1) for d in range(1, T)), F(0))
    return total * h / (T * T)


def myerson_revenue(T: int, n: int = 2) -> Fraction:
    """Optimal revenue, n bidders uniform on grid(0,1,T): E[max(φ_1, …, φ_n, 0)], discrete virtual values."""
    h = F(1, T - 1)
    phi = [k * h - h * (T - 1 - k) for k in range(T)]  # θ_k − h·P(θ > θ_k)/P(θ = θ_k)
    # P(max type index = m) = ((m+1)^n − m^n)/T^n; φ increasing
    return sum((max(phi[m], F(0)) * ((m + 1) ** n - m**n) for m in range(T)), F(0)) / T**n


def first_best_bilateral_welfare(T: int) -> Fraction:
    h = F(1, T - 1)
    return sum((max(i, j) * h for i in range(T) for j in range(T)), F(0)) / (T * T)


# ----------------------------------------------------------------- Myerson–Satterthwaite
def test_closed_form_sign_pattern():
    # the closed form itself: zero surplus at T = 5, a deficit from T = 6 on
    assert ms_max_revenue(5) == 0
    assert all(ms_max_revenue(T) > 0 for T in (2, 3, 4))
    assert all(ms_max_revenue(T) < 0 for T in range(6, 30))


@pytest.mark.parametrize("T", [2, 3, 4, 5])
def test_myerson_satterthwaite_feasible_grids(T):
    r = bilateral(T).solve()
    assert r.status == "optimal"
    assert r.certificate is None  # no certify=True asked


def test_myerson_satterthwaite_largest_feasible_grid_is_5():
    assert bilateral(5).solve().status == "optimal"
    assert bilateral(6).solve().status == "infeasible"


@pytest.mark.parametrize("T", [6, 7, 8, 11, 21])
def test_myerson_satterthwaite_infeasible(T):
    r = bilateral(T).solve()
    assert r.status == "infeasible"
    c = r.certificate
    assert isinstance(c, Certificate)
    assert c.kind == "infeasibility" and c.exact
    assert c.verify(exact=True) is True
    assert c.verified is True
    assert c.verify(exact=False) is True
    # every family of the theorem carries weight
    assert {"ic", "ir", "budget"} <= set(c.weight_by_family)
    assert abs(sum(c.weight_by_family.values()) - 1) < 1e-12
    assert all(isinstance(v, Fraction) for v in c.weights)
    assert c.weights.index.names[0] == "family"
    assert (c.weights != 0).all()


def test_myerson_satterthwaite_certificate_reads_0_ge_positive():
    c = bilateral(6).solve().certificate
    chk = c.check()
    assert chk.numbers["beta"] == 0 and chk.numbers["yb"] > 0
    text = c.explain(text=True)
    assert text == c.derivation()
    assert f"0 ≥ {chk.numbers['yb']}" in text
    assert "verified exactly" in text


def test_tampering_fails():
    c = bilateral(8).solve().certificate
    w = c.weights
    assert c.verify(weights=w)
    assert c.verify(weights=w * 7)  # positive scaling keeps a Farkas certificate
    assert not c.verify(weights=w.drop("ir", level="family"))  # the IR rows are needed
    assert not c.verify(weights=w.drop("budget", level="family"))
    assert not c.verify(weights=-w)
    bumped = w.copy()
    bumped.iloc[len(w) // 2] = bumped.iloc[len(w) // 2] + F(1, 10**9)
    assert not c.verify(weights=bumped)
    floats = w.map(float)  # rounded to binary: exact cancellation is lost
    assert not c.verify(weights=floats) or all(float(v) == v for v in w)
    assert c.verify(weights=floats, exact=False)
    assert c.verified  # the certificate's own verdict is unchanged


def test_verify_accepts_full_vectors():
    r = bilateral(6).solve()
    c = r.certificate
    y = np.zeros(r.lp.shape[0], dtype=object)
    y[:] = F(0)
    for (fam, row, _), v in c.weights.items():
        y[r.lp.family(fam).start + row] = v
    assert c.verify(weights=y)
    y[r.lp.family("ir").start: r.lp.family("ir").stop] = F(0)
    assert not c.verify(weights=y)


def test_fallback_constructions_verify():
    """Noisy rays and missing rays go through the support LP and the full Farkas LP."""
    r = bilateral(11).solve()
    model = ExactModel(r.lp)
    ray = r.output.dual_ray
    noisy = ray * (1 + 1e-7 * np.random.default_rng(0).standard_normal(ray.size))
    y, info = farkas_weights(model, noisy)
    assert y is not None and "support LP" in info["method"]
    assert model.check_farkas(y).ok
    y, info = farkas_weights(model, None)
    assert y is not None and "Farkas LP on all" in info["method"]
    assert model.check_farkas(y).ok


def test_deterministic_design_gets_relaxation_certificate():
    r = bilateral(6, deterministic=True).solve()
    assert r.status == "infeasible"
    c = r.certificate
    assert c.verified  # box bounds 0 ≤ x ≤ 1 handled in the bound term
    assert any("relaxation" in n for n in c.notes)


# ----------------------------------------------------------------- Green–Laffont
@pytest.mark.parametrize("n,T", [(2, 4), (3, 4)])
def test_green_laffont_public_project(n, T):
    agents = [mo.Agent(f"a{i}", mo.grid(0, 1, T)) for i in range(n)]
    env = mo.public_project(agents, cost=F(1, 2))
    d = mo.Design(env, ic="dsic", ir="none", budget="exact", allocation="efficient", objective="feasibility")
    r = d.solve()
    assert r.status == "infeasible"
    c = r.certificate
    assert c.verified
    assert {"ic", "budget"} <= set(c.weight_by_family)
    assert "ir" not in c.weight_by_family
    assert not c.verify(weights=c.weights.drop("budget", level="family"))
    # without exact budget balance (ex post no-deficit) the pivot mechanism exists
    assert mo.Design(env, ic="dsic", ir="none", budget="ex_post", allocation="efficient",
                     objective="feasibility").solve().status == "optimal"


def test_green_laffont_feasible_small_grid():
    agents = [mo.Agent(f"a{i}", mo.grid(0, 1, 3)) for i in range(2)]
    env = mo.public_project(agents, cost=F(1, 2))
    d = mo.Design(env, ic="dsic", ir="none", budget="exact", allocation="efficient", objective="feasibility")
    assert d.solve().status == "optimal"


# ----------------------------------------------------------------- partnerships
@pytest.mark.parametrize("budget", ["exact", "ex_ante"])
def test_one_seller_partnership_infeasible(budget):
    agents = [mo.Agent(f"p{i}", mo.grid(0, 1, 6)) for i in range(2)]
    env = mo.partnership(agents, [1, 0])
    d = mo.Design(env, ic="bic", ir="interim", budget=budget, allocation="efficient", objective="feasibility")
    r = d.solve()
    assert r.status == "infeasible"
    c = r.certificate
    assert c.verified and c.exact
    assert not c.verify(weights=c.weights.drop("ir", level="family"))
    # equal shares: Cramton–Gibbons–Klemperer, dissolvable
    env2 = mo.partnership(agents, [F(1, 2), F(1, 2)])
    d2 = mo.Design(env2, ic="bic", ir="interim", budget=budget, allocation="efficient", objective="feasibility")
    assert d2.solve().status == "optimal"


# ----------------------------------------------------------------- exact optima
def test_myerson_optimal_revenue_55_126():
    agents = [mo.Agent(f"b{i}", mo.grid(0, 1, 21)) for i in range(2)]
    r = mo.Design(mo.single_item(agents), ic="bic", ir="interim", objective="revenue").solve(certify=True)
    c = r.certificate
    assert c.kind == "optimality"
    assert myerson_revenue(21) == F(55, 126)
    assert c.objective == F(55, 126)
    assert c.verified
    assert abs(r.objective - 55 / 126) < 1e-9
    # dropping the IC duals breaks the upper bound
    assert not c.verify(weights=c.weights.drop("ic", level="family"))
    assert c.verify(weights=c.weights)


@pytest.mark.parametrize("T", [3, 4, 5, 6, 9])
def test_bilateral_trade_max_surplus_matches_closed_form(T):
    r = bilateral(T, budget="none", objective="revenue").solve(certify=True)
    c = r.certificate
    assert c.verified
    assert c.objective == ms_max_revenue(T)


@pytest.mark.parametrize("T", [3, 5])
def test_first_best_when_feasible(T):
    r = bilateral(T, allocation="free", objective="welfare").solve(certify=True)
    c = r.certificate
    assert c.verified
    assert c.objective == first_best_bilateral_welfare(T)


@pytest.mark.parametrize("n,T", [(2, 5), (3, 4)])
def test_myerson_other_sizes(n, T):
    agents = [mo.Agent(f"b{i}", mo.grid(0, 1, T)) for i in range(n)]
    r = mo.Design(mo.single_item(agents), ic="dsic", ir="ex_post", objective="revenue").solve(certify=True)
    c = r.certificate
    assert c.verified
    assert c.objective == myerson_revenue(T, n)


def test_optimality_certificate_parts():
    agents = [mo.Agent(f"b{i}", mo.grid(0, 1, 5)) for i in range(2)]
    r = mo.Design(mo.single_item(agents), ic="bic", ir="interim", objective="revenue").solve(certify=True)
    c = r.certificate
    assert c.primal is not None and len(c.primal) > 0
    assert c.check().numbers["value"] == c.check().numbers["bound"] == c.objective
    assert "Optimal value (exact)" in c.derivation()
    assert c.to_json()["kind"] == "optimality"


# ----------------------------------------------------------------- unboundedness
def test_revenue_without_ir_is_unbounded():
    agents = [mo.Agent(f"b{i}", mo.grid(0, 1, 4)) for i in range(2)]
    r = mo.Design(mo.single_item(agents), ic="bic", ir="none", objective="revenue").solve()
    assert r.status == "unbounded"
    c = r.certificate
    assert c.kind == "unboundedness"
    assert c.verified
    assert all("payment" in f for f in c.weight_by_family)
    assert c.check().numbers["gain"] > 0
    assert not c.verify(weights=-c.weights)
    assert "no maximum" in c.derivation()


# ----------------------------------------------------------------- presentation
def test_explain_latex_plot_json():
    import matplotlib

    matplotlib.use("Agg")
    c = bilateral(6).solve().certificate
    df = c.explain()
    assert list(df.index.names) == ["family", "row"]
    assert {"label", "weight", "value", "share", "rhs"} <= set(df.columns)
    assert abs(df["share"].sum() - 1) < 1e-12
    fam = c.explain(by="family")
    assert list(fam.index) == list(c.weight_by_family)
    assert abs(fam["share"].sum() - 1) < 1e-12
    tex = c.to_latex()
    assert r"\begin{tabular}" in tex and r"\frac" in tex
    ax = c.plot()
    assert len(ax.patches) == len(c.weight_by_family)
    js = c.to_json()
    assert set(js) == {"kind", "verified", "exact", "weight_by_family"}
    assert js["kind"] == "infeasibility" and js["verified"] is True and js["exact"] is True
    import json

    json.dumps(js)
    assert "infeasibility" in repr(c)


def test_weights_index_is_readable():
    c = bilateral(6).solve().certificate
    ic = c.weights.xs("ic", level="family")
    labels = list(ic.index.get_level_values("label"))
    assert any("reports" in s for s in labels)
    assert isinstance(c.weights.index, pd.MultiIndex)


# ----------------------------------------------------------------- exact linear algebra
def test_reconstruct_shared_denominator():
    x = np.array([1 / 3, 2 / 7, 0.5, 0.0, -5 / 21], dtype=object)
    assert list(reconstruct(x)) == [F(1, 3), F(2, 7), F(1, 2), F(0), F(-5, 21)]


@pytest.mark.parametrize("n,dense", [(6, 1.0), (40, 1.0), (200, 0.03)])
def test_exact_solver(n, dense):
    rng = np.random.default_rng(n)
    A = rng.integers(-9, 10, size=(n, n)) * (rng.random((n, n)) < dense) + 3 * np.eye(n, dtype=int)
    r, c = np.nonzero(A)
    M = ExactMatrix(r, c, fractions([F(int(v), 7) for v in A[r, c]]), (n, n))
    b = fractions([F(int(v), 3) for v in rng.integers(-5, 6, n)])
    s = ExactSolver(M)
    x = s.solve(b)
    assert all(v == 0 for v in M.matvec(x) - b)
    xt = s.solve(b, transpose=True)
    assert all(v == 0 for v in M.transpose().matvec(xt) - b)


@pytest.mark.slow
def test_large_certificate_verifies_fast():
    import time

    r = bilateral(121).solve()
    c = r.certificate
    start = time.perf_counter()
    assert c.verify()
    assert time.perf_counter() - start < 30
    assert c.size["nnz"] > 50_000


# ----------------------------------------------------------------- the public weights are what is checked
def test_in_place_edit_of_public_farkas_weights_is_rejected():
    """Myerson–Satterthwaite (T = 8): the certificate checks its public table, so an edited
    weight (even by 1e-9) makes verify() and verified False, and restoring it makes them True."""
    c = bilateral(8).solve().certificate
    assert c.verified and c.exact
    w = c.weights
    k = len(w) // 2
    old = w.iloc[k]
    w.iloc[k] = old + F(1, 10**9)
    assert not c.verify() and not c.verified and not c.exact
    w.iloc[k] = old
    assert c.verify() and c.verified and c.exact


def test_replacing_the_weights_table_is_checked():
    c = bilateral(7).solve().certificate
    assert c.verify(weights=c.weights)
    c.weights = c.weights.drop("ir", level="family")  # the IR rows are needed (Myerson–Satterthwaite)
    assert not c.verified and not c.exact
    with pytest.raises(TypeError):
        c.weights = [1, 2, 3]


def test_exact_means_an_exact_proof():
    """A certificate that could not be built exactly is not 'exact' (no exact=True, verified=False)."""
    c = Certificate("optimality", None, exact=True)
    assert not c.exact and not c.verified
    r = bilateral(6).solve()
    assert r.certificate.exact and r.certificate.verified
