"""Every shipped model solves to its [expected] answer within the tolerance the file states."""

from __future__ import annotations

import pytest

import mechopt as mo
from mechopt import modelfile as mf

MODELS = mf.builtin_models()

REQUIRED = {
    "myerson_two_bidders", "myerson_asymmetric", "myerson_irregular", "bilateral_trade_second_best",
    "bilateral_trade", "myerson_satterthwaite", "gvcg_bilateral_trade", "public_project", "partnership_equal",
    "partnership_one_seller", "green_laffont", "cremer_mclean", "multi_item_additive", "multi_item_unit_demand",
    "deterministic_auction",
}


def test_the_library_is_complete():
    assert REQUIRED <= set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_model_matches_expected(name):
    env, design, meta = mo.load(name)
    exp = meta["expected"]
    assert exp, f"{name} states no [expected] answer"
    assert "note" in exp, f"{name} does not justify its expected value"
    r = design.solve()
    status = exp.get("status", "optimal")
    assert r.status == status, f"{name}: {r.status} but [expected] says {status}"
    tol = meta["tolerance"]
    if "tolerance" in exp:
        assert tol == float(exp["tolerance"])
    if status == "optimal":
        assert r.verification["ok"]
        if "objective" in exp:
            gap = r.objective - float(exp["objective"])
            assert abs(gap) <= tol, f"{name}: LP {r.objective} vs expected {float(exp['objective'])} (tol {tol})"
        for key in ("revenue", "welfare", "utility"):
            if key in exp:
                assert abs(r.metrics[key] - float(exp[key])) <= tol, (name, key)
    if "continuum" in exp and "objective" in exp and exp["continuum"] == exp["objective"]:
        # a continuum-limit value is checked with an honest tolerance: it must not be tighter than the grid gap
        assert tol >= 1e-3, f"{name}: a continuum limit needs the grid gap in its tolerance"


def test_alias_is_the_second_best():
    a = mo.load("bilateral_trade")[1].solve()
    b = mo.load("bilateral_trade_second_best")[1].solve()
    assert a.objective == pytest.approx(b.objective, abs=1e-12)
    # the number quoted in DESIGN.md's JSON example
    assert a.objective == pytest.approx(0.654195, abs=5e-7)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bilateral_trade_second_best", "partnership_equal", "myerson_two_bidders"])
def test_finer_grid_approaches_the_continuum(name):
    env, design, meta = mo.load(name)
    cont = float(meta["expected"]["continuum"])
    coarse = abs(design.solve().objective - cont)
    fine = abs(mo.load(name, grid=81)[1].solve().objective - cont)
    assert fine < coarse
