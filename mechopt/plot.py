"""Pictures of mechanisms, results, virtual values, grid refinement and certificates.

Every function takes ``ax=None`` (a new figure is made when omitted) and returns
the matplotlib ``Axes`` it drew on (or a ``Figure`` when it draws several
panels).  Colour maps are perceptually uniform and colour-blind safe (cividis,
viridis), every heatmap has a colour bar, and line colours are the blue/orange
pair that stays distinct under the common colour-vision deficiencies.  Nothing
here keeps global state or calls ``plt.show()``; matplotlib is imported only
when a function runs, so ``import mechopt`` stays light.

* :func:`allocation_heatmap` — two-agent problems: probability of one outcome
  over the type grid (e.g. the trade region of bilateral trade), optionally
  with an overlay line such as ``v_b = v_s + 1/4``;
* :func:`interim_allocation`, :func:`interim_payment`, :func:`interim_curves` —
  per agent, as functions of the own type;
* :func:`virtual_values` — raw and ironed virtual values read off the duals;
* :func:`convergence` — objective versus grid size, with the continuum value;
* :func:`certificate_weights` — weight of a certificate by row family (economic families first);
* :func:`certificate_grid` — a certificate's weights over a two-agent type grid;
* :func:`mechanism`, :func:`result` — a sensible default picture (used by
  ``Mechanism.plot()`` and ``Result.plot()``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .mechanism import Mechanism
    from .result import Result

__all__ = [
    "allocation_heatmap",
    "interim_allocation",
    "interim_payment",
    "interim_curves",
    "virtual_values",
    "convergence",
    "certificate_weights",
    "certificate_grid",
    "mechanism",
    "result",
]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _axes(ax=None, figsize=(5, 4)):
    if ax is not None:
        return ax
    fig = _plt().figure(figsize=figsize)
    return fig.add_subplot(1, 1, 1)


def _mech(obj) -> Mechanism:
    """A Mechanism from a Mechanism or a Result."""
    if hasattr(obj, "x") and hasattr(obj, "env"):
        return obj
    m = getattr(obj, "mechanism", None)
    if m is None:
        status = getattr(obj, 'status', '?')
        raise ValueError(f"nothing to plot: {type(obj).__name__} has no mechanism (status {status})")
    return m


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges around points (midpoints between neighbours)."""
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def _type_axis(agent) -> tuple[np.ndarray, str]:
    if agent.is_scalar:
        return np.asarray(agent.types, dtype=float), f"type of {agent.name}"
    return np.arange(agent.n_types, dtype=float), f"type index of {agent.name}"


def _agent_outcomes(env, i: int) -> list[int]:
    """Outcomes that count as agent i's "allocation" in interim pictures."""
    outs = list(env.outcomes)
    if "trade" in outs:
        return [outs.index("trade")]
    name = env.names[i]
    if name in outs:
        return [outs.index(name)]
    V = np.asarray(env.values[i], dtype=float)
    ks = [k for k in range(env.n_outcomes) if np.any(V[:, k] > 0)]
    return ks or list(range(env.n_outcomes))


# --------------------------------------------------------------------------- two-agent heatmap
def allocation_heatmap(
    obj: Mechanism | Result,
    outcome: str | int | None = None,
    ax: Axes | None = None,
    overlay: Callable[[np.ndarray], np.ndarray] | None = None,
    overlay_label: str | None = None,
    cmap: str = "cividis",
    colorbar: bool = True,
    title: str | None = None,
) -> Axes:
    """Probability of one outcome at every profile of a two-agent problem.

    Parameters
    ----------
    obj : Mechanism or Result
    outcome : str or int, optional
        Outcome to show (default ``"trade"`` if present, else outcome 1 — in a
        single-item auction, "the first agent wins").
    ax : matplotlib Axes, optional
    overlay : callable, optional
        ``y = overlay(x)`` drawn as a line over the heatmap, where x is the first
        agent's type and y the second's (e.g. ``lambda vb: vb - 0.25`` for the
        Myerson–Satterthwaite boundary ``v_b = v_s + 1/4``).
    overlay_label : str, optional
    cmap : str
    colorbar : bool
    title : str, optional

    Returns
    -------
    matplotlib Axes
        With one ``QuadMesh`` (the heatmap) and, with an overlay, one line.
    """
    m = _mech(obj)
    env = m.env
    if env.n_agents != 2:
        raise ValueError(f"allocation_heatmap needs exactly two agents, got {env.n_agents}")
    outs = list(env.outcomes)
    if outcome is None:
        k = outs.index("trade") if "trade" in outs else min(1, len(outs) - 1)
    elif isinstance(outcome, str):
        if outcome not in outs:
            raise ValueError(f"unknown outcome {outcome!r}; the outcomes are {outs}")
        k = outs.index(outcome)
    else:
        k = int(outcome)
    a0, a1 = env.agents
    x0, lab0 = _type_axis(a0)
    x1, lab1 = _type_axis(a1)
    Z = m.x[:, k].reshape(env.shape)  # (T0, T1)
    ax = _axes(ax)
    mesh = ax.pcolormesh(_edges(x0), _edges(x1), Z.T, cmap=cmap, vmin=0.0, vmax=1.0, shading="flat")
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label=f"P({outs[k]})")
    if overlay is not None:
        xs = np.linspace(x0.min(), x0.max(), 200)
        ys = np.asarray(overlay(xs), dtype=float)
        inside = (ys >= x1.min()) & (ys <= x1.max())
        ax.plot(xs[inside], ys[inside], color="crimson", lw=2, label=overlay_label or "overlay")
        ax.legend(loc="best", fontsize="small")
    ax.set_xlabel(lab0)
    ax.set_ylabel(lab1)
    ax.set_title(title or f"{m.name}: P({outs[k]})")
    return ax


