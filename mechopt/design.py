"""What the designer asks for: constraints and objective.

=============  ==========================================================================
option         meaning (all against the agents' outside options U_i)
=============  ==========================================================================
ic             ``dsic``: truthful for every θ_{-i}; ``bic``: truthful in expectation
               given one's type; ``ex_post``: truth is an ex post equilibrium (values
               at the true profile; = ``dsic`` for private values); ``none``
ir             ``ex_post`` (every profile), ``interim`` (given own type), ``ex_ante``, ``none``
budget         Σ_i p_i − c(x): ``exact`` (= 0 everywhere), ``ex_post`` (≥ 0 everywhere),
               ``ex_ante`` (≥ 0 in expectation), ``none``
allocation     ``free`` (any lottery) or ``efficient`` (weight only on welfare maximizers)
deterministic  lotteries restricted to point masses (the LP becomes a MIP)
objective      ``revenue`` E[Σ p − c], ``welfare`` E[Σ v − c], ``utility`` E[Σ (v − p)],
               ``gains`` welfare − Σ_i E[U_i(θ_i)] (net of the status quo), ``feasibility`` (0)
=============  ==========================================================================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import SpecError
from .spec import Environment

if TYPE_CHECKING:  # pragma: no cover
    from .compile import LinearProgram
    from .result import Result

__all__ = ["Design", "OPTIONS"]

OPTIONS: dict[str, tuple[str, ...]] = {
    "ic": ("dsic", "bic", "none", "ex_post"),
    "ir": ("ex_post", "interim", "ex_ante", "none"),
    "budget": ("exact", "ex_post", "ex_ante", "none"),
    "allocation": ("free", "efficient"),
    "objective": ("revenue", "welfare", "utility", "gains", "feasibility"),
}


@dataclass(frozen=True)
class Design:
    """A mechanism design problem: an environment plus requirements and an objective.

    Parameters
    ----------
    env : Environment
    ic : {"dsic", "bic", "ex_post", "none"}
    ir : {"ex_post", "interim", "ex_ante", "none"}
    budget : {"exact", "ex_post", "ex_ante", "none"}
    allocation : {"free", "efficient"}
    objective : {"revenue", "welfare", "utility", "gains", "feasibility"}
    deterministic : bool
        Restrict to deterministic allocations (solved as a MIP; no duals).
    symmetric : bool or None
        ``None`` (default): impose one interim rule for all bidders when they are
        identical (single item; see :mod:`mechopt.compile.symmetry`); ``False``: off.

    Examples
    --------
    >>> import mechopt as mo
    >>> b, s = mo.Agent("buyer", mo.grid(0, 1, 5)), mo.Agent("seller", mo.grid(0, 1, 5))
    >>> d = mo.Design(mo.bilateral_trade(b, s), ic="bic", ir="interim", budget="ex_ante",
    ...               objective="welfare")
    >>> round(d.solve().objective, 4)
    0.7
    """

    env: Environment
    ic: str = "bic"
    ir: str = "interim"
    budget: str = "none"
    allocation: str = "free"
    objective: str = "revenue"
    deterministic: bool = False
    symmetric: bool | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Design:
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = [k for k in kwargs if k not in known]
        if unknown or len(args) > len(known):
            what = f"unknown option {unknown[0]!r}" if unknown else f"{len(args)} positional arguments"
            raise SpecError(f"Design: {what}; the options are {', '.join(known)}")
        return super().__new__(cls)

    def __post_init__(self) -> None:
        if not isinstance(self.env, Environment):
            raise SpecError("Design needs an Environment as its first argument (e.g. mo.bilateral_trade(b, s))")
        for key, valid in OPTIONS.items():
            value = getattr(self, key)
            if value not in valid:
                raise SpecError(f"Design: {key}={value!r} is not valid; choose one of {', '.join(valid)}")
        if self.ic == "dsic" and not self.env.is_private:
            raise SpecError("Design: ic='dsic' needs private values; with interdependent values use ic='ex_post'")
        if not isinstance(self.deterministic, bool):
            raise SpecError(f"Design: deterministic must be true or false, got {self.deterministic!r}")
        if self.symmetric not in (None, False, True):
            raise SpecError(f"Design: symmetric must be None (automatic) or False (off), got {self.symmetric!r}")

    def replace(self, **changes: Any) -> Design:
        """A copy with some options (or the environment) changed."""
        keys = ("env", "ic", "ir", "budget", "allocation", "objective", "deterministic", "symmetric")
        fields = {k: getattr(self, k) for k in keys}
        fields.update(changes)
        return Design(**fields)

    def compile(self, exact: bool = False) -> LinearProgram:
        """The sparse LP of this design (see :mod:`mechopt.compile`)."""
        from .compile import compile_design

        return compile_design(self, exact=exact)

    def solve(self, backend: str = "highs", certify: bool = False, exact: bool = False, **options: Any) -> Result:
        """Compile, solve, recover and verify, with fallbacks (see :mod:`mechopt.pipeline`).

        Parameters
        ----------
        backend : {"highs", "cvxpy"}
            ``highs`` (default) calls HiGHS directly; ``cvxpy`` builds the same LP
            as cvxpy variables (pass ``constraints=`` and ``objective=`` callables
            to add your own, see :mod:`mechopt.backends.cvxpy`).
        certify : bool
            Attach an exact optimality certificate to an optimum.
        exact : bool
            Decide the answer in rational arithmetic (exact simplex repair of
            HiGHS's basis): ``result.exact`` holds the exact objective and
            mechanism, ``result.certificate`` a verified exact certificate (see
            :func:`mechopt.certificates.exact_result`).
        **options
            ``time_limit=`` (seconds, whole pipeline), ``border=`` (Border reduced
            form: None automatic, True required, False off), ``ic_generation=``
            (None automatic, True, False), ``reductions=False`` (the plain LP),
            ``fallback=False`` (no re-solve when an answer is rejected), and
            HiGHS options by name (e.g. ``verbose=True``, ``solver="ipm"``).

        Returns
        -------
        Result
            ``status`` (:class:`~mechopt.status.Status`), ``objective``,
            ``mechanism``, ``verification``, ``reductions`` (with ``fallback``),
            ``message`` (why, for anything but optimal).
        """
        from .pipeline import solve

        flags = {"certify": certify, "exact": exact,
                 **{k: options[k] for k in ("ic_generation", "border") if k in options}}
        for key, value in flags.items():
            if value is not None and not isinstance(value, bool):
                raise SpecError(f"Design.solve: {key}={value!r} must be True or False")
        return solve(self, backend=backend, certify=certify, exact=exact, **options)

    def describe(self) -> str:
        """One line: the constraints and the objective."""
        alloc = "efficient" if self.allocation == "efficient" else "any"
        det = ", deterministic" if self.deterministic else ""
        return (
            f"maximize {self.objective} s.t. IC={self.ic}, IR={self.ir}, budget={self.budget}, "
            f"allocation={alloc}{det}"
        )

    def _repr_html_(self) -> str:
        from .display import design_html

        return design_html(self)

    def __repr__(self) -> str:
        return f"Design({self.env!r}; {self.describe()})"
