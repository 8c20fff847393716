"""Model files: a mechanism design problem as a TOML file (DESIGN.md §3).

A model file holds an environment, its agents, the designer's requirements and,
optionally, the published answer to compare with::

    title = "Bilateral trade, second best"
    reference = "Myerson & Satterthwaite (1983)"
    description = "what the model demonstrates (one line, shown by `mechopt list`)"
    [environment]
    kind = "bilateral_trade"     # single_item | bilateral_trade | partnership |
                                 # public_project | multi_item | table
    [[agents]]                   # bilateral_trade: the buyer first, then the seller
    name = "buyer"
    types = { grid = [0, 1, 21] }
    [[agents]]
    name = "seller"
    types = { grid = [0, 1, 21] }
    [design]
    ic = "bic"
    ir = "interim"
    budget = "ex_ante"
    objective = "welfare"
    [expected]
    objective = 0.640625
    tolerance = 0.015
    note = "continuum limit 1/2 + 9/64; the 21-point grid adds about 0.28/n"

Keys
----
top level
    ``title``, ``reference``, ``description``, ``note`` (strings, optional),
    ``environment``, ``agents`` (required), ``prior``, ``design``, ``expected``.
``[environment]``
    ``kind`` (required); ``seller_value`` (single_item, default 0); ``cost``
    (public_project: a number; table: a number or one per outcome); ``items``
    (multi_item, default 2) and ``valuation`` (``"additive"`` or
    ``"unit_demand"``); ``outcomes`` (table, required).
``[[agents]]``
    ``name``, ``types`` (required): ``{ grid = [lo, hi, n] }`` (n equally spaced
    points, exact), ``{ values = [...] }`` (numbers in increasing order, or type
    vectors ``[[..], ..]`` for multi_item), or ``{ dist = "beta", a = 2, b = 2,
    n = 50, method = "midpoint", support = [lo, hi] }`` (any continuous
    ``scipy.stats`` distribution with its parameters, ``loc`` and ``scale``,
    discretized by :func:`mechopt.discretize`).  ``prior``: ``"uniform"``
    (default) or ``{ weights = [...] }`` (not with ``dist``, whose masses are the
    prior).  ``share`` (partnership, required for every agent), ``values`` (table:
    one row per type, one column per outcome), ``outside`` (outside option, a
    number or one per type; default: the builder's).
``[prior]``
    ``joint``: nested list with one axis per agent (correlated types).
``[design]``
    ``ic``, ``ir``, ``budget``, ``allocation``, ``objective``, ``deterministic``
    as in :class:`mechopt.Design` (same defaults).
``[expected]``
    ``objective`` (the value on the file's grid, within ``tolerance``),
    ``status``, ``revenue``, ``welfare``, ``utility``, ``continuum`` (the
    continuum limit, for information), ``tolerance`` (absolute, default 1e-6),
    ``note``, ``reference``.

Numbers are read exactly: TOML decimals with ``parse_float=Decimal`` (``0.2``
is 1/5), and a string such as ``"1/3"`` is accepted wherever a number is
(:func:`mechopt.exact.to_fraction`, the package's one conversion).  A UTF-8
byte-order mark is accepted.

Every problem raises :class:`~mechopt.errors.ModelFileError` with one line:
``<file>: <key path>: <what is wrong>; <how to fix it>``; when the tables have
several problems, up to 10 are listed in that line, ``(1) key: ...; (2) ...``
(the list is also on the exception as ``.problems``, (key path, message) pairs).

Modules: :mod:`.schema` (pydantic models, ``Literal`` options, JSON Schema for
``mechopt schema``), :mod:`.load`, :mod:`.save` (written with ``tomli-w``),
:mod:`.library` (the built-in models of ``models/``).
"""

from __future__ import annotations

from .library import builtin_models, model_path, models_dir
from .load import from_dict, load, loads
from .save import dumps, save, to_dict
from .schema import KINDS, STATUSES, ModelSpec, json_schema

__all__ = [
    "load", "save", "loads", "dumps", "from_dict", "to_dict", "builtin_models", "model_path", "models_dir",
    "json_schema", "ModelSpec", "KINDS", "STATUSES",
]
