"""Interdependent values: ex post IC, common values, the single-crossing impossibility.

What each test compares against (never a number mechopt produced):

* the common-value auction: an independent LP written out below with
  ``scipy.optimize.linprog`` (its own variables and rows, loops over profiles);
* the single-crossing failure (v₁ = 1 + t₁, v₂ = 3t₁ + t₂/10): the two-line
  impossibility argument (adding agent 1's two IC rows gives 0 ≥ 1), checked
  as an exact Farkas certificate;
* Maskin's family v_i = t_i + α t_j: efficient ex post implementation exists iff
  α ≤ 1 (Maskin 1992; Dasgupta & Maskin 2000; the proof for α > 1 is in
  :func:`test_maskin_alpha_single_crossing`);
* Crémer & McLean (1985, 1988): with correlated signals whose belief vectors are
  linearly independent, BIC + interim IR extracts the full surplus E[max_i v_i];
* private values written as profile tables, and ``ic="ex_post"`` versus
  ``ic="dsic"`` on private values: the same optimum (ex post IC is DSIC when a
  value depends on the own type only; Jehiel & Moldovanu 2001 discuss the general case).
"""

from __future__ import annotations

import itertools
import pickle
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import mechopt as mo
from mechopt.errors import SpecError
from mechopt.verify import violations, violations_interdependent

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------- independent LP
def independent_revenue_lp(types, prior, value, ic: str, ir: str, joint=None) -> float:
    """Maximal expected revenue of one item with interdependent values, by linprog.

    Variables: ``x[s, k]`` (k = 0 unsold, k = i + 1: agent i wins) and
    ``p[s, i]``; ``value(i, profile)`` is winner i's value at the true profile.
    ``ic``: "ex_post" (every profile, values at the true profile) or "bic"
    (expectation over the others' types given one's own); ``ir``: "ex_post" or
    "interim".  ``joint``: optional correlated prior (dict profile -> mass).
    """
    n = len(types)
    K = n + 1
    profiles = list(itertools.product(*[range(len(t)) for t in types]))
    S = len(profiles)
    where = {prof: s for s, prof in enumerate(profiles)}
    mass = {prof: (joint[prof] if joint else float(np.prod([prior[j][prof[j]] for j in range(n)])))
            for prof in profiles}

    def xi(s, k):
        return s * K + k

    def pi(s, i):
        return S * K + s * n + i

    N = S * K + S * n

    def util(row, i, s_alloc, true_prof, w):
        """row += w · (v_i(x(s_alloc)) at the true profile − p_i(s_alloc))."""
        v = value(i, [types[j][true_prof[j]] for j in range(n)])
        row[xi(s_alloc, i + 1)] += w * v
        row[pi(s_alloc, i)] -= w

    A_ub, b_ub, A_eq, b_eq = [], [], [], []
    for s in range(S):
        row = np.zeros(N)
        row[[xi(s, k) for k in range(K)]] = 1
        A_eq.append(row)
        b_eq.append(1.0)
    for i in range(n):
        for t in range(len(types[i])):
            same_t = [prof for prof in profiles if prof[i] == t]
            m_t = sum(mass[prof] for prof in same_t)
            for r in range(len(types[i])):
                if r == t:
                    continue
                rows = []
                for prof in same_t:
                    dev = prof[:i] + (r,) + prof[i + 1:]
                    row = np.zeros(N)  # deviation utility − truthful utility ≤ 0
                    w = 1.0 if ic == "ex_post" else mass[prof] / m_t
                    util(row, i, where[dev], prof, w)
                    util(row, i, where[prof], prof, -w)
                    rows.append(row)
                A_ub.extend(rows if ic == "ex_post" else [sum(rows)])
                b_ub.extend([0.0] * (len(rows) if ic == "ex_post" else 1))
            rows = []
            for prof in same_t:
                row = np.zeros(N)  # −(truthful utility) ≤ 0
                util(row, i, where[prof], prof, -(1.0 if ir == "ex_post" else mass[prof] / m_t))
                rows.append(row)
            A_ub.extend(rows if ir == "ex_post" else [sum(rows)])
            b_ub.extend([0.0] * (len(rows) if ir == "ex_post" else 1))
    c = np.zeros(N)
    for prof in profiles:
        for i in range(n):
            c[pi(where[prof], i)] -= mass[prof]
    bounds = [(0, None)] * (S * K) + [(None, None)] * (S * n)
    res = linprog(c, A_ub=np.array(A_ub), b_ub=b_ub, A_eq=np.array(A_eq), b_eq=b_eq, bounds=bounds, method="highs")
    assert res.status == 0, res.message
    return -res.fun


