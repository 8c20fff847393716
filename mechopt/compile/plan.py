"""The formulation plan: which reductions an LP uses, decided once and stored on the LP.

A :class:`Plan` is immutable and holds, per agent, how IC rows are written
(``adjacent`` | ``all pairs`` | ``generated``), whether payments are ``interim``
or ``ex_post``, whether the allocation is ``ex post`` or the ``Border`` reduced
form, and the reason each reduction does or does not apply.  The float LP,
its exact twin (certificates) and every fallback are built from a plan, never
re-guessed: ``compile_design(design, plan=lp.plan, exact=True)`` is the exact
twin of ``lp``.

:meth:`Plan.without` drops a reduction (the pipeline's fallback when the
verifier rejects a reduced answer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from . import symmetry
from .layout import value_groups
from .reductions import REDUCTIONS

if TYPE_CHECKING:  # pragma: no cover
    from ..design import Design

__all__ = ["Plan", "make_plan"]


@dataclass(frozen=True)
class Plan:
    """How a design is formulated.

    Attributes
    ----------
    ic : tuple of str
        Per agent: ``"adjacent"``, ``"all pairs"`` or ``"generated"`` (empty when ``ic="none"``).
    payments : {"interim", "ex_post", "envelope"}
        ``envelope``: DSIC single item, payments rebuilt from the allocation
        (:mod:`mechopt.compile.envelope`; IC modes are then ``"envelope"``).
    allocation : {"ex post", "Border"}
    ic_pairs : dict or None
        ``{agent index: (t, s)}`` for generated IC rows (the LP is then a relaxation
        until generation ends).
    reasons : dict
        Reduction name → ``"applies"``, ``"off"`` or why it does not apply.
    disabled : tuple of str
        Reductions switched off (by the user or by a fallback).
    border_cuts : ndarray or None
        Border rows generated so far (flat threshold indices, :func:`~mechopt.compile.border.separate`);
        None: all of them.
    counts : bool
        Identical agents with common outcomes: an anonymous mechanism on type counts
        (:mod:`mechopt.compile.counts`).
    item_border : bool
        Several agents, several items, additive values, BIC: per-item interim rules with
        Border's inequalities (:mod:`mechopt.compile.item_border`); IC mode ``"item border"``,
        generated IC pairs per class in ``ic_pairs``, generated Border rows in ``item_cuts``.
    item_symmetric : bool
        One multi-item buyer, items interchangeable: one lottery and payment per orbit of
        types (:mod:`mechopt.compile.items`); IC mode ``"item orbits"``, pairs in ``ic_pairs[0]``.
    symmetric : bool
        Identical bidders of a single item: one interim rule for all
        (:mod:`mechopt.compile.symmetry`; implies ``allocation == "Border"``).
    """

    ic: tuple[str, ...] = ()
    payments: str = "ex_post"
    allocation: str = "ex post"
    ic_pairs: dict | None = field(default=None, compare=False)
    reasons: dict = field(default_factory=dict, compare=False)
    disabled: tuple[str, ...] = ()
    symmetric: bool = False
    border_cuts: Any = field(default=None, compare=False)
    item_symmetric: bool = False
    item_orbits: Any = field(default=None, compare=False)
    counts: bool = False
    item_border: bool = False
    item_cuts: Any = field(default=None, compare=False)
    item_structure: Any = field(default=None, compare=False)

    @property
    def border(self) -> bool:
        return self.allocation == "Border"

    def uses(self, name: str) -> bool:
        """Whether the reduction ``name`` (see :data:`~mechopt.compile.reductions.REDUCTIONS`) is in use."""
        if name == "border":
            return self.border
        if name == "interim_payments":
            return self.payments == "interim"
        if name == "adjacent_ic":
            return "adjacent" in self.ic
        if name == "generated_ic":
            return "generated" in self.ic
        if name == "symmetry":
            return self.symmetric
        if name == "envelope":
            return self.payments == "envelope"
        if name == "item_symmetry":
            return self.item_symmetric
        if name == "counts":
            return self.counts
        if name == "item_border":
            return self.item_border
        raise KeyError(f"unknown reduction {name!r}; choose one of {', '.join(REDUCTIONS)}")

    def with_cuts(self, cuts) -> Plan:
        """The same plan with only these Border rows (a relaxation until separation ends)."""
        return replace(self, border_cuts=cuts)

    def with_pairs(self, ic_pairs: dict) -> Plan:
        """The same plan with generated IC pairs for the agents in ``ic_pairs``."""
        ic = tuple("generated" if i in ic_pairs else mode for i, mode in enumerate(self.ic))
        return replace(self, ic=ic, ic_pairs=ic_pairs)

    def without_generation(self) -> Plan:
        """The same plan with every IC pair written (generated agents back to ``all pairs``)."""
        ic = tuple("all pairs" if mode == "generated" else mode for mode in self.ic)
        return replace(self, ic=ic, ic_pairs=None)

    def describe(self, design: Design) -> dict[str, Any]:
        """The reductions in the readable form of ``result.reductions``."""
        env = design.env
        out: dict[str, Any] = {"payments": self.payments}
        if design.ic != "none":
            names = {}
            for i, a in enumerate(env.agents):
                mode = self.ic[i]
                if mode == "generated" and self.ic_pairs and i in self.ic_pairs:
                    mode = f"generated ({len(self.ic_pairs[i][0])} of {a.n_types * (a.n_types - 1)} pairs)"
                names[a.name] = mode
            out["ic"] = names
            if design.ic == "bic":
                out["bic"] = "interim variables" if env.is_independent and env.is_private else "conditional beliefs"
            if design.ic == "ex_post":
                out["ex_post"] = ("ex_post = dsic (private values)" if env.is_private
                                  else "ex post rows, values at the true profile (interdependent values)")
        if self.item_border:
            st = self.item_structure
            classes = len(st.reps) if st is not None else "?"
            pairs = sum(len(t) for t, _ in self.ic_pairs.values()) if self.ic_pairs else 0
            cuts = len(self.item_cuts) if self.item_cuts is not None else 0
            out["allocation"] = "interim per item (Border)"
            ic_text = f"{pairs} IC pairs" if design.ic != "none" else "no IC rows (ic='none')"
            out["item_border"] = (f"{classes} interim rule(s) for {env.n_agents} agents; {cuts} Border rows and "
                                  f"{ic_text} generated")
        if self.counts:
            out["counts"] = "anonymous: lotteries on type counts of identical agents"
        if self.item_symmetric:
            R = self.item_orbits.reps.size if self.item_orbits is not None else "?"
            m = len(self.ic_pairs[0][0]) if self.ic_pairs else 0
            out["item_symmetry"] = f"{R} orbits of {env.shape[0]} types; IC generated ({m} pairs)"
        if env.kind == "single_item":
            out["allocation"] = "interim (Border)" if self.border else "ex post"
            out["border_reason"] = self.reasons.get("border", "")
            if self.border and self.border_cuts is not None:
                total = math.prod(T + 1 for T in env.shape) - 1
                out["border_rows"] = f"generated ({len(self.border_cuts)} of {total} upper-set profiles)"
            out["symmetry"] = "one interim rule for identical bidders" if self.symmetric else "off"
            out["symmetry_reason"] = self.reasons.get("symmetry", "")
        out["why"] = dict(self.reasons)
        return out


def make_plan(
    design: Design, reductions: bool = True, border: bool | None = None, ic_pairs: dict | None = None,
    disabled: tuple[str, ...] = (),
) -> Plan:
    """Decide the formulation of a design.

    Parameters
    ----------
    design : Design
    reductions : bool
        False: the plain LP (no reduction at all).
    border : bool, optional
        ``None``: the Border reduced form where it provably applies and the grid
        is not too small; ``True``: required (error if it does not apply);
        ``False``: off.
    ic_pairs : dict, optional
        Generated IC pairs ``{agent: (t, s)}``.
    disabled : tuple of str
        Reductions to leave out (names of :data:`~mechopt.compile.reductions.REDUCTIONS`).
    """
    env = design.env
    off = set(disabled)
    if not reductions:
        off |= set(REDUCTIONS)
    if border is False:
        off.add("border")
    reasons: dict[str, str] = {}

    ok, why = REDUCTIONS["interim_payments"].applies(design)
    interim = ok and "interim_payments" not in off
    reasons["interim_payments"] = "off" if ok and not interim else why

    # identical bidders: agent i's checks are agent 0's (its value table is agent 0's, relabelled)
    sym_ok, sym_why = REDUCTIONS["symmetry"].applies(design)
    ic: tuple[str, ...] = ()
    if design.ic != "none":
        adj = REDUCTIONS["adjacent_ic"]
        modes, why_adj = [], []
        first: tuple[bool, str] | None = None
        for i in range(env.n_agents):
            if sym_ok and first is not None:
                ok, why = first
            elif sym_ok and symmetry.value_is_type(env):
                ok, why = True, "applies"  # value of winning = type: affine (all other values are 0)
            else:
                ok, why = adj.applies_to(design, i)
            first = (ok, why)
            use = ok and "adjacent_ic" not in off
            modes.append("adjacent" if use else "all pairs")
            if not ok:
                why_adj.append(why)
        ic = tuple(modes)
        reasons["adjacent_ic"] = ("off" if "adjacent_ic" in off else "; ".join(why_adj)) or "applies"

    if sym_ok:
        groups = [[[i + 1]] for i in range(env.n_agents)]  # identical bidders value only winning
    else:
        groups = [value_groups(V) for V in (env.values_exact if env.is_private else env.profile_values_exact)]
    if design.ic == "dsic":  # DSIC single item: monotone allocation and envelope payments
        env_ok, env_why = REDUCTIONS["envelope"].applies(design, groups=groups)
        reasons["envelope"] = "off" if env_ok and "envelope" in off else env_why
        if env_ok and "envelope" not in off:
            ic, interim = ("envelope",) * env.n_agents, False
            reasons["adjacent_ic"] = "replaced by the envelope formulation"
    item_ok, item_why = REDUCTIONS["item_symmetry"].applies(design)
    use_items = item_ok and "item_symmetry" not in off
    reasons["item_symmetry"] = "switched off" if item_ok and not use_items else item_why
    if use_items:
        ic, interim = ("item orbits",) * env.n_agents if design.ic != "none" else (), True
    ib_ok, ib_why = REDUCTIONS["item_border"].applies(design)
    use_ib = ib_ok and interim and "item_border" not in off
    reasons["item_border"] = ("switched off" if ib_ok and "item_border" in off
                              else "payments are not interim" if ib_ok and not interim else ib_why)
    if use_ib:
        ic = ("item border",) * env.n_agents if design.ic != "none" else ()
    cnt_ok, cnt_why = REDUCTIONS["counts"].applies(design)
    use_counts = cnt_ok and "counts" not in off
    reasons["counts"] = "switched off" if cnt_ok and not use_counts else cnt_why
    use_border = False
    want_sym = sym_ok and "symmetry" not in off and not ic_pairs
    if "border" in off:
        reasons["border"] = "switched off"
    else:
        ic_names = {a.name: mode for a, mode in zip(env.agents, ic)}
        use_border, why = REDUCTIONS["border"].applies(
            design, groups=groups, ic=ic_names, interim_payments=interim, ic_pairs=ic_pairs,
            size_check=border is None and not want_sym,
        )
        reasons["border"] = why
        if border and not use_border:
            from ..errors import SpecError

            raise SpecError(f"the Border reduction does not apply to this design: {why}")
    use_sym = want_sym and use_border
    if use_sym:
        reasons["symmetry"] = "applies: identical bidders, averaging an optimum over relabellings is optimal"
    elif sym_ok:
        reasons["symmetry"] = "switched off" if "symmetry" in off else "needs the Border reduced form: " + (
            reasons.get("border") or "IC rows are generated")
    else:
        reasons["symmetry"] = sym_why
    payments = "envelope" if ic and ic[0] == "envelope" else "interim" if interim else "ex_post"
    plan = Plan(ic=ic, payments=payments,
                allocation="Border" if use_border else "per-item Border" if use_ib else "ex post", reasons=reasons,
                disabled=tuple(sorted(off)), symmetric=use_sym, item_symmetric=use_items, counts=use_counts,
                item_border=use_ib)
    if ic_pairs:
        plan = plan.with_pairs(ic_pairs)
    return plan


def lazy_agents(plan: Plan) -> list[int]:
    """Agents whose IC family is written in full (candidates for row generation)."""
    return [i for i, mode in enumerate(plan.ic) if mode == "all pairs"]

