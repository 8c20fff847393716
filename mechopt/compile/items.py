"""Item symmetry for one multi-item buyer: one lottery and payment per orbit of types.

**When it applies** (:func:`applies`).  One agent with type vectors (``multi_item``)
whose type set, prior, outside option and value table are invariant under
permuting the items (checked exactly on adjacent transpositions, which generate
all permutations), designer cost invariant too, free random allocation, not
deterministic, and at least :data:`MIN_TYPES` types.  ``Design(symmetric=False)``
turns it off.

**Why it is exact.**  Relabelling items maps a feasible mechanism to a feasible
one with the same objective (values, prior and constraints are invariant), so
averaging an optimum over all item permutations is an optimum, and it is
*item-symmetric*: ``x(σt) = σ·x(t)``, ``p(σt) = p(t)`` (Daskalakis & Weinberg
2012 for the symmetric optimum; the averaging argument is the same as for
identical bidders).  Such a mechanism is fixed by its values on one type per
orbit — the type with sorted coordinates — whose lottery is invariant under
swapping items it values alike (family ``stabilizer``).  The LP keeps ``x(r, k)``, ``p(r)``
for the R orbit representatives (21³ = 9,261 types → 1,771 orbits for three
items), IR and lottery rows per representative, and IC rows ``(r, s)`` from a
representative r to *any* report s (whose lottery is the permuted lottery of
its representative); IC rows from other types are the permuted images of these.
IC rows are generated (nearest lower reports first, then violated pairs; see
:mod:`mechopt.compile.generation` for why the last round is optimal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .layout import Data, Layout, Rows

if TYPE_CHECKING:  # pragma: no cover
    from ..design import Design

__all__ = ["applies", "Orbits", "orbits", "ItemLayout", "layout", "build_rows", "objective_vector", "MIN_TYPES"]

MIN_TYPES = 500


def _outcome_perm(env, swap: tuple[int, int]) -> np.ndarray | None:
    """Outcome index of each outcome with items ``swap`` exchanged (None: not a multi-item labelling)."""
    labels = [o.split("|") for o in env.outcomes]
    pos = {tuple(lab): k for k, lab in enumerate(labels)}
    a, b = swap
    out = []
    for lab in labels:
        new = list(lab)
        new[a], new[b] = lab[b], lab[a]
        k = pos.get(tuple(new))
        if k is None:
            return None
        out.append(k)
    return np.array(out)


def applies(design: Design) -> tuple[bool, str]:
    """``(ok, reason)``: whether the item-symmetric formulation is exact for this design."""
    env = design.env
    if getattr(design, "symmetric", None) is False:
        return False, "symmetric=False"
    if env.kind != "multi_item" or env.n_agents != 1:
        return False, "item symmetry is implemented for one multi-item buyer"
    a = env.agents[0]
    d = int(env.meta.get("items", 0))
    if a.types_exact.ndim != 2 or d < 2:
        return False, "fewer than two items"
    if design.allocation != "free" or design.deterministic:
        return False, "allocation must be free and random"
    if a.n_types < MIN_TYPES:
        return False, f"few types ({a.n_types} < {MIN_TYPES}): the plain LP is small"
    types = a.types_exact
    index = {tuple(row): t for t, row in enumerate(types.tolist())}
    V, f, U, c = env.values_exact[0], a.prior_exact, env.outside_exact[0], env.cost_exact
    for j in range(d - 1):
        kperm = _outcome_perm(env, (j, j + 1))
        if kperm is None:
            return False, "outcomes are not item assignments"
        sw = types.copy()
        sw[:, [j, j + 1]] = types[:, [j + 1, j]]
        img = [index.get(tuple(row)) for row in sw.tolist()]
        if any(t is None for t in img):
            return False, "the type set is not symmetric in the items"
        img = np.array(img)
        if (f[img] != f).any() or (U[img] != U).any():
            return False, "prior or outside option not symmetric in the items"
        if (V[img][:, kperm] != V).any() or (c[kperm] != c).any():
            return False, "values or costs not symmetric in the items"
    return True, "applies"


@dataclass
class Orbits:
    """Orbit representatives and the item permutation taking each type to its representative.

    Attributes
    ----------
    reps : ndarray, shape (R,)
        Type index of each representative (sorted coordinates).
    rep_of : ndarray, shape (T,)
        Orbit (0..R−1) of each type.
    out_map : ndarray, shape (T, K)
        ``out_map[t, k]``: the outcome that type t receives where its representative receives k.
    mass : ndarray, shape (R,)
        Prior mass of each orbit.
    """

    reps: np.ndarray
    rep_of: np.ndarray
    out_map: np.ndarray
    mass: np.ndarray
    mass_exact: list = field(default_factory=list)


def orbits(env) -> Orbits:
    a = env.agents[0]
    types = a.types_exact
    T, d = types.shape
    rows = types.tolist()
    keys = [tuple(sorted(r)) for r in rows]
    index = {tuple(r): t for t, r in enumerate(rows)}
    rep_types = {}
    for key in keys:
        rep_types.setdefault(key, index[key])
    reps = np.array(sorted(rep_types.values()))
    orbit_of_rep = {int(r): o for o, r in enumerate(reps)}
    rep_of = np.array([orbit_of_rep[rep_types[k]] for k in keys])
    labels = [o.split("|") for o in env.outcomes]
    pos = {tuple(lab): k for k, lab in enumerate(labels)}
    K = len(labels)
    fl = np.asarray(a.types, dtype=float)
    order = np.argsort(fl, axis=1, kind="stable")  # t[order[m]] = rep[m] (equal coordinates: any order)
    perms = {}
    out_map = np.empty((T, K), dtype=np.int64)
    for t in range(T):
        pi = tuple(order[t])
        if pi not in perms:
            m = np.empty(K, dtype=np.int64)
            for k, lab in enumerate(labels):
                new = [None] * d
                for mm in range(d):
                    new[pi[mm]] = lab[mm]
                m[k] = pos[tuple(new)]
            perms[pi] = m
        out_map[t] = perms[pi]
    f = np.asarray(a.prior, dtype=float)
    mass = np.bincount(rep_of, weights=f, minlength=reps.size)
    from fractions import Fraction

    mass_exact = [Fraction(0)] * reps.size
    for t, o in enumerate(rep_of.tolist()):
        mass_exact[o] += a.prior_exact[t]
    return Orbits(reps, rep_of, out_map, mass, mass_exact)


@dataclass
class ItemLayout(Layout):
    """``x(r, k)`` at ``r·K + k`` and ``p(r)`` at ``R·K + r`` for the R orbit representatives."""

    R: int = 0

    def __post_init__(self) -> None:
        self.x0 = 0
        self.P0[0] = self.R * self.K
        self.n_cols = self.R * (self.K + 1)

    @property
    def S(self) -> int:
        return self.R

    def pcol(self, prof, i):
        return self.P0[0] + np.asarray(prof)


def layout(design: Design, orb: Orbits) -> ItemLayout:
    env = design.env
    return ItemLayout((orb.reps.size,), env.n_outcomes, True, (), [[[k] for k in range(env.n_outcomes)]],
                      R=orb.reps.size)


def build_rows(design: Design, lay: ItemLayout, data: Data, orb: Orbits, pairs) -> list[Rows]:
    """Families ``lottery`` (per representative), ``stabilizer`` (lotteries of representatives with
    equal coordinates are invariant under swapping those items), ``ir``, ``budget``, ``ic`` (pairs
    (r, s): orbit r, any type s, in the order given; last, so that a generation round's LP is the
    previous one with rows appended)."""
    env = design.env
    R, K = lay.R, lay.K
    V = data.V[0]
    reps = orb.reps
    out = []
    fam = Rows("lottery", data)
    local = fam.new(R, data.ones(R), equality=True, profile=reps)
    for k in range(K):
        fam.terms(local, np.arange(R) * K + k, data.ones(R))
    out.append(fam)
    # a representative with equal coordinates j, j+1 is fixed by swapping those items: its lottery
    # must be too, else "the" permuted lottery of a type in its orbit would depend on the permutation
    fam = Rows("stabilizer", data)
    coords = np.asarray(env.agents[0].types_exact)[reps]
    for j in range(coords.shape[1] - 1):
        tied = np.flatnonzero(coords[:, j] == coords[:, j + 1])
        kperm = _outcome_perm(env, (j, j + 1))
        moved = np.flatnonzero(kperm > np.arange(K))
        if tied.size == 0 or moved.size == 0:
            continue
        rr, kk = np.repeat(tied, moved.size), np.tile(moved, tied.size)
        local = fam.new(rr.size, data.zeros(rr.size), equality=True, profile=reps[rr])
        fam.terms(local, rr * K + kk, data.ones(rr.size))
        fam.terms(local, rr * K + kperm[kk], -data.ones(rr.size))
    out.append(fam)
    if design.ir != "none":
        fam = Rows("ir", data)
        U = data.U[0][reps]
        if design.ir == "ex_ante":
            w = _mass(data, orb)
            local = fam.new(1, np.array([(w * U).sum()], dtype=object if data.exact else float), equality=False,
                            agent=0)
            fam.terms(np.full(R * K, local[0]), np.arange(R * K), (V[reps] * w[:, None]).reshape(-1))
            fam.terms(np.full(R, local[0]), lay.P0[0] + np.arange(R), -w)
        else:
            local = fam.new(R, U, equality=False, agent=0, type=reps)
            fam.terms(np.repeat(local, K), np.arange(R * K), V[reps].reshape(-1))
            fam.terms(local, lay.P0[0] + np.arange(R), -data.ones(R))
        out.append(fam)
    if design.budget != "none":
        fam = Rows("budget", data)
        w = _mass(data, orb)
        if design.budget == "ex_ante":
            local = fam.new(1, data.zeros(1), equality=False)
            fam.terms(np.full(R, local[0]), lay.P0[0] + np.arange(R), w)
            fam.terms(np.full(R * K, local[0]), np.arange(R * K), -(w[:, None] * data.cost[None, :]).reshape(-1))
        else:
            local = fam.new(R, data.zeros(R), equality=design.budget == "exact", profile=reps)
            fam.terms(local, lay.P0[0] + np.arange(R), data.ones(R))
            fam.terms(np.repeat(local, K), np.arange(R * K), -np.tile(data.cost, R))
        out.append(fam)
    if design.ic != "none":  # last: IC generation appends rows (mechopt.backends.rows)
        r, s = pairs
        fam = Rows("ic", data)
        m = r.size
        local = fam.new(m, data.zeros(m), equality=False, agent=0, type=reps[r], report=s)
        ks = np.arange(K)
        rr = np.repeat(r, K)
        kk = np.tile(ks, m)
        fam.terms(np.repeat(local, K), rr * K + kk, V[reps[rr], kk])  # truthful value
        so = orb.rep_of[s]
        fam.terms(np.repeat(local, K), np.repeat(so, K) * K + kk,
                  -V[reps[rr], orb.out_map[np.repeat(s, K), kk]])  # value of the report's (permuted) lottery
        fam.terms(local, lay.P0[0] + r, -data.ones(m))
        fam.terms(local, lay.P0[0] + so, data.ones(m))
        out.append(fam)
    del env
    return out


def _mass(data: Data, orb: Orbits) -> np.ndarray:
    return np.array(orb.mass_exact, dtype=object) if data.exact else orb.mass


def objective_vector(design: Design, lay: ItemLayout, data: Data, orb: Orbits):
    """Orbit masses times the representative's payment / value, net of the designer's cost."""
    if design.objective == "gains":  # welfare net of the status quo (every agent's outside option)
        from .objective import status_quo_value

        c, _ = objective_vector(design.replace(objective="welfare"), lay, data, orb)
        return c, -status_quo_value(design, data.exact)
    R, K = lay.R, lay.K
    w = _mass(data, orb)
    V = data.V[0][orb.reps]
    cost = np.broadcast_to(data.cost[None, :], (R, K))
    c = data.zeros(lay.n_cols)
    kind = design.objective
    if kind == "revenue":
        c[: R * K] = (-(w[:, None] * cost)).reshape(-1)
        c[lay.P0[0]: lay.P0[0] + R] = w
    elif kind == "welfare":
        c[: R * K] = (w[:, None] * (V - cost)).reshape(-1)
    elif kind == "utility":
        c[: R * K] = (w[:, None] * V).reshape(-1)
        c[lay.P0[0]: lay.P0[0] + R] = -w
    return c, data.zeros(1)[0]


def initial_pairs(env, orb: Orbits) -> tuple[np.ndarray, np.ndarray]:
    """The reports first generated: for each representative, its lower neighbours.

    For each item j, the type nearest (L1) to the representative with value j lowered to the
    next smaller value any type has for item j (on a grid: one step down along axis j); under
    unit demand also the type nearest to all values lowered at once (one step down the
    diagonal).  A neighbour is kept only when every value of it is at most the
    representative's (and, on the diagonal, below in every item).

    Downward local constraints are the ones that bind in the screening problem (Rochet &
    Choné 1998; a theorem for one item, Myerson 1981; observed here for several items).
    With them alone the first round is the last on the benchmarks: two additive items on
    81 points per item, 6,623 pairs, HiGHS 1.4 s (3.5 s with all 13,284 axis neighbours);
    three items on 21 points, 0.9 s (3.1 s).  Under unit demand the optimum's binding
    constraints also run along the diagonal (a posted price for either item is optimal on
    [0,1]², Pavlov 2011): with the diagonal, unit demand on 61 points needs one round of
    0.5 s instead of three (1.5 s), on 81 points 1.4 s instead of 5.1 s; for additive items
    the diagonal only enlarges the LP.  Nothing depends on the choice: the generation loop
    checks every pair.

    Returns
    -------
    r : ndarray, shape (m,)
        Orbit of each pair (at most d + 1 per representative).
    s : ndarray, shape (m,)
        Reported type of each pair.
    """
    from scipy.spatial import cKDTree

    pts = np.asarray(env.agents[0].types, dtype=float)
    T, d = pts.shape
    R = orb.reps.size
    own = pts[orb.reps]  # (R, d)
    lower = np.empty_like(own)  # next smaller value of each item among all types (nan: none)
    for j in range(d):
        u = np.unique(pts[:, j])
        pos = np.searchsorted(u, own[:, j])
        lower[:, j] = np.where(pos > 0, u[np.maximum(pos - 1, 0)], np.nan)
    targets, rows = [], []
    for j in range(d):
        tj = own.copy()
        tj[:, j] = lower[:, j]
        targets.append(tj)
        rows.append(np.arange(R))
    diagonal = env.meta.get("valuation") == "unit_demand"
    if diagonal:
        targets.append(lower)
        rows.append(np.arange(R))
    tgt, r = np.concatenate(targets), np.concatenate(rows)
    ok = ~np.isnan(tgt).any(axis=1)
    tgt, r = tgt[ok], r[ok]
    if r.size == 0:
        return r.astype(np.int64), r.astype(np.int64)
    _, s = cKDTree(pts).query(tgt, k=1, p=1)
    s = np.asarray(s, dtype=np.int64)
    below = (pts[s] <= own[r]).all(axis=1) & (s != orb.reps[r])
    if diagonal:  # the diagonal target is the last block: strictly below in every item
        diag = np.zeros(r.size, dtype=bool)
        diag[r.size - int(ok[-R:].sum()):] = True
        below &= ~diag | (pts[s] < own[r]).all(axis=1)
    code = np.unique(r[below] * T + s[below])  # two targets may share their nearest type
    return code // T, code % T


def expand(orb: Orbits, xr: np.ndarray, pr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Full tables ``x`` (T, K), ``p`` (T, 1) from the representatives' ``xr`` (R, K), ``pr`` (R,)."""
    T, K = orb.out_map.shape
    x = np.empty((T, K))
    x[np.arange(T)[:, None], orb.out_map] = xr[orb.rep_of]
    return x, pr[orb.rep_of][:, None]


