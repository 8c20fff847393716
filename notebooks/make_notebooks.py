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
interim individual rationality (IR) is a linear program (Myerson 1981). Its **dual** variables carry the
economics: the multipliers of the IC rows are the *information rents*, and the shadow price of each type's
interim allocation is its **virtual value**. Ironing appears by itself when the prior is irregular. Every
claim below is an `assert`: if the code drifts, this notebook fails.
"""),
    code(SETUP),
    md(r"""
## A regular prior: two bidders, uniform on 21 points

`ic="bic", ir="interim"` and objective revenue. The compiler keeps only *adjacent* IC rows (scalar types,
values linear in type: single crossing), uses interim payments $\bar P_i(t)$, and — for a single item —
the **Border formulation** (Border 1991): the variables are the interim win probabilities
$Q_i(t)$ and their cumulative sums $C_i(t) = \sum_{s \ge t} f_s Q_i(s)$; Border's inequalities on upper sets
of types guarantee that some ex post allocation produces these $Q$ (recovered after the solve). The row
families are therefore `cumulative` (definitions of $C$), `border`, `ic` and `ir`.

The two bidders are identical, so by default mechopt would also impose one interim rule for both
(`symmetric=None`: averaging an optimum over relabellings is an optimum) and solve an LP whose size does not
depend on the number of bidders. To see each bidder's own rows and duals we switch that off here
(`symmetric=False`); the optimum is the same.
"""),
    code("""
agents = [mo.Agent("b1", mo.grid(0, 1, 21)), mo.Agent("b2", mo.grid(0, 1, 21))]
r = mo.Design(mo.single_item(agents), ic="bic", ir="interim", objective="revenue", symmetric=False).solve()
sym = mo.Design(mo.single_item(agents), ic="bic", ir="interim", objective="revenue").solve()
assert "symmetry" in sym.reductions and abs(sym.objective - r.objective) < 1e-12
r
"""),
    code("""
assert r.status == "optimal" and r.verification["ok"]
assert abs(r.objective - 55 / 126) < 1e-9                       # the discrete optimum on this grid
assert r.reductions["allocation"] == "interim (Border)"
assert set(r.lp.sizes["families"]) == {"cumulative", "border", "ic", "ir"}
r.lp.sizes["families"]
"""),
    md(r"""
## Duals are virtual values

Write $f_t$ for the prior mass of type $t$, $F_t=\sum_{j\le t} f_j$, $\lambda_{s\to t}\ge 0$ for the
multiplier of the IC row "type $s$ does not gain by reporting $t$", and $\gamma_t \ge 0$ for type $t$'s IR row.
Stationarity of the Lagrangian in the free payment variable $\bar P_t$ reads

$$f_t = \sum_s \lambda_{t\to s} - \sum_s \lambda_{s\to t} + \gamma_t .$$

In the column $Q_t$, the IC and IR rows contribute the **ironed virtual value** (per unit of prior mass)

$$\bar\varphi_t = v_t - \frac{1}{f_t}\sum_s (v_s - v_t)\,\lambda_{s\to t},$$

and the Border and cumulative rows price the competition between bidders for the one item: at the
optimum the item goes to the highest nonnegative $\bar\varphi$. Summing the $\bar P$ condition over the types
above $t$: the net downward IC weight across the cut above $t$, plus the IR weight above $t$, equals $1-F_t$,
hence the *discrete* virtual value with a forward difference

$$\varphi_t = v_t - (v_{t+1}-v_t)\,\frac{1-F_t}{f_t},\qquad \varphi_{\rm top} = v_{\rm top}.$$
"""),
    code("""
table = mo.duality.virtual_value_table(r, "b1")
assert np.allclose(table["lp_raw"], table["formula_raw"], atol=1e-7)
assert np.allclose(table["lp_ironed"], table["formula_ironed"], atol=1e-7)
assert np.allclose(table["formula_raw"], 2 * table.index - 1, atol=1e-12)   # uniform: φ(t) = 2t − 1 on this grid
table.round(4)
"""),
    md(r"""
### The IC multipliers, all of them

The downward rows $(t+1 \to t)$ are the binding ones. Two optimal duals side by side: the vertex the solver
returned, and the minimum-norm optimal dual that `virtual_values` uses (see below). In the minimum-norm
dual every downward multiplier is exactly $1-F_t$ — Myerson's information rent. The solver's vertex agrees
**above the reserve** (types ≥ 0.55) but not below: the types below the reserve never win, have zero
utility, and all their IR rows bind, so the solver may put IR weight on any of them (here on most types up
to 0.5), which lowers the IC weight needed to carry mass $1-F_t$ across each cut. Both are optimal duals.
"""),
    code("""
