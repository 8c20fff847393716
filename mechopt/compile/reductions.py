"""Formulation reductions as objects.

A reduction replaces part of the plain LP (every IC pair, ex post payments,
ex post lotteries) by a smaller formulation with the *same optimal value*.
Each reduction object says whether it applies to a design and why not
(:meth:`Reduction.applies`), and the rows and columns it writes are built by
the family modules from the :class:`~mechopt.compile.plan.Plan` that records
the choice.  Recovering the mechanism ``(x, p)`` from a reduced solution is
the pipeline's *recover* stage (:mod:`mechopt.recover`), because recovering
an ex post allocation from a reduced form needs a solver and nothing under
``compile/`` imports one.

===================  ==========================================================
reduction            why it is exact
===================  ==========================================================
adjacent IC          scalar types, values affine in the own type, DSIC (or BIC
                     with independent beliefs): adjacent IC both ways makes the
                     allocation's value monotone and then every non-adjacent
                     pair follows by chaining (Myerson 1981, Lemma 2; the
                     discrete form e.g. in Elkind 2007)
interim payments     independent prior and no constraint or objective that reads
                     ex post payments: ``p_i(θ) = E[p_i | θ_i]`` keeps every
                     constraint and the objective unchanged; an exact or
                     no-deficit budget (two or more agents) is then one ex ante
                     row, and balanced ex post payments with the same interim
                     payments are built after the solve (d'Aspremont &
                     Gérard-Varet 1979)
Border reduced form  single item, BIC, independent prior: an interim allocation
                     is implementable iff Border's inequalities hold (Border
                     1991, 2007; Che, Kim & Mierendorff 2013); see
                     :mod:`mechopt.compile.border`
symmetry             identical bidders (single item): the design is invariant
                     under relabelling bidders, so averaging an optimum over all
                     permutations gives a symmetric optimum; one interim rule
                     with Border's inequalities on one bidder's T upper sets
                     (Border 1991); see :mod:`mechopt.compile.symmetry`
envelope             DSIC single item, ex post IR, revenue: monotone allocation
                     and the envelope payments (Myerson 1981, Lemma 2); the
                     LP holds only x; see :mod:`mechopt.compile.envelope`
item symmetry        one multi-item buyer whose types, prior and values are
                     invariant under permuting items: averaging over item
                     permutations gives an item-symmetric optimum; one lottery per
                     orbit of types; see :mod:`mechopt.compile.items`
item border          several agents, additive items, BIC, independent prior:
                     per-item interim rules are implementable iff Border's
                     inequalities hold item by item (items drawn independently
                     combine them); see :mod:`mechopt.compile.item_border`
counts               identical agents, common outcomes (public project): an
                     average over permutations is anonymous, so lotteries live on
                     the C(n+T−1, n) type-count vectors; see
                     :mod:`mechopt.compile.counts`
generated IC         IC rows added lazily: each round is a relaxation, and the
                     last round's solution satisfies every IC pair, so it is
                     optimal for the full LP (see :mod:`mechopt.compile.generation`)
===================  ==========================================================

A reduction that the verifier rejects in practice (numerical trouble on a
reduced LP) is switched off by the pipeline and the design is solved again;
:data:`FALLBACK_ORDER` is the order in which they are dropped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import border as border_mod
from . import counts as counts_mod
from . import envelope as envelope_mod
from . import item_border as item_border_mod
from . import items as items_mod
from . import symmetry as symmetry_mod
from .generation import full_ic_rows
from .layout import affine_in_type, payments_can_be_interim

if TYPE_CHECKING:  # pragma: no cover
    from ..design import Design

__all__ = [
    "Reduction", "AdjacentIC", "InterimPayments", "BorderReducedForm", "GeneratedIC", "Symmetry", "Envelope",
    "ItemSymmetry", "Counts", "ItemBorder",
    "REDUCTIONS", "FALLBACK_ORDER", "GENERATION_THRESHOLD",
]

GENERATION_THRESHOLD = 20_000  # full IC rows above which IC rows are generated lazily


@dataclass(frozen=True)
class Reduction(ABC):
    """A reduction of the plain LP; ``name`` is how results and fallbacks refer to it."""

    name: str = ""
    description: str = ""

    @abstractmethod
    def applies(self, design: Design, **context) -> tuple[bool, str]:
        """``(True, "applies")`` or ``(False, reason)``."""


@dataclass(frozen=True)
class AdjacentIC(Reduction):
    """Only adjacent (true type, report) pairs, both ways, for one agent."""

    name: str = "adjacent_ic"
    description: str = "adjacent IC rows only (scalar types, values affine in the own type)"

    def applies_to(self, design: Design, i: int) -> tuple[bool, str]:
        """Whether agent ``i``'s IC family reduces to adjacent pairs."""
        env = design.env
        a = env.agents[i]
        if design.ic == "none":
            return False, "ic='none'"
        if not env.is_private:
            return False, f"agent {a.name!r} has interdependent values (local IC need not imply global IC)"
        if design.ic == "bic" and not env.is_independent:
            return False, "BIC with correlated beliefs (beliefs depend on the own type)"
        if a.types_exact.ndim != 1:
            return False, f"agent {a.name!r} has vector types"
        if not affine_in_type(a.types_exact, env.values_exact[i]):
            return False, f"agent {a.name!r}'s values are not affine in its type"
        return True, "applies"

    def applies(self, design: Design, **context) -> tuple[bool, str]:
        reasons = [self.applies_to(design, i) for i in range(design.env.n_agents)]
        bad = [why for ok, why in reasons if not ok]
        return (not bad), ("applies" if not bad else "; ".join(bad))


