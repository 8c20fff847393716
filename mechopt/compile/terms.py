"""Linear pieces that several families share (an agent's value and payment)."""

from __future__ import annotations

import numpy as np

from .layout import Layout, Rows


def value_terms(rows: Rows, lay: Layout, i: int, local, prof, own, weight, at=None) -> None:
    """Add ``weight · v_i(x(prof), θ_i^own) = weight · Σ_g V_i[own, g] Σ_{k∈g} x(prof, k)``.

    ``local``, ``prof``, ``own`` and ``weight`` are aligned arrays (one entry per term row).
    With interdependent values (``data.PV``) the value is taken at the *true*
    profile ``at`` (default ``prof``): ``weight · Σ_g PV_i[at, g] Σ_{k∈g} x(prof, k)``,
    so a misreport changes the allocation but not the profile that sets its value.
    """
    data = rows.data
    if data.PV is not None:
        V, idx = data.PV[i], (prof if at is None else at)
    else:
        V, idx = data.V[i], own
    for ks in lay.groups[i]:
        coef = V[idx, ks[0]] * weight
        for k in ks:
            rows.terms(local, lay.xcol(prof, k), coef)


def interim_value_terms(rows: Rows, lay: Layout, i: int, local, own, report, weight) -> None:
    """Add ``weight · Σ_g V_i[own, g] X̄_i[report, g]`` (interim variables)."""
    V = rows.data.V[i]
    G = len(lay.groups[i])
    for g, ks in enumerate(lay.groups[i]):
        rows.terms(local, lay.X0[i] + report * G + g, V[own, ks[0]] * weight)


def payment_terms(rows: Rows, lay: Layout, i: int, local, prof, weight) -> None:
    """Add ``weight · p_i(prof)``."""
    rows.terms(local, lay.pcol(prof, i), weight)


def interim_payment_terms(rows: Rows, lay: Layout, i: int, local, report, weight) -> None:
    """Add ``weight · P̄_i[report]``."""
    rows.terms(local, lay.P0[i] + report, weight)


def pairs(T: int, adjacent: bool) -> tuple[np.ndarray, np.ndarray]:
    """(true type, report) pairs: adjacent ones both ways, or all t ≠ s."""
    if adjacent:
        up = np.arange(T - 1)
        return np.concatenate([up, up + 1]), np.concatenate([up + 1, up])
    t, s = np.nonzero(~np.eye(T, dtype=bool))
    return t, s
