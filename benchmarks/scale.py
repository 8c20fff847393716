"""Scale benchmark (issue 11): one command, one line per target row.

    python benchmarks/scale.py            # every row, each in its own process (peak memory per row)
    python benchmarks/scale.py --quick    # the small rows only
    python benchmarks/scale.py --timeout 120
    python benchmarks/scale.py --only unit1x61,add1x81,items3x21

Each row prints: problem, LP rows / cols / nonzeros, seconds (``Design.solve``, the
environment already built), peak memory of the row's process, objective, reference value
(Myerson's discrete closed form — the expected maximum of the ironed discrete virtual
values, positive part, computed here in exact Fractions — where one exists; for one buyer
of several items the best menu priced by number of items, :func:`menu_reference`) and
whether the independent verifier accepted the answer.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from fractions import Fraction

ROWS = [  # (key, label, quick)
    *[(f"sym{n}x1001", f"{n} symmetric bidders, 1,001 types, BIC revenue", n <= 3) for n in range(2, 11)],
    ("sym4x51", "4 symmetric bidders, 51 types, BIC revenue", True),
    ("sym3x101", "3 symmetric bidders, 101 types, BIC revenue", True),
    ("sym2x201", "2 symmetric bidders, 201 types, BIC revenue", True),
    ("asym3x101", "3 asymmetric bidders U[0,1], U[0,1.5], U[0,2], 101 types, BIC revenue", False),
    ("dsic3x31", "3 symmetric bidders, 31 types, DSIC + ex post IR revenue", False),
    ("dsic2x201", "2 symmetric bidders, 201 types, DSIC + ex post IR revenue", False),
    ("items3x21", "1 buyer, 3 items additive, 21 points per item (9,261 types), DSIC revenue", False),
    ("add1x81", "1 buyer, 2 items additive, 81 points per item (6,561 types), DSIC revenue", False),
    ("unit1x61", "1 buyer, 2 items unit demand, 61 points per item, DSIC revenue", False),
    ("items2x2x11", "2 symmetric bidders x 2 items additive, 11 points per item, BIC revenue", True),
    ("items2x2x21", "2 symmetric bidders x 2 items additive, 21 points per item, BIC revenue", False),
    ("itemsA2x2x11", "2 bidders x 2 items additive, U{0..1} and U{0..2} item values, 11 points, BIC", False),
    ("b3items2x11", "3 symmetric bidders x 2 items additive, 11 points (1.77 M profiles), BIC revenue", True),
    ("pp8x11eff", "public project, 8 citizens x 11 types, efficient, BIC + interim IR + ex ante budget", False),
    ("pp8x11sb", "public project, 8 citizens x 11 types, BIC + interim IR + ex ante budget, welfare", False),
]


def ironed_virtual_values(types, prior):
    th = [Fraction(t) for t in types]
    f = [Fraction(p) for p in prior]
    T = len(th)
    tail = [Fraction(0)] * T
    for t in range(T - 2, -1, -1):
        tail[t] = tail[t + 1] + f[t + 1]
    phi = [th[t] - ((th[t + 1] - th[t]) * tail[t] / f[t] if t < T - 1 else 0) for t in range(T)]
    pts = [(Fraction(0), Fraction(0))]
    for t in range(T):
        pts.append((pts[-1][0] + f[t], pts[-1][1] + f[t] * phi[t]))
    hull = [0]
    for k in range(1, len(pts)):
        while len(hull) >= 2:
            (x0, y0), (x1, y1), (x2, y2) = pts[hull[-2]], pts[hull[-1]], pts[k]
            if (y1 - y0) * (x2 - x0) >= (y2 - y0) * (x1 - x0):
                hull.pop()
            else:
                break
        hull.append(k)
    out = [Fraction(0)] * T
    for a, b in zip(hull[:-1], hull[1:]):
        s = (pts[b][1] - pts[a][1]) / (pts[b][0] - pts[a][0])
        for t in range(a, b):
            out[t] = s
    return out


def symmetric_reference(T: int, n: int) -> float:
    grid = [Fraction(k, T - 1) for k in range(T)]
    f = [Fraction(1, T)] * T
    phi = ironed_virtual_values(grid, f)
    F, total = Fraction(0), Fraction(0)
    for t in range(T):
        lo, F = F, F + f[t]
        total += max(phi[t], Fraction(0)) * (F ** n - lo ** n)
    return float(total)


def asymmetric_reference(types: list, T: int) -> float:
    """E[max_i φ̄_i(θ_i)^+], uniform priors: P(max ≤ v) = Π_i P(φ̄_i ≤ v)."""
    f = [Fraction(1, T)] * T
    phis = [[max(v, Fraction(0)) for v in ironed_virtual_values(t, f)] for t in types]
    total, prev = Fraction(0), Fraction(0)
    for v in sorted({v for phi in phis for v in phi}):
        c = Fraction(1)
        for phi in phis:
            c *= Fraction(sum(1 for x in phi if x <= v), T)
        total += v * (c - prev)
        prev = c
    return float(total)


def menu_reference(T: int, items: int, valuation: str) -> float:
    """Best deterministic menu that prices a bundle by its number of items (ties to the seller).

    One buyer, values i.i.d. on grid(0, 1, T).  Buying j items at price q_j, the buyer takes the
    j items he values most (additive: the sum of his top j values; unit demand: his top value,
    j = 1 only); every such menu is DSIC and ex post IR, so its revenue is a lower bound on the
    LP optimum, and equal to it where the continuum optimum is such a menu: unit demand on
    [0,1]², one posted price (Pavlov 2011); two additive items, an item price and a bundle price
    (Manelli & Vincent 2006); up to six additive items, prices by number of items
    ("straight-jacket auctions", Giannakopoulos & Koutsoupias 2018).  Exact integer arithmetic
    in grid steps; the last price is searched for all values at once.
    """
    import itertools

    import numpy as np

    M = T - 1
    vals = np.array(list(itertools.product(range(T), repeat=items)), dtype=np.int64)
    top = np.cumsum(-np.sort(-vals, axis=1), axis=1)  # top[:, j-1]: best value of j items
    top = np.hstack([np.zeros((len(vals), 1), dtype=np.int64), top])
    k = 1 if valuation == "unit_demand" else items
    best = 0
    for prices in itertools.product(*[range(j * M + 1) for j in range(1, k)]):
        pay = np.array((0, *prices), dtype=np.int64)
        u = top[:, :k] - pay
        m0 = u.max(axis=1)
        pay0 = np.where(u == m0[:, None], pay, -1).max(axis=1)
        th = top[:, k] - m0  # the k-item bundle is bought at price c iff c < th (or c = th ≥ pay0)
        n = k * M + 1
        above = len(th) - np.cumsum(np.bincount(th, minlength=n))  # #{th > c}
        below = np.concatenate([[0], np.cumsum(np.bincount(th, weights=pay0, minlength=n))[:-1]])
        tied = np.bincount(th, weights=np.maximum(th, pay0), minlength=n)
        c = np.arange(n)
        best = max(best, int((c * above + below + tied).max()))
    return float(Fraction(best, M * T ** items))


def run_row(key: str) -> dict:
    import mechopt as mo

    ic, ir = "bic", "interim"
    objective = "revenue"
    if key.startswith("pp8x11"):  # Mailath & Postlewaite (1990): no closed form on the grid
        env = mo.public_project([mo.Agent(f"c{i}", mo.grid(0, 1, 11)) for i in range(8)], cost=4)
        d = mo.Design(env, ic="bic", ir="interim", budget="ex_ante",
                      **(dict(allocation="efficient") if key.endswith("eff") else dict(objective="welfare")))
        return _timed(d, None)
    if key.startswith(("items2x2", "itemsA2x2", "b3items2")):  # per-item reduced forms (compile/item_border.py)
        T = int(key.rsplit("x", 1)[1])
        his = (1, 2) if key.startswith("itemsA") else (1, 1, 1) if key.startswith("b3items2") else (1, 1)
        env = mo.multi_item([mo.Agent(f"b{i}", mo.grid(0, hi, T)) for i, hi in enumerate(his)], items=2)
        # reference: the ex post LP (S·K lotteries; IC pairs generated), no reduction of the
        # allocation: solve(reductions=False, ic_generation=True), 22.5 s at T = 11 on this
        # machine (no closed form: bundling and the bidders' competition interact)
        ref = {"items2x2x11": 0.9572251440020031}.get(key)
        return _timed(mo.Design(env, ic="bic", ir="interim", objective="revenue"), ref)
    if key in ("items3x21", "add1x81", "unit1x61"):  # reference: the best menu priced by number of items
        T, items, valuation = {"items3x21": (21, 3, "additive"), "add1x81": (81, 2, "additive"),
                               "unit1x61": (61, 2, "unit_demand")}[key]
        env = mo.multi_item([mo.Agent("b", mo.grid(0, 1, T))], items=items, valuation=valuation)
        ref, ic, ir = menu_reference(T, items, valuation), "dsic", "ex_post"
    elif key.startswith(("sym", "dsic")):
        n, T = (int(v) for v in key.removeprefix("sym").removeprefix("dsic").split("x"))
        env = mo.single_item([mo.Agent(f"b{i}", mo.grid(0, 1, T)) for i in range(n)])
        ref = symmetric_reference(T, n)  # = the DSIC optimum too (Myerson 1981)
        if key.startswith("dsic"):
            ic, ir = "dsic", "ex_post"
    else:
        T, his = 101, (1, Fraction(3, 2), 2)
        env = mo.single_item([mo.Agent(f"b{i}", mo.grid(0, hi, T)) for i, hi in enumerate(his)])
        ref = asymmetric_reference([[Fraction(hi) * k / (T - 1) for k in range(T)] for hi in his], T)
    return _timed(mo.Design(env, ic=ic, ir=ir, objective=objective), ref)


def _timed(d, ref) -> dict:
    start = time.perf_counter()
    r = d.solve()
    seconds = time.perf_counter() - start
    s = r.lp.sizes
    return {"rows": s["rows"], "cols": s["cols"], "nnz": s["nnz"], "seconds": seconds,
            "objective": r.objective, "reference": ref,
            "verified": bool(r.verification.get("ok")) if r.mechanism is not None else None,  # infeasible: no mechanism
            "status": str(r.status), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--row", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="small rows only")
    ap.add_argument("--only", help="comma-separated row keys, e.g. unit1x61,add1x81,items3x21")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per row")
    args = ap.parse_args()
    if args.row:
        print(json.dumps(run_row(args.row)))
        return
    head = (f"{'problem':<72} {'rows':>7} {'cols':>7} {'nnz':>8} {'s':>7} {'MB':>6} "
            f"{'objective':>11} {'reference':>11}  ok")
    print(head)
    for key, label, quick in ROWS:
        if (args.quick and not quick) or (args.only and key not in args.only.split(",")):
            continue
        try:
            out = subprocess.run([sys.executable, __file__, "--row", key], capture_output=True, text=True,
                                 timeout=args.timeout)
            res = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else None
        except subprocess.TimeoutExpired:
            print(f"{label:<72} {'':>7} {'':>7} {'':>8} {'>' + str(int(args.timeout)):>7}  timeout", flush=True)
            continue
        if res is None:
            print(f"{label:<72} failed: {out.stderr.strip().splitlines()[-1:]}", flush=True)
            continue
        ref = f"{res['reference']:.8f}" if res["reference"] is not None else "-"
        obj = f"{res['objective']:.8f}" if res["objective"] is not None else res["status"]
        print(f"{label:<72} {res['rows']:>7} {res['cols']:>7} {res['nnz']:>8} {res['seconds']:>7.3f} "
              f"{res['peak_mb']:>6.0f} {obj:>11} {ref:>11}  {'-' if res['verified'] is None else res['verified']}",
              flush=True)


if __name__ == "__main__":
    main()
