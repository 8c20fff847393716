"""Writing model files: Environment and Design → TOML text that :func:`~.load.load` reads back exactly.

Numbers are written exactly: integers, decimals when the number has a short
decimal expansion (``3/10`` → ``0.3``, which is what a user typed, since
:func:`mechopt.exact.to_fraction` reads floats as the decimal they print as),
otherwise strings ``"p/q"``.  Every key and scalar is formatted by ``tomli-w``
(quoting, escapes, decimals); the layout (inline tables for types and priors,
arrays on one line) is composed here so files stay as readable as the
built-in ones — ``tomli_w.dumps`` alone splits every array over many lines.
"""

from __future__ import annotations

import os
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from ..design import Design
from ..errors import ModelFileError
from ..spec import Environment
from .load import _SOURCES
from .schema import KINDS

__all__ = ["save", "dumps", "to_dict"]


def _toml_number(x: Any) -> Any:
    """An exact number as TOML: int, a short decimal, or a "p/q" string."""
    x = Fraction(x)
    if x.denominator == 1:
        return int(x)
    d = x.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d == 1:
        digits = max(twos, fives)
        if digits <= 20:
            dec = (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal(1).scaleb(-digits))
            if Fraction(dec) == x:
                return dec.normalize() if dec != dec.to_integral_value() else dec
    return f"{x.numerator}/{x.denominator}"


def _toml_array(a: Any) -> Any:
    arr = np.asarray(a, dtype=object)
    if arr.ndim == 0:
        return _toml_number(arr.item())
    return [_toml_array(x) for x in arr]


def _as_grid(t: np.ndarray) -> list | None:
    if t.ndim != 1 or len(t) < 2:
        return None
    step = t[1] - t[0]
    if step <= 0 or any(t[j + 1] - t[j] != step for j in range(len(t) - 1)):
        return None
    return [_toml_number(t[0]), _toml_number(t[-1]), len(t)]