# --------------------------------------------------------------------------- interim curves
def _interim_plot(obj, column: str, ax, agents, title) -> Axes:
    m = _mech(obj)
    env = m.env
    ax = _axes(ax)
    names = env.names if agents is None else [env.names[env.agent_index(a)] for a in agents]
    for name in names:
        i = env.names.index(name)
        tab = m.interim[name]
        x, _ = _type_axis(env.agents[i])
        if column == "allocation":
            y = tab[[env.outcomes[k] for k in _agent_outcomes(env, i)]].sum(axis=1).to_numpy()
        else:
            y = tab[column].to_numpy()
        ax.plot(x, y, marker="o", ms=3, drawstyle="default", label=name)
    ax.set_xlabel("own type")
    ax.set_ylabel({"allocation": "interim allocation", "payment": "interim payment",
                   "utility": "interim utility"}.get(column, column))
    ax.set_title(title or f"{m.name}: interim {column}")
    ax.legend(fontsize="small")
    return ax


def interim_allocation(obj: Mechanism | Result, ax: Axes | None = None, agents: Sequence[str] | None = None,
                       title: str | None = None) -> Axes:
    """Interim allocation per agent (probability of its outcome given its type): one line per agent."""
    return _interim_plot(obj, "allocation", ax, agents, title)


def interim_payment(obj: Mechanism | Result, ax: Axes | None = None, agents: Sequence[str] | None = None,
                    title: str | None = None) -> Axes:
    """Interim expected payment per agent as a function of its type: one line per agent."""
    return _interim_plot(obj, "payment", ax, agents, title)


def interim_curves(obj: Mechanism | Result, axes: Sequence[Axes] | None = None,
                   agents: Sequence[str] | None = None) -> Figure:
    """Interim allocation and payment side by side; returns the Figure."""
    if axes is None:
        fig, axes = _plt().subplots(1, 2, figsize=(10, 4))
    else:
        fig = axes[0].figure
    interim_allocation(obj, ax=axes[0], agents=agents)
    interim_payment(obj, ax=axes[1], agents=agents)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- virtual values
def virtual_values(
    res: Result,
    agent: str | int | None = None,
    ax: Axes | None = None,
    raw: bool = True,
    ironed: bool = True,
    closed_form: bool = False,
    title: str | None = None,
) -> Axes:
    """Raw and ironed virtual values of one agent read off the duals (:mod:`mechopt.duality`).

    Draws one line per series (``raw``: φ from the duals, ``ironed``: φ̄ from the
    IC multipliers; ``closed_form``: Myerson's formula from the prior, dashed) and
    a horizontal line at 0 (the reserve).
    """
    from . import duality

    env = res.design.env
    a = env.agents[env.agent_index(agent if agent is not None else 0)]
    ax = _axes(ax)
    if raw:
        s = duality.virtual_values(res, a.name, ironed=False)
        ax.plot(s.index, s.to_numpy(), marker="o", ms=3, color="tab:gray", label="raw φ (duals)")
    if ironed:
        s = duality.virtual_values(res, a.name, ironed=True)
        ax.plot(s.index, s.to_numpy(), marker="s", ms=3, color="tab:blue", label="ironed φ̄ (IC duals)")
    if closed_form:
        s = duality.closed_form_virtual_values(a, ironed=True)
        ax.plot(s.index, s.to_numpy(), ls="--", color="tab:orange", label="Myerson (closed form)")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xlabel(f"type of {a.name}")
    ax.set_ylabel("virtual value")
    ax.set_title(title or f"virtual values of {a.name}")
    ax.legend(fontsize="small")
    return ax