y = mo.duality.minimum_norm_dual(r)
fam = r.lp.family("ic")
ic = r.duals["ic"].assign(min_norm=y[fam.start:fam.stop])
down = ic[(ic.agent == "b1") & (ic.report < ic.type)].copy()
F = np.cumsum(agents[0].prior)
down["1 - F(report)"] = 1 - F[:-1]
above = down.type >= 0.55
assert np.allclose(down["min_norm"], down["1 - F(report)"], atol=1e-7)
assert np.allclose(down.loc[above, "dual"], down.loc[above, "1 - F(report)"], atol=1e-7)
assert not np.allclose(down.loc[~above, "dual"], down.loc[~above, "1 - F(report)"], atol=1e-3)
down.round(4)
"""),
    md(r"""
### Which IR rows bind

Every type at or below the reserve 0.5 has zero utility, so its IR row binds (slack 0); types above the
reserve keep a positive rent. The IR multipliers of one bidder add up to 1 (sum the $\bar P$ condition over
all types). Where that weight sits is not pinned down: the solver spreads it over the binding rows, the
minimum-norm dual puts all of it on the lowest type.
"""),
    code("""
ir = mo.duality.binding(r)["ir"].query("agent == 'b1'")
assert sorted(ir["type"]) == [t for t in agents[0].type_labels if t <= 0.5]
u = r.mechanism.interim["b1"]["utility"]
assert (u[u.index > 0.5] > 1e-6).all()
gamma = r.duals["ir"].query("agent == 'b1'")["dual"]
assert abs(gamma.sum() - 1) < 1e-7
fir = r.lp.family("ir")
gamma_mn = y[fir.start:fir.stop][(r.duals["ir"].agent == "b1").to_numpy()]
assert abs(gamma_mn[0] - 1) < 1e-7 and np.allclose(gamma_mn[1:], 0, atol=1e-7)
pd.DataFrame({"type": ir["type"], "slack": ir["slack"], "solver dual": ir["dual"]}).round(4).T
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
mo.plot.virtual_values(r, "b1", closed_form=True, ax=axes[0])
mo.plot.interim_allocation(r, ax=axes[1]);
"""),
    md(r"""
Strong duality, read as economics: expected revenue equals the expected virtual surplus
$\sum_i \sum_t f_t\,\bar\varphi_{i,t}\,Q_i(t)$.
"""),
    code("""
surplus = sum(
    float(np.sum(a.prior * r.mechanism.interim[a.name][a.name] * mo.duality.virtual_values(r, a.name, ironed=True)))
    for a in agents
)
assert abs(surplus - r.objective) < 1e-9
print(f"revenue {r.objective:.10f}   expected virtual surplus {surplus:.10f}")
"""),
    md(r"""
## Complementary slackness

Every row either binds or has a zero multiplier, and every bounded column is at its bound or has a zero
reduced cost.
"""),
    code("""
cs = mo.duality.complementary_slackness(r)
assert cs.ok and cs.max_product < 1e-9
cs.summary
"""),
    md(r"""
## The optimum is not unique: the optimal face

The two symmetric bidders get *different* interim allocations at the reserve: 0.476 for one and 0.524 for
the other. Nothing is wrong: on this grid the type 0.5 has virtual value exactly 0, so selling to it or not
leaves revenue unchanged, and the LP returned one of many optimal mechanisms. `result.face()` fixes revenue
at its optimum (within $10^{-9}$ relative) and minimizes and maximizes other metrics over the optimal
mechanisms. Welfare ranges over an interval of width $0.5 \cdot P(\max = 0.5) = 0.5 \cdot 21/441 = 1/42$
(serve the highest bidder at 0.5, or not), and the interim allocation of type 0.5 anywhere in
$[0,\ P(\text{other} \le 0.5)] = [0, 11/21]$.
"""),
    code("""
Q = pd.DataFrame({a.name: r.mechanism.interim[a.name][a.name] for a in agents})
print(Q.loc[[0.5, 0.55]].round(4))
face = r.face(("revenue", "welfare", "utility"), interim=True)
assert face.loc["revenue", "width"] < 1e-8
assert abs(face.loc["welfare", "width"] - 1 / 42) < 1e-7
assert abs(face.loc["P[b1] b1=0.5", "max"] - 11 / 21) < 1e-6 and face.loc["P[b1] b1=0.5", "min"] < 1e-6
assert not r.is_unique()
face[face["width"] > 1e-6].round(4)
"""),
    md(r"""
## An irregular prior: ironing

A prior with a dip in the middle (little mass at 6/11 and 7/11) makes the raw virtual values
non-monotone. The LP pools those types (same interim allocation), and the IC multipliers deliver the
**ironed** values: nondecreasing, constant on the ironing interval, and equal to the slopes of the convex
hull of the cumulative virtual surplus. Revenue and welfare are the same at every optimum, but the interim
allocations are not: when both bidders have the *same* ironed virtual value (same type, or two types in the
pool), the LP may split that tie between them in any way.
"""),
    code("""
