"""How a certificate reads: economics first, bookkeeping summed up, pictures over the type grid.

A certificate's weights sit on every family of rows, but only some carry the
economics of the proof: incentive compatibility (``ic``), participation
(``ir``), the budget (``budget``), the efficiency requirement (``efficiency``)
and user rows (``user``).  The others — ``lottery`` (probabilities add up to
one), ``interim`` (definitions of expected allocations and payments),
``cumulative`` and ``border`` (Border's (1991) inequalities on interim
allocations) — are bookkeeping: they translate between variables.  The tables
and the text here list the economic rows one by one, ordered by family and then
by weight, and sum each bookkeeping family into one line.

:meth:`Certificate.explain`, :meth:`~Certificate.derivation`,
:meth:`~Certificate.to_latex`, :meth:`~Certificate.plot` and
:meth:`~Certificate._repr_html_` delegate here.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import SpecError

if TYPE_CHECKING:  # pragma: no cover
    from .certificate import Certificate

ECONOMIC = ("ic", "ir", "budget", "efficiency", "user")
BOOKKEEPING = ("lottery", "interim", "cumulative", "border")
BOOKKEEPING_ROWS = ("aggregate", "rows", "hide")


def family_order(families) -> list[str]:
    """Families in reading order: economic ones (ic, ir, budget, efficiency, user), then any
    other, then bookkeeping (lottery, interim, cumulative, border)."""
    fams = list(dict.fromkeys(families))
    econ = [f for f in ECONOMIC if f in fams]
    book = [f for f in BOOKKEEPING if f in fams]
    rest = [f for f in fams if f not in econ and f not in book]
    return econ + rest + book


def all_rows(cert: Certificate) -> pd.DataFrame:
    """Every weighted row (or variable): label, exact weight, value, share, and rhs, sense and
    contribution (weight × rhs) for row certificates; families in reading order, largest share first."""
    w = cert.weights
    fam = w.index.get_level_values("family")
    second = w.index.names[1]
    df = pd.DataFrame({
        "family": fam,
        second: w.index.get_level_values(second),
        "label": w.index.get_level_values("label"),
        "weight": w.to_numpy(),
    })
    df["value"] = df["weight"].map(float) if len(df) else pd.Series(dtype=float)
    total = float(df["value"].abs().sum()) if len(df) else 0.0
    df["share"] = df["value"].abs() / total if total else 0.0
    if cert.kind != "unboundedness" and len(df):
        rows = np.array([cert.model.row_index(f, r) for f, r in zip(df["family"], df[second])], dtype=np.int64)
        df["rhs"] = cert.model.rhs[rows]
        df["sense"] = np.where(cert.model.eq[rows], "=", "≥")
        df["contribution"] = [float(a * b) for a, b in zip(df["weight"], df["rhs"])]
    order = {f: k for k, f in enumerate(family_order(fam))}
    df["_f"] = df["family"].map(order)
    df = df.sort_values(["_f", "share"], ascending=[True, False], kind="stable").drop(columns="_f")
    return df.set_index(["family", second])


def explain(cert: Certificate, text: bool = False, by: str | None = None,
            bookkeeping: str = "aggregate") -> pd.DataFrame | str:
    """See :meth:`Certificate.explain`."""
    if text:
        return derivation(cert)
    if bookkeeping not in BOOKKEEPING_ROWS:
        raise SpecError(f"explain: bookkeeping={bookkeeping!r}; choose one of {', '.join(BOOKKEEPING_ROWS)}")
    df = all_rows(cert)
    second = df.index.names[1]
    if by == "family":
        agg = {"label": "size", "value": lambda s: float(np.abs(s).sum()), "share": "sum"}
        if "contribution" in df:
            agg["contribution"] = "sum"
        out = df.groupby(level="family", sort=False).agg(agg)
        out = out.rename(columns={"label": "rows" if second == "row" else "variables", "value": "weight"})
        out["kind"] = ["bookkeeping" if f in BOOKKEEPING else "economic" for f in out.index]
        return out.loc[list(dict.fromkeys(cert.weights.index.get_level_values("family")))]  # as weight_by_family
    if by is not None:
        raise SpecError("explain: by must be None or 'family'")
    if bookkeeping == "rows" or not len(df):
        return df
    fams = df.index.get_level_values("family")
    econ = df[~fams.isin(BOOKKEEPING)]
    if bookkeeping == "hide":
        return econ
    lines = []
    for f in [f for f in BOOKKEEPING if f in set(fams)]:
        part = df[fams == f]
        line = {
            "label": f"{len(part)} {f} rows, summed (bookkeeping)",
            "weight": sum(part["weight"], Fraction(0)),
            "value": float(sum(part["weight"], Fraction(0))),
            "share": float(part["share"].sum()),
        }
        if "rhs" in part:
            line.update(rhs=None, sense="", contribution=float(part["contribution"].sum()))
        lines.append(pd.DataFrame([line], index=pd.MultiIndex.from_tuples([(f, -1)], names=["family", second])))
    return pd.concat([econ, *lines]) if lines else econ


def row_lines(cert: Certificate, max_rows: int, with_rhs: bool) -> list[str]:
    """The weighted rows as text: economic rows one per line (up to ``max_rows``), bookkeeping summed."""
    df = explain(cert)
    fams = df.index.get_level_values("family")
    econ = df[~fams.isin(BOOKKEEPING)]
    book = df[fams.isin(BOOKKEEPING)]
    out = ["Weights (economic rows first; bookkeeping rows summed):"]
    for (fam, _), r in econ.head(max_rows).iterrows():
        rhs = f"   ({r['sense']} {r['rhs']})" if with_rhs and "rhs" in r else ""
        out.append(f"  {str(r['weight']):>12} × {fam}[{r['label']}]{rhs}")
    if len(econ) > max_rows:
        rest = econ.iloc[max_rows:]
        out.append(f"  … and {len(rest)} more economic rows ({rest['share'].sum():.1%} of the weight; "
                   "explain() lists them)")
    for (fam, _), r in book.iterrows():
        contrib = f", contributing {r['contribution']:.6g} to the right-hand side" if "contribution" in r else ""
        out.append(f"  {fam:<12} {r['label']}: {r['share']:.1%} of the weight{contrib}")
    return out


def derivation(cert: Certificate, max_rows: int = 20) -> str:
    """See :meth:`Certificate.derivation`."""
    if cert.model is None or cert._vector is None:
        return f"No {cert.kind} certificate: " + "; ".join(cert.notes or ["construction failed"])
    chk = cert.check()
    verdict = "verified exactly" if chk.ok else "FAILS the exact check: " + "; ".join(chk.failures)
    design = cert.design.describe() if hasattr(cert.design, "describe") else repr(cert.design)
    fams = explain(cert, by="family").loc[family_order(cert.weights.index.get_level_values("family"))]
    unit = "rows" if cert.kind != "unboundedness" else "variables"
    fam_text = ", ".join(f"{f} ({int(r[unit])})" for f, r in fams.iterrows())
    n = len(cert.weights)
    lines: list[str] = []
    if cert.kind == "infeasibility":
        yb, beta = chk.numbers.get("yb"), chk.numbers.get("beta")
        lines.append(f"Infeasibility certificate ({verdict}) for: {design}")
        lines.append(f"Adding these {n} constraints [{fam_text}] with these weights gives")
        if beta == 0:
            lines.append(f"  0 ≥ {yb}")
            lines.append(
                "because every free variable cancels and every nonnegative variable (allocation "
                "probabilities) is left with a coefficient ≤ 0, so the left side is ≤ 0, while the "
                f"weighted right-hand sides add up to {yb} > 0."
            )
        else:
            lines.append(f"  {beta} ≥ {yb}  (the left side is at most {beta} within the variable bounds)")
        lines.append("No mechanism satisfies all of them: the design is infeasible.")
        lines += row_lines(cert, max_rows, with_rhs=True)
    elif cert.kind == "optimality":
        lines.append(f"Optimality certificate ({verdict}) for: {design}")
        lines.append(f"Optimal value (exact): {cert.objective}")
        lines.append(f"Primal: the mechanism's exact variables satisfy every row, value {chk.numbers.get('value')}.")
        lines.append(
            f"Dual: adding the objective to these {n} constraints [{fam_text}] with these weights "
            f"(≥ 0 on inequalities) bounds every feasible mechanism's value by {chk.numbers.get('bound')}."
        )
        lines.append("Equal values: the mechanism is optimal and the optimum is exact.")
        lines += row_lines(cert, max_rows, with_rhs=True)
    else:
        lines.append(f"Unboundedness certificate ({verdict}) for: {design}")
        lines.append(
            f"Start from an exact feasible mechanism and move along a direction changing {n} "
            f"variables [{fam_text}]: every constraint stays satisfied (A·d ≥ 0, = 0 on equalities) and "
            f"the objective rises by {chk.numbers.get('gain')} per unit step, so it has no maximum."
        )
        lines += row_lines(cert, max_rows, with_rhs=False)
    return "\n".join(lines)


def to_latex(cert: Certificate, max_rows: int = 30) -> str:
    """See :meth:`Certificate.to_latex`."""
    df = explain(cert)
    chk = cert.check()
    fams = df.index.get_level_values("family")
    econ = df[~fams.isin(BOOKKEEPING)]
    book = df[fams.isin(BOOKKEEPING)]
    lines = [r"\begin{tabular}{llr}", r"\hline", r"family & constraint & weight \\", r"\hline"]
    for (fam, _), r in econ.head(max_rows).iterrows():
        lines.append(f"{tex(fam)} & {tex(r['label'])} & ${frac(r['weight'])}$ \\\\")
    if len(econ) > max_rows:
        lines.append(rf"\multicolumn{{3}}{{l}}{{\dots\ and {len(econ) - max_rows} more economic rows}} \\")
    if len(book):
        lines.append(r"\hline")
        for (fam, _), r in book.iterrows():
            lines.append(rf"{tex(fam)} & {tex(r['label'])} & {100 * r['share']:.1f}\% of weight \\")
    lines += [r"\hline", r"\end{tabular}", ""]
    if cert.kind == "infeasibility":
        yb, beta = chk.numbers.get("yb"), chk.numbers.get("beta")
        lines.append(rf"\[ {frac(beta) if beta is not None else '?'} \;\ge\; \sum_r y_r b_r = {frac(yb)} \]")
    elif cert.kind == "optimality":
        lines.append(
            rf"\[ \max \;=\; {frac(chk.numbers.get('value'))} \;=\; "
            rf"\text{{dual bound}} \;=\; {frac(chk.numbers.get('bound'))} \]"
        )
    else:
        lines.append(rf"\[ A d \ge 0,\quad c^\top d = {frac(chk.numbers.get('gain'))} > 0 \]")
    return "\n".join(lines)


# --------------------------------------------------------------------------- pictures
def plot(cert: Certificate, kind: str = "family", ax=None, cmap: str = "viridis"):
    """``kind="family"``: share of weight by family (economic families first);
    ``kind="grid"``: the weights over a two-agent type grid (:func:`grid_weights`)."""
    if kind == "grid":
        return plot_grid(cert, cmap=cmap)
    if kind != "family":
        raise SpecError(f"certificate plot: kind={kind!r}; choose 'family' or 'grid'")
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.2), layout="constrained")
    shares = cert.weight_by_family
    names = family_order(shares)
    colors = plt.get_cmap("cividis")(np.linspace(0.15, 0.85, 2))
    ax.bar(names, [shares[f] for f in names],
           color=[colors[1] if f not in BOOKKEEPING else colors[0] for f in names])
    ax.set_ylabel("share of total |weight|")
    ax.set_title(f"{cert.kind} certificate" + (" (verified)" if cert.verified else " (NOT verified)"))
    ax.set_ylim(0, 1)
    ax.tick_params(axis="x", labelrotation=30)
    return ax


def grid_weights(cert: Certificate, families: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The certificate's |weights| arranged over a two-agent type grid.

    Returns a dict with ``profile`` (DataFrame ``(T_0, T_1)``: total |weight| of the rows
    labelled by a profile — efficiency, ex post IR/budget, lottery — index agent 0's types,
    columns agent 1's), and per agent ``"<name>"`` a DataFrame indexed by its types with one
    column per family of rows labelled by (agent, type): IC rows by the true type, interim IR rows.

    Parameters
    ----------
    families : tuple of str, optional
        Families to include (default: the economic ones, or every family when none has weight).
    """
    if cert.kind == "unboundedness" or cert.model is None:
        raise SpecError("grid picture: needs a row certificate (infeasibility or optimality)")
    lp = cert.model.lp
    env = lp.design.env
    if env.n_agents != 2:
        raise SpecError(f"grid picture: needs two agents; this environment has {env.n_agents}")
    w = cert.weights
    fam = w.index.get_level_values("family")
    if families is None:
        econ = [f for f in dict.fromkeys(fam) if f not in BOOKKEEPING]
        families = tuple(econ) if econ else tuple(dict.fromkeys(fam))
    T0, T1 = env.shape
    prof = np.zeros((T0, T1))
    per_agent = {a.name: pd.DataFrame(index=pd.Index(a.type_labels, name=a.name)) for a in env.agents}
    rows = w.index.get_level_values("row").to_numpy(dtype=np.int64)
    vals = np.abs(w.to_numpy().astype(float))
    for f in families:
        mask = np.asarray(fam == f)
        if not mask.any():
            continue
        codes = lp.family(f).codes
        r, v = rows[mask], vals[mask]
        p = codes.get("profile")
        if p is not None and (p[r] >= 0).any():
            ok = p[r] >= 0
            a, b = np.unravel_index(p[r][ok], env.shape)
            np.add.at(prof, (a, b), v[ok])
        ag, ty = codes.get("agent"), codes.get("type")
        if ag is not None and ty is not None:
            ok = (ag[r] >= 0) & (ty[r] >= 0) & ((p[r] < 0) if p is not None else True)
            for i, a in enumerate(env.agents):
                sel = ok & (ag[r] == i)
                if sel.any():
                    col = np.zeros(a.n_types)
                    np.add.at(col, ty[r][sel], v[sel])
                    per_agent[a.name][f] = col
    out: dict[str, Any] = {
        "profile": pd.DataFrame(prof, index=pd.Index(env.agents[0].type_labels, name=env.names[0]),
                                columns=pd.Index(env.agents[1].type_labels, name=env.names[1])),
        "families": families,
    }
    out.update(per_agent)
    return out


