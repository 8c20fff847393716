"""The ``mechopt`` command line.

::

    mechopt solve MODEL [--grid N] [--json] [--out DIR] [--certify] [--check] [--quiet]
    mechopt list
    mechopt show MODEL
    mechopt schema

``MODEL`` is a path to a model file or the name of a built-in model
(``mechopt list``).  ``solve`` runs the same pipeline as :meth:`mechopt.Design.solve`
(every reduction, IC row generation, fallbacks).  ``--json`` prints one JSON object::

    {"model": ..., "status": ..., "objective": ..., "metrics": {"revenue", "welfare"},
     "verification": {"ok", "max_violation": {...}},
     "certificate": {"kind", "verified", "exact", "weight_by_family"},   # infeasible, or --certify
     "solver": {"name", "seconds"},
     "expected": {..., "checked": [...], "matches": bool}}               # when the file has [expected]

``--out DIR`` writes ``result.json`` and tidy (long-format) CSV tables: one
column per profile coordinate (named by agent), then ``outcome``/``agent`` and
``value``; numbers rounded to the solver's accuracy (1e-9 relative to the
data's scale).

Exit status: 0 for any answer (optimal, infeasible and unbounded are answers),
2 for bad input (one line on stderr, no traceback), 4 when ``--check`` finds
the answer differs from the file's ``[expected]``, 130 on Ctrl-C, 1 for an
internal failure or a solve that ends without a verified answer (one line on
stderr).  Progress: the pipeline's log (logger ``"mechopt"``, level INFO) and
one line per stage go to stderr unless ``--quiet``.

Subcommands live in a registry (:func:`register`), so other modules add theirs
with one call, e.g. ``register("sweep", "solve a model over a parameter grid",
configure, run)``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import MechoptError

__all__ = ["main", "register", "COMMANDS"]

ANSWERS = ("optimal", "infeasible", "unbounded")
EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_CHECK, EXIT_INTERRUPTED = 0, 1, 2, 4, 130
RESERVED = ("agent", "outcome", "value", "quantity")  # column names of the tidy CSVs


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse would print usage + message)
        raise _UsageError(f"{message}; see `{self.prog} --help`")


# ------------------------------------------------------------------------------ registry
@dataclass(frozen=True)
class Command:
    """A subcommand: ``configure(parser)`` adds its arguments, ``run(args)`` returns the exit status."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None


COMMANDS: dict[str, Command] = {}


