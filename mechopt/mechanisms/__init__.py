"""Closed-form mechanisms of the seeds, each a :class:`mechopt.Mechanism`.

=================  ================================================  ==========================
function           what it is                                        guarantees (by its audit)
=================  ================================================  ==========================
``groves``         efficient + ``p_i = h_i(θ_{-i}) − W_{-i}``         DSIC, efficient
``vcg``            Clarke pivot (seed 000)                           DSIC, efficient, no deficit
``gvcg``           Krishna–Perry, least charitable type (seed 000)   DSIC, efficient, interim IR
``agv``            expected externality (seeds 000, 001)             BIC, efficient, exact budget
``cgk``            AGV + CGK constants (seed 001)                    BIC, efficient, exact budget,
                                                                     interim IR iff dissolvable
``myerson``        ironed discrete virtual values (seed 002)         DSIC, ex post IR, optimal
``second_price``   Vickrey with reserve                              DSIC, ex post IR
``posted_price``   take-it-or-leave-it price                         DSIC, ex post IR
``cavallo``        VCG + Cavallo redistribution (seed 001)           DSIC, efficient, no deficit
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
from .redistribution import cavallo, green_laffont

__all__ = [
    "groves", "vcg", "gvcg", "agv", "cgk", "myerson", "second_price", "posted_price", "cavallo",
    "green_laffont", "compare", "virtual_values", "threshold_payments", "expected_externality",
    "efficient_allocation",
]
