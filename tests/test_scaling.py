"""Values in small or large units give the scaled optimum (issue: numerics you can trust).

Multiplying every value, cost and outside option by s > 0 multiplies every
payment and the optimal value by s (the constraints are homogeneous of degree
one in money), so the optimum at scale s is s times the optimum at scale 1.
The closed forms at scale 1 are derived in the docstrings; the LP's HiGHS
backend scales money by an exact power of two, so the relative error must stay
at the level of floating point, far below 1e-7.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

import mechopt as mo

SCALES = [Fraction(1, 10**9), Fraction(1, 10**6), Fraction(10**6), Fraction(10**9)]


def public_project(s):
    """Three citizens on grid(0, 1, 6), cost 3/2, DSIC, ex post IR and no deficit, welfare: 13/90.

    (Reference value of the issue; reproduced at scale 1 by the plain LP in ``test_scale_one``.)
    """
    ags = [mo.Agent(f"a{j}", [x * s for x in mo.grid(0, 1, 6)]) for j in range(3)]
    return mo.Design(mo.public_project(ags, cost=Fraction(3, 2) * s), ic="dsic", ir="ex_post", budget="ex_post",
                     objective="welfare")


def auction(s):
    """Two bidders on grid(0, 1, 11), BIC, interim IR, revenue: 5/11.

    Discrete virtual value φ(t_k) = t_k − (t_{k+1} − t_k)(1 − F(t_k))/f = k/10 − (10 − k)/10
    = (2k − 10)/10, increasing (no ironing); revenue E[max(φ₁, φ₂, 0)] = 5/11 (Myerson 1981),
    computed exactly by :func:`expected_max`.
    """
    env = mo.single_item([mo.Agent(f"b{j}", [x * s for x in mo.grid(0, 1, 11)]) for j in range(2)])
    return mo.Design(env, ic="bic", ir="interim", objective="revenue")


def trade(s):
    env = mo.bilateral_trade(mo.Agent("b", [x * s for x in mo.grid(0, 1, 6)]),
                             mo.Agent("s", [x * s for x in mo.grid(0, 1, 6)]))
    return mo.Design(env, ic="bic", ir="interim", budget="ex_ante", objective="welfare")


def partnership(s):
    env = mo.partnership([mo.Agent("a", [x * s for x in mo.grid(0, 1, 5)]),
                          mo.Agent("b", [x * s for x in mo.grid(0, 1, 5)])], [Fraction(1, 2), Fraction(1, 2)])
    return mo.Design(env, ic="bic", ir="interim", budget="exact", allocation="efficient", objective="utility")


def one_buyer(s):
    """One buyer uniform on grid(0, 1, 5), DSIC + ex post IR revenue: best posted price 1/2 or 3/4, 3/10."""
    return mo.Design(mo.single_item([mo.Agent("b", [x * s for x in mo.grid(0, 1, 5)])]), ic="dsic", ir="ex_post")


def expected_max(n_types: int) -> Fraction:
    """E[max(φ⁺)] for two bidders uniform on grid(0, 1, n) with discrete virtual values."""
    T = n_types
    types = [Fraction(k, T - 1) for k in range(T)]
    phi = [t - Fraction(1, T - 1) * (T - 1 - k) for k, t in enumerate(types)]
    total = Fraction(0)
    for a in range(T):
        for b in range(T):
            total += max(phi[a], phi[b], Fraction(0))
    return total / T**2


CLOSED = {"public_project": Fraction(13, 90), "auction": expected_max(11), "one_buyer": Fraction(3, 10)}
BUILD = {"public_project": public_project, "auction": auction, "trade": trade, "partnership": partnership,
         "one_buyer": one_buyer}


def test_closed_forms_at_scale_one():
    assert CLOSED["auction"] == Fraction(5, 11)
    for name, value in CLOSED.items():
        r = BUILD[name](Fraction(1)).solve(reductions=False)
        assert r.objective == pytest.approx(float(value), abs=1e-9), name


@pytest.mark.parametrize("scale", SCALES, ids=lambda s: f"x{float(s):g}")
@pytest.mark.parametrize("name", sorted(BUILD))
def test_scaled_optimum(name, scale):
    ref = CLOSED.get(name)
    if ref is None:
        ref = Fraction(BUILD[name](Fraction(1)).solve().objective)
    r = BUILD[name](scale).solve()
    assert r.status == "optimal" and r.verification["ok"], (r.status, r.message)
    assert abs(r.objective / float(scale) - float(ref)) <= 1e-7 * max(abs(float(ref)), 1e-12)


@pytest.mark.parametrize("scale", SCALES, ids=lambda s: f"x{float(s):g}")
def test_cvxpy_backend_scaled_optimum(scale):
    """The cvxpy backend solves the same scaled model: 5/11 in any unit (it returned a verified 0 at x1e-9)."""
    r = auction(scale).solve(backend="cvxpy")
    assert r.status == "optimal" and r.verification["ok"]
    assert abs(r.objective / float(scale) - 5 / 11) <= 1e-7 * 5 / 11


@pytest.mark.parametrize("scale", SCALES, ids=lambda s: f"x{float(s):g}")
def test_optimal_face_in_any_unit(scale):
    """Revenue fixed at 5/11·s, welfare over [70/121, 151/242]·s (Myerson, two bidders on grid(0, 1, 11);
    the endpoints are derived by hand in tests/test_face.py)."""
    r = auction(scale).solve()
    f = r.face(("revenue", "welfare")) / float(scale)
    assert f.loc["revenue", "min"] == pytest.approx(5 / 11, abs=1e-7)
    assert f.loc["revenue", "max"] == pytest.approx(5 / 11, abs=1e-7)
    assert f.loc["welfare", "min"] == pytest.approx(70 / 121, abs=1e-7)
    assert f.loc["welfare", "max"] == pytest.approx(151 / 242, abs=1e-7)
    assert not r.is_unique()


def test_farkas_certificate_in_tiny_units_is_found_on_the_scaled_model():
    """Myerson–Satterthwaite on a 21-point grid in units of 1e-9: the exact Farkas weights are searched on
    the power-of-two scaled model and mapped back (y = R y'); before, the unscaled search fell through to
    the exact simplex repair (> 300 s).  The proof is checked exactly on the ORIGINAL model."""
    g = [Fraction(k, 20) / 10**9 for k in range(21)]
    env = mo.bilateral_trade(mo.Agent("buyer", g), mo.Agent("seller", g))
    r = mo.Design(env, ic="bic", ir="interim", budget="exact", allocation="efficient").solve()
    assert r.status == "infeasible"
    cert = r.certificate
    assert cert.verify(exact=True) and cert.exact
    assert cert.verify(exact=False)  # the float check is relative to the terms' size (gap ~1e-10 here)
    assert "scaled model" in cert.method
