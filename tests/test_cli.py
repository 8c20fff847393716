"""The `mechopt` command: JSON contract, human report, --out, list/show, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mechopt import cli, modelfile

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
TOP_KEYS = {"model", "status", "objective", "metrics", "verification", "solver"}
CERT_KEYS = {"kind", "verified", "exact", "weight_by_family"}


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, "solve", *argv, "--json", "--quiet")
    assert code == 0, err
    assert err == ""
    return json.loads(out)


# ----------------------------------------------------------------------------- JSON contract
def test_json_optimal_field_by_field(capsys):
    d = run_json(capsys, "myerson_two_bidders")
    assert set(d) == TOP_KEYS | {"expected"}  # no certificate without --certify; the file has [expected]
    assert d["model"] == "myerson_two_bidders"
    assert d["status"] == "optimal"
    assert d["objective"] == pytest.approx(55 / 126, abs=1e-9)
    assert set(d["metrics"]) == {"revenue", "welfare"}
    assert d["metrics"]["revenue"] == pytest.approx(55 / 126, abs=1e-9)
    assert isinstance(d["metrics"]["welfare"], float)
    assert set(d["verification"]) == {"ok", "max_violation"}
    assert d["verification"]["ok"] is True
    assert {"ic", "ir"} <= set(d["verification"]["max_violation"])
    assert all(isinstance(v, float) for v in d["verification"]["max_violation"].values())
    assert set(d["solver"]) == {"name", "seconds"}
    assert d["solver"]["name"] == "highs" and d["solver"]["seconds"] >= 0


def test_json_infeasible_has_certificate(capsys):
    d = run_json(capsys, "myerson_satterthwaite")
    assert d["status"] == "infeasible"
    assert d["objective"] is None
    assert d["metrics"] == {"revenue": None, "welfare": None}
    assert d["verification"]["ok"] is False
    c = d["certificate"]
    assert set(c) == CERT_KEYS
    assert c["kind"] == "infeasibility" and c["verified"] is True and c["exact"] is True
    assert sum(c["weight_by_family"].values()) == pytest.approx(1)
    assert {"ic", "ir", "budget"} <= set(c["weight_by_family"])
    assert list(d) == ["model", "status", "objective", "metrics", "verification", "certificate", "solver", "expected"]
    assert d["expected"]["status"] == "infeasible" and d["expected"]["matches"] is True


def test_json_certify_optimum(capsys):
    d = run_json(capsys, "myerson_two_bidders", "--certify")
    assert set(d["certificate"]) == CERT_KEYS
    assert d["certificate"]["kind"] == "optimality" and d["certificate"]["verified"] is True


def test_grid_option(capsys):
    d = run_json(capsys, "myerson_two_bidders", "--grid", "11")
    assert d["objective"] == pytest.approx(5 / 11, abs=1e-9)


def test_model_given_as_path(capsys, tmp_path):
    src = modelfile.model_path("green_laffont")
    dst = tmp_path / "gl.toml"
    dst.write_text(src.read_text())
    d = run_json(capsys, str(dst))
    assert d["model"] == "gl" and d["status"] == "infeasible"


# ----------------------------------------------------------------------------- human output
def test_human_report(capsys):
    code, out, err = run(capsys, "solve", "myerson_two_bidders")
    assert code == 0
    assert "Optimal auction, two symmetric bidders" in out
    assert "status       optimal" in out
    assert "55/126 = 0.436508" in out and "within" in out
    assert "continuum    5/12" in out
    assert "verified     yes" in out
    assert "P(win)" in out and "payment" in out
    # progress on stderr, one line per stage
    for stage in ("compile", "solve", "verify"):
        assert f"mechopt: {stage}" in err


def test_human_report_infeasible(capsys):
    code, out, err = run(capsys, "solve", "green_laffont", "--quiet")
    assert code == 0 and err == ""
    assert "status       infeasible" in out
    assert "expected     status infeasible: matches" in out
    assert "certificate  infeasibility, verified" in out


def test_quiet_silences_progress(capsys):
    code, out, err = run(capsys, "solve", "cremer_mclean", "-q")
    assert code == 0 and err == ""


def test_out_dir(capsys, tmp_path):
    code, out, err = run(capsys, "solve", "bilateral_trade", "--out", str(tmp_path / "res"), "--json", "-q")
    assert code == 0
    res = tmp_path / "res"
    written = json.loads((res / "result.json").read_text())
    printed = json.loads(out)
    assert written == printed
    for f in ("allocation.csv", "payments.csv", "interim_buyer.csv", "interim_seller.csv"):
        assert (res / f).stat().st_size > 0, f
    assert (res / "interim_buyer.csv").read_text().splitlines()[0] == "buyer,quantity,outcome,value"


def test_report_and_out_dir_for_a_rule_without_a_table(capsys, tmp_path):
    """Three identical bidders x two items (1.77 M profiles): the mechanism is an item rule, so the report
    and --out use its interim tables (no allocation.csv / payments.csv over the profiles)."""
    text = (ROOT / "models" / "two_bidders_two_items.toml").read_text(encoding="utf-8")
    text = text.replace("[design]", '[[agents]]\nname = "b3"\ntypes = { grid = [0, 1, 11] }\n\n[design]')
    text = text[: text.index("[expected]")]
    model = tmp_path / "three.toml"
    model.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "solve", str(model), "--quiet", "--out", str(tmp_path / "res"))
    assert code == 0, err
    assert "P(item 1)" in out and "verified     yes" in out
    res = tmp_path / "res"
    assert not (res / "allocation.csv").exists()
    head = (res / "interim_b3.csv").read_text().splitlines()
    assert head[0] == "b3[1],b3[2],quantity,outcome,value" and ",allocation,item 1," in head[1]


# ----------------------------------------------------------------------------- list / show
def test_list(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    for name in modelfile.builtin_models():
        assert name in out
    assert "Myerson-Satterthwaite impossibility" in out


def test_show(capsys):
    code, out, _ = run(capsys, "show", "bilateral_trade")
    assert code == 0
    data = tomllib.loads(out)
    assert data["environment"]["kind"] == "bilateral_trade"


# ----------------------------------------------------------------------------- exit codes
def bad_run(capsys, *argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_exit_2_missing_model(capsys):
    line = bad_run(capsys, "solve", "no_such_model")
    assert "no_such_model" in line and "mechopt list" in line


def test_exit_2_bad_file(capsys, tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text(modelfile.model_path("bilateral_trade").read_text().replace('ic = "bic"', 'ic = "bicc"'))
    line = bad_run(capsys, "solve", str(p), "--json")
    assert str(p) in line and "design.ic" in line and "did you mean 'bic'" in line
    p.write_text("[[[ not toml")
    line = bad_run(capsys, "solve", str(p))
    assert "not valid TOML" in line


def test_exit_2_bad_arguments(capsys):
    assert "--grid" in bad_run(capsys, "solve", "bilateral_trade", "--grid", "1")
    assert "invalid choice" in bad_run(capsys, "solvee", "bilateral_trade")
    assert "whole number" in bad_run(capsys, "solve", "bilateral_trade", "--grid", "many")
    assert "--grid" in bad_run(capsys, "solve", "cremer_mclean", "--grid", "5")
    assert "no such model" in bad_run(capsys, "show", "nothing_here")


def test_exit_1_internal_failure(capsys, monkeypatch):
    from mechopt.backends import highs

    def boom(*a, **k):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(highs, "solve", boom)
    code, out, err = run(capsys, "solve", "bilateral_trade", "-q")
    assert code == 1
    assert "internal error" in err and "solver exploded" in err and "Traceback" not in err


# ----------------------------------------------------------------------------- as a process
def _python_m(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "mechopt", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def test_python_m_json():
    p = _python_m("solve", "bilateral_trade", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert set(d) == TOP_KEYS | {"expected"}
    assert d["objective"] == pytest.approx(0.654195, abs=5e-7)
    assert "Traceback" not in p.stderr


def test_python_m_bad_input():
    p = _python_m("solve", "/nonexistent/model.toml")
    assert p.returncode == 2
    assert p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


# ----------------------------------------------------------------------------- one pipeline
def test_solve_goes_through_design_solve(capsys, monkeypatch):
    """The CLI has no pipeline of its own: it calls Design.solve (row generation, every reduction)."""
    import mechopt as mo

    calls = []
    original = mo.Design.solve

    def spy(self, *args, **kwargs):
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(mo.Design, "solve", spy)
    d = run_json(capsys, "myerson_two_bidders", "--grid", "11", "--certify")
    assert calls == [{"certify": True}]
    assert d["objective"] == pytest.approx(5 / 11, abs=1e-9)  # Myerson, two bidders on grid(0, 1, 11)


def test_progress_log_goes_to_stderr(capsys):
    import logging

    def emit(*a, **k):
        logging.getLogger("mechopt.test").info("stage line from the pipeline")
        return original(*a, **k)

    import mechopt as mo

    original = mo.Design.solve
    try:
        mo.Design.solve = emit
        code, _, err = run(capsys, "solve", "bilateral_trade", "--grid", "3")
        assert code == 0 and "mechopt: stage line from the pipeline" in err
        code, _, err = run(capsys, "solve", "bilateral_trade", "--grid", "3", "-q")
        assert code == 0 and err == ""
    finally:
        mo.Design.solve = original
    assert logging.getLogger("mechopt").handlers == []  # the handler is removed again


# ----------------------------------------------------------------------------- tidy CSVs
def _csv(path):
    import pandas as pd

    return pd.read_csv(path, keep_default_na=False)


def test_out_tidy_csvs_myerson(capsys, tmp_path):
    """Long-format tables; expected revenue read back from payments.csv is Myerson's 55/126 on grid(0, 1, 21)."""
    import numpy as np

    out = tmp_path / "res"
    code, _, err = run(capsys, "solve", "myerson_two_bidders", "--out", str(out), "-q")
    assert code == 0, err
    alloc, pay = _csv(out / "allocation.csv"), _csv(out / "payments.csv")
    assert list(alloc.columns) == ["b1", "b2", "outcome", "value"]
    assert list(pay.columns) == ["b1", "b2", "agent", "value"]
    assert sorted(set(alloc["outcome"])) == ["b1", "b2", "unsold"]  # outcome labels are values, not headers
    # each profile's lottery sums to 1 (21 x 21 profiles, 3 outcomes)
    sums = alloc.groupby(["b1", "b2"])["value"].sum()
    assert len(sums) == 441 and np.allclose(sums, 1, atol=1e-9)
    # uniform prior: expected revenue = mean over profiles of the summed payments
    revenue = pay.groupby(["b1", "b2"])["value"].sum().mean()
    assert revenue == pytest.approx(55 / 126, abs=1e-8)
    for f in ("allocation.csv", "payments.csv", "interim_b1.csv"):
        text = (out / f).read_text()
        assert "-0.0," not in text and not text.count("-0.0\n"), f
        assert "0000000000" not in text and "9999999999" not in text, f  # rounded to the solver's accuracy
        header = text.splitlines()[0].split(",")
        assert len(header) == len(set(header)), f


