"""The one status vocabulary of mechopt.

Every :class:`~mechopt.result.Result` carries a :class:`Status`.  It is a
``str`` enum, so ``result.status == "optimal"`` and ``json.dumps`` work as with
plain strings.

=============  =================================================================
status         meaning
=============  =================================================================
optimal        an optimum that the independent verifier accepted
infeasible     no mechanism satisfies the constraints (a Farkas certificate exists)
unbounded      the objective is unbounded (a primal ray exists)
unverified     every formulation and solver fallback ended without a verified
               answer; ``objective`` still reports the float value and
               ``verification`` the worst violation
time_limit     the time limit was reached (``mechanism`` holds the best verified
               point, if any)
interrupted    stopped by the user (Ctrl-C)
error          the solver failed without an answer; ``message`` says why
=============  =================================================================

Backends report solver outcomes with the same words (``SolveOutput.status``);
``unverified`` is only assigned by the pipeline after verification.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Status", "ANSWERS"]


class Status(str, Enum):
    """Outcome of a solve; compares equal to its string value."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    UNVERIFIED = "unverified"
    TIME_LIMIT = "time_limit"
    INTERRUPTED = "interrupted"
    ERROR = "error"

    def __str__(self) -> str:  # "optimal", not "Status.OPTIMAL"
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def is_answer(self) -> bool:
        """True for optimal, infeasible and unbounded: the LP was decided."""
        return self in ANSWERS


ANSWERS = frozenset({Status.OPTIMAL, Status.INFEASIBLE, Status.UNBOUNDED})
