"""Procurement (a buyer buying from sellers with private costs) against Myerson's (1981)
closed forms read as a reverse auction: virtual cost ψ(c) = c + F(c)/f(c); discretely
ψ_t = c_t + (c_t − c_{t−1}) F_{t−1} / f_t (mass strictly below t), ironed by the lower
convex hull of (F_t, Σ_{j≤t} f_j ψ_j)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import mechopt as mo
from mechopt.errors import SpecError


def virtual_costs(c, f) -> list[Fraction]:
    c = [Fraction(x) for x in c]
    f = [Fraction(x) for x in f]
    F = np.cumsum([Fraction(0)] + f[:-1])  # mass strictly below t
    return [c[t] + ((c[t] - c[t - 1]) * F[t] / f[t] if t else 0) for t in range(len(c))]


def ironed(psi, f) -> list[Fraction]:
    """Slopes of the lower convex hull of the points (F_t, Σ_{j≤t} f_j ψ_j), from (0, 0)."""
    pts = [(Fraction(0), Fraction(0))]
    for p, w in zip(psi, f):
        pts.append((pts[-1][0] + w, pts[-1][1] + w * p))
    hull = [0]
    for k in range(1, len(pts)):
        while len(hull) >= 2:
            (x0, y0), (x1, y1), (x2, y2) = pts[hull[-2]], pts[hull[-1]], pts[k]
            if (y1 - y0) * (x2 - x0) >= (y2 - y0) * (x1 - x0):  # middle point not below the chord
                hull.pop()
            else:
                break
        hull.append(k)
    out = []
    for a, b in zip(hull, hull[1:]):
        slope = (pts[b][1] - pts[a][1]) / (pts[b][0] - pts[a][0])
        out += [slope] * (b - a)
    return out


def test_one_seller_posted_price_by_hand():
    """One seller, costs uniform on grid(0, 1, 11), buyer value 9/10: buying at price c_k from all
    types ≤ c_k earns (9/10 − c_k)(k + 1)/11, maximal at c_k = 2/5 (2.5/11); no other price ties."""
    env = mo.procurement([mo.Agent("s", mo.grid(0, 1, 11))], value=Fraction(9, 10))
    profits = [(Fraction(9, 10) - Fraction(k, 10)) * Fraction(k + 1, 11) for k in range(11)]
    best = max(profits)
    assert best == Fraction(5, 22) and profits.count(best) == 1
    r = mo.Design(env, objective="revenue").solve(certify=True)
    assert r.certificate.verify(exact=True) and r.certificate.objective == best
    x = r.mechanism.allocation["s"].to_numpy()
    np.testing.assert_allclose(x, [1.0] * 5 + [0.0] * 6, atol=1e-9)  # buys iff c ≤ 2/5
    pay = -r.mechanism.payments["s"].to_numpy()  # what the seller receives
    np.testing.assert_allclose(pay, [0.4] * 5 + [0.0] * 6, atol=1e-9)
    # welfare = gains from trade E[(9/10 − c) 1{c ≤ 2/5}]
    assert r.metrics["welfare"] == pytest.approx(sum(0.9 - k / 10 for k in range(5)) / 11, abs=1e-9)


def test_raw_virtual_costs_from_duals_uniform():
    """Costs uniform on grid(1, 2, 11): ψ_t = 2c_t − 1 ∈ [1, 3], so the virtual values of the
    'supply' outcome are −1 … −3 (not 0 … −2)."""
    a = mo.Agent("s", mo.grid(1, 2, 11))
    r = mo.Design(mo.procurement([a], value=3), objective="revenue").solve()
    psi = virtual_costs(a.types_exact, a.prior_exact)
    assert psi == [2 * c - 1 for c in a.types_exact]
    for canonical in (True, "ir", False):
        raw = mo.duality.virtual_values(r, "s", canonical=canonical)
        np.testing.assert_allclose(raw.to_numpy(), [-float(p) for p in psi], atol=1e-7)
    assert r.objective == pytest.approx(3 - 2, abs=1e-9)  # always buys, at the top cost 2


def test_ironed_virtual_costs_two_sellers():
    """An irregular cost prior: the LP's ironed virtual values (minimum-norm dual) are minus the
    ironed virtual costs, and the optimal expected profit is E[max(0, value − min_i ψ̄_i)]."""
    costs = mo.grid(1, 2, 5)
    w = [Fraction(1, 10), Fraction(4, 10), Fraction(1, 20), Fraction(1, 20), Fraction(4, 10)]
    sellers = [mo.Agent(n, costs, prior=w) for n in ("s1", "s2")]
    value = Fraction(5, 2)
    r = mo.Design(mo.procurement(sellers, value), objective="revenue").solve()
    psi = virtual_costs(costs, w)
    bar = ironed(psi, w)
    assert bar != psi  # the prior is irregular: ironing is needed
    assert all(b1 <= b2 for b1, b2 in zip(bar, bar[1:]))
    got = mo.duality.virtual_values(r, "s1", ironed=True)
    np.testing.assert_allclose(got.to_numpy(), [-float(b) for b in bar], atol=1e-6)
    table = mo.duality.virtual_value_table(r, "s1")
    np.testing.assert_allclose(table["formula_raw"], [-float(p) for p in psi], atol=1e-12)
    np.testing.assert_allclose(table["formula_ironed"], [-float(b) for b in bar], atol=1e-12)
    np.testing.assert_allclose(table["lp_raw"], [-float(p) for p in psi], atol=1e-6)
    profit = sum(w[a] * w[b] * max(Fraction(0), value - min(bar[a], bar[b])) for a in range(5) for b in range(5))
    assert r.objective == pytest.approx(float(profit), abs=1e-9)


def test_procurement_needs_agents():
    with pytest.raises(SpecError, match="procurement"):
        mo.procurement(["s1"], value=1)


def test_vcg_procurement_pays_the_buyers_value():
    """Clarke pivot in procurement: without the seller nothing is bought, so a supplying seller is paid
    the whole surplus it creates, the buyer's value 3/4 (payments are made BY agents: −3/4)."""
    env = mo.procurement([mo.Agent("s", [0, Fraction(1, 2), 1])], Fraction(3, 4))
    m = mo.mechanisms.vcg(env)
    assert m.payments["s"].tolist() == pytest.approx([-0.75, -0.75, 0.0])
    audit = m.audit()
    assert audit["dsic"] and audit["ex_post_ir"] and audit["efficient"]
