"""Model files: schema, exact numbers, round trip through save/load, and every bad input."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as st

import mechopt as mo
from mechopt import modelfile as mf
from mechopt.errors import ModelFileError

BASE = """\
title = "test model"
[environment]
kind = "bilateral_trade"
[[agents]]
name = "buyer"
types = { grid = [0, 1, 5] }
[[agents]]
name = "seller"
types = { grid = [0, 1, 5] }
[design]
ic = "bic"
ir = "interim"
budget = "ex_ante"
objective = "welfare"
"""

AGENTS = """\
[[agents]]
name = "buyer"
types = { grid = [0, 1, 5] }
[[agents]]
name = "seller"
types = { grid = [0, 1, 5] }
"""


def write(tmp_path: Path, text: str, name: str = "model.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def exact_equal(a, b) -> bool:
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    return a.shape == b.shape and all(x == y for x, y in zip(a.flat, b.flat))


def assert_same_env(e1: mo.Environment, e2: mo.Environment) -> None:
    assert e1.kind == e2.kind
    assert e1.names == e2.names
    assert e1.outcomes == e2.outcomes
    for a, b in zip(e1.agents, e2.agents):
        assert exact_equal(a.types_exact, b.types_exact)
        assert exact_equal(a.prior_exact, b.prior_exact)
    for i in range(e1.n_agents):
        assert exact_equal(e1.values_exact[i], e2.values_exact[i])
        assert exact_equal(e1.outside_exact[i], e2.outside_exact[i])
    assert exact_equal(e1.cost_exact, e2.cost_exact)
    assert e1.is_independent == e2.is_independent
    assert exact_equal(e1.joint_prior_exact, e2.joint_prior_exact)


def assert_same_design(d1: mo.Design, d2: mo.Design) -> None:
    for k in ("ic", "ir", "budget", "allocation", "objective", "deterministic"):
        assert getattr(d1, k) == getattr(d2, k)


# ----------------------------------------------------------------------------- schema
def test_load_returns_environment_design_metadata(tmp_path):
    env, design, meta = mo.load(write(tmp_path, BASE + '[expected]\nobjective = 0.7\ntolerance = 0.01\nnote = "n"\n'))
    assert isinstance(env, mo.Environment) and isinstance(design, mo.Design)
    assert env.kind == "bilateral_trade" and env.names == ["buyer", "seller"]
    assert (design.ic, design.ir, design.budget, design.objective) == ("bic", "interim", "ex_ante", "welfare")
    assert meta["title"] == "test model" and meta["name"] == "model"
    assert meta["expected"]["objective"] == Fraction(7, 10)
    assert meta["tolerance"] == 0.01 and meta["note"] == "n"


def test_decimals_are_exact(tmp_path):
    text = BASE.replace("{ grid = [0, 1, 5] }", "{ values = [0.1, 0.2, 0.7] }", 1).replace(
        'name = "buyer"', 'name = "buyer"\nprior = { weights = [0.2, 0.3, 0.5] }')
    env, _, _ = mo.load(write(tmp_path, text))
    b = env.agents[0]
    assert list(b.types_exact) == [Fraction(1, 10), Fraction(1, 5), Fraction(7, 10)]
    assert list(b.prior_exact) == [Fraction(1, 5), Fraction(3, 10), Fraction(1, 2)]
    assert list(env.agents[1].types_exact) == list(mo.grid(0, 1, 5))


def test_fraction_strings_and_grid(tmp_path):
    text = BASE.replace("{ grid = [0, 1, 5] }", '{ values = ["1/3", "2/3", 1] }', 1)
    env, _, _ = mo.load(write(tmp_path, text))
    assert list(env.agents[0].types_exact) == [Fraction(1, 3), Fraction(2, 3), Fraction(1)]


def test_defaults(tmp_path):
    text = '[environment]\nkind = "single_item"\n[[agents]]\nname = "b"\ntypes = { grid = [0, 1, 3] }\n'
    env, design, meta = mo.load(write(tmp_path, text))
    assert (design.ic, design.ir, design.budget, design.allocation, design.objective, design.deterministic) == (
        "bic", "interim", "none", "free", "revenue", False)
    assert meta["title"] == "model" and meta["expected"] == {}


def test_dist_types_use_discretize(tmp_path):
    text = BASE.replace("{ grid = [0, 1, 5] }", '{ dist = "beta", a = 2, b = 2, n = 7, method = "quantile" }', 1)
    env, _, _ = mo.load(write(tmp_path, text))
    ref = mo.discretize(st.beta(2, 2), 7, method="quantile")
    np.testing.assert_array_equal(env.agents[0].types, ref.types)
    np.testing.assert_allclose(env.agents[0].prior, ref.prior)
    text = BASE.replace("{ grid = [0, 1, 5] }", '{ dist = "norm", loc = 1, scale = 2, n = 4, support = [-1, 3] }', 1)
    env, _, _ = mo.load(write(tmp_path, text))
    ref = mo.discretize(st.norm(loc=1, scale=2), 4, support=(-1, 3))
    np.testing.assert_array_equal(env.agents[0].types, ref.types)


def test_every_kind(tmp_path):
    single = ('[environment]\nkind = "single_item"\nseller_value = 0.25\n'
              + AGENTS.replace('"buyer"', '"b1"').replace('"seller"', '"b2"'))
    env, _, _ = mo.load(write(tmp_path, single))
    assert env.meta["seller_value"] == Fraction(1, 4)

    part = ('[environment]\nkind = "partnership"\n'
            + AGENTS.replace('name = "buyer"', 'name = "a"\nshare = 0.3')
            .replace('name = "seller"', 'name = "b"\nshare = 0.7'))
    env, _, _ = mo.load(write(tmp_path, part))
    assert [Fraction(x) for x in env.meta["shares"]] == [Fraction(3, 10), Fraction(7, 10)]
    assert env.outside_exact[0][-1] == Fraction(3, 10)

    pub = '[environment]\nkind = "public_project"\ncost = 1.2\n' + AGENTS
    env, _, _ = mo.load(write(tmp_path, pub))
    assert env.cost_exact[1] == Fraction(6, 5)

    multi = ('[environment]\nkind = "multi_item"\nitems = 2\nvaluation = "unit_demand"\n'
             '[[agents]]\nname = "buyer"\ntypes = { values = [[0, 1], [1, 0], [1, 1]] }\n'
             'prior = { weights = [0.25, 0.25, 0.5] }\n')
    env, _, _ = mo.load(write(tmp_path, multi))
    assert env.agents[0].types_exact.shape == (3, 2) and env.meta["valuation"] == "unit_demand"

    table = ('[environment]\nkind = "table"\noutcomes = ["no", "yes"]\ncost = [0, 0.5]\n'
             '[[agents]]\nname = "a"\ntypes = { values = [1, 2] }\nvalues = [[0, 1], [0, 2]]\noutside = 0.1\n')
    env, _, _ = mo.load(write(tmp_path, table))
    assert env.outcomes == ("no", "yes") and env.cost_exact[1] == Fraction(1, 2)
    assert list(env.outside_exact[0]) == [Fraction(1, 10)] * 2


def test_correlated_prior(tmp_path):
    text = BASE.replace("[0, 1, 5]", "[0, 1, 2]") + "[prior]\njoint = [[0.4, 0.1], [0.1, 0.4]]\n"
    env, _, _ = mo.load(write(tmp_path, text))
    assert not env.is_independent
    assert env.joint_prior_exact[0, 0] == Fraction(2, 5)


def test_builtin_names_resolve():
    names = mf.builtin_models()
    assert "bilateral_trade" in names and "myerson_satterthwaite" in names
    for name in names:
        env, design, meta = mo.load(name)
        assert meta["title"] and meta["reference"] and meta["description"], name
        assert meta["expected"], name


def test_grid_override():
    env, _, meta = mo.load("myerson_two_bidders", grid=7)
    assert env.shape == (7, 7) and meta["grid"] == 7
    env, _, _ = mo.load("myerson_beta", grid=5)
    assert env.shape == (5, 5)
    with pytest.raises(ModelFileError, match=r"cremer_mclean.toml: .*--grid"):
        mo.load("cremer_mclean", grid=5)
    with pytest.raises(ModelFileError, match=r"agents\[0\]\.prior\.weights: --grid 5"):
        mo.load("myerson_irregular", grid=5)


# ----------------------------------------------------------------------------- round trip
@pytest.mark.parametrize("name", mf.builtin_models())
def test_round_trip_builtin(name, tmp_path):
    env, design, meta = mo.load(name)
    keep = {k: meta[k] for k in ("title", "reference", "description", "note", "expected") if meta.get(k)}
    path = mo.save(env, design, tmp_path / f"{name}.toml", **keep)
    env2, design2, meta2 = mo.load(path)
    assert_same_env(env, env2)
    assert_same_design(design, design2)
    assert meta2["expected"] == meta["expected"]
    assert meta2["title"] == meta["title"]


def _programmatic_envs():
    g = mo.grid(0, 1, 4)
    b = mo.Agent("buyer", g, prior=[Fraction(1, 10), Fraction(2, 10), Fraction(3, 10), Fraction(4, 10)])
    s = mo.Agent("seller", mo.grid(Fraction(1, 3), 1, 3))
    yield "bilateral", mo.bilateral_trade(b, s)
    yield "single_corr", mo.single_item(
        [mo.Agent("x", [1, 2]), mo.Agent("y", [1, 3])], seller_value=Fraction(1, 7),
        prior=[[Fraction(1, 3), Fraction(1, 6)], [Fraction(1, 6), Fraction(1, 3)]])
    yield "partnership", mo.partnership([mo.Agent("p", g), mo.Agent("q", g), mo.Agent("r", g)],
                                        [Fraction(1, 3)] * 3)
    yield "public", mo.public_project([mo.Agent("c1", g), mo.Agent("c2", g, outside=Fraction(1, 9))], Fraction(5, 4))
    yield "multi", mo.multi_item([mo.Agent("m", mo.grid(0, 1, 3))], items=2, valuation="additive")
    yield "dist", mo.single_item([mo.Agent("d", mo.discretize(st.beta(2, 3), 5))])
    yield "table", mo.Environment(
        [mo.Agent("a", [0, 1]), mo.Agent("b", [2, 5])], ["k1", "k2", "k3"],
        [[[0, 1, 2], [3, 4, 5]], [[1, 1, 1], [0, Fraction(1, 3), 2]]], cost=[0, 1, Fraction(1, 3)])


@pytest.mark.parametrize("label,env", list(_programmatic_envs()), ids=lambda x: x if isinstance(x, str) else "")
def test_round_trip_programmatic(label, env, tmp_path):
    design = mo.Design(env, ic="dsic", ir="ex_post", budget="ex_post", allocation="free", objective="utility",
                       deterministic=True)
    path = mo.save(env, design, tmp_path / "m.toml", title=label, expected={"objective": 0.25, "note": "x"})
    env2, design2, meta = mo.load(path)
    assert_same_env(env, env2)
    assert_same_design(design, design2)
    assert meta["expected"] == {"objective": Fraction(1, 4), "note": "x"}


def test_save_writes_readable_toml(tmp_path):
    env, design, _ = mo.load("bilateral_trade")
    env2 = mo.bilateral_trade(*env.agents)  # not from a file: written from the data
    text = mo.save(env2, design, tmp_path / "x.toml").read_text()
    assert 'types = { grid = [0, 1, 21] }' in text
    assert 'kind = "bilateral_trade"' in text


def test_save_rejects_unknown_metadata(tmp_path):
    env, design, _ = mo.load("bilateral_trade")
    with pytest.raises(ModelFileError, match="unknown metadata"):
        mo.save(env, design, tmp_path / "x.toml", titel="x")


# ----------------------------------------------------------------------------- bad input
def rep(old: str, new: str, count: int = 1) -> str:
    assert old in BASE
    return BASE.replace(old, new, count)


G = "{ grid = [0, 1, 5] }"
BUYER = 'name = "buyer"'
G2 = BASE.replace("[0, 1, 5]", "[0, 1, 2]")

# (case id, model text, key path, words of the fix)
BAD = [
    ("unknown key top", "titel = 'x'\n" + BASE, "titel:", "did you mean 'title'"),
    ("unknown key design", rep('ic = "bic"', 'icc = "bic"'), "design.icc:", "did you mean 'ic'"),
    ("unknown key agent", rep(BUYER, BUYER + "\nshre = 0.5"), "agents[0].shre:", "did you mean 'share'"),
    ("unknown key types", rep(G, "{ grid = [0, 1, 5], m = 3 }"), "agents[0].types.m:", "valid keys here: grid"),
    ("unknown key expected", BASE + "[expected]\nobjectiv = 1\n", "expected.objectiv:", "did you mean 'objective'"),
    ("unknown dist param", rep(G, '{ dist = "beta", a = 2, bb = 2, n = 5 }'), "agents[0].types.bb:",
     "did you mean 'b'"),
    ("unknown option ic", rep('ic = "bic"', 'ic = "bicc"'), "design.ic:", "choose one of dsic, bic, none"),
    ("unknown option kind", rep('kind = "bilateral_trade"', 'kind = "bilateral"'), "environment.kind:",
     "did you mean 'bilateral_trade'"),
    ("unknown status", BASE + '[expected]\nstatus = "infeasable"\n', "expected.status:", "optimal, infeasible"),
    ("unknown prior", rep(BUYER, BUYER + '\nprior = "uniformm"'), "agents[0].prior:", '"uniform"'),
    ("unknown dist", rep(G, '{ dist = "betta", a = 2, b = 2, n = 5 }'), "agents[0].types.dist:",
     "did you mean 'beta'"),
    ("unknown method", rep(G, '{ dist = "beta", a = 2, b = 2, n = 5, method = "mid" }'),
     "agents[0].types.method:", "midpoint, quantile"),
    ("wrong type bool", rep('objective = "welfare"', 'objective = "welfare"\ndeterministic = "yes"'),
     "design.deterministic:", "true or false"),
    ("wrong type string", rep('ic = "bic"', "ic = 3"), "design.ic:", "expected a string"),
    ("wrong type number", rep("[0, 1, 5]", '[0, "a", 5]'), "agents[0].types.grid[1]:", "expected a number"),
    ("wrong type grid n", rep("[0, 1, 5]", "[0, 1, 5.5]"), "agents[0].types.grid[2]:", "integer >= 2"),
    ("wrong type table", "environment = 3\n" + AGENTS, "environment:", "expected a table"),
    ("wrong type agents", "agents = 3\n" + BASE.replace(AGENTS, ""), "agents:", "expected a list"),
    ("wrong type prior", rep(BUYER, BUYER + "\nprior = 3"), "agents[0].prior:", "{ weights = [...] }"),
    ("types a list", rep(G, "[1, 2, 3]"), "agents[0].types:", "{ values = [...] }"),
    ("types two kinds", rep(G, "{ grid = [0, 1, 5], values = [1, 2] }"), "agents[0].types:", "exactly one of"),
    ("missing types", rep("types = " + G + "\n", ""), "agents[0].types:", "missing required key"),
    ("missing environment", BASE.replace('[environment]\nkind = "bilateral_trade"\n', ""), "environment:",
     "missing required key"),
    ("nan", rep("[0, 1, 5]", "[0, nan, 5]"), "agents[0].types.grid[1]:", "finite number"),
    ("inf", rep(G, "{ values = [0, 0.5, inf] }"), "agents[0].types.values[2]:", "finite number"),
    ("-inf share", BASE.replace("bilateral_trade", "partnership").replace(BUYER, BUYER + "\nshare = -inf"),
     "agents[0].share:", "finite number"),
    ("weights negative", rep(BUYER, BUYER + "\nprior = { weights = [0.5, 0.5, 0.2, -0.2, 0] }"),
     "agents[0].prior.weights[3]:", "must be >= 0"),
    ("weights sum", rep(BUYER, BUYER + "\nprior = { weights = [0.5, 0.5, 0.2, 0.2, 0] }"),
     "agents[0].prior.weights:", "sum to 1"),
    ("weights length", rep(BUYER, BUYER + "\nprior = { weights = [0.5, 0.5] }"), "agents[0].prior.weights:",
     "one weight per type"),
    ("joint shape", BASE + "[prior]\njoint = [[0.5, 0.5], [0, 0]]\n", "prior.joint:", "fix the nesting"),
    ("joint sum", G2 + "[prior]\njoint = [[0.5, 0.5], [0.5, 0]]\n", "prior.joint:", "sum to 1"),
    ("joint negative", G2 + "[prior]\njoint = [[0.5, 0.5], [0.5, -0.5]]\n", "prior.joint[1][1]:", ">= 0"),
    ("joint ragged", G2 + "[prior]\njoint = [[0.5, 0.5], [0]]\n", "prior.joint[1]:", "rectangular"),
    ("shares sum", BASE.replace("bilateral_trade", "partnership").replace(BUYER, BUYER + "\nshare = 0.5")
     .replace('name = "seller"', 'name = "seller"\nshare = 0.4'), "agents[*].share:", "sum to 1"),
    ("share missing", BASE.replace("bilateral_trade", "partnership").replace(BUYER, BUYER + "\nshare = 0.5"),
     "agents[1].share:", "add share"),
    ("share wrong kind", rep(BUYER, BUYER + "\nshare = 0.5"), "agents[0].share:", "remove it"),
    ("env key wrong kind", rep('kind = "bilateral_trade"', 'kind = "bilateral_trade"\ncost = 1'),
     "environment.cost:", "remove it"),
    ("public project without cost", rep('kind = "bilateral_trade"', 'kind = "public_project"'),
     "environment.cost:", "add cost"),
    ("table without outcomes", rep('kind = "bilateral_trade"', 'kind = "table"'), "environment.outcomes:", "add it"),
    ("table values shape", rep('kind = "bilateral_trade"', 'kind = "table"\noutcomes = ["a", "b"]')
     .replace(BUYER, BUYER + "\nvalues = [[1, 2]]"), "agents[0].values:", "one row per type"),
    ("three traders", BASE + '[[agents]]\nname = "x"\ntypes = { grid = [0, 1, 5] }\n', "agents:", "exactly 2"),
    ("duplicate names", rep('name = "seller"', BUYER), "agents[1].name:", "own name"),
    ("unsorted types", rep(G, "{ values = [0, 2, 1] }"), "agents[0].types.values:", "sort them"),
    ("grid order", rep("[0, 1, 5]", "[1, 0, 5]"), "agents[0].types.grid:", "lo < hi"),
    ("dist missing parameter", rep(G, '{ dist = "beta", a = 2, n = 5 }'), "agents[0].types:", "add b"),
    ("dist bad parameter", rep(G, '{ dist = "beta", a = -2, b = 2, n = 5 }'), "agents[0].types:",
     "check their ranges"),
    ("dist unbounded", rep(G, '{ dist = "norm", n = 5 }'), "agents[0].types:", "support"),
    ("prior with dist", rep(G, '{ dist = "beta", a = 2, b = 2, n = 5 }\nprior = "uniform"'),
     "agents[0].prior:", "remove prior"),
    ("negative tolerance", BASE + "[expected]\ntolerance = -1\n", "expected.tolerance:", ">= 0"),
    ("no agents", "agents = []\n" + BASE.replace(AGENTS, ""), "agents:", "add at least one"),
]


@pytest.mark.parametrize("case,text,where,fix", BAD, ids=[b[0] for b in BAD])
def test_bad_input_one_line(case, text, where, fix, tmp_path):
    path = write(tmp_path, text, "bad.toml")
    with pytest.raises(ModelFileError) as info:
        mo.load(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: "), msg
    assert f" {where}" in msg, msg
    assert fix in msg, msg


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        mo.load(tmp_path / "nope.toml")
    with pytest.raises(ModelFileError, match="did you mean 'bilateral_trade'"):
        mo.load("bilateral_trad")


def test_not_toml(tmp_path):
    path = write(tmp_path, BASE + "this is not toml\n")
    with pytest.raises(ModelFileError, match=r"model.toml: not valid TOML: .*line 15"):
        mo.load(path)


def test_directory_is_not_a_model(tmp_path):
    with pytest.raises(ModelFileError, match="is not a file"):
        mo.load(tmp_path)


def test_bad_grid_argument():
    with pytest.raises(ModelFileError, match="--grid"):
        mo.load("bilateral_trade", grid=1)


# ----------------------------------------------------------------------------- exact inputs: one conversion
def _lp_data(design: mo.Design):
    lp = design.compile()
    return lp.A.tocsr(), np.asarray(lp.rhs, float), np.asarray(lp.c, float), lp.reductions, lp.sizes


def test_float_and_fraction_inputs_give_the_same_lp():
    """Issue 9: types typed as Python floats must give the LP of the exact grid (adjacent IC included).

    Values are affine in the type (single item), so adjacent IC implies all IC
    (Myerson 1981); the reduction must apply to the float input as well.
    """
    g = mo.grid(1, 2, 51)
    floats = np.array(g, dtype=float)
    assert isinstance(floats[1], np.floating) and floats[1] == 1.02
    env_f = mo.single_item([mo.Agent("a", floats), mo.Agent("b", [float(x) for x in g])])
    env_q = mo.single_item([mo.Agent("a", g), mo.Agent("b", g)])
    for a_f, a_q in zip(env_f.agents, env_q.agents):
        assert exact_equal(a_f.types_exact, a_q.types_exact)
        assert a_f.types_exact[1] == Fraction(51, 50)
    for kw in ({"ic": "bic", "ir": "interim"}, {"ic": "dsic", "ir": "ex_post"}):
        A_f, b_f, c_f, red_f, size_f = _lp_data(mo.Design(env_f, **kw))
        A_q, b_q, c_q, red_q, size_q = _lp_data(mo.Design(env_q, **kw))
        assert red_f == red_q
        assert red_f["ic"] == {"a": "adjacent", "b": "adjacent"}
        assert size_f == size_q
        assert A_f.shape == A_q.shape and (A_f != A_q).nnz == 0
        assert np.array_equal(b_f, b_q) and np.array_equal(c_f, c_q)


def test_float_prior_and_values_are_the_decimals_typed():
    b = mo.Agent("buyer", [0.1, 0.2, 0.3], prior=[0.2, 0.3, 0.5])
    assert list(b.types_exact) == [Fraction(1, 10), Fraction(1, 5), Fraction(3, 10)]
    assert list(b.prior_exact) == [Fraction(1, 5), Fraction(3, 10), Fraction(1, 2)]
    env = mo.public_project([b, mo.Agent("c", np.array([0.25, 0.7], dtype=np.float32))], cost=0.3)
    assert env.meta["cost"] == Fraction(3, 10)
    assert list(env.agents[1].types_exact) == [Fraction(1, 4), Fraction(7, 10)]  # float32 prints 0.7 too


def test_save_writes_what_the_user_typed(tmp_path):
    b = mo.Agent("buyer", [0.1, 0.3, 0.7], prior=[0.2, 0.3, 0.5])
    s = mo.Agent("seller", [0.0, 0.25])
    text = mo.save(mo.bilateral_trade(b, s), None, tmp_path / "m.toml").read_text()
    assert "values = [0.1, 0.3, 0.7]" in text
    assert "weights = [0.2, 0.3, 0.5]" in text
    assert "/" not in text  # no "5404319552844595/18014398509481984"
    env2, _, _ = mo.load(tmp_path / "m.toml")
    assert list(env2.agents[0].types_exact) == [Fraction(1, 10), Fraction(3, 10), Fraction(7, 10)]


@pytest.mark.parametrize("bad,word", [
    (float("nan"), "finite"), (float("inf"), "finite"), (-float("inf"), "finite"), (True, "boolean"),
    ("1e400", "too large"), (10**400, "too large"), ("abc", "must be a number"), (None, "finite number"),
])
def test_to_fraction_rejects_with_the_quantity_named(bad, word):
    from mechopt.exact import to_fraction

    with pytest.raises(mo.SpecError, match=word) as info:
        to_fraction(bad, "cost of the project")
    assert str(info.value).startswith("cost of the project ")
    with pytest.raises(mo.SpecError):
        mo.public_project([mo.Agent("a", [0, 1])], cost=bad)


def test_to_fraction_examples():
    from decimal import Decimal

    from mechopt.exact import to_fraction

    assert to_fraction(0.3) == Fraction(3, 10)
    assert to_fraction(np.float64(0.1)) == Fraction(1, 10)
    assert to_fraction(np.float32(0.3)) == Fraction(3, 10)
    assert to_fraction("1/3") == Fraction(1, 3)
    assert to_fraction(Decimal("0.30")) == Fraction(3, 10)
    assert to_fraction(1e-300) == Fraction(1, 10**300)
    assert to_fraction(2.5e300) == 25 * 10**299


def test_float_to_fraction_round_trips_property():
    """A float becomes the decimal it prints as, and that decimal's float64 is the same float (repr round trip)."""
    from hypothesis import event, given, settings
    from hypothesis import strategies as hs

    from mechopt.exact import to_fraction

    @settings(max_examples=300, deadline=None)
    @given(hs.floats(allow_nan=False, allow_infinity=False))
    def check(x):
        q = to_fraction(x)
        event(f"magnitude 1e{int(np.floor(np.log10(abs(x)))) // 100 * 100 if x else 'zero'}")
        assert float(q) == x
        assert q == Fraction(repr(x))
        assert len(str(q.denominator)) <= 330

    check()


