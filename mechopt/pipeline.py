"""The one pipeline: plan → compile → solve → recover → verify (→ certify), with fallbacks.

Every way of solving a design goes through :func:`solve`: ``Design.solve``, the
CLI, sweeps.  Stages are timed (``result.stages``) and logged on the ``"mechopt"``
logger (standard :mod:`logging`): each stage at DEBUG, the events of long solves
(IC generation and Border separation rounds, fallbacks) at INFO, which the CLI
prints to stderr beside its own stage lines.

Fallbacks (each step recorded in ``result.reductions["fallback"]`` as
``{"reduction": name, "reason": why}``; a change of solver method or tolerances has
``reduction = "solver"`` and says which in ``"solver"``):

1. **Solver.** When HiGHS ends without an answer (interior point without a
   status, numerical trouble: status ``error``), the same LP is solved again with
   dual simplex, then with dual simplex and presolve off.
2. **Reductions.** When the independent verifier rejects the answer of a
   reduced LP, that reduction is switched off and the design solved again, in
   the order of :data:`~mechopt.compile.reductions.FALLBACK_ORDER` (Border
   reduced form, generated IC rows, adjacent IC, interim payments).
   Before dropping anything, the same LP is solved once with tight HiGHS
   tolerances (1e-10): a reduced form whose answer is feasible only up to the
   default 1e-7 (Border's inequalities, whose recovered allocation then misses
   IC by 1e-5) is usually fixed by that alone, at the cost of one small LP.
3. **Tolerances.** When the plain LP's answer is still rejected, it is solved
   once more with tight tolerances and presolve off.

A result is ``unverified`` only when every fallback failed; it then still
reports the float objective and the worst violation (``result.verification``).
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .backends.base import kkt_residual
from .backends.options import validate_options
from .compile import border as border_mod
from .compile import compile_design, value_scale
from .compile import item_border as item_border_mod
from .compile.generation import add_violated, ic_gains, initial_pairs
from .compile.plan import Plan, lazy_agents, make_plan
from .compile.reductions import FALLBACK_ORDER, REDUCTIONS
from .errors import SolverError, SpecError
from .limits import DEFAULT_MAX_MEMORY
from .limits import check as check_size
from .recover import count_rule, interim_q, item_rule, mechanism_arrays, symmetric_rule
from .result import Result
from .status import Status

if TYPE_CHECKING:  # pragma: no cover
    from .compile import LinearProgram
    from .design import Design

__all__ = ["solve", "recover_and_verify", "BACKENDS"]

log = logging.getLogger("mechopt")

BACKENDS = ("highs", "cvxpy")
MAX_ROUNDS = 200
SOLVER_RETRIES = (
    ("dual simplex", {"solver": "simplex", "simplex_strategy": 1}),
    ("dual simplex without presolve", {"solver": "simplex", "simplex_strategy": 1, "presolve": False}),
)
TIGHT = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
# Largest profile tables (S·K entries) attempted: an ex post LP holds S·K columns; a Border
# solution is recovered into an S·K table; the symmetric reduced form needs none.
MAX_TABLE = {"ex post": 2_000_000, "Border": 5_000_000, "per-item Border": 5_000_000}


ITEM_CUTS = 20_000  # violated (representative, report) IC pairs added per round at most
MAX_GAINS = 200_000_000  # entries of the gain array of plain IC generation (see _too_large)
KKT_TOL = 1e-7  # relative KKT residual a hot-started optimum must meet


def _too_large(design: Design, plan: Plan) -> str:
    """Why ``plan`` needs a profile table too large to attempt, or ``""``."""
    if plan.symmetric or plan.counts:
        return ""
    if plan.item_border and item_border_mod.one_class(design) and design.budget in ("ex_ante", "none"):
        return ""  # identical agents: an item rule, no table
    env = design.env
    if not plan.item_symmetric and "all pairs" in plan.ic:
        # generation's gain array: (T, T, opponents' profiles) under DSIC, (T, T, K) under BIC
        worst = max(T * T * (env.n_profiles // T if design.ic == "dsic" else env.n_outcomes) for T in env.shape)
        if worst > MAX_GAINS:
            return f"checking every IC pair needs {worst:.3g} entries (> {MAX_GAINS:,})"
    size = env.n_profiles * env.n_outcomes
    if size > MAX_TABLE[plan.allocation]:
        return (f"{env.n_profiles:.3g} type profiles are too many for a profile table "
                f"({size:.3g} > {MAX_TABLE[plan.allocation]:,} entries)")
    return ""


def solve(
    design: Design, backend: str = "highs", certify: bool = False, exact: bool = False, *,
    ic_generation: bool | None = None,
    border: bool | None = None, reductions: bool = True, fallback: bool = True,
    time_limit: float | None = None, max_memory: Any = DEFAULT_MAX_MEMORY, **options: Any,
) -> Result:
    """Solve a design; see :meth:`mechopt.Design.solve` for the user-facing options.

    Parameters
    ----------
    design : Design
    backend : {"highs", "cvxpy"}
    certify : bool
        Attach an exact optimality certificate to an optimum (the full IC family is then used).
    exact : bool
        Decide the answer in rational arithmetic: the float answer's basis is repaired by
        exact simplex pivots (:func:`mechopt.certificates.exact_result`) into an exactly
        optimal mechanism with a verified certificate, or an exact Farkas proof.
    ic_generation : bool, optional
        Generate IC rows lazily (``None``: when the full family exceeds 20,000 rows).
    border : bool, optional
        The Border reduced form (single item, BIC): ``None`` automatic, ``True`` required, ``False`` off.
    reductions : bool
        False: the plain LP, no reduction.
    fallback : bool
        Re-solve without a reduction (or with another solver) when an answer is rejected.
    time_limit : float, optional
        Seconds for the whole pipeline; on expiry the status is ``time_limit``.
    max_memory : str or int, optional
        Refuse, before building anything, an LP whose estimated memory exceeds this
        (``"4GB"`` by default; ``None``: no limit); the :class:`~mechopt.errors.SizeError`
        names the size and what would fit (:mod:`mechopt.limits`).
    **options
        Backend options (HiGHS options by name; cvxpy: ``constraints=``, ``objective=``, ``solver=``).
    """
    if backend not in BACKENDS:
        raise SolverError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    start = time.perf_counter()
    if backend == "highs" and (options.get("constraints") is not None or options.get("objective") is not None):
        raise SpecError("constraints= and objective= (your own terms) need backend='cvxpy': "
                        "design.solve(backend='cvxpy', constraints=...)")
    if backend == "highs":  # names and values against HiGHS's own list, before any work
        checked = validate_options({**options, **({} if time_limit is None else {"time_limit": time_limit})})
        time_limit = checked.pop("time_limit", None)
    if time_limit is not None and not (isinstance(time_limit, (int, float)) and np.isfinite(time_limit)
                                       and time_limit > 0):
        raise SpecError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    deadline = None if time_limit is None else start + float(time_limit)
    check_size(design, max_memory=max_memory, ic_generation=ic_generation, border=border, reductions=reductions,
               backend=backend, certify=certify, exact=exact)
    custom = backend == "cvxpy" and (options.get("constraints") is not None or options.get("objective") is not None)
    if custom and certify:
        raise SpecError("certify=True cannot be used with user constraints or objectives (cvxpy backend): the "
                        "certificate would be for the LP without them; drop certify or the custom terms")
    if exact:  # the exact model is the full LP; Border's recovery is a float LP
        if backend != "highs":
            raise SolverError("exact=True needs backend='highs' (it repairs HiGHS's basis exactly)")
        ic_generation, border = False, False
    if backend == "cvxpy":
        # user constraints may refer to any ex post column: keep the plain ex post formulation
        border = False
        reductions = reductions and not custom
    run = _Run(design, backend, certify or exact, deadline, options, start)
    try:
        # exact answers keep ex post payments under an exact / no-deficit budget (the balanced
        # payments of the interim reduction are rebuilt in floats only); the cvxpy model reads ex
        # post payment columns: no envelope formulation there; the per-item reduced form generates
        # rows and recovers its allocation in floats: highs only, not for certificates
        off = (("interim_payments",) if exact and design.budget in ("exact", "ex_post") else ()) \
            + (("envelope",) if backend == "cvxpy" else ()) \
            + (("item_border",) if certify or exact or backend != "highs" else ())
        plan = make_plan(design, reductions=reductions, border=border, disabled=off)
        big = _too_large(design, plan)
        if big:
            which = "item_border" if design.env.kind == "multi_item" and design.env.n_agents > 1 else "symmetry"
            raise SpecError(f"{big} and no table-free formulation applies ({which}: "
                            f"{plan.reasons.get(which, '')}); use fewer types or bidders")
        lazy = lazy_agents(plan)
        ok, why = REDUCTIONS["generated_ic"].applies(design, lazy=lazy, backend=backend, certify=certify)
        generate = ok if ic_generation is None else bool(ic_generation and lazy)
        plan.reasons["generated_ic"] = why if ic_generation is None else ("on" if generate else "off")
        result = run.attempt(plan, generate)
        if fallback:
            result = run.fall_back(result, plan, generate)
    except KeyboardInterrupt:
        result = run.interrupted()
    if result.status == Status.TIME_LIMIT and time_limit is not None:
        result.message = (f"the time limit ({float(time_limit):g} s) was reached before an optimum was proved; "
                          "raise time_limit")
    if exact and result.status != Status.INTERRUPTED and result.lp is not None:
        from .certificates import exact_result

        t0 = time.perf_counter()
        result = exact_result(result, rebuild=run.recover_verify)
        run.stages["exact"] = time.perf_counter() - t0
    result.stages = dict(run.stages)
    result.fallback = list(run.fallbacks)
    result.stages["total"] = time.perf_counter() - start
    log.debug("done     %s%s (%.2f s)", result.status,
             f", objective {result.objective:.8g}" if result.objective is not None else "", result.stages["total"])
    return result


class _Run:
    """State of one pipeline run: timings, fallbacks, the time budget."""

    def __init__(self, design: Design, backend: str, certify: bool, deadline: float | None, options: dict,
                 start: float) -> None:
        self.design, self.backend, self.certify = design, backend, certify
        self.deadline, self.options = deadline, options
        self.stages: dict[str, float] = {"compile": 0.0, "solve": 0.0, "separate": 0.0, "recover": 0.0,
                                         "verify": 0.0}
        self.fallbacks: list[dict[str, str]] = []
        self.last_lp: LinearProgram | None = None
        self.start = start

    # ------------------------------------------------------------------ stages
    def _timed(self, stage: str, fn, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.stages[stage] += time.perf_counter() - t0

    def _remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return max(0.01, self.deadline - time.perf_counter())

    def compile(self, plan: Plan) -> LinearProgram:
        lp = self._timed("compile", compile_design, self.design, plan=plan)
        self.last_lp = lp
        s = lp.sizes
        log.debug("compile  %d rows x %d cols, %d nonzeros (%.2f s)", s["rows"], s["cols"], s["nnz"], lp.build_seconds)
        return lp

    def backend_solve(self, lp: LinearProgram, extra: dict | None = None):
        if self.backend == "highs":
            from .backends import highs as mod
        else:
            from .backends import cvxpy as mod
        opts = {**self.options, **(extra or {})}
        if self.deadline is not None:
            opts["time_limit"] = self._remaining()
        out = self._timed("solve", mod.solve, lp, **opts)
        if self.backend == "cvxpy":
            out.stats["user_terms"] = self.options.get("constraints") is not None or \
                self.options.get("objective") is not None
        log.debug("solve    %s: %s (%.2f s)", self.backend, out.status, out.stats.get("seconds", 0.0))
        return out

    def solve_lp(self, lp: LinearProgram, extra: dict | None = None):
        """Solve with the backend, retrying other HiGHS methods when it ends without an answer."""
        out = self.backend_solve(lp, extra)
        if self.backend != "highs" or out.status != "error":
            return out
        for label, opts in SOLVER_RETRIES:
            reason = out.message or f"HiGHS status {out.stats.get('raw_status')}"
            self.fallbacks.append({"reduction": "solver", "solver": label, "reason": reason})
            log.info("fallback solver: %s (%s)", label, out.message)
            out = self.backend_solve(lp, {**(extra or {}), **opts})
            if out.status != "error":
                break
        return out

    def recover_verify(self, lp: LinearProgram, out) -> Result:
        return recover_and_verify(self.design, lp, out, self.certify, self._timed)

    # ------------------------------------------------------------------ attempts
    def attempt(self, plan: Plan, generate: bool, extra: dict | None = None) -> Result:
        if generate and lazy_agents(plan):
            lp, out = self._generate(plan, extra)
        elif self._separate_border(plan):
            lp, out = self._generate_border(plan, extra)
        elif plan.item_symmetric and self.design.ic != "none":
            lp, out = self._generate_items(plan, extra)
        elif plan.item_border:
            lp, out = self._generate_item_border(plan, extra)
            if out.status == "unbounded":
                return self._unbounded_item_border(plan, lp, out, extra)
        else:
            lp = self.compile(plan)
            out = self.solve_lp(lp, extra)
        return self.recover_verify(lp, out)

    def _unbounded_item_border(self, plan: Plan, lp: LinearProgram, out, extra: dict | None) -> Result:
        """An unbounded per-item relaxation (every IC pair in it): its improving ray moves payments only
        (Q is bounded), so it improves the full problem too, but its feasible point need not meet the
        Border rows never generated.  The certificate therefore comes from the ex post LP when that fits."""
        nxt = make_plan(self.design, disabled=tuple(sorted(set(plan.disabled) | {"item_border"})))
        if _too_large(self.design, nxt):
            out.message = ("the objective is unbounded: the per-item reduced form's relaxation has an improving "
                           "ray that moves payments only (the ex post LP is too large to certify it)")
            return self.recover_verify(lp, out)
        reason = "the reduced form's relaxation is unbounded; decided on the ex post LP (certificate)"
        self.fallbacks.append({"reduction": "item_border", "reason": reason})
        log.info("fallback without item_border (%s)", reason)
        lazy = lazy_agents(nxt)
        ok, _ = REDUCTIONS["generated_ic"].applies(self.design, lazy=lazy, backend=self.backend, certify=self.certify)
        return self.attempt(nxt, ok, extra)

    def _separate_border(self, plan: Plan) -> bool:
        """Border rows by separation: asymmetric Border reduced form with many upper-set profiles."""
        if not plan.border or plan.symmetric or plan.border_cuts is not None or self.certify:
            return False
        rows = math.prod(T + 1 for T in self.design.env.shape)
        return border_mod.GENERATE_ABOVE < rows <= border_mod.MAX_SEPARATION

    def _generate_border(self, plan: Plan, extra: dict | None):
        """Border's inequalities generated by separation (see :func:`mechopt.compile.border.separate`).

        Each round solves a relaxation (a subset of the rows); the loop ends when the exact
        check over every threshold profile finds no violated row, so the last optimum is
        feasible for the full reduced form, hence optimal.
        """
        env = self.design.env
        marg = [np.asarray(a.prior, dtype=float) for a in env.agents]
        cuts = border_mod.initial_cuts(env.shape)
        tol = 1e-9
        rounds = 0
        while rounds < MAX_ROUNDS:
            rounds += 1
            lp = self.compile(plan.with_cuts(cuts))
            out = self.solve_lp(lp, extra)
            if out.status != "optimal":
                break
            new, worst = self._timed("separate", border_mod.separate, interim_q(lp, out.z), marg, cuts, tol)
            log.info("border round %d: %d rows, worst violation %.2e, %d added", rounds, cuts.size, worst, new.size)
            if new.size == 0:
                break
            cuts = np.union1d(cuts, new)
        out.stats["border_rounds"] = rounds
        return lp, out

    def _generate_items(self, plan: Plan, extra: dict | None):
        """IC rows (representative, any report) generated for the item-symmetric LP
        (see :mod:`mechopt.compile.items`): the last round violates no pair, so it is optimal.

        One HiGHS instance is kept across rounds (:class:`mechopt.backends.rows.AppendRows`):
        the IC family is compiled last and new pairs are appended, so each round adds its
        rows to the previous optimal basis and dual simplex re-optimizes from there.  A round
        that ends without an optimum (other than out of time), and a last round whose
        optimality conditions (recomputed from the LP data) miss 1e-7, is solved again cold.
        """
        from dataclasses import replace

        from .backends.rows import AppendRows
        from .compile import items as items_mod

        env = self.design.env
        if "solver" not in self.options:  # many IC nonzeros: keep HiGHS on dual simplex (IPM is slow here)
            extra = {"solver": "simplex", **(extra or {})}
        warm = AppendRows() if self.backend == "highs" else None
        orb = items_mod.orbits(env)
        plan = replace(plan, item_orbits=orb)
        T = env.shape[0]
        r, s = items_mod.initial_pairs(env, orb)
        code = np.unique(r * T + s)  # pairs in the order they were added (rows are appended)
        have = code  # the same pairs, ascending
        tol = 1e-9 * value_scale(self.design)
        rounds = 0
        while rounds < MAX_ROUNDS:
            rounds += 1
            lp = self.compile(replace(plan, ic_pairs={0: (code // T, code % T)}))
            out = self._solve_rows(lp, extra, warm)
            if out.status != "optimal":
                break
            x, p = items_mod.expand(orb, lp.allocation(out.z), lp.payments(out.z)[:, 0])
            bad, gain = self._timed("separate", items_mod.violated_pairs, env, orb, x, p, have, tol)
            log.info("item round %d: %d IC pairs, %d violated (%s, %.2f s)", rounds, code.size, bad.size,
                     "hot" if warm is not None and warm.hot else "cold", out.stats.get("seconds", 0.0))
            if bad.size == 0:
                if warm is not None and warm.hot and not self._kkt_ok(lp, out):
                    log.info("item round %d: warm-started optimum fails the optimality check; solved cold", rounds)
                    warm.reset()
                    out = self.solve_lp(lp, {**(extra or {}), "warm": None})  # None: not a sweep's instance
                break
            if bad.size > ITEM_CUTS:
                bad = np.sort(bad[np.argpartition(-gain, ITEM_CUTS)[:ITEM_CUTS]])
            have = np.union1d(have, bad)
            code = np.concatenate([code, bad])
        out.stats["ic_rounds"] = rounds
        if warm is not None:
            out.stats["hot_solves"] = warm.hot_solves
        return lp, out

    def _generate_item_border(self, plan: Plan, extra: dict | None):
        """Border rows and IC pairs generated for the per-item reduced form
        (:mod:`mechopt.compile.item_border`).

        Each round solves a relaxation (some Border rows, some IC pairs); the loop ends when
        the exact separation over every prefix profile of every item and every IC pair finds
        nothing violated, so the last optimum is feasible for the full reduced form: optimal.
        """
        from dataclasses import replace

        from .compile import item_border as ib

        env = self.design.env
        st = ib.structure(env, getattr(self.design, "symmetric", None) is not False)
        cuts = ib.initial_cuts(env, st)
        pairs = ib.initial_pairs(env, st) if self.design.ic != "none" else {}
        seen = {c.key() for c in cuts}
        marg = [np.asarray(a.prior, dtype=float) for a in env.agents]
        tol = 1e-9 * value_scale(self.design)
        # a Border row's slack ε lets Q exceed what is implementable by ε / f at a type of mass f:
        # separate to 1e-9 of the smallest mass (probability units)
        border_tol = 1e-9 * min(1.0, min(float(f.min()) for f in marg))
        highs = self.backend == "highs"
        if highs and "solver" not in self.options:  # dual simplex hot-starts from the last basis
            extra = {"solver": "simplex", **(extra or {})}
        if highs:  # rounds hot-start from the previous round's basis, not from a sweep's kept instance
            extra = {**(extra or {}), "warm": None}
        rounds, prev, basis, out = 0, None, None, None
        while rounds < MAX_ROUNDS:
            if out is not None and self.deadline is not None and time.perf_counter() >= self.deadline:
                out.status, out.message = "time_limit", "time limit reached between generation rounds"
                break
            rounds += 1
            lp = self.compile(replace(plan, item_structure=st, item_cuts=list(cuts), ic_pairs=dict(pairs)))
            if highs and prev is not None and prev[1].basis is not None:
                basis = _carry_basis(prev[0], prev[1].basis, lp)
            out = self.solve_lp(lp, {**(extra or {}), **({"basis": basis} if basis is not None else {})})
            full = {c: pairs[c][0].size == env.shape[st.reps[c]] * (env.shape[st.reps[c]] - 1) for c in pairs}
            if out.status == "unbounded" and not all(full.values()):
                # an unbounded relaxation proves nothing (Border rows bound Q; payments are bounded
                # only through IC and IR rows): decide it with every IC pair
                log.info("item border: relaxation unbounded; adding every IC pair")
                pairs = {c: ib.all_pairs(env.shape[st.reps[c]]) for c in pairs}
                prev, basis = None, None
                continue
            if out.status != "optimal":
                break
            Q, P = ib.interim_rules(lp.layout, out.z, env)
            new, worst = self._timed("separate", ib.separate, Q, marg, st, border_tol)
            new = [c for c in new if c.key() not in seen]
            seen.update(c.key() for c in new)
            cuts += new
            added_ic = 0
            for c in pairs:
                gain = self._timed("separate", ib.ic_gains, st, Q, P, c)
                pairs[c], k = add_violated(pairs[c], gain, tol)
                added_ic += k
            log.debug("item border round %d: %d Border rows (worst violation %.2e, %d added), %d IC pairs added",
                      rounds, len(cuts), worst, len(new), added_ic)
            if not new and not added_ic:
                if basis is not None and kkt_residual(lp, out) > KKT_TOL:
                    # a hot start may stop short of the optimum (HiGHS issue 3194): solve this LP cold
                    log.info("item border: hot-started answer fails the KKT check; solving cold")
                    prev, basis = None, None
                    continue
                break
            prev = (lp, out)
        out.stats["item_rounds"] = rounds
        log.info("item border: %d rounds, %d Border rows, %d IC pairs", rounds, len(cuts),
                 sum(t.size for t, _ in pairs.values()))
        return lp, out

    def _solve_rows(self, lp: LinearProgram, extra: dict | None, warm):
        """One generation round on the kept HiGHS instance ``warm`` (cold again if that fails)."""
        if warm is None:
            return self.solve_lp(lp, extra)
        out = self.solve_lp(lp, {**(extra or {}), "warm": warm})
        if warm.hot and out.status not in ("optimal", "time_limit", "interrupted"):  # out of time: no retry
            log.info("warm-started round ended %s; solved cold", out.status)
            warm.reset()
            out = self.solve_lp(lp, {**(extra or {}), "warm": None})
        return out

    @staticmethod
    def _kkt_ok(lp: LinearProgram, out, tol: float = 1e-7) -> bool:
        """Whether ``out`` meets the LP's optimality conditions within ``tol`` (relative), from the data."""
        return kkt_residual(lp, out) <= tol

    def _generate(self, plan: Plan, extra: dict | None):
        """IC row generation (see :mod:`mechopt.compile.generation`)."""
        env = self.design.env
        lazy = lazy_agents(plan)
        tol = 1e-9 * value_scale(self.design)  # separation tolerance, in the problem's money unit
        pairs = {i: initial_pairs(env.agents[i].types) for i in lazy}
        rounds, added = 0, False
        while rounds < MAX_ROUNDS:
            rounds += 1
            lp = self.compile(plan.with_pairs(pairs))
            out = self.solve_lp(lp, extra)
            if out.status != "optimal":
                break
            x, p = lp.allocation(out.z), lp.payments(out.z)
            added = False
            for i in lazy:
                pairs[i], k = add_violated(pairs[i], ic_gains(self.design, x, p, i), tol)
                added = added or k > 0
            log.info("generate round %d: %s", rounds, "added violated IC pairs" if added else "no violated IC pair")
            if not added:
                break
        if out.status == "unbounded" or (out.status == "optimal" and added):
            # an unbounded relaxation proves nothing; the full LP decides
            lp = self.compile(plan)
            out = self.solve_lp(lp, extra)
        out.stats["ic_rounds"] = rounds
        return lp, out

    def fall_back(self, result: Result, plan: Plan, generate: bool) -> Result:
        if result.status not in (Status.UNVERIFIED, Status.ERROR):
            return result
        if self.backend == "highs" and result.status == Status.UNVERIFIED:
            # cheapest first: the same (reduced) LP with tight tolerances
            result = self._retry_tight(result, plan, generate)
            if result.status not in (Status.UNVERIFIED, Status.ERROR):
                return result
        disabled = set(plan.disabled)
        for name in FALLBACK_ORDER:
            used = generate if name == "generated_ic" else plan.uses(name)
            if not used:
                continue
            reason = result.message or f"status {result.status}"
            self.fallbacks.append({"reduction": name, "reason": reason})
            log.info("fallback without %s (%s)", name, reason)
            disabled.add(name)
            if name == "generated_ic":
                generate = False
            else:
                nxt = make_plan(self.design, disabled=tuple(disabled))
                big = _too_large(self.design, nxt)
                if big:
                    self.fallbacks[-1]["reason"] += f" (not attempted: {big})"
                    return result
                plan = nxt
            result = self.attempt(plan, generate)
            if result.status not in (Status.UNVERIFIED, Status.ERROR):
                return result
        if self.backend == "highs" and result.status == Status.UNVERIFIED:
            result = self._retry_tight(result, plan, generate, presolve=False)
        return result

    def _retry_tight(self, result: Result, plan: Plan, generate: bool, presolve: bool = True) -> Result:
        reason = result.message or f"status {result.status}"
        label = "tight tolerances (1e-10)" + ("" if presolve else ", no presolve")
        self.fallbacks.append({"reduction": "solver", "solver": label, "reason": reason})
        log.info("fallback solver: %s (%s)", label, reason)
        retry = self.attempt(plan, generate, {**TIGHT, **({} if presolve else {"presolve": False})})
        return result if retry.status == Status.ERROR else retry

    def interrupted(self) -> Result:
        from .backends.base import SolveOutput

        out = SolveOutput("interrupted", message="interrupted by the user (Ctrl-C)", stats={"name": self.backend})
        lp = self.last_lp
        return Result(self.design, lp, out, Status.INTERRUPTED, certify=self.certify, message=out.message)


