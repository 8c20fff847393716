"""Long randomized runs (``pytest -m fuzz``; ``python benchmarks/fuzz.py`` prints the counts).

Not derandomized: each run draws new designs.  A failure prints the example and a
``@reproduce_failure`` blob; fix it or pin it here as a strict xfail with its reason.
"""

from __future__ import annotations

import os

import pytest
import test_pipeline as tp
from hypothesis import HealthCheck, given, settings

EXAMPLES = int(os.environ.get("MECHOPT_FUZZ_EXAMPLES", "2000"))

pytestmark = pytest.mark.fuzz


@settings(max_examples=EXAMPLES, deadline=None, derandomize=False, database=None,
          suppress_health_check=list(HealthCheck))
@given(tp.builder_designs())
def test_fuzz_reductions_on_equal_off(design):
    tp.test_reductions_never_change_status_or_optimum.hypothesis.inner_test(design)
