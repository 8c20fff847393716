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


# --------------------------------------------------------------------------------------------- 10
NOTEBOOKS["10_interdependent"] = [
    md(r"""
# Interdependent values: ex post IC, common values and single crossing

With **interdependent values** an agent's value depends on everyone's type: the value of drilling
rights depends on every bidder's geological survey. Values are tables over the whole profile,
$v_i(k, \theta)$, and incentive compatibility is asked **ex post**: for every profile, reporting the
truth is optimal when the others do, with values at the *true* profile,

$$v_i(x(\theta), \theta) - p_i(\theta) \;\ge\; v_i(x(s, \theta_{-i}), \theta) - p_i(s, \theta_{-i}).$$

(Dominant strategies are out of reach: a bidder cannot know the value of what it wins when the others
lie.) For private values ex post IC is DSIC, and `mo.Design(..., ic="ex_post")` builds the DSIC rows.
References: Maskin (1992), Dasgupta & Maskin (2000), Jehiel & Moldovanu (2001), Crémer & McLean (1985, 1988).
"""),
    code(SETUP + "\nfrom fractions import Fraction as F"),
    md(r"""
## A two-bidder common-value auction

Each bidder's signal is $0, \tfrac12$ or $1$ (uniform, independent) and the item is worth $t_1 + t_2$
to whoever wins. We maximize revenue under ex post IC and ex post IR.
"""),
    code("""
bidders = [mo.Agent(f"b{i}", [0, F(1, 2), 1]) for i in range(2)]
env = mo.interdependent_item(bidders, lambda i, t: t.sum())     # pure common value
r = mo.Design(env, ic="ex_post", ir="ex_post", objective="revenue").solve(certify=True)
print(r.status, r.objective, r.certificate.objective, r.certificate.verify(exact=True))
pd.Series(r.metrics)[["revenue", "welfare", "utility"]]
"""),
    md(r"""
**Why 5/6.** Fix the other bidder's signal. Bidder $i$ then faces a one-parameter problem whose value of
winning, $t_i + t_j$, rises by $\tfrac12$ per step of its own signal, so (as in Myerson 1981) ex post IC
gives each type at least the rent $\tfrac12\sum_{t' < t_i} q_i(t', t_j)$, where $q_i$ is its winning
probability. Keeping the item at $(0, 0)$ costs nothing (it is worth 0); selling to the higher signal
leaves rent $\tfrac12$ to a type-1 bidder facing 0 or $\tfrac12$ (the latter only with its tie share at
$(\tfrac12, \tfrac12)$): total rent $\tfrac12(1 + 1 + 1)/9 = \tfrac16$ of a surplus of $E[t_1 + t_2] = 1$.
The seller gets $\tfrac56$ and the bidders keep $\tfrac16$; Bayesian IC does no better here:
"""),
    code("""
assert r.status == "optimal" and r.verification["ok"]
assert r.certificate.objective == F(5, 6) and r.certificate.verify(exact=True)
assert abs(r.metrics["welfare"] - 1) < 1e-9 and abs(r.metrics["utility"] - F(1, 6)) < 1e-9
table = {}
for ic in ("ex_post", "bic"):
    for ir in ("ex_post", "interim"):
        table[(ic, ir)] = mo.Design(env, ic=ic, ir=ir).solve().objective
table = pd.Series(table, name="revenue")
assert np.allclose(table, 5 / 6)
table
"""),
    md(r"""
With **correlated** signals the seller can do better: when each type's beliefs about the other are
linearly independent, Crémer & McLean's lotteries extract the whole surplus under BIC and interim IR,
interdependent values included. Here $v_i = t_i + t_j/2$ (Maskin's weights, below):
"""),
    code("""
joint = [[F(2, 5), F(1, 10)], [F(1, 10), F(2, 5)]]
cm_env = mo.interdependent_item([mo.Agent(f"b{i}", [0, 1]) for i in range(2)], alpha=F(1, 2), prior=joint)
cm = mo.Design(cm_env, ic="bic", ir="interim").solve()
surplus = F(1, 10) + F(1, 10) + F(2, 5) * F(3, 2)        # E[max_i v_i]
assert cm.status == "optimal" and abs(cm.objective - surplus) < 1e-9
cm.objective, float(surplus)
"""),
    md(r"""
## When single crossing fails, efficiency cannot be implemented

Two agents with signals $t_1, t_2 \in \{0, 1\}$ and one item: $v_1 = 1 + t_1$ and $v_2 = 3 t_1 + t_2/10$.
Agent 1's signal raises agent 2's value faster than its own (single crossing fails), so the efficient
rule gives agent 1 the item exactly when $t_1 = 0$: agent 1 wins *less* when its value is *higher*.
"""),
    code("""
agents = [mo.Agent("a1", [0, 1]), mo.Agent("a2", [0, 1])]
sc = mo.interdependent_item(agents, lambda i, t: 1 + t[0] if i == 0 else 3 * t[0] + F(1, 10) * t[1])
pd.DataFrame(sc.efficient_outcomes(), index=sc.profile_index, columns=sc.outcomes)
"""),
    code("""
bad = mo.Design(sc, ic="ex_post", ir="none", allocation="efficient", objective="feasibility").solve()
cert = bad.certificate
assert bad.status == "infeasible" and cert.verify(exact=True)
cert.explain()
"""),
    md(r"""
**Reading the certificate.** At $t_2 = 0$ agent 1 wins when $t_1 = 0$ and loses when $t_1 = 1$. Its two
IC rows there say: type 0 does not mimic 1, $1 - p(0) \ge -p(1)$, i.e. $p(0) - p(1) \le 1$; type 1 does
not mimic 0, $-p(1) \ge 2 - p(0)$, i.e. $p(0) - p(1) \ge 2$. Adding them (weight 1 each) gives
$0 \ge 1$; the efficiency and lottery rows only pin down who wins. No payments can fix it, and
Bayesian IC fails in the same way (Maskin 1992; Jehiel & Moldovanu 2001 show how generic the failure
is with multidimensional signals).
"""),
    code("""
ic_rows = cert.weights.loc["ic"]
assert set(bad.lp.labels("ic").loc[ic_rows.index.get_level_values("row"), "agent"]) == {"a1"}
bic = mo.Design(sc, ic="bic", ir="none", allocation="efficient", objective="feasibility").solve()
assert bic.status == "infeasible" and bic.certificate.verify(exact=True)
print("ex post:", bad.status, "| BIC:", bic.status)
"""),
    md(r"""
## Maskin's weights: $v_i = t_i + \alpha\, t_j$

Single crossing holds iff $\alpha < 1$; then the higher signal wins and payments exist (the generalized
VCG of Dasgupta & Maskin 2000). For $\alpha > 1$ the lower signal has the higher value and efficient
ex post implementation is impossible; at $\alpha = 1$ (common value) anything that sells is efficient.
"""),
    code("""
rows = {}
for alpha in [0, F(1, 2), 1, F(3, 2), 2]:
    e = mo.interdependent_item([mo.Agent(f"b{i}", mo.grid(0, 1, 3)) for i in range(2)], alpha=alpha)
    res = mo.Design(e, ic="ex_post", ir="ex_post", allocation="efficient", objective="revenue").solve()
    rows[str(alpha)] = {"status": str(res.status), "revenue": res.objective}
    assert (res.status == "optimal") == (alpha <= 1)
pd.DataFrame(rows).T
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