def recover_and_verify(design: Design, lp: LinearProgram, out, certify: bool = False, timed=None) -> Result:
    """The recover and verify stages: a :class:`Result` from a backend's output.

    The mechanism is recovered from the solution (:func:`mechopt.recover.mechanism_arrays`)
    and checked by the independent verifier; a claimed optimum that fails the check
    becomes ``unverified`` with a message naming the worst violations.
    """
    from .mechanism import Mechanism

    def call(stage, fn, *args, **kwargs):
        return timed(stage, fn, *args, **kwargs) if timed is not None else fn(*args, **kwargs)

    result = Result(design, lp, out, Status(out.status), certify=certify, message=out.message)
    if out.z is not None and np.all(np.isfinite(out.z)):
        if lp.plan.symmetric or lp.plan.counts or _item_rule(lp):  # identical agents: a rule, tabulated if it fits
            rule = call("recover", count_rule if lp.plan.counts else item_rule if lp.plan.item_border
                        else symmetric_rule, lp, out.z)
            result.mechanism = call("recover", Mechanism.from_rule, design.env, rule, "LP optimum")
        else:
            x, p = call("recover", mechanism_arrays, lp, out.z)
            x = np.where(np.abs(x) < 1e-12, 0.0, x)
            result.mechanism = Mechanism(design.env, x, p, name="LP optimum")
        user_objective = bool(out.stats.get("user_objective") or out.stats.get("user_terms"))
        objective = None if user_objective or out.status != "optimal" else out.objective
        result.verification = call("verify", result.mechanism.check, design, objective=objective)
        ok = bool(result.verification.get("ok"))
        log.debug("verify   %s (worst violation %.2e)", "ok" if ok else "REJECTED",
                 max(result.verification.get("max_violation", {}).values(), default=0.0))
        if out.status == "optimal" and not ok:
            result.status = Status.UNVERIFIED
            result.message = _rejection(result.verification)
    elif out.status == "optimal":
        result.status = Status.ERROR
        result.message = "the solver reported an optimum without a finite solution"
    if not result.message:
        if result.status == Status.INFEASIBLE:
            result.message = ("no mechanism satisfies the constraints; result.certificate is the proof "
                              "(a Farkas combination of named rows, checkable in exact arithmetic)")
        elif result.status == Status.UNBOUNDED:
            result.message = ("the objective is unbounded (e.g. payments can grow without limit); "
                              "result.certificate gives a feasible point and an improving direction")
    return result


