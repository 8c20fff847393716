"""Build the teaching notebooks (without outputs) with nbformat: ``python notebooks/make_notebooks.py``.

CI executes them with ``pytest --nbmake notebooks/``; keep every notebook under
two minutes on a small machine (modest grids).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SETUP = """import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import mechopt as mo
pd.set_option("display.width", 140)"""


def md(s):
    return new_markdown_cell(s.strip())


def code(s):
    return new_code_cell(s.strip())


NOTEBOOKS = {}

# --------------------------------------------------------------------------------------------- 01
NOTEBOOKS["01_myerson_lp"] = [
    md(r"""
# Myerson's optimal auction as a linear program

With finitely many types, revenue maximization subject to Bayesian incentive compatibility (BIC) and
interim individual rationality (IR) is a linear program. Its **dual** variables carry the economics:
the multipliers of the IC rows are the *information rents*, and the shadow price of each type's interim
allocation is its **virtual value**. Ironing appears by itself when the prior is irregular.
"""),
    code(SETUP),
    md(r"""
## A regular prior: two bidders, uniform on 21 points

`ic="bic", ir="interim"` and objective revenue. The compiler keeps only *adjacent* IC rows (scalar types,
values linear in type: single crossing), and writes BIC on interim variables $\bar X_i(t), \bar P_i(t)$.
"""),
    code("""
agents = [mo.Agent("b1", mo.grid(0, 1, 21)), mo.Agent("b2", mo.grid(0, 1, 21))]
r = mo.Design(mo.single_item(agents), ic="bic", ir="interim", objective="revenue").solve()
print(r)
print("objective", r.objective, " = 55/126 ?", abs(r.objective - 55 / 126) < 1e-12)
"""),
    md(r"""
## Duals are virtual values

Write $f_t$ for the prior mass of type $t$, $F_t=\sum_{j\le t} f_j$, and $\lambda_{s\to t}\ge 0$ for the
multiplier of the IC row "type $s$ does not gain by reporting $t$". Stationarity of the Lagrangian in the
free variables gives

* in $\bar P_t$: $f_t = \sum_s \lambda_{t\to s} - \sum_s \lambda_{s\to t} + \gamma_t$ (γ: IR multipliers);
* in $\bar X_t$: the dual $\mu_t$ of the interim definition row satisfies

$$\bar\varphi_t := -\mu_t/f_t = v_t - \frac{1}{f_t}\sum_s (v_s - v_t)\,\lambda_{s\to t}.$$

With adjacent rows only:
$\bar\varphi_t = v_t - [(v_{t+1}-v_t)\lambda_{t+1\to t} - (v_t-v_{t-1})\lambda_{t-1\to t}]/f_t$.
Summing the first condition over the types above $t$ shows that the net downward IC weight across the cut
above $t$ (plus the IR weight above $t$) equals $1-F_t$, hence the *discrete* virtual value with a forward
difference:

$$\varphi_t = v_t - (v_{t+1}-v_t)\,\frac{1-F_t}{f_t},\qquad \varphi_{\rm top} = v_{\rm top}.$$

The allocation columns' stationarity then says: the item goes to the highest nonnegative $\bar\varphi$.
"""),
    code("""
table = mo.duality.virtual_value_table(r, "b1")
table.round(4)
"""),
    code("""
ic = r.duals["ic"]
down = ic[(ic.agent == "b1") & (ic.report < ic.type)].copy()   # rows (t+1 -> t)
F = np.cumsum(agents[0].prior)
down["1 - F(report)"] = 1 - F[:-1]
down.head(8)
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
mo.plot.virtual_values(r, "b1", closed_form=True, ax=axes[0])
mo.plot.interim_allocation(r, ax=axes[1])
fig.tight_layout()
"""),
    md(r"""
Strong duality, read as economics: expected revenue equals the expected virtual surplus
$\sum_i \sum_t f_t\,\varphi_{i,t}\,\bar X_i(t)$.
"""),
    code("""
surplus = sum(
    float(np.sum(a.prior * r.mechanism.interim[a.name][a.name] * mo.duality.virtual_values(r, a.name, ironed=True)))
    for a in agents
)
print(f"revenue {r.objective:.10f}   expected virtual surplus {surplus:.10f}")
"""),
    md(r"""
