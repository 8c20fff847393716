"""Build step: ship the top-level ``models/*.toml`` inside the package as ``mechopt/models/``.

All metadata lives in ``pyproject.toml``; this file only extends ``build_py`` so a
wheel (and a plain ``pip install .``) contains the built-in model files that
``mechopt list`` reads.  A source checkout reads ``models/`` directly
(:func:`mechopt.modelfile.models_dir`).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithModels(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # editable installs read models/ from the checkout
        target = Path(self.build_lib) / "mechopt" / "models"
        target.mkdir(parents=True, exist_ok=True)
        for f in sorted((ROOT / "models").glob("*.toml")):
            shutil.copy2(f, target / f.name)


setup(cmdclass={"build_py": BuildWithModels})