def _carry_basis(old: LinearProgram, basis, new: LinearProgram):
    """The previous round's basis for the next round's LP (rows added, none removed): the
    statuses of kept rows move to their new positions (matched by family and labels), new rows
    start basic (their slacks), columns keep theirs.  None when the LPs do not match."""
    from .backends.base import Basis

    if old.A.shape[1] != new.A.shape[1]:
        return None
    rows = np.ones(new.A.shape[0], dtype=np.int8)  # basic
    for fam in old.families:
        try:
            nf = new.family(fam.name)
        except KeyError:
            return None
        part = basis.row_status[fam.start: fam.stop]
        if fam.name == "ic":  # pairs are kept sorted per agent: match (agent, type, report)
            big = int(max(new.design.env.shape)) + 1
            k_old, k_new = (_pair_key(f, big) for f in (fam, nf))
            order = np.argsort(k_new, kind="stable")
            pos = np.searchsorted(k_new[order], k_old)
            if np.any(pos >= k_new.size) or np.any(k_new[order][np.minimum(pos, k_new.size - 1)] != k_old):
                return None
            rows[nf.start + order[pos]] = part
        elif nf.size >= fam.size:  # border cuts are appended; ir and budget rows are unchanged
            rows[nf.start: nf.start + fam.size] = part
        else:
            return None
    return Basis(basis.col_status.copy(), rows)


def _item_rule(lp: LinearProgram) -> bool:
    """A per-item reduced form of identical agents whose profile table would be too large: an item rule."""
    env = lp.design.env
    st = lp.plan.item_structure
    return bool(lp.plan.item_border and st is not None and len(st.reps) == 1
                and env.n_profiles * env.n_outcomes > MAX_TABLE["per-item Border"])


def _pair_key(fam, big: int) -> np.ndarray:
    """One integer per IC row: (agent, type, report)."""
    return (fam.codes["agent"] * big + fam.codes["type"]) * big + fam.codes["report"]


def _rejection(verification: dict) -> str:
    worst = verification.get("max_violation", {})
    bad = {k: v for k, v in worst.items() if v > verification.get("tol", 0.0)}
    items = ", ".join(f"{k} {v:.2e}" for k, v in sorted(bad.items(), key=lambda kv: -kv[1])) or "see verification"
    return f"the independent verifier rejected the solver's optimum (worst violations: {items})"
