"""Exact rational numbers for model data.

mechopt keeps every number a user gives (types, priors, values, costs, outside
options) as a :class:`fractions.Fraction`, so that certificates can be checked in
exact arithmetic on the very data the user wrote.  Conversions:

* ``int`` and ``Fraction`` are kept as they are;
* ``Decimal`` and decimal strings (``"0.2"``, ``"1/5"``) are read exactly, so a
  TOML ``0.2`` read with ``parse_float=Decimal`` is ``1/5``;
* a Python ``float`` (and a numpy float of any width) becomes **the decimal it
  prints as**: its shortest round-trip representation (``repr``), so ``0.3`` is
  ``3/10``, not the binary double ``5404319552844595/18014398509481984``.  A
  float typed by a user therefore gives the same exact data as the decimal in a
  model file or the Fraction ``Fraction(3, 10)``: the same LP, the same
  reductions (affinity of values in the type is tested exactly), and
  :func:`mechopt.save` writes back ``0.3``.  The float64 twin of ``3/10`` is
  the original double again, so the floating-point pipeline sees the same
  numbers;
* ``bool``, NaN, infinities and numbers beyond the float64 range (a TOML
  ``1e400``) are rejected with a :class:`~mechopt.errors.SpecError` naming the
  quantity.

This is the one conversion used for all model data in the package (spec,
builders, closed-form mechanisms and model files).

Arrays of such numbers are numpy ``object`` arrays; ``as_float`` gives the
``float64`` twin used by the floating-point pipeline.
"""

from __future__ import annotations

import math
import sys
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from numbers import Rational, Real
from typing import Any

import numpy as np

from .errors import SpecError

__all__ = ["to_fraction", "exact_array", "as_float", "fraction_str"]


def to_fraction(value: Any, what: str = "value") -> Fraction:
    """Convert one number to an exact :class:`Fraction` (the package's one conversion).

    Parameters
    ----------
    value : int, float, Fraction, Decimal, numpy scalar or str
        The number. Floats (Python or numpy) are read as the decimal they print
        as (``0.3`` → ``3/10``); strings may be decimals (``"0.2"``) or ratios
        (``"1/5"``).
    what : str
        Name of the quantity, used in the error message.

    Returns
    -------
    Fraction

    Raises
    ------
    SpecError
        If ``value`` is a boolean, not a number, not finite, or beyond the
        float64 range (about 1.8e308).

    Examples
    --------
    >>> to_fraction(0.3), to_fraction("1/3"), to_fraction(2)
    (Fraction(3, 10), Fraction(1, 3), Fraction(2, 1))
    """
    x = _convert(value, what)
    if abs(x) > _FLOAT_MAX:
        raise SpecError(f"{what} is too large ({_short(value)}); numbers must lie within the float64 range "
                        "(|x| <= 1.8e308), rescale the units")
    return x


_FLOAT_MAX = Fraction(sys.float_info.max)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 30 else text[:27] + "..."


def _from_decimal(dec: Decimal, what: str) -> Fraction:
    if not dec.is_finite():
        raise SpecError(f"{what} must be finite, got {dec}; replace it with a finite number")
    if dec and not -340 <= dec.adjusted() <= 308:  # checked before building a huge Fraction
        size = "large" if dec.adjusted() > 0 else "small"
        raise SpecError(f"{what} is too {size} ({dec}); numbers must lie within the float64 range "
                        "(1e-308 <= |x| <= 1.8e308, or 0), rescale the units")
    return Fraction(dec)


def _convert(value: Any, what: str) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise SpecError(f"{what} must be a number, got the boolean {value!r}; write a number such as 0 or 1")
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    if isinstance(value, Decimal):
        return _from_decimal(value, what)
    if isinstance(value, Rational):
        return Fraction(value.numerator, value.denominator)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise SpecError(f"{what} must be finite, got {float(value)}; replace it with a finite number")
        # str() of a Python or numpy float is its shortest round-trip decimal in its own width
        return Fraction(str(value))
    if isinstance(value, Real):
        return _convert(float(value), what)
    if isinstance(value, str):
        text = value.strip()
        try:
            dec = Decimal(text)
        except (InvalidOperation, ValueError):
            dec = None
        if dec is not None:
            return _from_decimal(dec, what)
        try:
            return Fraction(text)
        except (ValueError, ZeroDivisionError):
            pass
        raise SpecError(f"{what} must be a number, got the string {_short(value)!r}; "
                        "write a decimal such as 0.5 or a ratio such as \"1/3\"")
    raise SpecError(f"{what} must be a finite number, got {type(value).__name__} {_short(value)}")


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
        if values.dtype.kind == "f" and values.dtype != np.float64:  # keep float32/float16 scalars: their own repr
            arr = np.empty(values.shape, dtype=object)
            arr.ravel()[:] = list(values.ravel())
        else:
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