@dataclass(frozen=True)
class InterimPayments(Reduction):
    """Payments ``p_i(θ) = P̄_i(θ_i)``: one payment variable per agent and type."""

    name: str = "interim_payments"
    description: str = "interim payments (no constraint reads ex post payments)"

    def applies(self, design: Design, **context) -> tuple[bool, str]:
        if payments_can_be_interim(design):
            return True, "applies"
        env = design.env
        if not env.is_independent:
            return False, "the prior is correlated"
        for key, ok in (("ic", ("bic", "none")), ("ir", ("interim", "ex_ante", "none")),
                        ("budget", ("ex_ante", "none", "exact", "ex_post"))):
            if getattr(design, key) not in ok:
                return False, f"{key}={getattr(design, key)!r} reads ex post payments"
        if design.budget in ("exact", "ex_post") and env.n_agents < 2:
            return False, f"budget={design.budget!r} with one agent binds at every type"
        return False, "ex post payments are needed"  # pragma: no cover


@dataclass(frozen=True)
class BorderReducedForm(Reduction):
    """Single-item BIC on interim win probabilities with Border's inequalities."""

    name: str = "border"
    description: str = "interim allocation with Border's inequalities (single item, BIC)"

    def applies(self, design: Design, *, groups=None, ic=None, interim_payments=False, ic_pairs=None,
                size_check: bool = True, **context) -> tuple[bool, str]:
        return border_mod.applies(design, groups, {"ic": ic or {}}, interim_payments, ic_pairs,
                                  size_check=size_check)


@dataclass(frozen=True)
class GeneratedIC(Reduction):
    """IC pairs added lazily for agents without the adjacent reduction."""

    name: str = "generated_ic"
    description: str = "IC rows generated lazily (start from nearest reports, add violated pairs)"

    def applies(self, design: Design, *, lazy=(), backend: str = "highs", exact: bool = False,
                certify: bool = False, **context) -> tuple[bool, str]:
        if design.ic == "none" or not lazy:
            return False, ("no full IC family to generate (adjacent IC, or a formulation that generates "
                           "its own rows)" if design.ic != "none" else "ic='none'")
        if backend != "highs":
            return False, f"backend {backend!r} (user constraints may refer to any IC row)"
        if exact or certify:
            return False, "an exact certificate is checked on the full IC family"
        rows = full_ic_rows(design, list(lazy))
        if rows <= GENERATION_THRESHOLD:
            return False, f"the full IC family is small ({rows:,} rows)"
        return True, "applies"


@dataclass(frozen=True)
class Symmetry(Reduction):
    """Identical bidders of a single item: one interim rule ``Q(t)``, ``P(t)`` for all of them."""

    name: str = "symmetry"
    description: str = "one interim rule for identical bidders (single item, Border on one bidder's upper sets)"

    def applies(self, design: Design, **context) -> tuple[bool, str]:
        if not design.env.is_private:
            return False, "interdependent values (a value depends on others' types)"
        return symmetry_mod.applies(design)


@dataclass(frozen=True)
class Envelope(Reduction):
    """DSIC single-item revenue on the allocation only: monotone x, envelope payments."""

    name: str = "envelope"
    description: str = "monotone allocation with envelope payments (DSIC single item, Myerson 1981)"

    def applies(self, design: Design, *, groups=None, size_check: bool = True, **context) -> tuple[bool, str]:
        from .layout import value_groups

        if not design.env.is_private:
            return False, "interdependent values (a value depends on others' types)"
        if groups is None:
            groups = [value_groups(V) for V in design.env.values_exact]
        return envelope_mod.applies(design, groups, size_check=size_check)


@dataclass(frozen=True)
class ItemSymmetry(Reduction):
    """One multi-item buyer with interchangeable items: one lottery and payment per orbit of types."""

    name: str = "item_symmetry"
    description: str = "item-symmetric mechanism on orbit representatives (one buyer, interchangeable items)"

    def applies(self, design: Design, **context) -> tuple[bool, str]:
        if not design.env.is_private:
            return False, "interdependent values (a value depends on others' types)"
        return items_mod.applies(design)


@dataclass(frozen=True)
class Counts(Reduction):
    """Identical agents with common outcomes: anonymous lotteries on type counts."""

    name: str = "counts"
    description: str = "anonymous mechanism on type counts (identical agents, interim payments)"

    def applies(self, design: Design, **context) -> tuple[bool, str]:
        if not design.env.is_private:
            return False, "interdependent values (a value depends on others' types)"
        return counts_mod.applies(design)


@dataclass(frozen=True)
class ItemBorder(Reduction):
    """Several agents, additive items, BIC: per-item interim rules with Border's inequalities."""

    name: str = "item_border"
    description: str = "per-item interim rules with Border's inequalities (several agents, additive items, BIC)"

    def applies(self, design: Design, **context) -> tuple[bool, str]:
        return item_border_mod.applies(design)


REDUCTIONS = {r.name: r for r in (AdjacentIC(), InterimPayments(), BorderReducedForm(), GeneratedIC(), Symmetry(),
                                   Envelope(), ItemSymmetry(), Counts(), ItemBorder())}
# Dropped in this order when the verifier rejects a reduced answer: the symmetry reductions and
# the envelope first, the Border reduced form next (its recovery is the most sensitive to
# tolerances), then generated IC rows, then adjacent IC, then interim payments.
FALLBACK_ORDER = ("symmetry", "item_symmetry", "counts", "item_border", "envelope", "border", "generated_ic",
                  "adjacent_ic", "interim_payments")

