"""Size limits: the estimate against the compiled LP, refusals of the issue's cases, memory strings.

The reference for the estimate is the LP the compiler actually builds
(``design.compile().sizes``), a separate code path (vectorized row builders)
from the closed-form counts in :mod:`mechopt.limits`.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from test_backends import designs

import mechopt as mo
from mechopt.errors import SizeError, SpecError
from mechopt.limits import check, estimate, parse_memory


def agents(n, T, prefix="a"):
    return [mo.Agent(f"{prefix}{i}", mo.grid(0, 1, T)) for i in range(n)]


def correlated_trade():
    b, s = mo.Agent("b", [0, 1, 2]), mo.Agent("s", [0, 1, 2])
    joint = np.array([[4, 2, 1], [2, 4, 2], [1, 2, 4]]) / 22
    return mo.bilateral_trade(b, s, prior=joint)


def table_env():
    a = mo.Agent("a", [1, 2, 4])
    b = mo.Agent("b", [0, 3])
    return mo.Environment([a, b], ["x", "y", "z"], [[[0, 1, 2], [0, 2, 1], [1, 4, 0]], [[0, 1, 1], [2, 0, 5]]],
                          cost=[0, 1, 1])


ENVS = {
    "single_item_2x7": lambda: mo.single_item(agents(2, 7)),
    "single_item_3x5": lambda: mo.single_item(agents(3, 5), seller_value=0.2),
    "bilateral_7": lambda: mo.bilateral_trade(*agents(2, 7)),
    "public_project_3x4": lambda: mo.public_project(agents(3, 4), cost=1.2),
    "partnership_2x6": lambda: mo.partnership(agents(2, 6), [0.5, 0.5]),
    "multi_item_additive": lambda: mo.multi_item(agents(2, 3), items=2),
    "multi_item_unit_demand": lambda: mo.multi_item(agents(1, 4), items=2, valuation="unit_demand"),
    "correlated_trade": correlated_trade,
    "table": table_env,
}
DESIGNS = [
    dict(ic="dsic", ir="ex_post"),
    dict(ic="bic", ir="interim"),
    dict(ic="bic", ir="interim", budget="ex_ante", allocation="efficient"),
    dict(ic="dsic", ir="ex_post", budget="exact", allocation="efficient"),
    dict(ic="bic", ir="ex_ante", budget="ex_post", objective="welfare"),
    dict(ic="none", ir="interim", budget="none"),
]
CASES = [(e, o) for e in ENVS for o in DESIGNS[:4]] + [
    ("bilateral_7", DESIGNS[4]), ("correlated_trade", DESIGNS[5]), ("table", DESIGNS[4]),
]


@pytest.mark.parametrize("env_name, opts", CASES, ids=[f"{e}-{i}" for i, (e, _) in enumerate(CASES)])
def test_estimate_matches_compiled_lp(env_name, opts):
    from mechopt.compile import compile_design, make_plan

    d = mo.Design(ENVS[env_name](), **opts)
    # the LP the solve starts from (several bidders x items: the per-item reduced form's first round,
    # which Design.compile() does not use because it is a relaxation until its rows are generated)
    est, sizes = estimate(d), compile_design(d, plan=make_plan(d)).sizes
    for key in ("rows", "cols", "nnz"):
        assert sizes[key] / 1.5 <= est[key] <= 1.5 * sizes[key], (key, est[key], sizes[key])
    assert est["rows"] >= sizes["rows"] and est["cols"] == sizes["cols"]
    assert est["families"].keys() == sizes["families"].keys()


def test_estimate_without_reductions():
    from mechopt.compile import compile_design

    d = mo.Design(mo.single_item(agents(2, 6)), ic="bic", ir="interim")
    est, lp = estimate(d, reductions=False), compile_design(d, reductions=False)
    assert est["rows"] == lp.sizes["rows"] and est["cols"] == lp.sizes["cols"]
    assert est["reductions"]["border"] is False and not any(est["reductions"]["adjacent"].values())


def test_estimate_follows_ic_row_generation():
    """Two items on grid(0, 1, 21): the solve generates IC rows (1,832 of 194,040 pairs)."""
    d = mo.Design(mo.multi_item([mo.Agent("b", mo.grid(0, 1, 21))], items=2), ic="dsic", ir="ex_post")
    est, full = estimate(d), estimate(d, ic_generation=False)
    assert est["reductions"]["ic_generation"] == ["b"]
    assert full["families"]["ic"] == 441 * 440  # all pairs of the 441 type vectors
    r = d.solve()
    assert r.reductions["ic"]["b"].startswith("generated")
    assert r.lp.sizes["rows"] / 1.5 <= est["rows"] <= 1.5 * r.lp.sizes["rows"]
    assert estimate(d, certify=True)["reductions"]["ic_generation"] == []  # certify: full LP


def _refused(design, **kw) -> tuple[str, float]:
    start = time.perf_counter()
    with pytest.raises(SizeError) as info:
        check(design, **kw)
    return str(info.value), time.perf_counter() - start


def test_four_bidders_sixty_types_dsic_is_refused_with_advice():
    d = mo.Design(mo.single_item(agents(4, 60, "b")), ic="dsic", ir="ex_post")
    msg, seconds = _refused(d)
    assert seconds < 1
    # closed form (the envelope formulation of DSIC revenue, compile/envelope.py): lottery 60⁴ and
    # monotonicity rows 4 · 59 · 60³
    assert f"{60 ** 4 + 4 * 59 * 60 ** 3:,} rows" in msg
    assert "fewer types (at most" in msg and 'ic="bic"' in msg and "fewer agents" in msg
    T = int(msg.split("at most ")[1].split()[0])
    small = mo.Design(mo.single_item(agents(4, T, "b")), ic="dsic", ir="ex_post")
    check(small)  # the suggested grid fits
    with pytest.raises(SizeError):
        check(mo.Design(mo.single_item(agents(4, T + 1, "b")), ic="dsic", ir="ex_post"))


def test_twenty_agents_two_types_is_refused():
    env = mo.public_project(agents(20, 2, "c"), cost=5)
    msg, seconds = _refused(mo.Design(env, ic="dsic", ir="ex_post", budget="exact"))
    assert seconds < 1
    assert f"{2 ** 20:,} type profiles" in msg and 'ic="bic"' in msg


@pytest.mark.parametrize("T", [5000, 100_000])
def test_huge_bilateral_grid_is_refused_quickly(T):
    grid = mo.grid(0, 1, T)
    d = mo.Design(mo.bilateral_trade(mo.Agent("b", grid), mo.Agent("s", grid)), ic="bic", ir="interim",
                  budget="ex_ante")
    msg, seconds = _refused(d, max_memory="4GB")
    assert seconds < 2.5  # the exact affinity check of two 100,000-type grids is most of it
    # lottery T², interim 2T, adjacent BIC 2·2(T−1), interim IR 2T, ex ante budget 1
    assert f"{T * T + 2 * T + 4 * (T - 1) + 2 * T + 1:,} rows" in msg
    assert "fewer types (at most" in msg and "max_memory=4.0 GB" in msg


def test_small_design_passes_and_limit_is_configurable():
    d = mo.Design(mo.bilateral_trade(*agents(2, 21)), ic="bic", ir="interim", budget="ex_ante")
    est = check(d)
    assert est["bytes"] < 50 * 2 ** 20
    with pytest.raises(SizeError, match="over max_memory=1.0 KB"):
        check(d, max_memory="1KB")
    assert check(d, max_memory=None) == est


@pytest.mark.parametrize("text, expected", [
    ("4GB", 4 * 2 ** 30), ("500MB", 500 * 2 ** 20), ("1.5 GiB", int(1.5 * 2 ** 30)), ("2048", 2048),
    (10 ** 9, 10 ** 9), ("64kb", 64 * 1024),
])
def test_parse_memory(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("bad", ["four GB", "-1GB", "4XB", 0, -5, True, "", None, float("nan")])
def test_parse_memory_rejects(bad):
    with pytest.raises(SpecError, match="max_memory"):
        parse_memory(bad)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(designs())
def test_estimate_on_random_designs(case):
    """Every family but efficiency (an upper bound: ties remove rows) is counted exactly; columns too."""
    kind, d = case
    est, sizes = estimate(d), d.compile().sizes
    event(f"builder={kind}")
    event(f"border={est['reductions']['border']}")
    assert est["cols"] == sizes["cols"]
    assert est["families"].keys() == sizes["families"].keys()
    for fam, rows in sizes["families"].items():
        if fam == "efficiency":
            assert rows <= est["families"][fam]
        else:
            assert est["families"][fam] == rows, fam
    assert est["nnz"] >= sizes["nnz"] / 1.5
