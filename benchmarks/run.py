#!/usr/bin/env python
"""mechopt benchmark (issue 2): build and solve times against a naive cvxpy model,
a peer package and the smallest correct LP.

    python benchmarks/run.py [--quick] [--max-T N] [--no-naive] [--no-peer] [--time-limit S]

Prints one plain-text table (problem, formulation, T, rows, cols, nnz, build s,
solve s, total s, objective, note), then the issue's targets with PASS / FAIL.
See benchmarks/README.md for what every column and formulation means.

The naive cvxpy model and the peer package (``mechaudit``, optional: ``pip install
mechaudit`` or ``pip install -e .[bench]``) run in subprocesses with a wall-clock
cap, so a slow case is reported as such instead of stalling the run.  mechaudit is
never imported by mechopt; when it is not installed the peer rows are skipped
with a note.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmark this checkout, installed or not
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

TWO_BIC = "2-bidder BIC"
TWO_DSIC = "2-bidder DSIC"
TRADE = "bilateral trade"
MULTI = "2-item DSIC"

F_MECHOPT = "mechopt"
F_PRESOLVED = "mechopt LP presolved"
F_SMALLEST = "smallest LP (Border)"
F_NAIVE = "naive cvxpy"
F_PEER = "mechaudit (peer)"

OBJ_TOL = 1e-7

PROBLEMS = {
    TWO_BIC: "single_item, 2 bidders, BIC + interim IR, max revenue",
    TWO_DSIC: "single_item, 2 bidders, DSIC + ex post IR, max revenue",
    TRADE: "bilateral_trade (second best): BIC, interim IR, ex ante budget, max welfare",
    MULTI: "multi_item, 1 bidder, 2 items additive (T² type vectors): DSIC + ex post IR, max revenue",
}


# --------------------------------------------------------------------------- problems
def _mo():
    import mechopt as mo

    return mo


def design(problem: str, T: int):
    mo = _mo()
    if problem in (TWO_BIC, TWO_DSIC):
        env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, T)), mo.Agent("b2", mo.grid(0, 1, T))])
        if problem == TWO_BIC:
            return mo.Design(env, ic="bic", ir="interim", objective="revenue")
        return mo.Design(env, ic="dsic", ir="ex_post", objective="revenue")
    if problem == TRADE:
        env = mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, T)), mo.Agent("seller", mo.grid(0, 1, T)))
        return mo.Design(env, ic="bic", ir="interim", budget="ex_ante", objective="welfare")
    if problem == MULTI:
        env = mo.multi_item([mo.Agent("b", mo.grid(0, 1, T))], items=2, valuation="additive")
        return mo.Design(env, ic="dsic", ir="ex_post", objective="revenue")
    raise ValueError(problem)


def row(problem, formulation, T, rows=None, cols=None, nnz=None, build=None, solve=None, total=None,
        objective=None, note=""):
    return {"problem": problem, "formulation": formulation, "T": T, "rows": rows, "cols": cols, "nnz": nnz,
            "build s": build, "solve s": solve, "total s": total, "objective": objective, "note": note}


# --------------------------------------------------------------------------- mechopt
def run_mechopt(problem: str, T: int, time_limit: float) -> dict:
    """End to end: environment, Design, Design.solve() (compile, HiGHS, recover, verify)."""
    start = time.perf_counter()
    d = design(problem, T)
    r = d.solve(time_limit=time_limit)
    total = time.perf_counter() - start
    s = r.lp.sizes
    note = ""
    if r.status != "optimal":
        note = f"{r.status} (HiGHS time limit {time_limit:g} s)" if r.status == "time_limit" else r.status
    elif not r.verification.get("ok", False):
        note = "verification FAILED"
    ic = r.lp.reductions.get("ic", {})
    kinds = sorted(set(ic.values())) if isinstance(ic, dict) else []
    if kinds:
        note = (note + "; " if note else "") + "IC " + "/".join(kinds)
    if r.lp.reductions.get("allocation") == "interim (Border)":
        note += f"; Border (recover {r.solver['recover_seconds']:.3f} s)"
    if r.solver.get("ic_rounds"):
        rounds = r.solver["ic_rounds"]
        note += f", {rounds} LP round{'' if rounds == 1 else 's'}"
    return row(problem, F_MECHOPT, T, s["rows"], s["cols"], s["nnz"], r.solver["build_seconds"],
               r.solver["seconds"], total, r.objective if r.status == "optimal" else None, note)


def run_presolved(T: int) -> dict:
    """mechopt's two-bidder BIC LP after HiGHS presolve, solved with presolve off."""
    import highspy

    from mechopt.backends.highs import build_highs

    start = time.perf_counter()
    lp = design(TWO_BIC, T).compile()
    h = build_highs(lp)
    h.presolve()
    plp = h.getPresolvedLp()
    h2 = highspy.Highs()
    h2.setOptionValue("output_flag", False)
    h2.passModel(plp)
    h2.setOptionValue("presolve", "off")
    build = time.perf_counter() - start
    t0 = time.perf_counter()
    h2.run()
    solve = time.perf_counter() - t0
    total = time.perf_counter() - start
    ok = h2.getModelStatus().name == "kOptimal"
    obj = -h2.getInfo().objective_function_value if ok else None
    return row(TWO_BIC, F_PRESOLVED, T, plp.num_row_, plp.num_col_, len(plp.a_matrix_.value_), build, solve,
               total, obj, "build = compile + presolve")


