"""Bad API calls: every one raises a ``mechopt.errors.MechoptError`` with a one-line message
naming the argument (never TypeError, ValueError, OverflowError, MemoryError, DCPError, …).

Each row is (id, call, word the message must contain).  ``SpecError`` subclasses ValueError,
so ``except ValueError`` code keeps working; that is asserted too.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

import mechopt as mo


def A(name="a", types=(0, 1)):  # noqa: N802 - short helper for the table
    return mo.Agent(name, list(types))
def env2():
    return mo.single_item([A("a"), A("b")])
def design():
    return mo.Design(env2(), ic="dsic", ir="ex_post")
def cvx_design():
    return mo.Design(mo.bilateral_trade(A("b"), A("s")), ic="bic", ir="interim")

def deep(n):
    x = 1
    for _ in range(n):
        x = [x]
    return x

CASES = [
    # Agent
    ("agent-name-int", lambda: mo.Agent(3, [0, 1]), "name"),
    ("agent-name-empty", lambda: mo.Agent("  ", [0, 1]), "name"),
    ("agent-name-none", lambda: mo.Agent(None, [0, 1]), "name"),
    ("agent-types-empty", lambda: mo.Agent("a", []), "types"),
    ("agent-types-none", lambda: mo.Agent("a", None), "types"),
    ("agent-types-str", lambda: mo.Agent("a", "abc"), "types"),
    ("agent-types-nan", lambda: mo.Agent("a", [0, float("nan")]), "types"),
    ("agent-types-inf", lambda: mo.Agent("a", [0, float("inf")]), "types"),
    ("agent-types-1e400", lambda: mo.Agent("a", [0, 1e400]), "types"),
    ("agent-types-strnum-1e400", lambda: mo.Agent("a", [0, "1e400"]), "types"),
    ("agent-types-decreasing", lambda: mo.Agent("a", [1, 0]), "increasing"),
    ("agent-types-duplicate", lambda: mo.Agent("a", [0, 0, 1]), "increasing"),
    ("agent-types-ragged", lambda: mo.Agent("a", [[0, 1], [2]]), "types"),
    ("agent-types-3d", lambda: mo.Agent("a", [[[0]]]), "types"),
    ("agent-types-deep", lambda: mo.Agent("a", deep(50)), "types"),
    ("agent-types-deep-100", lambda: mo.Agent("a", [deep(100)]), "types"),
    ("agent-types-bool", lambda: mo.Agent("a", [True, False]), "types"),
    ("agent-types-dict", lambda: mo.Agent("a", {"x": 1}), "types"),
    ("agent-types-complex", lambda: mo.Agent("a", [0, 1j]), "types"),
    ("agent-types-object", lambda: mo.Agent("a", [object(), 1]), "types"),
    ("agent-types-dup-vectors", lambda: mo.Agent("a", [[0, 1], [0, 1]]), "duplicate"),
    ("agent-types-scalar", lambda: mo.Agent("a", 5), "types"),
    ("agent-prior-negative", lambda: mo.Agent("a", [0, 1], prior=[1.5, -0.5]), "prior"),
    ("agent-prior-sum", lambda: mo.Agent("a", [0, 1], prior=[0.3, 0.3]), "prior"),
    ("agent-prior-shape", lambda: mo.Agent("a", [0, 1], prior=[1.0]), "prior"),
    ("agent-prior-nan", lambda: mo.Agent("a", [0, 1], prior=[float("nan"), 1]), "prior"),
    ("agent-prior-str", lambda: mo.Agent("a", [0, 1], prior="uniform"), "prior"),
    ("agent-prior-2d", lambda: mo.Agent("a", [0, 1], prior=[[0.5, 0.5]]), "prior"),
    ("agent-prior-inf", lambda: mo.Agent("a", [0, 1], prior=[float("inf"), 0]), "prior"),
    ("agent-prior-1e400", lambda: mo.Agent("a", [0, 1], prior=[1e400, 1]), "prior"),
    ("agent-outside-shape", lambda: mo.Agent("a", [0, 1], outside=[0, 1, 2]), "outside"),
    ("agent-outside-nan", lambda: mo.Agent("a", [0, 1], outside=float("nan")), "outside"),
    ("agent-outside-str", lambda: mo.Agent("a", [0, 1], outside="zero"), "outside"),
    ("agent-outside-2d", lambda: mo.Agent("a", [0, 1], outside=[[0, 1]]), "outside"),
    # grid
    ("grid-n-zero", lambda: mo.grid(0, 1, 0), "n"),
    ("grid-n-float", lambda: mo.grid(0, 1, 2.5), "n"),
    ("grid-n-str", lambda: mo.grid(0, 1, "5"), "n"),
    ("grid-n-bool", lambda: mo.grid(0, 1, True), "n"),
    ("grid-lo-ge-hi", lambda: mo.grid(1, 0, 3), "lo"),
    ("grid-lo-nan", lambda: mo.grid(float("nan"), 1, 3), "lower"),
    ("grid-hi-inf", lambda: mo.grid(0, float("inf"), 3), "upper"),
    ("grid-hi-1e400", lambda: mo.grid(0, 1e400, 3), "upper"),
    ("grid-lo-str", lambda: mo.grid("zero", 1, 3), "lower"),
    ("grid-lo-none", lambda: mo.grid(None, 1, 3), "lower"),
    ("grid-n-huge", lambda: mo.grid(0, 1, 10 ** 12), "n"),
    ("grid-n-negative", lambda: mo.grid(0, 1, -3), "n"),
    # discretize
    ("discretize-not-dist", lambda: mo.discretize("beta", 5), "distribution"),
    ("discretize-n-zero", lambda: mo.discretize(scipy.stats.uniform(), 0), "n"),
    ("discretize-n-float", lambda: mo.discretize(scipy.stats.uniform(), 2.5), "n"),
    ("discretize-method", lambda: mo.discretize(scipy.stats.uniform(), 5, method="nearest"), "method"),
    ("discretize-unbounded", lambda: mo.discretize(scipy.stats.norm(), 5), "support"),
    ("discretize-support-order", lambda: mo.discretize(scipy.stats.norm(), 5, support=(1, 0)), "support"),
    ("discretize-support-shape", lambda: mo.discretize(scipy.stats.norm(), 5, support=(1,)), "support"),
    ("discretize-support-str", lambda: mo.discretize(scipy.stats.norm(), 5, support=("a", "b")), "support"),
    ("discretize-support-nan", lambda: mo.discretize(scipy.stats.norm(), 5, support=(float("nan"), 1)), "support"),
    ("discretize-no-mass", lambda: mo.discretize(scipy.stats.uniform(5, 1), 5, support=(0, 1)), "mass"),
    ("discretize-n-huge", lambda: mo.discretize(scipy.stats.uniform(), 10 ** 12), "n"),
    # builders
    ("single-item-empty", lambda: mo.single_item([]), "Agent"),
    ("single-item-not-agents", lambda: mo.single_item(["a", "b"]), "Agent"),
    ("single-item-agent-not-list", lambda: mo.single_item(A()), "Agent"),
    ("single-item-vector-types", lambda: mo.single_item([mo.Agent("a", [[0, 1], [1, 0]])]), "vector"),
    ("single-item-seller-nan", lambda: mo.single_item([A()], seller_value=float("nan")), "seller_value"),
    ("single-item-seller-str", lambda: mo.single_item([A()], seller_value="x"), "seller_value"),
    ("single-item-dup-names", lambda: mo.single_item([A("a"), A("a")]), "unique"),
    ("single-item-prior-shape", lambda: mo.single_item([A("a"), A("b")], prior=[0.5, 0.5]), "prior"),
    ("single-item-prior-neg", lambda: mo.single_item([A("a"), A("b")], prior=[[1, -1], [0.5, 0.5]]), "prior"),
    ("bilateral-one-agent", lambda: mo.bilateral_trade(A("b")), "seller"),
    ("bilateral-not-agent", lambda: mo.bilateral_trade(A("b"), 3), "Agent"),
    ("bilateral-same-name", lambda: mo.bilateral_trade(A("x"), A("x")), "unique"),
    ("partnership-shares-len", lambda: mo.partnership([A("a"), A("b")], [1]), "shares"),
    ("partnership-shares-neg", lambda: mo.partnership([A("a"), A("b")], [1.5, -0.5]), "shares"),
    ("partnership-shares-sum", lambda: mo.partnership([A("a"), A("b")], [0.2, 0.2]), "shares"),
    ("partnership-shares-str", lambda: mo.partnership([A("a"), A("b")], "half"), "shares"),
    ("partnership-shares-none", lambda: mo.partnership([A("a"), A("b")], None), "shares"),
    ("partnership-shares-zero", lambda: mo.partnership([A("a"), A("b")], [0, 0]), "shares"),
    ("public-project-cost-nan", lambda: mo.public_project([A()], cost=float("nan")), "cost"),
    ("public-project-cost-list", lambda: mo.public_project([A()], cost=[1, 2]), "cost"),
    ("public-project-cost-missing", lambda: mo.public_project([A()]), "cost"),
    ("multi-item-items-zero", lambda: mo.multi_item([A()], items=0), "items"),
    ("multi-item-items-float", lambda: mo.multi_item([A()], items=1.5), "items"),
    ("multi-item-valuation", lambda: mo.multi_item([A()], valuation="max"), "valuation"),
    ("multi-item-vector-length", lambda: mo.multi_item([mo.Agent("a", [[0, 1, 2]])], items=2), "items"),
    ("multi-item-huge", lambda: mo.multi_item([mo.Agent("a", mo.grid(0, 1, 100))], items=8), "items"),
    ("multi-item-outside-varies", lambda: mo.multi_item([mo.Agent("a", [0, 1], outside=[0, 1])]), "outside"),
    # Environment
    ("env-no-agents", lambda: mo.Environment([], ["x"], []), "Agent"),
    ("env-agents-not-list", lambda: mo.Environment(A(), ["x"], [[[0], [1]]]), "Agent"),
    ("env-no-outcomes", lambda: mo.Environment([A()], [], [[[], []]]), "outcome"),
    ("env-outcomes-dup", lambda: mo.Environment([A()], ["x", "x"], [[[0, 0], [1, 1]]]), "outcome"),
    ("env-outcomes-str", lambda: mo.Environment([A()], "xy", [[[0, 0], [1, 1]]]), "outcome"),
    ("env-values-shape", lambda: mo.Environment([A()], ["x", "y"], [[[0, 1]]]), "values"),
    ("env-values-count",
     lambda: mo.Environment([A()], ["x", "y"], [[[0, 1], [1, 0]], [[0, 1], [1, 0]]]),
     "value table"),
    ("env-values-nan", lambda: mo.Environment([A()], ["x", "y"], [[[0, float("nan")], [1, 0]]]), "values"),
    ("env-values-missing-dict", lambda: mo.Environment([A()], ["x", "y"], {"b": [[0, 1], [1, 0]]}), "values"),
    ("env-values-none", lambda: mo.Environment([A()], ["x", "y"], None), "values"),
    ("env-values-ragged", lambda: mo.Environment([A()], ["x", "y"], [[[0, 1], [1]]]), "values"),
    ("env-cost-shape", lambda: mo.Environment([A()], ["x", "y"], [[[0, 1], [1, 0]]], cost=[1, 2, 3]), "cost"),
    ("env-cost-str", lambda: mo.Environment([A()], ["x", "y"], [[[0, 1], [1, 0]]], cost="free"), "cost"),
    ("env-prior-shape", lambda: mo.Environment([A()], ["x", "y"], [[[0, 1], [1, 0]]], prior=[1.0]), "prior"),
    ("env-prior-sum", lambda: mo.Environment([A()], ["x", "y"], [[[0, 1], [1, 0]]], prior=[0.2, 0.2]), "prior"),
    # Design
    ("design-env-none", lambda: mo.Design(None), "Environment"),
    ("design-env-agent", lambda: mo.Design(A()), "Environment"),
    ("design-ic", lambda: mo.Design(env2(), ic="DSIC!"), "ic"),
    ("design-ir", lambda: mo.Design(env2(), ir="always"), "ir"),
    ("design-budget", lambda: mo.Design(env2(), budget=0), "budget"),
    ("design-allocation", lambda: mo.Design(env2(), allocation="fair"), "allocation"),
    ("design-objective", lambda: mo.Design(env2(), objective="profit"), "objective"),
    ("design-objective-list", lambda: mo.Design(env2(), objective=["revenue"]), "objective"),
    ("design-deterministic", lambda: mo.Design(env2(), deterministic="yes"), "deterministic"),
    ("design-ic-none-value", lambda: mo.Design(env2(), ic=None), "ic"),
    ("design-unknown-kw", lambda: mo.Design(env2(), fairness=True), "fairness"),
    ("design-replace-unknown", lambda: design().replace(icc="bic"), "icc"),
    ("design-replace-bad", lambda: design().replace(ic="maybe"), "ic"),
    # solve options
    ("solve-backend", lambda: design().solve(backend="gurobi"), "backend"),
    ("solve-backend-int", lambda: design().solve(backend=3), "backend"),
    ("solve-option-unknown", lambda: design().solve(foo_option=1), "foo_option"),
    ("solve-time-limit-neg", lambda: design().solve(time_limit=-1), "time_limit"),
    ("solve-time-limit-str", lambda: design().solve(time_limit="soon"), "time_limit"),
    ("solve-threads-float", lambda: design().solve(threads=1.5), "threads"),
    ("solve-verbose-str", lambda: design().solve(verbose="loud"), "verbose"),
    ("solve-cvxpy-option-unknown", lambda: design().solve(backend="cvxpy", foo_option=1), "foo_option"),
    ("solve-cvxpy-constraints-not-callable",
     lambda: cvx_design().solve(backend="cvxpy", constraints=[1]),
     "constraints"),
    ("solve-cvxpy-constraints-bad-return",
     lambda: cvx_design().solve(backend="cvxpy", constraints=lambda m: [1]),
     "constraints"),
    ("solve-cvxpy-objective-not-callable",
     lambda: cvx_design().solve(backend="cvxpy", objective="welfare"),
     "objective"),
    ("solve-cvxpy-objective-nonlinear",
     lambda: cvx_design().solve(backend="cvxpy", objective=lambda m: m.revenue ** 2),
     "objective"),
    ("solve-cvxpy-objective-vector", lambda: cvx_design().solve(backend="cvxpy", objective=lambda m: m.x), "objective"),
    ("solve-cvxpy-objective-raises",
     lambda: cvx_design().solve(backend="cvxpy", objective=lambda m: m.nothing),
     "objective"),
    ("solve-cvxpy-constraint-nonconvex",
     lambda: cvx_design().solve(backend="cvxpy", constraints=lambda m: [m.revenue ** 2 >= 1]),
     "constraints"),
    ("solve-border-forced", lambda: mo.Design(mo.bilateral_trade(A("b"), A("s"))).solve(border=True), "Border"),
    ("solve-ic-generation-str", lambda: design().solve(ic_generation="yes"), "ic_generation"),
    ("solve-certify-str", lambda: design().solve(certify="yes"), "certify"),
    # Mechanism
    ("mechanism-shape-x", lambda: mo.Mechanism(env2(), np.zeros((3, 3)), np.zeros((4, 2))), "allocation"),
    ("mechanism-shape-p", lambda: mo.Mechanism(env2(), np.zeros((4, 3)), np.zeros((4, 3))), "payments"),
    ("mechanism-env", lambda: mo.Mechanism(None, np.zeros((4, 3)), np.zeros((4, 2))), "Environment"),
    ("mechanism-x-str", lambda: mo.Mechanism(env2(), "abc", np.zeros((4, 2))), "allocation"),
    ("mechanism-x-none", lambda: mo.Mechanism(env2(), None, np.zeros((4, 2))), "allocation"),
    ("mechanism-p-ragged", lambda: mo.Mechanism(env2(), np.zeros((4, 3)), [[0, 1], [2]]), "payments"),
    ("mechanism-check-design",
     lambda: mo.Mechanism(env2(), np.zeros((4, 3)), np.zeros((4, 2))).check("dsic"),
     "design"),
]


@pytest.mark.parametrize("call, word", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_call_raises_a_mechopt_error(call, word):
    with pytest.raises(mo.MechoptError) as info:
        call()
    message = str(info.value)
    assert word.lower() in message.lower(), message
    assert "\n" not in message and 0 < len(message) < 400, message


def test_table_is_large_and_ids_unique():
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES)


def test_spec_errors_are_value_errors():
    with pytest.raises(ValueError):
        mo.grid(1, 0, 3)
    with pytest.raises(ValueError):
        mo.Design(mo.single_item([mo.Agent("a", [0, 1])]), ic="maybe")


def test_large_grids_still_work():
    """The new bounds refuse absurd sizes only: 100,000 points (issue 10's --grid case) still build."""
    g = mo.grid(0, 1, 100_000)
    assert g[1] == mo.grid(0, 1, 100_000)[1] and float(g[-1]) == 1.0 and len(g) == 100_000