w = np.array([10, 10, 10, 10, 10, 10, 1, 1, 4, 4, 2, 1], dtype=float)
w = w / w.sum()
bimodal = [mo.Agent("b1", mo.grid(0, 1, 12), prior=w), mo.Agent("b2", mo.grid(0, 1, 12), prior=w)]
ri = mo.Design(mo.single_item(bimodal), ic="bic", ir="interim").solve()
t = mo.duality.virtual_value_table(ri, "b1")
assert np.allclose(t["lp_ironed"], t["formula_ironed"], atol=1e-7)
assert (np.diff(t["lp_ironed"]) >= -1e-9).all() and (np.diff(t["formula_raw"]) < 0).any()
pool = t.index[(t.index > 0.4) & (t.index < 0.7)]
assert np.ptp(t.loc[pool, "allocation"]) < 1e-7          # the pooled types share one interim allocation
f = ri.face(("revenue", "welfare"), interim=True)
assert f.loc[["revenue", "welfare"], "width"].max() < 1e-7 and not ri.is_unique()
t.round(4)
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
mo.plot.virtual_values(ri, "b1", closed_form=True, ax=axes[0])
mo.plot.interim_allocation(ri, ax=axes[1])
axes[1].axvspan(5 / 11 - 0.03, 7 / 11 + 0.03, color="0.85", label="ironing interval")
axes[1].legend(fontsize="small");
"""),
    md(r"""
## Duals are not unique either

The LP is degenerate: types that never win all have binding IR rows, and inside a pooled block only the
block's average shadow price is pinned down. The solver returns *a* vertex of the optimal dual face
(`canonical=False`); `virtual_values` reports by default the minimum-norm optimal dual
($\min \sum f_t\bar\varphi_t^2$ over the face, after putting IR weight on the lowest type), which is exactly
Myerson's ironing. Both certify optimality.
"""),
    code("""
duals = pd.DataFrame({
    "solver vertex": mo.duality.virtual_values(ri, "b1", ironed=True, canonical=False),
    "minimum-norm dual": mo.duality.virtual_values(ri, "b1", ironed=True),
    "Myerson (hull)": mo.duality.closed_form_virtual_values(bimodal[0], ironed=True),
})
assert np.allclose(duals["minimum-norm dual"], duals["Myerson (hull)"], atol=1e-7)
duals.round(4)
"""),
]

# --------------------------------------------------------------------------------------------- 02
NOTEBOOKS["02_myerson_satterthwaite"] = [
    md(r"""
# Myerson–Satterthwaite: a certificate, the deficit, and the second best

A buyer and a seller, values uniform on a grid in $[0,1]$. No mechanism is efficient, Bayesian incentive
compatible, interim individually rational and budget balanced (even *ex ante*) — Myerson and Satterthwaite
(1983). mechopt proves this on each grid with a **Farkas certificate**: nonnegative weights on named rows
whose combination reads $0 \ge$ something positive — checked in exact rational arithmetic.
"""),
    code(SETUP),
    code("""
def trade_env(n):
    return mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, n)), mo.Agent("seller", mo.grid(0, 1, n)))

r = mo.Design(trade_env(6), ic="bic", ir="interim", budget="ex_ante", allocation="efficient",
              objective="feasibility").solve()
assert r.status == "infeasible"
c = r.certificate
assert c.verify(exact=True)
assert {"ic", "ir", "budget"} <= set(c.weight_by_family)     # the theorem's three ingredients all carry weight
c
"""),
    md(r"""
## The proof, read as a proof

`explain()` lists the economic rows first — incentive compatibility, participation, the budget,
efficiency — and sums each bookkeeping family (probabilities add up to one, definitions of the interim
variables) into one line. `derivation()` says the same in words and `to_latex()` typesets it.
"""),
    code("""
df = c.explain()
assert df.index.get_level_values("family")[0] == "ic"
df
"""),
    code("""
print(c.derivation(max_rows=14))
"""),
    code("""
print(c.to_latex(max_rows=14))
"""),
    md(r"""
The picture: the weights over the type grid. The heatmap holds the rows labelled by a profile (here the
efficiency rows: trade must happen when the buyer values the good more); the bars hold the rows labelled by
one agent's type (IC by the true type, IR). IR weight sits on the buyer's lowest types and the seller's highest —
the least charitable types of Krishna and Perry — and IC weight runs across the types in between.
"""),
    code("""
fig = c.plot(kind="grid")
"""),
    md(r"""
## Why 3–5-point grids are feasible