# ----------------------------------------------------------------------------- schema (mechopt schema)
def test_schema_options_are_literals():
    from mechopt.design import OPTIONS

    schema = mf.json_schema()
    design = schema["$defs"]["DesignSpec"]["properties"]
    assert design["ic"]["enum"] == ["dsic", "bic", "none", "ex_post"]
    for key, valid in OPTIONS.items():
        assert design[key]["enum"] == list(valid), key
    assert design["deterministic"]["type"] == "boolean"
    env = schema["$defs"]["EnvironmentSpec"]["properties"]
    assert env["kind"]["enum"] == list(mf.KINDS)
    assert schema["$defs"]["DesignSpec"]["additionalProperties"] is False
    assert schema["$defs"]["DistTypes"]["additionalProperties"] is True  # distribution parameters
    assert set(schema["required"]) == {"environment", "agents"}


@pytest.mark.parametrize("name", mf.builtin_models())
def test_every_builtin_model_validates_through_pydantic(name):
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    from decimal import Decimal

    data = tomllib.loads(mf.model_path(name).read_text(encoding="utf-8"), parse_float=Decimal)
    spec = mf.ModelSpec.model_validate(data)
    assert spec.environment.kind in mf.KINDS
    assert len(spec.agents) == len(data["agents"])


def test_builtin_models_live_in_top_level_models_folder():
    root = Path(__file__).resolve().parents[1]
    names = sorted(p.stem for p in (root / "models").glob("*.toml"))
    assert names == mf.builtin_models() and len(names) >= 10
    assert mf.model_path("bilateral_trade").parent.resolve() == (root / "models").resolve()


