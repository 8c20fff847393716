"""The model-file schema: pydantic models of the TOML tables (see :mod:`mechopt.modelfile`).

Every option is a :data:`typing.Literal` type, so :func:`json_schema` (``mechopt
schema``) lists the allowed values and editors can validate and complete model
files.  Numbers go through :func:`mechopt.exact.to_fraction` (the package's one
conversion: a TOML ``0.3`` read as :class:`~decimal.Decimal` and a float typed
in Python both become ``3/10``).  Errors are pydantic errors translated by
:func:`describe` into ``(key path, message with the fix)``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Tag, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from ..errors import MechoptError, ModelFileError, SpecError
from ..exact import to_fraction

__all__ = [
    "ModelSpec", "EnvironmentSpec", "AgentSpec", "DesignSpec", "ExpectedSpec", "JointPriorSpec",
    "GridTypes", "ValuesTypes", "DistTypes", "WeightsPrior", "json_schema", "describe",
    "KINDS", "VALUATIONS", "METHODS", "STATUSES", "IC", "IR", "BUDGET", "ALLOCATION", "OBJECTIVE",
]


# Which [environment] keys each kind uses (besides ``kind``).
_KIND_KEYS = {
    "single_item": {"seller_value"},
    "bilateral_trade": set(),
    "partnership": set(),
    "public_project": {"cost"},
    "multi_item": {"items", "valuation"},
    "table": {"outcomes", "cost"},
    "procurement": {"value"},
    "interdependent_item": {"alpha", "seller_value"},
}

# The options as Literal types (the JSON Schema lists them; tests check they match mechopt.design.OPTIONS).
Kind = Literal["single_item", "bilateral_trade", "partnership", "public_project", "multi_item", "table",
               "procurement", "interdependent_item"]
Valuation = Literal["additive", "unit_demand"]
Method = Literal["midpoint", "quantile"]
Status = Literal["optimal", "infeasible", "unbounded"]
KINDS: tuple[str, ...] = Kind.__args__
VALUATIONS: tuple[str, ...] = Valuation.__args__
METHODS: tuple[str, ...] = Method.__args__
STATUSES: tuple[str, ...] = Status.__args__
PROB_TOL = 1e-9
MAX_DEPTH = 32  # nesting of number arrays (numpy allows 64 dimensions; one per agent is plenty)

IC = Literal["dsic", "bic", "none", "ex_post"]
IR = Literal["ex_post", "interim", "ex_ante", "none"]
BUDGET = Literal["exact", "ex_post", "ex_ante", "none"]
ALLOCATION = Literal["free", "efficient"]
OBJECTIVE = Literal["revenue", "welfare", "utility", "gains", "feasibility"]


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
    """A finite number (int, TOML decimal, float, Fraction or a string like "1/3") as a Fraction."""
    if isinstance(v, bool) or not isinstance(v, (int, Decimal, float, Fraction, str, np.integer, np.floating)):
        raise _fail(f"expected a number, got {_typename(v)} {_show(v)}; write a number such as 0.5 or \"1/3\"", sub)
    try:
        return to_fraction(v, "the value")
    except SpecError as exc:
        text = str(exc).removeprefix("the value ")
        if isinstance(v, str) and text.startswith("must be a number"):
            text = f"expected a number, got the string {v!r}; write a number such as 0.5 or \"1/3\""
        elif text.startswith("must be finite"):
            text = f"must be a finite number, got {_show(v)}; replace it with a finite number"
        raise _fail(text, sub) from None


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


def _choice(lit: Any) -> Any:
    """``Literal[...]`` with mechopt's messages (closest value, the list); its JSON Schema is the enum."""
    valid = tuple(lit.__args__)
    return Annotated[lit, BeforeValidator(_option("", valid))]


def _array(v: Any) -> np.ndarray:
    """A (nested) list of numbers as an exact object array; rectangular, finite."""
    if not isinstance(v, (list, tuple)):
        raise _fail(f"expected a list of numbers, got {_typename(v)} {_show(v)}; write [ ... ]")
    if len(v) == 0:
        raise _fail("is empty; give at least one number")

    def walk(x: Any, sub: str, depth: int) -> Any:
        if isinstance(x, (list, tuple)):
            if depth >= MAX_DEPTH:
                raise _fail(f"arrays are nested more than {MAX_DEPTH} levels deep; use one level per agent "
                            "(prior.joint) or two (type vectors, value tables)")
            if len(x) == 0:
                raise _fail("is an empty list; give numbers", sub)
            return [walk(y, f"{sub}[{j}]", depth + 1) for j, y in enumerate(x)]
        return _fraction(x, sub)

    nested = walk(v, "", 0)
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


_NUM_SCHEMA = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*[-+]?[0-9.eE+-]+(/[0-9]+)?\s*$",
                                                 "description": "a ratio such as \"1/3\" or a decimal"}]}
