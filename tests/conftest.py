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
from jax._src import compiler as jax_compiler

CACHE_DIR = pathlib.Path(__file__).resolve().parent.parent / ".jax_cache"
jax.config.update(
    "jax_compilation_cache_dir", os.environ.get("JAX_COMPILATION_CACHE_DIR", str(CACHE_DIR))
)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# Compile with few optimizations (XLA's backend at -O0, no expensive LLVM passes): the suite's time
# is almost all compilation (each test runs a few steps of small worlds), and this makes it ~30 %
# cheaper. Optimizations do not change what a program computes (no fast-math on CPU), so a rule
# gives the same numbers either way; the modules that check bit-identity across compilation
# settings (jit == eager, one device == a mesh, CPU == GPU) compile as users do, and
# NMMO_TEST_OPTIMIZE=1 compiles every module as users do. The persistent compilation cache keys
# on the setting, so the two kinds of program never mix.
FULLY_OPTIMIZED = ("test_determinism.py", "test_devices.py")
OPTIMIZE_ALL = os.environ.get("NMMO_TEST_OPTIMIZE", "0") == "1"

# With few optimizations, XLA:CPU also emits its fusions with the older elemental emitters
# instead of the MLIR fusion emitters: the same HLO (the same operations in the same order), but
# it compiles a step ~2.5x faster (7.5 s -> 3 s for a small world). Like the optimization level,
# it is a compile option, so the persistent cache keys on it.
_get_compile_options = jax_compiler.get_compile_options


def _get_fast_compile_options(*args, **kwargs):
    if jax_compiler._DISABLE_MOST_OPTIMIZATIONS.value:
        overrides = dict(kwargs.get("env_options_overrides") or {})
        overrides.setdefault("xla_cpu_use_fusion_emitters", False)
        kwargs["env_options_overrides"] = overrides
    return _get_compile_options(*args, **kwargs)


jax_compiler.get_compile_options = _get_fast_compile_options


@pytest.fixture(autouse=True, scope="module")
def _compiler_optimizations(request):
    optimize = OPTIMIZE_ALL or pathlib.Path(request.module.__file__).name in FULLY_OPTIMIZED
    jax.config.update("jax_disable_most_optimizations", not optimize)
    yield
    jax.config.update("jax_disable_most_optimizations", False)


@pytest.fixture(autouse=True, scope="module")
def _free_compiled_programs():
    """Each test module's compiled programs are dropped when it ends (the persistent cache on
    disk keeps them): a pytest-xdist worker runs many modules, and every compiled step stays in
    memory otherwise, until the worker's memory runs out on the 2-core, 24 GB CI machine."""
    yield
    jax.clear_caches()
    gc.collect()


# --- pytest-xdist scheduling (`-n 2`): whole modules, the longest first
#
# A module's tests share the programs it compiles (module-level jits, functools.cache'd rollouts)
# and its compiled programs are dropped when it ends (above), so a module split over two workers
# compiles them twice. Each module goes to one worker, as xdist's --dist loadfile, and the
# modules are handed out longest first (a longest-processing-time schedule) so that the two
# workers finish together instead of one running the slow modules alone at the end; the order
# changes only when the tests run, never what they check. The costs are rough CPU seconds of a
# module, measured in one single-process run of the whole suite from an empty compilation cache
# (`taskset -c 1 python -m pytest -q -p no:xdist --durations=0`, 2026-12-07, after the fusion
# emitters were turned off above: 16.4 CPU-min in all, 31.5 before;
# a module that reuses another's programs from the cache counts less; only their order matters);
# a module not listed counts 1 s per test. `--dist worksteal` (or any
# --dist other than load) uses xdist's own scheduling instead.
MODULE_SECONDS = {
    "tests/test_determinism.py": 175,
    "tests/test_readme.py": 65,
    "tests/systems/test_npc.py": 55,
    "tests/systems/test_survival.py": 55,
    "tests/systems/test_movement.py": 50,
    "tests/test_notebooks.py": 40,
    "tests/test_semantics.py": 40,
    "tests/systems/test_harvest.py": 35,
    "tests/agents/test_scripted.py": 30,
    "tests/test_soundness.py": 30,
    "tests/systems/test_fog.py": 25,
    "tests/test_npc_statistics.py": 25,
    "tests/systems/test_combat.py": 25,
    "tests/test_cli.py": 25,
    "tests/systems/test_combat_order.py": 20,
    "tests/task/test_lowering.py": 20,
    "tests/systems/test_items.py": 15,
    "tests/test_episode.py": 15,
    "tests/test_parity_smoke.py": 15,
    "tests/systems/test_regrowth.py": 15,
    "tests/test_properties.py": 15,
    "tests/task/test_tasks.py": 15,
    "tests/test_spawn.py": 15,
    "tests/systems/test_exchange.py": 15,
    "tests/systems/test_comm.py": 10,
    "tests/systems/test_give.py": 10,
    "tests/task/test_user_predicate.py": 10,
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LongestModuleFirst(LoadFileScheduling):
        def _assign_work_unit(self, node):
            if not getattr(self, "_ordered", False):

                def cost(scope):
                    return MODULE_SECONDS.get(scope, len(self.workqueue[scope]))

                for scope in sorted(self.workqueue, key=cost, reverse=True):
                    self.workqueue.move_to_end(scope)
                self._ordered = True
            super()._assign_work_unit(node)

    return LongestModuleFirst(config, log)