## Complementary slackness

Every row either binds or has a zero multiplier; `binding` lists the binding rows per family.
The downward adjacent IC rows and the lowest type's IR bind, as in the textbook.
"""),
    code("""
cs = mo.duality.complementary_slackness(r)
print(cs)
b = mo.duality.binding(r)
b["ir"].query("agent == 'b1' and dual > 1e-9")
"""),
    md(r"""
## An irregular prior: ironing

A prior with a dip in the middle (little mass at 6/11 and 7/11) makes the raw virtual values
non-monotone. The LP pools those types (same interim allocation), and the IC multipliers deliver the
**ironed** values: nondecreasing, constant on the ironing interval, and equal to the slopes of the convex
hull of the cumulative virtual surplus.
"""),
    code("""
w = np.array([10, 10, 10, 10, 10, 10, 1, 1, 4, 4, 2, 1], dtype=float)
w = w / w.sum()
bimodal = [mo.Agent("b1", mo.grid(0, 1, 12), prior=w), mo.Agent("b2", mo.grid(0, 1, 12), prior=w)]
ri = mo.Design(mo.single_item(bimodal), ic="bic", ir="interim").solve()
t = mo.duality.virtual_value_table(ri, "b1")
t.round(4)
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
mo.plot.virtual_values(ri, "b1", closed_form=True, ax=axes[0])
mo.plot.interim_allocation(ri, ax=axes[1])
axes[1].axvspan(5 / 11 - 0.03, 7 / 11 + 0.03, color="orange", alpha=0.2, label="ironing interval")
axes[1].legend()
fig.tight_layout()
"""),
    md(r"""
## Duals are not unique

The LP is degenerate: types that never win all have binding IR rows, and inside a pooled block only the
block's average shadow price is pinned down. The solver returns *a* vertex of the optimal dual face
(`canonical=False`); `virtual_values` reports by default the minimum-norm optimal dual
($\min \sum f_t\bar\varphi_t^2$ over the face, after putting IR weight on the lowest type), which is exactly
Myerson's ironing. Both are valid certificates of optimality.
"""),
    code("""
pd.DataFrame({
    "solver vertex": mo.duality.virtual_values(ri, "b1", ironed=True, canonical=False),
    "minimum-norm dual": mo.duality.virtual_values(ri, "b1", ironed=True),
    "Myerson (hull)": mo.duality.closed_form_virtual_values(bimodal[0], ironed=True),
}).round(4)
"""),
]

# --------------------------------------------------------------------------------------------- 02
NOTEBOOKS["02_myerson_satterthwaite"] = [
    md(r"""
# Myerson–Satterthwaite: a certificate, the deficit, and the second best

A buyer and a seller, values uniform on a grid in $[0,1]$. No mechanism is efficient, Bayesian incentive
compatible, interim individually rational and budget balanced (even *ex ante*). mechopt proves this on each
grid with a **Farkas certificate**: nonnegative weights on named rows whose combination reads $0 \ge$ something
positive — checked in exact rational arithmetic.
"""),
    code(SETUP),
    code("""
def trade_env(n):
    return mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, n)), mo.Agent("seller", mo.grid(0, 1, n)))

r = mo.Design(trade_env(6), ic="bic", ir="interim", budget="ex_ante", allocation="efficient",
              objective="feasibility").solve()
print(r.status)
c = r.certificate
print("verified exactly:", c.verify(exact=True))
c.weight_by_family
"""),
    md("Which rows carry the weight (exact rationals), and a picture of the weight by family:"),
    code("""
c.explain().head(15)
"""),
    code("""
mo.plot.certificate_weights(c);
"""),
    md(r"""
## The deficit tends to 1/6

Drop the budget constraint and *maximize revenue* among efficient, BIC, interim-IR mechanisms: the optimum is
negative (a deficit). In the continuum the smallest expected deficit is $1/6$ (the generalized VCG / Krishna–Perry
argument of the notes). On grids with both end points it approaches $-1/6$ as the grid refines.
"""),
    code("""
sizes = [6, 11, 21, 31, 41]
deficit = {}
for n in sizes:
    rn = mo.Design(trade_env(n), ic="bic", ir="interim", allocation="efficient", objective="revenue").solve()
    deficit[n] = rn.objective
