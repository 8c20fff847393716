"""The pipeline (issue: one pipeline, reductions as objects, fallbacks).

Truths used here, none produced by the code under test:

* every reduction is exact, so the reduced LP and the plain LP (``reductions=False``)
  have the same status and optimal value (a theorem per reduction, see
  :mod:`mechopt.compile.reductions`); checked on random designs over the builders;
* Myerson's discrete optimal auction with ironing gives the closed form of
  ``test_types_1e10_apart`` (derived in its docstring);
* Cramton–Gibbons–Klemperer: a partnership with a small share cannot be dissolved
  efficiently (the exact Farkas certificate is checked in rational arithmetic).
"""

from __future__ import annotations

import _thread
import ast
import pickle
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as st
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as hs

import mechopt as mo
from mechopt.status import Status

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ random designs over the builders
@hs.composite
def agents(draw, n: int, scalar: bool = True, zero_mass: bool = True):
    out = []
    for i in range(n):
        T = draw(hs.integers(2, 4))
        types = sorted(draw(hs.lists(hs.integers(0, 8), min_size=T, max_size=T, unique=True)))
        lo = 0 if zero_mass and draw(hs.integers(0, 3)) == 0 else 1
        w = draw(hs.lists(hs.integers(lo, 4), min_size=T, max_size=T))
        w[0] = max(w[0], 1 - sum(w))  # some type has mass
        prior = [Fraction(x, sum(w)) for x in w]  # exact rational priors, possibly with zero-mass types
        if 0 in w:
            event("zero-mass type")
        out.append(mo.Agent(f"a{i}", [Fraction(t, 4) for t in types], prior=prior))
    return out


@hs.composite
def builder_designs(draw):
    kind = draw(hs.sampled_from(["single_item", "bilateral_trade", "partnership", "public_project", "table",
                                 "auction", "items"]))
    event(f"builder {kind}")
    if kind == "items":  # several bidders, additive items, BIC: where the per-item reduced form applies
        env = mo.multi_item(draw(agents(draw(hs.integers(2, 3)), zero_mass=False)), items=2)
        return mo.Design(env, ic="bic", ir=draw(hs.sampled_from(["interim", "ex_ante"])),
                         budget=draw(hs.sampled_from(["none", "ex_ante", "exact"])),
                         objective=draw(hs.sampled_from(["revenue", "welfare", "gains"])))
    if kind == "auction":  # single-item BIC auctions: where the Border reduced form applies
        env = mo.single_item(draw(agents(draw(hs.integers(1, 2)), zero_mass=False)))
        return mo.Design(env, ic="bic", ir=draw(hs.sampled_from(["interim", "ex_ante"])),
                         budget=draw(hs.sampled_from(["none", "ex_ante"])), objective="revenue")
    if kind == "single_item":
        bidders = draw(agents(draw(hs.integers(1, 3)), zero_mass=draw(hs.booleans())))
        env = mo.single_item(bidders, seller_value=Fraction(draw(hs.integers(0, 3)), 4))
    elif kind == "bilateral_trade":
        b, s = draw(agents(2))
        env = mo.bilateral_trade(b, s)
    elif kind == "partnership":
        r = Fraction(draw(hs.integers(0, 4)), 4)
        env = mo.partnership(draw(agents(2)), [r, 1 - r])
    elif kind == "public_project":
        env = mo.public_project(draw(agents(draw(hs.integers(2, 3)))), cost=Fraction(draw(hs.integers(1, 8)), 4))
    else:
        ags = draw(agents(2))
        K = draw(hs.integers(2, 3))
        values = [np.array(draw(hs.lists(hs.integers(0, 6), min_size=a.n_types * K, max_size=a.n_types * K)))
                  .reshape(a.n_types, K) for a in ags]
        env = mo.Environment(ags, [f"o{k}" for k in range(K)], values, cost=[0] * K)
    deterministic = draw(hs.booleans()) and draw(hs.booleans())
    design = mo.Design(
        env,
        ic=draw(hs.sampled_from(["dsic", "bic", "bic", "none", "ex_post"])),  # BIC twice: Border and interim
        ir=draw(hs.sampled_from(["ex_post", "interim", "interim", "ex_ante", "none"])),
        budget=draw(hs.sampled_from(["exact", "ex_post", "ex_ante", "none"])),
        allocation=draw(hs.sampled_from(["free", "free", "efficient"])),
        objective=draw(hs.sampled_from(["revenue", "welfare", "utility", "gains", "feasibility"])),
        deterministic=deterministic,
    )
    if deterministic:
        event("deterministic (MIP)")
    return design