On `grid(0, 1, n)` (step $h$) the certificate exists only from $n = 6$ on; for $n \le 5$ an efficient, BIC,
interim-IR, budget-balanced mechanism exists. The reason is Krishna–Perry on the grid: the revenue-maximal
efficient IR mechanism is the discrete gVCG with threshold payments (notebook 03): trade iff
$\theta_b > \theta_s$, the buyer pays the smallest grid value above $\theta_s$, which is $\theta_s + h$, and
the seller receives the largest grid value below $\theta_b$, which is $\theta_b - h$. A pair $k$ grid steps apart
therefore leaves the designer $2h - kh = (2-k)h$: neighbours ($k=1$) *create* a surplus $h$, pairs two steps apart
break even, wider gaps cost $(k-2)h$. With $n-k$ pairs at gap $k$, the best expected budget is

$$\frac{h}{n^2}\sum_{k=1}^{n-1} (2-k)(n-k),$$

which is $2h/9,\ 2h/16,\ 0$ for $n = 3, 4, 5$ and negative from $n = 6$ on. Coarse grids hide information:
a type can only mimic a neighbour one whole step away, so rents are small next to the gains from trade.
"""),
    code("""
rows = {}
for n in range(3, 9):
    h = 1 / (n - 1)
    formula = h / n**2 * sum((2 - k) * (n - k) for k in range(1, n))
    best = mo.Design(trade_env(n), ic="bic", ir="interim", allocation="efficient", objective="revenue").solve()
    feas = mo.Design(trade_env(n), ic="bic", ir="interim", budget="ex_ante", allocation="efficient",
                     objective="feasibility").solve()
    assert abs(best.objective - formula) < 1e-9
    assert feas.status == ("optimal" if formula >= -1e-12 else "infeasible")
    rows[n] = {"best budget (LP)": best.objective, "formula": formula, "status": feas.status}
pd.DataFrame(rows).T
"""),
    md(r"""
## The deficit tends to 1/6

Drop the budget constraint and *maximize revenue* among efficient, BIC, interim-IR mechanisms: the optimum is
negative (a deficit). In the continuum the smallest expected deficit is $1/6$. On grids with both end points it
approaches $-1/6$ as the grid refines.
"""),
    code("""
sizes = [6, 11, 21, 31, 41]
deficit = {}
for n in sizes:
    rn = mo.Design(trade_env(n), ic="bic", ir="interim", allocation="efficient", objective="revenue").solve()
    deficit[n] = rn.objective
deficit = pd.Series(deficit, name="max revenue (efficient)")
assert (np.diff(deficit.to_numpy()) < 0).all() and (deficit > -1 / 6).all()
assert abs(deficit[21] + 8 / 63) < 1e-9 and abs(deficit[41] + 1 / 6) < 0.025
deficit
"""),
    code("""
mo.plot.convergence(deficit.to_dict(), continuum=-1 / 6, ylabel="max expected revenue",
                    title="efficient trade runs a deficit");
"""),
    md(r"""
## The second best tends to 9/64

Now keep budget balance (ex ante) and give up efficiency: maximize the expected **gains from trade**,
`objective="gains"` — welfare net of the status quo (the seller keeps the good, worth $E[\theta_s] = 1/2$).
Myerson and Satterthwaite's second best trades iff $v_b \ge v_s + 1/4$ and achieves $9/64$.
"""),
    code("""
gains = {}
for n in sizes:
    rn = mo.Design(trade_env(n), ic="bic", ir="interim", budget="ex_ante", objective="gains").solve()
    w = mo.Design(trade_env(n), ic="bic", ir="interim", budget="ex_ante", objective="welfare").solve()
    assert abs(rn.objective - (w.objective - 0.5)) < 1e-9       # gains = welfare − E[θ_s]
    gains[n] = rn.objective
    last = rn
assert abs(gains[41] - 9 / 64) < 0.01
pd.Series(gains, name="second-best gains from trade")
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
mo.plot.convergence(gains, continuum=9 / 64, ax=axes[0], ylabel="gains from trade", title="second best")
mo.plot.allocation_heatmap(last, ax=axes[1], overlay=lambda vb: vb - 0.25, overlay_label="v_b = v_s + 1/4",
                           title="trade region, 41 x 41 grid");
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
the seller's participation. Generalized VCG (Krishna and Perry 1998) with **threshold payments**
(`payments="optimal"`) is DSIC, ex post IR and runs the smallest possible deficit: on the grid, the buyer pays
the smallest grid value at which trade still happens and the seller receives the largest one. Its revenue is
the LP optimum over efficient, DSIC, ex post IR mechanisms, and — Krishna–Perry — also over the much larger
set of efficient, BIC, interim-IR ones (the last row). `gvcg(env)` is the Groves form with the least
charitable types: DSIC and IR too, but on a grid it leaves more rent than needed. AGV (expected externality)
balances the budget exactly and is BIC but not IR.
"""),
    code("""
