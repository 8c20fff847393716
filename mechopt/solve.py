"""The pipeline: compile → solve (backend) → recover → verify (→ certify on demand)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .compile import compile_design
from .errors import SolverError
from .result import Result, build_result

if TYPE_CHECKING:  # pragma: no cover
    from .design import Design

BACKENDS = ("highs", "cvxpy")


def solve(design: Design, backend: str = "highs", certify: bool = False, **options: Any) -> Result:
    """Solve a design with a backend; see :meth:`mechopt.Design.solve`."""
    if backend == "highs":
        from .backends import highs as mod

        lp = compile_design(design, exact=False)
        out = mod.solve(lp, **options)
    elif backend == "cvxpy":
        from .backends import cvxpy as mod

        custom = options.get("constraints") is not None or options.get("objective") is not None
        lp = compile_design(design, exact=False, reductions=not custom)
        out = mod.solve(lp, **options)
    else:
        raise SolverError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return build_result(design, lp, out, certify)
