"""Model files: a mechanism design problem as a TOML file (DESIGN.md §3).

A model file holds an environment, its agents, the designer's requirements and,
optionally, the published answer to compare with::

    title = "Bilateral trade, second best"
    reference = "Myerson & Satterthwaite (1983)"
    description = "what the model demonstrates (one line, shown by `mechopt list`)"
    [environment]
    kind = "bilateral_trade"     # single_item | bilateral_trade | partnership |
                                 # public_project | multi_item | table
    [[agents]]                   # bilateral_trade: the buyer first, then the seller
    name = "buyer"
    types = { grid = [0, 1, 21] }
    [[agents]]
    name = "seller"
    types = { grid = [0, 1, 21] }
    [design]
    ic = "bic"
    ir = "interim"
    budget = "ex_ante"
    objective = "welfare"
    [expected]
    objective = 0.640625
    tolerance = 0.015
    note = "continuum limit 1/2 + 9/64; the 21-point grid adds about 0.28/n"

Keys
----
top level
    ``title``, ``reference``, ``description``, ``note`` (strings, optional),
    ``environment``, ``agents`` (required), ``prior``, ``design``, ``expected``.
``[environment]``
    ``kind`` (required); ``seller_value`` (single_item, default 0); ``cost``
    (public_project: a number; table: a number or one per outcome); ``items``
    (multi_item, default 2) and ``valuation`` (``"additive"`` or
    ``"unit_demand"``); ``outcomes`` (table, required).
``[[agents]]``
    ``name``, ``types`` (required): ``{ grid = [lo, hi, n] }`` (n equally spaced
    points, exact), ``{ values = [...] }`` (numbers in increasing order, or type
    vectors ``[[..], ..]`` for multi_item), or ``{ dist = "beta", a = 2, b = 2,
    n = 50, method = "midpoint", support = [lo, hi] }`` (any continuous
    ``scipy.stats`` distribution with its parameters, ``loc`` and ``scale``,
    discretized by :func:`mechopt.discretize`).  ``prior``: ``"uniform"``
    (default) or ``{ weights = [...] }`` (not with ``dist``, whose masses are the
    prior).  ``share`` (partnership, required for every agent), ``values`` (table:
    one row per type, one column per outcome), ``outside`` (outside option, a
    number or one per type; default: the builder's).
``[prior]``
    ``joint``: nested list with one axis per agent (correlated types).
``[design]``
    ``ic``, ``ir``, ``budget``, ``allocation``, ``objective``, ``deterministic``
    as in :class:`mechopt.Design` (same defaults).
``[expected]``
    ``objective`` (the value on the file's grid, within ``tolerance``),
    ``status``, ``revenue``, ``welfare``, ``utility``, ``continuum`` (the
    continuum limit, for information), ``tolerance`` (absolute, default 1e-6),
    ``note``, ``reference``.

Numbers are read exactly: TOML decimals with ``parse_float=Decimal`` (``0.2``
is 1/5), and a string such as ``"1/3"`` is accepted wherever a number is.

Every problem raises :class:`~mechopt.errors.ModelFileError` with one line:
``<file>: <key path>: <what is wrong>; <how to fix it>``.
"""

from __future__ import annotations

import difflib
import math
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Tag, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from .design import OPTIONS, Design
from .environments import bilateral_trade, multi_item, partnership, public_project, single_item
from .errors import MechoptError, ModelFileError, SpecError
from .spec import Agent, Environment, discretize, grid

try:  # Python >= 3.11
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "load", "save", "loads", "dumps", "from_dict", "to_dict", "builtin_models", "model_path", "KINDS", "STATUSES",
]

KINDS = ("single_item", "bilateral_trade", "partnership", "public_project", "multi_item", "table")
VALUATIONS = ("additive", "unit_demand")
METHODS = ("midpoint", "quantile")
STATUSES = ("optimal", "infeasible", "unbounded")
PROB_TOL = 1e-9

# Which [environment] keys each kind uses (besides ``kind``).
_KIND_KEYS = {
    "single_item": {"seller_value"},
    "bilateral_trade": set(),
    "partnership": set(),
    "public_project": {"cost"},
    "multi_item": {"items", "valuation"},
    "table": {"outcomes", "cost"},
}

# The source tables of environments read from files, so that ``save`` writes them back as written.
_SOURCES: weakref.WeakKeyDictionary[Environment, list] = weakref.WeakKeyDictionary()


# ============================================================================ values
def _fail(msg: str, sub: str = "") -> PydanticCustomError:
    return PydanticCustomError("mechopt", "{msg}", {"msg": msg, "sub": sub})


