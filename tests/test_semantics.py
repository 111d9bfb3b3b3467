"""Semantics that do not depend on how the env is run (DESIGN "Semantics and parity").

vmap == a loop over envs, same key == same trajectory, reset per key and from the map pool,
sample_actions honours the masks, out-of-range actions inside jit are Stay, and VmapAutoReset
resets only the environments whose episode is over. jit == eager is checked in
tests/test_determinism.py (three steps replayed op by op, on the full small game).

The batched programs all take N_ENVS environments and the auto-reset tests run on the plain
small world (near its horizon), so that the module compiles each program once.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nmmo_jax as nj
from nmmo_jax import material as m
from nmmo_jax import ops, scenario
from nmmo_jax.env import sample_choice, uniform_choice
from nmmo_jax.mapgen import apply_border
from nmmo_jax.observe import observe
from nmmo_jax.systems.movement import STAY

SMALL = nj.Config.small()
ENV = nj.Env(SMALL)
N = SMALL.player_n

N_ENVS = 3  # the batch of every vmapped program below (and of the README's example)

# Compiled once per module: every test reuses these.
RESET = jax.jit(ENV.reset)
STEP = jax.jit(ENV.step)
SAMPLE = jax.jit(ENV.sample_actions)
VRESET = jax.jit(jax.vmap(ENV.reset))
VSTEP = jax.jit(jax.vmap(ENV.step))
VSAMPLE = jax.jit(jax.vmap(ENV.sample_actions))
OBSERVE = jax.jit(observe, static_argnums=1)

ROLLOUT_STEPS = 30


def assert_trees_equal(a, b):
    """Same structure, and every leaf has the same shape, dtype and values (bit for bit)."""
    leaves_a, tree_a = jax.tree_util.tree_flatten_with_path(a)
    leaves_b, tree_b = jax.tree_util.tree_flatten(b)
    assert tree_a == tree_b
    for (path, x), y in zip(leaves_a, leaves_b, strict=True):
        name = jax.tree_util.keystr(path)
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype, name
        assert x.shape == y.shape, name
        np.testing.assert_array_equal(x, y, err_msg=name)


def _index(tree, i):
    return jax.tree.map(lambda x: x[i], tree)


# --- vmap == loop


def test_vmap_equals_loop():
    n_envs = N_ENVS
    keys = jax.random.split(jax.random.key(5), n_envs)
    obs_v, states_v = VRESET(keys)
    singles = [RESET(k) for k in keys]
    assert_trees_equal((obs_v, states_v), jax.tree.map(lambda *xs: jnp.stack(xs), *singles))
    for t in range(4):
        step_keys = jax.random.split(jax.random.fold_in(jax.random.key(6), t), n_envs)
        act_keys = jax.random.split(jax.random.fold_in(jax.random.key(7), t), n_envs)
        actions_v = VSAMPLE(act_keys, obs_v)
        actions_loop = jnp.stack([SAMPLE(k, _index(obs_v, i)) for i, k in enumerate(act_keys)])
        np.testing.assert_array_equal(np.asarray(actions_v), np.asarray(actions_loop))
        out_v = VSTEP(step_keys, states_v, actions_v)
        outs = [STEP(step_keys[i], _index(states_v, i), actions_v[i]) for i in range(n_envs)]
        assert_trees_equal(out_v, jax.tree.map(lambda *xs: jnp.stack(xs), *outs))
        obs_v, states_v = out_v[0], out_v[1]


# --- same key == same trajectory


def _trajectory(key):
    """ROLLOUT_STEPS steps of random valid actions from the reset of `key`, through the jitted
    reset, sample_actions and step of the module: (final obs, final state, records [T, ...])."""
    k_reset, k_run = jax.random.split(key)
    obs, state = RESET(k_reset)
    records = []
    for k in jax.random.split(k_run, ROLLOUT_STEPS):
        k_act, k_step = jax.random.split(k)
        actions = SAMPLE(k_act, obs)
        obs, state, reward, terminated, truncated, info = STEP(k_step, state, actions)
        records.append(
            dict(
                actions=actions,
                reward=reward,
                terminated=terminated,
                truncated=truncated,
                alive=info["alive"],
                row=state.entities.row,
                col=state.entities.col,
                food=state.entities.food,
                water=state.entities.water,
                health=state.entities.health,
                regrow_at=state.tiles.regrow_at,
            )
        )
    return obs, state, jax.tree.map(lambda *xs: jnp.stack(xs), *records)


def test_same_key_same_trajectory_and_different_keys_differ():
    first = _trajectory(jax.random.key(42))
    second = _trajectory(jax.random.key(42))
    assert_trees_equal(first, second)
    assert int(first[1].tick) == ROLLOUT_STEPS
    # The agents really moved: the trajectory is not trivially constant.
    rows = np.asarray(first[2]["row"])[:, :N]
    cols = np.asarray(first[2]["col"])[:, :N]
    assert (np.diff(rows, axis=0) != 0).any() or (np.diff(cols, axis=0) != 0).any()

    other = _trajectory(jax.random.key(43))
    assert not np.array_equal(np.asarray(first[2]["actions"]), np.asarray(other[2]["actions"]))
    assert not (
        np.array_equal(np.asarray(first[2]["row"]), np.asarray(other[2]["row"]))
        and np.array_equal(np.asarray(first[2]["col"]), np.asarray(other[2]["col"]))
    )


# --- reset


def test_reset_is_deterministic_per_key():
    a = RESET(jax.random.key(3))
    b = RESET(jax.random.key(3))
    assert_trees_equal(a, b)
    c = RESET(jax.random.key(4))
    state_a, state_c = a[1], c[1]
    # Another key spawns the players elsewhere and places other resources.
    spawn_a = np.stack([np.asarray(state_a.entities.row), np.asarray(state_a.entities.col)])
    spawn_c = np.stack([np.asarray(state_c.entities.row), np.asarray(state_c.entities.col)])
    assert not np.array_equal(spawn_a, spawn_c)
    assert not np.array_equal(np.asarray(state_a.tiles.base), np.asarray(state_c.tiles.base))
    # A fresh episode: tick 0, all players alive on their spawn tiles, the first NPCs spawned
    # (at most NPC_SPAWN_ATTEMPTS of them, SPEC 6.1) with ids -1, -2, ...
    for state in (state_a, state_c):
        ent = jax.device_get(state.entities)
        assert int(state.tick) == 0
        assert ent.alive[:N].all()
        n_npcs = int(ent.alive[N:].sum())
        assert 0 < n_npcs <= min(SMALL.npc_n, SMALL.npc_spawn_attempts)
        np.testing.assert_array_equal(ent.id[N:][ent.alive[N:]], -np.arange(1, n_npcs + 1))
        np.testing.assert_array_equal(ent.id[:N], np.arange(1, N + 1))
        np.testing.assert_array_equal(ent.row, ent.spawn_row)
        np.testing.assert_array_equal(ent.col, ent.spawn_col)


def test_reset_map_comes_from_the_map_pool_with_resources_on_grass_and_water():
    pool = ENV.map_pool
    assert pool.shape == (SMALL.map_n, SMALL.map_size, SMALL.map_size)
    _, states = VRESET(jax.random.split(jax.random.key(9), N_ENVS))
    for i in range(N_ENVS):
        index = int(states.map_index[i])
        assert 0 <= index < SMALL.map_n
        terrain = np.asarray(apply_border(pool[index], SMALL))
        base = np.asarray(states.tiles.base[i])
        changed = base != terrain
        # Resource placement turns only Grass (and Water, into Fish) into something else.
        assert changed.any()
        assert np.isin(terrain[changed], [m.GRASS, m.WATER]).all()


BARE = nj.Config.small(
    map_n=4, profession_system_enabled=False, terrain_scatter_extra_resources=False
)
BARE_ENV = nj.Env(BARE)
BARE_VRESET = jax.jit(jax.vmap(BARE_ENV.init_state))


def test_reset_picks_maps_of_the_pool_by_key():
    pool = BARE_ENV.map_pool
    assert pool.shape == (4, BARE.map_size, BARE.map_size)
    keys = jax.random.split(jax.random.key(0), 16)
    states = BARE_VRESET(keys)
    indices = np.asarray(states.map_index)
    assert ((indices >= 0) & (indices < 4)).all()
    assert len(set(indices.tolist())) > 1  # 16 keys over 4 maps: not all the same map
    for i, index in enumerate(indices):
        # Without resource placement the episode map is exactly the bordered pool terrain.
        expected = np.asarray(apply_border(pool[index], BARE))
        np.testing.assert_array_equal(np.asarray(states.tiles.base[i]), expected)
    # The same key picks the same map again.
    again = BARE_VRESET(keys)
    np.testing.assert_array_equal(np.asarray(again.map_index), indices)


# --- sample_actions honours the masks

MASK_MAP = """
    ~ ~ ~ . .
    # 1 . . #
    . . . 2 ~
    . . . . .