@SETTINGS
@given(builder_designs())
def test_reductions_never_change_status_or_optimum(design):
    on = design.solve()
    off = design.solve(reductions=False)
    plan = on.lp.plan
    for name in ("border", "interim_payments", "adjacent_ic", "symmetry", "counts", "envelope", "item_border"):
        if plan.uses(name):
            event(f"reduction {name}")
    event(f"status {on.status}")
    if on.fallback:
        event("fallback taken")
    if design.allocation == "efficient" and design.budget == "exact" and design.ir != "none":
        event("infeasible-prone (efficient + exact budget + IR)")
    assert on.status == off.status, (on.status, off.status, on.message, off.message)
    if on.status == "optimal":
        scale = max(1.0, abs(off.objective))
        assert on.objective == pytest.approx(off.objective, abs=1e-7 * scale)
        assert on.verification["ok"] and off.verification["ok"]


# ------------------------------------------------------------------ the cases of the issue
def lognormal_bidders(seller_value=0):
    ags = [mo.Agent(f"b{j}", *mo.discretize(st.lognorm(s), 20, support=(0, 4))) for j, s in enumerate((0.3, 0.6, 0.9))]
    return mo.single_item(ags, seller_value=seller_value)


def test_lognormal_asymmetric_bidders_verify():
    """Border's answer missed IC by 9.3e-6; the pipeline retries and the answer verifies,
    equal to the plain ex post LP's."""
    d = mo.Design(lognormal_bidders(), ic="bic", ir="interim", objective="revenue")
    r, full = d.solve(), d.solve(border=False)
    assert r.status == "optimal" and r.verification["ok"]
    assert r.objective == pytest.approx(full.objective, rel=1e-8)
    assert r.reductions["fallback"] == [] or r.reductions["fallback"][0]["solver"].startswith("tight")


@pytest.mark.slow
@pytest.mark.parametrize("seller_value", np.linspace(0, 2, 50))
def test_lognormal_sweep_all_verify(seller_value):
    d = mo.Design(lognormal_bidders(float(seller_value)), ic="bic", ir="interim", objective="revenue")
    r = d.solve()
    assert r.status == "optimal" and r.verification["ok"]


@pytest.mark.slow
@pytest.mark.parametrize("cells", [160, 200])
def test_beta_many_cells_verify(cells):
    a = mo.discretize(st.beta(2, 2), cells)
    d = mo.Design(mo.single_item([mo.Agent("b1", *a), mo.Agent("b2", *a)]), ic="bic", ir="interim")
    r, full = d.solve(), d.solve(border=False)
    assert r.status == "optimal" and r.verification["ok"]
    assert r.objective == pytest.approx(full.objective, rel=1e-8)


def test_partnership_near_its_threshold_is_infeasible_with_a_certificate():
    """Shares (0.198054, 0.801946) on grid(0, 1, 81): HiGHS ended with kUnknown after 8 s.
    Interim payments under an exact budget make the LP small; no efficient, BIC, interim IR,
    budget-balanced dissolution exists (Cramton, Gibbons & Klemperer 1987: too unequal shares)."""
    ags = [mo.Agent("a", mo.grid(0, 1, 81)), mo.Agent("b", mo.grid(0, 1, 81))]
    env = mo.partnership(ags, ["0.198054", "0.801946"])
    d = mo.Design(env, ic="bic", ir="interim", budget="exact", allocation="efficient", objective="feasibility")
    r = d.solve()
    assert r.status == "infeasible", r.message
    assert r.certificate.verify(exact=True)


def test_exact_budget_interim_payments_balance_every_profile():
    """The rebuilt ex post payments balance the budget at every profile (checked here directly)
    and the optimum equals the plain LP's."""
    ags = [mo.Agent(f"c{j}", mo.grid(0, 1, 4)) for j in range(3)]
    env = mo.public_project(ags, cost="1.2")
    d = mo.Design(env, ic="bic", ir="interim", budget="exact", objective="welfare")
    r, full = d.solve(), d.solve(reductions=False)
    assert r.reductions["payments"] == "interim" and full.reductions["payments"] == "ex_post"
    m = r.mechanism
    surplus = m.p.sum(axis=1) - m.x @ env.cost
    assert np.abs(surplus).max() < 1e-9
    assert r.objective == pytest.approx(full.objective, abs=1e-9)