def plot_grid(cert: Certificate, cmap: str = "viridis", families: tuple[str, ...] | None = None):
    """Heatmap of the weights of profile-labelled rows over (agent 0 type × agent 1 type), with the
    weights of type-labelled rows (IC by true type, interim IR) as bars along each axis; colour
    bar included.  Returns the matplotlib Figure.  The Myerson–Satterthwaite picture:
    ``mo.Design(bilateral_trade(...), ic="bic", ir="interim", budget="ex_ante",
    allocation="efficient").solve().certificate.plot(kind="grid")``."""
    import matplotlib.pyplot as plt

    g = grid_weights(cert, families)
    env = cert.model.lp.design.env
    a0, a1 = env.agents
    fig = plt.figure(figsize=(7.2, 6.2), layout="constrained")
    gs = fig.add_gridspec(2, 3, width_ratios=(4, 1.3, 0.22), height_ratios=(1.3, 4))
    ax = fig.add_subplot(gs[1, 0])
    top = fig.add_subplot(gs[0, 0], sharex=ax)
    right = fig.add_subplot(gs[1, 1], sharey=ax)
    cax = fig.add_subplot(gs[1, 2])
    key = fig.add_subplot(gs[0, 1:])  # legend box in the free corner: never on top of the bars
    key.axis("off")
    x = np.arange(a0.n_types)
    y = np.arange(a1.n_types)
    prof = g["profile"].to_numpy()
    mesh = ax.pcolormesh(x, y, prof.T, cmap=cmap, shading="nearest")
    fig.colorbar(mesh, cax=cax, label="|weight| of profile rows")
    bar_fams = list(dict.fromkeys(f for a in env.agents for f in g[a.name].columns))
    palette = plt.get_cmap("cividis")(np.linspace(0.1, 0.85, max(2, len(bar_fams))))
    colors = {f: palette[k] for k, f in enumerate(bar_fams)}  # one colour per family in both panels
    for axis, agent, pos in ((top, a0, x), (right, a1, y)):
        df = g[agent.name]
        base = np.zeros(agent.n_types)
        for f in df.columns:
            if axis is top:
                axis.bar(pos, df[f].to_numpy(), bottom=base, color=colors[f], label=f, width=0.8)
            else:
                axis.barh(pos, df[f].to_numpy(), left=base, color=colors[f], label=f, height=0.8)
            base = base + df[f].to_numpy()
    handles: dict = {}
    for axis in (top, right):
        for h, lab in zip(*axis.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    if handles:
        key.legend(list(handles.values()), [f"{f} rows (by type)" for f in handles], loc="center",
                   fontsize="small", frameon=False)
    step0 = max(1, a0.n_types // 8)
    step1 = max(1, a1.n_types // 8)
    ax.set_xticks(x[::step0], [f"{t:g}" if isinstance(t, float) else str(t) for t in a0.type_labels[::step0]])
    ax.set_yticks(y[::step1], [f"{t:g}" if isinstance(t, float) else str(t) for t in a1.type_labels[::step1]])
    ax.set_xlabel(f"type of {a0.name}")
    ax.set_ylabel(f"type of {a1.name}")
    top.set_ylabel("|weight|")
    right.set_xlabel("|weight|")
    top.tick_params(labelbottom=False)
    right.tick_params(labelleft=False)
    fig.suptitle(f"{cert.kind} certificate over the type grid ({', '.join(g['families'])})", fontsize="medium")
    return fig


# --------------------------------------------------------------------------- notebooks
def html(cert: Certificate) -> str:
    """Notebook display: a one-line verdict and the per-family table."""
    import html as _h

    head = _h.escape(repr(cert))
    if cert.model is None or cert._vector is None:
        return f"<p><b>{head}</b></p>"
    fams = explain(cert, by="family").loc[family_order(cert.weights.index.get_level_values("family"))]
    return f"<p><b>{head}</b></p>" + fams.to_html(float_format=lambda v: f"{v:.4g}")


def tex(s: Any) -> str:
    s = str(s)
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("&", r"\&"), ("%", r"\%"), ("#", r"\#"),
                 ("≥", r"$\ge$"), ("→", r"$\to$")):
        s = s.replace(a, b)
    return s


def frac(v: Any) -> str:
    if v is None:
        return "?"
    v = Fraction(v)
    if v.denominator == 1:
        return str(v.numerator)
    sign = "-" if v < 0 else ""
    return rf"{sign}\frac{{{abs(v.numerator)}}}{{{v.denominator}}}"
