"""Sweeps, thresholds and convergence (mechopt.sweeps) against closed forms.

Every expected number here is derived in this file: posted-price revenue of one
buyer (Riley & Zeckhauser 1983: a posted price is optimal for one buyer), the
one-bidder midpoint-grid optimum (n+1)/(4n), an exact polynomial in 1/n for
Richardson, and a cost threshold of the binary public project proved below.
"""

from __future__ import annotations

import json
import pickle
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from functools import partial

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from hypothesis import event, given, settings
from hypothesis import strategies as hs

import mechopt as mo
from mechopt.errors import MechoptError, SpecError
from mechopt.sweeps import COLUMNS, WarmStart, kkt_residual, richardson, solve_point

# ---------------------------------------------------------------------------- builders (module level: picklable)


def one_buyer(seller_value: float, n: int = 11) -> mo.Design:
    """One buyer, values grid(0, 1, n) equally likely; the seller's cost is ``seller_value``."""
    env = mo.single_item([mo.Agent("b", mo.grid(0, 1, n))], seller_value=seller_value)
    return mo.Design(env, ic="dsic", ir="ex_post", objective="revenue")


def two_bidders(seller_value: float, n: int = 9, ic: str = "dsic") -> mo.Design:
    agents = [mo.Agent(f"b{i}", mo.grid(0, 1, n)) for i in range(2)]
    return mo.Design(mo.single_item(agents, seller_value=seller_value), ic=ic, ir="ex_post")


def posted_price_revenue(seller_value: float, n: int) -> float:
    """max over prices t_k of (t_k − s)·P(θ ≥ t_k), or 0 (keep the item): one buyer, grid(0, 1, n)."""
    t = np.linspace(0.0, 1.0, n)
    survive = (n - np.arange(n)) / n
    return max(0.0, float(np.max((t - seller_value) * survive)))


def midpoint_one_bidder(n: int) -> mo.Design:
    return mo.Design(mo.single_item([mo.Agent("b", mo.discretize(st.uniform(), n))]), ic="dsic", ir="ex_post")


def binary_project(cost: float, agents: int = 3) -> mo.Design:
    env = mo.public_project([mo.Agent(f"a{i}", [0, 1]) for i in range(agents)], cost=cost)
    return mo.Design(env, ic="dsic", ir="ex_post", budget="ex_post", allocation="efficient",
                     objective="feasibility")


# ---------------------------------------------------------------------------- sweep


def test_sweep_columns_and_posted_price_closed_form():
    values = [0.0, 0.15, 0.3, 0.45, 0.6, 0.9, 1.2]
    df = mo.sweep(one_buyer, {"seller_value": values, "n": [11, 6]})
    assert list(df.columns) == ["seller_value", "n", *COLUMNS]
    assert len(df) == len(values) * 2
    # Cartesian product, last name fastest
    assert df[["seller_value", "n"]].values.tolist() == [[v, n] for v in values for n in (11, 6)]
    expected = [posted_price_revenue(v, n) for v in values for n in (11, 6)]
    assert np.allclose(df["objective"], expected, atol=1e-9)
    assert np.allclose(df["revenue"], df["objective"], atol=1e-9)
    assert (df["status"] == "optimal").all() and df["verified"].all()
    assert (df["seconds"] > 0).all()
    assert all(isinstance(json.loads(r), dict) for r in df["reductions"])
    assert "result" not in df.columns


def test_sweep_keep_results_and_list_of_points():
    points = [{"seller_value": 0.2}, {"seller_value": 0.7, "n": 5}]
    df = mo.sweep(one_buyer, points, keep=True)
    assert list(df.columns)[-1] == "result"
    assert all(isinstance(r, mo.Result) for r in df["result"])
    assert df["result"][0].objective == pytest.approx(df["objective"][0])
    assert df["objective"][1] == pytest.approx(posted_price_revenue(0.7, 5), abs=1e-9)
    assert np.isnan(df["n"][0])  # absent parameter -> NaN, as in a DataFrame built from the points
    frame = mo.sweep(one_buyer, pd.DataFrame({"seller_value": [0.2, 0.7]}))
    assert frame["objective"].tolist() == pytest.approx([posted_price_revenue(0.2, 11), posted_price_revenue(0.7, 11)])


