"""The Border reduction: single-item BIC on interim win probabilities only.

For a single item with independent private values, a BIC design whose
constraints and objective see the allocation only through each bidder's
*interim* win probability ``Q_i(t) = Σ_{θ_{-i}} π_{-i}(θ_{-i}) x((t, θ_{-i}), i)``
can be written without the ex post allocation ``x`` (``S·K`` columns and ``S``
lottery rows): ``Q`` is the reduced form of some ex post allocation if and only
if **Border's inequalities** hold (Border 1991 for symmetric bidders; Border
2007, Mierendorff 2011 and Che, Kim & Mierendorff 2013 — the network-flow
proof — for asymmetric ones): ``Q ≥ 0`` and, for every profile of type sets
``A = (A_1, …, A_n)``, ``A_i ⊆ Θ_i``,

    Σ_i Σ_{t ∈ A_i} f_i(t) Q_i(t)  ≤  P(∃ i: θ_i ∈ A_i)  =  1 − Π_i (1 − f_i(A_i)).

**Upper sets suffice when every Q_i is nondecreasing.**  Let
``D(A) = Σ_i Σ_{t∈A_i} f_i(t) Q_i(t) − 1 + Π_i (1 − f_i(A_i))``.  For fixed
``A_{-i}``, ``D`` is modular in ``A_i``:
``D(A) = Σ_{t∈A_i} f_i(t) (Q_i(t) − β_i) + const`` with
``β_i = Π_{j≠i} (1 − f_j(A_j))``, so ``A_i = {t : Q_i(t) ≥ β_i}`` maximizes it
given ``A_{-i}``, and that set is an upper set ``{t ≥ a_i}`` because Q_i is
nondecreasing.  Starting from a maximizer of D and replacing ``A_1``, then
``A_2``, …, by these upper sets never lowers D, so the maximum of D over all
set profiles is attained on upper sets: checking
``max D ≤ 0`` there checks every Border inequality.  The adjacent BIC rows make
Q_i nondecreasing (adding the two rows of a pair gives
``(θ_i^{t+1} − θ_i^t)(Q_i(t+1) − Q_i(t)) ≥ 0``), so in the LP the rows

    Σ_i C_i[a_i] ≤ 1 − Π_i F_i(a_i − 1)      for every threshold profile a ≠ (T_1, …, T_n)

(``a_i ∈ {0..T_i}``, ``a_i = T_i`` the empty set, ``F_i(a − 1) = P(θ_i < a)``)
together with ``Q ≥ 0`` cut out exactly the interim allocations of ex post
lotteries.  The cumulative variables are defined by short rows
``C_i[a] − C_i[a + 1] − f_i(a) Q_i(a) = 0`` (``C_i[T_i] = 0``), so each Border
row has n nonzeros.  Every feasible point of the full LP gives a feasible point
here with the same value and conversely (through an ex post allocation with the
reduced form Q), so the optima are equal.

**When it is used** (:func:`applies`, conservative): ``env.kind ==
"single_item"`` with outcome 0 unsold (no value, no cost) and outcome i+1 valued
by agent i only, strictly increasing in the type; independent prior with every
type of positive probability; ``ic == "bic"`` with the adjacent reduction for
every agent (``ic="none"`` does not make Q monotone); ``ir`` interim, ex_ante or
none; ``budget`` ex_ante or none; ``allocation="free"``; not deterministic;
interim payments; no IC row generation; and ``Π(T_i + 1) ≤ 2 · Π T_i`` (the
Border rows are then no more numerous than twice the lottery rows they replace).

**Recovery** (:func:`mechopt.recover.recover_allocation`, the pipeline's
recover stage): an ex post allocation with the optimal reduced form is found
by a small transportation LP (HiGHS), and payments are ``p_i(θ) = P̄_i(θ_i)``.  The independent verifier then checks the
recovered mechanism like any other.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..design import Design
from .layout import Layout, Rows

__all__ = ["applies", "cumulative_rows", "border_rows", "q_columns"]

SIZE_RATIO = 2.0  # Border rows allowed per profile
MAX_ROWS = 2_000_000  # Border rows written in full at most (beyond: never, whatever the ratio)


def applies(design: Design, groups: list, info: dict[str, Any], interim_payments: bool,
            ic_pairs: dict | None = None, size_check: bool = True) -> tuple[bool, str]:
    """Whether the Border reduction provably applies; ``(ok, reason)``.

    Parameters
    ----------
    design : Design
    groups : list
        Value groups of every agent (see :func:`~mechopt.compile.layout.value_groups`).
    info : dict
        Reductions already decided (``info["ic"]`` per agent).
    interim_payments : bool
        Whether payments are interim (``p_i(θ) = P̄_i(θ_i)``).
    ic_pairs : dict, optional
        IC row generation in progress (the reduction is then not used).
    size_check : bool
        Also require ``Π(T_i + 1) ≤ 2 Π T_i``.
    """
    env = design.env
    n = env.n_agents
    checks = [
        (env.kind == "single_item", "not a single-item environment"),
        (env.is_independent, "the prior is correlated"),
        (env.is_private, "interdependent values"),
        (design.ic == "bic", f"ic={design.ic!r} (needs bic, whose adjacent rows make Q monotone)"),
        (design.ir in ("interim", "ex_ante", "none"), f"ir={design.ir!r}"),
        (design.budget in ("ex_ante", "none"), f"budget={design.budget!r}"),
        (design.allocation == "free", f"allocation={design.allocation!r}"),
        (not design.deterministic, "deterministic"),
        (interim_payments, "payments are not interim"),
        (not ic_pairs, "IC rows are generated"),
    ]
    for ok, why in checks:
        if not ok:
            return False, why
    if env.n_outcomes != n + 1 or env.cost_exact[0] != 0:
        return False, "outcomes are not (unsold, agent 1 wins, …)"
    for i, a in enumerate(env.agents):
        V = env.values_exact[i]
        if groups[i] != [[i + 1]] or any(v != 0 for v in V[:, 0]):
            return False, f"agent {a.name!r} values outcomes other than winning"
        if any(V[t + 1, i + 1] <= V[t, i + 1] for t in range(a.n_types - 1)):
            return False, f"agent {a.name!r}'s value is not strictly increasing in its type"
        if any(f <= 0 for f in a.prior_exact):
            return False, f"agent {a.name!r} has types of zero probability"
        if info.get("ic", {}).get(a.name) != "adjacent":
            return False, f"agent {a.name!r} has no adjacent IC reduction"
    shape = np.array(env.shape, dtype=float)
    if size_check and n > 1 and np.prod(shape + 1) > SIZE_RATIO * np.prod(shape):
        return False, "too many Border rows for this grid"
    if size_check and n > 1 and math.prod(T + 1 for T in env.shape) > MAX_ROWS:
        return False, f"more than {MAX_ROWS:,} Border rows (one per upper-set profile)"
    return True, "applies"


def q_columns(lay: Layout, i: int, t: np.ndarray) -> np.ndarray:
    """Columns of agent i's interim win probabilities ``Q_i(t)`` (one value group per agent)."""
    return lay.X0[i] + t