# --------------------------------------------------------------------------- grid refinement
def convergence(
    sizes: Sequence[float] | Mapping[float, float] | pd.Series,
    values: Sequence[float] | None = None,
    continuum: float | None = None,
    ax: Axes | None = None,
    label: str = "LP optimum",
    continuum_label: str = "continuum value",
    xlabel: str = "grid points per agent",
    ylabel: str = "objective",
    title: str | None = None,
) -> Axes:
    """Objective versus grid size, with the continuum value as a horizontal line.

    ``sizes`` is a list (with ``values``), a dict ``{n: value}`` or a Series
    indexed by n.
    """
    if values is None:
        s = pd.Series(sizes) if not isinstance(sizes, pd.Series) else sizes
        n, y = np.asarray(s.index, dtype=float), np.asarray(s.to_numpy(), dtype=float)
    else:
        n, y = np.asarray(sizes, dtype=float), np.asarray(values, dtype=float)
    ax = _axes(ax)
    ax.plot(n, y, marker="o", label=label)
    if continuum is not None:
        ax.axhline(float(continuum), color="crimson", ls="--", label=f"{continuum_label} {float(continuum):.6g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


# --------------------------------------------------------------------------- certificates
def _family_weights(weights: Any) -> pd.Series:
    """Total |weight| per family from a Certificate, a Series (MultiIndex, first level = family) or a dict."""
    wbf = getattr(weights, "weight_by_family", None)
    if wbf is not None:
        wbf = wbf() if callable(wbf) else wbf
        return pd.Series(dict(wbf), dtype=float)
    w = getattr(weights, "weights", weights)
    if isinstance(w, Mapping):
        return pd.Series({k: float(np.sum(np.abs(np.asarray(v, dtype=float)))) for k, v in w.items()}, dtype=float)
    if isinstance(w, pd.Series):
        if isinstance(w.index, pd.MultiIndex):
            return w.abs().groupby(level=0, sort=False).sum().astype(float)
        return w.abs().astype(float)
    raise TypeError(f"cannot read certificate weights from {type(weights).__name__}")


def certificate_weights(weights: Any, ax: Axes | None = None, normalize: bool = True,
                        title: str | None = None) -> Axes:
    """Bar chart of a certificate's weight by row family.

    ``weights``: a Certificate (uses ``weight_by_family`` or ``weights``), a
    Series whose first index level is the family, or a dict family → weight(s).
    With ``normalize`` the bars are shares of the total.
    """
    from .certificates.presentation import BOOKKEEPING, family_order

    s = _family_weights(weights)
    s = s.loc[family_order(s.index.astype(str))] if len(s) else s
    if normalize and s.sum() > 0:
        s = s / s.sum()
    ax = _axes(ax)
    dark, light = _plt().get_cmap("cividis")([0.15, 0.75])
    names = list(s.index.astype(str))
    ax.bar(names, s.to_numpy(), color=[light if f in BOOKKEEPING else dark for f in names])
    ax.set_ylabel("share of total weight" if normalize else "weight")
    ax.set_xlabel("row family (dark: economic, light: bookkeeping)")
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_title(title or "certificate weight by family")
    return ax


def certificate_grid(cert: Any, cmap: str = "viridis", families: tuple[str, ...] | None = None) -> Figure:
    """A certificate's weights over a two-agent type grid (the Myerson–Satterthwaite picture):
    see :func:`mechopt.certificates.presentation.plot_grid`."""
    from .certificates.presentation import plot_grid

    return plot_grid(cert, cmap=cmap, families=families)


# --------------------------------------------------------------------------- defaults
def mechanism(mech: Mechanism, **kw: Any) -> Axes | Figure:
    """Default picture of a mechanism: two scalar agents → :func:`allocation_heatmap`;
    otherwise :func:`interim_curves`."""
    env = mech.env
    if env.n_agents == 2 and all(a.is_scalar for a in env.agents):
        return allocation_heatmap(mech, **kw)
    return interim_curves(mech, **kw)


def result(res: Result, **kw: Any) -> Axes | Figure:
    """Default picture of a result: the mechanism when there is one, else the
    certificate's weight by family (infeasible)."""
    if res.mechanism is not None and res.status in ("optimal", "optimal_inaccurate", "time_limit"):
        return mechanism(res.mechanism, **kw)
    cert = res.certificate
    if cert is None:
        raise ValueError(f"nothing to plot for a result with status {res.status!r} and no certificate")
    return certificate_weights(cert, **kw)
