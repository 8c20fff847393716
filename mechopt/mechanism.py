"""A direct mechanism on a finite environment, wherever it came from.

The LP's optimum (``Result.mechanism``) and the closed forms of
:mod:`mechopt.mechanisms` are both :class:`Mechanism` objects: an allocation
rule ``x`` of shape ``(S, K)`` (a lottery over outcomes at every profile) and a
payment rule ``p`` of shape ``(S, n)`` (``p[s, i]`` is paid *by* agent i).
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .verify import DEFAULT_TOL, verify

if TYPE_CHECKING:  # pragma: no cover
    from .spec import Environment

__all__ = ["Mechanism"]

TABLE_CHECK = 20_000  # rule mechanisms with at most this many profiles are also checked on their table
POINTWISE_WORK = 50_000_000  # profiles × types beyond which interim-only designs are checked on interim quantities


class Mechanism:
    """Allocation and payment rules with their tables, metrics and audit.

    Parameters
    ----------
    env : Environment
    allocation : array_like, shape (S, K)
        ``allocation[s, k]`` = probability of outcome k at profile s.
    payments : array_like, shape (S, n)
        ``payments[s, i]`` = payment made by agent i at profile s.
    name : str
        Shown in ``repr`` and in :func:`mechopt.compare`.
    rule : HierarchicalRule, optional
        An ex post rule (:mod:`mechopt.rules`) evaluated at any profile
        (``rule.allocation(profiles)``); with ``allocation=None`` the tables
        ``x``, ``p`` exist only when they fit in memory (``rule.fits_table``,
        else None), interim tables and metrics come from the rule, and
        :meth:`check` runs :mod:`mechopt.verify_rules` on interim quantities.

    Examples
    --------
    >>> import mechopt as mo
    >>> bidders = [mo.Agent(f"b{i}", mo.grid(0, 1, 101)) for i in range(10)]
    >>> r = mo.Design(mo.single_item(bidders), ic="bic", ir="interim").solve()
    >>> r.mechanism.x is None, r.mechanism.rule.allocation([100] * 10)[1:].round(2).tolist()[:3]
    (True, [0.1, 0.1, 0.1])
    """

    @classmethod
    def from_rule(cls, env: Environment, rule: Any, name: str = "mechanism") -> Mechanism:
        """A mechanism given by a rule (see ``rule`` above)."""
        return cls(env, None, None, name=name, rule=rule)

    def __init__(self, env: Environment, allocation: Any, payments: Any, name: str = "mechanism",
                 rule: Any = None) -> None:
        from .errors import SpecError
        from .spec import Environment

        if not isinstance(env, Environment):
            raise SpecError("Mechanism needs an Environment as its first argument (e.g. mo.single_item(agents))")
        self.rule = rule
        if rule is not None and allocation is None:
            # a rule (mechopt.rules): tabulate only where the table fits in memory
            self.env, self.name = env, name
            self.x, self.p = rule.tabulate() if rule.fits_table else (None, None)
            return
        try:
            x = np.asarray(allocation, dtype=float)
            p = np.asarray(payments, dtype=float)
        except (TypeError, ValueError) as exc:
            raise SpecError(f"Mechanism: allocation and payments must be numeric arrays ({exc})") from None
        S, K, n = env.n_profiles, env.n_outcomes, env.n_agents
        if x.shape != (S, K):
            x = x.reshape(S, K) if x.size == S * K else x
        if p.shape != (S, n):
            p = p.reshape(S, n) if p.size == S * n else p
        if x.shape != (S, K) or p.shape != (S, n):
            raise SpecError(f"allocation must have shape {(S, K)} and payments {(S, n)}; got {x.shape}, {p.shape}")
        self.env = env
        self.x = x
        self.p = p
        self.name = name

    # ---------------------------------------------------------------- tables
    @property
    def allocation(self) -> pd.DataFrame:
        """Lottery over outcomes at every profile (rows: profiles, columns: outcomes)."""
        self._require_table()
        return pd.DataFrame(self.x, index=self.env.profile_index, columns=list(self.env.outcomes))

    def _require_table(self) -> None:
        if self.x is None:
            from .errors import SpecError

            raise SpecError(f"this mechanism has {math.prod(self.env.shape):.3g} profiles and no table; evaluate "
                            "mechanism.rule.allocation(profiles) at the profiles you need, or use mechanism.interim")

    @property
    def payments(self) -> pd.DataFrame:
        """Payment made by each agent at every profile (rows: profiles, columns: agents)."""
        self._require_table()
        return pd.DataFrame(self.p, index=self.env.profile_index, columns=self.env.names)

    @cached_property
    def interim(self) -> dict[str, pd.DataFrame]:
        """Per agent, indexed by own type: expected outcome probabilities, value,
        payment and utility given the type (conditional on it under the prior),
        plus ``outside`` (the outside option) and ``prob`` (the type's mass)."""
        env = self.env
        if self.x is None:
            return self._rule_interim()
        out = {}
        for i, a in enumerate(env.agents):
            shape = env.shape
            xi = np.moveaxis(self.x.reshape(shape + (env.n_outcomes,)), i, 0).reshape(shape[i], -1, env.n_outcomes)
            pi = np.moveaxis(self.p[:, i].reshape(shape), i, 0).reshape(shape[i], -1)
            joint = np.moveaxis(env.joint_prior, i, 0).reshape(shape[i], -1)
            marg = joint.sum(axis=1)
            w = joint / np.where(marg > 0, marg, 1)[:, None]
            X = np.einsum("tr,trk->tk", w, xi)
            P = (w * pi).sum(axis=1)
            if env.is_private:
                value = (X * env.values[i]).sum(axis=1)
            else:  # interdependent values: E[v_i(x(θ), θ) | θ_i = t]
                vi = np.moveaxis(env.profile_values[i].reshape(shape + (env.n_outcomes,)), i, 0)
                value = np.einsum("tr,trk,trk->t", w, xi, vi.reshape(xi.shape))
            index = pd.Index(a.type_labels, name=a.name, tupleize_cols=False)
            df = pd.DataFrame(X, index=index, columns=list(env.outcomes))
            df["value"] = value
            df["payment"] = P
            df["utility"] = value - P
            df["outside"] = env.outside[i]
            df["prob"] = marg
            out[a.name] = df
        return out

    def _rule_interim(self) -> dict[str, pd.DataFrame]:
        """Interim tables of a rule (every agent the same), from the rule alone: allocation columns
        (count rule: every outcome; item rule: ``item j`` = own probability of getting item j; single
        item: the outcome "i wins"), then value, payment, utility, outside, prob."""
        from .verify_rules import count_interim, item_interim, rule_interim

        env, rule = self.env, self.rule
        if hasattr(rule, "counts"):  # anonymous rule: every agent has the same interim table
            X, _ = count_interim(env, rule)
            return self._interim_frames(lambda i: dict(zip(env.outcomes, X.T)),
                                        lambda i: (X * env.values[i]).sum(axis=1))
        if hasattr(rule, "items"):  # several items: own probability of getting each item
            X, w = item_interim(env, rule)
            return self._interim_frames(lambda i: {f"item {j + 1}": X[:, j] for j in range(X.shape[1])},
                                        lambda i: (w * X).sum(axis=1))
        Q = rule_interim(rule)  # the own win probability only (others' outcomes are not tabulated)
        return self._interim_frames(lambda i: {env.outcomes[i + 1]: Q}, lambda i: env.values[i][:, i + 1] * Q)

    def _interim_frames(self, columns, value) -> dict[str, pd.DataFrame]:
        """One interim DataFrame per agent: ``columns(i)`` (name → array (T,)), then value (``value(i)``),
        the rule's payment, utility, outside option and prior."""
        env = self.env
        out = {}
        for i, a in enumerate(env.agents):
            df = pd.DataFrame(columns(i), index=pd.Index(a.type_labels, name=a.name, tupleize_cols=False))
            df["value"] = value(i)
            df["payment"] = self.rule.payment
            df["utility"] = df["value"] - df["payment"]
            df["outside"] = env.outside[i]
            df["prob"] = a.prior
            out[a.name] = df
        return out

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """Expected revenue (net of designer cost), welfare, agents' utility, ``gains`` (welfare
        minus the status quo Σ_i E[U_i(θ_i)]), and per-agent figures."""
        env = self.env
        if self.x is None:
            tab = self.interim
            pay = np.array([float(tab[a]["payment"] @ tab[a]["prob"]) for a in env.names])
            vals = np.array([float(tab[a]["value"] @ tab[a]["prob"]) for a in env.names])
            if hasattr(self.rule, "counts"):
                from .verify_rules import count_interim

                cost = count_interim(env, self.rule)[1]
            elif hasattr(self.rule, "items"):  # per-item rules: the designer has no cost (item_border)
                cost = 0.0
            else:
                sold = sum(float(tab[a.name][env.outcomes[i + 1]] @ a.prior) for i, a in enumerate(env.agents))
                cost = float(env.cost[1]) * sold
            status_quo = sum(float(tab[a]["outside"] @ tab[a]["prob"]) for a in env.names)
            return {
                "revenue": float(pay.sum()) - cost, "welfare": float(vals.sum()) - cost,
                "utility": float(vals.sum() - pay.sum()), "gains": float(vals.sum()) - cost - status_quo,
                "cost": cost,
                "expected_payment": {a: float(v) for a, v in zip(env.names, pay)},
                "expected_utility": {a: float(v - q) for a, v, q in zip(env.names, vals, pay)},
            }
        prior = env.joint_prior.reshape(-1)
        cost = float(prior @ (self.x @ env.cost))
        pay = prior @ self.p
        welfare = float(prior @ (self.x * env.welfare_table).sum(axis=1))
        vals = {a.name: float(self.interim[a.name]["value"] @ self.interim[a.name]["prob"]) for a in env.agents}
        return {
            "revenue": float(pay.sum()) - cost,
            "welfare": welfare,
            "utility": sum(vals.values()) - float(pay.sum()),
            "gains": welfare - sum(float(self.interim[a.name]["outside"] @ self.interim[a.name]["prob"])
                                   for a in env.agents),
            "cost": cost,
            "expected_payment": {a: float(v) for a, v in zip(env.names, pay)},
            "expected_utility": {a: vals[a] - float(v) for a, v in zip(env.names, pay)},
        }

    # ---------------------------------------------------------------- checks
    def check(self, design=None, tol: float = DEFAULT_TOL, objective: float | None = None) -> dict:
        """Full report of the independent verifier (see :func:`mechopt.verify.verify`; a rule
        without a table: :func:`mechopt.verify_rules.verify_rule`, on interim quantities).
        ``objective``: a value claimed for this mechanism under the design's objective, checked
        too where the mechanism is a table."""
        if self.rule is not None:
            from .verify_rules import verify_rule

            report = verify_rule(self.env, self.rule, design, tol)
            if self.x is not None and self.x.shape[0] <= TABLE_CHECK:  # small: the table verifier too
                table = verify(self.env, self.x, self.p, design, tol, objective=objective)
                for key, v in table["max_violation"].items():
                    report["max_violation"][key] = max(v, report["max_violation"].get(key, 0.0))
                report["ok"] = report["ok"] and table["ok"]
                report["properties"] = {**table["properties"], **report["properties"]}
            return report
        if self.x.shape[0] * max(self.env.shape) > POINTWISE_WORK:
            from .verify_rules import interim_checkable, verify_table_interim

            if interim_checkable(self.env, design):  # large table, interim requirements only
                return verify_table_interim(self.env, self.x, self.p, design, tol)
        return verify(self.env, self.x, self.p, design, tol, objective=objective)

    def audit(self, tol: float = DEFAULT_TOL) -> dict[str, bool]:
        """Which properties hold: dsic, bic, ex_post_ir, interim_ir, ex_ante_ir,
        budget_exact, budget_ex_post, budget_ex_ante, efficient (independent verifier)."""
        return dict(self.check(None, tol)["properties"])

    def plot(self, **kwargs):  # pragma: no cover - thin wrapper, tested in test_plot
        """Default picture of the mechanism (see :mod:`mechopt.plot`)."""
        from . import plot

        return plot.mechanism(self, **kwargs)

    def _repr_html_(self) -> str:
        from .display import mechanism_html

        return mechanism_html(self)

    def __repr__(self) -> str:
        m = self.metrics
        return (
            f"Mechanism({self.name!r}: revenue={m['revenue']:.6g}, welfare={m['welfare']:.6g}, "
            f"profiles={math.prod(self.env.shape)}, outcomes={self.env.n_outcomes})"
        )