def cumulative_rows(rows: Rows, lay: Layout) -> None:
    """``C_i[a] − C_i[a+1] − f_i(a) Q_i(a) = 0`` for every agent i and a = 0..T_i−1 (labels ``agent``, ``type``)."""
    data = rows.data
    for i in range(lay.n):
        T = lay.shape[i]
        a = np.arange(T)
        local = rows.new(T, data.zeros(T), equality=True, agent=i, type=a)
        rows.terms(local, lay.C0[i] + a, data.ones(T))
        rows.terms(local[:-1], lay.C0[i] + a[:-1] + 1, -data.ones(T - 1))
        rows.terms(local, q_columns(lay, i, a), -data.marg[i])


def border_rows(rows: Rows, lay: Layout, cuts: np.ndarray | None = None) -> None:
    """``−Σ_i C_i[a_i] ≥ Π_i F_i(a_i − 1) − 1`` for every threshold profile a (label ``threshold``).

    ``threshold`` is the flat index of ``a`` in C order over ``(T_1 + 1, …, T_n + 1)``;
    ``a_i = T_i`` stands for the empty set.  The all-empty profile (0 ≥ 0) is left out.
    ``cuts`` (sorted flat indices): write only those rows (Border rows generated by
    separation, :func:`separate`).
    """
    if cuts is not None:
        _border_cuts(rows, lay, np.asarray(cuts, dtype=np.int64))
        return
    data = rows.data
    shape = tuple(T + 1 for T in lay.shape)
    M = int(np.prod(shape)) - 1
    prod = None
    for i in range(lay.n):
        F = np.concatenate([data.zeros(1), np.cumsum(data.marg[i])])  # F[a] = P(θ_i < a)
        if data.exact:
            F = np.asarray(F, dtype=object)
        prod = F if prod is None else np.multiply.outer(prod, F)
    rhs = (np.asarray(prod).reshape(-1) - data.ones(1)[0])[:M]
    local = rows.new(M, rhs, equality=False, threshold=np.arange(M))
    idx = np.unravel_index(np.arange(M), shape)
    for i in range(lay.n):
        keep = np.flatnonzero(idx[i] < lay.shape[i])
        rows.terms(local[keep], lay.C0[i] + idx[i][keep], -data.ones(keep.size))