pd.Series(deficit, name="max revenue (efficient)")
"""),
    code("""
mo.plot.convergence(deficit, continuum=-1 / 6, ylabel="max expected revenue", title="efficient trade runs a deficit");
"""),
    md(r"""
## The second best tends to 9/64

Now keep budget balance (ex ante) and give up efficiency: maximize the expected gains from trade. Welfare counts
the seller's value when she keeps the good, so gains = welfare − E[θ_s]. Myerson and Satterthwaite's second best
trades iff $v_b \ge v_s + 1/4$ and achieves $9/64$.
"""),
    code("""
gains = {}
for n in sizes:
    rn = mo.Design(trade_env(n), ic="bic", ir="interim", budget="ex_ante", objective="welfare").solve()
    gains[n] = rn.objective - 0.5
    last = rn
pd.Series(gains, name="second-best gains from trade")
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
mo.plot.convergence(gains, continuum=9 / 64, ax=axes[0], ylabel="gains from trade", title="second best")
mo.plot.allocation_heatmap(last, ax=axes[1], overlay=lambda vb: vb - 0.25, overlay_label="v_b = v_s + 1/4",
                           title="trade region, 41 x 41 grid")
fig.tight_layout()
"""),
]

# --------------------------------------------------------------------------------------------- 03
NOTEBOOKS["03_efficient_mechanisms"] = [
    md(r"""
# Efficient mechanisms side by side: VCG, generalized VCG, AGV, Cavallo

Every mechanism here implements the efficient allocation; they differ in transfers, hence in which of
incentive compatibility, participation and budget balance they keep. `mo.compare` audits each with the
independent verifier (the same checker that vets every LP optimum) and tabulates revenue, welfare and the
agents' utility.
"""),
    code(SETUP),
    md(r"""
## Bilateral trade: someone always pays for efficiency

Myerson–Satterthwaite in one table. VCG with the Clarke pivot is DSIC and never runs a deficit but violates
the seller's participation; generalized VCG (Krishna–Perry's least charitable type) is DSIC and IR but runs a
deficit; AGV (expected externality) balances the budget exactly and is BIC but not IR. The last row is the LP
optimum among efficient, BIC, interim-IR mechanisms. In the continuum gVCG attains it (deficit 1/6); on a finite
grid payoff equivalence leaves slack and the LP's deficit is smaller than gVCG's — both tend to 1/6 as the grid
refines (notebook 02).
"""),
    code("""
trade = mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, 11)), mo.Agent("seller", mo.grid(0, 1, 11)))
lp = mo.Design(trade, ic="bic", ir="interim", allocation="efficient", objective="revenue").solve()
table = mo.compare([mo.mechanisms.vcg(trade), mo.mechanisms.gvcg(trade), mo.mechanisms.agv(trade), lp], round=4)
table
"""),
    code("""
def property_map(table, ax):
    props = [c for c in table.columns if table[c].dtype == bool]
    ax.imshow(table[props].to_numpy(dtype=float), cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(props)), props, rotation=45, ha="right")
    ax.set_yticks(range(len(table)), table.index)
    ax.set_title("what each mechanism satisfies (green)")

fig, axes = plt.subplots(1, 2, figsize=(13, 4), gridspec_kw={"width_ratios": [2, 1]})
property_map(table, axes[0])
table["revenue"].plot.barh(ax=axes[1], color="tab:purple")
axes[1].axvline(0, color="black", lw=0.8)
axes[1].set_xlabel("expected revenue (negative = deficit)")
fig.tight_layout()
"""),
    md(r"""
## Allocating one item among three bidders: redistribution

With a single item and $n\ge3$ bidders, VCG (second price) collects revenue that leaves the bidders.
Cavallo's mechanism hands back to each bidder $1/n$ of the second-price revenue computed *without* her, keeping
DSIC and never running a deficit; the bidders keep much more of the surplus. The Green–Laffont mechanism
(leave one bidder out at random) balances the budget exactly at the price of efficiency.
"""),
    code("""
bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, 6)) for i in range(1, 4)]
auction = mo.single_item(bidders)
mechs = [mo.mechanisms.vcg(auction), mo.mechanisms.cavallo(auction), mo.mechanisms.green_laffont(auction)]
t3 = mo.compare(mechs, round=4)
t3
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(13, 3.5), gridspec_kw={"width_ratios": [2, 1]})
property_map(t3, axes[0])
t3[["revenue", "utility"]].plot.barh(ax=axes[1], stacked=True)
axes[1].set_xlabel("expected value")
fig.tight_layout()
"""),
]

# --------------------------------------------------------------------------------------------- 04
NOTEBOOKS["04_partnership"] = [
    md(r"""
# Dissolving a partnership (Cramton–Gibbons–Klemperer)

Two partners own shares $r$ and $1-r$ of an asset; values uniform on $[0,1]$; partner $i$'s outside option is
$r_i\theta_i$. The partnership can be dissolved *efficiently* (the higher value gets the asset), with BIC,
interim IR and a balanced budget, iff the shares are not too unequal. For two uniform partners the dissolvable
range is $r \in [(1-1/\sqrt3)/2,\ (1+1/\sqrt3)/2] \approx [0.211, 0.789]$.

We find the range on grids by bisection on the share, solving a feasibility LP each time.
"""),
    code(SETUP),
    code("""
def dissolvable(r1, n, budget="ex_ante"):
    agents = [mo.Agent("p1", mo.grid(0, 1, n)), mo.Agent("p2", mo.grid(0, 1, n))]
    env = mo.partnership(agents, [r1, 1 - r1])
    res = mo.Design(env, ic="bic", ir="interim", budget=budget, allocation="efficient",
                    objective="feasibility").solve()
    return res.status == "optimal"

def lower_end(n, budget="ex_ante", iters=14):
    lo, hi = 0.0, 0.5          # equal shares are always dissolvable; one owner never is
    for _ in range(iters):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if dissolvable(mid, n, budget) else (mid, hi)
    return hi

limit = (1 - 1 / np.sqrt(3)) / 2
sizes = [6, 11, 21, 31]
ends = {n: lower_end(n) for n in sizes}
pd.DataFrame({"lower end": ends, "upper end": {n: 1 - v for n, v in ends.items()}})
"""),
    md("Exact budget balance (every profile) gives the same range here: with BIC, an ex ante balanced budget can be "
       "balanced ex post (AGV-style transfers), so the answer does not depend on which one we ask for."),
    code("""
{n: round(lower_end(n, budget="exact", iters=10), 4) for n in (6, 11)}
"""),
    code("""
ax = mo.plot.convergence(ends, continuum=limit, ylabel="smallest dissolvable share",
                         continuum_label="(1 - 1/sqrt 3)/2", title="dissolvable shares approach the continuum range")
"""),
    md(r"""
## Revenue ≥ 0 across shares

Instead of feasibility, maximize the designer's expected revenue subject to the same constraints (no budget
constraint): the partnership is dissolvable exactly where the maximum is nonnegative.
"""),
    code("""
n = 21
shares = np.linspace(0.0, 0.5, 21)
best = []
for s in shares:
    agents = [mo.Agent("p1", mo.grid(0, 1, n)), mo.Agent("p2", mo.grid(0, 1, n))]
    env = mo.partnership(agents, [s, 1 - s])
    best.append(mo.Design(env, ic="bic", ir="interim", allocation="efficient", objective="revenue").solve().objective)
fig, ax = plt.subplots()
ax.plot(shares, best, marker="o", label="max revenue, efficient BIC interim IR")
ax.axhline(0, color="black", lw=0.8)
ax.axvline(limit, color="crimson", ls="--", label="continuum threshold")
ax.set_xlabel("share of partner 1"); ax.set_ylabel("max expected revenue"); ax.legend();
"""),
]

# --------------------------------------------------------------------------------------------- 05
NOTEBOOKS["05_correlated"] = [
    md(r"""
# Correlated values: Crémer–McLean full surplus extraction

With correlated types, a bidder's report says something about the others' types, and the seller can make
payments depend on the others' reports (side bets). When the conditional beliefs are linearly independent,
a BIC, interim-IR auction extracts the **entire surplus**. DSIC with ex post IR cannot.
"""),
    code(SETUP),
    code("""
from fractions import Fraction as Fr
types = [1, 2, 3]
joint = [[Fr(6, 28), Fr(2, 28), Fr(1, 28)],
         [Fr(2, 28), Fr(6, 28), Fr(2, 28)],
         [Fr(1, 28), Fr(2, 28), Fr(6, 28)]]