M = mo.mechanisms
trade = mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, 11)), mo.Agent("seller", mo.grid(0, 1, 11)))
lp = mo.Design(trade, ic="bic", ir="interim", allocation="efficient", objective="revenue").solve()
dsic_lp = mo.Design(trade, ic="dsic", ir="ex_post", allocation="efficient", objective="revenue").solve()
kp = M.gvcg(trade, payments="optimal")
table = mo.compare([M.vcg(trade), M.gvcg(trade), kp, M.agv(trade), lp], round=4)
a = kp.audit()
assert a["dsic"] and a["ex_post_ir"] and a["efficient"]
assert abs(kp.metrics["revenue"] - dsic_lp.objective) < 1e-9 and abs(kp.metrics["revenue"] - lp.objective) < 1e-9
assert table.loc["VCG", "budget_ex_post"] and not table.loc["VCG", "ex_post_ir"]
assert table.loc["AGV", "budget_exact"] and not table.loc["AGV", "interim_ir"]
assert M.gvcg(trade).metrics["revenue"] < kp.metrics["revenue"] < 0
table
"""),
    code("""
def property_map(table, ax):
    props = [c for c in table.columns if table[c].dtype == bool]
    im = ax.imshow(table[props].to_numpy(dtype=float), cmap="cividis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(props)), props, rotation=45, ha="right")
    ax.set_yticks(range(len(table)), table.index)
    ax.set_title("what each mechanism satisfies (yellow = yes)")
    return im

fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), gridspec_kw={"width_ratios": [2, 1]}, layout="constrained")
property_map(table, axes[0])
table["revenue"].plot.barh(ax=axes[1], color="#3b528b")
axes[1].axvline(0, color="black", lw=0.8)
axes[1].set_xlabel("expected revenue (negative = deficit)");
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
mechs = [M.vcg(auction), M.cavallo(auction), M.green_laffont(auction)]
t3 = mo.compare(mechs, round=4)
assert t3["dsic"].all() and t3["budget_ex_post"].all()
assert t3.loc["VCG", "utility"] < t3.iloc[1]["utility"]                 # Cavallo gives money back
assert t3.iloc[2]["budget_exact"] and not t3.iloc[2]["efficient"]        # Green–Laffont: balanced, not efficient
t3
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(13, 3.8), gridspec_kw={"width_ratios": [2, 1]}, layout="constrained")
property_map(t3, axes[0])
t3[["revenue", "utility"]].plot.barh(ax=axes[1], stacked=True, color=["#3b528b", "#fde725"])
axes[1].set_xlabel("expected value");
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
e = np.array(list(ends.values()))
assert (np.diff(e) > 0).all() and (e < limit).all()       # the grid range shrinks toward the continuum one
assert limit - ends[31] < 0.04
pd.DataFrame({"lower end": ends, "upper end": {n: 1 - v for n, v in ends.items()}})
"""),
    md("Exact budget balance (every profile) gives the same range here: with BIC, an ex ante balanced budget can be "
       "balanced ex post (AGV-style transfers), so the answer does not depend on which one we ask for."),
    code("""
exact_ends = {n: lower_end(n, budget="exact", iters=10) for n in (6, 11)}
assert all(abs(exact_ends[n] - ends[n]) < 2 ** -10 for n in exact_ends)   # same range, up to the bisection step
exact_ends
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
for s, b in zip(shares, best):     # dissolvable exactly where the maximal revenue is nonnegative
    if abs(s - ends[21]) > 2 ** -12:
        assert (b >= -1e-9) == (s > ends[21])
fig, ax = plt.subplots(layout="constrained")
ax.plot(shares, best, marker="o", label="max revenue, efficient BIC interim IR")
ax.axhline(0, color="black", lw=0.8)
ax.axvline(limit, color="#e66101", ls="--", label="continuum threshold")
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
first_best = cm.metrics["welfare"]
assert abs(table.loc["bic / interim IR", "revenue"] - first_best) < 1e-9      # full surplus extraction
assert abs(table.loc["bic / interim IR", "bidders keep"]) < 1e-9
assert table.loc["dsic / ex_post IR", "revenue"] < first_best - 1e-3
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
fig, ax = plt.subplots(layout="constrained")
table[["revenue", "bidders keep"]].plot.bar(stacked=True, ax=ax, rot=0, color=["#3b528b", "#fde725"])
ax.set_ylabel("expected value"); ax.set_title("who gets the surplus");
"""),
    md(r"""
For comparison, the same marginals drawn **independently**: Myerson's revenue, well below full extraction.
"""),
    code("""
