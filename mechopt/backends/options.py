"""Validation of solver options against HiGHS's own option list.

``Design.solve(**options)`` passes unknown keyword arguments to HiGHS by name.
HiGHS itself only logs a warning for an unknown name or a value outside its
range and carries on with its default, so a typo (``time_limt=10``) or a bad
value (``time_limit=-1``) would silently do nothing.  :func:`validate_options`
checks every name with ``Highs.getOptionType`` and every value by setting it on
a scratch ``Highs`` object, and raises :class:`~mechopt.errors.SolverError`
naming the option, the fix, and the closest valid name.

Example
-------
>>> from mechopt.backends.options import validate_options
>>> validate_options({"time_limit": 10, "verbose": True})
{'time_limit': 10.0, 'verbose': True}
>>> validate_options({"time_limt": 10})
Traceback (most recent call last):
...
mechopt.errors.SolverError: unknown solver option 'time_limt'; did you mean 'time_limit'? ...
"""

from __future__ import annotations

import difflib
import math
from functools import lru_cache
from typing import Any

from ..errors import MechoptError, SolverError

__all__ = ["validate_options", "highs_option_names", "MECHOPT_OPTIONS"]

#: Options that mechopt itself interprets (they are not HiGHS names, or take other values).
MECHOPT_OPTIONS: dict[str, str] = {
    "verbose": "bool: show the solver's log",
    "presolve": "bool (or HiGHS's 'choose'/'on'/'off'): HiGHS presolve",
    "constraints": "callable (cvxpy backend): user constraints",
    "objective": "callable (cvxpy backend): user objective",
    "max_memory": "'4GB', '500MB' or bytes: refuse larger LPs",
    "exact": "bool: rational answer",
    "certify": "bool: exact optimality certificate",
    "ic_generation": "bool or None: generate IC rows lazily",
    "border": "bool or None: the Border reduction",
    "reductions": "bool: allow the compiler's reductions",
    "backend": "'highs' or 'cvxpy'",
    "fallback": "bool: re-solve without a reduction or with another method when an answer is rejected",
    "scale": "bool: exact power-of-two scaling of money (HiGHS backend)",
    "warm": "mechopt.sweeps.WarmStart: a kept HiGHS instance (sweeps)",
}
_BOOL_OR_NONE = ("exact", "certify", "ic_generation", "border", "reductions", "fallback", "scale")


def _highs():
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover
        raise SolverError("highspy is not installed; pip install highspy") from exc
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)  # HiGHS prints its own error lines otherwise
    return h, highspy


@lru_cache(maxsize=1)
def highs_option_names() -> tuple[str, ...]:
    """Names of HiGHS's options (the attributes of ``highspy.HighsOptions`` that HiGHS accepts)."""
    h, _ = _highs()
    names = [n for n in dir(h.getOptions()) if not n.startswith("_")]
    return tuple(sorted(n for n in names if _option_type(h, n) is not None))


def _option_type(h, name: str) -> str | None:
    status, kind = h.getOptionType(name)
    if status.name != "kOk":
        return None
    return kind.name  # kBool, kInt, kDouble, kString


def _coerce(name: str, kind: str, value: Any) -> Any:
    """Python value of the option's HiGHS type, or a SolverError saying which type is needed."""
    if kind == "kBool":
        if isinstance(value, bool):
            return value
        raise SolverError(f"solver option {name}={value!r} must be true or false")
    if kind == "kInt":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
            raise SolverError(f"solver option {name}={value!r} must be an integer")
        return int(value)
    if kind == "kDouble":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise SolverError(f"solver option {name}={value!r} must be a number")
        return float(value)
    if not isinstance(value, str):
        raise SolverError(f"solver option {name}={value!r} must be a string")
    return value


def validate_options(options: dict[str, Any]) -> dict[str, Any]:
    """Check solver options against HiGHS's option list and value ranges.

    Parameters
    ----------
    options : dict
        Keyword options given to ``Design.solve``.  mechopt's own options
        (:data:`MECHOPT_OPTIONS`) pass through unchanged except for a type
        check; every other name must be a HiGHS option.

    Returns
    -------
    dict
        The same options with HiGHS values converted to the option's type
        (``time_limit=10`` → ``10.0``).

    Raises
    ------
    SolverError
        Unknown name (the message suggests the closest valid names) or a value
        of the wrong type or outside HiGHS's range (``time_limit=-1``).
    """
    if not isinstance(options, dict):
        raise SolverError(f"solver options must be a dict of name -> value, got {type(options).__name__}")
    h, _ = _highs()
    out: dict[str, Any] = {}
    for name, value in options.items():
        if not isinstance(name, str):
            raise SolverError(f"solver option names must be strings, got {name!r}")
        if name in MECHOPT_OPTIONS:
            if name == "verbose" and not isinstance(value, bool):
                raise SolverError(f"solver option verbose={value!r} must be true or false")
            if name == "presolve" and not isinstance(value, bool) and value not in ("choose", "on", "off"):
                raise SolverError(f"solver option presolve={value!r} must be true/false or 'choose', 'on', 'off'")
            if name in _BOOL_OR_NONE and value is not None and not isinstance(value, bool):
                raise SolverError(f"solver option {name}={value!r} must be True, False or None")
            if name == "backend" and value not in ("highs", "cvxpy"):
                raise SolverError(f"backend={value!r} is not valid; choose 'highs' or 'cvxpy'")
            if name == "max_memory" and value is not None:
                from ..limits import parse_memory

                try:
                    parse_memory(value)
                except MechoptError as exc:
                    raise SolverError(str(exc)) from None
            if name in ("constraints", "objective") and value is not None and not callable(value):
                raise SolverError(
                    f"solver option {name}= must be a function of the cvxpy model (m -> expression), "
                    f"got {type(value).__name__}"
                )
            out[name] = value
            continue
        kind = _option_type(h, name)
        if kind is None:
            known = list(dict.fromkeys([*highs_option_names(), *MECHOPT_OPTIONS]))
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
            raise SolverError(
                f"unknown solver option {name!r}; {hint}valid names are HiGHS's options "
                "(mechopt.backends.options.highs_option_names()) and " + ", ".join(MECHOPT_OPTIONS)
            )
        value = _coerce(name, kind, value)
        if h.setOptionValue(name, value).name != "kOk":
            raise SolverError(
                f"solver option {name}={value!r} is outside HiGHS's valid range"
                + (" (time limits are seconds >= 0)" if name == "time_limit" else "")
                + "; see the HiGHS options documentation"
            )
        out[name] = value
    return out
