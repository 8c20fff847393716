"""Builders for the classic environments.

Every builder returns an :class:`~mechopt.spec.Environment` and accepts
``prior=`` (a joint array over the agents' types) for correlated types.

=================  ===================================  ==========================================
builder            outcomes                             values, cost, outside options
=================  ===================================  ==========================================
single_item        ``"unsold"``, then one per agent     v_i = θ_i if i gets the item; cost =
                                                        seller_value when sold
bilateral_trade    ``"no_trade"``, ``"trade"``          buyer θ_b on trade; seller θ_s on no
                                                        trade, outside option U_s = θ_s
partnership        one per agent (who gets the asset)   v_i = θ_i if i gets it; U_i = r_i θ_i
public_project     ``"not_built"``, ``"built"``         v_i = θ_i if built; cost when built
multi_item         assignments item → agent or ``-``    additive: Σ of assigned item values;
                                                        unit_demand: max of them
procurement        ``"not_bought"``, then one per        seller i values supplying −c_i (types are
                   seller (who supplies)                costs); designer cost −value when bought
interdependent_    ``"unsold"``, then one per agent     v_i = value(i, θ) if i wins (depends on
item                                                    the whole profile); cost = seller_value
=================  ===================================  ==========================================
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from .errors import SpecError
from .exact import exact_array, to_fraction
from .spec import MAX_TYPES, Agent, Environment

MAX_OUTCOMES = 100_000  # multi_item: (agents + 1) ** items assignments

__all__ = [
    "single_item", "bilateral_trade", "partnership", "public_project", "multi_item", "procurement",
    "interdependent_item",
]


def _zero(T: int) -> np.ndarray:
    return np.array([Fraction(0)] * T, dtype=object)


def _scalar_agents(agents: Sequence[Agent], builder: str) -> tuple[Agent, ...]:
    if isinstance(agents, Agent) or not isinstance(agents, Sequence):
        raise SpecError(f"{builder} expects a list of mechopt.Agent objects, e.g. [mo.Agent(...), ...]")
    agents = tuple(agents)
    if not agents or not all(isinstance(a, Agent) for a in agents):
        raise SpecError(f"{builder} expects a list of mechopt.Agent objects")
    for a in agents:
        if not a.is_scalar:
            raise SpecError(f"{builder}: agent {a.name!r} has vector types; {builder} needs scalar types")
    return agents


def single_item(agents: Sequence[Agent], seller_value: Any = 0, prior: Any = None) -> Environment:
    """One indivisible item sold to one of ``agents`` (or kept).

    Outcome 0 is ``"unsold"``; outcome ``i + 1`` gives the item to agent i, who
    values it θ_i.  ``seller_value`` is the designer's cost of selling, so the
    objective ``revenue`` is the seller's expected profit ``E[Σ p_i − v_0·1{sold}]``.
    """
    agents = _scalar_agents(agents, "single_item")
    v0 = to_fraction(seller_value, "seller_value")
    K = len(agents) + 1
    values = []
    for i, a in enumerate(agents):
        V = np.empty((a.n_types, K), dtype=object)
        V[:] = Fraction(0)
        V[:, i + 1] = a.types_exact
        values.append(V)
    cost = [Fraction(0)] + [v0] * len(agents)
    return Environment(
        agents, ["unsold", *[a.name for a in agents]], values, cost=cost, prior=prior,
        kind="single_item", meta={"seller_value": v0},
    )


def bilateral_trade(buyer: Agent, seller: Agent | None = None, prior: Any = None) -> Environment:
    """A buyer and a seller of one good (Myerson–Satterthwaite).

    Outcomes ``("no_trade", "trade")``.  The buyer values the good θ_b; the seller
    values keeping it θ_s, which is also her outside option.  Payments are paid
    *by* each agent, so the seller's revenue from a sale is ``−p_s``.
    """
    if seller is None:
        raise SpecError("bilateral_trade needs a buyer and a seller: mo.bilateral_trade(buyer, seller)")
    buyer, seller = _scalar_agents([buyer, seller], "bilateral_trade")
    Vb = np.empty((buyer.n_types, 2), dtype=object)
    Vb[:, 0], Vb[:, 1] = _zero(buyer.n_types), buyer.types_exact
    Vs = np.empty((seller.n_types, 2), dtype=object)
    Vs[:, 0], Vs[:, 1] = seller.types_exact, _zero(seller.n_types)
    if seller.outside_exact is None:
        seller = seller.with_outside(seller.types_exact)
    return Environment([buyer, seller], ["no_trade", "trade"], [Vb, Vs], prior=prior, kind="bilateral_trade")


def partnership(agents: Sequence[Agent], shares: Sequence[Any] | None = None, prior: Any = None) -> Environment:
    """Dissolving a partnership (Cramton–Gibbons–Klemperer).

    Agent i owns share ``r_i`` of an asset it values θ_i; outcome i gives the whole
    asset to agent i.  The outside option is ``r_i θ_i``.
    """
    agents = _scalar_agents(agents, "partnership")
    if shares is None or isinstance(shares, str):
        raise SpecError(f"partnership needs shares, one number per agent summing to 1, got {shares!r}")
    r = exact_array(shares, "shares")
    if r.shape != (len(agents),):
        raise SpecError(f"shares has {r.size} entries for {len(agents)} agents; give one share per agent")
    if any(x < 0 for x in r):
        raise SpecError("shares must be nonnegative")
    if sum(r, Fraction(0)) == 0:
        raise SpecError("shares sum to 0; give shares that sum to 1")
    if sum(r, Fraction(0)) != 1 and abs(float(sum(r, Fraction(0))) - 1) > 1e-9:
        raise SpecError(f"shares sum to {float(sum(r, Fraction(0))):.12g}, not 1; normalize them")
    r = r / sum(r, Fraction(0))
    K = len(agents)
    values, new_agents = [], []
    for i, a in enumerate(agents):
        V = np.empty((a.n_types, K), dtype=object)
        V[:] = Fraction(0)
        V[:, i] = a.types_exact
        values.append(V)
        new_agents.append(a if a.outside_exact is not None else a.with_outside(r[i] * a.types_exact))
    return Environment(
        new_agents, [a.name for a in agents], values, prior=prior, kind="partnership",
        meta={"shares": list(r)},
    )


def public_project(agents: Sequence[Agent], cost: Any = None, prior: Any = None) -> Environment:
    """A public project of cost ``cost``: outcomes ``("not_built", "built")``; v_i = θ_i if built."""
    agents = _scalar_agents(agents, "public_project")
    if cost is None:
        raise SpecError("public_project needs the project's cost: mo.public_project(agents, cost=1.2)")
    c = to_fraction(cost, "cost")
    values = []
    for a in agents:
        V = np.empty((a.n_types, 2), dtype=object)
        V[:, 0], V[:, 1] = _zero(a.n_types), a.types_exact
        values.append(V)
    return Environment(
        agents, ["not_built", "built"], values, cost=[Fraction(0), c], prior=prior,
        kind="public_project", meta={"cost": c},
    )


def _expanded_outside(a: Agent, n_vectors: int) -> np.ndarray | None:
    """The outside option of a scalar-type agent carried to its product grid of type vectors.

    Only a type-independent outside option has an unambiguous meaning on the
    product grid; a type-dependent one must be given per type vector.
    """
    if a.outside_exact is None:
        return None
    u = a.outside_exact
    if any(v != u[0] for v in u[1:]):
        raise SpecError(
            f"multi_item: agent {a.name!r} has an outside option that varies with its scalar type; "
            "give type vectors of shape (T, items) with one outside option per vector"
        )
    return np.array([u[0]] * n_vectors, dtype=object)


def multi_item(
    agents: Sequence[Agent], items: int = 2, valuation: str = "additive", prior: Any = None
) -> Environment:
    """Several items, each assigned to one agent or to nobody.

    An agent whose types are a 1-D grid gets the product grid over the items
    (the same marginal for every item, independent across items); an agent with
    a 2-D type array of shape ``(T, items)`` keeps its type vectors and prior.

    Outside options are kept: a constant one is carried to every type vector of
    the product grid (a type-dependent one needs explicit type vectors).

    Outcomes are the ``(n + 1) ** items`` assignments, labelled like
    ``"b1|-"`` (item 1 to b1, item 2 unassigned).  ``valuation="additive"``:
    an agent's value is the sum of its items' values; ``"unit_demand"``: the
    maximum of them.
    """
    if isinstance(items, bool) or not isinstance(items, (int, np.integer)) or items < 1:
        raise SpecError(f"items must be a positive integer, got {items!r}")
    if valuation not in ("additive", "unit_demand"):
        raise SpecError(f"valuation must be 'additive' or 'unit_demand', got {valuation!r}")
    if isinstance(agents, Agent) or not isinstance(agents, Sequence):
        raise SpecError("multi_item expects a list of mechopt.Agent objects, e.g. [mo.Agent(...), ...]")
    agents = tuple(agents)
    if not agents or not all(isinstance(a, Agent) for a in agents):
        raise SpecError("multi_item expects a list of mechopt.Agent objects")
    n_outcomes = (len(agents) + 1) ** int(items)
    n_vectors = max(a.n_types ** int(items) if a.is_scalar else a.n_types for a in agents)
    if n_outcomes > MAX_OUTCOMES or n_vectors > MAX_TYPES:
        raise SpecError(
            f"multi_item: items={items} gives {n_outcomes:,} outcomes and up to {n_vectors:,} type vectors per agent "
            f"(at most {MAX_OUTCOMES:,} and {MAX_TYPES:,}); use fewer items, agents or types"
        )
    expanded = []
    for a in agents:
        if a.is_scalar:
            idx = list(itertools.product(range(a.n_types), repeat=items))
            types = np.array([[a.types_exact[j] for j in row] for row in idx], dtype=object)
            pri = np.array([np.prod([a.prior_exact[j] for j in row]) for row in idx], dtype=object)
            expanded.append(Agent(a.name, types, pri, _expanded_outside(a, len(idx))))
        else:
            if a.types_exact.shape[1] != items:
                raise SpecError(
                    f"agent {a.name!r} has type vectors of length {a.types_exact.shape[1]} but items={items}"
                )
            expanded.append(a)
    n = len(expanded)
    assignments = list(itertools.product(range(-1, n), repeat=items))
    labels = ["|".join("-" if j < 0 else expanded[j].name for j in asg) for asg in assignments]
    values = []
    for i, a in enumerate(expanded):
        V = np.empty((a.n_types, len(assignments)), dtype=object)
        for k, asg in enumerate(assignments):
            mine = [m for m, j in enumerate(asg) if j == i]
            if not mine:
                V[:, k] = Fraction(0)
            elif valuation == "additive":
                V[:, k] = a.types_exact[:, mine].sum(axis=1)
            else:
                V[:, k] = [max(row) for row in a.types_exact[:, mine]]
        values.append(V)
    return Environment(
        expanded, labels, values, prior=prior, kind="multi_item",
        meta={"items": int(items), "valuation": valuation},
    )


def procurement(sellers: Sequence[Agent], value: Any, prior: Any = None) -> Environment:
    """A buyer (the designer) buys one item from one of ``sellers``, whose types are their costs.

    Outcome 0 is ``"not_bought"``; outcome ``i + 1`` means seller i supplies it, which
    seller i values ``−c_i`` (its type is its cost).  A seller that does not supply
    keeps 0, its outside option (IR: no seller is forced to sell at a loss).  The
    buyer's value ``value`` enters as a negative designer cost of every purchase, so
    ``revenue`` = E[value·1{bought} + Σ_i p_i] is the buyer's expected profit
    (payments to sellers are negative ``p_i``), and ``welfare`` = E[(value − c_i)·1{i
    supplies}] the gains from trade.  The revenue-maximizing mechanism buys from the
    seller with the lowest virtual cost ``c + F(c)/f(c)`` when it is below ``value``
    (Myerson 1981, read as a reverse auction).

    Parameters
    ----------
    sellers : sequence of Agent
        Scalar types: costs.
    value : number
        The buyer's value for the item.
    prior : array_like, optional
        Joint prior over the sellers' costs (correlated costs).

    Examples
    --------
    >>> import mechopt as mo
    >>> env = mo.procurement([mo.Agent("s", mo.grid(0, 1, 11))], value="9/10")
    >>> round(mo.Design(env, objective="revenue").solve().objective * 11, 6)   # price 2/5
    2.5
    """
    sellers = _scalar_agents(sellers, "procurement")
    v = to_fraction(value, "value")
    K = len(sellers) + 1
    values = []
    for i, a in enumerate(sellers):
        V = np.empty((a.n_types, K), dtype=object)
        V[:] = Fraction(0)
        V[:, i + 1] = -a.types_exact
        values.append(V)
    cost = [Fraction(0)] + [-v] * len(sellers)
    return Environment(
        sellers, ["not_bought", *[a.name for a in sellers]], values, cost=cost, prior=prior,
        kind="procurement", meta={"value": v, "requires": {i: [i + 1] for i in range(len(sellers))}},
    )


def interdependent_item(
    agents: Sequence[Agent], value: Any = None, *, alpha: Any = None, seller_value: Any = 0, prior: Any = None,
) -> Environment:
    """One item whose value to the winner depends on everyone's type (interdependent values).

    Outcomes are those of :func:`single_item` (``"unsold"``, then agent i wins at
    ``i + 1``); the winner i values the item ``value(i, θ)`` and the others 0.

    Parameters
    ----------
    agents : sequence of Agent
        Scalar types (signals).
    value : callable ``(i, profile) -> number``, optional
        Winner i's value at the type profile (``profile``: object array of the
        agents' exact types, shape ``(n,)``).  Pure common value:
        ``lambda i, t: t.sum()``.  Evaluated once per profile, exactly.
    alpha : number, optional
        Instead of ``value``: Maskin's linear form
        ``v_i = θ_i + alpha · Σ_{j≠i} θ_j`` (``alpha = 1``: pure common value,
        ``alpha = 0``: private values).  Single crossing holds iff ``alpha < 1``
        (Maskin 1992; Dasgupta & Maskin 2000).
    seller_value : number
        Designer's cost of selling (as in :func:`single_item`).
    prior : array_like, optional
        Joint prior (correlated signals, as in Crémer & McLean 1985, 1988).

    Returns
    -------
    Environment
        ``kind="interdependent_item"``, ``is_private`` False (unless n = 1);
        ``values[i]`` has shape ``(T_0, …, T_{n-1}, n + 1)``.

    Examples
    --------
    >>> import mechopt as mo
    >>> bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, 3)) for i in range(2)]
    >>> env = mo.interdependent_item(bidders, lambda i, t: t.sum())
    >>> env.is_private, env.values[0].shape
    (False, (3, 3, 3))
    """
    agents = _scalar_agents(agents, "interdependent_item")
    if (value is None) == (alpha is None):
        raise SpecError("interdependent_item needs exactly one of value=(lambda i, profile: ...) or alpha=<number>")
    meta: dict[str, Any] = {}
    if alpha is not None:
        a = to_fraction(alpha, "alpha")
        meta["alpha"] = a

        def value(i: int, t: np.ndarray) -> Fraction:
            return t[i] + a * (sum(t, Fraction(0)) - t[i])
    elif not callable(value):
        raise SpecError(f"interdependent_item: value must be a function (i, profile) -> number, got {value!r}")
    v0 = to_fraction(seller_value, "seller_value")
    meta["seller_value"] = v0
    n = len(agents)

    def table(i: int, k: int, profile: np.ndarray) -> Any:
        return value(i, profile) if k == i + 1 else 0

    cost = [Fraction(0)] + [v0] * n
    return Environment(
        agents, ["unsold", *[a.name for a in agents]], table, cost=cost, prior=prior,
        kind="interdependent_item", meta=meta,
    )
