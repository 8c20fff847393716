"""Plots: returned Axes/Figures carry the expected artists (no image comparison)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import mechopt as mo  # noqa: E402
from mechopt import plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def trade():
    env = mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, 9)), mo.Agent("seller", mo.grid(0, 1, 9)))
    return mo.Design(env, ic="bic", ir="interim", budget="ex_ante", objective="welfare").solve()


@pytest.fixture(scope="module")
def auction():
    agents = [mo.Agent("b1", mo.grid(0, 1, 6)), mo.Agent("b2", mo.grid(0, 1, 6)), mo.Agent("b3", mo.grid(0, 1, 3))]
    return mo.Design(mo.single_item(agents), ic="bic", ir="interim").solve()


def test_heatmap_with_overlay(trade):
    ax = plot.allocation_heatmap(trade, overlay=lambda vb: vb - 0.25, overlay_label="v_b = v_s + 1/4")
    assert isinstance(ax, Axes)
    meshes = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 1
    arr = np.asarray(meshes[0].get_array()).reshape(9, 9)
    # (seller, buyer) orientation: rows are the second agent's types
    x = trade.mechanism.x[:, 1].reshape(9, 9)
    np.testing.assert_allclose(arr, x.T)
    assert len(ax.get_lines()) == 1 and ax.get_lines()[0].get_label() == "v_b = v_s + 1/4"
    assert "buyer" in ax.get_xlabel() and "seller" in ax.get_ylabel()


def test_heatmap_on_given_axes_and_outcome(trade):
    fig, ax = plt.subplots()
    out = plot.allocation_heatmap(trade.mechanism, outcome="no_trade", ax=ax, colorbar=False)
    assert out is ax
    assert len(fig.axes) == 1  # no colorbar axes
    with pytest.raises(ValueError):
        plot.allocation_heatmap(trade, outcome="nope")


def test_heatmap_needs_two_agents(auction):
    with pytest.raises(ValueError):
        plot.allocation_heatmap(auction)


def test_interim_curves(auction):
    ax = plot.interim_allocation(auction)
    assert [ln.get_label() for ln in ax.get_lines()] == ["b1", "b2", "b3"]
    y = ax.get_lines()[0].get_ydata()
    np.testing.assert_allclose(y, auction.mechanism.interim["b1"]["b1"].to_numpy())
    ax = plot.interim_payment(auction, agents=["b2"])
    assert len(ax.get_lines()) == 1
    fig = plot.interim_curves(auction)
    assert isinstance(fig, Figure) and len(fig.axes) == 2


def test_virtual_values_plot():
    agents = [mo.Agent("b1", mo.grid(0, 1, 8)), mo.Agent("b2", mo.grid(0, 1, 8))]
    r = mo.Design(mo.single_item(agents), ic="bic", ir="interim").solve()
    ax = plot.virtual_values(r, "b1", closed_form=True)
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert sum(lab.startswith("raw") for lab in labels) == 1
    assert sum(lab.startswith("ironed") for lab in labels) == 1
    assert sum("closed form" in lab for lab in labels) == 1
    ironed = next(ln for ln in ax.get_lines() if ln.get_label().startswith("ironed"))
    np.testing.assert_allclose(ironed.get_ydata(), mo.duality.virtual_values(r, "b1", ironed=True), atol=1e-9)


def test_convergence_plot():
    ax = plot.convergence({5: 0.1, 9: 0.12, 17: 0.13}, continuum=9 / 64)
    lines = ax.get_lines()
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].get_xdata(), [5, 9, 17])
    assert np.allclose(lines[1].get_ydata(), 9 / 64)
    ax = plot.convergence([3, 4], [1.0, 2.0])
    assert len(ax.get_lines()) == 1


def test_certificate_weights_from_series_and_dict():
    idx = pd.MultiIndex.from_tuples([("ic", 0), ("ic", 1), ("ir", 0), ("budget", 0)], names=["family", "row"])
    w = pd.Series([0.2, 0.2, 0.3, 0.3], index=idx)
    ax = plot.certificate_weights(w)
    bars = ax.patches
    assert len(bars) == 3
    heights = {t.get_text(): b.get_height() for t, b in zip(ax.get_xticklabels(), bars)}
    assert heights == pytest.approx({"ic": 0.4, "ir": 0.3, "budget": 0.3})
    ax = plot.certificate_weights({"ic": 2.0, "ir": 1.0}, normalize=False)
    assert [b.get_height() for b in ax.patches] == [2.0, 1.0]

    class Cert:  # duck-typed certificate
        weight_by_family = {"ic": 0.5, "ir": 0.5}

    assert len(plot.certificate_weights(Cert()).patches) == 2


def test_defaults(trade, auction):
    assert isinstance(plot.result(trade), Axes)  # two agents -> heatmap
    assert isinstance(plot.mechanism(auction.mechanism), Figure)  # three agents -> interim curves
    assert isinstance(trade.plot(), Axes) and isinstance(auction.mechanism.plot(), Figure)


def test_result_default_infeasible_draws_certificate():
    env = mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, 6)), mo.Agent("seller", mo.grid(0, 1, 6)))
    r = mo.Design(env, ic="bic", ir="interim", budget="ex_ante", allocation="efficient",
                  objective="feasibility").solve()
    assert r.status == "infeasible"
    if r.certificate is None:
        pytest.skip("mechopt.certificates not available yet")
    ax = plot.result(r)
    assert len(ax.patches) >= 2  # several families carry weight


def test_no_global_state():
    n = len(plt.get_fignums())
    fig, ax = plt.subplots()
    plot.convergence({1: 1.0}, ax=ax)
    assert len(plt.get_fignums()) == n + 1
