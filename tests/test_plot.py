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
    assert r.certificate is not None
    ax = plot.result(r)
    assert len(ax.patches) >= 2  # several families carry weight


def test_no_global_state():
    n = len(plt.get_fignums())
    fig, ax = plt.subplots()
    plot.convergence({1: 1.0}, ax=ax)
    assert len(plt.get_fignums()) == n + 1


# --------------------------------------------------------------------------- certificates that read like proofs
@pytest.fixture(scope="module")
def ms_cert():
    """Myerson–Satterthwaite on grid(0, 1, 6): efficient, BIC, interim IR, no expected deficit is infeasible."""
    env = mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, 6)), mo.Agent("seller", mo.grid(0, 1, 6)))
    r = mo.Design(env, ic="bic", ir="interim", budget="ex_ante", allocation="efficient").solve()
    assert r.status == "infeasible"
    return r.certificate


def test_explain_leads_with_economics_and_sums_bookkeeping(ms_cert):
    from fractions import Fraction

    from mechopt.certificates.presentation import BOOKKEEPING, ECONOMIC

    df = ms_cert.explain()
    fams = list(df.index.get_level_values("family"))
    econ = [f for f in fams if f in ECONOMIC]
    assert fams[: len(econ)] == econ and fams[0] == "ic"  # economic rows first, IC leading
    book = [f for f in fams if f in BOOKKEEPING]
    assert sorted(book) == sorted(set(book)) and book  # one line per bookkeeping family
    assert (df.loc[book[0]].index == [-1]).all()
    assert abs(df["share"].sum() - 1) < 1e-12
    full = ms_cert.explain(bookkeeping="rows")
    assert len(full) == len(ms_cert.weights)
    for f in book:  # the summed line is the family's net weight
        assert df.loc[(f, -1), "weight"] == sum(ms_cert.weights.xs(f, level="family"), Fraction(0))
    # Farkas: the weighted right-hand sides add up to y·b > 0, computed here from the LP's rhs
    lp = ms_cert.model.lp
    yb = sum(float(w) * lp.rhs[lp.family(f).start + r] for (f, r, _), w in ms_cert.weights.items())
    assert yb > 1e-6
    assert df["contribution"].sum() == pytest.approx(yb, abs=1e-9)
    assert set(ms_cert.explain(bookkeeping="hide").index.get_level_values("family")) <= set(ECONOMIC)


def test_derivation_and_latex_order(ms_cert):
    text = ms_cert.derivation()
    assert text.index("× ic[") < text.index("× ir[") < text.index("× budget[") < text.index("lottery rows, summed")
    tex = ms_cert.to_latex()
    assert tex.index("ic &") < tex.index("ir &") < tex.index("budget &") < tex.index("lottery &")
    assert tex.count("lottery &") == 1


def _boxes_overlap(boxes) -> bool:
    for k, a in enumerate(boxes):
        for b in boxes[k + 1:]:
            if a.width > 0 and b.width > 0 and a.overlaps(b):
                return True
    return False


def test_certificate_grid_picture(ms_cert):
    from mechopt.certificates.presentation import grid_weights

    g = grid_weights(ms_cert)
    w = ms_cert.weights
    eff = w.xs("efficiency", level="family")
    assert g["profile"].to_numpy().sum() == pytest.approx(sum(abs(float(v)) for v in eff), abs=1e-12)
    # efficiency rows carry weight only where trade creates value (buyer's type above the seller's)
    prof = g["profile"]
    for b in prof.index:
        for s in prof.columns:
            if prof.loc[b, s] > 0:
                assert b > s
    ic = w.xs("ic", level="family")
    ic_buyer = sum(abs(float(v)) for (_, label), v in ic.items() if label.startswith("buyer"))
    assert g["buyer"]["ic"].sum() == pytest.approx(ic_buyer, abs=1e-12)
    fig = ms_cert.plot(kind="grid")
    meshes = [c for ax in fig.axes for c in ax.collections if isinstance(c, QuadMesh)]
    assert meshes and all(m.get_cmap().name in ("viridis", "cividis") for m in meshes)
    assert any(ax.get_ylabel().startswith("|weight| of profile") for ax in fig.axes)  # the colour bar
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [t.get_window_extent(renderer) for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            assert not _boxes_overlap(boxes), f"overlapping tick labels on {ax.get_xlabel() or ax.get_ylabel()}"


def test_family_bars_do_not_overlap(ms_cert):
    ax = ms_cert.plot()
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "ic"
    fig = ax.figure
    fig.canvas.draw()
    boxes = [t.get_window_extent(fig.canvas.get_renderer()) for t in ax.get_xticklabels()]
    assert not _boxes_overlap(boxes)


def test_heatmaps_are_colour_blind_safe(trade):
    ax = plot.allocation_heatmap(trade)
    assert ax.collections[0].get_cmap().name in ("viridis", "cividis")


def test_html_reprs(trade, ms_cert):
    for obj in (trade, trade.mechanism, trade.design, ms_cert):
        out = obj._repr_html_()
        assert out.startswith("<p><b>") and "<table" in out
    assert "welfare" in trade._repr_html_() and "maximize welfare" in trade.design._repr_html_()
    assert "ic" in ms_cert._repr_html_() and "bookkeeping" in ms_cert._repr_html_()


def test_presentation_errors(ms_cert):
    from mechopt.errors import SpecError

    with pytest.raises(SpecError, match="bookkeeping"):
        ms_cert.explain(bookkeeping="some")
    with pytest.raises(SpecError, match="kind"):
        ms_cert.plot(kind="pie")
    auction = mo.single_item([mo.Agent(f"b{i}", mo.grid(0, 1, 3)) for i in range(3)])
    c = mo.Design(auction, ic="bic", ir="interim", objective="revenue").solve(certify=True).certificate
    with pytest.raises(SpecError, match="two agents"):
        c.plot(kind="grid")
