"""Determinism across settings with the full game (issue 14; DESIGN "Semantics"): the same key
and actions give bit-identical trajectories jitted and eager, vmapped and looped (the loop
compiled with nmmo_jax's XLA:CPU options, the batch without), and on one device and on a
2-device CPU mesh, for every action policy of POLICIES. (Jit == eager is checked
here only: an eager step compiles every op of the game, ~30 s, and the module's steps share them.)

The world is Config.small with NPCs, combat, items, the exchange and Comm on, every resource
regrowing at once, weapons dropping often, 30 gold per player and PvP from step 4, so that
harvests, stacks, trade, gifts, fights, loot and deaths happen within the short horizon of the
test. tests/test_semantics.py and tests/test_devices.py check vmap == loop, determinism and
devices on the plain small world with random actions.
"""

import functools
import operator
import os
import pathlib
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nmmo_jax as nj
from agents import scripted
from nmmo_jax import material as m
from nmmo_jax.events import EVENT_CODES, EVENT_COLUMN

CFG = nj.Config.small(
    **{field: 1.0 for field in m.PROFESSION_RESPAWN_FIELDS},
    weapon_drop_prob=0.3,
    combat_spawn_immunity=4,
    exchange_base_gold=30,  # enough gold to buy and give from the start
    player_base_health=25,  # fights end in deaths within the horizon
)
ENV = nj.Env(CFG)
ENVS, STEPS = 2, 32
EAGER_STEPS = 3


IDS = scripted.policy_ids(CFG.player_n, (1, 1, 1, 1))  # random, forager, fighter, merchant


def scripted_policy(key, obs):
    """The four scripted agents of agents/scripted.py, two players each (the random agent among
    them draws every head uniformly among the choices its mask allows)."""
    u = jax.random.uniform(key, (CFG.player_n, len(ENV.action_heads)))
    return scripted.mixed(IDS, obs, u)


# Action policies `policy(key, obs) -> int32 [N, H]` for one environment. Random actions alone
# are checked the same way on the plain small world by tests/test_semantics.py and
# tests/test_devices.py; each policy here costs several compilations of the full game.
POLICIES = {"scripted": scripted_policy}


def _step(policy, carry, key):
    """One step of one environment: (obs, state) -> (obs, state), record."""
    obs, state = carry
    k_act, k_step = jax.random.split(key)
    actions = policy(k_act, obs)
    obs, state, reward, terminated, truncated, info = ENV.step(k_step, state, actions)
    record = dict(
        obs=obs,
        state=state,
        actions=actions,
        reward=reward,
        terminated=terminated,
        truncated=truncated,
        info=info,
    )
    return (obs, state), record


def _run(policy, carry, keys):
    """A scan of `_step` over `keys` [T] for one environment."""
    return jax.lax.scan(functools.partial(_step, policy), carry, keys)


def _keys(i):
    """The keys of environment i: (reset key, step keys [STEPS])."""
    key = jax.random.fold_in(jax.random.key(2024), i)
    return jax.random.fold_in(key, 0), jax.random.split(jax.random.fold_in(key, 1), STEPS)


def _episode(policy, reset_key, keys):
    """One environment's episode of `_step`s from a reset: (carry, records)."""
    return _run(policy, ENV.reset(reset_key), keys)


@functools.cache
def compiled(name):
    """(batched, single): the jitted rollouts of policy `name`, vmapped over environments and
    for one environment, compiled once per module. The batched one with `jax.jit`, the single
    one with `nj.jit` (nmmo_jax/compile.py's CPU_OPTIONS: no tree reduction rewrite, copy
    insertion with region analysis, 512-bit vectors), so that vmap == loop also checks that
    those compiler options change nothing (one full compilation of the game fewer than a test
    of its own)."""
    single = functools.partial(_episode, POLICIES[name])
    return jax.jit(jax.vmap(single)), nj.jit(single)


def batched_inputs():
    reset_keys, step_keys = zip(*(_keys(i) for i in range(ENVS)), strict=True)
    return jnp.stack(reset_keys), jnp.stack(step_keys)


@functools.cache
def batched_result(name):
    batched, _ = compiled(name)
    return jax.device_get(batched(*batched_inputs()))