def _border_cuts(rows: Rows, lay: Layout, cuts: np.ndarray) -> None:
    """The Border rows of the threshold profiles ``cuts`` only."""
    data = rows.data
    shape = tuple(T + 1 for T in lay.shape)
    idx = np.unravel_index(cuts, shape)
    rhs = None
    for i in range(lay.n):
        F = np.concatenate([data.zeros(1), np.cumsum(data.marg[i])])
        if data.exact:
            F = np.asarray(F, dtype=object)
        rhs = F[idx[i]] if rhs is None else rhs * F[idx[i]]
    local = rows.new(cuts.size, rhs - data.ones(cuts.size), equality=False, threshold=cuts)
    for i in range(lay.n):
        keep = np.flatnonzero(idx[i] < lay.shape[i])
        rows.terms(local[keep], lay.C0[i] + idx[i][keep], -data.ones(keep.size))


GENERATE_ABOVE = 20_000  # Border rows beyond which they are generated by separation
MAX_SEPARATION = 30_000_000  # threshold profiles enumerated by the exact separation


def initial_cuts(shape: tuple[int, ...]) -> np.ndarray:
    """Start of Border row generation: every upper set of one bidder alone (others empty)."""
    ext = tuple(T + 1 for T in shape)
    out = []
    for i, T in enumerate(shape):
        a = np.array([list(shape)] * T)  # every other bidder at its empty set
        a[:, i] = np.arange(T)
        out.append(np.ravel_multi_index(a.T, ext))
    return np.unique(np.concatenate(out))


def border_slack(Q: list[np.ndarray], marg: list[np.ndarray]) -> np.ndarray:
    """``D(a) = Σ_i C_i[a_i] − 1 + Π_i F_i(a_i − 1)`` on every threshold profile, shape ``(T_i + 1, …)``.

    ``D > 0`` is a violated Border inequality.  Vectorized by broadcasting (one array of
    ``Π (T_i + 1)`` floats).
    """
    n = len(Q)
    D = np.zeros(())
    P = np.ones(())
    for i in range(n):
        C = np.concatenate([np.cumsum((marg[i] * Q[i])[::-1])[::-1], [0.0]])
        F = np.concatenate([[0.0], np.cumsum(marg[i])])
        D = np.add.outer(D, C)
        P = np.multiply.outer(P, F)
    return D - 1.0 + P


def prefix_cuts(Q: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """Flat threshold indices of the sets ``{(i, t): Q_i(t) ≥ α}`` for every level α (sorted by Q).

    With every ``Q_i`` nondecreasing these are upper-set profiles; they are the
    first candidates of the separation (cheap: ``Σ T_i`` sets).
    """
    levels = np.unique(np.concatenate(Q))[::-1]
    a = np.stack([np.searchsorted(q, levels, side="left") for q in Q])  # first type with Q ≥ α
    a = np.minimum(a, np.array(shape)[:, None])
    return np.ravel_multi_index(a, tuple(T + 1 for T in shape))


def separate(Q: list[np.ndarray], marg: list[np.ndarray], have: np.ndarray, tol: float,
             limit: int = 300) -> tuple[np.ndarray, float]:
    """Violated Border rows not yet in ``have``: prefix sets of Q first, then the exact check.

    Returns ``(new cuts, worst violation over all threshold profiles)``; the exact check
    enumerates every threshold profile (see :func:`border_slack`), so an empty answer
    with ``worst ≤ tol`` proves every Border inequality holds.
    """
    shape = tuple(q.size for q in Q)
    D = border_slack(Q, marg).reshape(-1)
    D[-1] = -np.inf  # all-empty profile
    pre = np.unique(prefix_cuts(Q, shape))
    new = pre[(D[pre] > tol) & ~np.isin(pre, have)]
    worst = float(D.max())
    if worst > tol:  # and the most violated of all threshold profiles
        cand = np.flatnonzero(D > tol)
        cand = cand[~np.isin(cand, have)]
        if cand.size > limit:
            cand = cand[np.argpartition(-D[cand], limit)[:limit]]
        new = np.concatenate([new, cand])
    return np.unique(new), worst