# --------------------------------------------------------------------------- smallest LP
def smallest_lp(T: int):
    """Two symmetric uniform bidders, BIC + interim IR, revenue, on interim variables only.

    Columns per bidder i: Q_i[t] (interim win probability, ≥ 0), P_i[t] (interim
    payment) and C_i[a] = Σ_{t ≥ a} f(t) Q_i(t).  Rows: the C definitions, adjacent IC
    both ways (values are linear in the type, so adjacent IC implies all IC and makes
    Q_i nondecreasing), IR at the lowest type only (with IC and Q ≥ 0 it implies IR at
    every type), and Border's feasibility condition on upper sets
    {θ_1 ≥ a} × {θ_2 ≥ b}: C_1[a] + C_2[b] ≤ 1 − F(a)F(b), F(a) = P(θ < a), which
    is necessary and, for nondecreasing Q, sufficient for Q to be the reduced form
    of some ex post allocation.  Returns ``(highspy.HighsLp, rows, cols, nnz)``.
    """
    import highspy
    import scipy.sparse as sp

    theta = np.linspace(0.0, 1.0, T)
    f = np.full(T, 1.0 / T)
    F = np.concatenate([[0.0], np.cumsum(f)])
    n = 2
    t = np.arange(T)
    Q = lambda i, k: 3 * T * i + k  # noqa: E731
    P = lambda i, k: 3 * T * i + T + k  # noqa: E731
    C = lambda i, k: 3 * T * i + 2 * T + k  # noqa: E731
    N = 3 * T * n
    R, J, V, lo, hi = [], [], [], [], []
    m = 0

    def block(nrows, cols_vals, low, high):
        nonlocal m
        idx = m + np.arange(nrows)
        for cols, vals in cols_vals:
            R.append(idx)
            J.append(np.asarray(cols))
            V.append(np.broadcast_to(np.asarray(vals, dtype=float), (nrows,)))
        lo.append(np.broadcast_to(low, (nrows,)))
        hi.append(np.broadcast_to(high, (nrows,)))
        m += nrows

    for i in range(n):
        # C[a] − f(a) Q[a] − C[a+1] = 0   (C[T] = 0)
        block(T, [(C(i, t), 1.0), (Q(i, t), -f)], 0.0, 0.0)
        R.append(m - T + t[:-1])
        J.append(C(i, t[:-1] + 1))
        V.append(np.full(T - 1, -1.0))
        lo_, up = t[:-1], t[:-1] + 1
        # type k reports k+1 and type k+1 reports k
        block(T - 1, [(Q(i, lo_), theta[lo_]), (P(i, lo_), -1.0), (Q(i, up), -theta[lo_]), (P(i, up), 1.0)],
              0.0, np.inf)
        block(T - 1, [(Q(i, up), theta[up]), (P(i, up), -1.0), (Q(i, lo_), -theta[up]), (P(i, lo_), 1.0)],
              0.0, np.inf)
        block(1, [([Q(i, 0)], theta[0]), ([P(i, 0)], -1.0)], 0.0, np.inf)  # IR at the lowest type
    a, b = np.meshgrid(np.arange(T + 1), np.arange(T + 1), indexing="ij")
    a, b = a.ravel(), b.ravel()
    keep = ~((a == T) & (b == T))
    a, b = a[keep], b[keep]
    start = m
    block(a.size, [], -np.inf, 1.0 - F[a] * F[b])
    ia, ib = np.flatnonzero(a < T), np.flatnonzero(b < T)
    R += [start + ia, start + ib]
    J += [C(0, a[ia]), C(1, b[ib])]
    V += [np.ones(ia.size), np.ones(ib.size)]
    A = sp.csc_matrix((np.concatenate(V), (np.concatenate(R), np.concatenate(J))), shape=(m, N))
    cost = np.zeros(N)  # HiGHS minimizes: −revenue
    for i in range(n):
        cost[P(i, t)] = -f
    lb = np.full(N, -np.inf)
    for i in range(n):
        lb[Q(i, t)] = 0.0
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = N, m
    model.col_cost_ = cost
    model.col_lower_ = lb
    model.col_upper_ = np.full(N, np.inf)
    model.row_lower_ = np.concatenate(lo).astype(float)
    model.row_upper_ = np.concatenate(hi).astype(float)
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = A.indptr
    model.a_matrix_.index_ = A.indices
    model.a_matrix_.value_ = A.data
    model.a_matrix_.num_col_, model.a_matrix_.num_row_ = N, m
    return model, m, N, A.nnz