env = mo.single_item([mo.Agent("b1", types), mo.Agent("b2", types)], prior=joint)
rows = {}
for ic, ir in [("bic", "interim"), ("dsic", "interim"), ("dsic", "ex_post")]:
    res = mo.Design(env, ic=ic, ir=ir, objective="revenue").solve()
    rows[f"{ic} / {ir} IR"] = {"revenue": res.objective, "welfare": res.metrics["welfare"],
                               "bidders keep": res.metrics["utility"]}
    if (ic, ir) == ("bic", "interim"):
        cm = res
table = pd.DataFrame(rows).T
table
"""),
    md(r"""
The first row's revenue equals the efficient welfare $E[\max(\theta_1,\theta_2)]$: bidders keep nothing.
The payments that do it are lotteries on the *other* bidder's report:
"""),
    code("""
cm.mechanism.payments.unstack("b2").round(3)
"""),
    code("""
fig, ax = plt.subplots()
table[["revenue", "bidders keep"]].plot.bar(stacked=True, ax=ax, rot=0)
ax.set_ylabel("expected value"); ax.set_title("who gets the surplus");
"""),
    md(r"""
For comparison, the same marginals drawn **independently**: Myerson's revenue, well below full extraction.
"""),
    code("""
marg = [sum(row) for row in joint]          # exact marginal of b1 (b2's is the same)
ind = mo.single_item([mo.Agent("b1", types, prior=marg), mo.Agent("b2", types, prior=marg)])
ri = mo.Design(ind, ic="bic", ir="interim").solve()
print("marginal", [str(m) for m in marg], " independent revenue", round(ri.objective, 4),
      " welfare", round(ri.metrics["welfare"], 4))
"""),
]

# --------------------------------------------------------------------------------------------- 06
NOTEBOOKS["06_two_items"] = [
    md(r"""
# Two items, one buyer: Manelli–Vincent and Pavlov on refining grids

A buyer with values $(\theta_1,\theta_2)$ i.i.d. uniform on $[0,1]$ for two items. With multidimensional types
IC is no longer implied by adjacent rows, so the LP keeps all pairs (the buyer may misreport any type vector),
and the optimum may use lotteries.

* **additive** values: Manelli and Vincent (2006) — sell each item at 2/3 and the bundle at $(4-\sqrt2)/3$;
* **unit demand** (the buyer wants one item): Pavlov (2011) — when do lotteries over the items help?

We discretize each coordinate with midpoint cells (`mo.discretize`, masses = CDF of each cell): the LP values
converge at rate $O(1/n)$, from above here.
"""),
    code(SETUP + """
import scipy.stats as st
import time"""),
    code("""
def two_items(n, valuation):
    buyer = mo.Agent("buyer", mo.discretize(st.uniform(), n))
    return mo.Design(mo.multi_item([buyer], items=2, valuation=valuation), ic="dsic", ir="ex_post").solve()

sizes = [3, 4, 5, 6, 8, 10]
vals = {"additive": {}, "unit_demand": {}}
start = time.perf_counter()
for n in sizes:
    for kind in vals:
        vals[kind][n] = two_items(n, kind).objective
print(f"{time.perf_counter() - start:.1f} s")
pd.DataFrame(vals)
"""),
    md(r"""
The continuum benchmark for the additive case is the revenue of Manelli–Vincent's menu, which we integrate
numerically (the buyer picks the best of: nothing, item 1 at 2/3, item 2 at 2/3, bundle at $(4-\\sqrt2)/3$).
For unit demand we compare, on each grid, with the best *deterministic* menu on the same grid (one price for
either item); in the continuum that menu earns $2/(3\\sqrt3)\\approx 0.385$.
"""),
    code("""
g = (np.arange(2000) + 0.5) / 2000
t1, t2 = np.meshgrid(g, g)
pb = (4 - np.sqrt(2)) / 3
menu_u = np.stack([0 * t1, t1 - 2 / 3, t2 - 2 / 3, t1 + t2 - pb])
menu_p = np.array([0, 2 / 3, 2 / 3, pb])
mv = menu_p[menu_u.argmax(axis=0)].mean()