def test_correlated_prior_thirty_types():
    """Interior point ended with kNotset (status error, no message); now an answer that verifies."""
    g = np.array(mo.grid(0, 1, 30), float)
    K = np.exp(-((g[:, None] - g[None, :]) ** 2) / (2 * 0.2**2))
    env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 30)), mo.Agent("b2", mo.grid(0, 1, 30))], prior=K / K.sum())
    r = mo.Design(env, ic="bic", ir="interim").solve()
    assert r.status == "optimal" and r.verification["ok"], r.message


def test_types_1e10_apart():
    """Two bidders, values [1, 1+e, 1+2e, 2] equally likely, e = 1e-10, BIC revenue.

    Discrete virtual values φ_k = t_k − (t_{k+1} − t_k)(1 − F_k)/f_k (Myerson 1981, discrete
    form): 1 − 3e, 1 − e, 4e, 2.  Not monotone: ironing the first three types (weights equal)
    gives (1 − 3e + 1 − e + 4e)/3 = 2/3, still below 2.  Revenue = E[max ironed φ⁺] =
    P(both in the pool)·2/3 + P(some type 2)·2 = (9/16)(2/3) + (7/16)·2 = 5/4.
    """
    vals = [Fraction(v) for v in ("1", "1.0000000001", "1.0000000002", "2")]
    env = mo.single_item([mo.Agent("b1", vals), mo.Agent("b2", vals)])
    r = mo.Design(env, ic="bic", ir="interim").solve()
    assert r.status == "optimal" and r.verification["ok"]
    assert r.objective == pytest.approx(1.25, abs=1e-9)


# ------------------------------------------------------------------ statuses, fallbacks, travel
def test_solver_error_falls_back_to_dual_simplex(monkeypatch):
    from mechopt.backends import highs
    from mechopt.backends.base import SolveOutput

    real, calls = highs.solve, []

    def flaky(lp, **options):
        calls.append(options)
        if len(calls) == 1:
            return SolveOutput("error", message="HiGHS ended without an answer (model status kNotset)",
                               stats={"name": "highs", "raw_status": "kNotset"})
        return real(lp, **options)

    monkeypatch.setattr(highs, "solve", flaky)
    env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 11)), mo.Agent("b2", mo.grid(0, 1, 11))])
    r = mo.Design(env, ic="bic", ir="interim").solve()
    assert r.status == "optimal" and r.objective == pytest.approx(5 / 11, abs=1e-9)  # Myerson: 5/11 on this grid
    assert r.reductions["fallback"][0] == {"reduction": "solver", "solver": "dual simplex", "reason": calls and
                                           "HiGHS ended without an answer (model status kNotset)"}
    assert calls[1]["simplex_strategy"] == 1


def test_rejected_answer_is_unverified_with_objective_and_message(monkeypatch):
    """With every fallback off, a rejected answer says so and keeps the float objective."""
    from mechopt import mechanism

    def reject(self, design=None, tol=1e-6, objective=None):
        return {"ok": False, "tol": 0.0, "max_violation": {"ic": 1.0}}

    monkeypatch.setattr(mechanism.Mechanism, "check", reject)
    env = mo.single_item([mo.Agent("b1", [1, 2])])
    r = mo.Design(env, ic="dsic", ir="ex_post").solve(fallback=False)
    assert r.status == Status.UNVERIFIED and r.status == "unverified"
    assert r.objective == pytest.approx(1.0) and "ic 1.00e+00" in r.message
    assert "unverified" in repr(r)


def test_result_pickles_and_round_trips():
    env, design, _ = mo.load("myerson_two_bidders")
    r = design.solve(certify=True)
    back = pickle.loads(pickle.dumps(r))
    assert back.status == r.status and back.objective == r.objective
    np.testing.assert_array_equal(back.mechanism.x, r.mechanism.x)
    np.testing.assert_array_equal(back.duals["ic"]["dual"], r.duals["ic"]["dual"])
    assert back.verification["ok"] and back.certificate.verify(exact=True)
    infeasible = mo.load("myerson_satterthwaite")[1].solve()
    assert pickle.loads(pickle.dumps(infeasible)).certificate.verify(exact=True)


