"""Same semantics on every device: a batch sharded over devices, and a GPU if one is present,
give exactly the trajectory of one CPU device (DESIGN "Semantics")."""

import os
import subprocess
import sys
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

SHARDED = ROLLOUT + textwrap.dedent(
    """
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    assert len(jax.devices()) == 2, jax.devices()
    mesh = Mesh(jax.devices(), ("env",))
    shard = lambda tree: jax.device_put(tree, NamedSharding(mesh, P("env")))
    single = trajectory(lambda tree: jax.device_put(tree, jax.devices()[0]))
    sharded = trajectory(shard)
    for a, b in zip(jax.tree.leaves(single), jax.tree.leaves(sharded)):
        np.testing.assert_array_equal(a, b)
    print("EQUAL", len(jax.tree.leaves(single)))
    """
)


def test_batch_sharded_over_two_devices_equals_one_device():
    env = {
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        "JAX_PLATFORMS": "cpu",
        "JAX_COMPILATION_CACHE_DIR": jax.config.jax_compilation_cache_dir,
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0.5",
    }
    result = subprocess.run(
        [sys.executable, "-c", SHARDED],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "EQUAL" in result.stdout


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
