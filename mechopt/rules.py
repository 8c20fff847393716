"""Ex post mechanisms stored as rules instead of profile tables.

With n bidders of T types each there are ``T^n`` profiles (1001 types, 10
bidders: 10^30); the LP of a symmetric reduced form never sees them.  A
:class:`HierarchicalRule` is the ex post allocation of one item to n identical
bidders as a small tree over contiguous type intervals, evaluated at any
profile on demand (:meth:`HierarchicalRule.allocation`), tabulated only where
the table fits in memory.  Payments are interim: bidder i pays ``P(θ_i)``.

Nodes (each node acts on the bidders whose types lie in its interval
``[lo, hi)``, and is run only when the highest type of the profile lies there):

=========  ===================================================================
kind       action
=========  ===================================================================
``pool``   the item goes to one of the bidders in the interval, uniformly
``none``   the item stays unsold
``split``  children partition the interval into consecutive sub-intervals; the
           child holding the highest type present runs (bidders below it are out)
``mix``    with probability ``prob`` the child (same interval) runs, otherwise ``pool``
``scale``  with probability ``prob`` the child runs, otherwise the item is unsold
=========  ===================================================================

The tree that implements a given symmetric interim rule Q is built by
:func:`mechopt.recover.symmetric_rule` (with the proof that its interim win
probability is Q); the independent checker :mod:`mechopt.verify_rules`
computes the interim quantities of a rule from the tree alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Node", "HierarchicalRule", "CountRule", "ItemRule", "TABLE_LIMIT"]

TABLE_LIMIT = 5_000_000  # tabulate x (S·K entries) only up to this size


class _IdenticalAgents:
    """Shared by the rules: ``n`` identical agents with a common prior over ``T`` types."""

    n: int
    prior: np.ndarray

    @property
    def T(self) -> int:
        return int(self.prior.shape[0])

    @property
    def n_profiles(self) -> int:
        return self.T ** self.n

    def _indices(self, profiles) -> tuple[np.ndarray, bool]:
        """Profiles as an (m, n) int array of type indices (checked), and whether one profile was given."""
        raw = np.asarray(profiles)
        prof = raw.astype(np.int64)
        if raw.dtype.kind not in "iu" and not np.array_equal(prof, raw):
            raise ValueError("profiles must be integer type indices (not type values)")
        single = prof.ndim == 1
        prof = np.atleast_2d(prof)
        if prof.shape[1] != self.n or prof.min(initial=0) < 0 or prof.max(initial=0) >= self.T:
            raise ValueError(f"profiles must be type indices in [0, {self.T}) of shape (m, {self.n})")
        return prof, single

    def _tabulate(self, K: int) -> tuple[np.ndarray, np.ndarray]:
        """The full tables ``x`` (S, K) and ``p`` (S, n), profiles in C order."""
        S = self.n_profiles
        if not self.fits_table:
            raise MemoryError(f"the allocation table would have {S * K:.3g} entries "
                              f"(> {TABLE_LIMIT:,}); evaluate the rule at profiles instead")
        prof = np.stack(np.unravel_index(np.arange(S), (self.T,) * self.n), axis=1)
        return self.allocation(prof), self.payments(prof)


@dataclass(frozen=True)
class Node:
    """One node of a hierarchical rule (see the module docstring for ``kind``)."""

    kind: str
    lo: int
    hi: int
    prob: float = 1.0
    children: tuple = field(default=())

    def count(self) -> int:
        """Number of nodes in this subtree."""
        return 1 + sum(c.count() for c in self.children)

    def depth(self) -> int:
        return 1 + max((c.depth() for c in self.children), default=0)


@dataclass
class HierarchicalRule(_IdenticalAgents):
    """A symmetric single-item rule for ``n`` bidders with ``T`` types each.

    Attributes
    ----------
    n : int
        Number of bidders.
    prior : ndarray, shape (T,)
        Every bidder's type distribution (independent, identical).
    root : Node
        The allocation tree over ``[0, T)``.
    payment : ndarray, shape (T,)
        Interim payment ``P(t)``; ex post ``p_i(θ) = P(θ_i)``.
    q_target : ndarray, shape (T,), optional
        The interim rule the tree was built to implement (the LP's Q).
    """

    n: int
    prior: np.ndarray
    root: Node
    payment: np.ndarray
    q_target: np.ndarray | None = None


    @property
    def fits_table(self) -> bool:
        """Whether the allocation table ``(T^n, n + 1)`` has at most :data:`TABLE_LIMIT` entries."""
        return self.n_profiles * (self.n + 1) <= TABLE_LIMIT

    # ------------------------------------------------------------- evaluation
    def allocation(self, profiles) -> np.ndarray:
        """Lotteries at the given profiles.

        Parameters
        ----------
        profiles : array_like of int, shape (m, n) or (n,)
            Type indices of the bidders.

        Returns
        -------
        ndarray, shape (m, n + 1) (or (n + 1,))
            Column 0 = unsold, column i + 1 = bidder i wins.
        """
        prof, single = self._indices(profiles)
        out = np.zeros((prof.shape[0], self.n + 1))
        present = np.ones(prof.shape, dtype=bool)
        _evaluate(self.root, prof, present, np.arange(prof.shape[0]), np.ones(prof.shape[0]), out)
        return out[0] if single else out

    def payments(self, profiles) -> np.ndarray:
        """Payments ``P(θ_i)`` at the given profiles, shape (m, n)."""
        return self.payment[np.asarray(profiles, dtype=np.int64)]

    def tabulate(self) -> tuple[np.ndarray, np.ndarray]:
        """The full tables ``x`` (S, n + 1) and ``p`` (S, n), profiles in C order."""
        return self._tabulate(self.n + 1)

    def __repr__(self) -> str:
        return (f"HierarchicalRule(n={self.n}, T={self.T}, nodes={self.root.count()}, "
                f"depth={self.root.depth()}, profiles={self.T}^{self.n})")


def _evaluate(node: Node, prof: np.ndarray, present: np.ndarray, rows: np.ndarray, w: np.ndarray,
              out: np.ndarray) -> None:
    """Add ``w`` × the node's lottery at ``prof[rows]`` into ``out[rows]``.

    ``prof`` (m, n) holds every profile; ``present`` (len(rows), n) marks the
    bidders still in the running at each of ``rows``.
    """
    if rows.size == 0:
        return
    kind = node.kind
    if kind == "none":
        out[rows, 0] += w
    elif kind == "pool":
        k = present.sum(axis=1)
        out[rows, 1:] += (w / np.maximum(k, 1))[:, None] * present
        out[rows[k == 0], 0] += w[k == 0]
    elif kind == "mix":
        _evaluate(node.children[0], prof, present, rows, w * node.prob, out)
        _evaluate(Node("pool", node.lo, node.hi), prof, present, rows, w * (1.0 - node.prob), out)
    elif kind == "scale":
        out[rows, 0] += w * (1.0 - node.prob)
        _evaluate(node.children[0], prof, present, rows, w * node.prob, out)
    elif kind == "split":
        types = prof[rows]
        top = np.where(present, types, -1).max(axis=1)
        lows = np.array([c.lo for c in node.children])
        which = np.searchsorted(lows, top, side="right") - 1
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(len(node.children) + 1))
        for j, child in enumerate(node.children):
            sel = order[bounds[j]: bounds[j + 1]]
            if sel.size:  # bidders below the child's interval are out
                _evaluate(child, prof, present[sel] & (types[sel] >= child.lo), rows[sel], w[sel], out)
    else:  # pragma: no cover - constructed trees only hold the kinds above
        raise ValueError(f"unknown node kind {kind!r}")


@dataclass
class CountRule(_IdenticalAgents):
    """An anonymous rule for n identical agents: the lottery depends on the type counts only.

    Attributes
    ----------
    n : int
    prior : ndarray, shape (T,)
    counts : ndarray of int, shape (M, T)
        Every count vector ``m`` (``Σ m = n``), rows in the order of ``x``.
    x : ndarray, shape (M, K)
        Lottery over outcomes at each count vector.
    payment : ndarray, shape (T,)
        Interim payment ``P(t)`` of every agent; ex post ``p_i(θ) = P(θ_i)``.
    """

    n: int
    prior: np.ndarray
    counts: np.ndarray
    x: np.ndarray
    payment: np.ndarray


    @property
    def fits_table(self) -> bool:
        return self.n_profiles * self.x.shape[1] <= TABLE_LIMIT

    def _lookup(self, counts: np.ndarray) -> np.ndarray:
        """Row of ``self.counts`` equal to each query row (unique rows, no integer keys to overflow)."""
        both = np.concatenate([self.counts, counts])
        _, inv = np.unique(both, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        pos = np.full(inv.max() + 1, -1)
        pos[inv[: self.counts.shape[0]]] = np.arange(self.counts.shape[0])
        out = pos[inv[self.counts.shape[0]:]]
        if (out < 0).any():
            raise ValueError("a profile's type counts are not in the rule's table")
        return out

    def allocation(self, profiles) -> np.ndarray:
        """Lotteries (m, K) at profiles given as type indices (m, n)."""
        prof, _ = self._indices(profiles)
        counts = np.zeros((prof.shape[0], self.T), dtype=np.int64)
        np.add.at(counts, (np.repeat(np.arange(prof.shape[0]), self.n), prof.ravel()), 1)
        return self.x[self._lookup(counts)]

    def payments(self, profiles) -> np.ndarray:
        return self.payment[np.asarray(profiles, dtype=np.int64)]

    def tabulate(self) -> tuple[np.ndarray, np.ndarray]:
        return self._tabulate(self.x.shape[1])

    def __repr__(self) -> str:
        return f"CountRule(n={self.n}, T={self.T}, count vectors={self.counts.shape[0]}, profiles={self.T}^{self.n})"


@dataclass
class ItemRule(_IdenticalAgents):
    """Several items for ``n`` identical bidders with additive values: one :class:`HierarchicalRule`
    per item, items drawn independently.

    Item j's rule works on the bidders' types sorted by their interim probability of getting
    item j (``orders[j][r]`` is the type at position r; its prior is ``prior[orders[j]]``), so its
    tree implements the per-item interim rule of the reduced form (:mod:`mechopt.compile.item_border`).

    Attributes
    ----------
    n : int
    prior : ndarray, shape (T,)
    items : list of HierarchicalRule
        One per item, over sorted positions.
    orders : list of ndarray, shape (T,)
    assign : ndarray, shape (K, m)
        Agent receiving item j in outcome k (−1: nobody).
    payment : ndarray, shape (T,)
        Interim payment ``P(t)``.
    """

    n: int
    prior: np.ndarray
    items: list
    orders: list
    assign: np.ndarray
    payment: np.ndarray

    @property
    def K(self) -> int:
        return int(self.assign.shape[0])

    @property
    def fits_table(self) -> bool:
        return self.n_profiles * self.K <= TABLE_LIMIT

    def positions(self, j: int) -> np.ndarray:
        """Position of each type in item j's order, shape (T,)."""
        pos = np.empty(self.T, dtype=np.int64)
        pos[self.orders[j]] = np.arange(self.T)
        return pos

    def allocation(self, profiles) -> np.ndarray:
        """Lotteries over assignments at the given profiles, shape (m, K) (or (K,))."""
        prof, single = self._indices(profiles)
        out = np.ones((prof.shape[0], self.K))
        for j, rule in enumerate(self.items):
            xj = rule.allocation(self.positions(j)[prof])  # (m, n + 1): 0 unsold, i + 1 bidder i
            out *= xj[:, self.assign[:, j] + 1]
        return out[0] if single else out

    def payments(self, profiles) -> np.ndarray:
        return self.payment[np.asarray(profiles, dtype=np.int64)]

    def tabulate(self) -> tuple[np.ndarray, np.ndarray]:
        """The full tables ``x`` (S, K) and ``p`` (S, n), profiles in C order."""
        return self._tabulate(self.K)

    def __repr__(self) -> str:
        return (f"ItemRule(n={self.n}, T={self.T}, items={len(self.items)}, "
                f"nodes={[r.root.count() for r in self.items]})")
