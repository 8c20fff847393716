"""Benchmark: building and exactly verifying certificates.

Infeasibility (Myerson–Satterthwaite: bilateral trade, uniform grid(0, 1, T) for
both traders, efficient allocation, BIC, interim IR, ex ante budget) and, with
``--optimality``, optimality (the same traders, second-best welfare).

With ``--trials``, the hard cases of issue 10 (the 1e-9-gap bilateral trade that
HiGHS calls optimal, the degenerate correlated optimum, priors with a 1e-12
entry, Myerson 2 x 21 = 55/126), each solved with ``certify=True`` and with
``exact=True``: seconds (solve + certificate + exact check), status, whether the
certificate verified exactly, the exact objective and how it was obtained.

Usage::

    python benchmarks/certificates.py                 # T = 21 41 81 121 151
    python benchmarks/certificates.py --grids 21 41 --optimality
    python benchmarks/certificates.py --trials --grids
    python benchmarks/certificates.py --library --grids  # exact=True on the model library

Columns: grid T, LP rows and nonzeros, solve seconds (HiGHS), rows in the
certificate's support, nonzeros of the LP in those rows, seconds to build the
exact certificate (including compiling the exact LP), seconds to verify it in
exact rational arithmetic, and how it was built.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mechopt as mo  # noqa: E402
from mechopt import certificates  # noqa: E402


def design(T: int, kind: str) -> mo.Design:
    env = mo.bilateral_trade(mo.Agent("buyer", mo.grid(0, 1, T)), mo.Agent("seller", mo.grid(0, 1, T)))
    if kind == "infeasibility":
        return mo.Design(env, ic="bic", ir="interim", budget="ex_ante", allocation="efficient")
    return mo.Design(env, ic="bic", ir="interim", budget="ex_ante", objective="welfare")


def run(T: int, kind: str) -> dict:
    d = design(T, kind)
    t0 = time.perf_counter()
    r = d.solve()
    solve_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    c = certificates.farkas(r) if kind == "infeasibility" else certificates.optimality(r)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ok = c.verify(exact=True)
    verify_s = time.perf_counter() - t0
    size = c.size
    return {
        "T": T, "status": r.status, "rows": r.lp.shape[0], "lp_nnz": r.lp.A.nnz, "solve_s": solve_s,
        "support": size["support"], "nnz": size["nnz"], "build_s": build_s, "verify_s": verify_s,
        "verified": ok, "method": c.method, "objective": c.objective,
    }


def trial_designs() -> dict[str, mo.Design]:
    """Issue 10's trial cases (see the module docstring)."""
    from fractions import Fraction

    import numpy as np

    b = mo.Agent("buyer", [Fraction("0.999999999"), Fraction(3, 2), 2])
    s = mo.Agent("seller", [0, Fraction(1, 2), 1])
    trade = mo.Design(mo.bilateral_trade(b, s), ic="dsic", ir="ex_post", budget="exact",
                      allocation="efficient", objective="welfare")
    t0, t1, p0, p1 = [2, 3, 6, 9], [2, 6, 7], [0.2, 0.3, 0.2, 0.3], list(np.array([3, 4, 4]) / 11)
    corr = mo.Environment([mo.Agent("a0", t0, prior=p0), mo.Agent("a1", t1, prior=p1)], ["k0", "k1"],
                          [[[0, t] for t in t0], [[0, t] for t in t1]], cost=[1, 1], prior=np.outer(p0, p1))
    g4 = mo.grid(0, 1, 4)
    tiny = [Fraction(1, 10**12), Fraction(1, 4), Fraction(1, 4), Fraction(1, 2) - Fraction(1, 10**12)]
    tiny_env = mo.single_item([mo.Agent("b1", g4, prior=tiny), mo.Agent("b2", g4)])
    g21 = mo.grid(0, 1, 21)
    return {
        "trade, 1e-9 gap": trade,
        "correlated, welfare": mo.Design(corr, ic="bic", ir="ex_post", budget="ex_post", objective="welfare"),
        "correlated, revenue": mo.Design(corr, ic="bic", ir="ex_post", budget="ex_post", objective="revenue"),
        "1e-12 prior, dsic": mo.Design(tiny_env, ic="dsic", ir="ex_post", objective="revenue"),
        "1e-12 prior, bic": mo.Design(tiny_env, ic="bic", ir="interim", objective="revenue"),
        "Myerson 2x21": mo.Design(mo.single_item([mo.Agent("b1", g21), mo.Agent("b2", g21)]), ic="bic",
                                  ir="interim", objective="revenue"),
    }