"""
MASK_CFG, MASK_STATE = scenario.build(
    MASK_MAP, players={3: dict(row=3, col=0, alive=False, health=0)}
)
MASK_ENV = nj.Env(MASK_CFG)
MANY_SAMPLES = jax.jit(jax.vmap(MASK_ENV.sample_actions, in_axes=(0, None)))


def test_sample_actions_draws_only_and_all_allowed_moves():
    obs = OBSERVE(MASK_STATE, MASK_CFG)
    mask = np.asarray(obs.action_mask.move)
    #                              N  S  E  W  Stay
    expected = np.array(
        [
            [0, 1, 1, 0, 1],  # player 1: water north, stone west
            [1, 1, 0, 1, 1],  # player 2: water east
            [0, 0, 0, 0, 1],
        ],  # player 3 is dead: Stay only
        bool,
    )
    np.testing.assert_array_equal(mask, expected)

    draws = 3000
    samples = np.asarray(MANY_SAMPLES(jax.random.split(jax.random.key(1), draws), obs))
    assert samples.shape == (draws, MASK_CFG.player_n, len(nj.ACTION_HEADS))
    assert samples.dtype == np.int32
    for agent in range(MASK_CFG.player_n):
        allowed = np.flatnonzero(expected[agent])
        counts = np.bincount(samples[:, agent, 0], minlength=5)
        assert set(np.flatnonzero(counts)) == set(allowed), (agent, counts)
        # Uniform among the allowed choices (loose bound: 3000 draws, >= 3/4 of the mean).
        assert counts[allowed].min() >= 0.75 * draws / len(allowed), (agent, counts)


UNIFORM_CHOICE = jax.jit(uniform_choice)
SAMPLE_CHOICE = jax.jit(sample_choice)


@settings(max_examples=60, deadline=None)
@given(
    size=st.sampled_from([1, 3, 5, 13, 31, 32, 33, 99, 100, 127, 129, 257, 385]),
    density=st.sampled_from([0.0, 0.01, 0.3, 1.0]),
    seed=st.integers(0, 2**31 - 1),
)
def test_uniform_choice_is_the_kth_allowed_index(size, density, seed):
    """uniform_choice(u, mask) is the k-th allowed index (k = floor(u * allowed), counting from
    0), or the last index when none is allowed: by enumeration, for every head width of the
    Default game, the extremes of u included."""
    rng = np.random.default_rng(seed)
    mask = rng.random((64, size)) < density
    u = rng.random(64).astype(np.float32)
    u[:2] = [0.0, np.nextafter(np.float32(1), np.float32(0))]
    got = np.asarray(UNIFORM_CHOICE(jnp.asarray(u), jnp.asarray(mask)))
    for i in range(64):
        allowed = np.flatnonzero(mask[i])
        k = int(np.floor(u[i] * np.float32(len(allowed))))
        assert got[i] == (allowed[k] if k < len(allowed) else size - 1), (i, allowed, u[i])


@pytest.mark.parametrize("size", [1, 5, 13, 99, 385])
def test_sample_choice_is_uniform_among_the_allowed(size):
    """Env.sample_actions' draw (env.sample_choice): only allowed lanes, each as often as the
    others (a chi-square within 5 standard deviations of its mean, 100,000 draws), and C - 1
    for a mask that allows nothing."""
    rng = np.random.default_rng(size)
    mask = rng.random(size) < 0.4
    mask[rng.integers(size)] = True
    draws = 100_000
    bits = ops.random_bits(jax.random.key(size), (draws,))
    got = np.asarray(SAMPLE_CHOICE(bits, jnp.broadcast_to(jnp.asarray(mask), (draws, size))))
    counts = np.bincount(got, minlength=size)
    allowed = np.flatnonzero(mask)
    assert set(np.flatnonzero(counts)) == set(allowed)
    expected = draws / len(allowed)
    chi2 = ((counts[allowed] - expected) ** 2 / expected).sum()
    dof = len(allowed) - 1
    assert chi2 <= dof + 5 * np.sqrt(2 * max(dof, 1)), (chi2, dof)
    none = np.asarray(SAMPLE_CHOICE(bits[:3], jnp.zeros((3, size), bool)))
    np.testing.assert_array_equal(none, size - 1)


# --- out-of-range actions inside jit are Stay

OPEN_MAP = """
    . . . . . .
    . 1 . 2 . .
    . . . . . .
    . 3 . 4 . 5
    . . . . . .
