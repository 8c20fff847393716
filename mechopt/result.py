"""What ``Design.solve()`` returns.

Duals: ``result.duals[family]`` is a DataFrame of the family's row labels plus a
``dual`` column holding λ_r = −∂(optimal value)/∂(right-hand side of row r).
For a ``≥`` row (IC, IR, budget, efficiency) λ ≥ 0 and λ > 0 only if the row
binds; for ``=`` rows (lottery, interim definitions, exact budget) λ is free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from .status import Status

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
    status : Status
        A :class:`~mechopt.status.Status` (string-compatible): ``optimal``,
        ``infeasible``, ``unbounded``, ``unverified`` (every fallback ended with
        an answer the independent verifier rejected), ``time_limit``,
        ``interrupted``, ``error``.
    message : str
        Why, for anything but ``optimal`` (empty for an optimum).
    exact : ExactAnswer or None
        With ``solve(exact=True)``: the exact status, objective (Fraction), mechanism
        (Fraction arrays) and certificate (see :mod:`mechopt.certificates.answer`).
    objective : float or None
        Optimal value; for ``unverified`` the float value of the rejected answer
        (see ``verification`` for its worst violations); else None.
    mechanism : Mechanism or None
    verification : dict
        The independent verifier's report (``ok``, ``max_violation`` per family, …).
    solver : dict
        Backend name, seconds, iterations, raw status; ``build_seconds``;
        ``recover_seconds`` (Border reduction: time to recover the ex post allocation).
    lp : LinearProgram
    """

    design: Design
    lp: LinearProgram | None
    output: SolveOutput
    status: Status
    mechanism: Mechanism | None = None
    verification: dict = field(default_factory=dict)
    certify: bool = False
    message: str = ""
    stages: dict = field(default_factory=dict)
    fallback: list = field(default_factory=list)
    exact: Any = None
    _certificate: Any = field(default=None, repr=False)
    _duals: dict | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.status = Status(self.status)

    @property
    def objective(self) -> float | None:
        return self.output.objective if self.status in (Status.OPTIMAL, Status.UNVERIFIED) else None

    @property
    def metrics(self) -> dict[str, Any]:
        """Revenue, welfare, utility and per-agent expected payments/utilities of the mechanism."""
        return self.mechanism.metrics if self.mechanism is not None else {}

    @property
    def solver(self) -> dict[str, Any]:
        """Backend stats (name, seconds, iterations, raw status) plus ``build_seconds``,
        ``recover_seconds`` and ``stages`` (seconds per pipeline stage, summed over fallbacks)."""
        out = {**self.output.stats}
        if self.lp is not None:
            out["build_seconds"] = self.lp.build_seconds
            if not self.lp.layout.ex_post_x:  # Border reduction: ex post allocation recovered after the solve
                out["recover_seconds"] = self.lp.recover_seconds
        out["stages"] = dict(self.stages)
        return out

    @property
    def reductions(self) -> dict[str, Any]:
        """The formulation of the final LP (see :mod:`mechopt.compile.reductions`): ``ic`` per
        agent, ``payments``, ``allocation``, ``why`` (reason per reduction) and ``fallback``:
        the list of ``{"reduction": name, "reason": why}`` steps the pipeline took (a change
        of solver method or tolerances: ``reduction="solver"`` and ``"solver"`` says which)."""
        base = dict(self.lp.reductions) if self.lp is not None else {}
        base["fallback"] = list(self.fallback)
        return base

    @property
    def duals(self) -> dict[str, pd.DataFrame]:
        """One DataFrame per row family: labels and ``dual`` (λ, see the module docstring)."""
        if self._duals is None:
            self._duals = {}
            y = self.output.row_dual
            if y is not None and self.lp is not None:
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
            from . import certificates

            if self.status == "infeasible":
                self._certificate = certificates.farkas(self)
            elif self.status == "unbounded":
                self._certificate = certificates.unbounded(self)
            elif self.status == "optimal" and self.certify:
                self._certificate = certificates.optimality(self)
        return self._certificate

    def face(self, metrics=("revenue", "welfare", "utility"), interim: bool = False):
        """Range of each metric over all optimal mechanisms (see :func:`mechopt.face.face`)."""
        from .face import face

        return face(self, metrics, interim)

    def is_unique(self) -> bool:
        """False when optimal mechanisms differ in a metric or interim allocation (:mod:`mechopt.face`)."""
        from .face import is_unique

        return is_unique(self)

    def plot(self, **kwargs):  # pragma: no cover - thin wrapper
        """Default picture: the mechanism (optimal) or the certificate (infeasible)."""
        from . import plot

        return plot.result(self, **kwargs)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (status, objective, metrics, verification, solver)."""
        m = self.metrics
        return {
            "status": str(self.status),
            "message": self.message,
            "objective": self.objective,
            "metrics": {k: m[k] for k in ("revenue", "welfare", "utility")} if m else {},
            "verification": {
                "ok": bool(self.verification.get("ok", False)),
                "max_violation": dict(self.verification.get("max_violation", {})),
            },
            "solver": {"name": self.output.stats.get("name"), "seconds": self.output.stats.get("seconds")},
        }

    def _repr_html_(self) -> str:
        from .display import result_html

        return result_html(self)

    def __repr__(self) -> str:
        head = f"Result: {self.status}"
        if self.objective is not None:
            head += f", objective {self.objective:.8g}"
        lines = [head]
        if self.message:
            lines.append(f"  message : {self.message}")
        lines.append(f"  design  : {self.output.stats.get('description') or self.design.describe()}")
        lines.append(f"  env     : {self.design.env!r}")
        if self.lp is not None:
            s = self.lp.sizes
            lines.append(f"  LP      : {s['rows']} rows x {s['cols']} cols, nnz {s['nnz']}")
            red = {k: v for k, v in self.lp.reductions.items() if k not in ("why", "border_reason")}
            lines.append(f"  reductions: {red}")
        for step in self.fallback:
            what = step.get("solver") if step.get("reduction") == "solver" else step.get("reduction")
            lines.append(f"  fallback: {what} ({step.get('reason', '')})")
        if self.mechanism is not None:
            m = self.metrics
            lines.append(
                f"  metrics : revenue {m['revenue']:.6g}, welfare {m['welfare']:.6g}, utility {m['utility']:.6g}"
            )
        if self.verification:
            worst = max(self.verification["max_violation"].values(), default=0.0)
            lines.append(f"  verified: {self.verification['ok']} (worst violation {worst:.2e})")
        st = self.solver
        line = f"  solver  : {st.get('name')} {st.get('seconds', 0) or 0:.3f}s"
        if "build_seconds" in st:
            line += f", build {st['build_seconds']:.3f}s"
        lines.append(line)
        return "\n".join(lines)
