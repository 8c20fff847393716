"""The ``mechopt`` command line.

::

    mechopt solve MODEL [--grid N] [--json] [--out DIR] [--certify] [--quiet]
    mechopt list
    mechopt show NAME

``MODEL`` is a path to a model file or the name of a built-in model
(``mechopt list``).  ``--json`` prints one JSON object (DESIGN.md §3)::

    {"model": ..., "status": ..., "objective": ..., "metrics": {"revenue", "welfare"},
     "verification": {"ok", "max_violation": {...}},
     "certificate": {"kind", "verified", "exact", "weight_by_family"},   # infeasible, or --certify
     "solver": {"name", "seconds"}}

Exit status: 0 for any answer (optimal, infeasible and unbounded are answers),
2 for bad input (one line on stderr, no traceback), 1 for an internal failure
(including a solver that ends without an answer, e.g. an optimum that the
independent verifier rejects).  Stage messages with timings go to stderr
unless ``--quiet``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import MechoptError

__all__ = ["main"]

ANSWERS = ("optimal", "infeasible", "unbounded")
_CERT_FUNCTION = {"infeasible": "farkas", "optimal": "optimality"}


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage + message)
        raise _UsageError(f"{message}; see `{self.prog} --help`")


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    p = _Parser(prog="mechopt", description="Exact mechanism design by linear programming.")
    p.add_argument("--version", action="version", version=f"mechopt {__version__}")
    sub = p.add_subparsers(dest="command", metavar="{solve,list,show}", parser_class=_Parser)
    s = sub.add_parser("solve", help="solve a model file or a built-in model")
    s.add_argument("model", metavar="MODEL", help="path to a .toml model file, or a built-in name (mechopt list)")
    s.add_argument("--grid", type=int, metavar="N", help="give every agent's grid (or distribution) N points")
    s.add_argument("--json", action="store_true", help="print one JSON object (the contract of DESIGN.md)")
    s.add_argument("--out", metavar="DIR", help="write result.json and the mechanism tables (CSV) to DIR")
    s.add_argument("--certify", action="store_true", help="attach an exact optimality certificate to an optimum")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress messages on stderr")
    sub.add_parser("list", help="list the built-in models")
    sh = sub.add_parser("show", help="print a model file")
    sh.add_argument("model", metavar="NAME", help="built-in name or path")
    from .cli_sweep import add_commands

    add_commands(sub)  # sweep, converge
    return p


# ------------------------------------------------------------------------------ helpers
def _num(x: Any, digits: int = 6, zero: float = 0.0) -> str:
    if x is None:
        return "-"
    x = float(x)
    if abs(x) <= zero:
        return "0"
    return f"{x:.{digits}g}" if abs(x) >= 1e-4 else f"{x:.2e}"


def _exact(x: Any) -> str:
    """A number from [expected]: '55/126 = 0.436508' for non-decimal fractions."""
    if isinstance(x, Fraction) and x.denominator != 1:
        d = x.denominator
        while d % 2 == 0:
            d //= 2
        while d % 5 == 0:
            d //= 5
        if d != 1:
            return f"{x} = {_num(x)}"
    return _num(x)


def _finite(x: Any) -> Any:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _certificate(result: Any, want: bool) -> Any:
    """result.certificate when the contract asks for one and mechopt.certificates provides it."""
    if not want:
        return None
    needed = _CERT_FUNCTION.get(result.status)
    if needed is None:
        return None
    try:
        from . import certificates
    except ImportError:  # pragma: no cover - module not installed
        return None
    if not callable(getattr(certificates, needed, None)):
        return None
    return result.certificate


def _payload(name: str, result: Any, cert: Any) -> dict:
    metrics = result.metrics
    ver = result.verification or {}
    out: dict[str, Any] = {
        "model": name,
        "status": result.status,
        "objective": _finite(result.objective) if result.status == "optimal" else None,
        "metrics": {"revenue": _finite(metrics.get("revenue")), "welfare": _finite(metrics.get("welfare"))},
        "verification": {
            "ok": bool(ver.get("ok", False)),
            "max_violation": {k: _finite(v) for k, v in (ver.get("max_violation") or {}).items()},
        },
    }
    if cert is not None and hasattr(cert, "to_json"):
        out["certificate"] = cert.to_json()
    stats = result.output.stats
    out["solver"] = {"name": stats.get("name"), "seconds": _finite(stats.get("seconds"))}
    return out


class _Progress:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            print(f"mechopt: {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ solve
def _solve(args: argparse.Namespace) -> int:
    from . import modelfile
    from .backends import highs
    from .compile import compile_design
    from .result import build_result

    env, design, meta = modelfile.load(args.model, grid=args.grid)
    say = _Progress(args.quiet)
    name = meta["name"]
    say(f"{name}: {env.n_agents} agents, {env.n_profiles} profiles, {env.n_outcomes} outcomes; {design.describe()}")
    t0 = time.perf_counter()
    lp = compile_design(design)
    t_compile = time.perf_counter() - t0
    sz = lp.sizes
    say(f"compile  {sz['rows']} rows x {sz['cols']} cols, {sz['nnz']} nonzeros  ({t_compile:.2f} s)")
    t0 = time.perf_counter()
    out = highs.solve(lp)
    t_solve = time.perf_counter() - t0
    say(f"solve    highs: {out.status}  ({t_solve:.2f} s)")
    t0 = time.perf_counter()
    result = build_result(design, lp, out, certify=args.certify)
    t_verify = time.perf_counter() - t0
    if result.verification:
        say(f"verify   {'ok' if result.verification.get('ok') else 'FAILED'}  ({t_verify:.2f} s)")
    want = result.status == "infeasible" or (args.certify and result.status == "optimal")
    t_cert = 0.0
    cert = None
    if want:
        t0 = time.perf_counter()
        cert = _certificate(result, want)
        t_cert = time.perf_counter() - t0
        if cert is not None:
            say(f"certify  {cert.kind}: {'verified exactly' if cert.verified else 'NOT verified'}  ({t_cert:.2f} s)")
        else:
            say("certify  no certificate available (mechopt.certificates is missing)")
    payload = _payload(name, result, cert)
    times = {"compile": t_compile, "solve": t_solve}
    if result.verification:
        times["verify"] = t_verify
    if want:
        times["certify"] = t_cert
    if args.out:
        _write_out(Path(args.out), payload, result, cert)
        say(f"wrote    {args.out}/result.json and the mechanism tables (CSV)")
    if args.json:
        print(json.dumps(payload, allow_nan=False))
    else:
        print(_report(env, design, meta, result, cert, times, args.grid))
    return 0 if result.status in ANSWERS else 1


def _write_out(d: Path, payload: dict, result: Any, cert: Any) -> None:
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MechoptError(f"--out {d}: cannot create the directory ({exc.strerror}); choose another path") from None
    (d / "result.json").write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    m = result.mechanism
    if m is not None:
        m.allocation.to_csv(d / "allocation.csv")
        m.payments.to_csv(d / "payments.csv")
        for agent, table in m.interim.items():
            table.to_csv(d / f"interim_{_safe(agent)}.csv")
    if cert is not None and getattr(cert, "weights", None) is not None:
        w = cert.weights
        w[w != 0].to_frame("weight").to_csv(d / "certificate_weights.csv")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


# ------------------------------------------------------------------------------ human report
def _report(env, design, meta, result, cert, times, grid) -> str:
    lines = []
    title = meta["title"]
    lines.append(f"{title}  [{meta['name']}]")
    if meta.get("reference"):
        lines.append(f"  {meta['reference']}")
    lines.append(f"  agents      {_agents_line(env)}")
    lines.append(f"  design      {design.describe()}")
    red = result.reductions or {}
    sz = result.lp.sizes
    lines.append(f"  LP          {sz['rows']} rows x {sz['cols']} cols{_reductions(red)}")
    lines.append("")
    lines.append(f"status       {result.status}")
    exp = meta.get("expected") or {}
    if result.objective is not None:
        lines.append(f"objective    {_num(result.objective)}  ({design.objective})")
    if exp:
        lines.extend(_expected_lines(result, exp, meta, grid))
    m = result.metrics
    if m:
        lines.append(
            f"metrics      revenue {_num(m['revenue'], zero=1e-12)}, welfare {_num(m['welfare'], zero=1e-12)}, "
            f"utility {_num(m['utility'], zero=1e-12)}"
        )
    ver = result.verification
    if ver:
        mv = ver.get("max_violation", {})
        worst = ", ".join(f"{k} {_num(v, 2)}" for k, v in mv.items())
        lines.append(f"verified     {'yes' if ver.get('ok') else 'NO'} (worst violation: {worst})")
    if cert is not None:
        shares = ", ".join(f"{k} {v:.2f}" for k, v in sorted(cert.weight_by_family.items(), key=lambda kv: -kv[1]))
        state = "verified in exact arithmetic" if cert.verified and cert.exact else (
            "verified" if cert.verified else "NOT verified")
        lines.append(f"certificate  {cert.kind}, {state}; weight by family: {shares}")
    elif result.status == "infeasible":
        lines.append("certificate  unavailable")
    lines.append("time         " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items()))
    if result.mechanism is not None:
        lines.append("")
        lines.extend(_mechanism_lines(env, result.mechanism))
    return "\n".join(lines)


def _agents_line(env) -> str:
    parts = []
    for a in env.agents:
        if a.is_scalar:
            uniform = len(set(a.prior_exact)) == 1
            parts.append(f"{a.name} {a.n_types} types in [{_num(a.types.min(), 4)}, {_num(a.types.max(), 4)}]"
                         + ("" if uniform else ", weighted"))
        else:
            parts.append(f"{a.name} {a.n_types} type vectors")
    prior = "" if env.is_independent else "; correlated prior"
    return "; ".join(parts) + prior


def _reductions(red: dict) -> str:
    bits = []
    ic = red.get("ic")
    if isinstance(ic, dict) and ic and all(v == "adjacent" for v in ic.values()):
        bits.append("adjacent IC")
    if red.get("payments") == "interim":
        bits.append("interim payments")
    return f"; {', '.join(bits)}" if bits else ""


def _expected_lines(result, exp: dict, meta: dict, grid) -> list[str]:
    lines = []
    tol = meta["tolerance"]
    if "status" in exp:
        ok = result.status == exp["status"]
        lines.append(f"expected     status {exp['status']}: {'matches' if ok else 'DIFFERS'}")
    target = exp.get("objective")
    continuum = exp.get("continuum")
    own_grid = grid is None
    if not own_grid and continuum is not None:
        target = continuum
    if target is not None:
        kind = "continuum limit" if continuum is not None and target == continuum else "for this model"
        if not own_grid and continuum is None:
            kind = "for the file's own grid, not --grid"
        text = f"expected     {_exact(target)} ({kind})"
        if result.objective is not None:
            gap = result.objective - float(target)
            text += f"  gap {gap:+.2e}" if abs(gap) < 1e-3 else f"  gap {gap:+.6f}"
            if own_grid:
                text += f", tolerance {tol:g}: {'within' if abs(gap) <= tol else 'OUTSIDE'}"
        lines.append(text)
        if continuum is not None and target != continuum:
            lines.append(f"continuum    {_exact(continuum)}")
    if exp.get("reference"):
        lines.append(f"             ({exp['reference']})")
    return lines


def _mechanism_lines(env, mech) -> list[str]:
    import numpy as np
    import pandas as pd

    lines = ["mechanism (interim: given the agent's own type, averaged over the others)"]
    for i, a in enumerate(env.agents):
        table = mech.interim[a.name]
        cols = _allocation_columns(env, i, table)
        df = pd.DataFrame(cols, index=table.index)
        df["payment"] = table["payment"]
        df["utility"] = table["utility"]
        T = len(df)
        note = ""
        if T > 11:
            idx = np.unique(np.linspace(0, T - 1, 11).round().astype(int))
            df = df.iloc[idx]
            note = f"  ({len(idx)} of {T} types; --out DIR writes all)"
        df.insert(0, "type", [_label(x) for x in df.index])
        text = df.to_string(index=False, float_format=lambda v: f"{v:.4f}")
        lines.append("")
        lines.append(f"{a.name}{note}")
        lines.extend("  " + row for row in text.splitlines())
    return lines


def _label(x: Any) -> str:
    if isinstance(x, tuple):
        return "(" + ", ".join(_num(v, 4) for v in x) + ")"
    return _num(x, 4)


def _allocation_columns(env, i: int, table) -> dict:
    a = env.agents[i]
    outcomes = list(env.outcomes)
    if env.kind == "single_item":
        return {"P(win)": table[a.name]}
    if env.kind == "bilateral_trade":
        return {"P(trade)": table["trade"]}
    if env.kind == "partnership":
        return {"P(gets asset)": table[a.name]}
    if env.kind == "public_project":
        return {"P(built)": table["built"]}
    if env.kind == "multi_item":
        items = env.meta.get("items", 1)
        cols = {}
        for j in range(items):
            mine = [k for k in outcomes if k.split("|")[j] == a.name]
            cols[f"P(item {j + 1})"] = table[mine].sum(axis=1)
        return cols
    if len(outcomes) <= 5:
        return {f"P({k})": table[k] for k in outcomes}
    return {"value": table["value"]}


# ------------------------------------------------------------------------------ list / show
def _list() -> int:
    from . import modelfile

    rows = []
    for name in modelfile.builtin_models():
        try:
            _, _, meta = modelfile.load(name)
            rows.append((name, meta["title"], meta.get("description") or ""))
        except MechoptError as exc:
            rows.append((name, f"(cannot be read: {exc})", ""))
    width = max((len(r[0]) for r in rows), default=4)
    for name, title, desc in rows:
        print(f"{name:<{width}}  {title}")
        if desc:
            print(f"{'':<{width}}    {desc}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from . import modelfile

    path = modelfile.model_path(args.model)
    sys.stdout.write(path.read_text(encoding="utf-8"))
    return 0


# ------------------------------------------------------------------------------ main
def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mechopt`` command; returns the exit status (0 answer, 2 bad input, 1 internal failure)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        if args.command == "solve":
            if args.grid is not None and args.grid < 2:
                raise _UsageError(f"--grid must be at least 2, got {args.grid}")
            return _solve(args)
        if args.command == "list":
            return _list()
        if hasattr(args, "handler"):
            return args.handler(args)
        return _show(args)
    except _UsageError as exc:
        print(f"mechopt: error: {exc}", file=sys.stderr)
        return 2
    except MechoptError as exc:
        print(f"mechopt: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mechopt: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `mechopt show x | head`
        return 0
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        if os.environ.get("MECHOPT_DEBUG"):
            raise
        msg = " ".join(str(exc).split())
        print(f"mechopt: internal error: {type(exc).__name__}: {msg} (set MECHOPT_DEBUG=1 for the traceback; "
              "please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