marg = [sum(row) for row in joint]          # exact marginal of b1 (b2's is the same)
ind = mo.single_item([mo.Agent("b1", types, prior=marg), mo.Agent("b2", types, prior=marg)])
ri = mo.Design(ind, ic="bic", ir="interim").solve()
assert ri.objective < first_best - 1e-3
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
assert all(abs(vals["unit_demand"][n] - det[n]) < 1e-7 for n in sizes)   # one posted price is optimal here
assert abs(extrapolate(vals["additive"]) - mv) < 0.01
pd.DataFrame({"unit demand LP": vals["unit_demand"], "best single price (same grid)": det}).round(4)
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
mo.plot.convergence(vals["additive"], continuum=mv, ax=axes[0], continuum_label="Manelli-Vincent",
                    title="additive", ylabel="max revenue")
mo.plot.convergence(vals["unit_demand"], continuum=2 / (3 * np.sqrt(3)), ax=axes[1],
                    continuum_label="best deterministic, continuum", title="unit demand", ylabel="max revenue")
axes[1].plot(list(det), list(det.values()), marker="x", ls=":", label="best single price, same grid")
axes[1].legend(fontsize="small");
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
    md(r"""
## Two bidders, two items (BIC): competition and bundling

With two bidders, each with additive values for both items, the ex post LP has a lottery over the
$3^2 = 9$ assignments at each of $n^4$ type profiles. Under BIC with independent types, additive values only
see the **per-item interim probabilities** $Q_i(t, j)$, and for each item these are implementable iff
Border's inequalities hold (Border 1991); drawing the items independently combines the per-item
allocations. So mechopt solves for $Q$ and interim payments only, generating Border rows (prefix sets of
$Q$, checked over every prefix profile) and IC pairs: `r.reductions["item_border"]`.

Selling each item by its own optimal auction (Myerson 1981) is one feasible mechanism, so the optimum is at
least the sum of the two discrete Myerson revenues $2\,E[\max(\varphi(\theta_1), \varphi(\theta_2), 0)]$,
with $\varphi_k = \theta_k - (\theta_{k+1}-\theta_k)(1-F_k)/f_k$ (no ironing needed for the uniform grid).
"""),
    code("""
def two_bidders(n):
    bidders = [mo.Agent(f"b{i}", mo.discretize(st.uniform(), n)) for i in range(2)]
    return mo.Design(mo.multi_item(bidders, items=2), ic="bic", ir="interim")

def separate_myerson(n):
    theta = (np.arange(n) + 0.5) / n
    phi = theta - (n - np.arange(n) - 1) / n        # (θ_{k+1} − θ_k)(1 − F_k)/f_k = (n − k − 1)/n
    return 2 * np.maximum(np.maximum.outer(phi, phi), 0).mean()

small = two_bidders(3)
reduced, plain = small.solve(), small.solve(reductions=False)
assert abs(reduced.objective - plain.objective) < 1e-8      # the reduced form loses nothing
print(reduced.reductions["item_border"])

rows = {}
for n in (3, 4, 6, 8):
    r = two_bidders(n).solve()
    assert r.verification["ok"] and r.objective >= separate_myerson(n) - 1e-9
    rows[n] = {"joint optimum": r.objective, "two Myerson auctions": separate_myerson(n),
               "rounds": r.solver["item_rounds"]}
pd.DataFrame(rows).T.round(5)
"""),
    md("""The joint mechanism earns about 0.04 more than selling the items separately on every grid: with
competition, screening across items still pays. Identical bidders share one interim rule (averaging an optimum
over relabelling the bidders is an optimum), and the recovered ex post lottery reproduces it item by item:"""),
    code("""
r = two_bidders(4).solve()
interim = r.mechanism.interim

def item_win(df, name):   # P(item j goes to `name`) per type: sum over assignments "item1|item2"
    cols = [c for c in df.columns if "|" in c]
    return pd.DataFrame({f"item {j + 1}": df[[c for c in cols if c.split("|")[j] == name]].sum(axis=1)
                         for j in range(2)})

assert np.allclose(item_win(interim["b0"], "b0"), item_win(interim["b1"], "b1"), atol=1e-7)
assert np.allclose(interim["b0"][["payment", "utility"]], interim["b1"][["payment", "utility"]], atol=1e-7)
pd.concat([item_win(interim["b0"], "b0"), interim["b0"][["payment", "utility"]]], axis=1).round(3).head(8)
"""),
]

