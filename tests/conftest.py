"""Shared test setup: the JAX persistent compilation cache inside the checkout (CI reuses it)."""

import os
import pathlib

import jax

CACHE_DIR = pathlib.Path(__file__).resolve().parent.parent / ".jax_cache"
jax.config.update(
    "jax_compilation_cache_dir", os.environ.get("JAX_COMPILATION_CACHE_DIR", str(CACHE_DIR))
)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