# ----------------------------------------------------------------------------- several problems, BOM
def test_all_problems_reported_in_one_line(tmp_path):
    text = ("titel = 'x'\n" + BASE).replace('ic = "bic"', 'ic = "bicc"').replace("[0, 1, 5]", '[0, "a", 5]', 1)
    text = text.replace('objective = "welfare"', 'objective = "welfare"\ndeterministic = "yes"')
    with pytest.raises(ModelFileError) as info:
        mo.load(write(tmp_path, text, "bad.toml"))
    msg = str(info.value)
    assert "\n" not in msg and "4 problems" in msg, msg
    for where in ("titel:", "design.ic:", "agents[0].types.grid[1]:", "design.deterministic:"):
        assert where in msg, msg
    assert "did you mean 'title'" in msg and "did you mean 'bic'" in msg
    assert len(info.value.problems) == 4


def test_at_most_ten_problems_listed(tmp_path):
    extra = "".join(f"bad{j} = 1\n" for j in range(14))
    with pytest.raises(ModelFileError) as info:
        mo.load(write(tmp_path, extra + BASE, "bad.toml"))
    msg = str(info.value)
    assert "14 problems (and 4 more)" in msg and "(10) " in msg and "(11) " not in msg
    assert len(info.value.problems) == 10


def test_utf8_bom_accepted(tmp_path):
    p = tmp_path / "bom.toml"
    p.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    env, design, meta = mo.load(p)
    assert meta["title"] == "test model" and env.kind == "bilateral_trade"