def test_out_payments_header_unique_and_agent_named_value(capsys, tmp_path):
    """Bilateral trade (buyer,seller,buyer,seller before) and an agent whose name is a reserved column."""
    import mechopt as mo

    model = tmp_path / "m.toml"
    b = mo.Agent("value", mo.grid(0, 1, 3))
    s = mo.Agent("seller", mo.grid(0, 1, 3))
    env = mo.bilateral_trade(b, s)
    mo.save(env, mo.Design(env, ic="bic", ir="interim", budget="ex_ante", objective="welfare"), model)
    code, _, err = run(capsys, "solve", str(model), "--out", str(tmp_path / "o"), "-q")
    assert code == 0, err
    pay = (tmp_path / "o" / "payments.csv").read_text().splitlines()[0]
    assert pay == "value_type,seller,agent,value"


def test_out_certificate_weights_numeric_with_exact(capsys, tmp_path):
    from fractions import Fraction

    code, _, err = run(capsys, "solve", "green_laffont", "--out", str(tmp_path / "o"), "-q")
    assert code == 0, err
    w = _csv(tmp_path / "o" / "certificate_weights.csv")
    assert list(w.columns)[-2:] == ["weight", "exact"] and list(w.columns)[0] == "family"
    assert w["weight"].dtype.kind == "f" and len(w) > 0
    for x, q in zip(w["weight"], w["exact"]):
        assert x == pytest.approx(float(Fraction(q)), rel=1e-15, abs=0)
    assert (w["weight"] != 0).all()


