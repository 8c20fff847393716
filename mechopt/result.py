"""What ``Design.solve()`` returns.

Duals: ``result.duals[family]`` is a DataFrame of the family's row labels plus a
``dual`` column holding λ_r = −∂(optimal value)/∂(right-hand side of row r).
For a ``≥`` row (IC, IR, budget, efficiency) λ ≥ 0 and λ > 0 only if the row
binds; for ``=`` rows (lottery, interim definitions, exact budget) λ is free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from .backends.base import SolveOutput
    from .compile import LinearProgram
    from .design import Design
    from .mechanism import Mechanism

__all__ = ["Result"]


@dataclass
class Result:
    """Outcome of solving a design.

    Attributes
    ----------
    status : str
        ``"optimal"``, ``"infeasible"``, ``"unbounded"``, ``"time_limit"``,
        ``"optimal_inaccurate"`` (the solver claimed an optimum that the
        independent verifier rejected), ``"error"``.
    objective : float or None
        Optimal value (None unless optimal).
    mechanism : Mechanism or None
    verification : dict
        The independent verifier's report (``ok``, ``max_violation`` per family, …).
    solver : dict
        Backend name, seconds, iterations, raw status; ``build_seconds``;
        ``recover_seconds`` (Border reduction: time to recover the ex post allocation).
    lp : LinearProgram
    """

    design: Design
    lp: LinearProgram
    output: SolveOutput
    status: str
    mechanism: Mechanism | None = None
    verification: dict = field(default_factory=dict)
    certify: bool = False
    _certificate: Any = field(default=None, repr=False)
    _duals: dict | None = field(default=None, repr=False)

    @property
    def objective(self) -> float | None:
        return self.output.objective if self.status == "optimal" else None

    @property
    def metrics(self) -> dict[str, Any]:
        """Revenue, welfare, utility and per-agent expected payments/utilities of the mechanism."""
        return self.mechanism.metrics if self.mechanism is not None else {}

    @property
    def solver(self) -> dict[str, Any]:
        out = {**self.output.stats, "build_seconds": self.lp.build_seconds}
        if not self.lp.layout.ex_post_x:  # Border reduction: ex post allocation recovered after the solve
            out["recover_seconds"] = self.lp.recover_seconds
        return out

    @property
    def reductions(self) -> dict[str, Any]:
        """Formulation reductions the compiler used (adjacent IC, interim payments)."""
        return self.lp.reductions

    @property
    def duals(self) -> dict[str, pd.DataFrame]:
        """One DataFrame per row family: labels and ``dual`` (λ, see the module docstring)."""
        if self._duals is None:
            self._duals = {}
            y = self.output.row_dual
            if y is not None:
                for f in self.lp.families:
                    df = self.lp.labels(f.name).copy()
                    df["dual"] = y[f.start: f.stop]
                    self._duals[f.name] = df
            if getattr(self.output, "user_duals", None) is not None:  # cvxpy backend: user constraints
                self._duals["user"] = self.output.user_duals
        return self._duals

    @property
    def certificate(self):
        """Farkas certificate (infeasible), primal ray (unbounded) or, with
        ``solve(certify=True)``, an exact optimality certificate; else None."""
        if self._certificate is None:
            try:
                from . import certificates
            except ImportError:  # pragma: no cover - during development
                return None
            if self.status == "infeasible":
                self._certificate = certificates.farkas(self)
            elif self.status == "unbounded":
                self._certificate = certificates.unbounded(self)
            elif self.status == "optimal" and self.certify:
                self._certificate = certificates.optimality(self)
        return self._certificate

    def plot(self, **kwargs):  # pragma: no cover - thin wrapper
        """Default picture: the mechanism (optimal) or the certificate (infeasible)."""
        from . import plot

        return plot.result(self, **kwargs)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (status, objective, metrics, verification, solver)."""
        m = self.metrics
        return {
            "status": self.status,
            "objective": self.objective,
            "metrics": {k: m[k] for k in ("revenue", "welfare", "utility")} if m else {},
            "verification": {
                "ok": bool(self.verification.get("ok", False)),
                "max_violation": dict(self.verification.get("max_violation", {})),
            },
            "solver": {"name": self.output.stats.get("name"), "seconds": self.output.stats.get("seconds")},
        }

    def __repr__(self) -> str:
        lines = [f"Result: {self.status}" + (f", objective {self.objective:.8g}" if self.objective is not None else "")]
        lines.append(f"  design  : {self.output.stats.get('description') or self.design.describe()}")
        lines.append(f"  env     : {self.design.env!r}")
        s = self.lp.sizes
        lines.append(f"  LP      : {s['rows']} rows x {s['cols']} cols, nnz {s['nnz']}; reductions {self.reductions}")
        if self.mechanism is not None:
            m = self.metrics
            lines.append(
                f"  metrics : revenue {m['revenue']:.6g}, welfare {m['welfare']:.6g}, utility {m['utility']:.6g}"
            )
        if self.verification:
            worst = max(self.verification["max_violation"].values(), default=0.0)
            lines.append(f"  verified: {self.verification['ok']} (worst violation {worst:.2e})")
        st = self.solver
        lines.append(f"  solver  : {st.get('name')} {st.get('seconds', 0):.3f}s, build {st['build_seconds']:.3f}s")
        return "\n".join(lines)


def build_result(design: Design, lp: LinearProgram, out: SolveOutput, certify: bool) -> Result:
    """Recover the mechanism from a backend's output and run the independent verifier."""
    from .mechanism import Mechanism

    result = Result(design, lp, out, out.status, certify=certify)
    if out.z is not None and np.all(np.isfinite(out.z)):
        x, p = lp.mechanism_arrays(out.z)
        x = np.where(np.abs(x) < 1e-12, 0.0, x)
        result.mechanism = Mechanism(design.env, x, p, name="LP optimum")
        result.verification = result.mechanism.check(design)
        if out.status == "optimal" and not result.verification["ok"]:
            result.status = "optimal_inaccurate"
    return result