# --------------------------------------------------------------------------------------------- 09
NOTEBOOKS["09_duality"] = [
    md(r"""
# LP duality side by side

A small design, its primal and its dual as two labelled tables, complementary slackness checked row by row,
the shadow price of a constraint of your own, and virtual values read off the duals. One bidder, values
uniform on `grid(0, 1, 5)`, BIC and interim IR, maximize revenue — Myerson (1981) with one bidder is a posted
price.

mechopt writes every LP as

$$\max_z\ c^\top z + c_0 \quad\text{s.t.}\quad a_r^\top z \ge b_r \ (r \in \text{inequalities}),\quad
a_r^\top z = b_r \ (r \in \text{equalities}),\quad \ell \le z \le u,$$

and reports for each row the dual $\lambda_r = -\partial(\text{optimal value})/\partial b_r$: $\lambda_r \ge 0$ on
inequality rows, free on equalities. The dual problem is

$$\min_\lambda\ c_0 - b^\top\lambda \quad\text{s.t.}\quad c + A^\top\lambda \ \begin{cases} = 0 & \text{free columns}\\
\le 0 & \text{columns at a lower bound } 0 \end{cases},\quad \lambda_r \ge 0 \ \text{on inequalities}.$$
"""),
    code(SETUP),
    code("""
bidder = mo.Agent("bidder", mo.grid(0, 1, 5))
r = mo.Design(mo.single_item([bidder]), ic="bic", ir="interim", objective="revenue").solve(border=False)
lp = r.lp
assert r.status == "optimal" and abs(r.objective - 3 / 10) < 1e-12   # price 1/2 (or 3/4): 1/2 · 3/5 = 3/4 · 2/5
r
"""),
    md("## The primal: one row per variable"),
    code("""
z = r.output.z
names = []
for block, (start, stop) in lp.column_blocks().items():
    names += [f"{block}[{k}]" for k in range(stop - start)]
primal = pd.DataFrame({"variable": names, "value": z, "objective coef": lp.c,
                       "lower bound": lp.lb, "reduced cost": lp.c + lp.A.T @ r.output.row_dual})
primal.round(4)
"""),
    md("## The dual: one row per constraint, with its family and label"),
    code("""
slack = lp.A @ z - lp.rhs
dual = pd.concat([r.duals[f.name].assign(family=f.name, rhs=lp.rhs[f.start:f.stop], slack=slack[f.start:f.stop],
                                         sense=np.where(lp.equality[f.start:f.stop], "=", ">="))
                  for f in lp.families], ignore_index=True)
last = ["sense", "rhs", "slack", "dual"]
dual = dual[["family"] + [c for c in dual.columns if c not in ["family", *last]] + last]
dual.round(4)
"""),
    md(r"""
## Feasibility, strong duality, complementary slackness

The dual is feasible (signs and reduced costs), its objective $c_0 - b^\top\lambda$ equals the primal's, and
every product slack × dual and value × reduced cost vanishes.
"""),
    code("""
lam = r.output.row_dual
ineq = ~lp.equality
reduced = lp.c + lp.A.T @ lam
free = ~np.isfinite(lp.lb)
assert (lam[ineq] >= -1e-9).all()                                   # λ ≥ 0 on ≥ rows
assert np.allclose(reduced[free], 0, atol=1e-9)                     # free columns: c + Aᵀλ = 0
assert (reduced[~free] <= 1e-9).all()                               # x ≥ 0: c + Aᵀλ ≤ 0
dual_value = lp.offset - lp.rhs @ lam
assert abs(dual_value - r.objective) < 1e-9                         # strong duality
assert np.allclose(slack[ineq] * lam[ineq], 0, atol=1e-9)           # complementary slackness, rows
assert np.allclose((z - np.where(free, 0, lp.lb)) * reduced, 0, atol=1e-9)   # ... and columns
assert mo.duality.complementary_slackness(r).ok
print(f"primal {r.objective:.6f} = dual {dual_value:.6f}")
"""),
    md(r"""
## Virtual values from the duals

With one bidder the item goes to the types with nonnegative virtual value
$\varphi_t = v_t - (v_{t+1}-v_t)(1-F_t)/f_t = v_t - (1 - v_t) = 2v_t - 1$ on this grid: the types $\ge 1/2$.
Type $1/2$ has virtual value $0$ — selling to it or not earns the same, which is why prices $1/2$ and $3/4$ tie.
"""),
    code("""
vv = mo.duality.virtual_value_table(r, "bidder")
assert np.allclose(vv["lp_raw"], 2 * vv.index - 1, atol=1e-9)
assert np.allclose(vv["lp_ironed"], vv["formula_ironed"], atol=1e-7)
assert not r.is_unique() and abs(r.face(("welfare",)).loc["welfare", "width"] - 0.5 / 5) < 1e-7
vv.round(4)
"""),
    md(r"""
## The shadow price of your own constraint

Two bidders, values uniform on `grid(0, 1, 11)`, maximize revenue (BIC, interim IR) — plus a constraint of
our own through the cvxpy backend: the item must be sold with probability at least $q = 0.8$. The optimal
auction sells with probability $96/121 \approx 0.793$ (it serves types $\ge 1/2$), so the constraint binds. Its
shadow price is $-\partial(\text{revenue})/\partial q$: to sell more, the seller must also serve bidders of type
$0.4$, whose virtual value is $\varphi(0.4) = 2 \cdot 0.4 - 1 = -0.2$; each unit of extra sale probability costs
$0.2$ of revenue. We read the shadow price from cvxpy's dual of our constraint and check it against this
closed form and against finite differences of the optimal value (piecewise linear in $q$).
"""),
    code("""
env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 11)), mo.Agent("b2", mo.grid(0, 1, 11))])
d = mo.Design(env, ic="bic", ir="interim", objective="revenue")
base = d.solve()
p_sale = 1 - float(base.mechanism.allocation["unsold"].to_numpy() @ env.joint_prior.reshape(-1))
assert abs(p_sale - 96 / 121) < 1e-9
handle = {}

def sells_at_least(q):
    def constraints(m):
        handle["con"] = m.expected(1 - m.x[:, 0]) >= q
        return [handle["con"]]
    return constraints

q = 0.8
r_q = d.solve(backend="cvxpy", constraints=sells_at_least(q))
shadow = float(handle["con"].dual_value)               # cvxpy's multiplier of our row (≥ 0 under Maximize)
delta = 1e-3
up = d.solve(backend="cvxpy", constraints=sells_at_least(q + delta)).objective
down = d.solve(backend="cvxpy", constraints=sells_at_least(q - delta)).objective
fd_up, fd_down = -(up - r_q.objective) / delta, -(r_q.objective - down) / delta
assert r_q.status == "optimal" and r_q.verification["ok"]
assert abs(shadow - 0.2) < 1e-7                          # = −φ(0.4), the marginal type's virtual value
assert abs(fd_up - 0.2) < 1e-6 and abs(fd_down - 0.2) < 1e-6
pd.Series({"P(sale), unconstrained optimum": p_sale, "required q": q, "revenue at q": r_q.objective,
           "dual of the constraint": shadow, "finite difference (up)": fd_up, "finite difference (down)": fd_down})
"""),
    md(r"""
mechopt returns the same number with the rest of the duals: `result.duals["user"]` holds the duals of user
constraints with the sign convention of every family, $\lambda = -\partial(\text{value})/\partial(\text{rhs}) \ge 0$.
"""),
    code("""
user = r_q.duals["user"]
assert abs(user["dual"].iloc[0] - shadow) < 1e-7
user
"""),
    md(r"""
Across $q$, the optimal revenue is flat while serving type-$0.5$ bidders is enough (virtual value 0), then
falls with slope $0.2$, then $0.4$ (type $0.3$ must be served too): the shadow price is minus the virtual value
of the marginal type.
"""),
    code("""
qs = np.round(np.linspace(0.72, 0.95, 24), 4)
vals = np.array([d.solve(backend="cvxpy", constraints=sells_at_least(x)).objective for x in qs])
slopes = -np.diff(vals) / np.diff(qs)
assert set(np.round(slopes[np.abs(slopes - np.round(slopes, 1)) < 1e-6], 1)) <= {0.0, 0.2, 0.4, 0.6}
fig, ax = plt.subplots(figsize=(6, 3.8), layout="constrained")
ax.plot(qs, vals, marker="o", ms=3, color="#3b528b", label="optimal revenue")
ax.plot([q - 0.04, q + 0.04], [r_q.objective + 0.04 * shadow, r_q.objective - 0.04 * shadow], color="#e66101",
        lw=2, label="slope −0.2 = φ(0.4) at q = 0.8")
ax.set_xlabel("required probability of sale q"); ax.set_ylabel("revenue"); ax.legend(fontsize="small");
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
assert abs(base.objective - same.objective) < 1e-7
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
assert r.status == "optimal" and r.verification["ok"]
assert r.metrics["revenue"] >= 0.02 - 1e-7 and (r.mechanism.allocation["trade"] <= 0.9 + 1e-7).all()
assert r.objective <= base.objective + 1e-9          # extra constraints cannot raise welfare
print(r.status, round(r.objective, 6), " revenue", round(r.metrics["revenue"], 4),
      " verified", r.verification["ok"])
"""),
    md("## A weighted objective: welfare plus half the revenue"),
    code("""
r2 = d.solve(backend="cvxpy", objective=lambda m: m.welfare + 0.5 * m.revenue)
assert abs(r2.objective - (r2.metrics["welfare"] + 0.5 * r2.metrics["revenue"])) < 1e-7
pd.DataFrame({name: {k: res.metrics[k] for k in ("welfare", "revenue", "utility")}
              for name, res in [("welfare", base), ("with cut and cap", r), ("welfare + revenue/2", r2)]}).T.round(4)
"""),
    code("""
fig, axes = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
for ax, (name, res) in zip(axes, [("second best", base), ("cut and cap", r), ("welfare + revenue/2", r2)]):
    mo.plot.allocation_heatmap(res, ax=ax, title=name, colorbar=ax is axes[-1])
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
