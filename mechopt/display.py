"""Notebook display (``_repr_html_``) of designs, results and mechanisms: small HTML tables.

Each function returns an HTML string; the classes' ``_repr_html_`` methods call them,
so Jupyter shows a table instead of the plain ``repr``.  The certificate's table
lives in :mod:`mechopt.certificates.presentation`.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from .design import Design
    from .mechanism import Mechanism
    from .result import Result

__all__ = ["design_html", "result_html", "mechanism_html"]


def _table(pairs: list[tuple[str, Any]]) -> str:
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td style='text-align:left'>"
        f"{html.escape(_fmt(v))}</td></tr>"
        for k, v in pairs
    )
    return f"<table>{rows}</table>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def design_html(d: Design) -> str:
    """Options of a design and its environment, one row each."""
    env = d.env
    pairs = [("environment", f"{env.kind}: " + ", ".join(f"{a.name} ({a.n_types} types)" for a in env.agents)),
             ("objective", f"maximize {d.objective}")]
    pairs += [(k, getattr(d, k)) for k in ("ic", "ir", "budget", "allocation", "deterministic")]
    return "<p><b>Design</b></p>" + _table(pairs)


def mechanism_html(m: Mechanism) -> str:
    """Name, metrics and the interim table of each agent (first 12 types)."""
    met = m.metrics
    pairs = [(k, met[k]) for k in ("revenue", "welfare", "utility", "gains") if k in met]
    parts = [f"<p><b>Mechanism {html.escape(m.name)}</b> ({m.env.n_profiles} profiles, "
             f"{m.env.n_outcomes} outcomes)</p>", _table(pairs)]
    for name, df in m.interim.items():
        parts.append(f"<p>interim table of {html.escape(name)}</p>")
        parts.append(df.head(12).to_html(float_format=lambda v: f"{v:.4g}"))
    return "".join(parts)


def result_html(r: Result) -> str:
    """Status, objective, design, metrics, verification, reductions and solver time."""
    pairs: list[tuple[str, Any]] = [("status", str(r.status))]
    if r.objective is not None:
        pairs.append(("objective", r.objective))
    pairs.append(("design", r.design.describe()))
    m = r.metrics
    for k in ("revenue", "welfare", "utility", "gains"):
        if k in m:
            pairs.append((k, m[k]))
    if r.verification:
        worst = max(r.verification.get("max_violation", {}).values(), default=0.0)
        pairs.append(("verified", f"{r.verification.get('ok')} (worst violation {worst:.2e})"))
    s = r.lp.sizes
    pairs.append(("LP", f"{s['rows']} rows × {s['cols']} columns, {s['nnz']} nonzeros"))
    pairs.append(("reductions", ", ".join(f"{k}: {v}" for k, v in r.reductions.items() if k != "border_reason")))
    pairs.append(("solver", f"{r.solver.get('name')} {r.solver.get('seconds', 0.0):.3f} s"))
    out = "<p><b>Result</b></p>" + _table(pairs)
    if r.mechanism is not None and r.design.env.n_profiles <= 36:
        out += "<p>allocation</p>" + pd.concat([r.mechanism.allocation, r.mechanism.payments.add_prefix("pays ")],
                                               axis=1).to_html(float_format=lambda v: f"{v:.4g}")
    return out