def extrapolate(series):
    n = np.array(list(series)[-3:], dtype=float)
    y = np.array([series[k] for k in list(series)[-3:]])
    return np.polyfit(1 / n, y, 1)[1]     # y = a + b/n: the intercept a

def best_single_price(n):
    d = mo.discretize(st.uniform(), n)
    top = np.maximum.outer(d.types, d.types).ravel()
    prob = np.multiply.outer(d.prior, d.prior).ravel()
    return max(p * prob[top >= p - 1e-12].sum() for p in np.unique(top))

det = {n: best_single_price(n) for n in sizes}
print(f"Manelli-Vincent menu revenue {mv:.4f};  LP extrapolated (a + b/n) {extrapolate(vals['additive']):.4f}")
pd.DataFrame({"unit demand LP": vals["unit_demand"], "best single price (same grid)": det}).round(4)
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
mo.plot.convergence(vals["additive"], continuum=mv, ax=axes[0], continuum_label="Manelli-Vincent",
                    title="additive", ylabel="max revenue")
mo.plot.convergence(vals["unit_demand"], continuum=2 / (3 * np.sqrt(3)), ax=axes[1],
                    continuum_label="best deterministic, continuum", title="unit demand", ylabel="max revenue")
axes[1].plot(list(det), list(det.values()), marker="x", ls=":", label="best single price, same grid")
axes[1].legend(fontsize="small")
fig.tight_layout()
"""),
    md("""On these grids the LP, although free to offer lotteries, finds that one posted price for either item is
optimal: the two columns coincide, and the values decrease toward $2/(3\\sqrt3)$. Pavlov (2011) characterizes when
lotteries do help (e.g. values uniform on $[c, c+1]$ with $c>0$): change `st.uniform()` to `st.uniform(c, 1)` and
look again. Types whose allocation is not a point mass:"""),
    code("""
for n in (6, 10):
    alloc = two_items(n, "unit_demand").mechanism.allocation
    mixed = alloc[(alloc.max(axis=1) < 0.999) & (alloc.max(axis=1) > 0.001)]
    print(f"n = {n}: {len(mixed)} of {len(alloc)} types get a genuine lottery")
mixed.round(3).head(8)
"""),
]

# --------------------------------------------------------------------------------------------- 07
NOTEBOOKS["07_your_own_design"] = [
    md(r"""
# Your own design: extra constraints and objectives with the cvxpy backend

`Design.solve(backend="cvxpy", constraints=..., objective=...)` builds the same LP as cvxpy variables and hands
you a model `m` with the allocation `m.x` (profiles × outcomes), ex post payments `m.p` (profiles × agents),
the prior `m.prior`, and ready expressions `m.revenue`, `m.welfare`, `m.utility`. Anything linear goes.
"""),
    code(SETUP),
    code("""
env = mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, 11)), mo.Agent("seller", mo.grid(0, 1, 11)))
d = mo.Design(env, ic="bic", ir="interim", budget="ex_ante", objective="welfare")
base = d.solve()
same = d.solve(backend="cvxpy")                      # cross-check: same LP through cvxpy
print(f"highs {base.objective:.8f}   cvxpy {same.objective:.8f}")
"""),
    md(r"""
## A platform that takes a cut

Maximize welfare, but the platform must earn at least 0.02 in expectation, and trade must never be certain
(a cap of 0.9 on the trade probability at every profile, say for regulatory reasons).
"""),
    code("""
def my_constraints(m):
    return [m.revenue >= 0.02, m.x[:, 1] <= 0.9]

r = d.solve(backend="cvxpy", constraints=my_constraints)
print(r.status, round(r.objective, 6), " revenue", round(r.metrics["revenue"], 4),
      " verified", r.verification["ok"])
"""),
    md("## A weighted objective: welfare plus half the revenue"),
    code("""
r2 = d.solve(backend="cvxpy", objective=lambda m: m.welfare + 0.5 * m.revenue)
pd.DataFrame({name: {k: res.metrics[k] for k in ("welfare", "revenue", "utility")}
              for name, res in [("welfare", base), ("with cut and cap", r), ("welfare + revenue/2", r2)]}).T.round(4)
"""),
    code("""
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for ax, (name, res) in zip(axes, [("second best", base), ("cut and cap", r), ("welfare + revenue/2", r2)]):
    mo.plot.allocation_heatmap(res, ax=ax, title=name, colorbar=False)