HALF = [0.0, 0.5, 1.0]
UNIFORM3 = [[1 / 3] * 3, [1 / 3] * 3]


def common_value_env():
    bidders = [mo.Agent(f"b{i}", [0, F(1, 2), 1]) for i in range(2)]
    return mo.interdependent_item(bidders, lambda i, t: t.sum())


# ----------------------------------------------------------------------------- common value auction
def test_common_value_auction_ex_post_matches_independent_lp():
    env = common_value_env()
    assert not env.is_private and env.values[0].shape == (3, 3, 3)
    r = mo.Design(env, ic="ex_post", ir="ex_post", objective="revenue").solve(certify=True)
    expected = independent_revenue_lp([HALF, HALF], UNIFORM3, lambda i, t: t[0] + t[1], "ex_post", "ex_post")
    assert r.status == "optimal"
    assert r.objective == pytest.approx(expected, abs=1e-9)
    assert r.verification["ok"]
    assert r.certificate.verify(exact=True)
    assert float(r.certificate.objective) == pytest.approx(expected, abs=1e-12)  # exact optimum
    # the whole surplus is E[t1 + t2] = 1 (the item is always worth selling); ex post IC leaves the rest
    assert r.metrics["welfare"] == pytest.approx(1.0, abs=1e-9)
    assert r.metrics["utility"] == pytest.approx(1.0 - expected, abs=1e-9)
    assert "interdependent" in r.reductions["ex_post"]
    assert r.reductions["ic"] == {"b0": "all pairs", "b1": "all pairs"}


@pytest.mark.parametrize("ic, ir", [("bic", "interim"), ("bic", "ex_post"), ("ex_post", "interim")])
def test_common_value_auction_other_levels_match_independent_lp(ic, ir):
    env = common_value_env()
    r = mo.Design(env, ic=ic, ir=ir, objective="revenue").solve()
    expected = independent_revenue_lp([HALF, HALF], UNIFORM3, lambda i, t: t[0] + t[1], ic, ir)
    assert r.status == "optimal" and r.verification["ok"]
    assert r.objective == pytest.approx(expected, abs=1e-9)


def test_maskin_weights_match_independent_lp():
    """v_i = t_i + t_j / 2 on an uneven prior: ex post IC + ex post IR."""
    bidders = [mo.Agent("b0", [0, F(1, 2), 1], prior=[F(1, 2), F(1, 4), F(1, 4)]),
               mo.Agent("b1", [0, 1], prior=[F(1, 3), F(2, 3)])]
    env = mo.interdependent_item(bidders, alpha=F(1, 2))
    r = mo.Design(env, ic="ex_post", ir="ex_post").solve()
    expected = independent_revenue_lp([HALF, [0.0, 1.0]], [[0.5, 0.25, 0.25], [1 / 3, 2 / 3]],
                                      lambda i, t: t[i] + 0.5 * t[1 - i], "ex_post", "ex_post")
    assert r.status == "optimal" and r.verification["ok"]
    assert r.objective == pytest.approx(expected, abs=1e-9)


# ----------------------------------------------------------------------------- single crossing fails
def crossing_env():
    agents = [mo.Agent("a1", [0, 1]), mo.Agent("a2", [0, 1])]
    return mo.interdependent_item(agents, lambda i, t: 1 + t[0] if i == 0 else 3 * t[0] + F(1, 10) * t[1])