def run_trial(d: mo.Design, mode: str) -> dict:
    t0 = time.perf_counter()
    try:
        r = d.solve(**{mode: True})
    except TypeError:  # a mechopt without solve(exact=True)
        return {"status": "n/a", "seconds": 0.0, "verified": False, "objective": None, "method": "unsupported"}
    c = r.certificate
    ok = bool(c is not None and c.verify(exact=True))
    seconds = time.perf_counter() - t0
    exact = getattr(r, "exact", None)
    value = exact.objective if exact is not None else (c.objective if c is not None else None)
    return {"status": str(getattr(r.status, "value", r.status)), "seconds": seconds, "verified": ok,
            "objective": value, "method": "" if c is None else c.method}


def trials() -> None:
    print("\ntrial cases (issue 10): certify=True and exact=True")
    head = f"{'case':<22} {'mode':<8} {'status':<11} {'seconds':>8} {'ok':>3}  objective / method"
    print(head)
    print("-" * len(head))
    for name, d in trial_designs().items():
        for mode in ("certify", "exact"):
            row = run_trial(d, mode)
            ok = "yes" if row["verified"] else "NO"
            print(f"{name:<22} {mode:<8} {row['status']:<11} {row['seconds']:>8.2f} {ok:>3}  "
                  f"{row['objective']}  [{row['method'][:70]}]", flush=True)


def library() -> None:
    """solve() and solve(exact=True) on every LP model of the library: same status, exact value."""
    from mechopt.modelfile import builtin_models, load

    print("\nmodel library: float answer vs exact=True")
    head = (f"{'model':<32} {'rows':>6} {'float':<11} {'value':<12} {'exact':<11} {'value':<12} "
            f"{'ok':>3} {'pivots':>6} {'float s':>8} {'exact s':>8}")
    print(head)
    print("-" * len(head))
    for name in builtin_models():
        _, d, _ = load(name)
        if d.deterministic:
            continue
        t0 = time.perf_counter()
        r = d.solve()
        tf = time.perf_counter() - t0
        t0 = time.perf_counter()
        rx = d.solve(exact=True)
        tx = time.perf_counter() - t0
        v = "-" if r.objective is None else f"{r.objective:.8g}"
        vx = "-" if rx.exact is None or rx.exact.objective is None else f"{float(rx.exact.objective):.8g}"
        ok = "yes" if rx.certificate is not None and rx.certificate.verified else "NO"
        print(f"{name:<32} {r.lp.shape[0]:>6} {str(getattr(r.status, 'value', r.status)):<11} {v:<12} "
              f"{str(getattr(rx.status, 'value', rx.status)):<11} {vx:<12} {ok:>3} "
              f"{rx.solver.get('exact_pivots', 0):>6} {tf:>8.2f} {tx:>8.2f}", flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grids", type=int, nargs="*", default=[21, 41, 81, 121, 151])
    ap.add_argument("--optimality", action="store_true", help="also benchmark optimality certificates")
    ap.add_argument("--trials", action="store_true", help="the hard cases of issue 10 (certify and exact)")
    ap.add_argument("--library", action="store_true", help="exact=True on every LP model of the library")
    args = ap.parse_args(argv)
    if args.trials:
        trials()
    if args.library:
        library()
    kinds = ["infeasibility"] + (["optimality"] if args.optimality else [])
    for kind in kinds if args.grids else []:
        print(f"\n{kind} certificates (bilateral trade, uniform grid(0,1,T) x grid(0,1,T))")
        head = (f"{'T':>5} {'LP rows':>8} {'LP nnz':>8} {'solve s':>8} {'support':>8} {'nnz':>8} "
                f"{'build s':>8} {'verify s':>9} {'ok':>3}  method")
        print(head)
        print("-" * len(head))
        for T in args.grids:
            row = run(T, kind)
            extra = f"  value {row['objective']}" if row["objective"] is not None else ""
            ok = "yes" if row["verified"] else "NO"
            print(f"{row['T']:>5} {row['rows']:>8} {row['lp_nnz']:>8} {row['solve_s']:>8.2f} {row['support']:>8} "
                  f"{row['nnz']:>8} {row['build_s']:>8.2f} {row['verify_s']:>9.2f} {ok:>3}"
                  f"  {row['method']}{extra}", flush=True)


if __name__ == "__main__":
    main()