def run_smallest(T: int) -> dict:
    import highspy

    start = time.perf_counter()
    model, m, N, nnz = smallest_lp(T)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(model)
    build = time.perf_counter() - start
    t0 = time.perf_counter()
    h.run()
    solve = time.perf_counter() - t0
    total = time.perf_counter() - start
    ok = h.getModelStatus().name == "kOptimal"
    return row(TWO_BIC, F_SMALLEST, T, m, N, nnz, build, solve, total,
               -h.getInfo().objective_function_value if ok else None, "" if ok else h.getModelStatus().name)


# --------------------------------------------------------------------------- subprocess workers
def worker_naive(T: int) -> dict:
    """Two-bidder BIC revenue written the way a cvxpy user would: x[s,k], p[s,i], one
    constraint per (agent, true type, report) with the expectation over the opponent's
    types written out, every report (no adjacent-IC reduction), solved by cvxpy's HIGHS."""
    import cvxpy as cp

    start = time.perf_counter()
    theta = np.linspace(0.0, 1.0, T)
    f = np.full(T, 1.0 / T)
    n, K, S = 2, 3, T * T
    prof = np.arange(S).reshape(T, T)  # prof[t1, t2], outcome 0 = unsold, k = i+1: bidder i wins
    x = cp.Variable((S, K), nonneg=True)
    p = cp.Variable((S, n))
    cons = [cp.sum(x, axis=1) == 1]
    for i in range(n):
        for t in range(T):
            rt = prof[t, :] if i == 0 else prof[:, t]
            truthful = cp.sum(cp.multiply(f, theta[t] * x[rt, i + 1] - p[rt, i]))
            cons.append(truthful >= 0)  # interim IR
            for s in range(T):
                if s != t:
                    rs = prof[s, :] if i == 0 else prof[:, s]
                    cons.append(truthful >= cp.sum(cp.multiply(f, theta[t] * x[rs, i + 1] - p[rs, i])))
    prob = cp.Problem(cp.Maximize(np.outer(f, f).reshape(-1) @ cp.sum(p, axis=1)), cons)
    modelled = time.perf_counter() - start
    prob.solve(solver=cp.HIGHS)
    total = time.perf_counter() - start
    compiled, solver_s = prob.compilation_time, prob.solver_stats.solve_time
    data = prob.get_problem_data(cp.HIGHS)[0]  # cached, not timed (it resets prob.compilation_time)
    A = data["A"]
    return {"rows": A.shape[0], "cols": A.shape[1], "nnz": int(A.nnz),
            "build": modelled + compiled, "solve": solver_s, "total": total,
            "objective": float(prob.value) if prob.status == "optimal" else None, "status": prob.status,
            "constraints": len(cons)}


