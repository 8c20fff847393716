"""Closed-form mechanisms of the literature, each a :class:`mechopt.Mechanism`.

=================  ================================================  ==========================
function           what it is                                        guarantees (by its audit)
=================  ================================================  ==========================
``groves``         efficient + ``p_i = h_i(θ_{-i}) − W_{-i}``         DSIC, efficient
``vcg``            Clarke pivot (Vickrey 1961, Clarke 1971)          DSIC, efficient, no deficit
``gvcg``           Krishna–Perry 1998, least charitable type         DSIC, efficient, interim IR
``agv``            expected externality (AGV: Arrow 1979,            BIC, efficient, exact budget
                   d'Aspremont & Gérard-Varet 1979)
``cgk``            AGV + CGK constants (Cramton et al. 1987)         BIC, efficient, exact budget,
                                                                     interim IR iff dissolvable
``myerson``        ironed discrete virtual values (Myerson 1981)     DSIC, ex post IR, optimal
``second_price``   Vickrey with reserve                              DSIC, ex post IR
``posted_price``   take-it-or-leave-it price                         DSIC, ex post IR
``cavallo``        VCG + Cavallo (2006) redistribution               DSIC, efficient, no deficit
``green_laffont``  leave one out at random, VCG among the rest       DSIC, exact budget
=================  ================================================  ==========================

Discrete choices are documented in each function (least charitable type,
virtual values, CGK's critical type).  :func:`compare` tabulates audits and
metrics of several mechanisms.
"""

from __future__ import annotations

from ._base import efficient_allocation
from .auctions import myerson, posted_price, second_price, threshold_payments, virtual_values
from .bayesian import agv, cgk, expected_externality
from .compare import compare
from .groves import groves, gvcg, vcg
from .interdependent import generalized_vcg
from .redistribution import cavallo, green_laffont

__all__ = [
    "groves", "vcg", "gvcg", "agv", "cgk", "myerson", "second_price", "posted_price", "cavallo",
    "green_laffont", "compare", "virtual_values", "threshold_payments", "expected_externality",
    "efficient_allocation", "generalized_vcg",
]