def _typename(v: Any) -> str:
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, Decimal, float, Fraction)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, dict):
        return "a table"
    return type(v).__name__


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return repr(v)
    text = str(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _fraction(v: Any, sub: str = "") -> Fraction:
    """A finite number (int, Decimal, float, Fraction or a string like "1/3") as a Fraction."""
    if isinstance(v, bool) or not isinstance(v, (int, Decimal, float, Fraction, str, np.integer, np.floating)):
        raise _fail(f"expected a number, got {_typename(v)} {_show(v)}; write a number such as 0.5 or \"1/3\"", sub)
    if isinstance(v, Decimal):
        if not v.is_finite():
            raise _fail(f"must be a finite number, got {v}; replace it with a finite number", sub)
        return Fraction(v)
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(v):
            raise _fail(f"must be a finite number, got {v}; replace it with a finite number", sub)
        return Fraction(float(v))
    if isinstance(v, str):
        try:
            x = Fraction(v.strip())
        except (ValueError, ZeroDivisionError):
            msg = f"expected a number, got the string {v!r}; write a number such as 0.5 or \"1/3\""
            raise _fail(msg, sub) from None
        return x
    return Fraction(v)


def _number(v: Any) -> Fraction:
    return _fraction(v)


def _integer(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise _fail(f"expected an integer, got {_typename(v)} {_show(v)}; write a whole number such as 21")
    return int(v)


def _string(v: Any) -> str:
    if not isinstance(v, str):
        raise _fail(f"expected a string, got {_typename(v)} {_show(v)}; put it in quotes")
    return v


def _boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise _fail(f"expected true or false, got {_typename(v)} {_show(v)}")
    return v


def _suggest(word: str, valid: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(word), list(valid), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _option(name: str, valid: tuple[str, ...]):
    def check(v: Any) -> str:
        if not isinstance(v, str):
            raise _fail(f"expected a string, got {_typename(v)} {_show(v)}; choose one of {', '.join(valid)}")
        if v not in valid:
            raise _fail(f"unknown value {v!r}{_suggest(v, valid)}; choose one of {', '.join(valid)}")
        return v

    return check


def _array(v: Any) -> np.ndarray:
    """A (nested) list of numbers as an exact object array; rectangular, finite."""
    if not isinstance(v, (list, tuple)):
        raise _fail(f"expected a list of numbers, got {_typename(v)} {_show(v)}; write [ ... ]")
    if len(v) == 0:
        raise _fail("is empty; give at least one number")

    def walk(x: Any, sub: str) -> Any:
        if isinstance(x, (list, tuple)):
            if len(x) == 0:
                raise _fail("is an empty list; give numbers", sub)
            return [walk(y, f"{sub}[{j}]") for j, y in enumerate(x)]
        return _fraction(x, sub)

    nested = walk(v, "")
    shape: list[int] = []
    x = nested
    while isinstance(x, list):
        shape.append(len(x))
        x = x[0]

    def check(x: Any, depth: int, sub: str) -> None:
        if depth == len(shape):
            if isinstance(x, list):
                raise _fail("is ragged (lists nested to different depths); give a rectangular table", sub)
            return
        if not isinstance(x, list) or len(x) != shape[depth]:
            got = len(x) if isinstance(x, list) else "a number"
            raise _fail(f"is ragged: expected {shape[depth]} entries, got {got}; give a rectangular table", sub)
        for j, y in enumerate(x):
            check(y, depth + 1, f"{sub}[{j}]")

    check(nested, 0, "")
    out = np.empty(tuple(shape), dtype=object)
    for idx in np.ndindex(*shape):
        y = nested
        for j in idx:
            y = y[j]
        out[idx] = y
    return out


def _number_or_array(v: Any) -> Any:
    return _array(v) if isinstance(v, (list, tuple)) else _fraction(v)


def _grid(v: Any) -> tuple[Fraction, Fraction, int]:
    if not isinstance(v, (list, tuple)) or len(v) != 3:
        raise _fail(f"expected [lo, hi, n], got {_show(v)}; write e.g. grid = [0, 1, 21]")
    lo, hi = _fraction(v[0], "[0]"), _fraction(v[1], "[1]")
    n = v[2]
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise _fail(f"the number of points must be an integer >= 2, got {_show(n)}", "[2]")
    if not lo < hi:
        raise _fail(f"needs lo < hi, got lo = {lo}, hi = {hi}; swap them")
    return lo, hi, int(n)


Num = Annotated[Any, BeforeValidator(_number)]
Int = Annotated[Any, BeforeValidator(_integer)]
Str = Annotated[Any, BeforeValidator(_string)]
Bool = Annotated[Any, BeforeValidator(_boolean)]
Array = Annotated[Any, BeforeValidator(_array)]
NumOrArray = Annotated[Any, BeforeValidator(_number_or_array)]


# ============================================================================ schema
class _Block(BaseModel):
    """A TOML table: unknown keys are errors that name the closest valid key."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)
    _open: ClassVar[bool] = False  # tables whose extra keys are checked later (distribution parameters)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise PydanticCustomError(
                "mechopt", "{msg}", {"msg": f"expected a table, got {_typename(data)} {_show(data)}", "sub": ""}
            )
        if not cls._open:
            valid = list(cls.model_fields)
            for key in data:
                if key not in valid:
                    raise PydanticCustomError("unknown_key", "unknown key {key}", {"key": key, "valid": valid})
        return data


class GridTypes(_Block):
    grid: Annotated[Any, BeforeValidator(_grid)]


class ValuesTypes(_Block):
    values: Array


class DistTypes(_Block):
    _open: ClassVar[bool] = True
    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True, frozen=True)
    dist: Str
    n: Int
    method: Annotated[Any, BeforeValidator(_option("method", METHODS))] = "midpoint"
    support: Array | None = None

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def _types_tag(v: Any) -> str | None:
    if isinstance(v, dict):
        tags = [t for t in ("grid", "values", "dist") if t in v]
        if len(tags) == 1:
            return tags[0]
        if len(tags) > 1:
            return "conflict"
    return None


TypesSpec = Annotated[
    Annotated[GridTypes, Tag("grid")] | Annotated[ValuesTypes, Tag("values")] | Annotated[DistTypes, Tag("dist")],
    Discriminator(
        _types_tag,
        custom_error_type="types_tag",
        custom_error_message="types must be a table with one of grid, values, dist",
    ),
]


class WeightsPrior(_Block):
    weights: Array


def _uniform(v: Any) -> str:
    if v != "uniform":
        raise _fail(f"unknown value {_show(v)}; write prior = \"uniform\" or prior = {{ weights = [...] }}")
    return v


def _prior_tag(v: Any) -> str | None:
    if isinstance(v, str):
        return "uniform"
    if isinstance(v, dict):
        return "weights"
    return None


PriorSpec = Annotated[
    Annotated[Annotated[str, BeforeValidator(_uniform)], Tag("uniform")] | Annotated[WeightsPrior, Tag("weights")],
    Discriminator(
        _prior_tag,
        custom_error_type="prior_tag",
        custom_error_message="prior must be \"uniform\" or { weights = [...] }",
    ),
]


class AgentSpec(_Block):
    name: Str
    types: TypesSpec
    prior: PriorSpec | None = None
    share: Num | None = None
    values: Array | None = None
    outside: NumOrArray | None = None


class EnvironmentSpec(_Block):
    kind: Annotated[Any, BeforeValidator(_option("kind", KINDS))]
    seller_value: Num | None = None
    cost: NumOrArray | None = None
    items: Int | None = None
    valuation: Annotated[Any, BeforeValidator(_option("valuation", VALUATIONS))] | None = None
    outcomes: list[Str] | None = None


class JointPriorSpec(_Block):
    joint: Array


class DesignSpec(_Block):
    ic: Annotated[Any, BeforeValidator(_option("ic", OPTIONS["ic"]))] = "bic"
    ir: Annotated[Any, BeforeValidator(_option("ir", OPTIONS["ir"]))] = "interim"
    budget: Annotated[Any, BeforeValidator(_option("budget", OPTIONS["budget"]))] = "none"
    allocation: Annotated[Any, BeforeValidator(_option("allocation", OPTIONS["allocation"]))] = "free"
    objective: Annotated[Any, BeforeValidator(_option("objective", OPTIONS["objective"]))] = "revenue"
    deterministic: Bool = False


class ExpectedSpec(_Block):
    objective: Num | None = None
    status: Annotated[Any, BeforeValidator(_option("status", STATUSES))] | None = None
    revenue: Num | None = None
    welfare: Num | None = None
    utility: Num | None = None
    continuum: Num | None = None
    tolerance: Num | None = None
    note: Str | None = None
    reference: Str | None = None


class ModelSpec(_Block):
    title: Str | None = None
    reference: Str | None = None
    description: Str | None = None
    note: Str | None = None
    environment: EnvironmentSpec
    agents: list[AgentSpec]
    prior: JointPriorSpec | None = None
    design: DesignSpec | None = None
    expected: ExpectedSpec | None = None


# ============================================================================ errors
_TAGS = {"grid", "values", "dist", "uniform", "weights"}


def _path(loc: tuple) -> str:
    out = ""
    parts = list(loc)
    cleaned = []
    for j, p in enumerate(parts):
        # tagged unions put the tag into the location: agents.0.types.grid.grid -> agents[0].types.grid
        if isinstance(p, str) and p in _TAGS and j > 0 and parts[j - 1] in ("types", "prior"):
            continue
        # optional fields validated through a union with None add a type name
        if isinstance(p, str) and p.startswith(("function-", "nullable[", "union[")):
            continue
        cleaned.append(p)
    for p in cleaned:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _describe(err: dict) -> tuple[str, str]:
    """(key path, message) of one pydantic error."""
    loc, typ, ctx = err["loc"], err["type"], err.get("ctx") or {}
    path = _path(loc)
    inp = err.get("input")
    if typ == "unknown_key":
        key, valid = ctx["key"], list(ctx["valid"])
        path = f"{path}.{key}" if path else key
        hint = _suggest(key, valid)
        return path, f"unknown key {key!r}{hint}; valid keys here: {', '.join(valid)}"
    if typ == "mechopt":
        return path + ctx.get("sub", ""), ctx["msg"]
    if typ == "missing":
        return path, "missing required key; add it"
    if typ == "types_tag":
        if isinstance(inp, list):
            return path, "must be a table, not a list; write types = { values = [...] } or { grid = [lo, hi, n] }"
        return path, ("needs exactly one of grid, values, dist; write types = { grid = [lo, hi, n] }, "
                      "{ values = [...] } or { dist = \"beta\", a = 2, b = 2, n = 50 }")
    if typ == "prior_tag":
        return path, f"expected \"uniform\" or {{ weights = [...] }}, got {_typename(inp)} {_show(inp)}"
    if typ == "union_tag_invalid":
        return path, "give exactly one of grid, values, dist"
    if typ in ("list_type", "tuple_type"):
        return path, f"expected a list, got {_typename(inp)} {_show(inp)}; write [ ... ]"
    if typ in ("model_type", "dict_type", "model_attributes_type"):
        return path, f"expected a table, got {_typename(inp)} {_show(inp)}"
    return path, f"{err['msg']}"


def _where(source: str, path: str, msg: str) -> ModelFileError:
    return ModelFileError(f"{source}: {path}: {msg}" if path else f"{source}: {msg}")


@contextmanager
def _at(source: str, path: str) -> Iterator[None]:
    """Re-raise SpecErrors from the core as ModelFileErrors naming the file and key path."""
    try:
        yield
    except ModelFileError:
        raise
    except (SpecError, MechoptError) as exc:
        raise _where(source, path, str(exc)) from None


# ============================================================================ finding files
def _models_dir():
    return resources.files("mechopt").joinpath("models")


def builtin_models() -> list[str]:
    """Names of the model files shipped with mechopt (``mechopt list``)."""
    d = _models_dir()
    try:
        return sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".toml"))
    except (FileNotFoundError, NotADirectoryError):  # pragma: no cover
        return []


def model_path(path_or_name: str | Path) -> Path:
    """The file a model argument refers to: an existing path, else a built-in model name."""
    p = Path(path_or_name)
    if p.is_file():
        return p
    name = str(path_or_name)
    if p.exists():
        raise ModelFileError(f"{name}: is not a file; give the path of a .toml model file")
    looks_like_name = "/" not in name and "\\" not in name and not name.endswith(".toml")
    if looks_like_name:
        candidate = _models_dir().joinpath(f"{name}.toml")
        if candidate.is_file():
            return Path(str(candidate))
    names = builtin_models()
    hint = _suggest(p.stem if not looks_like_name else name, names)
    raise ModelFileError(
        f"{name}: no such model file or built-in model{hint}; give a path to a .toml file or a name from `mechopt list`"
    )


# ============================================================================ loading
def load(path_or_name: str | Path, grid: int | None = None) -> tuple[Environment, Design, dict]:
    """Read a model file.

    Parameters
    ----------
    path_or_name : str or Path
        A path to a ``.toml`` file, or the name of a built-in model
        (``mechopt list``), e.g. ``"bilateral_trade"``.
    grid : int, optional
        Replace the number of points of every agent's grid (``{ grid = ... }``
        or ``{ dist = ..., n = ... }`` types) by ``grid`` (the CLI's ``--grid``).

    Returns
    -------
    (Environment, Design, dict)
        The metadata dict holds ``name``, ``path``, ``title``, ``reference``,
        ``description``, ``note``, ``expected`` (dict; numbers as Fractions),
        ``tolerance`` (float) and ``grid`` (the override, or None).

    Raises
    ------
    ModelFileError
        One line naming the file, the key path and the fix.
    """
    path = model_path(path_or_name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: cannot be read ({exc}); check the file") from None
    name = path.stem
    return loads(text, source=str(path), name=name, grid=grid)


def loads(text: str, source: str = "<string>", name: str = "model", grid: int | None = None):
    """Like :func:`load`, from the text of a model file."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        msg = " ".join(str(exc).split())
        raise ModelFileError(f"{source}: not valid TOML: {msg}; fix the syntax") from None
    return from_dict(data, source=source, name=name, grid=grid)


def from_dict(data: dict, source: str = "<dict>", name: str = "model", grid: int | None = None):
    """Like :func:`load`, from the parsed TOML tables (a dict)."""
    if grid is not None and (isinstance(grid, bool) or not isinstance(grid, int) or grid < 2):
        raise ModelFileError(f"--grid must be an integer >= 2, got {grid!r}")
    try:
        spec = ModelSpec.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        path, msg = _describe(errors[0])
        raise _where(source, path, msg) from None
    env = _build_environment(spec, source, grid)
    _SOURCES[env] = [data.get("environment"), data.get("agents"), data.get("prior"), grid]
    d = spec.design or DesignSpec()
    with _at(source, "design"):
        design = Design(
            env, ic=d.ic, ir=d.ir, budget=d.budget, allocation=d.allocation, objective=d.objective,
            deterministic=d.deterministic,
        )
    expected: dict[str, Any] = {}
    if spec.expected is not None:
        # attributes, not model_dump(): pydantic >= 2.14 serializes Fraction values to strings
        fields = type(spec.expected).model_fields
        expected = {k: getattr(spec.expected, k) for k in fields if getattr(spec.expected, k) is not None}
        tol = expected.get("tolerance")
        if tol is not None and tol < 0:
            raise _where(source, "expected.tolerance", f"must be >= 0, got {tol}")
        if design.objective == "feasibility" and "objective" in expected and expected["objective"] != 0:
            raise _where(source, "expected.objective", "a feasibility model's objective is 0; use expected.status")
    meta = {
        "name": name,
        "path": source,
        "title": spec.title or name,
        "reference": spec.reference,
        "description": spec.description,
        "note": spec.note if spec.note is not None else expected.get("note"),
        "expected": expected,
        "tolerance": float(expected.get("tolerance", Fraction(1, 10**6))),
        "grid": grid,
    }
    return env, design, meta


def _agent_types(a: AgentSpec, where: str, source: str, grid_n: int | None):
    """(types, prior or None) of one agent; ``where`` is its key path."""
    t = a.types
    if isinstance(t, GridTypes):
        lo, hi, n = t.grid
        if grid_n is not None:
            n = grid_n
        with _at(source, f"{where}.types.grid"):
            return grid(lo, hi, n), None
    if isinstance(t, ValuesTypes):
        if grid_n is not None:
            raise _where(source, f"{where}.types.values",
                         f"--grid {grid_n} cannot re-grid types listed explicitly; drop --grid for this model")
        vals = t.values
        if vals.ndim == 1 and any(not x < y for x, y in zip(vals[:-1], vals[1:])):
            raise _where(source, f"{where}.types.values",
                         "types must be strictly increasing; sort them (and their prior weights)")
        return vals, None
    # a scipy.stats distribution
    import scipy.stats as stats

    dname = t.dist
    candidates = [k for k, v in vars(stats).items() if isinstance(v, stats.rv_continuous)]
    dist_obj = getattr(stats, dname, None)
    if not isinstance(dist_obj, stats.rv_continuous):
        raise _where(source, f"{where}.types.dist",
                     f"unknown distribution {dname!r}{_suggest(dname, candidates)}; "
                     "use the name of a continuous scipy.stats distribution, e.g. \"beta\", \"uniform\", \"norm\"")
    shapes = [s.strip() for s in (dist_obj.shapes or "").split(",") if s.strip()]
    allowed = shapes + ["loc", "scale"]
    params: dict[str, float] = {}
    for key, value in t.params.items():
        if key not in allowed:
            valid = ["dist", "n", "method", "support", *allowed]
            raise _where(source, f"{where}.types.{key}",
                         f"unknown key {key!r}{_suggest(key, valid)}; {dname} takes {', '.join(allowed)} "
                         "(plus dist, n, method, support)")
        try:
            params[key] = float(_fraction(value))
        except PydanticCustomError as exc:
            raise _where(source, f"{where}.types.{key}", exc.context["msg"]) from None
    missing = [s for s in shapes if s not in params]
    if missing:
        raise _where(source, f"{where}.types",
                     f"distribution {dname!r} needs the parameters {', '.join(shapes)}; add {', '.join(missing)}")
    n = grid_n if grid_n is not None else t.n
    if n < 1:
        raise _where(source, f"{where}.types.n", f"must be a positive integer, got {n}")
    frozen = dist_obj(**params)
    lo_hi = frozen.support()
    if any(np.isnan(float(x)) for x in lo_hi):
        raise _where(source, f"{where}.types",
                     f"scipy.stats rejects the parameters of {dname} ({_show(params)}); check their ranges")
    support = None
    if t.support is not None:
        if t.support.shape != (2,):
            raise _where(source, f"{where}.types.support", "expected [lo, hi]")
        support = (float(t.support[0]), float(t.support[1]))
    with _at(source, f"{where}.types"):
        d = discretize(frozen, n, method=t.method, support=support)
    if not (np.all(np.isfinite(d.types)) and np.all(np.isfinite(d.prior))):
        raise _where(source, f"{where}.types", f"the discretization of {dname} is not finite; check its parameters")
    return d.types, d.prior


def _weights(w: np.ndarray, T: int, path: str, source: str) -> np.ndarray:
    if w.ndim != 1 or w.shape[0] != T:
        got = w.shape[0] if w.ndim == 1 else f"shape {w.shape}"
        raise _where(source, path, f"has {got} weights for {T} types; give one weight per type")
    neg = [j for j, x in enumerate(w) if x < 0]
    if neg:
        raise _where(source, f"{path}[{neg[0]}]", f"is negative ({float(w[neg[0]]):g}); weights must be >= 0")
    total = sum(w, Fraction(0))
    if abs(float(total) - 1) > PROB_TOL * max(1, T):
        raise _where(source, path, f"weights sum to {float(total):.12g}, not 1; make them sum to 1")
    return w


def _build_environment(spec: ModelSpec, source: str, grid_n: int | None) -> Environment:
    e = spec.environment
    kind = e.kind
    given = {k for k in ("seller_value", "cost", "items", "valuation", "outcomes") if getattr(e, k) is not None}
    for key in sorted(given - _KIND_KEYS[kind]):
        users = [k for k, keys in _KIND_KEYS.items() if key in keys]
        raise _where(source, f"environment.{key}",
                     f"not used by kind {kind!r} (it belongs to {', '.join(users)}); remove it")
    if not spec.agents:
        raise _where(source, "agents", "no agents; add at least one [[agents]] table")
    names = [a.name for a in spec.agents]
    for i, nm in enumerate(names):
        if not nm.strip():
            raise _where(source, f"agents[{i}].name", "is empty; give the agent a name")
        if nm in names[:i]:
            raise _where(source, f"agents[{i}].name", f"{nm!r} is used twice; give every agent its own name")
    joint = spec.prior.joint if spec.prior is not None else None
    if joint is not None and grid_n is not None:
        raise _where(source, "prior.joint",
                     f"--grid {grid_n} cannot re-grid a joint prior listed explicitly; drop --grid for this model")

    agents = []
    for i, a in enumerate(spec.agents):
        where = f"agents[{i}]"
        if a.share is not None and kind != "partnership":
            raise _where(source, f"{where}.share",
                         f"only partnership agents have a share, not kind {kind!r}; remove it")
        if a.values is not None and kind != "table":
            raise _where(source, f"{where}.values",
                         f"value tables belong to kind 'table'; kind {kind!r} computes values; remove it")
        types, prior = _agent_types(a, where, source, grid_n)
        T = len(types)
        if a.prior is not None:
            if prior is not None:
                raise _where(source, f"{where}.prior",
                             "a distribution's discretization already sets the prior; remove prior")
            if joint is not None:
                raise _where(source, f"{where}.prior",
                             "with a [prior] joint table the marginals come from the joint prior; remove prior")
            if isinstance(a.prior, WeightsPrior):
                if grid_n is not None and isinstance(a.types, GridTypes):
                    raise _where(source, f"{where}.prior.weights",
                                 f"--grid {grid_n} cannot re-grid types with listed weights; "
                                 "drop --grid for this model")
                prior = _weights(a.prior.weights, T, f"{where}.prior.weights", source)
        with _at(source, where):
            agents.append(Agent(a.name, types, prior, a.outside))
    if joint is not None:
        shape = tuple(ag.n_types for ag in agents)
        if joint.shape != shape:
            raise _where(source, "prior.joint",
                         f"has shape {joint.shape} but the agents' types need {shape} (one axis per agent, "
                         "in the order of [[agents]]); fix the nesting")
        neg = np.argwhere(np.vectorize(lambda x: x < 0, otypes=[bool])(joint))
        if len(neg):
            idx = "".join(f"[{j}]" for j in neg[0])
            raise _where(source, f"prior.joint{idx}", "is negative; probabilities must be >= 0")
        total = sum(joint.flat, Fraction(0))
        if abs(float(total) - 1) > PROB_TOL * max(1, joint.size):
            raise _where(source, "prior.joint", f"sums to {float(total):.12g}, not 1; make it sum to 1")

    with _at(source, "environment"):
        if kind == "single_item":
            return single_item(agents, seller_value=e.seller_value or 0, prior=joint)
        if kind == "bilateral_trade":
            if len(agents) != 2:
                raise _where(source, "agents",
                             f"bilateral_trade needs exactly 2 agents (buyer, then seller), got {len(agents)}")
            return bilateral_trade(agents[0], agents[1], prior=joint)
        if kind == "partnership":
            missing = [i for i, a in enumerate(spec.agents) if a.share is None]
            if missing:
                raise _where(source, f"agents[{missing[0]}].share",
                             "partnership needs a share for every agent; add share = ...")
            shares = [a.share for a in spec.agents]
            for i, s in enumerate(shares):
                if s < 0:
                    raise _where(source, f"agents[{i}].share", f"is negative ({s}); shares must be >= 0")
            total = sum(shares, Fraction(0))
            if abs(float(total) - 1) > PROB_TOL:
                raise _where(source, "agents[*].share", f"shares sum to {float(total):.12g}, not 1; make them sum to 1")
            return partnership(agents, shares, prior=joint)
        if kind == "public_project":
            if e.cost is None:
                raise _where(source, "environment.cost", "public_project needs the project's cost; add cost = ...")
            if isinstance(e.cost, np.ndarray):
                raise _where(source, "environment.cost", "public_project's cost is one number; write cost = 1")
            return public_project(agents, e.cost, prior=joint)
        if kind == "multi_item":
            return multi_item(agents, items=2 if e.items is None else e.items,
                              valuation=e.valuation or "additive", prior=joint)
        # table
        if e.outcomes is None:
            raise _where(source, "environment.outcomes", "kind 'table' needs outcomes = [\"a\", \"b\", ...]; add it")
        K = len(e.outcomes)
        values = []
        for i, a in enumerate(spec.agents):
            if a.values is None:
                raise _where(source, f"agents[{i}].values",
                             f"kind 'table' needs a value table (types x outcomes = {agents[i].n_types} x {K}); add it")
            if a.values.shape != (agents[i].n_types, K):
                raise _where(source, f"agents[{i}].values",
                             f"has shape {a.values.shape} but needs (types, outcomes) = ({agents[i].n_types}, {K}); "
                             "one row per type, one column per outcome")
            values.append(a.values)
        cost = e.cost
        if isinstance(cost, np.ndarray) and cost.shape != (K,):
            raise _where(source, "environment.cost", f"has {cost.size} entries for {K} outcomes; give one per outcome")
        return Environment(agents, e.outcomes, values, cost=cost, prior=joint)


# ============================================================================ saving
def _toml_number(x: Any) -> Any:
    """An exact number as TOML: int, a short decimal, or a "p/q" string."""
    x = Fraction(x)
    if x.denominator == 1:
        return int(x)
    d = x.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d == 1:
        digits = max(twos, fives)
        if digits <= 20:
            dec = (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal(1).scaleb(-digits))
            if Fraction(dec) == x:
                return dec.normalize() if dec != dec.to_integral_value() else dec
    return f"{x.numerator}/{x.denominator}"


def _toml_array(a: Any) -> Any:
    arr = np.asarray(a, dtype=object)
    if arr.ndim == 0:
        return _toml_number(arr.item())
    return [_toml_array(x) for x in arr]


def _as_grid(t: np.ndarray) -> list | None:
    if t.ndim != 1 or len(t) < 2:
        return None
    step = t[1] - t[0]
    if step <= 0 or any(t[j + 1] - t[j] != step for j in range(len(t) - 1)):
        return None
    return [_toml_number(t[0]), _toml_number(t[-1]), len(t)]


def _plain(x: Any) -> Any:
    """Decimal-friendly copy of parsed TOML (for writing back)."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, Fraction):
        return _toml_number(x)
    if isinstance(x, float):
        return Decimal(repr(x))
    return x


def to_dict(env: Environment, design: Design | None = None, **metadata: Any) -> dict:
    """The TOML tables of a model (what :func:`save` writes)."""
    out: dict[str, Any] = {}
    for key in ("title", "reference", "description", "note"):
        if metadata.get(key) is not None:
            out[key] = str(metadata[key])
    source = _SOURCES.get(env)
    if source is not None and source[3] is None:
        env_t, agents_t, prior_t, _ = source
        out["environment"] = _plain(env_t)
        out["agents"] = _plain(agents_t)
        if prior_t is not None:
            out["prior"] = _plain(prior_t)
    else:
        out.update(_env_tables(env))
    if design is not None:
        out["design"] = {
            "ic": design.ic, "ir": design.ir, "budget": design.budget, "allocation": design.allocation,
            "objective": design.objective, "deterministic": bool(design.deterministic),
        }
    expected = metadata.get("expected")
    if expected:
        exp = {}
        for k, v in expected.items():
            if isinstance(v, float):
                v = Decimal(repr(v))
            exp[k] = v if isinstance(v, (str, bool)) else _toml_number(v)
        out["expected"] = exp
    return out


def _env_tables(env: Environment) -> dict:
    kind = env.kind if env.kind in KINDS else "table"
    e: dict[str, Any] = {"kind": kind}
    agents_t: list[dict] = []
    shares = env.meta.get("shares")
    if kind == "single_item" and env.meta.get("seller_value", 0) != 0:
        e["seller_value"] = _toml_number(env.meta["seller_value"])
    elif kind == "public_project":
        e["cost"] = _toml_number(env.meta["cost"])
    elif kind == "multi_item":
        e["items"] = int(env.meta["items"])
        e["valuation"] = env.meta["valuation"]
    elif kind == "table":
        e["outcomes"] = list(env.outcomes)
        if any(c != 0 for c in env.cost_exact):
            e["cost"] = _toml_array(env.cost_exact)
    for i, a in enumerate(env.agents):
        t: dict[str, Any] = {"name": a.name}
        g = _as_grid(a.types_exact)
        t["types"] = {"grid": g} if g is not None else {"values": _toml_array(a.types_exact)}
        T = a.n_types
        if env.is_independent and any(p != Fraction(1, T) for p in a.prior_exact):
            t["prior"] = {"weights": _toml_array(a.prior_exact)}
        if kind == "partnership":
            t["share"] = _toml_number(shares[i])
        if kind == "table":
            t["values"] = _toml_array(env.values_exact[i])
        default = _default_outside(env, i)
        if any(u != d for u, d in zip(env.outside_exact[i], default)):
            t["outside"] = _toml_array(env.outside_exact[i])
        agents_t.append(t)
    out: dict[str, Any] = {"environment": e, "agents": agents_t}
    if not env.is_independent:
        out["prior"] = {"joint": _toml_array(env.joint_prior_exact)}
    return out


def _default_outside(env: Environment, i: int) -> list:
    a = env.agents[i]
    if env.kind == "bilateral_trade" and i == 1:
        return list(a.types_exact)
    if env.kind == "partnership":
        r = Fraction(env.meta["shares"][i])
        return [r * t for t in a.types_exact]
    return [Fraction(0)] * a.n_types


_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _toml_key(k: str) -> str:
    return k if k and set(k) <= _BARE else _toml_value(str(k))


def _toml_value(v: Any, depth: int = 0) -> str:
    import json

    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, Decimal):
        text = str(v)
        return text if any(c in text for c in ".eE") else text + ".0"
    if isinstance(v, (float, Fraction)):
        return _toml_value(_toml_number(Decimal(repr(v)) if isinstance(v, float) else v), depth)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x, depth + 1)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        items = [_toml_value(x, depth + 1) for x in v]
        if v and all(isinstance(x, (list, tuple)) for x in v) and depth == 0:
            pad = "    "
            return "[\n" + "".join(f"{pad}{x},\n" for x in items) + "]"
        return "[" + ", ".join(items) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")  # pragma: no cover


def dumps(data: dict) -> str:
    """TOML text of a model's tables (inline tables for types and priors)."""
    lines: list[str] = []

    def body(table: dict) -> None:
        for k, v in table.items():
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")

    top = {k: v for k, v in data.items() if not isinstance(v, (dict, list))}
    body(top)
    for k, v in data.items():
        if isinstance(v, dict):
            lines.extend(["", f"[{_toml_key(k)}]"])
            body(v)
        elif isinstance(v, list):
            for t in v:
                lines.extend(["", f"[[{_toml_key(k)}]]"])
                body(t)
    return "\n".join(lines).lstrip("\n") + "\n"


def save(env: Environment, design: Design | None, path: str | Path, **metadata: Any) -> Path:
    """Write a model file that :func:`load` reads back to the same environment and design.

    Parameters
    ----------
    env : Environment
    design : Design or None
        Its options go to ``[design]`` (its environment is not consulted).
    path : str or Path
    **metadata
        ``title``, ``reference``, ``description``, ``note`` (strings) and
        ``expected`` (a dict such as ``{"objective": 0.640625, "tolerance": 0.015}``).

    Notes
    -----
    Numbers are written exactly: integers, decimals when the number has a short
    decimal expansion, otherwise strings ``"p/q"``.  Equally spaced types are
    written as ``{ grid = [lo, hi, n] }``; an environment read from a file is
    written back with its original type tables (``dist`` included).
    """
    unknown = set(metadata) - {"title", "reference", "description", "note", "expected"}
    if unknown:
        raise ModelFileError(
            f"save: unknown metadata {sorted(unknown)}; use title, reference, description, note, expected"
        )
    data = to_dict(env, design, **metadata)
    path = Path(path)
    path.write_text(dumps(data), encoding="utf-8")
    return path
