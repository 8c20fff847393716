"""DSIC single-item revenue through the envelope: the allocation is the only variable.

**When it applies** (:func:`applies`).  A single-item environment (outcome 0
unsold at no cost, outcome i+1 valued ``v_i(t)`` by bidder i only, strictly
increasing in the type), ``ic="dsic"``, ``ir="ex_post"`` with an outside option
constant in the type, ``budget="none"``, ``objective="revenue"``, free random
allocation, and more than :data:`MIN_PROFILES` profiles (below that the plain LP
is small and its IC duals are wanted by :mod:`mechopt.duality`).  Any prior,
correlated included.

**Why it is exact** (Myerson 1981, Lemma 2 and its discrete form).  Fix bidder
i and the others' types ``r``.  Adjacent DSIC both ways gives
``(v(t+1) − v(t)) (x_i(t+1, r) − x_i(t, r)) ≥ 0``: ``x_i(·, r)`` is nondecreasing.
The downward adjacent rows and IR of the lowest type give
``p_i(t, r) ≤ v(t) x_i(t, r) − Σ_{s<t} (v(s+1) − v(s)) x_i(s, r) − U_i``, and with
equality (the *envelope payments*) every DSIC and ex post IR row holds when x is
monotone (single crossing: utility ``v(t) x − p`` has increasing differences).
So the DSIC optimum is ``max Σ_θ Σ_i c_i(θ) x_i(θ) − Σ_i U_i`` over monotone
lotteries, with the discrete virtual-value weights

    c_i(θ) = π(θ) (v_i(θ_i) − cost) − (v_i(θ_i + 1) − v_i(θ_i)) Σ_{t > θ_i} π(t, θ_{-i}).

The LP has ``S·K`` columns, ``S`` lottery rows and ``Σ_i (T_i − 1) S / T_i``
monotonicity rows (family ``monotone``: ``x_i(t+1, r) − x_i(t, r) ≥ 0``), instead
of the IC family over all opponent profiles and the ``S·n`` payment columns.
Payments are rebuilt by :func:`payments` after the solve; the independent
verifier then checks DSIC pointwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .layout import Data, Layout, Rows
from .lottery import lottery_rows

if TYPE_CHECKING:  # pragma: no cover
    from ..design import Design

__all__ = ["applies", "EnvelopeLayout", "layout", "build_rows", "objective_vector", "payments", "MIN_PROFILES"]

MIN_PROFILES = 20_000


def applies(design: Design, groups: list, size_check: bool = True) -> tuple[bool, str]:
    """``(ok, reason)``: whether the envelope formulation is exact for this design."""
    env = design.env
    checks = [
        (env.kind == "single_item", "not a single-item environment"),
        (design.ic == "dsic", f"ic={design.ic!r} (needs dsic)"),
        (design.ir == "ex_post", f"ir={design.ir!r} (needs ex_post)"),
        (design.budget == "none", f"budget={design.budget!r}"),
        (design.objective == "revenue", f"objective={design.objective!r} (payments are only rebuilt for revenue)"),
        (design.allocation == "free", f"allocation={design.allocation!r}"),
        (not design.deterministic, "deterministic"),
        (env.n_outcomes == env.n_agents + 1 and env.cost_exact[0] == 0, "outcomes are not (unsold, agent 1 wins, …)"),
    ]
    for ok, why in checks:
        if not ok:
            return False, why
    for i, a in enumerate(env.agents):
        V = env.values_exact[i]
        if groups[i] != [[i + 1]] or any(V[:, 0].tolist()):
            return False, f"agent {a.name!r} values outcomes other than winning"
        v = V[:, i + 1].tolist()
        if any(b <= c for c, b in zip(v[:-1], v[1:])):
            return False, f"agent {a.name!r}'s value is not strictly increasing in its type"
        U = env.outside_exact[i].tolist()
        if any(u != U[0] for u in U[1:]):
            return False, f"agent {a.name!r}'s outside option depends on its type"
    if size_check and env.n_profiles <= MIN_PROFILES:
        return False, f"the plain LP is small ({env.n_profiles:,} profiles)"
    return True, "applies"


@dataclass
class EnvelopeLayout(Layout):
    """Only the ex post lotteries ``x[s, k]`` at ``s·K + k``."""

    def __post_init__(self) -> None:
        self.n_cols = self.S * self.K


def layout(design: Design) -> EnvelopeLayout:
    env = design.env
    return EnvelopeLayout(env.shape, env.n_outcomes, True, (), [[[i + 1]] for i in range(env.n_agents)])


def build_rows(design: Design, lay: EnvelopeLayout, data: Data) -> list[Rows]:
    """Families ``lottery`` and ``monotone`` (labels agent, type t, report t+1, profile of (t, r))."""
    out = []
    fam = Rows("lottery", data)
    lottery_rows(fam, lay)
    out.append(fam)
    fam = Rows("monotone", data)
    for i in range(lay.n):
        view = lay.agent_view(i)  # (T, R)
        T, R = view.shape
        lo, hi = view[:-1].ravel(), view[1:].ravel()
        t = np.repeat(np.arange(T - 1), R)
        local = fam.new(lo.size, data.zeros(lo.size), equality=False, agent=i, type=t, report=t + 1, profile=lo)
        fam.terms(local, lay.xcol(hi, i + 1), data.ones(lo.size))
        fam.terms(local, lay.xcol(lo, i + 1), -data.ones(lo.size))
    out.append(fam)
    return out


def objective_vector(design: Design, lay: EnvelopeLayout, data: Data):
    """``(c, offset)``: virtual-value weights on ``x(s, i+1)`` and ``−Σ_i U_i``."""
    env = design.env
    c = data.zeros(lay.n_cols)
    joint = data.joint.reshape(lay.shape)
    offset = data.zeros(1)[0]
    for i in range(lay.n):
        v = data.V[i][:, i + 1]
        dv = np.concatenate([v[1:] - v[:-1], data.zeros(1)])
        pi = np.moveaxis(joint, i, 0)  # (T, ...)
        tail = np.cumsum(pi[::-1], axis=0)[::-1] - pi  # Σ_{t > θ_i} π(t, θ_-i)
        shape = (-1,) + (1,) * (pi.ndim - 1)
        w = pi * (v.reshape(shape) - data.cost[i + 1]) - dv.reshape(shape) * tail
        w = np.moveaxis(w, 0, i).reshape(-1)
        c[lay.xcol(np.arange(lay.S), i + 1)] = w
        offset = offset - data.U[i][0]
    del env
    return c, offset


def payments(env, x: np.ndarray) -> np.ndarray:
    """Envelope payments ``p_i(t, r) = v(t) x_i(t, r) − Σ_{s<t} (v(s+1) − v(s)) x_i(s, r) − U_i``, shape (S, n)."""
    S, n = x.shape[0], env.n_agents
    p = np.empty((S, n))
    for i in range(n):
        v = env.values[i][:, i + 1]
        xi = np.moveaxis(x[:, i + 1].reshape(env.shape), i, 0)  # (T, ...)
        shape = (-1,) + (1,) * (xi.ndim - 1)
        dv = (v[1:] - v[:-1]).reshape(shape)
        rent = np.concatenate([np.zeros((1,) + xi.shape[1:]), np.cumsum(dv * xi[:-1], axis=0)], axis=0)
        pi = v.reshape(shape) * xi - rent - env.outside[i][0]
        p[:, i] = np.moveaxis(pi, 0, i).reshape(-1)
    return p
