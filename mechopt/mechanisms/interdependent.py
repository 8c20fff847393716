"""The generalized VCG mechanism for one item with interdependent values (Dasgupta & Maskin 2000).

With interdependent values winner i's value ``v_i(θ)`` depends on every agent's
type.  When values are strictly increasing in the own type and satisfy single
crossing (a bidder's own type moves its own value more than anyone else's,
Maskin 1992), the efficient allocation is monotone in each agent's report and
the *generalized VCG* (Crémer & McLean 1985; Maskin 1992; Dasgupta & Maskin
2000) implements it in ex post equilibrium: the winner pays its own value at
the lowest report with which it would still win,

    p_i(θ) = v_i(s*_i, θ_{-i}),   s*_i = min{ s : i wins at (s, θ_{-i}) },

and losers pay nothing.  On a grid: reporting any winning type pays the same
``v_i(s*_i, θ_{-i}) ≤ v_i(θ)`` (ex post IR), a losing report gets 0, and a
truly losing type that reports a winning one pays ``v_i(s*_i, θ_{-i}) > v_i(θ)``
— so truth is an ex post equilibrium whenever the efficient rule is monotone.
Without single crossing the efficient rule is not monotone and no mechanism
implements it (the LP proves it: ``models/interdependent_no_single_crossing.toml``);
the mechanism below is then built all the same and the verifier reports the
failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import SpecError
from ..mechanism import Mechanism
from ._base import efficient_allocation

if TYPE_CHECKING:  # pragma: no cover
    from ..spec import Environment

__all__ = ["generalized_vcg"]


def generalized_vcg(env: Environment, tie: str = "first", name: str = "generalized VCG") -> Mechanism:
    """Dasgupta–Maskin generalized VCG for one item with interdependent values.

    Parameters
    ----------
    env : Environment
        One item (outcome 0 unsold, outcome i + 1 agent i wins), e.g.
        :func:`mechopt.interdependent_item`; values as profile tables.
    tie : {"first"}
        Ties among efficient outcomes go to the one listed first (unsold, then the
        lowest-indexed agent), so the threshold report ``s*_i`` is well defined.
    name : str

    Returns
    -------
    Mechanism
        Allocation ``(S, K)`` and payments ``(S, n)``; ``audit()`` checks ex post IC
        (``ex_post_ic``), IR and efficiency with the profile values.
    """
    n, K, shape = env.n_agents, env.n_outcomes, env.shape
    if K != n + 1:
        raise SpecError("generalized_vcg: one item is needed (outcome 0 unsold, outcome i + 1 = agent i wins), "
                        f"got {K} outcomes for {n} agents")
    if tie != "first":
        raise SpecError(f"generalized_vcg: tie must be 'first' (a threshold report needs one winner), got {tie!r}")
    x = efficient_allocation(env, "first")
    winner = x.argmax(axis=1) - 1  # −1: unsold
    win = winner.reshape(shape)
    p = np.zeros((env.n_profiles, n))
    for i in range(n):
        V = np.asarray(env.profile_values[i], dtype=float)[:, i + 1].reshape(shape)  # v_i(θ) if i wins
        wins = np.moveaxis(win == i, i, 0)  # (T_i, rest...)
        vals = np.moveaxis(V, i, 0)
        # lowest own report at which i still wins, given the others' types
        first = np.where(wins.any(axis=0), wins.argmax(axis=0), 0)
        price = np.take_along_axis(vals, first[None], axis=0)[0]
        pay = np.where(wins, price[None], 0.0)
        p[:, i] = np.moveaxis(pay, 0, i).reshape(-1)
    return Mechanism(env, x, p, name)