fig.tight_layout()
"""),
    md(r"""
Every solution still goes through mechopt's independent verifier (`r.verification`), so a user constraint
cannot silently break incentive compatibility or participation.
"""),
]


# --------------------------------------------------------------------------------------------- 08
NOTEBOOKS["08_convergence"] = [
    md(r"""
# Sweeps and the continuum limit

A discrete optimum on an $n$-point grid is not the continuum answer, but it converges to it, typically as
$v(1/n) = v_\infty + a\,n^{-p} + b\,n^{-p-1} + \dots$ with $p\approx 1$. `mo.converge(build, sizes)` solves on
refining grids and extrapolates in $h = 1/n$ (Richardson; the order $p$ is fitted from the last three values
unless given). `estimate ± error` reports the spread of the last extrapolations: an honest error estimate, not
a bound. `mo.threshold(build, lo, hi, tol)` bisects a scalar parameter on feasibility, and `mo.sweep(build, params)`
solves a whole table of parameter points (in process, on processes, or on a Dask cluster).

Every number below is **asserted** against the published continuum value, so this notebook fails if they drift.
"""),
    code(SETUP + """
import time
from functools import partial
import scipy.stats as st
clock = time.perf_counter()"""),
    md(r"""
## Myerson: two bidders, values uniform on [0, 1]

The optimal auction is a second-price auction with reserve $1/2$, revenue $5/12$ (Myerson 1981). On
`grid(0, 1, n)` the LP's optimum is above it by about $0.4/n$.
"""),
    code("""
def myerson(n):
    bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, n)) for i in range(2)]
    return mo.Design(mo.single_item(bidders), ic="bic", ir="interim", objective="revenue")

conv = mo.converge(myerson, [11, 21, 41, 81])
print(conv)
assert abs(conv.estimate - 5 / 12) < 1e-3
conv.table
"""),
    code("""
ax = conv.plot(continuum=5 / 12, label="revenue on grid(0, 1, n)")
ax.set_title("Myerson, two bidders: discrete optima and their extrapolation");
"""),
    md(r"""
## Bilateral trade: the second best and the deficit of efficient trade

Buyer and seller values uniform on $[0,1]$. The welfare-maximizing BIC, interim IR mechanism without an
expected deficit trades iff $t_b - t_s \ge 1/4$; welfare (gains $9/64$ plus the seller's $E[t_s] = 1/2$) is
$41/64$ (Myerson & Satterthwaite 1983). Insisting on efficient trade instead, the most revenue a BIC, interim IR
mechanism can raise is negative: $-1/6$, the Myerson–Satterthwaite deficit.
"""),
    code("""
def trade(n, **design):
    env = mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, n)), mo.Agent("seller", mo.grid(0, 1, n)))
    return mo.Design(env, ic="bic", ir="interim", **design)

second_best = mo.converge(partial(trade, budget="ex_ante", objective="welfare"), [11, 21, 41, 81])
deficit = mo.converge(partial(trade, allocation="efficient", objective="revenue"), [11, 21, 41, 81])
print(second_best)
print(deficit)
assert abs(second_best.estimate - 41 / 64) < 1e-3
assert abs(deficit.estimate - (-1 / 6)) < 1e-3
pd.concat({"second best welfare": second_best.table.set_index("n")[["value", "R1", "R2"]],
           "efficient-trade revenue": deficit.table.set_index("n")[["value", "R1", "R2"]]}, axis=1)
"""),
    md(r"""
## Dissolving a partnership: the smallest dissolvable share

Two partners with values uniform on $[0,1]$ own shares $r$ and $1-r$. An efficient, BIC, interim IR
dissolution with a balanced budget exists iff $r \in [1/2 - \sqrt3/6,\ 1/2 + \sqrt3/6]$
(Cramton, Gibbons & Klemperer 1987). On each grid `mo.threshold` bisects the share on feasibility (one HiGHS
instance is kept across the bisection: only right-hand sides change, so each step is hot-started and then
re-checked); `mo.converge(fn, sizes)` extrapolates the thresholds themselves.
"""),
    code("""