def assert_trees_equal(a, b):
    leaves_a, tree_a = jax.tree_util.tree_flatten_with_path(a)
    leaves_b, tree_b = jax.tree_util.tree_flatten(b)
    assert tree_a == tree_b
    for (path, x), y in zip(leaves_a, leaves_b, strict=True):
        x, y = np.asarray(x), np.asarray(y)
        name = jax.tree_util.keystr(path)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        np.testing.assert_array_equal(x, y, err_msg=name)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_the_world_is_eventful(name):
    """The trajectories compared below contain the rules that matter (so equality means
    something): deaths, and the events of items, trade and combat."""
    (_, states), records = batched_result(name)
    episode = states.events.episode.sum(axis=(0, 1))
    counts = {code: int(episode[EVENT_COLUMN[EVENT_CODES[code]]]) for code in EVENT_CODES}
    for code in ("HARVEST_ITEM", "EQUIP_ITEM", "GIVE_GOLD", "LIST_ITEM", "SCORE_HIT"):
        assert counts[code] > 0, (code, counts)
    assert records["terminated"].any()


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_vmapped_equals_looped(name):
    """Each environment run alone (`nj.jit`, with the compiler options) gives its part of the
    batched trajectory (`jax.jit` of the vmap, without them) bit for bit."""
    assert nj.compiler_options()  # on CPU, so that the options are part of the comparison
    _, single = compiled(name)
    reset_keys, step_keys = batched_inputs()
    looped = [jax.device_get(single(reset_keys[i], step_keys[i])) for i in range(ENVS)]
    assert_trees_equal(batched_result(name), jax.tree.map(lambda *x: np.stack(x), *looped))


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_jitted_equals_eager(name):
    """The last EAGER_STEPS steps of environment 0, replayed op by op (no jit) from the jitted
    observation and state before them, each eager step continuing from the eager one before,
    give the jitted steps bit for bit: actions, observation, state, reward, flags and info.
    (The first eager step compiles every op of the game; the next ones reuse them.)"""
    _, records = batched_result(name)
    _, keys = _keys(0)
    carry = jax.tree.map(
        lambda x: jnp.asarray(x[0, STEPS - 1 - EAGER_STEPS]), (records["obs"], records["state"])
    )
    for t in range(STEPS - EAGER_STEPS, STEPS):
        carry, eager = _step(POLICIES[name], carry, keys[t])
        assert_trees_equal(
            jax.device_get(eager), jax.tree.map(operator.itemgetter((0, t)), records)
        )


def test_reset_compiled_once_equals_jit():
    """`nj.jit(..., once=True)` (few optimizations, for a program run once: the first reset of
    a rollout) gives `jax.jit`'s batch of resets bit for bit."""
    assert nj.compiler_options(once=True) != nj.compiler_options()
    reset_keys, _ = batched_inputs()
    reset = jax.vmap(ENV.reset)
    assert_trees_equal(
        jax.device_get(nj.jit(reset, once=True)(reset_keys)),
        jax.device_get(jax.jit(reset)(reset_keys)),
    )


SHARDED = textwrap.dedent(
    """
    import sys
    import jax
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    sys.path.insert(0, {tests!r})
    sys.path.insert(0, {root!r})  # agents/
    import test_determinism as td

    assert len(jax.devices()) == 2, jax.devices()
    shard = NamedSharding(Mesh(jax.devices(), ("env",)), P("env"))
    batched, _ = td.compiled({name!r})
    inputs = jax.device_put(td.batched_inputs(), shard)
    out = jax.device_get(batched(*inputs))
    leaves = jax.tree.leaves(out)
    np.savez({path!r}, *leaves)
    print("SAVED", len(leaves))
    """
)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_two_device_mesh_equals_one_device(name, tmp_path):
    """The batch sharded over a 2-device CPU mesh (a subprocess: the device count is fixed at
    start-up) gives the one-device trajectory bit for bit."""
    path = tmp_path / "sharded.npz"
    here = pathlib.Path(__file__).resolve().parent
    script = SHARDED.format(tests=str(here), root=str(here.parent), name=name, path=str(path))
    env = {
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        "JAX_PLATFORMS": "cpu",
        "JAX_COMPILATION_CACHE_DIR": jax.config.jax_compilation_cache_dir,
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0.5",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    sharded = np.load(path)
    single = jax.tree.leaves(batched_result(name))
    assert len(sharded.files) == len(single)
    for i, leaf in enumerate(single):
        np.testing.assert_array_equal(sharded[f"arr_{i}"], np.asarray(leaf))