@pytest.mark.parametrize("text,fix", [
    (BASE.replace("[0, 1, 5]", "[0, 1e400, 5]", 1), "too large"),
    (BASE.replace("[0, 1, 5]", "[0, 1e-400, 5]", 1), "too small"),
    (BASE + "[prior]\njoint = " + "[" * 400 + "1" + "]" * 400 + "\n", "nested more than 32 levels"),
    (BASE + "[prior]\njoint = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    (BASE.replace("[0, 1, 5]", "[true, 1, 5]", 1), "expected a number, got a boolean"),
], ids=["1e400", "1e-400", "nested 400", "nested 5000", "boolean"])
def test_hostile_numbers(tmp_path, text, fix):
    with pytest.raises(ModelFileError, match=fix) as info:
        mo.load(write(tmp_path, text, "bad.toml"))
    assert "\n" not in str(info.value)


def test_problems_in_several_agents_reported_together(tmp_path):
    text = (BASE.replace(BUYER, BUYER + "\nshare = 0.5\nprior = { weights = [0.5, 0.5] }")
            .replace('types = { grid = [0, 1, 5] }\n[design]', 'types = { values = [0, 2, 1] }\n[design]')
            .replace('kind = "bilateral_trade"', 'kind = "bilateral_trade"\ncost = 1'))
    with pytest.raises(ModelFileError) as info:
        mo.load(write(tmp_path, text, "bad.toml"))
    msg = str(info.value)
    assert "3 problems" in msg and "\n" not in msg, msg
    for where, fix in (("environment.cost:", "remove it"), ("agents[0].share:", "remove it"),
                       ("agents[1].types.values:", "sort them")):
        assert f" {where} " in msg and fix in msg, msg


def test_save_quotes_any_text(tmp_path):
    """Strings go through tomli-w: quotes, backslashes, newlines, control and non-ASCII characters survive."""
    env, design, _ = mo.load("bilateral_trade")
    title = 'He said "1/3"\\n\ttab\x7f é — ∞\nsecond line'
    path = mo.save(env, design, tmp_path / "q.toml", title=title, note="a\\b", expected={"note": "'single'"})
    _, _, meta = mo.load(path)
    assert meta["title"] == title and meta["note"] == "a\\b" and meta["expected"]["note"] == "'single'"


@pytest.mark.parametrize("call", [
    lambda p: mo.load(123), lambda p: mo.load(None), lambda p: mo.load("x" * 300), lambda p: mo.load("a\0b"),
    lambda p: mo.load("bilateral_trade", grid=True), lambda p: mo.load("bilateral_trade", grid=1.5),
    lambda p: mo.save(1, None, p / "x.toml"), lambda p: mo.save(mo.load("bilateral_trade")[0], None, 5),
    lambda p: mo.save(mo.load("bilateral_trade")[0], "bic", p / "x.toml"),
    lambda p: mo.save(mo.load("bilateral_trade")[0], None, p / "missing_dir" / "x.toml"),
], ids=["int", "None", "long name", "NUL", "grid bool", "grid float", "save env", "save path", "save design",
        "save dir"])
def test_bad_api_calls_raise_model_file_errors(call, tmp_path):
    with pytest.raises(ModelFileError) as info:
        call(tmp_path)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400
