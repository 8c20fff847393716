"""IC row generation: solve with a few IC pairs, add the violated ones, repeat.

For agents whose IC cannot be reduced to adjacent reports (vector types, values
not affine in the type, correlated beliefs) the full family has
``T (T − 1)`` pairs per opponents' profile, most of them slack at the optimum.
Row generation starts from each type's nearest neighbours, solves, finds every
(true type, report) pair whose IC fails at the current solution, adds those
pairs and solves again, until no IC row is violated.

Why this is exact: each round solves a relaxation of the full LP, so its value
is an upper bound; the last round's solution satisfies every IC row (checked
here and again by the independent verifier), so it is feasible for the full
LP and therefore optimal.  Its duals, with 0 on the rows never added, are dual
feasible for the full LP.  An infeasible relaxation proves the full LP
infeasible (its Farkas certificate uses a subset of the full rows).  An
unbounded relaxation proves nothing, so the solver then falls back to the full LP.
"""

from __future__ import annotations

import numpy as np

from ..design import Design

__all__ = ["initial_pairs", "ic_gains", "full_ic_rows", "add_violated"]


def initial_pairs(types: np.ndarray, neighbours: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each type with its nearest types (L1 distance), both ways.

    Parameters
    ----------
    types : ndarray, shape (T,) or (T, d)
    neighbours : int, optional
        How many nearest types per type (default 2·d).
    """
    pts = types.reshape(len(types), -1).astype(float)
    T, d = pts.shape
    k = min(T - 1, neighbours or 2 * d)
    dist = np.abs(pts[:, None, :] - pts[None, :, :]).sum(axis=2)
    np.fill_diagonal(dist, np.inf)
    near = np.argsort(dist, axis=1, kind="stable")[:, :k]
    t = np.repeat(np.arange(T), k)
    s = near.ravel()
    both = np.unique(np.concatenate([t * T + s, s * T + t]))
    return both // T, both % T


def ic_gains(design: Design, x: np.ndarray, p: np.ndarray, i: int) -> np.ndarray:
    """Largest gain from each misreport, shape (T_i, T_i): ``[t, s]`` = gain of reporting s when t.

    DSIC: the maximum over opponents' profiles; BIC: the interim gain under
    π(θ_{-i} | t).  Positive entries are violated IC pairs.  With interdependent
    values the value of a misreport is taken at the true profile (t, r).
    """
    env = design.env
    shape, K = env.shape, env.n_outcomes
    xi = np.moveaxis(x.reshape(shape + (K,)), i, 0).reshape(shape[i], -1, K)
    pi = np.moveaxis(p[:, i].reshape(shape), i, 0).reshape(shape[i], -1)
    if not env.is_private:
        return _interdependent_gains(design, xi, pi, i)
    V = env.values[i]
    if design.ic in ("dsic", "ex_post"):
        util = np.einsum("tk,srk->tsr", V, xi) - pi[None, :, :]
        truth = np.einsum("ttr->tr", util)
        return (util - truth[:, None, :]).max(axis=2)
    joint = np.moveaxis(env.joint_prior, i, 0).reshape(shape[i], -1)
    marg = joint.sum(axis=1, keepdims=True)
    belief = joint / np.where(marg > 0, marg, 1)
    X = np.einsum("tr,srk->tsk", belief, xi)
    P = belief @ pi.T
    util = np.einsum("tk,tsk->ts", V, X) - P
    gain = util - np.diag(util)[:, None]
    gain[marg[:, 0] == 0] = -np.inf
    return gain


def _interdependent_gains(design: Design, xi: np.ndarray, pi: np.ndarray, i: int) -> np.ndarray:
    """:func:`ic_gains` with profile values: ``dev[t, s, r] = v_i(x(s, r), (t, r)) − p_i(s, r)``."""
    env = design.env
    shape, K = env.shape, env.n_outcomes
    vi = np.moveaxis(env.profile_values[i].reshape(shape + (K,)), i, 0).reshape(shape[i], -1, K)
    dev = np.einsum("trk,srk->tsr", vi, xi) - pi[None, :, :]
    truth = np.einsum("ttr->tr", dev)
    if design.ic == "ex_post":
        return (dev - truth[:, None, :]).max(axis=2)
    joint = np.moveaxis(env.joint_prior, i, 0).reshape(shape[i], -1)
    marg = joint.sum(axis=1, keepdims=True)
    belief = joint / np.where(marg > 0, marg, 1)
    util = np.einsum("tr,tsr->ts", belief, dev)
    gain = util - np.diag(util)[:, None]
    gain[marg[:, 0] == 0] = -np.inf
    return gain


def full_ic_rows(design: Design, agents: list[int]) -> int:
    """Number of IC rows the full family would have for these agents."""
    env = design.env
    total = 0
    for i in agents:
        T = env.shape[i]
        total += T * (T - 1) * (env.n_profiles // T if design.ic in ("dsic", "ex_post") else 1)
    return total


def add_violated(pairs: tuple[np.ndarray, np.ndarray], gain: np.ndarray, tol: float
                 ) -> tuple[tuple[np.ndarray, np.ndarray], int]:
    """The pairs ``(t, s)`` plus every pair whose gain exceeds ``tol``; ``(pairs, how many were added)``.

    Parameters
    ----------
    pairs : tuple of ndarray
        Pairs already in the LP (their gains are ignored; so is the diagonal).
    gain : ndarray, shape (T, T)
        ``[t, s]``: gain of reporting s when the type is t (modified in place).
    tol : float
        Separation tolerance, in the problem's money unit.

    Returns
    -------
    pairs : tuple of ndarray
        Sorted by ``t · T + s``.
    added : int
    """
    T = gain.shape[0]
    t, s = pairs
    gain[t, s] = -np.inf
    np.fill_diagonal(gain, -np.inf)
    nt, ns = np.nonzero(gain > tol)
    if nt.size == 0:
        return pairs, 0
    code = np.unique(np.concatenate([t * T + s, nt * T + ns]))
    return (code // T, code % T), int(nt.size)
