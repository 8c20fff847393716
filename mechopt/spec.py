"""Agents and environments: the data of a mechanism design problem.

Notation (used throughout mechopt)
----------------------------------
n
    number of agents, indexed i = 0..n-1.
T_i
    number of types of agent i; ``Θ_i = (θ_i^1 < … < θ_i^{T_i})`` (scalar) or a
    list of ``T_i`` type vectors.
K
    number of outcomes; a mechanism picks a lottery ``x(θ) ∈ Δ(K)``.
S
    number of type profiles, ``S = T_0 · … · T_{n-1}``; profiles are ordered
    lexicographically (C order of an array of shape ``(T_0, …, T_{n-1})``).
V_i
    value table of agent i, shape ``(T_i, K)``: ``V_i[t, k] = v_i(k, θ_i^t)``.
c
    designer cost per outcome, shape ``(K,)``.
U_i
    outside option of agent i per type, shape ``(T_i,)`` (default 0).
π
    prior over profiles: a product of the agents' marginals (independent) or a
    joint array of shape ``(T_0, …, T_{n-1})`` (correlated).

All data are stored exactly (Fractions, see :mod:`mechopt.exact`) and as float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .errors import MechoptError, SpecError
from .exact import as_float as _as_float
from .exact import exact_array, to_fraction

__all__ = ["grid", "discretize", "Discretization", "Agent", "Environment"]

PROB_TOL = 1e-9
MAX_TYPES = 2_000_000  # types per agent (and grid/discretize points): each is an exact Fraction in memory


def as_float(values: np.ndarray, what: str = "data") -> np.ndarray:
    """Float64 copy of an exact array; a number beyond float range is a :class:`SpecError`."""
    try:
        return _as_float(values)
    except OverflowError:
        raise SpecError(
            f"{what} has a number beyond the float range (|x| > 1.8e308); rescale the data"
        ) from None


def _check_count(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise SpecError(f"{what} must be a positive integer, got {n!r}")
    if n > MAX_TYPES:
        raise SpecError(f"{what}={n:,} is too many points (at most {MAX_TYPES:,}); use fewer points")
    return int(n)


def grid(lo: Any, hi: Any, n: int) -> np.ndarray:
    """``n`` equally spaced points from ``lo`` to ``hi`` (both included), exactly.

    Parameters
    ----------
    lo, hi : number
        End points, ``lo < hi`` (decimals such as ``0.2`` are read as 1/5).
    n : int
        Number of points, at least 2 (or 1, giving ``[lo]``).

    Returns
    -------
    numpy.ndarray
        Object array of shape ``(n,)`` holding Fractions: ``grid(0, 1, 6)`` is
        ``0, 1/5, 2/5, 3/5, 4/5, 1``.
    """
    n = _check_count(n, "grid size n")
    a = _decimal_fraction(lo, "grid lower end")
    b = _decimal_fraction(hi, "grid upper end")
    if n == 1:
        return np.array([a], dtype=object)
    if not a < b:
        raise SpecError(f"grid needs lo < hi, got lo={lo}, hi={hi}")
    step = (b - a) / (n - 1)
    # a + j·step over one common denominator: integer arithmetic, no Fraction addition per point
    den = a.denominator * step.denominator // math.gcd(a.denominator, step.denominator)
    first, inc = a.numerator * (den // a.denominator), step.numerator * (den // step.denominator)
    return np.array([Fraction(first + j * inc, den) for j in range(n)], dtype=object)


def _decimal_fraction(x: Any, what: str) -> Fraction:
    """Like :func:`to_fraction`, but a float is read as the decimal it prints as."""
    if isinstance(x, (float, np.floating)):
        return to_fraction(repr(float(x)), what) if np.isfinite(x) else to_fraction(x, what)
    return to_fraction(x, what)


class Discretization(NamedTuple):
    """Types and prior masses of a discretized distribution (unpacks as a pair)."""

    types: np.ndarray
    prior: np.ndarray


def discretize(dist: Any, n: int, method: str = "midpoint", support: tuple | None = None) -> Discretization:
    """Discretize a continuous ``scipy.stats`` distribution into ``n`` types.

    Parameters
    ----------
    dist : scipy.stats frozen distribution
        E.g. ``scipy.stats.beta(2, 2)``.
    n : int
        Number of types.
    method : {"midpoint", "quantile"}
        ``"midpoint"``: split the support ``[lo, hi]`` into ``n`` equal cells; the
        types are the cell midpoints and the masses the CDF mass of each cell
        (renormalized to the support).  ``"quantile"``: types at the quantiles
        ``F⁻¹((j + 1/2)/n)``, each with mass ``1/n``.
    support : (lo, hi), optional
        Needed when the distribution's support is unbounded (the masses are then
        those of the distribution truncated to ``[lo, hi]``).

    Returns
    -------
    Discretization
        ``(types, prior)``; pass it as ``Agent(name, discretize(...))``.

    Notes
    -----
    Continuum results (e.g. Myerson's reserve ψ⁻¹(0)) are approached at rate
    O(1/n) under either method; results quoted by mechopt's tests say which
    method they use.
    """
    n = _check_count(n, "discretize: n")
    if not hasattr(dist, "cdf") or not hasattr(dist, "ppf"):
        raise SpecError("discretize expects a frozen scipy.stats distribution, e.g. scipy.stats.beta(2, 2)")
    try:
        lo, hi = (float(v) for v in (support if support is not None else dist.support()))
    except (TypeError, ValueError):
        raise SpecError(f"discretize: support must be two numbers (lo, hi), got {support!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise SpecError(
            f"discretize: the distribution's support [{lo}, {hi}] is unbounded; pass support=(lo, hi)"
        )
    if not lo < hi:
        raise SpecError(f"discretize: support needs lo < hi, got ({lo}, {hi})")
    if method == "midpoint":
        edges = np.linspace(lo, hi, n + 1)
        types = (edges[:-1] + edges[1:]) / 2
        masses = np.diff(dist.cdf(edges))
    elif method == "quantile":
        q0, q1 = dist.cdf(lo), dist.cdf(hi)
        types = dist.ppf(q0 + (q1 - q0) * (np.arange(n) + 0.5) / n)
        masses = np.full(n, 1.0 / n)
    else:
        raise SpecError(f"discretize: unknown method {method!r}; use 'midpoint' or 'quantile'")
    if masses.sum() <= 0:
        raise SpecError("discretize: the distribution puts no mass on the support")
    return Discretization(types, masses / masses.sum())


def _exact_sum(values: Any) -> Fraction:
    """Exact sum of Fractions, adding numerators per denominator (fast when few denominators occur)."""
    by_den: dict[int, int] = {}
    for f in values:
        f = f if isinstance(f, Fraction) else Fraction(f)
        by_den[f.denominator] = by_den.get(f.denominator, 0) + f.numerator
    return sum((Fraction(num, den) for den, num in by_den.items()), Fraction(0))


def _normalized_prior(prior: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """Validate probabilities and return them exactly normalized (object array)."""
    arr = np.asarray(as_float(exact_array(prior, what), what))
    if arr.shape != shape:
        raise SpecError(f"{what} has shape {arr.shape} but the types need shape {shape}; give one weight per type")
    if np.any(arr < 0):
        raise SpecError(f"{what} has negative probabilities; weights must be >= 0")
    total = arr.sum()
    if abs(total - 1) > PROB_TOL * max(1, arr.size):
        raise SpecError(f"{what} sums to {total:.12g}, not 1; normalize the weights")
    exact = exact_array(prior, what)
    exact_total = _exact_sum(exact.flat)
    return exact if exact_total == 1 else exact / exact_total


@dataclass(frozen=True, eq=False)
class Agent:
    """An agent with a finite type set, a prior over it and an outside option.

    Parameters
    ----------
    name : str
        Unique name (used as a label in every table).
    types : array_like, shape (T,) or (T, d), or Discretization
        Scalar types in strictly increasing order, or ``T`` type vectors.
    prior : array_like, shape (T,), optional
        Probabilities of the types (default: equal weights).  Normalized
        exactly after checking they sum to 1 within 1e-9.
    outside : array_like, shape (T,), optional
        Outside option ``U_i(θ)``, the utility of not participating.  ``None``
        lets an environment builder choose (bilateral-trade seller: θ; partner
        with share r: r·θ); otherwise 0.
    """

    name: str
    types: Any
    prior: Any = None
    outside: Any = None
    types_exact: np.ndarray = field(init=False, repr=False)
    prior_exact: np.ndarray = field(init=False, repr=False)
    outside_exact: np.ndarray | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise SpecError(f"agent name must be a non-empty string, got {self.name!r}")
        types, prior = self.types, self.prior
        if isinstance(types, Discretization):
            types, prior = types.types, (types.prior if prior is None else prior)
        t_exact = exact_array(types, f"types of agent {self.name!r}")
        if t_exact.ndim not in (1, 2) or t_exact.shape[0] == 0:
            raise SpecError(
                f"types of agent {self.name!r} must be a non-empty list of numbers (T,) or of vectors (T, d),"
                f" got shape {t_exact.shape}"
            )
        t_float = as_float(t_exact, f"types of agent {self.name!r}")
        if t_exact.ndim == 1 and np.any(np.diff(t_float) <= 0) and not _strictly_increasing(t_exact):
            raise SpecError(f"types of agent {self.name!r} must be strictly increasing; sort them (and their prior)")
        if t_exact.ndim == 2 and len({tuple(r) for r in t_exact}) < t_exact.shape[0]:
            raise SpecError(f"types of agent {self.name!r} contain duplicate type vectors")
        T = t_exact.shape[0]
        if T > MAX_TYPES:
            raise SpecError(f"agent {self.name!r} has {T:,} types (at most {MAX_TYPES:,}); use fewer types")
        if prior is None:
            p_exact = np.array([Fraction(1, T)] * T, dtype=object)
        else:
            p_exact = _normalized_prior(prior, (T,), f"prior of agent {self.name!r}")
        o_exact = _outside_array(self.name, self.outside, T)
        object.__setattr__(self, "types_exact", t_exact)
        object.__setattr__(self, "prior_exact", p_exact)
        object.__setattr__(self, "outside_exact", o_exact)
        object.__setattr__(self, "types", t_float)
        object.__setattr__(self, "prior", as_float(p_exact, f"prior of agent {self.name!r}"))
        if o_exact is not None:
            object.__setattr__(self, "outside", as_float(o_exact, f"outside option of agent {self.name!r}"))

    @property
    def n_types(self) -> int:
        """Number of types T."""
        return self.types_exact.shape[0]

    @property
    def is_scalar(self) -> bool:
        """True for scalar (one-dimensional) types."""
        return self.types_exact.ndim == 1

    @property
    def type_labels(self) -> list:
        """Labels for tables: floats for scalar types, tuples of floats for vectors."""
        if self.is_scalar:
            return [float(t) for t in self.types]
        return [tuple(float(v) for v in row) for row in self.types]

    def with_outside(self, outside: Any) -> Agent:
        """A copy with another outside option (types and prior are not validated again)."""
        new = object.__new__(Agent)
        for key in ("name", "types", "prior", "types_exact", "prior_exact"):
            object.__setattr__(new, key, getattr(self, key))
        o_exact = _outside_array(self.name, outside, self.n_types)
        object.__setattr__(new, "outside_exact", o_exact)
        object.__setattr__(new, "outside", None if o_exact is None else as_float(o_exact))
        return new

    def with_types(self, types: Any, prior: Any = None) -> Agent:
        """A copy with other types and prior (the outside option is reset)."""
        return Agent(self.name, types, prior, None)

    def __repr__(self) -> str:
        t = self.types
        desc = f"{t.shape[0]} types in [{t.min():g}, {t.max():g}]" if self.is_scalar else f"{t.shape[0]} type vectors"
        return f"Agent({self.name!r}, {desc})"


def _outside_array(name: str, outside: Any, T: int) -> np.ndarray | None:
    """An outside option as an exact array of shape (T,) (a number is used for every type)."""
    if outside is None:
        return None
    o_exact = exact_array(outside, f"outside option of agent {name!r}")
    if o_exact.ndim == 0:
        o_exact = np.array([o_exact.item()] * T, dtype=object)
    if o_exact.shape != (T,):
        raise SpecError(f"outside option of agent {name!r} has shape {o_exact.shape}; give one number per type ({T})")
    return o_exact


def _strictly_increasing(exact: np.ndarray) -> bool:
    return all(a < b for a, b in zip(exact[:-1], exact[1:]))


class Environment:
    """A quasilinear environment (private or interdependent values) with finitely many types and outcomes.

    Parameters
    ----------
    agents : sequence of Agent
        The agents (names must be unique).
    outcomes : sequence of str
        Outcome labels, K of them.
    values : sequence of array_like or callable, dict name -> array_like, or callable
        One table per agent, shape ``(T_i, K)``: ``values[i][t, k] = v_i(k, θ_i^t)``
        (private values); or, for *interdependent values*, shape
        ``(T_0, …, T_{n-1}, K)``: ``values[i][t_0, …, t_{n-1}, k] = v_i(k, θ)``; or a
        callable ``v(i, k, profile)`` (``profile``: object array of the agents'
        exact types) evaluated once at every profile into exact tables.  With
        any profile table, :attr:`is_private` is False and ``values[i]`` are all
        profile tables (see :func:`mechopt.environments.interdependent_item`).
    cost : array_like, shape (K,), optional
        Designer cost of each outcome (default 0).
    prior : array_like, shape (T_0, …, T_{n-1}), optional
        Joint prior for correlated types.  Default: product of the agents' priors.
    kind : str, optional
        Name of the builder that made it (``"table"`` when built directly).
    meta : dict, optional
        Builder parameters (shares, cost, items, …), kept for display and files.
    """

    def __init__(
        self,
        agents: Sequence[Agent],
        outcomes: Sequence[str],
        values: Sequence[Any] | dict,
        cost: Any = None,
        prior: Any = None,
        kind: str = "table",
        meta: dict | None = None,
    ) -> None:
        if isinstance(agents, Agent) or not isinstance(agents, Sequence):
            raise SpecError("an environment needs a list of mechopt.Agent objects, e.g. [mo.Agent(...), ...]")
        agents = tuple(agents)
        if not agents or not all(isinstance(a, Agent) for a in agents):
            raise SpecError("an environment needs a non-empty list of mechopt.Agent objects")
        names = [a.name for a in agents]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise SpecError(f"agent names must be unique; {dup} appear more than once")
        if isinstance(outcomes, (str, bytes)) or not isinstance(outcomes, Sequence):
            raise SpecError(f"outcomes must be a list of labels, e.g. ['no', 'yes'], got {outcomes!r}")
        outcomes = tuple(str(o) for o in outcomes)
        if not outcomes:
            raise SpecError("an environment needs at least one outcome")
        if len(set(outcomes)) < len(outcomes):
            raise SpecError("outcome labels must be unique")
        K = len(outcomes)
        if isinstance(values, dict):
            missing = [n for n in names if n not in values]
            if missing:
                raise SpecError(f"values are missing for agents {missing}")
            values = [values[n] for n in names]
        if callable(values):
            values = [values] * len(agents)
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise SpecError(f"values must be one table (types x outcomes) per agent, got {type(values).__name__}")
        values = list(values)
        if len(values) != len(agents):
            raise SpecError(f"give one value table per agent: {len(agents)} agents but {len(values)} tables")
        v_exact, interdependent = _value_tables(agents, values, K)
        c_exact = np.array([Fraction(0)] * K, dtype=object) if cost is None else exact_array(cost, "cost")
        if c_exact.ndim == 0:
            c_exact = np.array([c_exact.item()] * K, dtype=object)
        if c_exact.shape != (K,):
            raise SpecError(f"cost has shape {c_exact.shape}; give one number per outcome ({K})")
        shape = tuple(a.n_types for a in agents)
        joint = None
        if prior is not None:
            joint = _normalized_prior(prior, shape, "joint prior")
            marg = [
                np.array([_exact_sum(x.flat) for x in np.moveaxis(joint, i, 0)], dtype=object)
                for i in range(len(agents))
            ]
            agents = tuple(Agent(a.name, a.types_exact, m, a.outside_exact) for a, m in zip(agents, marg))
        self.agents: tuple[Agent, ...] = agents
        self.outcomes: tuple[str, ...] = outcomes
        self.is_private: bool = not interdependent
        self.values_exact: tuple[np.ndarray, ...] = tuple(v_exact)
        self.values: tuple[np.ndarray, ...] = tuple(
            as_float(v, f"values of agent {a.name!r}") for a, v in zip(agents, v_exact)
        )
        self.cost_exact: np.ndarray = c_exact
        self.cost: np.ndarray = as_float(c_exact, "cost")
        self.outside_exact: tuple[np.ndarray, ...] = tuple(
            a.outside_exact if a.outside_exact is not None else np.array([Fraction(0)] * a.n_types, dtype=object)
            for a in agents
        )
        self.outside: tuple[np.ndarray, ...] = tuple(as_float(u) for u in self.outside_exact)
        self.joint_prior_exact_given: np.ndarray | None = joint
        self.kind = kind
        self.meta = dict(meta or {})

    # ------------------------------------------------------------------ sizes
    @property
    def n_agents(self) -> int:
        """Number of agents n."""
        return len(self.agents)

    @property
    def n_outcomes(self) -> int:
        """Number of outcomes K."""
        return len(self.outcomes)

    @property
    def shape(self) -> tuple[int, ...]:
        """``(T_0, …, T_{n-1})``."""
        return tuple(a.n_types for a in self.agents)

    @property
    def n_profiles(self) -> int:
        """Number of type profiles S."""
        return math.prod(self.shape)  # exact: T^n overflows int64 for many bidders

    @property
    def names(self) -> list[str]:
        """Agent names in order."""
        return [a.name for a in self.agents]

    @property
    def is_independent(self) -> bool:
        """True when the prior is the product of the agents' marginals."""
        return self.joint_prior_exact_given is None

    def agent_index(self, agent: str | int) -> int:
        """Position of an agent given by name or index."""
        if isinstance(agent, (int, np.integer)) and 0 <= agent < self.n_agents:
            return int(agent)
        if agent in self.names:
            return self.names.index(agent)
        raise SpecError(f"unknown agent {agent!r}; the agents are {self.names}")

    # ------------------------------------------------------------------ priors
    @cached_property
    def joint_prior(self) -> np.ndarray:
        """Prior over profiles, float array of shape ``(T_0, …, T_{n-1})``."""
        if self.joint_prior_exact_given is not None:
            return as_float(self.joint_prior_exact_given)
        out = np.ones(())
        for a in self.agents:
            out = np.multiply.outer(out, a.prior)
        return out

    @cached_property
    def joint_prior_exact(self) -> np.ndarray:
        """Exact prior over profiles (object array of Fractions)."""
        if self.joint_prior_exact_given is not None:
            return self.joint_prior_exact_given
        out = np.array(Fraction(1), dtype=object)
        for a in self.agents:
            out = np.multiply.outer(out, a.prior_exact)
        return np.asarray(out, dtype=object)

    # ------------------------------------------------------------------ labels
    @cached_property
    def profile_index(self) -> pd.MultiIndex:
        """Index of the S profiles, one level per agent (type labels)."""
        return pd.MultiIndex.from_product([a.type_labels for a in self.agents], names=self.names)

    @cached_property
    def profile_values_exact(self) -> tuple[np.ndarray, ...]:
        """Exact values at every profile: per agent an object array of shape ``(S, K)``,
        ``[s, k] = v_i(k, θ(s))`` (for private values, ``V_i[θ_i(s), k]`` repeated)."""
        if not self.is_private:
            return tuple(V.reshape(self.n_profiles, self.n_outcomes) for V in self.values_exact)
        own = np.unravel_index(np.arange(self.n_profiles), self.shape)
        return tuple(V[own[i]] for i, V in enumerate(self.values_exact))

    @cached_property
    def profile_values(self) -> tuple[np.ndarray, ...]:
        """Float twin of :attr:`profile_values_exact`, per agent shape ``(S, K)``."""
        if not self.is_private:
            return tuple(V.reshape(self.n_profiles, self.n_outcomes) for V in self.values)
        own = np.unravel_index(np.arange(self.n_profiles), self.shape)
        return tuple(V[own[i]] for i, V in enumerate(self.values))

    @cached_property
    def welfare_table(self) -> np.ndarray:
        """Welfare ``Σ_i v_i(k, θ) − c(k)``, float array of shape ``(S, K)`` (profile values
        when values are interdependent)."""
        if not self.is_private:
            return sum(self.profile_values) - self.cost
        return _welfare(self.values, self.cost, self.shape)

    def efficient_outcomes(self, tol: float = 1e-9) -> np.ndarray:
        """Boolean ``(S, K)``: outcome k maximizes welfare at profile s.

        Ties are decided exactly: outcomes within ``tol`` (relative) of the float
        maximum are compared in rational arithmetic.
        """
        W = self.welfare_table
        best = W.max(axis=1, keepdims=True)
        scale = max(1.0, float(np.abs(W).max()))
        near = W >= best - tol * scale
        ambiguous = np.flatnonzero(near.sum(axis=1) > 1)
        if ambiguous.size:
            idx = np.unravel_index(ambiguous, self.shape)
            for row, prof in zip(ambiguous, zip(*idx)):
                cand = np.flatnonzero(near[row])
                if self.is_private:
                    w = [
                        sum((self.values_exact[i][prof[i], k] for i in range(self.n_agents)), Fraction(0))
                        - self.cost_exact[k]
                        for k in cand
                    ]
                else:
                    w = [sum((V[row, k] for V in self.profile_values_exact), Fraction(0)) - self.cost_exact[k]
                         for k in cand]
                m = max(w)
                near[row, cand] = [wk == m for wk in w]
        return near

    def __repr__(self) -> str:
        prior = "independent" if self.is_independent else "correlated"
        values = "" if self.is_private else ", values=interdependent"
        return (
            f"Environment(kind={self.kind!r}, agents={self.names}, types={list(self.shape)}, "
            f"outcomes={self.n_outcomes}, profiles={self.n_profiles}, prior={prior}{values})"
        )


def _welfare(values: Sequence[np.ndarray], cost: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``Σ_i V_i[θ_i, k] − c_k`` for every profile, shape ``(S, K)`` (works on object arrays too)."""
    n = len(values)
    K = cost.shape[0]
    total = np.zeros(shape + (K,), dtype=values[0].dtype) - cost
    for i, V in enumerate(values):
        total = total + V.reshape((1,) * i + (shape[i],) + (1,) * (n - i - 1) + (K,))
    return total.reshape(-1, K)


def _value_tables(agents: tuple[Agent, ...], values: list, K: int) -> tuple[list[np.ndarray], bool]:
    """Exact value tables and whether values are interdependent.

    Each entry of ``values`` is a private table ``(T_i, K)``, a profile table
    ``(T_0, …, T_{n-1}, K)`` (interdependent values: ``v_i(k, θ)`` depends on the
    whole profile), or a callable ``v(i, k, profile)`` evaluated once at every
    profile (``profile``: object array of the agents' exact types).  When any
    agent's table is a profile table, every table is returned as one.
    """
    shape = tuple(a.n_types for a in agents)
    n = len(agents)
    tables, profile = [], []
    for i, (a, v) in enumerate(zip(agents, values)):
        what = f"values of agent {a.name!r}"
        arr = _evaluate_values(v, i, agents, K, what) if callable(v) else exact_array(v, what)
        if arr.shape == (a.n_types, K) and not callable(v):
            profile.append(False)
        elif arr.shape == shape + (K,):
            profile.append(True)
        else:
            raise SpecError(
                f"{what} have shape {arr.shape}; expected (types, outcomes) = ({a.n_types}, {K}) for private "
                f"values, or (types of every agent..., outcomes) = {shape + (K,)} for interdependent values"
            )
        tables.append(arr)
    if n == 1 or not any(profile):
        return [t if t.shape == (a.n_types, K) else t.reshape(a.n_types, K) for a, t in zip(agents, tables)], False
    out = []
    for i, (t, prof) in enumerate(zip(tables, profile)):
        if not prof:  # a private table inside an interdependent environment: repeat it over the others
            t = np.broadcast_to(t.reshape((1,) * i + (shape[i],) + (1,) * (n - i - 1) + (K,)), shape + (K,)).copy()
        out.append(t)
    return out, True


def _evaluate_values(v: Any, i: int, agents: tuple[Agent, ...], K: int, what: str) -> np.ndarray:
    """``v(i, k, profile)`` at every profile and outcome, exactly: object array ``(*shape, K)``."""
    shape = tuple(a.n_types for a in agents)
    out = np.empty(shape + (K,), dtype=object)
    profile = np.empty(len(agents), dtype=object)
    for idx in np.ndindex(*shape):
        for j, (a, t) in enumerate(zip(agents, idx)):
            profile[j] = a.types_exact[t]
        for k in range(K):
            try:
                val = v(i, k, profile.copy())
            except MechoptError:
                raise
            except Exception as exc:  # the user's function failed: say where
                raise SpecError(f"{what}: the value function failed at outcome {k}, profile {idx}: {exc}") from None
            out[idx + (k,)] = to_fraction(val, f"{what} at outcome {k}, profile {idx}")
    return out
