"""Benchmark: building and exactly verifying certificates.

Infeasibility (Myerson–Satterthwaite: bilateral trade, uniform grid(0, 1, T) for
both traders, efficient allocation, BIC, interim IR, ex ante budget) and, with
``--optimality``, optimality (the same traders, second-best welfare).

Usage::

    python benchmarks/certificates.py                 # T = 21 41 81 121 151
    python benchmarks/certificates.py --grids 21 41 --optimality

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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grids", type=int, nargs="+", default=[21, 41, 81, 121, 151])
    ap.add_argument("--optimality", action="store_true", help="also benchmark optimality certificates")
    args = ap.parse_args(argv)
    kinds = ["infeasibility"] + (["optimality"] if args.optimality else [])
    for kind in kinds:
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
