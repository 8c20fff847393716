"""Reliability benchmark: does mechopt answer correctly, at every scale, for every input?

One command, one table::

    python benchmarks/reliability.py            # about a minute
    python benchmarks/reliability.py --quick    # fewer random designs and CLI cases

Rows (each a count; the goal is 0 in every "wrong" column):

* **scales** — 14 classic designs (each solve limited to 10 s) with values, costs and outside options
  multiplied by 1e-9, 1e-6, 1, 1e6, 1e9.  Reference: the optimum at scale 1,
  exact when the optimality certificate verifies, times the scale (every
  objective here is homogeneous of degree 1 in the data).  Wrong = not
  optimal, or relative error > 1e-7; unverified = the independent verifier
  rejected the returned mechanism.
* **reductions** — random small designs solved with the compiler's
  reductions and without (``compile_design(reductions=False)``): status or
  optimum mismatches.
* **backends** — the same random designs with ``backend="cvxpy"``.
* **bad API calls** — the table of ``tests/test_errors.py``: calls ending in
  anything but a ``MechoptError``.
* **bad CLI inputs** — ``python -m mechopt`` with broken model files and
  arguments, in a subprocess limited to 3 GB and 60 s: runs ending in exit 1,
  a traceback, a kill or a timeout (the contract is exit 2 with one line).
* **tampered certificates** — one weight of a Farkas certificate's public
  ``weights`` Series multiplied by 1.5 or set to 0, then
  ``certificate.verify(weights=w)``; counted as wrongly accepted when an
  independent floating-point Farkas check (written here) finds the tampered
  weights invalid.
* **Ctrl-C latency** — a long solve in a subprocess (API: three bidders × 31 types, DSIC, plain
  LP; CLI: four bidders × 21 types, DSIC) gets SIGINT after 6 s; the row reports the worst time
  from the signal to the process's exit, and counts runs that did not exit 130 (CLI) or
  print status ``interrupted`` (API), or showed a traceback.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import mechopt as mo  # noqa: E402
from mechopt.backends import highs  # noqa: E402
from mechopt.compile import compile_design  # noqa: E402

SCALES = (Fraction(1, 10 ** 9), Fraction(1, 10 ** 6), Fraction(1), Fraction(10 ** 6), Fraction(10 ** 9))
REL_TOL = 1e-7
SOLVE_SECONDS = 10  # per scaled solve: a stuck solve counts as a wrong answer (status time_limit)


# ----------------------------------------------------------------- 14 designs, scalable
def _ag(name: str, f: Fraction, T: int) -> mo.Agent:
    return mo.Agent(name, mo.grid(0, f, T))


def designs_at(f: Fraction) -> dict[str, mo.Design]:
    """14 classic designs whose every value, cost and outside option is multiplied by ``f``."""
    two = [_ag("b1", f, 11), _ag("b2", f, 11)]
    trade = mo.bilateral_trade(_ag("buyer", f, 11), _ag("seller", f, 11))
    corr_a, corr_b = mo.Agent("a", [f, 2 * f, 3 * f]), mo.Agent("b", [f, 2 * f, 3 * f])
    joint = np.array([[4, 1, 1], [1, 4, 1], [1, 1, 4]], dtype=object) * Fraction(1, 18)
    table_values = [[[0, 3 * f, f], [0, 2 * f, 4 * f], [0, f, 2 * f]],
                    [[0, f, 2 * f], [0, 3 * f, f], [0, 2 * f, 2 * f]]]
    return {
        "myerson 2x11 BIC revenue": mo.Design(mo.single_item(two), ic="bic", ir="interim"),
        "myerson 2x11 DSIC revenue": mo.Design(mo.single_item(two), ic="dsic", ir="ex_post"),
        "monopoly 1x21 DSIC revenue": mo.Design(mo.single_item([_ag("b", f, 21)]), ic="dsic", ir="ex_post"),
        "auction 3x5 reserve BIC revenue": mo.Design(
            mo.single_item([_ag(f"b{i}", f, 5) for i in range(3)], seller_value=f / 5), ic="bic", ir="interim"),
        "trade 11 second best welfare": mo.Design(trade, ic="bic", ir="interim", budget="ex_ante",
                                                  objective="welfare"),
        "trade 11 DSIC ex post welfare": mo.Design(trade, ic="dsic", ir="ex_post", budget="ex_post",
                                                   objective="welfare"),
        "trade 11 broker revenue": mo.Design(trade, ic="bic", ir="interim", budget="ex_ante"),
        "public project 3x6 DSIC welfare": mo.Design(
            mo.public_project([_ag(f"c{i}", f, 6) for i in range(3)], cost=f * Fraction(3, 2)),
            ic="dsic", ir="ex_post", budget="exact", objective="welfare"),
        "public project 2x5 BIC welfare": mo.Design(
            mo.public_project([_ag(f"c{i}", f, 5) for i in range(2)], cost=f * Fraction(6, 5)),
            ic="bic", ir="interim", budget="ex_ante", objective="welfare"),
        "partnership 2x6 welfare": mo.Design(
            mo.partnership([_ag("p0", f, 6), _ag("p1", f, 6)], [Fraction(1, 2), Fraction(1, 2)]),
            ic="bic", ir="interim", budget="exact", objective="welfare"),
        "partnership 3x4 welfare": mo.Design(
            mo.partnership([_ag(f"p{i}", f, 4) for i in range(3)], [Fraction(1, 3)] * 3),
            ic="bic", ir="interim", budget="ex_ante", objective="welfare"),
        "two items additive DSIC revenue": mo.Design(
            mo.multi_item([_ag("b", f, 3)], items=2), ic="dsic", ir="ex_post"),
        "two items unit demand BIC revenue": mo.Design(
            mo.multi_item([_ag("b1", f, 3), _ag("b2", f, 3)], items=2, valuation="unit_demand"),
            ic="bic", ir="interim"),
        "correlated table BIC revenue": mo.Design(
            mo.Environment([corr_a, corr_b], ["none", "x", "y"], table_values, prior=joint),
            ic="bic", ir="interim"),
    }


def reference_values() -> dict[str, tuple[float, bool]]:
    """Optimum at scale 1: exact (optimality certificate) when it verifies, else the float optimum."""
    out = {}
    for name, d in designs_at(Fraction(1)).items():
        r = d.solve(certify=True)
        value, exact = r.objective, False
        try:
            c = r.certificate
            if c is not None and c.verify(exact=True) and c.objective is not None:
                value, exact = float(c.objective), True
        except Exception:  # a certificate failure only makes the reference a float one
            pass
        out[name] = (value, exact)
    return out


def scale_rows() -> tuple[list[tuple], dict]:
    refs = reference_values()
    rows = []
    for f in SCALES:
        wrong = unverified = 0
        for name, d in designs_at(f).items():
            ref = refs[name][0] * float(f)
            try:
                r = d.solve(time_limit=SOLVE_SECONDS)
                status, obj, ok = str(r.status), r.objective, bool(r.verification.get("ok", False))
            except Exception:
                status, obj, ok = "exception", None, False
            bad = status != "optimal" or obj is None or abs(obj - ref) > REL_TOL * max(abs(ref), float(f))
            wrong += bad
            unverified += (not ok)
        rows.append((f"scale x{float(f):g}", len(refs), wrong, unverified))
    exact_refs = sum(e for _, e in refs.values())
    return rows, {"exact references": f"{exact_refs} of {len(refs)}"}


# ----------------------------------------------------------------- random designs
def random_design(rng: np.random.Generator) -> mo.Design:
    def agent(name: str, outside: bool = False) -> mo.Agent:
        T = int(rng.integers(1, 4))
        types = sorted(Fraction(int(k), 2) for k in rng.choice(7, size=T, replace=False))
        w = rng.integers(1, 5, size=T)
        prior = [Fraction(int(x), int(w.sum())) for x in w]
        out = [None, 0, Fraction(1, 2)][int(rng.integers(0, 3))] if outside else None
        return mo.Agent(name, types, prior, out)

    kind = int(rng.integers(0, 5))
    if kind == 0:
        env = mo.single_item([agent(f"b{i}", True) for i in range(int(rng.integers(1, 3)))])
    elif kind == 1:
        env = mo.bilateral_trade(agent("buyer"), agent("seller"))
    elif kind == 2:
        env = mo.partnership([agent("p0"), agent("p1")], [Fraction(1, 2), Fraction(1, 2)])
    elif kind == 3:
        env = mo.public_project([agent(f"c{i}") for i in range(int(rng.integers(1, 4)))], cost=1)
    else:
        agents = [agent(f"a{i}", True) for i in range(int(rng.integers(1, 3)))]
        K = int(rng.integers(2, 4))
        values = [rng.integers(-2, 5, size=(a.n_types, K)).tolist() for a in agents]
        env = mo.Environment(agents, [f"o{k}" for k in range(K)], values, cost=[0] + [1] * (K - 1))
    pick = {key: vals[int(rng.integers(0, len(vals)))] for key, vals in mo.OPTIONS.items()}
    return mo.Design(env, **pick)


def _same(a_status: str, a_obj, b_status: str, b_obj) -> bool:
    if a_status != b_status:
        return False
    if a_status == "optimal":
        return abs(a_obj - b_obj) <= 1e-6 * max(1.0, abs(a_obj))
    return True


def random_rows(n: int) -> list[tuple]:
    rng = np.random.default_rng(2026)
    red = back = 0
    for _ in range(n):
        d = random_design(rng)
        r = d.solve()
        plain = highs.solve(compile_design(d, reductions=False, border=False))
        red += not _same(str(r.status), r.objective, plain.status, plain.objective)
        c = d.solve(backend="cvxpy")
        back += not _same(str(r.status), r.objective, str(c.status), c.objective)
    return [("random: reductions on vs off", n, red, "-"), ("random: highs vs cvxpy", n, back, "-")]


# ----------------------------------------------------------------- bad inputs
def api_rows() -> list[tuple]:
    from test_errors import CASES

    bad = 0
    for _, call, _ in CASES:
        try:
            call()
            bad += 1
        except mo.MechoptError:
            pass
        except BaseException:  # noqa: BLE001 - counting exactly these
            bad += 1
    return [("bad API calls", len(CASES), bad, "-")]


def _cli_cases(tmp: Path) -> list[tuple[str, list[str]]]:
    def model(name: str, text: str) -> str:
        p = tmp / name
        p.write_text(text)
        return str(p)

    agents = '[[agents]]\nname = "buyer"\ntypes = { grid = [0, 1, 5] }\n[[agents]]\nname = "seller"\n' \
             'types = { grid = [0, 1, 5] }\n'
    ok_head = '[environment]\nkind = "bilateral_trade"\n'
    design = '[design]\nic = "bic"\nir = "interim"\nbudget = "ex_ante"\nobjective = "welfare"\n'
    nested = "[" * 200 + "1" + "]" * 200
    cases = [
        ("missing file", ["solve", str(tmp / "nope.toml")]),
        ("300-char name", ["solve", str(tmp / ("x" * 300 + ".toml"))]),
        ("not TOML", ["solve", model("bad1.toml", "this is = not [toml")]),
        ("empty file", ["solve", model("empty.toml", "")]),
        ("binary file", ["solve", model("bin.toml", "\x00\x01\x02\xff")]),
        ("unknown key", ["solve", model("k.toml", ok_head + "colour = 1\n" + agents + design)]),
        ("unknown kind", ["solve", model("kind.toml", '[environment]\nkind = "auction"\n' + agents + design)]),
        ("NaN type", ["solve", model("nan.toml", ok_head + agents.replace("grid = [0, 1, 5]", "values = [0, nan]", 1)
                                     + design)]),
        ("1e400", ["solve", model("big.toml", ok_head + agents.replace("grid = [0, 1, 5]", "values = [0, 1e400]", 1)
                                  + design)]),
        ("deeply nested", ["solve", model("deep.toml", ok_head + agents.replace("grid = [0, 1, 5]",
                                                                                 f"values = {nested}", 1) + design)]),
        ("negative prior", ["solve", model("neg.toml", ok_head + agents.replace(
            'types = { grid = [0, 1, 5] }\n', 'types = { values = [0, 1] }\nprior = { weights = [1.5, -0.5] }\n', 1)
            + design)]),
        ("bad design value", ["solve", model("ic.toml", ok_head + agents + design.replace('"bic"', '"maybe"'))]),
        ("grid as string", ["solve", model("gs.toml", ok_head + agents.replace("grid = [0, 1, 5]", 'grid = "abc"', 1)
                                       + design)]),
        ("--grid 0", ["solve", "bilateral_trade", "--grid", "0"]),
        ("--grid abc", ["solve", "bilateral_trade", "--grid", "abc"]),
        ("--grid -5", ["solve", "bilateral_trade", "--grid", "-5"]),
        ("--grid 100000", ["solve", "bilateral_trade", "--grid", "100000"]),
        ("--grid 5000", ["solve", "bilateral_trade", "--grid", "5000"]),
        ("unwritable --out", ["solve", "bilateral_trade", "--out", "/proc/mechopt-out"]),
        ("show a directory", ["show", str(tmp)]),
        ("unknown model name", ["solve", "no_such_model"]),
        ("unknown command", ["frobnicate"]),
    ]
    return cases


def _limit() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024 ** 3, 3 * 1024 ** 3))


def cli_rows(quick: bool) -> tuple[list[tuple], list[str]]:
    failures = []
    with tempfile.TemporaryDirectory() as d:
        cases = _cli_cases(Path(d))
        if quick:
            cases = [c for c in cases if "--grid 5000" not in c[0] and "--grid 100000" not in c[0]]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for name, args in cases:
            start = time.perf_counter()
            if args[0] == "solve":
                args = [*args, "--quiet"]
            try:
                p = subprocess.run([sys.executable, "-m", "mechopt", *args], capture_output=True, text=True,
                                   timeout=60, env=env, preexec_fn=_limit)
                rc, err = p.returncode, p.stderr
            except subprocess.TimeoutExpired:
                rc, err = "timeout", ""
            seconds = time.perf_counter() - start
            lines = [ln for ln in (err or "").strip().splitlines() if ln.strip()]
            bad = rc != 2 or "Traceback" in (err or "") or len(lines) != 1
            if bad:
                failures.append(f"  {name}: exit {rc}, {seconds:.1f}s, stderr: {(lines[-1] if lines else '')[:100]}")
    return [("bad CLI inputs (exit != 2, traceback)", len(cases), len(failures), "-")], failures


# ----------------------------------------------------------------- tampered certificates
def _farkas_valid(lp, y: np.ndarray, tol: float = 1e-7) -> bool:
    """Independent float check of a Farkas vector y on the LP (see mechopt.backends.base)."""
    g = lp.A.T @ y
    if np.isfinite(lp.ub).any():  # the designs used here have no upper bounds
        raise ValueError("the tamper check handles LPs without upper bounds only")
    free = ~np.isfinite(lp.lb)
    scale = max(1.0, float(np.abs(y).max()))
    return bool(
        (y[~lp.equality] >= -tol * scale).all()
        and (np.abs(g[free]) <= tol * scale).all()
        and (g[~free] <= tol * scale).all()
        and y @ lp.rhs > tol * scale
    )


def tamper_rows(per_cert: int = 15) -> list[tuple]:
    designs = [
        mo.Design(mo.bilateral_trade(mo.Agent("b", mo.grid(0, 1, T)), mo.Agent("s", mo.grid(0, 1, T))),
                  ic="bic", ir="interim", budget="ex_ante", allocation="efficient")
        for T in (5, 7)
    ] + [
        mo.Design(mo.bilateral_trade(mo.Agent("b", [0.9, 1.5, 2]), mo.Agent("s", [0, 0.5, 1])),
                  ic="dsic", ir="ex_post", budget="exact", allocation="efficient"),
        mo.Design(mo.public_project([mo.Agent(f"c{i}", mo.grid(0, 1, 4)) for i in range(2)], cost=1),
                  ic="dsic", ir="ex_post", budget="exact", allocation="efficient"),
    ]
    tried = accepted = still_valid = 0
    rng = np.random.default_rng(7)
    for d in designs:
        r = d.solve()
        if str(r.status) != "infeasible":
            continue
        cert = r.certificate
        w0 = cert.weights
        lp = r.lp
        for pos in rng.choice(len(w0), size=min(per_cert, len(w0)), replace=False):
            for how in ("x1.5", "zero"):
                w = w0.astype(object).copy()
                w.iloc[pos] = w.iloc[pos] * Fraction(3, 2) if how == "x1.5" else Fraction(0)
                y = np.zeros(lp.A.shape[0])
                fam = w.index.get_level_values("family")
                row = w.index.get_level_values("row").to_numpy(dtype=np.int64)
                for f, rr, v in zip(fam, row, w.to_numpy()):
                    y[lp.family(f).start + rr] = float(v)
                tried += 1
                ok = cert.verify(weights=w)
                if _farkas_valid(lp, y):
                    still_valid += 1
                elif ok:
                    accepted += 1
    return [("tampered certificates accepted", tried, accepted, f"{still_valid} still valid")]


# ----------------------------------------------------------------- main
CTRL_C_API = """
import mechopt as mo
env = mo.single_item([mo.Agent(f"b{j}", mo.grid(0, 1, 31)) for j in range(3)])
r = mo.Design(env, ic="dsic", ir="ex_post").solve(reductions=False)
print("status", r.status, flush=True)
"""


def ctrl_c_row(quick: bool = False) -> tuple:
    """Seconds from SIGINT to exit for a long solve, through the API and the CLI."""
    import signal

    runs = [("api", [sys.executable, "-c", CTRL_C_API])]
    if not quick:
        # four bidders x 21 types, DSIC: about 27 s through the envelope formulation (three bidders x 31
        # types now take 2.7 s, over before the signal is sent)
        model = Path(tempfile.mkdtemp()) / "four.toml"
        model.write_text(
            'title = "four bidders"\n[environment]\nkind = "single_item"\n'
            + "".join(f'[[agents]]\nname = "b{j}"\ntypes = {{ grid = [0, 1, 21] }}\n' for j in range(4))
            + '[design]\nic = "dsic"\nir = "ex_post"\nobjective = "revenue"\n', encoding="utf-8")
        runs.append(("cli", [sys.executable, "-m", "mechopt", "solve", str(model), "--quiet"]))
    worst, bad = 0.0, 0
    for kind, cmd in runs:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        time.sleep(6.0)  # imports, compile; HiGHS is running by then
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        worst = max(worst, time.perf_counter() - sent)
        ok = "Traceback" not in err and (proc.returncode == 130 if kind == "cli" else "status interrupted" in out)
        bad += not ok
    return ("Ctrl-C latency (s, worst of API and CLI)", len(runs), bad, f"{worst:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 random designs, no huge-grid CLI cases")
    ap.add_argument("--random", type=int, default=200, help="number of random designs (default 200)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    rows, notes = [], {}
    timings = {}
    for label, fn in (
        ("scales", lambda: scale_rows()),
        ("random", lambda: (random_rows(40 if args.quick else args.random), {})),
        ("api", lambda: (api_rows(), {})),
        ("cli", lambda: cli_rows(args.quick)),
        ("tamper", lambda: (tamper_rows(), {})),
    ):
        start = time.perf_counter()
        got, extra = fn()
        timings[label] = time.perf_counter() - start
        rows += got
        if isinstance(extra, dict):
            notes.update(extra)
        else:
            notes[f"{label} failures"] = "\n" + "\n".join(extra) if extra else "none"
    rows.append(ctrl_c_row(quick=args.quick))
    print(f"{'check':42} {'tried':>7} {'wrong':>7} {'unverified / note':>20}")
    for name, tried, wrong, extra in rows:
        print(f"{name:42} {tried!s:>7} {wrong!s:>7} {extra!s:>20}")
    print()
    for k, v in notes.items():
        print(f"{k}: {v}")
    print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))


if __name__ == "__main__":
    main()