def test_sweep_infeasible_points_have_nan_objective():
    df = mo.sweep(binary_project, {"cost": [1.5, 2.5]})
    # the binary public project with 3 agents is feasible iff cost >= 2 (proof in test_threshold_*)
    assert df["status"].tolist() == ["infeasible", "optimal"]
    assert np.isnan(df["objective"][0]) and df["objective"][1] == 0.0


@pytest.mark.parametrize("params, match", [
    ("seller_value", "dict of name -> values"),
    ({}, "params is empty"),
    ({"seller_value": 0.3}, "not a list of values"),
    ({"seller_value": []}, "has no values"),
    ({3: [1]}, "not a string"),
    ({"status": [1]}, "also a result column"),
    ([{"seller_value": 0.1}, 3], "not a dict"),
    ({"reserve": [0.1]}, "make the parameter names match"),
])
def test_sweep_bad_params(params, match):
    with pytest.raises(SpecError, match=match):
        mo.sweep(one_buyer, params)


def test_sweep_bad_build_and_executor():
    with pytest.raises(SpecError, match="not a Design"):
        mo.sweep(lambda x: x, {"x": [1]})
    with pytest.raises(SpecError, match="module level"):
        mo.sweep(lambda seller_value: one_buyer(seller_value), {"seller_value": [0.1]}, executor=2)
    with pytest.raises(SpecError, match="executor must be"):
        mo.sweep(one_buyer, {"seller_value": [0.1]}, executor="dask")
    with pytest.raises(SpecError, match="positive"):
        mo.sweep(one_buyer, {"seller_value": [0.1]}, executor=0)
    with pytest.raises(SpecError, match="chunksize"):
        mo.sweep(one_buyer, {"seller_value": [0.1]}, chunksize=0)
    with pytest.raises(SpecError, match="progress"):
        mo.sweep(one_buyer, {"seller_value": [0.1]}, progress="yes")