@pytest.mark.parametrize("ic", ["ex_post", "bic"])
def test_single_crossing_failure_is_infeasible_with_exact_certificate(ic):
    """Agent 1's type raises agent 2's value faster than its own: efficiency gives agent 1 the
    item iff t1 = 0.  Agent 1's IC rows at t2 read p(0) − p(1) ≤ 1 (type 0 does not mimic 1) and
    p(0) − p(1) ≥ 2 (type 1 does not mimic 0): their sum is 0 ≥ 1 (Maskin 1992)."""
    env = crossing_env()
    eff = env.efficient_outcomes()
    assert eff[:, 1].tolist() == [True, True, False, False]  # agent 1 wins iff t1 = 0
    r = mo.Design(env, ic=ic, ir="none", allocation="efficient", objective="feasibility").solve()
    assert r.status == "infeasible"
    cert = r.certificate
    assert cert.verify(exact=True)
    w = cert.weights
    ic_rows = w.loc["ic"]
    assert (ic_rows > 0).all() and len(ic_rows) >= 2
    assert set(r.lp.labels("ic").loc[ic_rows.index.get_level_values("row"), "agent"]) == {"a1"}
    # no weight on agent 2's rows, nor on IR/budget (there are none)
    assert set(w.index.get_level_values("family")) <= {"ic", "efficiency", "lottery"}


def test_single_crossing_failure_feasible_without_efficiency():
    r = mo.Design(crossing_env(), ic="ex_post", ir="ex_post", objective="revenue").solve()
    assert r.status == "optimal" and r.verification["ok"]


@SETTINGS
@given(a=st.integers(0, 8), T=st.integers(2, 3))
def test_maskin_alpha_single_crossing(a, T):
    """v_i = t_i + α t_j, two bidders with the same grid: efficient + ex post IC is feasible iff α ≤ 1.

    α ≤ 1: the efficient winner is the higher signal (any split at α = 1), monotone in the own
    signal, and with values increasing in it payments exist (Dasgupta & Maskin 2000).  α > 1: take
    the two top signals l < h and t_j = h.  At t_i = l agent i wins (v_i − v_j = (α − 1)(h − l) > 0);
    at t_i = h there is a tie, i wins with probability q_i.  Agent i's two IC rows add up to
    (1 − q_i)(l − h) ≥ 0, so q_i = 1; symmetrically q_j = 1: impossible since q_i + q_j ≤ 1.
    """
    alpha = F(a, 4)
    event(f"alpha {'<' if alpha < 1 else '=' if alpha == 1 else '>'} 1")
    agents = [mo.Agent(f"b{i}", mo.grid(0, 1, T)) for i in range(2)]
    env = mo.interdependent_item(agents, alpha=alpha)
    r = mo.Design(env, ic="ex_post", ir="none", allocation="efficient", objective="feasibility").solve()
    if alpha <= 1:
        assert r.status == "optimal" and r.verification["ok"]
    else:
        assert r.status == "infeasible"
        assert r.certificate.verify(exact=True)


# ----------------------------------------------------------------------------- Crémer-McLean
def test_cremer_mclean_full_extraction_with_interdependent_values():
    """Correlated signals with linearly independent beliefs: BIC + interim IR revenue = E[max_i v_i]."""
    joint = [[F(2, 5), F(1, 10)], [F(1, 10), F(2, 5)]]
    agents = [mo.Agent(f"b{i}", [0, 1]) for i in range(2)]
    env = mo.interdependent_item(agents, alpha=F(1, 2), prior=joint)
    r = mo.Design(env, ic="bic", ir="interim", objective="revenue").solve()
    # E[max(t1 + t2/2, t2 + t1/2)] by hand: profiles (0,0): 0, (0,1) and (1,0): 1, (1,1): 3/2
    surplus = F(2, 5) * 0 + F(1, 10) * 1 + F(1, 10) * 1 + F(2, 5) * F(3, 2)
    assert r.status == "optimal" and r.verification["ok"]
    assert r.objective == pytest.approx(float(surplus), abs=1e-9)
    lp_value = independent_revenue_lp([[0.0, 1.0]] * 2, None, lambda i, t: t[i] + 0.5 * t[1 - i], "bic", "interim",
                                      joint={(0, 0): 0.4, (0, 1): 0.1, (1, 0): 0.1, (1, 1): 0.4})
    assert lp_value == pytest.approx(float(surplus), abs=1e-9)


