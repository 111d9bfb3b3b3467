"""Same semantics on every device: a GPU, if one is present, gives exactly the trajectory of one
CPU device (DESIGN "Semantics"). A batch sharded over a 2-device CPU mesh is checked against one
device in tests/test_determinism.py, on the full small game driven by the scripted agents."""

import textwrap

import jax
import numpy as np
import pytest

ROLLOUT = textwrap.dedent(
    """
    import jax, jax.numpy as jnp
    import nmmo_jax as nj

    def trajectory(place):
        env = nj.Env(nj.Config.small())
        venv = nj.VmapAutoReset(env)
        keys = jax.random.split(jax.random.key(7), 4)
        obs, states = jax.jit(venv.reset)(place(keys))

        def body(carry, key):
            obs, states = carry
            k1, k2 = jax.random.split(key)
            actions = jax.vmap(env.sample_actions)(jax.random.split(k1, 4), obs)
            obs, states, reward, *_ = venv.step(jax.random.split(k2, 4), states, actions)
            return (obs, states), reward

        run = jax.jit(lambda c: jax.lax.scan(body, c, jax.random.split(jax.random.key(1), 40)))
        (obs, states), rewards = run((place(obs), place(states)))
        return jax.device_get((obs, states, rewards))
    """
)


def _gpus():
    try:
        return jax.devices("gpu")
    except RuntimeError:
        return []


@pytest.mark.skipif(not _gpus(), reason="no GPU on this machine: run where one is present")
def test_gpu_equals_cpu():
    scope = {}
    exec(ROLLOUT, scope)  # noqa: S102
    trajectory = scope["trajectory"]
    cpu = trajectory(lambda tree: jax.device_put(tree, jax.devices("cpu")[0]))
    with jax.default_device(_gpus()[0]):
        gpu = trajectory(lambda tree: jax.device_put(tree, _gpus()[0]))
    for a, b in zip(jax.tree.leaves(cpu), jax.tree.leaves(gpu), strict=True):
        np.testing.assert_array_equal(a, b)
