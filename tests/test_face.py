"""The optimal face (mechopt.face): ranges of metrics over all optimal mechanisms.

References: Myerson (1981) for the optimal auction; on grid(0, 1, 11) the discrete
virtual value t_k − Δ(1 − F(t_k))/f(t_k) = t_k − (1 − t_k) vanishes at t = 1/2, so
selling to a type 1/2 bidder leaves revenue unchanged and welfare moves with it.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import linprog

import mechopt as mo
from mechopt.errors import SolverError


def two_bidders(n: int = 11):
    return mo.single_item([mo.Agent(f"b{i}", mo.grid(0, 1, n)) for i in (1, 2)])


def welfare_interval_by_hand(n: int = 11) -> tuple[Fraction, Fraction]:
    """Welfare of the revenue-optimal auction: sell to the highest bidder when max ≥ 0.6
    (positive virtual value) — the minimum; also when max = 0.5 (zero virtual value) — the maximum.
    P(max = k/10) = ((k+1)² − k²)/121."""
    m = n - 1
    prob = {k: Fraction((k + 1) ** 2 - k ** 2, n * n) for k in range(n)}
    low = sum(Fraction(k, m) * prob[k] for k in range(6, n))
    high = low + Fraction(5, m) * prob[5]
    return low, high


def welfare_interval_linprog(n: int = 11) -> tuple[float, float, float]:
    """The same face from a hand-written ex post LP (scipy's linprog): columns x1(s), x2(s)
    (win probabilities at each profile) and interim payments P_i(t); BIC on all pairs, interim IR."""
    t = np.linspace(0, 1, n)
    f = np.full(n, 1 / n)
    S = n * n
    nx = 2 * S
    N = nx + 2 * n

    def Q(i, k):  # interim win probability of bidder i at type k as a row vector
        v = np.zeros(N)
        for r in range(n):
            s = k * n + r if i == 0 else r * n + k
            v[i * S + s] = 1 / n
        return v

    def P(i, k):
        v = np.zeros(N)
        v[nx + i * n + k] = 1
        return v

    A_ub, b_ub = [], []
    for s in range(S):  # lottery: x1 + x2 ≤ 1
        v = np.zeros(N)
        v[s] = v[S + s] = 1
        A_ub.append(v)
        b_ub.append(1)
    for i in range(2):
        for k in range(n):
            A_ub.append(-(t[k] * Q(i, k) - P(i, k)))  # IR
            b_ub.append(0)
            for j in range(n):
                if j != k:  # IC: t_k Q(k) − P(k) ≥ t_k Q(j) − P(j)
                    A_ub.append(-(t[k] * Q(i, k) - P(i, k) - t[k] * Q(i, j) + P(i, j)))
                    b_ub.append(0)
    revenue = np.zeros(N)
    revenue[nx:] = np.concatenate([f, f])
    welfare = np.zeros(N)
    for s in range(S):
        a, b = divmod(s, n)
        welfare[s] = t[a] / S
        welfare[S + s] = t[b] / S
    bounds = [(0, None)] * nx + [(None, None)] * (2 * n)
    best = linprog(-revenue, A_ub=np.array(A_ub), b_ub=b_ub, bounds=bounds, method="highs")
    assert best.status == 0
    R = -best.fun
    A2 = np.vstack([A_ub, -revenue])
    b2 = np.append(b_ub, -(R - 1e-9))
    lo = linprog(welfare, A_ub=A2, b_ub=b2, bounds=bounds, method="highs")
    hi = linprog(-welfare, A_ub=A2, b_ub=b2, bounds=bounds, method="highs")
    return R, lo.fun, -hi.fun


def test_myerson_two_bidders_welfare_interval():
    r = mo.Design(two_bidders(), objective="revenue").solve()
    f = r.face(("revenue", "welfare", "utility"))
    low, high = welfare_interval_by_hand()
    assert (low, high) == (Fraction(70, 121), Fraction(151, 242))
    assert f.loc["revenue", "min"] == pytest.approx(5 / 11, abs=1e-8)
    assert f.loc["revenue", "max"] == pytest.approx(5 / 11, abs=1e-8)
    assert f.loc["welfare", "min"] == pytest.approx(float(low), abs=1e-7)
    assert f.loc["welfare", "max"] == pytest.approx(float(high), abs=1e-7)
    # utility = welfare − revenue on every optimal mechanism
    assert f.loc["utility", "min"] == pytest.approx(float(low) - 5 / 11, abs=1e-7)
    assert f.loc["utility", "max"] == pytest.approx(float(high) - 5 / 11, abs=1e-7)
    R, lo, hi = welfare_interval_linprog()
    assert R == pytest.approx(5 / 11, abs=1e-8)
    assert (lo, hi) == (pytest.approx(float(low), abs=1e-6), pytest.approx(float(high), abs=1e-6))
    assert not r.is_unique()


def test_face_same_on_ex_post_formulation():
    """Border reduction off: the face of the ex post LP has the same welfare range."""
    r = mo.Design(two_bidders(), objective="revenue").solve(border=False)
    assert r.reductions.get("allocation") == "ex post"
    low, high = welfare_interval_by_hand()
    f = r.face(("welfare",))
    assert f.loc["welfare", "min"] == pytest.approx(float(low), abs=1e-7)
    assert f.loc["welfare", "max"] == pytest.approx(float(high), abs=1e-7)


def test_interim_ranges_at_zero_virtual_value():
    """Only the type whose virtual value is 0 (t = 1/2) can be served or not: its interim win
    probability ranges over [0, P(other ≤ 1/2)] = [0, 6/11]; types with negative virtual value never win."""
    r = mo.Design(two_bidders(), objective="revenue").solve()
    f = r.face((), interim=True)
    assert f.loc["P[b1] b1=0.5", "min"] == pytest.approx(0, abs=1e-6)
    assert f.loc["P[b1] b1=0.5", "max"] == pytest.approx(6 / 11, abs=1e-6)
    for t in ("0.0", "0.2", "0.4"):
        assert f.loc[f"P[b2] b2={t}", "max"] == pytest.approx(0, abs=1e-5)


def test_unique_when_no_virtual_value_vanishes():
    """One bidder on grid(0, 1, 4): virtual values (2k − 3)/3 never vanish, so the optimal posted
    price 2/3 is the unique optimum (revenue 2/3 · 1/2 = 1/3)."""
    env = mo.single_item([mo.Agent("b", mo.grid(0, 1, 4))])
    r = mo.Design(env, objective="revenue").solve()
    assert r.objective == pytest.approx(1 / 3, abs=1e-9)
    assert r.is_unique()
    f = r.face(("welfare",))
    assert f.loc["welfare", "min"] == pytest.approx((2 / 3 + 1) / 4, abs=1e-7)
    assert f.loc["welfare", "width"] < 1e-7


def test_face_needs_an_optimum_and_known_metrics():
    b, s = mo.Agent("buyer", mo.grid(0, 1, 5)), mo.Agent("seller", mo.grid(0, 1, 5))
    env = mo.bilateral_trade(b, s)
    r = mo.Design(env, ic="dsic", ir="ex_post", budget="exact", allocation="efficient").solve()
    assert r.status == "infeasible"  # Myerson–Satterthwaite / Green–Laffont
    with pytest.raises(SolverError, match="not optimal"):
        r.face()
    ok = mo.Design(env, ir="interim", budget="ex_ante", objective="welfare").solve()
    with pytest.raises(mo.errors.SpecError, match="unknown metric"):
        ok.face(("profit",))


def test_face_refuses_user_constraints():
    b, s = mo.Agent("buyer", mo.grid(0, 1, 4)), mo.Agent("seller", mo.grid(0, 1, 4))
    d = mo.Design(mo.bilateral_trade(b, s), ir="interim", budget="ex_ante", objective="welfare")
    r = d.solve(backend="cvxpy", constraints=lambda m: [m.x[:, 1] <= 0.9])
    assert r.status == "optimal"
    with pytest.raises(mo.errors.SpecError, match="user constraints"):
        r.face()


# --------------------------------------------------------------------------- property
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def small_designs(draw):
    kind = draw(st.sampled_from(["single_item", "bilateral_trade"]))
    agents = []
    for j in range(2):
        T = draw(st.integers(2, 4))
        weights = draw(st.lists(st.integers(1, 4), min_size=T, max_size=T))
        agents.append(mo.Agent(f"a{j}", mo.grid(0, 1, T), prior=[Fraction(w, sum(weights)) for w in weights]))
    env = mo.single_item(agents) if kind == "single_item" else mo.bilateral_trade(*agents)
    objective = draw(st.sampled_from(["revenue", "welfare", "utility", "gains"]))
    budget = "ex_ante" if objective != "revenue" else "none"
    event(f"{kind}, {objective}")
    return mo.Design(env, ic=draw(st.sampled_from(["bic", "dsic"])), ir="interim", budget=budget, objective=objective)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_designs())
def test_face_contains_the_solution_and_pins_the_objective(design):
    r = design.solve()
    if r.status != "optimal":
        event(f"status {r.status}")
        return
    f = r.face(("revenue", "welfare", "utility", "gains"))
    obj = design.objective
    assert f.loc[obj, "min"] == pytest.approx(r.objective, abs=1e-7)
    assert f.loc[obj, "max"] == pytest.approx(r.objective, abs=1e-7)
    for m in ("revenue", "welfare", "utility", "gains"):
        assert f.loc[m, "min"] - 1e-7 <= r.metrics[m] <= f.loc[m, "max"] + 1e-7
    # welfare = revenue + utility on every mechanism, so the widths agree where revenue is pinned
    if obj == "revenue":
        assert f.loc["welfare", "width"] == pytest.approx(f.loc["utility", "width"], abs=1e-7)
    event("unique" if r.is_unique() else "not unique")
