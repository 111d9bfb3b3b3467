"""XLA compiler options under which the step runs faster on CPU, and `jit` that applies them.

    step = nmmo_jax.jit(jax.vmap(env.step))          # instead of jax.jit(...)
    step = jax.jit(jax.vmap(env.step), compiler_options=nmmo_jax.compiler_options())

Both give the same results as plain `jax.jit` (tests/test_determinism.py); on CPU the whole rollout
runs about a quarter faster (the product of the options' paired A/Bs below; docs/PERFORMANCE.md,
bench/RESULTS.md).
`jit(..., once=True)` compiles a program that runs once (a first reset) with few
optimizations, for its compile time. The options:

- `xla_disable_hlo_passes=tree_reduction_rewriter`: XLA:CPU rewrites every reduction over a
  dimension longer than 32 (a sum or `any` over the 128 players, a checksum of a mask) into a
  `reduce-window` of 32 then a reduce, for the precision of long float sums. Its reduce-window
  runs as a slow generic loop: ~240 of ~2,170 us of kernel time per env-step went to them. The
  step's reductions are integer and boolean, where the order does not change the result.
- `xla_cpu_copy_insertion_use_region_analysis`: fewer copies of loop-carried buffers (-2 %).
- `xla_cpu_prefer_vector_width=512`: LLVM may use 512-bit vectors where the CPU has them
  (AVX-512); XLA's default of 256 left half of each register unused. -7.5 to -10 % per
  env-step, same values (paired A/B, docs/PERFORMANCE.md, seventh session). A CPU without
  512-bit registers keeps its own widest width.

They are per compilation, not process-wide, so a learner's own float reductions elsewhere keep
XLA's default. On other backends `compiler_options()` is empty (the GPU's reductions want the
rewrite). A process-wide alternative for code that calls `jax.jit` itself:
`XLA_FLAGS=--xla_disable_hlo_passes=tree_reduction_rewriter`.
"""

from __future__ import annotations

import functools

import jax

CPU_OPTIONS = {
    "xla_disable_hlo_passes": "tree_reduction_rewriter",
    "xla_cpu_copy_insertion_use_region_analysis": True,
    "xla_cpu_prefer_vector_width": 512,
}


# For a program that runs once (a batch's first reset): compiled with few optimizations. XLA
# computes the same values either way (no fast-math on CPU; tests/test_determinism.py checks
# the reset bit for bit), and the Default reset of a rollout compiles in ~2.4 s instead of
# ~9.6 s and runs in 0.08 s instead of 0.04 s (bench/RESULTS.md, sixth session).
ONCE_OPTIONS = {
    "xla_backend_optimization_level": 0,
    "xla_llvm_disable_expensive_passes": True,
    "xla_cpu_use_fusion_emitters": False,
}


def compiler_options(backend: str | None = None, once: bool = False) -> dict:
    """The options for `backend` (default: JAX's default backend): CPU_OPTIONS on CPU, and
    ONCE_OPTIONS too if `once` (a program run once, where compile time is all that counts),
    else none. Pass them to `jax.jit(..., compiler_options=...)` or `.compile(...)`."""
    backend = backend or jax.default_backend()
    if backend != "cpu":
        return {}
    return {**CPU_OPTIONS, **ONCE_OPTIONS} if once else dict(CPU_OPTIONS)


def jit(fun=None, *, once: bool = False, **kwargs):
    """`jax.jit` with `compiler_options(once=once)` added (a `compiler_options` given here wins
    per key). Usable as `jit(f, donate_argnums=0)` or as a decorator, bare or with arguments;
    `once=True` for a program that runs once, such as the first reset of a batch."""
    if fun is None:
        return functools.partial(jit, once=once, **kwargs)
    options = {**compiler_options(once=once), **(kwargs.pop("compiler_options", None) or {})}
    return jax.jit(fun, compiler_options=options, **kwargs)
