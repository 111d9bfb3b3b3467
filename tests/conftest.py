"""Shared test setup: the JAX persistent compilation cache inside the checkout (CI reuses it) and
the hypothesis profile.

Hypothesis runs derandomized by default (profile "ci"): the examples are a function of the test
alone, not of a random seed or of the local example database, so every run (CI or local) tests the
same examples and a failure reproduces on rerun; `print_blob` prints the `@reproduce_failure`
line of a failing example. `HYPOTHESIS_PROFILE=explore python -m pytest tests/test_properties.py`
draws fresh random examples (and keeps the local database) to look for new failures.
"""

import gc
import os
import pathlib

import jax
import pytest
from hypothesis import settings

CACHE_DIR = pathlib.Path(__file__).resolve().parent.parent / ".jax_cache"
jax.config.update(
    "jax_compilation_cache_dir", os.environ.get("JAX_COMPILATION_CACHE_DIR", str(CACHE_DIR))
)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="module")
def _free_compiled_programs():
    """Each test module's compiled programs are dropped when it ends (the persistent cache on
    disk keeps them): a pytest-xdist worker runs many modules, and every compiled step stays in
    memory otherwise, until the worker's memory runs out on the 2-core, 24 GB CI machine."""
    yield
    jax.clear_caches()
    gc.collect()
