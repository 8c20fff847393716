"""The independent verifier: non-finite entries, determinism, the objective, scale-relative tolerances.

Every mechanism here is written by hand with its properties derived in the test
(a posted price is DSIC and ex post IR exactly; a price raised by δ for the top
type creates an IC violation of exactly δ).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_backends import designs

import mechopt as mo
from mechopt.numbers import FLOAT_FLOOR, Tolerances, data_scale, tolerance
from mechopt.verify import mechanism_value, verify, violations


def one_buyer(scale: float = 1.0):
    """One buyer with types 0, s/2, s (equal prior) and one item (outcomes unsold, buyer)."""
    s = Fraction(repr(scale))
    return mo.single_item([mo.Agent("b", [0, s / 2, s])])


def posted_price(scale: float = 1.0, delta: float = 0.0):
    """Sell to types ≥ s/2 at price s/2; the top type pays ``delta`` more (IC violation δ)."""
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    p = np.array([[0.0], [scale / 2], [scale / 2 + delta]])
    return x, p


def test_tolerance_is_relative_in_both_directions():
    assert tolerance(1e-9) == pytest.approx(1e-15, rel=1e-12)
    assert tolerance(1e9) == pytest.approx(1e3, rel=1e-12)
    assert tolerance(1.0, relative=0.0) == FLOAT_FLOOR  # never below float precision
    assert FLOAT_FLOOR > np.finfo(float).eps
    t = Tolerances.for_scale(1e-9)
    assert t.probability == pytest.approx(1e-6) and t.feasibility == pytest.approx(1e-15)
    with pytest.raises(ValueError):
        tolerance(0.0)


def test_data_scale_includes_cost_and_outside_options():
    env = mo.bilateral_trade(mo.Agent("b", [1, 2]), mo.Agent("s", [0, 5]))
    assert data_scale(env) == 5.0  # the seller's outside option / value 5
    env = mo.public_project([mo.Agent("a", [0, 1])], cost=7)
    assert data_scale(env) == 7.0


def test_posted_price_verifies_and_objective_matches():
    env = one_buyer()
    x, p = posted_price()
    d = mo.Design(env, ic="dsic", ir="ex_post", objective="revenue")
    # revenue = (1/3)(1/2) + (1/3)(1/2) = 1/3
    rep = verify(env, x, p, d, objective=1 / 3)
    assert rep["ok"], rep
    assert rep["max_violation"]["objective"] <= 1e-15
    assert mechanism_value(env, x, p, "welfare") == pytest.approx((0.5 + 1) / 3)
    assert mechanism_value(env, x, p, "utility") == pytest.approx((0.5 + 1) / 3 - 1 / 3)


def test_reported_objective_must_match_the_mechanism():
    env = one_buyer()
    x, p = posted_price()
    d = mo.Design(env, ic="dsic", ir="ex_post", objective="revenue")
    rep = verify(env, x, p, d, objective=1 / 3 + 1e-3)
    assert not rep["ok"]
    assert rep["max_violation"]["objective"] == pytest.approx(1e-3)
    # old calls (no objective) keep working and do not check it
    assert "objective" not in verify(env, x, p, d)["max_violation"]


@pytest.mark.parametrize("where", ["x", "p"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_mechanism_fails(where, bad):
    env = one_buyer()
    x, p = posted_price()
    (x if where == "x" else p)[1, 0] = bad
    raw = violations(env, x, p)
    assert raw["finite"] == 1
    for design in (mo.Design(env, ic="dsic", ir="ex_post"), mo.Design(env, ic="bic", ir="interim")):
        rep = verify(env, x, p, design)
        assert not rep["ok"]
        assert rep["max_violation"]["finite"] == 1
    audit = mo.Mechanism(env, x, p).audit()
    assert not any(audit.values()), audit  # max(0, nan) = 0 must not make NaN pass


def test_lottery_fails_a_deterministic_design():
    env = one_buyer()
    x = np.full((3, 2), 0.5)  # a 50/50 lottery at every profile, free
    p = np.zeros((3, 1))
    free = mo.Design(env, ic="dsic", ir="ex_post", objective="welfare")
    assert verify(env, x, p, free)["ok"]  # IC (nothing depends on the report) and IR hold
    det = free.replace(deterministic=True)
    rep = verify(env, x, p, det)
    assert not rep["ok"]
    assert rep["max_violation"]["deterministic"] == pytest.approx(0.5)
    xd, pd_ = posted_price()
    assert verify(env, xd, pd_, det)["ok"]


def test_small_units_ic_violation_is_caught():
    """Values ×1e-9 and an IC violation of 1e-12 (1e-3 of the data): must fail.

    The old rule ``1e-6 · max(1, scale)`` accepted it (1e-12 < 1e-6).
    """
    env = one_buyer(1e-9)
    x, p = posted_price(1e-9, delta=1e-12)
    raw = violations(env, x, p)
    assert raw["dsic"] == pytest.approx(1e-12, rel=1e-6)  # top type gains δ by reporting s/2
    rep = verify(env, x, p, mo.Design(env, ic="dsic", ir="ex_post"))
    assert not rep["ok"]
    assert rep["tol"] == pytest.approx(1e-15)
    assert not mo.Mechanism(env, x, p).audit()["dsic"]


def test_large_units_rounding_error_passes():
    """Values ×1e9 with a relative error 1e-12 (absolute 1e-3): within tolerance."""
    env = one_buyer(1e9)
    x, p = posted_price(1e9, delta=1e-3)
    assert violations(env, x, p)["dsic"] == pytest.approx(1e-3, rel=1e-3)
    d = mo.Design(env, ic="dsic", ir="ex_post", objective="revenue")
    rep = verify(env, x, p, d, objective=(1e9 / 2 + 1e9 / 2 + 1e-3) / 3)
    assert rep["ok"], rep


def test_solver_optimum_passes_with_its_objective():
    """Myerson on grid(0, 1, 11): revenue 5/11 (two bidders, BIC) — the solver's value verifies."""
    agents = [mo.Agent(f"b{i}", mo.grid(0, 1, 11)) for i in range(2)]
    d = mo.Design(mo.single_item(agents), ic="bic", ir="interim", objective="revenue")
    r = d.solve()
    assert r.objective == pytest.approx(5 / 11, abs=1e-9)
    m = r.mechanism
    assert verify(d.env, m.x, m.p, d, objective=r.objective)["ok"]
    assert not verify(d.env, m.x, m.p, d, objective=r.objective * (1 + 1e-4))["ok"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(designs(), st.booleans())
def test_every_solver_optimum_passes_the_objective_and_determinism_checks(case, deterministic):
    """What the pipeline will do: the solver's objective must equal the returned mechanism's value.

    A false rejection here would turn correct optima into unverified ones.
    """
    kind, design = case
    if deterministic:
        design = design.replace(deterministic=True)
    r = design.solve()
    event(f"status={r.status}")
    event(f"deterministic={deterministic}")
    if r.status != "optimal":
        return
    m = r.mechanism
    rep = verify(design.env, m.x, m.p, design, objective=r.objective)
    assert rep["ok"], rep["max_violation"]
    assert ("deterministic" in rep["max_violation"]) == deterministic