# ----------------------------------------------------------------------------- [expected] and --check
def _with_expected(tmp_path, objective: str) -> str:
    text = modelfile.model_path("myerson_two_bidders").read_text()
    data = tomllib.loads(text)
    start = text.index("[expected]")
    text = text[:start] + f"[expected]\nobjective = {objective}\ntolerance = 1e-9\n"
    p = tmp_path / "graded.toml"
    p.write_text(text)
    assert data["environment"]["kind"] == "single_item"
    return str(p)


def test_expected_in_json_and_check(capsys, tmp_path):
    right = _with_expected(tmp_path, '"55/126"')  # Myerson (1981) on grid(0, 1, 21): 55/126
    code, out, err = run(capsys, "solve", right, "--json", "--check", "-q")
    assert code == 0, err
    e = json.loads(out)["expected"]
    assert e["matches"] is True and e["checked"] == ["objective"]
    assert e["objective"] == pytest.approx(55 / 126) and e["tolerance"] == 1e-9
    wrong = _with_expected(tmp_path, "0.44")
    code, out, err = run(capsys, "solve", wrong, "--json", "--check", "-q")
    assert code == 4
    assert json.loads(out)["expected"]["matches"] is False
    assert err.strip().splitlines() == [err.strip()] and "objective" in err and "Traceback" not in err
    code, out, _ = run(capsys, "solve", wrong, "--json", "-q")  # without --check: an answer, exit 0
    assert code == 0 and json.loads(out)["expected"]["matches"] is False