def dissolution(r, n):
    partners = [mo.Agent("p1", mo.grid(0, 1, n)), mo.Agent("p2", mo.grid(0, 1, n))]
    return mo.Design(mo.partnership(partners, [r, 1 - r]), ic="bic", ir="interim", budget="ex_ante",
                     allocation="efficient", objective="feasibility")

def smallest_share(n):
    return mo.threshold(partial(dissolution, n=n), 0.05, 0.5, tol=1e-7)

shares = mo.converge(smallest_share, [11, 21, 41])
print(shares)
cgk = 1 / 2 - np.sqrt(3) / 6
assert abs(shares.estimate - cgk) < 1e-3
shares.table[["n", "value", "R1", "seconds"]]
"""),
    md(r"""
## One buyer, two additive items (Manelli–Vincent)

Values independent uniform on $[0,1]$ (midpoint discretization, `mo.discretize`). The optimal menu sells each
item at $2/3$ and the bundle at $(4-\sqrt2)/3$, revenue $(12 + 2\sqrt2)/27 \approx 0.5492$ (Manelli & Vincent
2006). The grids here are coarser (the LP has $n^2$ types), so the target is $3\cdot 10^{-3}$.
"""),
    code("""
def two_items(n):
    buyer = mo.Agent("buyer", mo.discretize(st.uniform(), n))
    return mo.Design(mo.multi_item([buyer], items=2, valuation="additive"), ic="dsic", ir="ex_post")

items = mo.converge(two_items, [5, 10, 20, 40])
print(items)
mv = (12 + 2 * np.sqrt(2)) / 27
assert abs(items.estimate - mv) < 3e-3
items.table
"""),
    md(r"""
## A sweep: revenue as the seller's cost moves

`mo.sweep(build, {name: values})` returns one row per point (status, objective, revenue, welfare, utility,
`verified`, `warm`, seconds, reductions). Only the objective depends on the seller's cost $s$, so consecutive
points are hot-started (`warm`). Myerson with a cost: allocate to the highest virtual value $2t-1$ if it
exceeds $s$, so the revenue is $E[\max(2t_1-1,\ 2t_2-1,\ s)] - s$ on this grid exactly. Pass `executor=2`
(processes, with `build` defined in a module) or a `dask.distributed.Client` to spread the points.
"""),
    code("""
def with_cost(seller_value, n=21):
    bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, n)) for i in range(2)]
    return mo.Design(mo.single_item(bidders, seller_value=seller_value), ic="dsic", ir="ex_post")

df = mo.sweep(with_cost, {"seller_value": np.linspace(0, 1, 21)})
psi = 2 * np.linspace(0, 1, 21) - 1
top = np.maximum.outer(psi, psi).ravel()
exact = [np.maximum(top, s).mean() - s for s in df["seller_value"]]
assert np.allclose(df["objective"], exact, atol=1e-9) and df["verified"].all()
print(f"{df['warm'].sum()} of {len(df)} points hot-started")
ax = df.plot(x="seller_value", y=["revenue", "welfare"], marker="o")
ax.set_xlabel("seller's cost s");
df.drop(columns="reductions").head()
"""),
    md("## Summary"),
    code("""
summary = pd.DataFrame({
    "estimate": [conv.estimate, second_best.estimate, deficit.estimate, shares.estimate, items.estimate],
    "± (spread)": [conv.error, second_best.error, deficit.error, shares.error, items.error],
    "continuum": [5 / 12, 41 / 64, -1 / 6, cgk, mv],
}, index=["Myerson revenue", "second-best welfare", "efficient-trade deficit", "smallest dissolvable share",
          "two items (Manelli-Vincent)"])
summary["difference"] = summary["estimate"] - summary["continuum"]
assert (summary["difference"].abs() < [1e-3, 1e-3, 1e-3, 1e-3, 3e-3]).all()
print(f"notebook ran in {time.perf_counter() - clock:.1f} s")
summary
"""),
]


def build(names=None) -> list[Path]:
    out = []
    for name, cells in NOTEBOOKS.items():
        if names and name not in names:
            continue
        nb = new_notebook(cells=cells, metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        })
        path = HERE / f"{name}.ipynb"
        nbformat.write(nb, path)
        out.append(path)
    return out


if __name__ == "__main__":
    for p in build(sys.argv[1:] or None):
        print("wrote", p)
