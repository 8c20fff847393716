"""mechopt: exact mechanism design by linear programming.

Pipeline: spec (:class:`Agent`, :class:`Environment`, builders, :class:`Design`)
→ compile (:mod:`mechopt.compile`) → solve (:mod:`mechopt.backends`) →
recover (:class:`Result`, :class:`Mechanism`) → verify (:mod:`mechopt.verify`).
"""

from __future__ import annotations

from . import certificates, compile, duality, mechanisms, plot  # matplotlib/cvxpy load lazily
from .design import OPTIONS, Design
from .environments import (
    bilateral_trade,
    interdependent_item,
    multi_item,
    partnership,
    procurement,
    public_project,
    single_item,
)
from .errors import MechoptError, ModelFileError, SolverError, SpecError
from .mechanism import Mechanism
from .mechanisms import compare
from .modelfile import load, save
from .result import Result
from .spec import Agent, Discretization, Environment, discretize, grid
from .status import Status
from .sweeps import Convergence, converge, sweep, threshold

__version__ = "0.1.0"

__all__ = [
    "Agent", "Environment", "Design", "Result", "Mechanism", "Discretization",
    "grid", "discretize", "single_item", "bilateral_trade", "partnership", "public_project", "multi_item",
    "procurement",
    "compile", "certificates", "duality", "plot", "mechanisms", "compare",
    "load", "save",
    "interdependent_item",
    "sweep", "converge", "threshold", "Convergence",
    "OPTIONS", "Status", "MechoptError", "SpecError", "ModelFileError", "SolverError", "__version__",
]
