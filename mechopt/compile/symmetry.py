"""The symmetric reduced form: one interim rule for n identical bidders of a single item.

**When it applies** (:func:`applies`).  A single-item environment whose bidders
are identical — the same exact types, prior and outside options (their values
of winning are then equal too, ``v_i = θ_i``) — and a design that the Border
reduction (:mod:`mechopt.compile.border`) covers: BIC with adjacent IC rows,
interim payments, free random allocation, independent prior.  ``Design(...,
symmetric=False)`` turns it off.

**Why it is exact.**  The design is invariant under relabelling the bidders:
if ``(x, p)`` is feasible, so is ``(x∘σ, p∘σ)`` for every permutation σ of the
bidders, with the same objective.  The LP's feasible set is convex and the
objective linear, so the average over all n! permutations of an optimum is
feasible and optimal, and it is symmetric: every bidder has the same interim
win probability ``Q(t)`` and interim payment ``P(t)``.  Imposing symmetry
therefore loses nothing.  For a symmetric interim rule, Border's inequalities
(Border 1991, the symmetric case of his theorem) on the upper sets of one
bidder's types read

    n Σ_{t ≥ a} f(t) Q(t)  ≤  1 − F(a − 1)^n       (a = 0 … T−1),

(the probability that some bidder's type is ``≥ a``); upper sets suffice
because the adjacent BIC rows make ``Q`` nondecreasing (see
:mod:`mechopt.compile.border` for the exchange argument, which for identical
bidders reduces to the upper sets of one bidder).  So the LP has ``3T``
columns (``Q``, ``P`` and cumulative ``C(a) = Σ_{t≥a} f(t) Q(t)``) and about
``5T`` rows, whatever n is.

Rows (families): ``cumulative`` ``C[a] − C[a+1] − f(a) Q(a) = 0``;
``border`` ``−n C[a] ≥ F(a−1)^n − 1`` (label ``upper``: every bidder's upper
set starts at type a; ``lp.labels("border")`` has one column per bidder);
``ic`` adjacent BIC rows of the representative bidder; ``ir``;
``budget`` (ex ante: ``n Σ f (P − c Q) ≥ 0``).  The other labels name the
representative bidder (agent 0); the other bidders' rows are the same rows.

The ex post mechanism is recovered as a rule (no profile table): see
:func:`mechopt.recover.symmetric_rule`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import ic, ir
from .layout import Data, Layout, Rows
from .terms import pairs

if TYPE_CHECKING:  # pragma: no cover
    from ..design import Design

__all__ = ["applies", "identical_agents", "SymmetricLayout", "layout", "data", "build_rows", "objective_vector"]


def identical_agents(env) -> tuple[bool, str]:
    """Whether all agents have the same exact types, prior, outside options and value tables
    (up to relabelling the outcome each one wins); ``(ok, reason)``."""
    if env.n_agents < 2:
        return False, "one agent"
    if env.n_outcomes != env.n_agents + 1:
        return False, "outcomes are not (unsold, agent 1 wins, …)"
    a0 = env.agents[0]
    key0 = [_key(a0.types_exact), _key(a0.prior_exact), _key(env.outside_exact[0]), _key(env.values_exact[0][:, 1])]
    for i, a in enumerate(env.agents):
        V = env.values_exact[i]
        rest = np.delete(V, i + 1, axis=1)
        if any(rest.ravel().tolist()):
            return False, f"agent {a.name!r} values outcomes other than winning"
        if i == 0:
            continue
        if a.types_exact.shape != a0.types_exact.shape or _key(a.types_exact) != key0[0]:
            return False, f"agents {a0.name!r} and {a.name!r} have different types"
        if _key(a.prior_exact) != key0[1]:
            return False, f"agents {a0.name!r} and {a.name!r} have different priors"
        if _key(env.outside_exact[i]) != key0[2]:
            return False, f"agents {a0.name!r} and {a.name!r} have different outside options"
        if _key(V[:, i + 1]) != key0[3]:
            return False, f"agents {a0.name!r} and {a.name!r} value winning differently"
    return True, "applies"


def value_is_type(env) -> bool:
    """Agent 0's value of winning is its type (exactly), so its values are affine in the type."""
    a0 = env.agents[0]
    return a0.types_exact.ndim == 1 and _key(a0.types_exact) == _key(env.values_exact[0][:, 1])


def _key(arr: np.ndarray) -> list:
    """Exact comparison key of an array of Fractions (normalized numerator, denominator pairs)."""
    return [(v.numerator, v.denominator) for v in np.asarray(arr, dtype=object).ravel().tolist()]