def test_time_limit_status():
    env = mo.single_item([mo.Agent(f"b{j}", mo.grid(0, 1, 41)) for j in range(2)])
    r = mo.Design(env, ic="dsic", ir="ex_post").solve(time_limit=1e-6, reductions=False)
    assert r.status == "time_limit" and "time limit" in r.message


def test_ctrl_c_interrupts_highs():
    """Ctrl-C during a long HiGHS run returns status interrupted quickly (no traceback)."""
    env = mo.single_item([mo.Agent(f"b{j}", mo.grid(0, 1, 31)) for j in range(3)])
    d = mo.Design(env, ic="dsic", ir="ex_post")
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    try:
        r = d.solve(reductions=False)
    finally:
        timer.cancel()
    assert r.status == "interrupted", r.status
    assert r.stages["total"] < 5.0


def test_stage_times_and_logging(caplog):
    env = mo.single_item([mo.Agent("b1", mo.grid(0, 1, 5))])
    with caplog.at_level("DEBUG", logger="mechopt"):
        r = mo.Design(env, ic="bic", ir="interim").solve()
    assert set(r.stages) >= {"compile", "solve", "recover", "verify", "total"}
    text = caplog.text
    assert "compile" in text and "solve" in text and "verify" in text
    caplog.clear()
    vals = [Fraction(v) for v in ("1", "1.0000000001", "1.0000000002", "2")]  # fallbacks: INFO
    with caplog.at_level("INFO", logger="mechopt"):
        mo.Design(mo.single_item([mo.Agent("b1", vals), mo.Agent("b2", vals)]), ic="bic", ir="interim").solve()
    assert "fallback" in caplog.text and "compile" not in caplog.text


# ------------------------------------------------------------------ architecture
def _imports(path: Path, package: str) -> set[str]:
    """Modules of mechopt a file imports anywhere in it (also inside functions), with
    ``package`` the package that holds the file; ``if TYPE_CHECKING:`` blocks are skipped."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = package.split(".")
    out: set[str] = set()

    def visit(node):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("mechopt"):
                out.add(mod)
                out.update(f"{mod}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("mechopt"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def _group_graph(groups: dict[str, str]) -> dict[str, set[str]]:
    root = Path(mo.__file__).parent
    edges: dict[str, set[str]] = {g: set() for g in groups}
    for f in root.rglob("*.py"):
        rel = f.relative_to(root.parent).with_suffix("").parts
        module = ".".join(rel[:-1]) if f.name == "__init__.py" else ".".join(rel)
        package = ".".join(rel[:-1])
        src = [g for g, m in groups.items() if module == m or module.startswith(m + ".")]
        if not src:
            continue
        for imp in _imports(f, package):
            for h, other in groups.items():
                if h != src[0] and (imp == other or imp.startswith(other + ".")):
                    edges[src[0]].add(h)
    return edges


def test_no_import_cycle_between_compile_backends_result_certificates():
    groups = {"compile": "mechopt.compile", "backends": "mechopt.backends", "result": "mechopt.result",
              "certificates": "mechopt.certificates", "recover": "mechopt.recover", "pipeline": "mechopt.pipeline"}
    edges = _group_graph(groups)
    assert edges["compile"] == set(), f"compile/ imports {edges['compile']}"  # no solver, nothing downstream

    def reach(a, seen=None):
        seen = set() if seen is None else seen
        for b in edges[a]:
            if b not in seen:
                seen.add(b)
                reach(b, seen)
        return seen

    cycles = [g for g in groups if g in reach(g)]
    assert not cycles, f"import cycle through {cycles}: {edges}"
    root = Path(mo.__file__).parent
    for f in (root / "compile").glob("*.py"):
        assert "highspy" not in f.read_text(encoding="utf-8"), f"{f.name} imports a solver"


def test_the_import_graph_helper_sees_function_level_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def g():\n    from ..backends import highs\n    from . import border\n")
    assert {"mechopt.backends", "mechopt.compile"} <= _imports(f, "mechopt.compile")