def _plain(x: Any) -> Any:
    """Decimal-friendly copy of parsed TOML (for writing back)."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, Fraction):
        return _toml_number(x)
    if isinstance(x, float):
        return Decimal(repr(x))
    return x


def to_dict(env: Environment, design: Design | None = None, **metadata: Any) -> dict:
    """The TOML tables of a model (what :func:`save` writes)."""
    out: dict[str, Any] = {}
    for key in ("title", "reference", "description", "note"):
        if metadata.get(key) is not None:
            out[key] = str(metadata[key])
    source = _SOURCES.get(env)
    if source is not None and source[3] is None:
        env_t, agents_t, prior_t, _ = source
        out["environment"] = _plain(env_t)
        out["agents"] = _plain(agents_t)
        if prior_t is not None:
            out["prior"] = _plain(prior_t)
    else:
        out.update(_env_tables(env))
    if design is not None:
        out["design"] = {
            "ic": design.ic, "ir": design.ir, "budget": design.budget, "allocation": design.allocation,
            "objective": design.objective, "deterministic": bool(design.deterministic),
        }
    expected = metadata.get("expected")
    if expected:
        exp = {}
        for k, v in expected.items():
            if isinstance(v, float):
                v = Decimal(repr(v))
            exp[k] = v if isinstance(v, (str, bool)) else _toml_number(v)
        out["expected"] = exp
    return out


def _env_tables(env: Environment) -> dict:
    kind = env.kind if env.kind in KINDS else "table"
    e: dict[str, Any] = {"kind": kind}
    agents_t: list[dict] = []
    shares = env.meta.get("shares")
    if kind == "single_item" and env.meta.get("seller_value", 0) != 0:
        e["seller_value"] = _toml_number(env.meta["seller_value"])
    elif kind == "public_project":
        e["cost"] = _toml_number(env.meta["cost"])
    elif kind == "multi_item":
        e["items"] = int(env.meta["items"])
        e["valuation"] = env.meta["valuation"]
    elif kind == "procurement":
        e["value"] = _toml_number(env.meta["value"])
    elif kind == "interdependent_item":
        if "alpha" not in env.meta:
            raise ModelFileError("save: this interdependent environment was built from a value function; model "
                                 "files describe interdependent_item by alpha (mo.interdependent_item(agents, "
                                 "alpha=...)); build it that way to save it")
        e["alpha"] = _toml_number(env.meta["alpha"])
        if env.meta.get("seller_value", 0) != 0:
            e["seller_value"] = _toml_number(env.meta["seller_value"])
    elif kind == "table":
        if not env.is_private:
            raise ModelFileError("save: a table environment with interdependent values (profile tables) cannot "
                                 "be written as a model file yet; save its parameters instead")
        e["outcomes"] = list(env.outcomes)
        if any(c != 0 for c in env.cost_exact):
            e["cost"] = _toml_array(env.cost_exact)
    for i, a in enumerate(env.agents):
        t: dict[str, Any] = {"name": a.name}
        g = _as_grid(a.types_exact)
        t["types"] = {"grid": g} if g is not None else {"values": _toml_array(a.types_exact)}
        T = a.n_types
        if env.is_independent and any(p != Fraction(1, T) for p in a.prior_exact):
            t["prior"] = {"weights": _toml_array(a.prior_exact)}
        if kind == "partnership":
            t["share"] = _toml_number(shares[i])
        if kind == "table":
            t["values"] = _toml_array(env.values_exact[i])
        default = _default_outside(env, i)
        if any(u != d for u, d in zip(env.outside_exact[i], default)):
            t["outside"] = _toml_array(env.outside_exact[i])
        agents_t.append(t)
    out: dict[str, Any] = {"environment": e, "agents": agents_t}
    if not env.is_independent:
        out["prior"] = {"joint": _toml_array(env.joint_prior_exact)}
    return out


def _default_outside(env: Environment, i: int) -> list:
    a = env.agents[i]
    if env.kind == "bilateral_trade" and i == 1:
        return list(a.types_exact)
    if env.kind == "partnership":
        r = Fraction(env.meta["shares"][i])
        return [r * t for t in a.types_exact]
    return [Fraction(0)] * a.n_types


def _atom(v: Any) -> str:
    """A TOML scalar (string, integer, decimal, boolean) as tomli-w writes it."""
    return tomli_w.dumps({"v": v})[len("v = "):].rstrip("\n")


def _toml_key(k: str) -> str:
    text = tomli_w.dumps({str(k): 0})
    return text[: text.rindex(" = 0")]


def _toml_value(v: Any, depth: int = 0) -> str:
    if isinstance(v, np.integer):
        v = int(v)
    if isinstance(v, (float, Fraction)):
        v = _toml_number(Decimal(repr(v)) if isinstance(v, float) else v)
    if isinstance(v, Decimal):
        text = _atom(v)
        return text if any(c in text for c in ".eE") else text + ".0"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x, depth + 1)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        items = [_toml_value(x, depth + 1) for x in v]
        if v and all(isinstance(x, (list, tuple)) for x in v) and depth == 0:
            pad = "    "
            return "[\n" + "".join(f"{pad}{x},\n" for x in items) + "]"
        return "[" + ", ".join(items) + "]"
    if isinstance(v, (bool, int, str)):
        return _atom(v)
    raise TypeError(f"cannot write {type(v).__name__} to TOML")  # pragma: no cover


def dumps(data: dict) -> str:
    """TOML text of a model's tables (inline tables for types and priors)."""
    lines: list[str] = []

    def body(table: dict) -> None:
        for k, v in table.items():
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")

    top = {k: v for k, v in data.items() if not isinstance(v, (dict, list))}
    body(top)
    for k, v in data.items():
        if isinstance(v, dict):
            lines.extend(["", f"[{_toml_key(k)}]"])
            body(v)
        elif isinstance(v, list):
            for t in v:
                lines.extend(["", f"[[{_toml_key(k)}]]"])
                body(t)
    return "\n".join(lines).lstrip("\n") + "\n"


def save(env: Environment, design: Design | None, path: str | Path, **metadata: Any) -> Path:
    """Write a model file that :func:`load` reads back to the same environment and design.

    Parameters
    ----------
    env : Environment
    design : Design or None
        Its options go to ``[design]`` (its environment is not consulted).
    path : str or Path
    **metadata
        ``title``, ``reference``, ``description``, ``note`` (strings) and
        ``expected`` (a dict such as ``{"objective": 0.640625, "tolerance": 0.015}``).

    Notes
    -----
    Numbers are written exactly: integers, decimals when the number has a short
    decimal expansion, otherwise strings ``"p/q"``.  Equally spaced types are
    written as ``{ grid = [lo, hi, n] }``; an environment read from a file is
    written back with its original type tables (``dist`` included).
    """
    unknown = set(metadata) - {"title", "reference", "description", "note", "expected"}
    if unknown:
        raise ModelFileError(
            f"save: unknown metadata {sorted(unknown)}; use title, reference, description, note, expected"
        )
    if not isinstance(path, (str, os.PathLike)):
        raise ModelFileError(f"save: the path must be a string or Path, got {type(path).__name__}; "
                             "e.g. mo.save(env, design, \"my_model.toml\")")
    if not isinstance(env, Environment):
        raise ModelFileError(f"save: the first argument must be an Environment, got {type(env).__name__}")
    if design is not None and not isinstance(design, Design):
        raise ModelFileError(f"save: the second argument must be a Design or None, got {type(design).__name__}")
    data = to_dict(env, design, **metadata)
    path = Path(path)
    try:
        path.write_text(dumps(data), encoding="utf-8")
    except OSError as exc:
        raise ModelFileError(f"save: cannot write {path} ({exc.strerror}); choose a writable path") from None
    return path