def register(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None],
             run: Callable[[argparse.Namespace], int], description: str | None = None) -> None:
    """Add (or replace) a subcommand of ``mechopt``.

    Parameters
    ----------
    name : str
        The word after ``mechopt``.
    help : str
        One line for ``mechopt --help``.
    configure : callable
        ``configure(parser)`` adds the subcommand's arguments to its argparse parser.
    run : callable
        ``run(args) -> int`` does the work and returns the exit status; raise a
        :class:`~mechopt.errors.MechoptError` for bad input (exit 2, one line).
    description : str, optional
        Text of ``mechopt NAME --help`` (default: ``help``).
    """
    COMMANDS[name] = Command(name, help, configure, run, description)


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    p = _Parser(prog="mechopt", description="Exact mechanism design by linear programming: verified optimal "
                "mechanisms, or exact certificates that none exists.",
                epilog="Run `mechopt COMMAND --help` for the options of a command.")
    p.add_argument("--version", action="version", version=f"mechopt {__version__}")
    from .cli_sweep import register_commands

    register_commands(register)  # sweep, converge
    names = ",".join(COMMANDS)
    sub = p.add_subparsers(dest="command", metavar=f"{{{names}}}", parser_class=_Parser)
    for cmd in COMMANDS.values():
        sp = sub.add_parser(cmd.name, help=cmd.help, description=cmd.description or cmd.help,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        cmd.configure(sp)
    return p


def _grid_arg(text: str) -> int:
    try:
        n = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of points >= 2, got {text!r}") from None
    if n < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2 points, got {n}")
    return n


_SOLVE_HELP = """\
Solve a model file (or a built-in model, see `mechopt list`) with the same pipeline
as Design.solve(): compile the LP, solve it with HiGHS, recover and independently
verify the mechanism; an infeasible design comes with a Farkas certificate.

--json prints one object with the keys model, status, objective (null unless
optimal), metrics {revenue, welfare}, verification {ok, max_violation}, certificate
{kind, verified, exact, weight_by_family} (when infeasible, or with --certify),
solver {name, seconds}, and expected {..., checked, matches} when the file has an
[expected] table.

--out DIR writes result.json and tidy CSV tables: allocation.csv (profile
columns named by agent, then outcome, value), payments.csv (profile columns,
agent, value), interim_<agent>.csv (type columns, quantity, outcome, value) and,
with a certificate, certificate_weights.csv (family, row, label, weight, exact).

exit status: 0 an answer (optimal, infeasible, unbounded); 2 bad input; 4 --check
found a difference from [expected]; 1 no verified answer or internal error;
130 interrupted (Ctrl-C).
"""


def _configure_solve(s: argparse.ArgumentParser) -> None:
    s.description = _SOLVE_HELP
    s.add_argument("model", metavar="MODEL", help="path to a .toml model file, or a built-in name (mechopt list)")
    s.add_argument("--grid", type=_grid_arg, metavar="N", help="give every agent's grid (or distribution) N points")
    s.add_argument("--json", action="store_true", help="print one JSON object (fields above) instead of the report")
    s.add_argument("--out", metavar="DIR", help="write result.json and the mechanism as tidy CSV tables to DIR")
    s.add_argument("--certify", action="store_true", help="attach an exact optimality certificate to an optimum")
    s.add_argument("--check", action="store_true",
                   help="exit 4 when the answer differs from the file's [expected] table (for graders)")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress messages on stderr")


def _configure_show(s: argparse.ArgumentParser) -> None:
    s.add_argument("model", metavar="MODEL", help="built-in name or path")


def _configure_nothing(s: argparse.ArgumentParser) -> None:
    return None


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


def _status(result: Any) -> str:
    """The status as a plain string (works for a str-enum and for a str)."""
    return str(getattr(result.status, "value", result.status))


def _sizes(result: Any) -> dict:
    lp = getattr(result, "lp", None)
    return dict(getattr(lp, "sizes", None) or {})


def _payload(name: str, result: Any, cert: Any, expected: dict | None) -> dict:
    metrics = result.metrics or {}
    ver = result.verification or {}
    status = _status(result)
    out: dict[str, Any] = {
        "model": name,
        "status": status,
        "objective": _finite(result.objective) if status == "optimal" else None,
        "metrics": {"revenue": _finite(metrics.get("revenue")), "welfare": _finite(metrics.get("welfare"))},
        "verification": {
            "ok": bool(ver.get("ok", False)),
            "max_violation": {k: _finite(v) for k, v in (ver.get("max_violation") or {}).items()},
        },
    }
    if cert is not None and hasattr(cert, "to_json"):
        out["certificate"] = cert.to_json()
    stats = result.solver or {}
    out["solver"] = {"name": stats.get("name"), "seconds": _finite(stats.get("seconds"))}
    if expected is not None:
        out["expected"] = {k: v for k, v in expected.items() if not k.startswith("_")}
    return out


def _expected(meta: dict, result: Any, grid: int | None) -> dict | None:
    """The file's [expected] table with ``checked`` (what could be compared) and ``matches``.

    The objective and metrics are compared (within ``tolerance``) only on the
    file's own grid: with ``--grid`` they refer to another LP.
    """
    exp = meta.get("expected") or {}
    if not exp:
        return None
    tol = float(meta["tolerance"])
    out: dict[str, Any] = {k: (float(v) if isinstance(v, Fraction) else v) for k, v in exp.items()}
    out["tolerance"] = tol
    status = _status(result)
    checks: dict[str, bool] = {}
    if "status" in exp:
        checks["status"] = status == exp["status"]
    if grid is None:
        got = {"objective": result.objective if status == "optimal" else None}
        metrics = result.metrics or {}
        for m in ("revenue", "welfare", "utility"):
            got[m] = metrics.get(m) if status == "optimal" else None
        for key, value in got.items():
            if key in exp:
                checks[key] = value is not None and abs(float(value) - float(exp[key])) <= tol
    out["checked"] = list(checks)
    out["matches"] = all(checks.values())
    out["_failed"] = [k for k, ok in checks.items() if not ok]  # for the --check message; not in the JSON
    return out


def _certificate(result: Any, certify: bool) -> tuple[Any, float]:
    """(certificate or None, seconds): infeasible answers always, optima with --certify."""
    status = _status(result)
    if not (status == "infeasible" or (certify and status == "optimal")):
        return None, 0.0
    start = time.perf_counter()
    try:
        cert = result.certificate
    except Exception as exc:  # noqa: BLE001 - the answer stands without its certificate; say why
        if os.environ.get("MECHOPT_DEBUG"):
            raise
        print(f"mechopt: warning: no certificate ({type(exc).__name__}: {_one_line(exc)})", file=sys.stderr)
        cert = None
    return cert, time.perf_counter() - start


class _Progress:
    """Progress on stderr: our stage lines, and the pipeline's log records (logger ``"mechopt"``)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.handler: logging.Handler | None = None
        self.logger = logging.getLogger("mechopt")
        self.level = self.logger.level

    def __enter__(self) -> _Progress:
        if not self.quiet:
            self.handler = logging.StreamHandler(sys.stderr)
            self.handler.setFormatter(logging.Formatter("mechopt: %(message)s"))
            self.logger.addHandler(self.handler)
            if self.logger.getEffectiveLevel() > logging.INFO:
                self.logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.handler is not None:
            self.logger.removeHandler(self.handler)
            self.logger.setLevel(self.level)

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            print(f"mechopt: {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ solve
def _solve(args: argparse.Namespace) -> int:
    from . import modelfile

    env, design, meta = modelfile.load(args.model, grid=args.grid)
    if args.check and not meta.get("expected"):
        raise MechoptError(f"{meta['path']}: --check needs an [expected] table in the model file; add one "
                           "(e.g. objective = 0.25, tolerance = 1e-6) or drop --check")
    out_dir = _prepare_out(args.out) if args.out else None
    name = meta["name"]
    with _Progress(args.quiet) as say:
        say(f"{name}: {env.n_agents} agents, {env.n_profiles} profiles, {env.n_outcomes} outcomes; "
            f"{design.describe()}")
        start = time.perf_counter()
        result = design.solve(certify=args.certify)
        wall = time.perf_counter() - start
        stats = result.solver or {}
        status = _status(result)
        times = _stage_times(stats, wall)
        sz = _sizes(result)
        if sz:
            say(f"compile  {sz.get('rows')} rows x {sz.get('cols')} cols, {sz.get('nnz')} nonzeros"
                f"  ({times.get('compile', 0.0):.2f} s)")
        say(f"solve    {stats.get('name', 'solver')}: {status}  ({times.get('solve', 0.0):.2f} s)")
        if result.verification:
            say(f"verify   {'ok' if result.verification.get('ok') else 'FAILED'}")
        cert, t_cert = _certificate(result, args.certify)
        if cert is not None:
            times["certify"] = t_cert
            say(f"certify  {cert.kind}: {'verified exactly' if cert.verified else 'NOT verified'}  ({t_cert:.2f} s)")
        expected = _expected(meta, result, args.grid)
        payload = _payload(name, result, cert, expected)
        if out_dir is not None:
            _write_out(out_dir, payload, result, cert, env)
            say(f"wrote    {out_dir}/result.json and the tables (CSV)")
    if args.json:
        print(json.dumps(payload, allow_nan=False))
    else:
        print(_report(env, design, meta, result, cert, times, args.grid))
    sys.stdout.flush()
    if status == "interrupted":  # Ctrl-C reached the solver, which stopped cleanly
        print("mechopt: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if status not in ANSWERS:
        why = " ".join(str(getattr(result, "message", "") or "").split()) or _why(result)
        print(f"mechopt: error: no verified answer (status {status}): {why}", file=sys.stderr)
        return EXIT_INTERNAL
    if args.check and expected is not None and not expected["matches"]:
        missed = ", ".join(expected["_failed"])
        print(f"mechopt: check failed: {name} differs from its [expected] table ({missed})", file=sys.stderr)
        return EXIT_CHECK
    return EXIT_OK


def _why(result: Any) -> str:
    """A reason for a status other than an answer, when the result carries no message."""
    ver = result.verification or {}
    worst = {k: v for k, v in (ver.get("max_violation") or {}).items() if _finite(v)}
    if ver and not ver.get("ok", False) and worst:
        family = max(worst, key=lambda k: worst[k])
        return (f"the independent verifier rejected the solver's answer (worst violation: {family} "
                f"{_num(worst[family], 2)})")
    raw = (result.solver or {}).get("raw_status")
    return f"the solver ended without an answer ({raw})" if raw else "the solver ended without an answer"


def _stage_times(stats: dict, wall: float) -> dict[str, float]:
    """Stage seconds from ``result.solver`` (``stages`` if the pipeline reports them)."""
    stages = stats.get("stages")
    if isinstance(stages, dict) and stages:
        return {str(k): float(v) for k, v in stages.items() if _finite(v) is not None}
    times = {"compile": float(stats.get("build_seconds") or 0.0), "solve": float(stats.get("seconds") or 0.0)}
    if stats.get("recover_seconds"):
        times["recover"] = float(stats["recover_seconds"])
    times["total"] = wall
    return times


# ------------------------------------------------------------------------------ --out
def _prepare_out(path: str) -> Path:
    """Create the --out directory and check it is writable, before solving."""
    d = Path(path)
    short = path if len(path) <= 60 else path[:57] + "..."
    try:
        d.mkdir(parents=True, exist_ok=True)
        probe = d / ".mechopt-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise MechoptError(f"--out {short}: cannot write there ({exc.strerror or exc}); "
                           "choose a writable directory") from None
    return d


def _round(a: Any, scale: float) -> Any:
    """Round to the solver's accuracy (1e-9 relative to ``scale``); no ``-0.0``."""
    import numpy as np

    a = np.asarray(a, dtype=float)
    scale = scale if scale > 0 and math.isfinite(scale) else 1.0
    decimals = int(9 - math.floor(math.log10(scale)))
    out = np.round(a, decimals) + 0.0
    out[out == 0] = 0.0
    return out


def _data_scale(env: Any) -> float:
    import numpy as np

    parts = [np.abs(np.asarray(v, dtype=float)).max(initial=0.0) for v in env.values]
    parts.append(np.abs(np.asarray(env.cost, dtype=float)).max(initial=0.0))
    s = float(max(parts))
    return s if s > 0 else 1.0


def _profile_columns(env: Any) -> Any:
    """DataFrame (S rows, C order over env.shape): one column per profile coordinate, named by agent."""
    import numpy as np
    import pandas as pd

    idx = np.unravel_index(np.arange(env.n_profiles), env.shape)
    cols: dict[str, Any] = {}
    for i, a in enumerate(env.agents):
        types = np.asarray(a.types, dtype=float)
        base = a.name if a.name not in RESERVED else f"{a.name}_type"
        if types.ndim == 1:
            cols[base] = types[idx[i]]
        else:
            for j in range(types.shape[1]):
                cols[f"{base}[{j + 1}]"] = types[idx[i], j]
    return pd.DataFrame(cols)


def _long(coords: Any, labels: Sequence[str], key: str, values: Any) -> Any:
    """Long format: every row of ``coords`` repeated per label, then ``key`` and ``value`` columns."""
    import numpy as np

    S, K = values.shape
    df = coords.loc[coords.index.repeat(K)].reset_index(drop=True)
    df[key] = np.tile(np.asarray(list(labels), dtype=object), S)
    df["value"] = values.reshape(-1)
    return df


def _write_out(d: Path, payload: dict, result: Any, cert: Any, env: Any) -> None:
    import numpy as np
    import pandas as pd

    try:
        (d / "result.json").write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        m = result.mechanism
        if m is not None:
            scale = _data_scale(env)
            if m.x is not None:  # a rule too large to tabulate (mechanism.rule) writes interim tables only
                coords = _profile_columns(env)
                x = _round(m.allocation.to_numpy(dtype=float), 1.0)
                _long(coords, list(env.outcomes), "outcome", x).to_csv(d / "allocation.csv", index=False)
                p = _round(m.payments.to_numpy(dtype=float), scale)
                _long(coords, env.names, "agent", p).to_csv(d / "payments.csv", index=False)
            for i, a in enumerate(env.agents):
                _interim_table(env, i, m.interim[a.name], scale).to_csv(d / f"interim_{_safe(a.name)}.csv",
                                                                        index=False)
        if cert is not None and getattr(cert, "weights", None) is not None:
            w = cert.weights
            w = w[np.asarray([x != 0 for x in w], dtype=bool)]
            table = w.index.to_frame(index=False)
            exact = [Fraction(x) if isinstance(x, (int, Fraction)) else None for x in w]
            table["weight"] = [float(x) for x in w]
            table["exact"] = [str(x) if x is not None else "" for x in exact]
            pd.DataFrame(table).to_csv(d / "certificate_weights.csv", index=False)
    except OSError as exc:
        raise MechoptError(f"--out {d}: cannot write ({exc.strerror or exc}); choose a writable directory") from None


_INTERIM = (("value", "expected value"), ("payment", "payment"), ("utility", "utility"),
            ("outside", "outside option"), ("prob", "prior"))


def _interim_table(env: Any, i: int, table: Any, scale: float) -> Any:
    """Tidy interim table of agent i: its type column(s), then quantity, outcome, value."""
    import numpy as np
    import pandas as pd

    a = env.agents[i]
    types = np.asarray(a.types, dtype=float)
    base = a.name if a.name not in RESERVED else f"{a.name}_type"
    if types.ndim == 1:
        coords = pd.DataFrame({base: types})
    else:
        coords = pd.DataFrame({f"{base}[{j + 1}]": types[:, j] for j in range(types.shape[1])})
    parts = []
    outcomes = [k for k in env.outcomes if k in table.columns]
    outcomes += [c for c in table.columns if c.startswith("item ")]  # an item rule: P(get item j)
    if outcomes:
        alloc = _long(coords, outcomes, "outcome", _round(table[outcomes].to_numpy(dtype=float), 1.0))
        alloc.insert(len(coords.columns), "quantity", "allocation")
        parts.append(alloc)
    for col, label in _INTERIM:
        if col in table.columns:
            s = 1.0 if col == "prob" else scale
            df = coords.copy()
            df["quantity"] = label
            df["outcome"] = ""
            df["value"] = _round(table[col].to_numpy(dtype=float), s)
            parts.append(df)
    return pd.concat(parts, ignore_index=True)


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
    sz = _sizes(result)
    if sz:
        lines.append(f"  LP          {sz['rows']} rows x {sz['cols']} cols{_reductions(red)}")
    lines.append("")
    lines.append(f"status       {_status(result)}")
    message = getattr(result, "message", None)
    if message and _status(result) != "optimal":
        lines.append(f"             {' '.join(str(message).split())}")
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
    elif _status(result) == "infeasible":
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
        ok = _status(result) == exp["status"]
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
            if f"item {j + 1}" in table:  # a rule's interim table (mechopt.rules.ItemRule): own item j
                cols[f"P(item {j + 1})"] = table[f"item {j + 1}"]
                continue
            mine = [k for k in outcomes if k.split("|")[j] == a.name]
            cols[f"P(item {j + 1})"] = table[mine].sum(axis=1)
        return cols
    if len(outcomes) <= 5:
        return {f"P({k})": table[k] for k in outcomes}
    return {"value": table["value"]}


# ------------------------------------------------------------------------------ list / show / schema
def _list(args: argparse.Namespace) -> int:
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
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise MechoptError(f"{path}: is not UTF-8 text; give a .toml model file") from None
    except OSError as exc:
        raise MechoptError(f"{path}: cannot be read ({exc.strerror}); check the file and its permissions") from None
    sys.stdout.write(text)
    return 0


def _schema(args: argparse.Namespace) -> int:
    from .modelfile import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


register("solve", "solve a model file or a built-in model", _configure_solve, _solve)
register("list", "list the built-in models", _configure_nothing, _list)
register("show", "print a model file", _configure_show, _show)
register("schema", "print the JSON Schema of model files (for editors)", _configure_nothing, _schema,
         description="Print the JSON Schema (draft 2020-12) of mechopt model files. Point your editor at it "
                     "(e.g. Even Better TOML: a `#:schema ./mechopt.schema.json` first line) to validate "
                     "and complete model files.")


# ------------------------------------------------------------------------------ main
def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mechopt`` command; returns the exit status.

    0 an answer, 2 bad input, 4 ``--check`` failed, 130 interrupted, 1 internal
    failure.  Every failure is one line on stderr, never a traceback (set
    ``MECHOPT_DEBUG=1`` to see internal tracebacks).
    """
    try:
        parser = _parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return COMMANDS[args.command].run(args)
    except _UsageError as exc:
        print(f"mechopt: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except MechoptError as exc:
        print(f"mechopt: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mechopt: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # --help / --version
        return exc.code if isinstance(exc.code, int) else 0
    except BrokenPipeError:  # e.g. `mechopt show x | head`
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush at exit
        except OSError:  # pragma: no cover
            pass
        return EXIT_OK
    except RecursionError:
        print("mechopt: error: input nested too deeply; use at most a few levels of arrays", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        if os.environ.get("MECHOPT_DEBUG"):
            raise
        print(f"mechopt: internal error: {type(exc).__name__}: {_one_line(exc)} (set MECHOPT_DEBUG=1 for the "
              "traceback; please report it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