"""
OPEN_CFG, OPEN_STATE = scenario.build(OPEN_MAP)
OPEN_ENV = nj.Env(OPEN_CFG)
OPEN_STEP = jax.jit(OPEN_ENV.step)
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def test_out_of_range_actions_inside_jit_are_stay():
    key = jax.random.key(2)
    stay = OPEN_ENV.actions(move=STAY)
    # Sanity: valid moves do move everyone (all four neighbours are grass).
    moved = OPEN_STEP(key, OPEN_STATE, OPEN_ENV.actions(move=jnp.array([0, 1, 2, 3, 0])))
    assert (np.asarray(moved[1].entities.row) != np.asarray(OPEN_STATE.entities.row)).any()
    assert (np.asarray(moved[1].entities.col) != np.asarray(OPEN_STATE.entities.col)).any()

    expected = OPEN_STEP(key, OPEN_STATE, stay)
    for bad in ([5], [99], [-3], [-1], [INT32_MAX], [INT32_MIN]):
        actions = OPEN_ENV.actions(move=bad[0])
        assert_trees_equal(OPEN_STEP(key, OPEN_STATE, actions), expected)
    mixed = OPEN_ENV.actions(move=jnp.array([5, 99, -3, -1, INT32_MIN]))
    assert_trees_equal(OPEN_STEP(key, OPEN_STATE, mixed), expected)
    # Mixed with valid moves: the out-of-range agents stay, the others move.
    partly = OPEN_ENV.actions(move=jnp.array([7, 1, -3, 3, 99]))
    same = OPEN_ENV.actions(move=jnp.array([STAY, 1, STAY, 3, STAY]))
    assert_trees_equal(OPEN_STEP(key, OPEN_STATE, partly), OPEN_STEP(key, OPEN_STATE, same))


def test_out_of_range_actions_inside_jit_are_stay_on_a_real_map():
    key = jax.random.key(8)
    obs, state = RESET(key)
    rng = np.random.default_rng(0)
    for t in range(3):
        k_act, k_step = jax.random.split(jax.random.fold_in(key, t))
        valid = np.asarray(SAMPLE(k_act, obs)).copy()
        bad_agents = rng.random(N) < 0.5
        bad_agents[0] = True
        bad = valid.copy()
        bad[bad_agents, 0] = rng.choice([5, 6, 99, -1, -3, -5, INT32_MAX], bad_agents.sum())
        valid[bad_agents, 0] = STAY
        out_bad = STEP(k_step, state, jnp.asarray(bad))
        out_valid = STEP(k_step, state, jnp.asarray(valid))
        assert_trees_equal(out_bad, out_valid)
        obs, state = out_valid[0], out_valid[1]


# --- VmapAutoReset (on the plain small world: its plain step is VSTEP; episodes are brought to
# the horizon by setting the tick)

HORIZON = SMALL.horizon
AUTO = nj.VmapAutoReset(ENV)
AUTO_RESET = jax.jit(AUTO.reset)
AUTO_STEP = jax.jit(AUTO.step)
NOOPS = jnp.broadcast_to(ENV.noop_actions, (N_ENVS,) + ENV.noop_actions.shape)


def test_vmap_auto_reset_resets_only_finished_envs():
    n_envs = N_ENVS
    _, states = AUTO_RESET(jax.random.split(jax.random.key(21), n_envs))
    # Env 0 is one step from the horizon; envs 1 and 2 three steps.
    states = states.replace(tick=jnp.array([HORIZON - 1, HORIZON - 3, HORIZON - 3], jnp.int32))
    actions = NOOPS

    for t in range(3):
        keys = jax.random.split(jax.random.fold_in(jax.random.key(22), t), n_envs)
        step_keys = jax.vmap(jax.random.split)(keys)[:, 0]
        reset_keys = jax.vmap(jax.random.split)(keys)[:, 1]
        plain = VSTEP(step_keys, states, actions)
        new_obs, new_states, reward, terminated, truncated, info = AUTO_STEP(keys, states, actions)

        over = np.asarray(info["episode_over"])
        last = t == 2
        expected_over = [True, False, False] if t == 0 else [False, last, last]
        np.testing.assert_array_equal(over, expected_over)
        # Rewards, flags and info of the step itself are the plain step's, resets or not.
        assert_trees_equal((reward, terminated, truncated), plain[2:5])
        for name in ("alive", "active", "episode_over"):
            np.testing.assert_array_equal(np.asarray(info[name]), np.asarray(plain[5][name]))
        # final_observation is the pre-reset observation of every env.
        assert_trees_equal(info["final_observation"], plain[0])
        np.testing.assert_array_equal(np.asarray(truncated).all(axis=1), over)

        fresh_obs, fresh_states = AUTO_RESET(reset_keys)
        for i in range(n_envs):
            if over[i]:
                assert int(info["final_observation"].tick[i]) == HORIZON
                assert_trees_equal(_index(new_obs, i), _index(fresh_obs, i))
                assert_trees_equal(_index(new_states, i), _index(fresh_states, i))
                assert int(new_states.tick[i]) == 0
            else:
                assert_trees_equal(_index(new_obs, i), _index(plain[0], i))
                assert_trees_equal(_index(new_states, i), _index(plain[1], i))
        states = new_states

    # After three steps: env 0 restarted and ran two steps; envs 1 and 2 just restarted.
    np.testing.assert_array_equal(np.asarray(states.tick), [2, 0, 0])


def test_vmap_auto_reset_resets_an_env_whose_players_all_died():
    n_envs = N_ENVS  # the batch size of the test above: no recompilation
    _, states = AUTO_RESET(jax.random.split(jax.random.key(23), n_envs))
    # Every player of env 1 is about to die of a last hit of starvation and dehydration.
    health = states.entities.health.at[1, :N].set(10)
    food = states.entities.food.at[1, :N].set(0)
    water = states.entities.water.at[1, :N].set(0)
    states = states.replace(entities=states.entities.replace(health=health, food=food, water=water))
    keys = jax.random.split(jax.random.key(24), n_envs)
    new_obs, new_states, reward, terminated, truncated, info = AUTO_STEP(keys, states, NOOPS)
    np.testing.assert_array_equal(np.asarray(info["episode_over"]), [False, True, False])
    np.testing.assert_array_equal(np.asarray(terminated[1]), np.ones(N, bool))
    np.testing.assert_array_equal(np.asarray(reward[1]), -np.ones(N, np.float32))
    # Env 1 was reset (everyone alive again at tick 0); env 0 continued.
    assert np.asarray(new_states.entities.alive[1, :N]).all()
    np.testing.assert_array_equal(np.asarray(new_states.tick), [1, 0, 1])
    # The final observation shows the dead: their own rows are zeros.
    final = info["final_observation"]
    assert not np.asarray(final.agent[1]).any()
    assert np.asarray(new_obs.agent[1]).any()


def test_vmap_auto_reset_batch_of_one_resets_exactly_when_over():
    # A batch of one takes a lax.cond instead of the while loop (nmmo_jax.env.VmapAutoReset).
    _, states = AUTO_RESET(jax.random.split(jax.random.key(25), 1))
    states = states.replace(tick=jnp.array([HORIZON - 3], jnp.int32))  # three steps from it
    actions = ENV.noop_actions[None]
    for t in range(4):
        keys = jax.random.split(jax.random.fold_in(jax.random.key(26), t), 1)
        reset_keys = jax.vmap(jax.random.split)(keys)[:, 1]
        _, new_states, _, _, _, info = AUTO_STEP(keys, states, actions)
        over = bool(info["episode_over"][0])
        assert over == (t == 2)
        if over:
            assert int(info["final_observation"].tick[0]) == HORIZON
            assert_trees_equal(new_states, AUTO_RESET(reset_keys)[1])
        else:
            assert int(new_states.tick[0]) == int(states.tick[0]) + 1
        states = new_states
    assert int(states.tick[0]) == 1
