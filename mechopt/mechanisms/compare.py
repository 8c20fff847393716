"""One table comparing mechanisms: what each satisfies and what it earns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..errors import MechoptError
from ..mechanism import Mechanism
from ..verify import DEFAULT_TOL, PROPERTY_NAMES

__all__ = ["compare", "METRIC_COLUMNS"]

METRIC_COLUMNS = ("revenue", "welfare", "utility")


def _as_mechanism(item: Any, k: int) -> Mechanism:
    if isinstance(item, Mechanism):
        return item
    mech = getattr(item, "mechanism", None)  # a Result
    if isinstance(mech, Mechanism):
        design = getattr(item, "design", None)
        if mech.name in ("mechanism", "", None) and design is not None:
            mech.name = f"LP: max {design.objective}"
        return mech
    raise MechoptError(f"compare: item {k} is neither a Mechanism nor a solved Result (got {type(item).__name__})")


def compare(mechanisms: Iterable[Any], tol: float = DEFAULT_TOL, round: int | None = None) -> pd.DataFrame:
    """Audit several mechanisms on the same environment and tabulate the results.

    Parameters
    ----------
    mechanisms : iterable of Mechanism or Result
        Closed forms (:mod:`mechopt.mechanisms`) and/or LP results (their
        ``mechanism`` is used; an optimal result is needed).
    tol : float
        Tolerance of the independent verifier (see :meth:`Mechanism.audit`).
    round : int, optional
        Round the metric columns to this many decimals.

    Returns
    -------
    pandas.DataFrame
        One row per mechanism (index = names, made unique by suffixes ``#2``,
        ``#3``, …); boolean columns ``dsic, bic, ex_post_ir, interim_ir,
        ex_ante_ir, budget_exact, budget_ex_post, budget_ex_ante, efficient``
        (the independent verifier's audit) and float columns ``revenue``
        (expected payments net of cost), ``welfare`` and ``utility`` (the
        agents' expected utility).

    Examples
    --------
    >>> import mechopt as mo
    >>> env = mo.bilateral_trade(mo.Agent("b", mo.grid(0, 1, 11)), mo.Agent("s", mo.grid(0, 1, 11)))
    >>> t = mo.compare([mo.mechanisms.vcg(env), mo.mechanisms.agv(env)])
    >>> bool(t.loc["AGV", "budget_exact"]), bool(t.loc["VCG", "interim_ir"])
    (True, False)
    """
    mechs = [_as_mechanism(m, k) for k, m in enumerate(mechanisms)]
    if not mechs:
        raise MechoptError("compare needs at least one mechanism")
    rows, names, seen = [], [], {}
    for m in mechs:
        audit = m.audit(tol)
        met = m.metrics
        rows.append({**{p: bool(audit[p]) for p in PROPERTY_NAMES}, **{c: float(met[c]) for c in METRIC_COLUMNS}})
        seen[m.name] = seen.get(m.name, 0) + 1
        names.append(m.name if seen[m.name] == 1 else f"{m.name} #{seen[m.name]}")
    df = pd.DataFrame(rows, index=pd.Index(names, name="mechanism"))
    if round is not None:
        df[list(METRIC_COLUMNS)] = df[list(METRIC_COLUMNS)].round(round) + 0.0  # + 0.0 turns -0.0 into 0.0
    return df
