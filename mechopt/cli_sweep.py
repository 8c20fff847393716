"""``mechopt sweep`` and ``mechopt converge``: parameter sweeps and the continuum limit of a model file.

::

    mechopt sweep MODEL [--grid 11,21,41] [--set KEY=V1,V2,... | --set KEY=LO:HI:N ...]
                        [--jobs N | --scheduler ADDRESS] [--json | --out FILE.csv] [--quiet]
    mechopt converge MODEL --grid 11,21,41,81 [--order P] [--jobs N | --scheduler ADDRESS] [--json]

``--set`` keys (each ``--set`` adds an axis of the Cartesian product):

* a design option: ``ic``, ``ir``, ``budget``, ``allocation``, ``objective``, ``deterministic``;
* an environment key of the model file: ``seller_value``, ``cost``, ``items``, ``valuation``, ``value``, ``alpha``;
* ``share``: two partners' shares ``(v, 1 − v)`` (partnership models);
* any dotted path into the model file's tables, list items by index:
  ``agents.0.share``, ``environment.cost``, ``agents.1.types.grid.1``.

Values are read as TOML (``0.5``, ``true``, ``"1/3"``); a bare word is a string
(``--set ic=dsic,bic``).  ``LO:HI:N`` is N equally spaced numbers from LO to HI.
The model is rebuilt from its parsed tables for each point by
:func:`mechopt.modelfile.from_dict`, so every point is validated like a file.
The progress bar goes to stderr (``--quiet`` hides it).  ``--scheduler`` needs
``pip install mechopt[dask]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
from decimal import Decimal
from typing import Any

import numpy as np

from .errors import SpecError

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib

__all__ = ["register_commands", "ModelBuilder", "parse_set"]

DESIGN_KEYS = ("ic", "ir", "budget", "allocation", "objective", "deterministic")
ENVIRONMENT_KEYS = ("seller_value", "cost", "items", "valuation", "value", "alpha")


class ModelBuilder:
    """A picklable ``build(**point) -> Design`` from a model file's parsed tables.

    Parameters
    ----------
    model : str
        Path of a ``.toml`` model file or the name of a built-in model.

    Calling it with ``grid=N`` re-grids every agent (as ``--grid N``) and with
    ``key=value`` pairs (see the module docstring) changes the tables before
    :func:`mechopt.modelfile.from_dict` builds the design.
    """

    def __init__(self, model: str) -> None:
        from .modelfile import model_path

        path = model_path(model)
        try:
            text = path.read_text(encoding="utf-8")
            self.data = tomllib.loads(text, parse_float=Decimal)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            from .modelfile import load

            load(path)  # raises the loader's one-line ModelFileError
            raise SpecError(f"{path}: cannot be read ({exc})") from None  # pragma: no cover
        self.source, self.name = str(path), path.stem
        self.meta = self.load()[2]

    def load(self, grid: int | None = None, **sets: Any):
        """``(env, design, meta)`` at one point."""
        from .modelfile import from_dict

        data = copy.deepcopy(self.data)
        if sets:  # [expected] describes the file's own point, not a changed one
            data.pop("expected", None)
        for key, value in sets.items():
            _assign(data, key, value)
        where = self.source + (" with " + ", ".join(f"{k}={v}" for k, v in sets.items()) if sets else "")
        return from_dict(data, source=where, name=self.name, grid=None if grid is None else int(grid))

    def __call__(self, grid: int | None = None, **sets: Any):
        return self.load(grid, **sets)[1]

    def at_grid(self, n: int):
        """The design on an n-point grid (for :func:`mechopt.converge`)."""
        return self.load(n)[1]


def _assign(data: dict, key: str, value: Any) -> None:
    """Set ``key`` (a design/environment key or a dotted path) in the parsed model tables."""
    if isinstance(value, float):
        value = Decimal(repr(value))  # exact decimal, as the TOML loader reads numbers
    elif isinstance(value, np.generic):
        value = value.item()
    if key == "share":  # two partners: shares (v, 1 - v)
        agents = data.get("agents") or []
        if len(agents) != 2:
            raise SpecError(f"--set share: needs exactly two agents (shares v and 1 - v), the model has {len(agents)}; "
                            "set agents.0.share, agents.1.share, ... instead")
        from .exact import to_fraction

        v = to_fraction(value, "--set share")  # 0.3, "1/3", Decimal: exact; anything else: one-line error
        if not 0 <= v <= 1:
            raise SpecError(f"--set share: {value} is not a share; give a number between 0 and 1")
        agents[0]["share"], agents[1]["share"] = v, 1 - v
        return
    if "." not in key:
        if key in DESIGN_KEYS:
            data.setdefault("design", {})[key] = value
            return
        if key in ENVIRONMENT_KEYS:
            data.setdefault("environment", {})[key] = value
            return
        raise SpecError(
            f"--set {key}: unknown key; use a design option ({', '.join(DESIGN_KEYS)}), an environment key "
            f"({', '.join(ENVIRONMENT_KEYS)}), share (two partners) or a dotted path such as agents.0.share"
        )
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        node = _child(node, part, ".".join(parts[: depth + 1]), key)
    last = parts[-1]
    if isinstance(node, list):
        idx = _index(node, last, key)
        node[idx] = value
    elif isinstance(node, dict):
        node[last] = value  # a new key is checked by the loader (unknown keys are errors)
    else:
        raise SpecError(f"--set {key}: {'.'.join(parts[:-1])} is a value, not a table; shorten the path")


def _child(node: Any, part: str, path: str, key: str) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, key)]
    if isinstance(node, dict):
        if part not in node:
            if part in ("design", "environment"):
                node[part] = {}
            else:
                raise SpecError(f"--set {key}: the model has no {path!r}; check the path against `mechopt show`")
        return node[part]
    raise SpecError(f"--set {key}: {path} is a value, not a table; shorten the path")


def _index(node: list, part: str, key: str) -> int:
    try:
        idx = int(part)
    except ValueError:
        raise SpecError(f"--set {key}: {part!r} must be a list index (0, 1, ...)") from None
    if not -len(node) <= idx < len(node):
        raise SpecError(f"--set {key}: index {idx} is out of range (the list has {len(node)} items)")
    return idx


def _value(text: str) -> Any:
    text = text.strip()
    if not text:
        raise SpecError("--set: empty value; write KEY=V1,V2 or KEY=LO:HI:N")
    try:
        return tomllib.loads(f"v = {text}", parse_float=Decimal)["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word: ic=dsic


def parse_set(spec: str) -> tuple[str, list[Any]]:
    """``KEY=V1,V2,...`` or ``KEY=LO:HI:N`` → ``(key, values)``."""
    if "=" not in spec:
        raise SpecError(f"--set {spec!r}: write KEY=V1,V2,... or KEY=LO:HI:N")
    key, _, rhs = spec.partition("=")
    key = key.strip()
    if not key:
        raise SpecError(f"--set {spec!r}: the key is empty; write KEY=V1,V2,...")
    parts = rhs.split(":")
    if len(parts) == 3 and "," not in rhs:
        try:
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise SpecError(f"--set {spec!r}: LO:HI:N needs two numbers and an integer, e.g. cost=0.5:1.5:11") from None
        if n < 1 or not (math.isfinite(lo) and math.isfinite(hi)):
            raise SpecError(f"--set {spec!r}: N must be >= 1 and LO, HI finite")
        return key, [round(float(v), 12) for v in np.linspace(lo, hi, n)]
    return key, [_value(v) for v in rhs.split(",")]


def _grids(text: str | None, option: str = "--grid") -> list[int] | None:
    if text is None:
        return None
    try:
        sizes = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SpecError(f"{option} {text!r}: give comma-separated integers, e.g. 11,21,41") from None
    if not sizes or any(n < 2 for n in sizes):
        raise SpecError(f"{option} {text!r}: every grid needs at least 2 points")
    return sizes


def _executor(args: argparse.Namespace):
    """(executor, closer): --jobs N processes, --scheduler ADDRESS a Dask client, else in process."""
    if args.jobs is not None and args.scheduler is not None:
        raise SpecError("--jobs and --scheduler exclude each other; give one")
    if args.scheduler is not None:
        try:
            from distributed import Client
        except ImportError:
            raise SpecError("--scheduler needs Dask: pip install 'mechopt[dask]'") from None
        try:
            client = Client(args.scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise SpecError(f"--scheduler {args.scheduler}: cannot connect ({exc}); check the address") from None
        return client, client.close
    if args.jobs is not None:
        if args.jobs < 1:
            raise SpecError(f"--jobs must be >= 1, got {args.jobs}")
        return (args.jobs if args.jobs > 1 else None), None
    return None, None


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _sweep(args: argparse.Namespace) -> int:
    from .sweeps import sweep

    builder = ModelBuilder(args.model)
    params: dict[str, list[Any]] = {}
    grids = _grids(args.grid)
    if grids is not None:
        params["grid"] = grids
    for spec in args.set or []:
        key, values = parse_set(spec)
        if key == "objective":  # the result table has an objective column: name the parameter by its path
            key = "design.objective"
        if key in params:
            raise SpecError(f"--set {key} is given twice; list all its values in one --set")
        params[key] = values
    if not params:
        raise SpecError("sweep: nothing to vary; add --grid 11,21 or --set KEY=V1,V2 (see mechopt sweep --help)")
    # the first point fails here, before any worker starts, with the loader's one-line message
    builder.load((grids or [None])[0], **{k: v[0] for k, v in params.items() if k != "grid"})
    executor, close = _executor(args)
    try:
        df = sweep(builder, params, executor=executor, progress=not args.quiet)
    finally:
        if close:
            close()
    if args.out:
        df.to_csv(args.out, index=False)
        if not args.quiet:
            print(f"wrote {len(df)} rows to {args.out}", file=sys.stderr)
    if args.json:
        records = [{k: _plain(v) for k, v in row.items()} for row in df.to_dict("records")]
        for r in records:
            r["reductions"] = json.loads(r["reductions"])
        print(json.dumps({"model": builder.name, "parameters": list(params), "points": records}))
    elif not args.out:
        shown = df.drop(columns=["reductions"])
        print(f"{builder.meta['title']}  ({len(df)} points)")
        print(shown.to_string(index=False, float_format=lambda x: f"{x:.6g}"))
    return 0


def _converge(args: argparse.Namespace) -> int:
    from .sweeps import converge

    builder = ModelBuilder(args.model)
    sizes = _grids(args.grid)
    if sizes is None or len(sizes) < 2:
        raise SpecError("converge: give at least two grid sizes, e.g. --grid 11,21,41,81")
    builder.load(sizes[0])  # a bad model or an un-griddable one fails here with the loader's message
    executor, close = _executor(args)
    try:
        conv = converge(builder.at_grid, sizes, executor=executor, order=args.order, progress=not args.quiet)
    finally:
        if close:
            close()
    continuum = builder.meta["expected"].get("continuum")
    continuum = float(continuum) if continuum is not None else None
    if args.json:
        print(json.dumps({
            "model": builder.name,
            "table": [{k: _plain(v) for k, v in row.items()} for row in conv.table.to_dict("records")],
            "estimate": conv.estimate, "error": conv.error, "order": conv.order,
            "order_fitted": conv.order_fitted, "continuum": continuum,
        }))
        return 0
    print(f"{builder.meta['title']}: objective on grids {sizes}")
    print(conv.table.to_string(index=False, float_format=lambda x: f"{x:.8g}"))
    how = "fitted" if conv.order_fitted else "given"
    print(f"estimate {conv.estimate:.8g} ± {conv.error:.2g}  (Richardson in 1/n, order {conv.order:.3g} {how})")
    if continuum is not None:
        print(f"continuum (model file) {continuum:.8g}; difference {conv.estimate - continuum:+.2e}")
    return 0


def configure_sweep(s: argparse.ArgumentParser) -> None:
    """Arguments of ``mechopt sweep``."""
    s.add_argument("model", metavar="MODEL", help="path to a .toml model file, or a built-in name")
    s.add_argument("--grid", metavar="N1,N2,...", help="grid sizes to sweep (every agent re-gridded)")
    s.add_argument("--set", action="append", metavar="KEY=V1,V2|KEY=LO:HI:N",
                   help="a parameter axis: design option, environment key or dotted path (repeatable)")
    _common(s)
    s.add_argument("--out", metavar="FILE.csv", help="write the table as CSV")


def configure_converge(c: argparse.ArgumentParser) -> None:
    """Arguments of ``mechopt converge``."""
    c.add_argument("model", metavar="MODEL", help="path to a .toml model file, or a built-in name")
    c.add_argument("--grid", metavar="N1,N2,...", required=True, help="increasing grid sizes, e.g. 11,21,41,81")
    c.add_argument("--order", type=float, metavar="P", help="order of the leading error term (default: fitted)")
    _common(c)


def register_commands(register: Any) -> None:
    """Add ``sweep`` and ``converge`` through :func:`mechopt.cli.register`."""
    register("sweep", "solve a model over a grid of parameters (a table or CSV)", configure_sweep, _sweep)
    register("converge", "objective on refining grids, extrapolated to the continuum", configure_converge,
             _converge)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", type=int, metavar="N", help="solve in N worker processes")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on stderr")

