"""Backends: cvxpy against HiGHS, statuses, duals of user constraints, solver options.

References the code did not produce: independent LPs written here with
``scipy.optimize.linprog``, finite differences of the optimal value, and the
other backend (two different solve paths must agree on every random design).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import mechopt as mo
from mechopt.backends.options import highs_option_names, validate_options
from mechopt.errors import SolverError

# ---------------------------------------------------------------- random designs

@st.composite
def scalar_agent(draw, name: str, outside: bool = False):
    T = draw(st.integers(1, 3))
    types = sorted(Fraction(k, 2) for k in draw(st.permutations(range(7)))[:T])
    weights = draw(st.lists(st.integers(1, 4), min_size=T, max_size=T))
    prior = [Fraction(w, sum(weights)) for w in weights]
    out = draw(st.sampled_from([None, 0, Fraction(1, 2)])) if outside else None
    return mo.Agent(name, types, prior, out)


@st.composite
def environments(draw):
    kind = draw(st.sampled_from(["single_item", "bilateral_trade", "partnership", "public_project", "table"]))
    if kind == "single_item":
        n = draw(st.integers(1, 2))
        agents = [draw(scalar_agent(f"b{i}", outside=True)) for i in range(n)]
        return kind, mo.single_item(agents, seller_value=draw(st.sampled_from([0, Fraction(1, 2)])))
    if kind == "bilateral_trade":
        return kind, mo.bilateral_trade(draw(scalar_agent("buyer")), draw(scalar_agent("seller")))
    if kind == "partnership":
        a, b = draw(scalar_agent("p0")), draw(scalar_agent("p1"))
        r = draw(st.sampled_from([Fraction(1, 2), Fraction(1, 3), Fraction(1)]))
        return kind, mo.partnership([a, b], [r, 1 - r])
    if kind == "public_project":
        n = draw(st.integers(1, 3))
        agents = [draw(scalar_agent(f"c{i}")) for i in range(n)]
        return kind, mo.public_project(agents, cost=draw(st.sampled_from([Fraction(1, 2), 1, 2])))
    n, K = draw(st.integers(1, 2)), draw(st.integers(2, 3))
    agents = [draw(scalar_agent(f"a{i}", outside=True)) for i in range(n)]
    values = [
        [[draw(st.integers(-2, 4)) for _ in range(K)] for _ in range(a.n_types)] for a in agents
    ]
    cost = draw(st.sampled_from([None, [0] * K, [0] + [1] * (K - 1)]))
    return kind, mo.Environment(agents, [f"o{k}" for k in range(K)], values, cost=cost)


@st.composite
def designs(draw):
    kind, env = draw(environments())
    if draw(st.booleans()):  # infeasible-prone: every constraint on (Myerson–Satterthwaite-like)
        opts = {"ic": draw(st.sampled_from(["dsic", "bic"])), "ir": draw(st.sampled_from(["ex_post", "interim"])),
                "budget": draw(st.sampled_from(["exact", "ex_post"])), "allocation": "efficient"}
        event("options=infeasible-prone")
    else:
        opts = {key: draw(st.sampled_from(values)) for key, values in mo.OPTIONS.items() if key != "objective"}
    opts["objective"] = draw(st.sampled_from(["revenue", "welfare", "utility", "feasibility"]))
    return kind, mo.Design(env, **opts)


def _agree(kind: str, design) -> None:
    a = design.solve()
    b = design.solve(backend="cvxpy")
    event(f"builder={kind}")
    event(f"status={a.status}")
    if a.status == "optimal":
        event(f"objective={design.objective}")
    assert str(a.status) == str(b.status), (design, a.status, b.status, b.output.message)
    if a.status == "optimal":
        assert b.objective == pytest.approx(a.objective, rel=1e-6, abs=1e-7)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(designs())
def test_cvxpy_and_highs_agree(case):
    """300 random designs (about 10 s): same status, same optimum, 0 mismatches."""
    _agree(*case)


# ---------------------------------------------------------------- statuses


def test_unbounded_is_unbounded_on_both_backends():
    """No IC, no IR: payments are free, revenue is unbounded (any price is accepted)."""
    env = mo.single_item([mo.Agent("a", [0, 1])])
    d = mo.Design(env, ic="none", ir="none", objective="revenue")
    assert d.solve().status == "unbounded"
    assert d.solve(backend="cvxpy").status == "unbounded"
    # The same with IC only: p(0) = p(1) = any constant, still unbounded.
    d = mo.Design(env, ic="dsic", ir="none", objective="revenue")
    assert d.solve(backend="cvxpy").status == "unbounded"


def test_infeasible_is_confirmed():
    """Bilateral trade, buyer {0.9, 1.5, 2}, seller {0, 0.5, 1}: DSIC, ex post IR, exact budget,
    efficient.  The seller's DSIC forces a price ≥ 1 where she trades at type 1 while the buyer
    of type 0.9 must trade with seller 0 at a price ≤ 0.9 (issue 10's example with a 0.1 gap);
    an independent LP written below with linprog confirms that nothing is feasible.
    """
    b, s = mo.Agent("buyer", [0.9, 1.5, 2]), mo.Agent("seller", [0, 0.5, 1])
    d = mo.Design(mo.bilateral_trade(b, s), ic="dsic", ir="ex_post", budget="exact",
                  allocation="efficient", objective="feasibility")
    ra, rb = d.solve(), d.solve(backend="cvxpy")
    assert ra.status == rb.status
    assert _independent_feasible(d) is None
    assert ra.status == "infeasible"


def _independent_feasible(design):
    """Feasibility of DSIC + ex post IR + exact budget + efficiency for bilateral trade, by linprog.

    Variables per profile (b, s): trade probability q and the buyer's payment t (the seller
    receives t: exact budget).  Efficiency fixes q where b ≠ s (q ∈ [0, 1] at ties).
    """
    env = design.env
    B, S_ = env.agents[0].types, env.agents[1].types
    nb, ns = len(B), len(S_)
    N = 2 * nb * ns

    def q(i, j):
        return i * ns + j

    def t(i, j):
        return nb * ns + i * ns + j

    A, rhs, bounds = [], [], []
    for i, j in itertools.product(range(nb), range(ns)):
        bounds.append((1.0, 1.0) if B[i] > S_[j] else (0.0, 0.0) if B[i] < S_[j] else (0.0, 1.0))
    bounds += [(None, None)] * (nb * ns)
    for i, j in itertools.product(range(nb), range(ns)):
        # buyer IR: B_i q − t ≥ 0 ; seller IR: t + S_j (1 − q) ≥ S_j  ⇔  t − S_j q ≥ 0
        row = np.zeros(N)
        row[q(i, j)] = -B[i]
        row[t(i, j)] = 1
        A.append(row)
        rhs.append(0)
        row = np.zeros(N)
        row[q(i, j)] = S_[j]
        row[t(i, j)] = -1
        A.append(row)
        rhs.append(0)
        for k in range(nb):  # buyer i reports k
            if k != i:
                row = np.zeros(N)
                row[q(i, j)] -= B[i]
                row[t(i, j)] += 1
                row[q(k, j)] += B[i]
                row[t(k, j)] -= 1
                A.append(row)
                rhs.append(0)
        for k in range(ns):  # seller j reports k: utility t + S_j (1 − q)
            if k != j:
                row = np.zeros(N)
                row[t(i, j)] -= 1
                row[q(i, j)] += S_[j]
                row[t(i, k)] += 1
                row[q(i, k)] -= S_[j]
                A.append(row)
                rhs.append(0)
    res = linprog(np.zeros(N), A_ub=np.array(A), b_ub=np.array(rhs), bounds=bounds, method="highs")
    return res.x if res.status == 0 else None


def test_inaccurate_status_is_never_silent():
    from mechopt.backends.cvxpy import _STATUS

    for raw, (_, message) in _STATUS.items():
        if "inaccurate" in raw or raw == "infeasible_or_unbounded":
            assert message, raw


# ---------------------------------------------------------------- user constraints and their duals


def _trade_design():
    b, s = mo.Agent("buyer", mo.grid(0, 1, 5)), mo.Agent("seller", mo.grid(0, 1, 5))
    return mo.Design(mo.bilateral_trade(b, s), ic="bic", ir="interim", budget="ex_ante", objective="revenue")


def _with_sale_floor(design, q: float):
    return design.solve(backend="cvxpy", constraints=lambda m: {"P(trade) >= q": m.expected(m.x[:, 1]) >= q})


@pytest.mark.parametrize("q", [0.3, 0.35])
def test_user_constraint_dual_is_the_shadow_price(q):
    """λ of "P(trade) ≥ q" equals −∂revenue/∂q, by a central finite difference."""
    d = _trade_design()
    r = _with_sale_floor(d, q)
    assert r.status == "optimal"
    user = r.duals["user"]
    assert list(user["constraint"]) == ["P(trade) >= q"]
    h = 1e-4
    slope = (_with_sale_floor(d, q - h).objective - _with_sale_floor(d, q + h).objective) / (2 * h)
    assert slope > 0.1  # binding: the revenue-optimal mechanism trades with probability 0.12
    assert user["dual"].iloc[0] == pytest.approx(slope, rel=1e-6)
    assert "user constraints: P(trade) >= q" in repr(r)


def test_slack_user_constraint_has_zero_dual():
    d = _trade_design()
    r = _with_sale_floor(d, 0.05)  # the unconstrained optimum already trades with probability 0.12
    assert r.objective == pytest.approx(d.solve().objective, abs=1e-9)
    assert r.duals["user"]["dual"].iloc[0] == pytest.approx(0.0, abs=1e-9)


def test_user_constraint_list_and_objective_are_described():
    d = _trade_design()

    def half_welfare(m):
        return m.revenue + 0.5 * m.welfare

    r = d.solve(backend="cvxpy", objective=half_welfare, constraints=lambda m: [m.x[:, 1] <= 0.9])
    assert r.status == "optimal"
    user = r.duals["user"]
    assert len(user) == d.env.n_profiles  # one entry per profile
    assert (user["dual"] >= -1e-9).all()
    text = repr(r)
    assert "user objective half_welfare" in text and "user constraints: c0" in text
    # the highs backend has no user family
    assert "user" not in d.solve().duals


def test_bad_user_constraint_is_a_solver_error():
    d = _trade_design()
    with pytest.raises(SolverError, match="cvxpy constraints"):
        d.solve(backend="cvxpy", constraints=lambda m: [True])


# ---------------------------------------------------------------- solver options


def test_option_names_come_from_highs():
    names = highs_option_names()
    assert {"time_limit", "presolve", "solver", "primal_feasibility_tolerance"} <= set(names)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"time_limt": 10}, "did you mean 'time_limit'"),
        ({"foo_option": 1}, "unknown solver option 'foo_option'"),
        ({"primal_feasibility_tolerence": 1e-9}, "did you mean 'primal_feasibility_tolerance'"),
        ({"time_limit": -1}, "time_limit"),
        ({"solver": "bogus"}, "solver='bogus'"),
        ({"threads": 1.5}, "threads=1.5 must be an integer"),
        ({"output_flag": 3}, "output_flag=3 must be true or false"),
        ({"time_limit": "soon"}, "time_limit='soon' must be a number"),
        ({"verbose": "yes"}, "verbose"),
        ({"certify": "yes"}, "certify='yes' must be True, False or None"),
        ({"max_memory": "lots"}, "max_memory"),
    ],
)
def test_bad_solver_options_raise(options, match):
    with pytest.raises(SolverError, match=match):
        validate_options(options)
    d = mo.Design(mo.single_item([mo.Agent("a", [0, 1])]))
    for backend in ("highs", "cvxpy"):
        with pytest.raises(mo.MechoptError):
            d.solve(backend=backend, **options)


def test_good_solver_options_are_converted_and_used():
    assert validate_options({"time_limit": 10, "threads": 1, "presolve": False}) == {
        "time_limit": 10.0, "threads": 1, "presolve": False,
    }
    pipeline = {"ic_generation": None, "border": True, "certify": False, "max_memory": "4GB", "backend": "cvxpy"}
    assert validate_options(pipeline) == pipeline
    d = mo.Design(mo.single_item([mo.Agent("a", [0, 1])]), ic="dsic", ir="ex_post")
    assert d.solve(time_limit=10, primal_feasibility_tolerance=1e-9).objective == pytest.approx(0.5)


# ---------------------------------------------------------------- multi_item keeps outside options


def test_multi_item_keeps_outside_option():
    """One buyer, items 2, grid(0, 1, 3) per item, outside 0.7, DSIC + ex post IR revenue.

    Independent LP (linprog) over the 9 type vectors and the 4 bundles: 1/45 ≈ 0.0222, not
    the 0.7222 obtained when the outside option is dropped.
    """
    g = [0.0, 0.5, 1.0]
    types = list(itertools.product(g, g))
    bundles = list(itertools.product([0, 1], [0, 1]))
    n, K = len(types), len(bundles)
    val = np.array([[a * t[0] + b * t[1] for a, b in bundles] for t in types])
    N = n * K + n
    A, rhs = [], []
    for t in range(n):
        for s in range(n):
            if s != t:  # u(t|s) − u(t|t) ≤ 0
                row = np.zeros(N)
                row[s * K: (s + 1) * K] += val[t]
                row[t * K: (t + 1) * K] -= val[t]
                row[n * K + t] += 1
                row[n * K + s] -= 1
                A.append(row)
                rhs.append(0.0)
        row = np.zeros(N)  # IR: v − p ≥ 0.7
        row[t * K: (t + 1) * K] = -val[t]
        row[n * K + t] = 1
        A.append(row)
        rhs.append(-0.7)
    eq = np.zeros((n, N))
    for t in range(n):
        eq[t, t * K: (t + 1) * K] = 1
    c = np.zeros(N)
    c[n * K:] = -1.0 / n
    ref = linprog(c, A_ub=A, b_ub=rhs, A_eq=eq, b_eq=np.ones(n),
                  bounds=[(0, None)] * (n * K) + [(None, None)] * n, method="highs")
    assert ref.status == 0 and -ref.fun == pytest.approx(1 / 45, abs=1e-9)

    env = mo.multi_item([mo.Agent("b", mo.grid(0, 1, 3), outside=0.7)], items=2)
    assert np.allclose(env.outside[0], 0.7)
    r = mo.Design(env, ic="dsic", ir="ex_post", objective="revenue").solve()
    assert r.objective == pytest.approx(-ref.fun, abs=1e-8)
    with pytest.raises(mo.SpecError, match="varies with its scalar type"):
        mo.multi_item([mo.Agent("b", [0, 1], outside=[0, 1])], items=2)


@pytest.mark.parametrize("raw", ["infeasible_or_unbounded", "infeasible", "unbounded_inaccurate"])
def test_ambiguous_cvxpy_status_is_resolved_by_a_second_solve(monkeypatch, raw):
    """cvxpy may answer "infeasible" / "infeasible_or_unbounded" for an unbounded LP (issue 10).

    The first solve's status is forced to ``raw``; the zero-objective re-solve must tell an
    unbounded design (no IC, no IR: revenue unbounded) from an infeasible one (the
    Myerson–Satterthwaite example above).
    """
    from mechopt.backends import cvxpy as backend

    real = backend._solve_problem
    calls = []

    def first_call_says(problem, opts, verbose):
        status = real(problem, opts, verbose)
        calls.append(status)
        return raw if len(calls) == 1 else status

    monkeypatch.setattr(backend, "_solve_problem", first_call_says)
    unbounded = mo.Design(mo.single_item([mo.Agent("a", [0, 1])]), ic="none", ir="none")
    r = unbounded.solve(backend="cvxpy")
    assert r.status == "unbounded" and len(calls) == 2
    assert "unbounded" in r.output.message and raw in r.output.message
    calls.clear()
    b, s = mo.Agent("buyer", [0.9, 1.5, 2]), mo.Agent("seller", [0, 0.5, 1])
    infeasible = mo.Design(mo.bilateral_trade(b, s), ic="dsic", ir="ex_post", budget="exact",
                           allocation="efficient", objective="feasibility")
    r = infeasible.solve(backend="cvxpy")
    assert r.status == "infeasible" and len(calls) == 2
    assert raw == "infeasible" or "confirmed infeasible" in r.output.message


def test_optimal_inaccurate_keeps_a_message(monkeypatch):
    from mechopt.backends import cvxpy as backend

    real = backend._solve_problem
    monkeypatch.setattr(backend, "_solve_problem", lambda *a: "optimal_inaccurate" if real(*a) else None)
    d = mo.Design(mo.single_item([mo.Agent("a", [0, 1])]), ic="dsic", ir="ex_post")
    r = d.solve(backend="cvxpy")
    assert r.output.status == "optimal" and "optimal_inaccurate" in r.output.message
    assert r.objective == pytest.approx(0.5)  # price 1, sold to the high type (probability 1/2)