def worker_peer(T: int) -> dict:
    """The same two-bidder BIC problem in mechaudit (environment → design → solve)."""
    import mechaudit as ma

    start = time.perf_counter()
    types = list(range(T))
    value = {k: k / (T - 1) for k in types}
    prior = ma.JointPrior.from_independent({b: {k: 1.0 / T for k in types} for b in ("b1", "b2")})
    env = ma.FiniteEnvironment(
        agents={"b1": types, "b2": types},
        outcomes=ma.single_item_outcomes(["b1", "b2"]),
        prior=prior,
        values=ma.PrivateValues(lambda agent, own, outcome: value[own] if outcome["winner"] == agent else 0.0),
    )
    problem = env.design(objective=ma.ExpectedRevenue(), requirements=(ma.BIC(), ma.InterimIR()))
    model = problem.compile().model
    built = time.perf_counter() - start
    sol = problem.solve()  # HiGHS + mechaudit's residual check and economic audit
    total = time.perf_counter() - start
    return {"rows": model.n_rows, "cols": model.n_columns, "nnz": int(model.nnz), "build": built,
            "solve": sol.backend_result.run_time_seconds, "total": total, "objective": sol.objective_value,
            "status": "optimal", "version": metadata.version("mechaudit")}


WORKERS = {"naive": worker_naive, "peer": worker_peer}


