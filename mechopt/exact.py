"""Exact rational numbers for model data.

mechopt keeps every number a user gives (types, priors, values, costs, outside
options) as a :class:`fractions.Fraction`, so that certificates can be checked in
exact arithmetic on the very data the user wrote.  Conversions:

* ``int`` and ``Fraction`` are kept as they are;
* ``Decimal`` and decimal strings (``"0.2"``, ``"1/5"``) are read exactly, so a
  TOML ``0.2`` read with ``parse_float=Decimal`` is ``1/5``;
* a Python ``float`` is converted *exactly* (``Fraction(0.1)`` is the binary
  double nearest 1/10), so the exact model is the model the float solver sees.

Arrays of such numbers are numpy ``object`` arrays; ``as_float`` gives the
``float64`` twin used by the floating-point pipeline.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from numbers import Rational, Real
from typing import Any

import numpy as np

from .errors import SpecError

__all__ = ["to_fraction", "exact_array", "as_float", "fraction_str"]


def to_fraction(value: Any, what: str = "value") -> Fraction:
    """Convert one number to an exact :class:`Fraction`.

    Parameters
    ----------
    value : int, float, Fraction, Decimal, numpy scalar or str
        The number. Strings may be decimals (``"0.2"``) or ratios (``"1/5"``).
    what : str
        Name of the quantity, used in the error message.

    Raises
    ------
    SpecError
        If ``value`` is not a finite real number.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise SpecError(f"{what} must be a number, got the boolean {value!r}")
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise SpecError(f"{what} must be finite, got {value}; replace it with a finite number")
        return Fraction(value)
    if isinstance(value, Rational):
        return Fraction(value.numerator, value.denominator)
    if isinstance(value, (float, np.floating, Real)):
        x = float(value)
        if not math.isfinite(x):
            raise SpecError(f"{what} must be finite, got {x}; replace it with a finite number")
        return Fraction(x)
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            pass
    raise SpecError(f"{what} must be a finite number, got {value!r}")


_to_fraction_ufunc = np.frompyfunc(to_fraction, 2, 1)


def exact_array(values: Any, what: str = "array") -> np.ndarray:
    """Convert a nested sequence of numbers to an object array of Fractions.

    Parameters
    ----------
    values : array_like
        Numbers of any kind accepted by :func:`to_fraction`.
    what : str
        Name used in error messages.

    Returns
    -------
    numpy.ndarray
        ``dtype=object`` array with the same shape, every entry a Fraction.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            raise SpecError(f"{what} contains NaN or infinite numbers; give finite numbers only")
        arr = values.astype(object)
    else:
        try:
            arr = np.array(values, dtype=object)
        except ValueError as exc:  # ragged nesting
            raise SpecError(f"{what} is ragged ({exc}); give a rectangular table") from None
    if arr.dtype != object:
        arr = arr.astype(object)
    if arr.size == 0:
        return arr
    return np.asarray(_to_fraction_ufunc(arr, what), dtype=object).reshape(arr.shape)


def as_float(values: np.ndarray) -> np.ndarray:
    """Float64 copy of an exact (object) array."""
    return np.asarray(values, dtype=float)


def fraction_str(x: Fraction) -> str:
    """Short text of a Fraction: ``'1/5'``, ``'3'``, ``'-2/7'``."""
    return str(x)