def test_check_status_expected(capsys):
    code, out, _ = run(capsys, "solve", "myerson_satterthwaite", "--json", "--check", "-q")
    assert code == 0
    assert json.loads(out)["expected"]["checked"][0] == "status"


# ----------------------------------------------------------------------------- schema / help
def test_schema_command(capsys):
    code, out, _ = run(capsys, "schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["$defs"]["DesignSpec"]["properties"]["ic"]["enum"] == ["dsic", "bic", "none", "ex_post"]
    assert schema["$defs"]["DesignSpec"]["properties"]["objective"]["enum"] == [
        "revenue", "welfare", "utility", "gains", "feasibility"]


@pytest.mark.parametrize("argv", [["--help"], ["solve", "--help"], ["list", "--help"], ["schema", "--help"]])
def test_help_is_self_contained(capsys, argv):
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "usage: mechopt" in out
    assert ".md" not in out  # names no document (DESIGN.md is not in the repo)
    if argv[0] == "solve":
        for word in ("--check", "exit status", "expected", "allocation.csv"):
            assert word in out


def test_registry_extension(capsys):
    seen = []
    cli.register("hello", "say hello", lambda p: p.add_argument("--who", default="x"),
                 lambda a: seen.append(a.who) or 0)
    try:
        assert run(capsys, "hello", "--who", "y")[0] == 0 and seen == ["y"]
    finally:
        del cli.COMMANDS["hello"]


# ----------------------------------------------------------------------------- bad input: exit 2, one line
def _bad_inputs(tmp_path):
    good = modelfile.model_path("bilateral_trade").read_text()
    base = good

    def f(name, text=None, data=None):
        p = tmp_path / name
        if data is not None:
            p.write_bytes(data)
        else:
            p.write_text(text)
        return str(p)

    unreadable = f("secret.toml", good)
    os.chmod(unreadable, 0)
    a_file = f("plain.txt", "x")
    return [
        ["solve", "bilateral_trade", "--grid", "0"],
        ["solve", "bilateral_trade", "--grid", "-3"],
        ["solve", "bilateral_trade", "--grid", "abc"],
        ["solve", "bilateral_trade", "--grid", "1"],
        ["solve", "bilateral_trade", "--grid", "2.5"],
        ["solve", "bilateral_trade", "--grid", ""],
        ["solve", "bilateral_trade", "--frobnicate"],
        ["solve"],
        ["solvee", "bilateral_trade"],
        ["solve", "x" * 300],
        ["solve", str(tmp_path / ("y" * 300) / "m.toml")],
        ["solve", "no_such_model"],
        ["solve", str(tmp_path / "missing.toml")],
        ["solve", str(tmp_path)],
        ["solve", "bilateral_trade", "--out", a_file],
        ["solve", "bilateral_trade", "--out", a_file + "/sub"],
        ["solve", "bilateral_trade", "--out", "/proc/mechopt-out"],
        ["solve", "bilateral_trade", "--out", str(tmp_path / ("z" * 300))],
        ["solve", "cremer_mclean", "--grid", "5"],
        ["solve", f("nested.toml", base + "[prior]\njoint = " + "[" * 200 + "1" + "]" * 200 + "\n")],
        ["solve", f("nested2.toml", base + "[prior]\njoint = " + "[" * 5000 + "]" * 5000 + "\n")],
        ["solve", f("big.toml", good.replace("grid = [0, 1, 21]", "grid = [0, 1e400, 21]", 1))],
        ["solve", f("small.toml", good.replace("grid = [0, 1, 21]", "grid = [0, 1e-400, 21]", 1))],
        ["solve", f("nan.toml", good.replace("grid = [0, 1, 21]", "grid = [0, nan, 21]", 1))],
        ["solve", f("bool.toml", good.replace("grid = [0, 1, 21]", "grid = [0, true, 21]", 1))],
        ["solve", f("syntax.toml", "[[[ not toml")],
        ["solve", f("binary.toml", data=b"\xff\xfe\x00garbage\x80")],
        ["solve", f("empty.toml", "")],
        ["solve", f("many.toml", "a = 1\nb = 2\n" + good.replace('ic = "bic"', 'ic = "bicc"'))],
        ["solve", f("nocheck.toml", good.split("[expected]")[0]), "--check"],
        ["solve", f("huge_n.toml", good.replace("grid = [0, 1, 21]", "grid = [0, 1, 1e3]", 1))],
        ["solve", f("neg.toml", good.replace("grid = [0, 1, 21]", "grid = [0, 1, -21]", 1))],
        ["solve", unreadable],
        ["show", unreadable],
        *([["show", "/proc/self/mem"], ["solve", "/proc/self/mem"]]  # files even root cannot read (EIO)
          if Path("/proc/self/mem").exists() else []),
        ["show", str(tmp_path)],
        ["show", "nothing_here"],
        ["show", f("bin.toml", data=b"\xff\xfe\x00\x80")],
        ["show"],
        ["list", "extra"],
        ["schema", "--pretty"],
        [],
    ]


def test_thirty_bad_inputs_exit_2_one_line(capsys, tmp_path):
    cases = _bad_inputs(tmp_path)
    assert len(cases) >= 30
    root = os.geteuid() == 0
    for argv in cases:
        if root and "secret.toml" in " ".join(argv):
            continue  # root reads any file; the permission case is checked for other users
        code, out, err = run(capsys, *argv)
        lines = err.strip().splitlines()
        assert code == 2, (argv, code, err)
        assert "Traceback" not in err, argv
        if argv:  # `mechopt` alone prints the usage (help) to stderr
            assert len(lines) == 1, (argv, err)
            assert lines[0].startswith("mechopt: error: "), (argv, err)
            assert len(lines[0]) < 2000, argv
            assert out == "", argv


def test_interrupt_anywhere_exits_130(capsys, monkeypatch):
    import mechopt as mo

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(mo.Design, "solve", interrupted)
    code, out, err = run(capsys, "solve", "bilateral_trade")
    assert code == 130 and err.strip().splitlines()[-1] == "mechopt: interrupted" and "Traceback" not in err
    monkeypatch.setattr(modelfile, "load", interrupted)
    code, out, err = run(capsys, "solve", "bilateral_trade", "-q")
    assert code == 130 and err == "mechopt: interrupted\n"


def test_interrupted_status_exits_130(capsys, monkeypatch):
    """The pipeline returns status "interrupted" when Ctrl-C reaches the solver: exit 130, one line."""
    import dataclasses

    import mechopt as mo

    original = mo.Design.solve
    monkeypatch.setattr(mo.Design, "solve",
                        lambda self, *a, **k: dataclasses.replace(original(self, *a, **k), status="interrupted"))
    code, out, err = run(capsys, "solve", "bilateral_trade", "--grid", "3", "-q")
    assert code == 130 and err == "mechopt: interrupted\n"


def test_ctrl_c_during_startup_imports():
    """The console-script launcher catches Ctrl-C while mechopt is still being imported (about a second)."""
    import signal
    import time

    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # the marker is written once the interpreter itself has started: before that no Python code can help
    code = ("import sys, _mechopt_main; sys.argv = ['mechopt', 'list']; sys.stderr.write('ready\\n'); "
            "sys.stderr.flush(); _mechopt_main.main()")
    interrupted = 0
    for delay in (0.05, 0.3):
        # a shell without job control starts background jobs with SIGINT ignored; give the child the default
        p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env, cwd=ROOT,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        assert p.stderr.readline() == "ready\n"
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        if p.returncode == 0:  # finished before the signal (a fast machine): nothing to check at this delay
            continue
        interrupted += 1
        assert p.returncode == 130, err
        assert err == "mechopt: interrupted\n", err
        assert out == ""
    assert interrupted >= 1


def test_no_verified_answer_exits_1_with_one_line(capsys, monkeypatch):
    import dataclasses

    import mechopt as mo

    original = mo.Design.solve

    def unverified(self, *a, **k):
        r = original(self, *a, **k)
        return dataclasses.replace(r, status="unverified", verification={**r.verification, "ok": False})

    monkeypatch.setattr(mo.Design, "solve", unverified)
    code, out, err = run(capsys, "solve", "bilateral_trade", "--grid", "3", "--json", "-q")
    assert code == 1
    assert json.loads(out)["status"] == "unverified" and json.loads(out)["objective"] is None
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mechopt: error: no verified answer (status unverified)")


def test_infeasible_answer_stands_when_the_certificate_fails(capsys, monkeypatch):
    from mechopt.result import Result

    def boom(self):
        raise RuntimeError("exact arithmetic ran out")

    monkeypatch.setattr(Result, "certificate", property(boom))
    code, out, err = run(capsys, "solve", "green_laffont", "--json", "-q")
    assert code == 0
    d = json.loads(out)
    assert d["status"] == "infeasible" and "certificate" not in d  # Green-Laffont: no DSIC efficient balanced
    assert "Traceback" not in err and "exact arithmetic ran out" in err and len(err.strip().splitlines()) == 1


def test_sweep_share_accepts_ratios(capsys):
    """--set share=1/3 is read exactly (it crashed with an internal error); a bad share is exit 2."""
    code, out, err = run(capsys, "sweep", "partnership_equal", "--grid", "5", "--set", "share=1/3,1/2", "--json", "-q")
    assert code == 0, err
    assert len(json.loads(out)["points"]) == 2
    code, _, err = run(capsys, "sweep", "partnership_equal", "--grid", "5", "--set", "share=abc", "-q")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