def run_worker(kind: str, T: int, cap: float) -> dict | str:
    """Run a worker in a fresh interpreter; the dict it printed, or a note on failure."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_worker", kind, str(T)]
    start = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return f"stopped after {cap:g} s (time cap)"
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["?"])[-1]
        return f"failed: {last[:80]}"
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["wall"] = time.perf_counter() - start
    return res


# --------------------------------------------------------------------------- plan and report
def plan(args) -> list[tuple[str, str, int]]:
    cap_T = args.max_T if args.max_T is not None else 10**9
    if args.quick:
        bic, dsic, trade, multi = [21, 51], [21, 51], [21, 51], [11]
        naive_T, peer_T, small_T = [21], [21, 51], [21, 51]
    else:
        bic, dsic, trade, multi = [21, 51, 101, 201], [21, 51, 101, 201], [21, 51], [11, 21]
        naive_T, peer_T, small_T = [21, 51], [21, 51], [21, 51, 101, 201]
    jobs = []
    for T in bic:
        jobs.append((TWO_BIC, F_MECHOPT, T))
        if T in small_T:
            jobs += [(TWO_BIC, F_SMALLEST, T), (TWO_BIC, F_PRESOLVED, T)]
        if T in naive_T and not args.no_naive:
            jobs.append((TWO_BIC, F_NAIVE, T))
        if T in peer_T and not args.no_peer:
            jobs.append((TWO_BIC, F_PEER, T))
    jobs += [(TWO_DSIC, F_MECHOPT, T) for T in dsic]
    jobs += [(TRADE, F_MECHOPT, T) for T in trade]
    jobs += [(MULTI, F_MECHOPT, T) for T in multi]
    return [j for j in jobs if j[2] <= cap_T]


def warm_up() -> None:
    """Solve every case once at T = 5, untimed, so lazy imports and first-call costs
    (scipy.sparse, highspy, pandas) are not charged to the first timed case."""
    for problem in (TWO_BIC, TWO_DSIC, TRADE, MULTI):
        run_mechopt(problem, 5, 10.0)
    run_smallest(5)
    run_presolved(5)


def execute(job, args, notes: list[str]) -> dict | None:
    problem, form, T = job
    if form == F_MECHOPT:
        return run_mechopt(problem, T, args.time_limit)
    if form == F_PRESOLVED:
        return run_presolved(T)
    if form == F_SMALLEST:
        return run_smallest(T)
    kind = "naive" if form == F_NAIVE else "peer"
    if kind == "peer" and importlib.util.find_spec("mechaudit") is None:
        msg = ("mechaudit is not installed: peer rows skipped "
               "(pip install mechaudit, or pip install -e '.[bench]', to include them)")
        if msg not in notes:
            notes.append(msg)
        return None
    cap = args.naive_cap if kind == "naive" else args.peer_cap
    res = run_worker(kind, T, cap)
    if isinstance(res, str):
        return row(problem, form, T, note=res)
    note = res["status"] if res["status"] != "optimal" else ""
    if kind == "naive":
        note = (note + "; " if note else "") + f"{res['constraints']} cvxpy constraints"
    else:
        note = (note + "; " if note else "") + f"mechaudit {res['version']}"
    return row(problem, form, T, res["rows"], res["cols"], res["nnz"], res["build"], res["solve"], res["total"],
               res["objective"], note)


def check_objectives(rows: list[dict]) -> None:
    ref = {(r["problem"], r["T"]): r["objective"] for r in rows if r["formulation"] == F_MECHOPT}
    for r in rows:
        if r["formulation"] == F_MECHOPT or r["objective"] is None:
            continue
        m = ref.get((r["problem"], r["T"]))
        if m is None:
            continue
        diff = abs(r["objective"] - m)
        tag = f"= mechopt (|Δ| {diff:.0e})" if diff <= OBJ_TOL else f"≠ mechopt by {diff:.2e} !"
        r["note"] = tag + ("; " + r["note"] if r["note"] else "")


def fmt_table(rows: list[dict]) -> str:
    import pandas as pd

    df = pd.DataFrame(rows)

    def sec(v):
        return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"

    def num(v):
        return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{int(v):,}"

    for c in ("rows", "cols", "nnz"):
        df[c] = df[c].map(num)
    for c in ("build s", "solve s", "total s"):
        df[c] = df[c].map(sec)
    df["objective"] = df["objective"].map(lambda v: "—" if v is None or np.isnan(v) else f"{v:.10f}")
    for c in ("problem", "formulation", "note"):  # text columns read better left-aligned
        width = max(len(c), int(df[c].str.len().max()))
        df[c] = df[c].str.ljust(width)
    return df.to_string(index=False, justify="left")


def targets(rows: list[dict]) -> list[str]:
    get = {(r["problem"], r["formulation"], r["T"]): r for r in rows}
    out = []

    def line(ok, text):
        out.append(f"  [{'PASS' if ok else 'FAIL'}] {text}")

    for T, limit in ((101, 2.0), (201, 20.0)):
        r = get.get((TWO_BIC, F_MECHOPT, T))
        if r and r["total s"] is not None:
            line(r["objective"] is not None and r["total s"] <= limit,
                 f"2 bidders BIC T={T}: total {r['total s']:.3f} s (target ≤ {limit:g} s)")
    shares = [(r["T"], r["build s"] / r["total s"]) for r in rows
              if r["problem"] == TWO_BIC and r["formulation"] == F_MECHOPT and r["total s"]]
    if shares:
        text = ", ".join(f"T={T}: {100 * s:.1f}%" for T, s in shares)
        line(all(s <= 0.10 for _, s in shares), f"2 bidders BIC model build ≤ 10% of total: {text}")
    all_shares = [(r["problem"], r["T"], r["build s"] / r["total s"]) for r in rows
                  if r["formulation"] == F_MECHOPT and r["total s"] and r["problem"] != TWO_BIC]
    if all_shares:
        text = ", ".join(f"{p} T={T}: {100 * s:.1f}%" for p, T, s in all_shares)
        out.append(f"  [info] build share of total, other problems: {text}")
    for T in (21, 51):
        m, p = get.get((TWO_BIC, F_MECHOPT, T)), get.get((TWO_BIC, F_PEER, T))
        if m and p and p["total s"]:
            ratio = p["total s"] / m["total s"]
            solve_ratio = p["solve s"] / m["solve s"] if m["solve s"] else float("nan")
            text = (f"T={T}: mechopt {m['total s']:.3f} s vs mechaudit {p['total s']:.3f} s total → {ratio:.0f}× "
                    f"(HiGHS time alone {solve_ratio:.1f}×)")
            if T == 51:
                line(ratio >= 20, text + " (target ≥ 20× at T=51)")
            else:
                out.append("  [info] " + text)
        elif m and p and p["note"]:
            out.append(f"  [----] T={T} peer comparison not measured: {p['note']}")
    for r in rows:
        if r["formulation"] == F_SMALLEST:
            m = get.get((TWO_BIC, F_MECHOPT, r["T"]))
            if m and r["solve s"]:
                ratio = m["solve s"] / r["solve s"]
                line(ratio <= 2, f"T={r['T']}: mechopt HiGHS solve {m['solve s']:.3f} s vs smallest LP "
                                 f"{r['solve s']:.3f} s → {ratio:.1f}× (target ≤ 2×)")
    for r in rows:
        if r["formulation"] == F_NAIVE:
            m = get.get((TWO_BIC, F_MECHOPT, r["T"]))
            if r["total s"] is None:
                out.append(f"  [----] naive cvxpy T={r['T']}: {r['note']}")
            elif m:
                ok = r["objective"] is not None and abs(r["objective"] - m["objective"]) <= OBJ_TOL
                line(ok, f"naive cvxpy T={r['T']}: objective {'equals' if ok else 'DIFFERS FROM'} mechopt's; "
                         f"total {r['total s']:.2f} s vs {m['total s']:.3f} s → {r['total s'] / m['total s']:.0f}× "
                         f"slower (build {r['build s']:.2f} s vs {m['build s']:.4f} s)")
    return out


def versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for pkg in ("numpy", "scipy", "highspy", "cvxpy", "mechaudit"):
        try:
            parts.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{pkg} (not installed)")
    return ", ".join(parts) + f"; {os.cpu_count()} CPUs"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small grids only (T ≤ 51), under a minute")
    ap.add_argument("--max-T", dest="max_T", type=int, default=None, help="skip every case with T > N")
    ap.add_argument("--no-naive", action="store_true", help="skip the naive cvxpy formulation")
    ap.add_argument("--no-peer", action="store_true", help="skip the peer package (mechaudit)")
    ap.add_argument("--time-limit", type=float, default=60.0,
                    help="HiGHS time limit per mechopt case, seconds (default 60)")
    ap.add_argument("--naive-cap", type=float, default=120.0,
                    help="wall-clock cap per naive cvxpy case, seconds (default 120)")
    ap.add_argument("--peer-cap", type=float, default=120.0,
                    help="wall-clock cap per mechaudit case, seconds (default 120)")
    ap.add_argument("--_worker", nargs=2, metavar=("KIND", "T"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._worker:
        kind, T = args._worker
        print(json.dumps(WORKERS[kind](int(T))))
        return 0

    sys.stdout.reconfigure(line_buffering=True)
    start = time.perf_counter()
    _mo()  # import outside the timings
    print(f"mechopt benchmark — {versions()}", flush=True)
    warm_up()
    rows, notes = [], []
    for job in plan(args):
        print(f"  running {job[0]:<16} {job[1]:<22} T={job[2]}", file=sys.stderr, flush=True)
        r = execute(job, args, notes)
        if r is not None:
            rows.append(r)
    check_objectives(rows)
    print()
    for name, text in PROBLEMS.items():
        print(f"{name:<16} {text}")
    print("every agent: mo.grid(0, 1, T) types, equal weights\n")
    print(fmt_table(rows))
    print()
    print("build s: model construction (mechopt: compile to the sparse LP; cvxpy: expressions + cvxpy compilation;")
    print("mechaudit: environment + compile).  solve s: HiGHS alone.  total s: wall clock of everything, including")
    print("recovery and verification (mechopt) or mechaudit's audit.  Details: benchmarks/README.md")
    for n in notes:
        print("note:", n)
    print()
    print("Targets (issue 2):")
    for line in targets(rows):
        print(line)
    print(f"\nbenchmark wall time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