_ARRAY_SCHEMA = {"type": "array", "minItems": 1, "description": "numbers, or nested lists of numbers (a table)"}
Num = Annotated[Any, BeforeValidator(_number), WithJsonSchema(_NUM_SCHEMA)]
Int = Annotated[Any, BeforeValidator(_integer), WithJsonSchema({"type": "integer"})]
Str = Annotated[Any, BeforeValidator(_string), WithJsonSchema({"type": "string"})]
Bool = Annotated[Any, BeforeValidator(_boolean), WithJsonSchema({"type": "boolean"})]
Array = Annotated[Any, BeforeValidator(_array), WithJsonSchema(_ARRAY_SCHEMA)]
NumOrArray = Annotated[Any, BeforeValidator(_number_or_array), WithJsonSchema({"anyOf": [_NUM_SCHEMA, _ARRAY_SCHEMA]})]
GridTriple = Annotated[Any, BeforeValidator(_grid), WithJsonSchema(
    {"type": "array", "prefixItems": [_NUM_SCHEMA, _NUM_SCHEMA, {"type": "integer", "minimum": 2}],
     "minItems": 3, "maxItems": 3, "description": "[lo, hi, n]: n equally spaced points from lo to hi"})]


# ============================================================================ schema
class _Block(BaseModel):
    """A TOML table: unknown keys are errors (all of them reported, with the closest valid key)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _table(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise _fail(f"expected a table, got {_typename(data)} {_show(data)}")
        return data


class GridTypes(_Block):
    grid: GridTriple


class ValuesTypes(_Block):
    values: Array


class DistTypes(_Block):
    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True, frozen=True)
    dist: Str
    n: Int
    method: _choice(Method) = "midpoint"
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
    Annotated[Annotated[Literal["uniform"], BeforeValidator(_uniform)], Tag("uniform")]
    | Annotated[WeightsPrior, Tag("weights")],
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
    kind: _choice(Kind)
    seller_value: Num | None = None
    cost: NumOrArray | None = None
    items: Int | None = None
    valuation: _choice(Valuation) | None = None
    outcomes: list[Str] | None = None
    value: Num | None = None
    alpha: Num | None = None


class JointPriorSpec(_Block):
    joint: Array


class DesignSpec(_Block):
    ic: _choice(IC) = "bic"
    ir: _choice(IR) = "interim"
    budget: _choice(BUDGET) = "none"
    allocation: _choice(ALLOCATION) = "free"
    objective: _choice(OBJECTIVE) = "revenue"
    deterministic: Bool = False


class ExpectedSpec(_Block):
    objective: Num | None = None
    status: _choice(Status) | None = None
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


_CHILDREN: dict[tuple[type, str], type] = {}


def _block_at(loc: tuple) -> type | None:
    """The schema class of the table at ``loc`` (a pydantic error location), or None."""
    if not _CHILDREN:
        _CHILDREN.update({
            (ModelSpec, "environment"): EnvironmentSpec, (ModelSpec, "agents"): AgentSpec,
            (ModelSpec, "prior"): JointPriorSpec, (ModelSpec, "design"): DesignSpec,
            (ModelSpec, "expected"): ExpectedSpec,
        })
    parts = [p for p in loc if isinstance(p, str) and not p.startswith(("function-", "nullable[", "union["))]
    cls: type | None = ModelSpec
    j = 0
    while j < len(parts) and cls is not None:
        p = parts[j]
        tag = parts[j + 1] if j + 1 < len(parts) else None
        if cls is AgentSpec and p == "types":
            cls = {"grid": GridTypes, "values": ValuesTypes, "dist": DistTypes}.get(tag)
            j += 2
        elif cls is AgentSpec and p == "prior":
            cls = WeightsPrior if tag == "weights" else None
            j += 2
        else:
            cls = _CHILDREN.get((cls, p))
            j += 1
    return cls


def describe(err: dict) -> tuple[str, str]:
    """(key path, message with the fix) of one pydantic error of :class:`ModelSpec`."""
    loc, typ, ctx = err["loc"], err["type"], err.get("ctx") or {}
    path = _path(loc)
    inp = err.get("input")
    if typ == "extra_forbidden":
        key = str(loc[-1])
        block = _block_at(tuple(loc[:-1]))
        valid = list(block.model_fields) if block is not None else []
        hint = _suggest(key, valid)
        keys = f"; valid keys here: {', '.join(valid)}" if valid else "; remove it"
        return path, f"unknown key {key!r}{hint}{keys}"
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


_describe = describe


def json_schema() -> dict:
    """JSON Schema (draft 2020-12) of model files, as printed by ``mechopt schema``.

    Returns
    -------
    dict
        The schema of :class:`ModelSpec`; options are enums (``design.ic`` is
        ``["dsic", "bic", "none"]``), numbers are numbers or ratio strings.
    """
    schema = ModelSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mechopt model file"
    return schema


def _where(source: str, path: str, msg: str) -> ModelFileError:
    err = ModelFileError(f"{source}: {path}: {msg}" if path else f"{source}: {msg}")
    err.problems = [(path, msg)]
    return err


@contextmanager
def _at(source: str, path: str) -> Iterator[None]:
    """Re-raise SpecErrors from the core as ModelFileErrors naming the file and key path."""
    try:
        yield
    except ModelFileError:
        raise
    except (SpecError, MechoptError) as exc:
        raise _where(source, path, str(exc)) from None

