"""Reading model files: TOML text → validated :class:`~.schema.ModelSpec` → Environment and Design."""

from __future__ import annotations

import weakref
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from ..design import Design
from ..environments import (
    bilateral_trade,
    interdependent_item,
    multi_item,
    partnership,
    procurement,
    public_project,
    single_item,
)
from ..errors import ModelFileError
from ..spec import Agent, Environment, discretize, grid
from .library import model_path
from .schema import (
    _KIND_KEYS,
    PROB_TOL,
    AgentSpec,
    DesignSpec,
    GridTypes,
    ModelSpec,
    ValuesTypes,
    WeightsPrior,
    _at,
    _fraction,
    _show,
    _suggest,
    _where,
    describe,
)

try:  # Python >= 3.11
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["load", "loads", "from_dict", "MAX_ERRORS"]

MAX_ERRORS = 10  # problems reported at once

# The source tables of environments read from files, so that ``save`` writes them back as written.
_SOURCES: weakref.WeakKeyDictionary[Environment, list] = weakref.WeakKeyDictionary()


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
        text = path.read_text(encoding="utf-8-sig")  # a UTF-8 byte-order mark (Windows editors) is fine
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{path}: is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                             "save the file as UTF-8") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot be read ({exc.strerror}); check the file and its permissions") from None
    name = path.stem
    return loads(text, source=str(path), name=name, grid=grid)


def loads(text: str, source: str = "<string>", name: str = "model", grid: int | None = None):
    """Like :func:`load`, from the text of a model file."""
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        msg = " ".join(str(exc).split())
        raise ModelFileError(f"{source}: not valid TOML: {msg}; fix the syntax") from None
    except RecursionError:
        raise ModelFileError(f"{source}: arrays or tables nested too deeply for TOML; "
                             "use at most a few levels (one per agent in prior.joint)") from None
    return from_dict(data, source=source, name=name, grid=grid)


def from_dict(data: dict, source: str = "<dict>", name: str = "model", grid: int | None = None):
    """Like :func:`load`, from the parsed TOML tables (a dict)."""
    if grid is not None and (isinstance(grid, bool) or not isinstance(grid, int) or grid < 2):
        raise ModelFileError(f"--grid must be an integer >= 2, got {grid!r}")
    try:
        spec = ModelSpec.model_validate(data)
    except ValidationError as exc:
        raise _problems(source, exc) from None
    except RecursionError:
        raise ModelFileError(f"{source}: arrays nested too deeply; use one level per agent (prior.joint) "
                             "or two (type vectors, value tables)") from None
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


def _problems(source: str, exc: ValidationError) -> ModelFileError:
    """One ModelFileError listing up to :data:`MAX_ERRORS` problems, each with its key path and fix."""
    found: list[tuple[str, str]] = []
    for err in exc.errors(include_url=False):
        item = describe(err)
        if item not in found:
            found.append(item)
    return _combined(source, found)


def _combined(source: str, found: list[tuple[str, str]]) -> ModelFileError:
    """One ModelFileError for several (key path, message) problems (at most :data:`MAX_ERRORS` listed)."""
    shown = found[:MAX_ERRORS]
    if len(found) == 1:
        out = _where(source, *found[0])
    else:
        more = f" (and {len(found) - MAX_ERRORS} more)" if len(found) > MAX_ERRORS else ""
        text = " ".join(f"({j}) {p}: {m}" if p else f"({j}) {m}" for j, (p, m) in enumerate(shown, 1))
        out = ModelFileError(f"{source}: {len(found)} problems{more}: {text}")
    out.problems = shown
    return out


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


def _build_agent(a: AgentSpec, where: str, kind: str, joint: Any, source: str, grid_n: int | None) -> Agent:
    """One agent of the file (``where`` is its key path, e.g. ``agents[0]``)."""
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
        return Agent(a.name, types, prior, a.outside)


def _build_environment(spec: ModelSpec, source: str, grid_n: int | None) -> Environment:
    e = spec.environment
    kind = e.kind
    found: list[tuple[str, str]] = []  # independent problems, reported together
    given = {k for k in ("seller_value", "cost", "items", "valuation", "outcomes", "value", "alpha")
             if getattr(e, k) is not None}
    for key in sorted(given - _KIND_KEYS[kind]):
        users = [k for k, keys in _KIND_KEYS.items() if key in keys]
        found.append((f"environment.{key}", f"not used by kind {kind!r} (it belongs to {', '.join(users)}); remove it"))
    if not spec.agents:
        found.append(("agents", "no agents; add at least one [[agents]] table"))
        raise _combined(source, found)
    names = [a.name for a in spec.agents]
    for i, nm in enumerate(names):
        if not nm.strip():
            found.append((f"agents[{i}].name", "is empty; give the agent a name"))
        elif nm in names[:i]:
            found.append((f"agents[{i}].name", f"{nm!r} is used twice; give every agent its own name"))
    joint = spec.prior.joint if spec.prior is not None else None
    if joint is not None and grid_n is not None:
        found.append(("prior.joint",
                      f"--grid {grid_n} cannot re-grid a joint prior listed explicitly; drop --grid for this model"))

    agents = []
    for i, a in enumerate(spec.agents):
        try:
            agents.append(_build_agent(a, f"agents[{i}]", kind, joint, source, grid_n))
        except ModelFileError as exc:
            found.extend(getattr(exc, "problems", None) or [("", str(exc))])
    if found:
        raise _combined(source, found)
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
        if kind == "procurement":
            if e.value is None:
                raise _where(source, "environment.value", "procurement needs the buyer's value; add value = ...")
            return procurement(agents, e.value, prior=joint)
        if kind == "interdependent_item":
            if e.alpha is None:
                raise _where(source, "environment.alpha",
                             "interdependent_item needs alpha (winner i's value is t_i + alpha * sum of the "
                             "others' types); add alpha = ...")
            return interdependent_item(agents, alpha=e.alpha, seller_value=e.seller_value or 0, prior=joint)
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

