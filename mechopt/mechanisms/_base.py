"""Shared plumbing for the closed-form mechanisms: profile views and efficient allocations.

Every closed form is computed on whole arrays.  For agent i the profiles are
viewed as a matrix of shape ``(T_i, R)`` (own type × opponents' profile,
``R = S / T_i``), the same view the verifier uses, so a per-agent formula is a
couple of numpy operations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import SpecError

if TYPE_CHECKING:  # pragma: no cover
    from ..spec import Environment

TIES = ("first", "uniform")


def own_view(env: Environment, i: int, a: np.ndarray) -> np.ndarray:
    """Reshape a per-profile array ``(S, ...)`` to ``(T_i, R, ...)`` (own type first)."""
    a = np.asarray(a)
    tail = a.shape[1:]
    full = a.reshape(env.shape + tail)
    return np.moveaxis(full, i, 0).reshape((env.shape[i], -1) + tail)


def from_own_view(env: Environment, i: int, b: np.ndarray) -> np.ndarray:
    """Inverse of :func:`own_view`: ``(T_i, R, ...)`` back to ``(S, ...)``."""
    b = np.asarray(b)
    tail = b.shape[2:]
    shape = env.shape
    moved = (shape[i],) + shape[:i] + shape[i + 1:]
    return np.moveaxis(b.reshape(moved + tail), 0, i).reshape((-1,) + tail)


def own_type_index(env: Environment, i: int) -> np.ndarray:
    """Index of agent i's type at every profile, shape ``(S,)``."""
    return np.unravel_index(np.arange(env.n_profiles), env.shape)[i]


def own_values(env: Environment, i: int) -> np.ndarray:
    """``v_i(k, θ_i)`` at every profile, shape ``(S, K)``."""
    if not env.is_private:  # Groves-type payments read v_i(k, θ_i); interdependent values need an LP
        raise SpecError("this closed-form mechanism assumes private values; with interdependent values solve "
                        "mo.Design(env, ic='ex_post', allocation='efficient') instead")
    return env.values[i][own_type_index(env, i)]


def scalar_types(env: Environment, i: int) -> np.ndarray:
    """Agent i's scalar type at every profile, shape ``(S,)``."""
    return np.asarray(env.agents[i].types, dtype=float)[own_type_index(env, i)]


def efficient_allocation(env: Environment, tie: str = "first") -> np.ndarray:
    """An efficient allocation rule, shape ``(S, K)``.

    Parameters
    ----------
    env : Environment
    tie : {"first", "uniform"}
        Among welfare maximizers (decided exactly, see
        :meth:`Environment.efficient_outcomes`): ``"first"`` picks the one
        listed first in ``env.outcomes`` (bilateral trade: no trade when
        ``θ_s = θ_b``; single item: unsold before a sale, lower-indexed bidder
        before higher), ``"uniform"`` randomizes uniformly over all of them.
    """
    if tie not in TIES:
        raise SpecError(f"tie must be one of {TIES}, got {tie!r}")
    best = env.efficient_outcomes()
    if tie == "uniform":
        return best / best.sum(axis=1, keepdims=True)
    x = np.zeros(best.shape)
    x[np.arange(best.shape[0]), best.argmax(axis=1)] = 1.0
    return x


def others_welfare(env: Environment, x: np.ndarray, i: int) -> np.ndarray:
    """``Σ_{j≠i} v_j(x(θ), θ_j) − c(x(θ))`` at every profile, shape ``(S,)``.

    The designer counts among "the others" through the cost ``c`` (a passive
    agent 0), so Groves payments cover it.
    """
    return (x * (env.welfare_table - own_values(env, i))).sum(axis=1)


def conditional_mean(env: Environment, i: int, a: np.ndarray, independent: bool = False) -> np.ndarray:
    """``E[a(θ) | θ_i]`` for every own type, shape ``(T_i,)``.

    ``a`` has shape ``(S,)``.  With ``independent=True`` the opponents' profile is
    drawn from the product of their marginals (the unconditional ``E_{θ_{-i}}``
    of AGV: Arrow 1979, d'Aspremont & Gérard-Varet 1979), otherwise from the prior conditional on ``θ_i``.
    Zero-mass own types get the unconditional opponents' distribution.
    """
    view = own_view(env, i, a)
    if independent or env.is_independent:
        w = np.ones(())
        for j, ag in enumerate(env.agents):
            if j != i:
                w = np.multiply.outer(w, ag.prior)
        w = np.asarray(w).reshape(-1)
        return view @ w
    joint = own_view(env, i, env.joint_prior.reshape(-1))
    marg = joint.sum(axis=1, keepdims=True)
    fallback = joint.sum(axis=0) / joint.sum()
    w = np.where(marg > 0, joint / np.where(marg > 0, marg, 1.0), fallback[None, :])
    return (view * w).sum(axis=1)


def expand_own(env: Environment, i: int, vec: np.ndarray) -> np.ndarray:
    """A per-own-type vector ``(T_i,)`` broadcast to every profile ``(S,)``."""
    return np.asarray(vec, dtype=float)[own_type_index(env, i)]


def require_kind(env: Environment, kinds: tuple[str, ...], what: str) -> None:
    """Raise a clear error unless the environment came from one of ``kinds``."""
    if env.kind not in kinds:
        raise SpecError(
            f"{what} is defined for {' / '.join(kinds)} environments; this one is {env.kind!r}"
        )


def require_independent(env: Environment, what: str) -> None:
    """Raise unless the prior is a product of the agents' marginals."""
    if not env.is_independent:
        raise SpecError(f"{what} needs independent types; this environment has a correlated prior")