# ----------------------------------------------------------------------------- private values
@st.composite
def private_designs(draw, min_agents: int = 1):
    n = draw(st.integers(min_agents, 2))
    K = draw(st.integers(2, 3))
    agents, values = [], []
    for i in range(n):
        T = draw(st.integers(2, 3))
        types = sorted(draw(st.lists(st.integers(0, 6), min_size=T, max_size=T, unique=True)))
        weights = draw(st.lists(st.integers(1, 4), min_size=T, max_size=T))
        agents.append(mo.Agent(f"a{i}", types, prior=[F(w, sum(weights)) for w in weights]))
        values.append(np.array(draw(st.lists(st.integers(0, 6), min_size=T * K, max_size=T * K))).reshape(T, K))
    cost = draw(st.lists(st.integers(0, 3), min_size=K, max_size=K))
    prior = None
    if n == 2 and draw(st.booleans()):
        shape = tuple(a.n_types for a in agents)
        w = draw(st.lists(st.integers(1, 5), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
        prior = np.array([F(v, sum(w)) for v in w], dtype=object).reshape(shape)
    env = mo.Environment(agents, [f"o{k}" for k in range(K)], values, cost=cost, prior=prior)
    options = {key: draw(st.sampled_from(mo.OPTIONS[key])) for key in ("ir", "budget", "allocation", "objective")}
    return env, values, options


def profile_tables(env, values):
    """The private tables V_i[θ_i, k] repeated over the others' types: shape (*env.shape, K)."""
    n, shape, K = env.n_agents, env.shape, env.n_outcomes
    return [np.broadcast_to(np.asarray(V).reshape((1,) * i + (shape[i],) + (1,) * (n - i - 1) + (K,)), shape + (K,))
            for i, V in enumerate(values)]


def _same(r1, r2):
    assert r1.status == r2.status
    if r1.status == "optimal":
        assert r1.objective == pytest.approx(r2.objective, rel=1e-7, abs=1e-7)
        assert r1.verification["ok"] and r2.verification["ok"]


@SETTINGS
@given(private_designs())
def test_ex_post_equals_dsic_for_private_values(case):
    env, _, options = case
    r_dsic = mo.Design(env, ic="dsic", **options).solve()
    r_ep = mo.Design(env, ic="ex_post", **options).solve()
    event(f"status {r_dsic.status}")
    event(f"objective {options['objective']}")
    _same(r_dsic, r_ep)
    assert r_ep.reductions["ex_post"] == "ex_post = dsic (private values)"
    assert r_ep.reductions["ic"] == r_dsic.reductions["ic"]  # adjacent IC where it applies, as for DSIC


@SETTINGS
@given(private_designs(min_agents=2), st.sampled_from(["bic", "ex_post"]))
def test_private_values_as_profile_tables_give_the_same_optimum(case, ic):
    """The interdependent code path (true-profile values, no adjacent/interim reductions) on values
    that happen to be private gives the private-value optimum (DSIC for ex post)."""
    env, values, options = case
    twin = mo.Environment(env.agents, env.outcomes, profile_tables(env, values), cost=env.cost_exact,
                          prior=None if env.is_independent else env.joint_prior_exact)
    assert not twin.is_private
    r_priv = mo.Design(env, ic="dsic" if ic == "ex_post" else ic, **options).solve()
    r_prof = mo.Design(twin, ic=ic, **options).solve()
    event(f"{ic}: status {r_priv.status}")
    event(f"ir {options['ir']}, budget {options['budget']}")
    event(f"prior {'independent' if env.is_independent else 'correlated'}")
    _same(r_priv, r_prof)


@SETTINGS
@given(private_designs(min_agents=2), st.integers(0, 2**32 - 1))
def test_verifier_on_profile_tables_agrees_with_the_private_verifier(case, seed):
    env, values, _ = case
    twin = mo.Environment(env.agents, env.outcomes, profile_tables(env, values), cost=env.cost_exact,
                          prior=None if env.is_independent else env.joint_prior_exact)
    rng = np.random.default_rng(seed)
    x = rng.dirichlet(np.ones(env.n_outcomes), size=env.n_profiles)
    p = rng.normal(size=(env.n_profiles, env.n_agents))
    if seed % 3 == 0:  # a constant mechanism: every IC condition holds
        x, p = np.tile(x[0], (env.n_profiles, 1)), np.tile(p[0], (env.n_profiles, 1))
    a, b = violations(env, x, p), violations_interdependent(twin, x, p)
    assert violations(twin, x, p) == b  # the verifier dispatches on env.is_private
    event(f"dsic {'holds' if a['dsic'] <= 0 else 'fails'}")
    for key in a:
        assert b[key] == pytest.approx(a[key], abs=1e-12), key
    assert b["ex_post_ic"] == pytest.approx(a["dsic"], abs=1e-12)


# ----------------------------------------------------------------------------- verifier by hand
def test_verifier_ex_post_versus_dominant_strategy():
    """Second-price-like rule in the common-value auction: the higher signal wins and pays the
    value at a tie (2 t_j).  Ex post IC holds (Milgrom & Weber 1982's ex post equilibrium) but
    truth is not dominant: if the other over-reports, a bidder may win at a price above the value."""
    env = mo.interdependent_item([mo.Agent(f"b{i}", [0, 1, 2]) for i in range(2)], lambda i, t: t.sum())
    S = env.n_profiles
    x, p = np.zeros((S, 3)), np.zeros((S, 2))
    for s, (t0, t1) in enumerate(itertools.product(range(3), repeat=2)):
        if t0 == t1:
            x[s, 1:] = 0.5
            p[s] = t0  # each pays 2t/2 with probability 1/2
        else:
            w = 0 if t0 > t1 else 1
            x[s, w + 1] = 1
            p[s, w] = 2 * min(t0, t1)
    v = violations(env, x, p)
    assert v["ex_post_ic"] <= 1e-12 and v["ex_post_ir"] <= 1e-12 and v["efficient"] <= 1e-12
    assert v["bic"] <= 1e-12
    # not dominant: true (t0, t1) = (2, 0) but b1 reports 2; truthful b0 ties, wins half the time an
    # item worth 2 + 0 and pays 2: utility 1 - 2 = -1, while reporting 0 gives 0
    assert v["dsic"] > 0


# ----------------------------------------------------------------------------- input
def test_callable_values_equal_tables():
    agents = [mo.Agent("a", [0, 1]), mo.Agent("b", [0, F(1, 2), 1])]
    f = lambda i, k, t: (k + 1) * t[i] + F(1, 3) * t[1 - i]  # noqa: E731
    env = mo.Environment(agents, ["x", "y"], f)
    tables = [np.array([[[f(i, k, [a, b]) for k in range(2)] for b in agents[1].types_exact]
                        for a in agents[0].types_exact], dtype=object) for i in range(2)]
    env2 = mo.Environment(agents, ["x", "y"], tables)
    for i in range(2):
        assert (env.values_exact[i] == env2.values_exact[i]).all()
        assert env.values_exact[i][1, 2, 1] == 2 * 1 + F(1, 3)
    assert np.array_equal(env.welfare_table, env2.welfare_table)


def test_mixed_private_and_profile_tables():
    agents = [mo.Agent("a", [0, 1]), mo.Agent("b", [0, 1])]
    env = mo.Environment(agents, ["x", "y"], [[[0, 1], [0, 2]], np.ones((2, 2, 2))])
    assert not env.is_private
    assert env.values[0].shape == (2, 2, 2) and env.values[0][1, 0, 1] == 2 and env.values[0][1, 1, 1] == 2


@pytest.mark.parametrize("build, match", [
    (lambda e: mo.Design(e, ic="dsic"), "ic='ex_post'"),
    (lambda e: mo.Environment(e.agents, ["u", "b0", "b1"], [np.zeros((3, 2, 3)), np.zeros((3, 3, 3))]),
     r"\(3, 3, 3\)"),
    (lambda e: mo.interdependent_item(e.agents), "exactly one of"),
    (lambda e: mo.interdependent_item(e.agents, lambda i, t: t.sum(), alpha=1), "exactly one of"),
    (lambda e: mo.interdependent_item(e.agents, lambda i, t: t[5]), "value function failed"),
    (lambda e: mo.interdependent_item(e.agents, lambda i, t: float("nan")), "finite"),
    (lambda e: mo.mechanisms.agv(e), "assumes private values"),
])
def test_bad_input_gives_one_clear_line(build, match):
    env = common_value_env()
    with pytest.raises(SpecError, match=match) as info:
        build(env)
    assert "\n" not in str(info.value)


def test_result_pickles_and_env_keeps_no_callable():
    r = mo.Design(common_value_env(), ic="ex_post", ir="ex_post").solve()
    back = pickle.loads(pickle.dumps(r))
    assert back.objective == r.objective and not back.design.env.is_private


@pytest.mark.parametrize("ic, prior", [("ex_post", None), ("bic", None),
                                       ("bic", [[F(3, 20), F(1, 20), F(1, 20)], [F(1, 20), F(3, 10), F(1, 20)],
                                                [F(1, 20), F(1, 20), F(1, 4)]])])
def test_generated_ic_rows_reach_the_full_optimum(ic, prior):
    """Row generation (a relaxation each round) ends at the optimum of the full IC family."""
    agents = [mo.Agent(f"b{i}", mo.grid(0, 1, 3 if prior else 6)) for i in range(2)]
    env = mo.interdependent_item(agents, alpha=F(3, 4), prior=prior)
    full = mo.Design(env, ic=ic, ir="ex_post").solve(ic_generation=False)
    gen = mo.Design(env, ic=ic, ir="ex_post").solve(ic_generation=True)
    assert full.status == gen.status == "optimal" and gen.verification["ok"]
    assert gen.objective == pytest.approx(full.objective, abs=1e-9)
    assert gen.reductions["ic"]["b0"].startswith("generated")


# ----------------------------------------------------------------------------- generalized VCG
@pytest.mark.parametrize("alpha", [F(0), F(1, 2), F(9, 10)])
def test_generalized_vcg_is_ex_post_ic_under_single_crossing(alpha):
    """Dasgupta & Maskin (2000): with single crossing (alpha < 1) the winner paying its value at its
    lowest winning report is ex post IC, ex post IR and efficient (checked by the independent verifier)."""
    env = mo.interdependent_item([mo.Agent(f"b{i}", mo.grid(0, 1, 5)) for i in range(2)], alpha=alpha)
    m = mo.mechanisms.vcg(env)  # dispatches to the generalized VCG for interdependent values
    raw = m.check()["raw"]
    assert raw["ex_post_ic"] <= 1e-12 and raw["ex_post_ir"] <= 1e-12 and raw["efficient"] <= 1e-12


def test_generalized_vcg_fails_without_single_crossing():
    """alpha = 2: no efficient ex post IC mechanism exists (the LP is infeasible, models/
    interdependent_no_single_crossing.toml), so this efficient mechanism must violate ex post IC."""
    env = mo.interdependent_item([mo.Agent(f"b{i}", [0, 1]) for i in range(2)], alpha=2)
    raw = mo.mechanisms.generalized_vcg(env).check()["raw"]
    assert raw["efficient"] <= 1e-12 and raw["ex_post_ic"] > 0.5


def test_generalized_vcg_private_values_threshold_revenue():
    """alpha = 0 (private values) on grid(0, 1, 5), ties to bidder 0 and 'unsold' at value 0: the winner
    pays its threshold report, computed here by hand: b0 wins when t0 >= t1 and t0 > 0 and pays
    max(t1, 1/4); b1 wins when t1 > t0 and pays t0 + 1/4."""
    g = [F(k, 4) for k in range(5)]
    expected = F(0)
    for t0 in g:
        for t1 in g:
            if t0 >= t1 and t0 > 0:
                expected += max(t1, F(1, 4))
            elif t1 > t0:
                expected += t0 + F(1, 4)
    expected /= 25
    env = mo.interdependent_item([mo.Agent(f"b{i}", mo.grid(0, 1, 5)) for i in range(2)], alpha=0)
    assert mo.mechanisms.generalized_vcg(env).metrics["revenue"] == pytest.approx(float(expected), abs=1e-12)