def test_sweep_progress_callable_and_tqdm(capsys):
    seen = []
    mo.sweep(one_buyer, {"seller_value": [0.1, 0.2, 0.3]}, chunksize=1, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    mo.sweep(one_buyer, {"seller_value": [0.1, 0.2]}, progress=True)
    assert "2/2" in capsys.readouterr().err


def test_warm_start_matches_cold_and_is_used():
    values = np.linspace(0.0, 0.9, 10).tolist()
    warm = mo.sweep(two_bidders, {"seller_value": values}, chunksize=10)
    cold = mo.sweep(two_bidders, {"seller_value": values}, warm=False)
    assert warm["warm"].sum() >= 8  # the matrix does not depend on the seller's value
    assert not cold["warm"].any()
    assert np.allclose(warm["objective"], cold["objective"], atol=1e-9)
    assert warm["verified"].all()


@settings(max_examples=12, deadline=None)
@given(costs=hs.lists(hs.integers(0, 24), min_size=2, max_size=6), ic=hs.sampled_from(["dsic", "bic"]))
def test_hot_started_sequences_match_myerson_closed_form(costs, ic):
    """Any order of seller costs s, one HiGHS instance: the optimum is E[max(ψ(t1) − s, ψ(t2) − s, 0)]
    with the discrete virtual value ψ(t) = 2t − 1 of a uniform grid (Myerson 1981; DSIC and BIC agree)."""
    s = [c / 20 for c in costs]
    df = mo.sweep(partial(two_bidders, ic=ic), {"seller_value": s}, chunksize=len(s))
    psi = 2 * np.linspace(0, 1, 9) - 1
    top = np.maximum.outer(psi, psi).ravel()
    assert np.allclose(df["objective"], [np.maximum(top - v, 0).mean() for v in s], atol=1e-9)
    assert df["verified"].all()
    event(f"{ic}: {int(df['warm'].sum())} of {len(s)} hot")


def test_failed_hot_start_is_resolved_cold(monkeypatch):
    import mechopt.sweeps as sw

    state = WarmStart()
    first, hot = solve_point(two_bidders(0.1), state)
    assert not hot
    monkeypatch.setattr(sw, "_trusted", lambda result: False)  # every hot answer rejected
    again, hot = solve_point(two_bidders(0.3), state)
    assert not hot and state.cold_solves == 2 and state.hot_solves == 1
    assert again.objective == pytest.approx(two_bidders(0.3).solve().objective, abs=1e-9)


def test_kkt_residual_detects_a_suboptimal_point():
    r = two_bidders(0.2).solve()
    assert kkt_residual(r) < 1e-7
    bad = pickle.loads(pickle.dumps(r))
    bad.output.row_dual = bad.output.row_dual * 0.5  # no longer dual feasible / zero gap
    assert kkt_residual(bad) > 1e-4
    bad = pickle.loads(pickle.dumps(r))
    bad.output.z = bad.output.z * 0.9
    assert kkt_residual(bad) > 1e-4


def _drop_seconds(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["seconds"])


def test_executors_give_identical_frames():
    params = {"seller_value": [0.0, 0.2, 0.4, 0.6], "ic": ["dsic", "bic"]}
    local = mo.sweep(two_bidders, params)
    with ThreadPoolExecutor(2) as pool:
        threads = mo.sweep(two_bidders, params, executor=pool)
        conv = mo.converge(midpoint_one_bidder, [3, 5, 9], executor=pool)
    assert conv.table["value"].tolist() == pytest.approx([(n + 1) / (4 * n) for n in (3, 5, 9)], abs=1e-10)
    pd.testing.assert_frame_equal(_drop_seconds(local), _drop_seconds(threads))
    # processes (executor=2): test_cli_jobs_gives_identical_points; Dask: the next test


def _points_without_seconds(out: str) -> list[dict]:
    return [{k: v for k, v in p.items() if k != "seconds"} for p in json.loads(out)["points"]]


def test_dask_local_cluster_gives_identical_frame(capsys):
    import distributed  # in the test extra: a missing install fails here, it is never skipped
    params = {"seller_value": [0.0, 0.2, 0.4, 0.6], "ic": ["dsic", "bic"]}
    local = mo.sweep(two_bidders, params)
    argv = ("sweep", "myerson_two_bidders", "--grid", "5,9", "--set", "seller_value=0:0.5:3", "--json", "-q")
    _, out_local, _ = _cli(capsys, *argv)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        remote = mo.sweep(two_bidders, params, executor=client)
        conv = mo.converge(midpoint_one_bidder, [3, 5, 9], executor=client)
        code, out_remote, err = _cli(capsys, *argv, "--scheduler", c.scheduler_address)
    pd.testing.assert_frame_equal(_drop_seconds(local), _drop_seconds(remote))
    assert conv.estimate == pytest.approx(0.25, abs=1e-9)
    assert code == 0, err
    assert _points_without_seconds(out_remote) == _points_without_seconds(out_local)


def test_processes_give_identical_frame():
    """Two spawned processes (``executor=2``, as ``mechopt sweep --jobs 2``) with the picklable ModelBuilder."""
    from mechopt.cli_sweep import ModelBuilder

    build = pickle.loads(pickle.dumps(ModelBuilder("partnership_equal")))
    params = {"grid": [5, 9], "share": [0.2, 0.4], "budget": ["ex_ante"]}
    local = mo.sweep(build, params)
    procs = mo.sweep(build, params, executor=2, keep=True)  # Results travel back from the workers
    assert [r.objective for r in procs.pop("result")] == procs["objective"].tolist()
    pd.testing.assert_frame_equal(_drop_seconds(local), _drop_seconds(procs))
    assert local["status"].tolist() == ["optimal"] * 4  # shares 0.2, 0.4 are above the thresholds (< 0.12 here)


# ---------------------------------------------------------------------------- threshold


@pytest.mark.parametrize("agents", [2, 3])
def test_threshold_binary_public_project(agents):
    """k agents with values {0, 1}, cost c ∈ (0, k]: an efficient, DSIC, ex post IR mechanism
    without deficit exists iff c ≥ k − 1.

    Proof (k ≥ 2).  Let m = ⌈c⌉ ≤ k − 1 when c < k − 1, so profiles with m and m + 1 high
    agents exist and both build.  At a profile with m + 1 highs, a high agent who reports low
    leaves m highs and the project is still built, so DSIC gives p_i(high) ≤ p_i(low, θ_-i) and
    IR of the low type at a built profile (value 0) gives p_i(low, θ_-i) ≤ 0; the low agents pay
    ≤ 0 by IR as well.  Total payments ≤ 0 < c: a deficit.  If c ≥ k − 1, build only when
    enough agents are high (ties at c = k − 1 may go either way) and charge each high agent its
    pivot price 1; payments ≥ c, DSIC and IR hold.
    """
    found = mo.threshold(partial(binary_project, agents=agents), 0.5, agents - 0.25, tol=1e-6)
    assert found == pytest.approx(agents - 1, abs=2e-6)
    assert binary_project(found, agents).solve().status == "optimal"


def test_threshold_orientation_and_errors():
    # feasible below: the largest feasible value of -cost for 3 agents is -(k-1) = -2
    found = mo.threshold(lambda x: binary_project(-x, 3), -2.75, -0.5, tol=1e-6)
    assert found == pytest.approx(-2.0, abs=2e-6)
    with pytest.raises(SpecError, match="feasible at both ends"):
        mo.threshold(binary_project, 2.5, 2.9)
    with pytest.raises(SpecError, match="lo < hi"):
        mo.threshold(binary_project, 2.0, 1.0)
    with pytest.raises(SpecError, match="tol"):
        mo.threshold(binary_project, 0.5, 2.5, tol=0)
    with pytest.raises(SpecError, match="not a Design"):
        mo.threshold(lambda x: None, 0.5, 2.5)


# ---------------------------------------------------------------------------- converge


def test_converge_one_bidder_midpoint_grid_closed_form():
    """Midpoint grid: types (k + 1/2)/n with mass 1/n.  A posted price at type k earns
    (k + 1/2)(n − k)/n², maximized at k = ⌊n/2⌋ with value (n + 1)/(4n) for every n (odd n = 2m+1:
    (m + 1/2)(m + 1)/n²; even n = 2m: m(m + 1/2)/n² and k = m − 1 gives (n−1)(n+2)/(4n²), less).
    So the discrete optimum is 1/4 + 1/(4n), and Richardson of order 1 recovers 1/4 (Myerson 1981
    for one U[0, 1] bidder: the reserve 1/2, revenue 1/4)."""
    sizes = [4, 7, 12, 25]
    conv = mo.converge(midpoint_one_bidder, sizes)
    assert list(conv.table.columns[:7]) == ["n", "value", "rows", "cols", "nnz", "seconds", "status"]
    assert np.allclose(conv.table["value"], [(n + 1) / (4 * n) for n in sizes], atol=1e-10)
    assert conv.order_fitted and conv.order == pytest.approx(1.0, abs=1e-6)
    assert conv.estimate == pytest.approx(0.25, abs=1e-9)
    assert conv.error < 1e-8
    assert (conv.table["rows"] > 0).all() and (conv.table["nnz"] >= conv.table["rows"]).all()
    given_order = mo.converge(midpoint_one_bidder, sizes[:2], order=1)
    assert not given_order.order_fitted and given_order.estimate == pytest.approx(0.25, abs=1e-9)
    ax = conv.plot(continuum=0.25)
    assert ax.get_xlabel() == "1/n"


@given(v=hs.fractions(-3, 3), a=hs.fractions(-3, 3), b=hs.fractions(-3, 3),
       sizes=hs.lists(hs.integers(2, 400), min_size=3, max_size=5, unique=True))
def test_richardson_is_exact_on_polynomials_in_one_over_n(v, a, b, sizes):
    """v + a/n + b/n² is reproduced exactly by two Richardson terms of order 1, on any sizes."""
    sizes = sorted(sizes)
    values = [float(v + a * Fraction(1, n) + b * Fraction(1, n * n)) for n in sizes]
    event(f"{len(sizes)} sizes, b {'= 0' if b == 0 else '!= 0'}")
    E = richardson(sizes, values, order=1, terms=2)
    assert E[2, -1] == pytest.approx(float(v), abs=1e-6 * (1 + abs(float(a)) + abs(float(b))))


def test_converge_plain_function_and_errors():
    conv = mo.converge(lambda n: 0.2113 - 0.9 / n + 0.3 / n**2, [10, 20, 40, 80], order=1)
    assert conv.estimate == pytest.approx(0.2113, abs=1e-9)
    assert conv.table["rows"].isna().all() and (conv.table["status"] == "value").all()
    with pytest.raises(SpecError, match="increasing"):
        mo.converge(midpoint_one_bidder, [5])
    with pytest.raises(SpecError, match="increasing"):
        mo.converge(midpoint_one_bidder, [9, 5])
    with pytest.raises(SpecError, match="Design or a number"):
        mo.converge(lambda n: "x", [3, 5])
    with pytest.raises(SpecError, match="module level"):
        mo.converge(lambda n: 1.0, [3, 5], executor=2)
    with pytest.raises(MechoptError, match="no value"):
        mo.converge(lambda n: binary_project(1.5), [3, 5])


# ---------------------------------------------------------------------------- CLI


def _cli(capsys, *argv):
    from mechopt.cli import main

    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_sweep_json_matches_closed_form(capsys):
    """myerson_two_bidders re-gridded: on grid(0, 1, n) the optimum is E[max(ψ(t1), ψ(t2), 0)] with the
    discrete virtual value ψ(t) = 2t − 1 (Myerson 1981 on a uniform grid), computed here directly."""
    code, out, err = _cli(capsys, "sweep", "myerson_two_bidders", "--grid", "5,11", "--set", "ic=dsic,bic", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["parameters"] == ["grid", "ic"]
    pts = payload["points"]
    assert [(p["grid"], p["ic"]) for p in pts] == [(5, "dsic"), (5, "bic"), (11, "dsic"), (11, "bic")]
    for p in pts:
        t = np.linspace(0, 1, p["grid"])
        psi = np.maximum(2 * t - 1, 0)
        assert p["objective"] == pytest.approx(np.maximum.outer(psi, psi).mean(), abs=1e-9)
        assert p["verified"] and isinstance(p["reductions"], dict)
    assert "sweep" in err  # the progress bar on stderr


def test_cli_sweep_share_range_csv_and_errors(capsys, tmp_path):
    out_csv = tmp_path / "s.csv"
    code, out, err = _cli(capsys, "sweep", "partnership_equal", "--grid", "11", "--set", "share=0:0.5:3",
                          "--set", "objective=feasibility", "--set", "budget=ex_ante", "--out", str(out_csv), "-q")
    assert code == 0, err
    df = pd.read_csv(out_csv)
    assert df["share"].tolist() == [0.0, 0.25, 0.5]
    # on grid 11 the smallest dissolvable share is about 0.117 (threshold below), so 0 fails, 0.25 and 0.5 pass
    assert df["status"].tolist() == ["infeasible", "optimal", "optimal"]
    for argv, msg in [
        (("sweep", "partnership_equal"), "nothing to vary"),
        (("sweep", "partnership_equal", "--set", "foo=1"), "unknown key"),
        (("sweep", "partnership_equal", "--set", "agents.7.share=1"), "out of range"),
        (("sweep", "partnership_equal", "--set", "agents.0.share=0.3"), "sum to 1"),
        (("sweep", "partnership_equal", "--set", "cost=1"), "not used by kind"),
        (("sweep", "partnership_equal", "--set", "share"), "KEY=V1,V2"),
        (("sweep", "partnership_equal", "--set", "share=a:b:3"), "LO:HI:N"),
        (("sweep", "partnership_equal", "--grid", "1"), "at least 2"),
        (("sweep", "partnership_equal", "--grid", "5", "--jobs", "0"), "--jobs"),
        (("sweep", "multi_item_additive", "--set", "share=0.3"), "two agents"),
        (("sweep", "myerson_two_bidders", "--set", "share=0.3"), "only partnership agents"),
        (("converge", "myerson_two_bidders", "--grid", "11"), "at least two"),
    ]:
        code, out, err = _cli(capsys, *argv)
        assert code == 2 and msg in err and "Traceback" not in err, (argv, err)
        assert len(err.strip().splitlines()) == 1


def test_cli_converge_table_and_estimate(capsys):
    code, out, err = _cli(capsys, "converge", "myerson_two_bidders", "--grid", "11,21,41", "-q")
    assert code == 0, err
    assert "estimate 0.41666667" in out  # 5/12 (Myerson 1981), the file's [expected] continuum
    code, out, _ = _cli(capsys, "converge", "bilateral_trade_second_best", "--grid", "11,21,41,81", "--json", "-q")
    payload = json.loads(out)
    assert [r["n"] for r in payload["table"]] == [11, 21, 41, 81]
    assert payload["estimate"] == pytest.approx(41 / 64, abs=1e-3)  # Myerson-Satterthwaite 1983 second best
    assert payload["continuum"] == pytest.approx(41 / 64)