def violated_pairs(env, orb: Orbits, x: np.ndarray, p: np.ndarray, skip: np.ndarray, tol: float,
                   budget: int = 4_000_000) -> tuple[np.ndarray, np.ndarray]:
    """IC pairs (representative, report) whose gain exceeds ``tol``, without the (R, T) gain array.

    Parameters
    ----------
    env : Environment
    orb : Orbits
    x : ndarray, shape (T, K)
        Full allocation table (:func:`expand`).
    p : ndarray, shape (T, 1)
        Full payment table.
    skip : ndarray of int, shape (m0,)
        Pairs ``r·T + s`` not to report (already in the LP), ascending.
    tol : float
        Separation tolerance, in the problem's money unit.
    budget : int
        Entries of the gain array held at once (rows of representatives per block).

    Returns
    -------
    code : ndarray, shape (m,)
        ``r·T + s`` of every violated pair not in ``skip`` (r's own type excluded), ascending.
    gain : ndarray, shape (m,)
        Its gain ``u(r; report s) − u(r; truth)``.
    """
    V = env.values[0][orb.reps]  # (R, K)
    R, T = orb.reps.size, x.shape[0]
    pay = p[:, 0]
    truth = (V * x[orb.reps]).sum(axis=1) - pay[orb.reps]  # (R,)
    codes, gains = [], []
    step = max(1, budget // max(1, T))
    xt = np.ascontiguousarray(x.T)
    for a in range(0, R, step):
        b = min(R, a + step)
        g = V[a:b] @ xt
        g -= pay[None, :]
        g -= truth[a:b, None]
        g[np.arange(b - a), orb.reps[a:b]] = -np.inf
        lo, hi = np.searchsorted(skip, [a * T, b * T])
        g.reshape(-1)[skip[lo:hi] - a * T] = -np.inf
        rr, ss = np.nonzero(g > tol)
        codes.append((rr + a) * T + ss)
        gains.append(g[rr, ss])
    return np.concatenate(codes), np.concatenate(gains)