def applies(design: Design) -> tuple[bool, str]:
    """Whether bidders are identical in a single-item design (the Border conditions are checked apart)."""
    if getattr(design, "symmetric", None) is False:
        return False, "symmetric=False"
    env = design.env
    if env.kind != "single_item":
        return False, "symmetric formulation implemented for single-item environments only"
    if not env.is_independent:
        return False, "the prior is correlated"
    if len(set(env.cost_exact[1:].tolist())) > 1:
        return False, "the seller's cost depends on the winner"
    return identical_agents(env)


@dataclass
class SymmetricLayout(Layout):
    """Columns ``Q`` at ``0..T−1``, ``P`` at ``T..2T−1``, ``C`` at ``2T..3T−1``; every agent maps to them."""

    def __post_init__(self) -> None:
        T = self.shape[0]
        for i in range(len(self.shape)):
            self.X0[i], self.P0[i], self.C0[i] = 0, T, 2 * T
        self.n_cols = 3 * T

    @property
    def S(self) -> int:  # exact number of profiles (may exceed int64)
        return math.prod(self.shape)

    @property
    def T(self) -> int:
        return self.shape[0]


def layout(design: Design) -> SymmetricLayout:
    env = design.env
    groups = [[[i + 1]] for i in range(env.n_agents)]
    return SymmetricLayout(env.shape, env.n_outcomes, True, tuple(range(env.n_agents)), groups, ex_post_x=False)


def data(design: Design, exact: bool) -> Data:
    """The numbers of the representative bidder (no profile-sized array is built)."""
    env = design.env
    if exact:
        return Data(True, list(env.values_exact), env.cost_exact, list(env.outside_exact),
                    np.empty(0, dtype=object), [a.prior_exact for a in env.agents])
    return Data(False, list(env.values), env.cost, list(env.outside), np.empty(0), [a.prior for a in env.agents])


def _power(x, n: int):
    return np.array([v ** n for v in x], dtype=object) if x.dtype == object else x ** n


def build_rows(design: Design, lay: SymmetricLayout, data: Data) -> list[Rows]:
    """The families of the symmetric reduced form, in the order of :func:`mechopt.compile.compile_design`."""
    T, n = lay.T, lay.n
    f = data.marg[0]
    a = np.arange(T)
    out = []
    fam = Rows("cumulative", data)
    local = fam.new(T, data.zeros(T), equality=True, agent=0, type=a)
    fam.terms(local, lay.C0[0] + a, data.ones(T))
    fam.terms(local[:-1], lay.C0[0] + a[:-1] + 1, -data.ones(T - 1))
    fam.terms(local, lay.X0[0] + a, -f)
    out.append(fam)
    fam = Rows("border", data)
    F = np.concatenate([data.zeros(1), np.cumsum(f)])[:T]  # F(a − 1) = P(θ < a)
    if data.exact:
        F = np.asarray(F, dtype=object)
    rhs = _power(F, n) - data.ones(T)
    local = fam.new(T, rhs, equality=False, upper=a)
    fam.terms(local, lay.C0[0] + a, -n * data.ones(T))
    out.append(fam)
    fam = Rows("ic", data)
    t, s = pairs(T, True)
    ic.bic_rows_interim(fam, lay, 0, t, s)
    out.append(fam)
    if design.ir != "none":
        fam = Rows("ir", data)
        {"interim": ir.interim_ir_rows, "ex_ante": ir.ex_ante_ir_rows}[design.ir](fam, lay, 0)
        out.append(fam)
    if design.budget == "ex_ante":
        fam = Rows("budget", data)
        local = fam.new(1, data.zeros(1), equality=False)
        c = data.cost[1]
        fam.terms(np.full(T, local[0]), lay.P0[0] + a, n * f)
        if c != 0:
            fam.terms(np.full(T, local[0]), lay.X0[0] + a, -n * c * f)
        out.append(fam)
    return out


def objective_vector(design: Design, lay: SymmetricLayout, data: Data):
    """``(c, offset)``: n times the representative bidder's expected payment / value, net of cost."""
    if design.objective == "gains":  # welfare net of the status quo (every agent's outside option)
        from .objective import status_quo_value

        c, _ = objective_vector(design.replace(objective="welfare"), lay, data)
        return c, -status_quo_value(design, data.exact)
    T, n = lay.T, lay.n
    f, theta, cost = data.marg[0], data.V[0][:, 1], data.cost[1]
    c = data.zeros(lay.n_cols)
    Q, P = lay.X0[0] + np.arange(T), lay.P0[0] + np.arange(T)
    kind = design.objective
    if kind == "revenue":
        c[P] = n * f
        c[Q] = -n * cost * f
    elif kind == "welfare":
        c[Q] = n * (theta - cost) * f
    elif kind == "utility":
        c[Q] = n * theta * f
        c[P] = -n * f
    return c, data.zeros(1)[0]
