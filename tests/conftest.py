"""Test configuration.

Hypothesis: under CI (``CI`` set in the environment) the examples are derandomized, so a
submission's CI run is reproducible; locally each run explores new examples
(``HYPOTHESIS_PROFILE=ci`` reproduces CI's examples).
"""

from __future__ import annotations

import os

import matplotlib
from hypothesis import settings

matplotlib.use("Agg")

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev")
profile = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(profile)
