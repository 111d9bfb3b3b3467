"""A WorldState survives a save/load round trip (flax.serialization), and the loaded state
continues the same trajectory (DESIGN "Tests": save/load round trips)."""

import jax
import numpy as np
from flax import serialization

import nmmo_jax as nj

CFG = nj.Config.small()
ENV = nj.Env(CFG)
RESET = jax.jit(ENV.reset)
STEP = jax.jit(ENV.step)


def test_state_round_trip_and_same_continuation(tmp_path):
    obs, state = RESET(jax.random.key(3))
    for t in range(5):
        actions = ENV.sample_actions(jax.random.key(100 + t), obs)
        obs, state, *_ = STEP(jax.random.key(t), state, actions)

    path = tmp_path / "state.msgpack"
    path.write_bytes(serialization.to_bytes(state))
    _, template = RESET(jax.random.key(0))  # any state of the same config gives the structure
    loaded = serialization.from_bytes(template, path.read_bytes())

    for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(loaded), strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    actions = ENV.sample_actions(jax.random.key(7), obs)
    after = STEP(jax.random.key(9), state, actions)
    after_loaded = STEP(jax.random.key(9), loaded, actions)
    for a, b in zip(jax.tree.leaves(after), jax.tree.leaves(after_loaded), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
