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


def has_certificates(kind: str) -> bool:
    try:
        from mechopt import certificates
    except ImportError:  # pragma: no cover
        return False
    return callable(getattr(certificates, kind, None))


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
    if not has_certificates("farkas"):
        assert "certificate" not in d
        return
    c = d["certificate"]
    assert set(c) == CERT_KEYS
    assert c["kind"] == "infeasibility" and c["verified"] is True and c["exact"] is True
    assert sum(c["weight_by_family"].values()) == pytest.approx(1)
    assert {"ic", "ir", "budget"} <= set(c["weight_by_family"])
    assert list(d) == ["model", "status", "objective", "metrics", "verification", "certificate", "solver", "expected"]
    assert d["expected"]["status"] == "infeasible" and d["expected"]["matches"] is True


@pytest.mark.skipif(not has_certificates("optimality"), reason="mechopt.certificates.optimality not available")
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
    if has_certificates("farkas"):
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
