"""Episodes: rewards, done flags, the end of an episode and auto-reset (SPEC 13.3, 13.4, 13.6).

Every expected value is worked out by hand from the SPEC; the arithmetic is in the comments.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

import nmmo_jax
from nmmo_jax import scenario
from nmmo_jax.state import ENTITY_COLUMNS

FOOD, WATER, HEALTH = (ENTITY_COLUMNS.index(name) for name in ("food", "water", "health"))

# Player 1 is well; player 3 is dead from the start (a placeholder row).
LINE = "1 . 2 . 3"
DEAD = dict(alive=False, health=0)


@functools.cache
def _compiled_step(cfg):
    return jax.jit(nmmo_jax.Env(cfg).step)


def step(cfg, state):
    """One jitted step in which nobody acts."""
    actions = nmmo_jax.Env(cfg).noop_actions
    return _compiled_step(cfg)(jax.random.key(int(state.tick)), state, actions)


def as_list(array):
    return np.asarray(array).tolist()


def test_reward_is_one_over_the_horizon_per_tick_alive_and_minus_one_on_death():
    # Player 2: 10 health, no food: 10 - 10 = 0 in step 1 (SPEC 3.3).
    cfg, state = scenario.build(LINE, players={2: dict(health=10, food=0), 3: DEAD})
    assert cfg.horizon == 1024  # the Default horizon
    _, state, reward, terminated, truncated, info = step(cfg, state)
    assert reward.dtype == jnp.float32
    # 1 / 1024 = 2**-10 = 0.0009765625 exactly (SPEC 13.4); -1 for the death step; 0 if dead.
    assert as_list(reward) == [0.0009765625, -1.0, 0.0]
    assert as_list(terminated) == [False, True, False]
    assert as_list(truncated) == [False, False, False]
    assert as_list(info["alive"]) == [True, False, False]
    assert as_list(info["active"]) == [True, True, False]
    assert not bool(info["episode_over"])

    _, state, reward, terminated, truncated, info = step(cfg, state)
    assert as_list(reward) == [0.0009765625, 0.0, 0.0]
    assert as_list(terminated) == [False, False, False]  # only in the step of death
    assert as_list(info["active"]) == [True, False, False]


def test_all_dead_ends_the_episode():
    # 20 and 40 health without food or water: -20 per step, so player 1 dies in step 1 and
    # player 2 in step 2.
    cfg, state = scenario.build(
        LINE,
        players={1: dict(health=20, food=0, water=0), 2: dict(health=40, food=0, water=0), 3: DEAD},
    )
    _, state, reward, terminated, truncated, info = step(cfg, state)
    assert as_list(terminated) == [True, False, False]
    assert not bool(info["episode_over"])  # player 2 still lives

    _, state, reward, terminated, truncated, info = step(cfg, state)
    assert as_list(reward) == [0.0, -1.0, 0.0]
    assert as_list(terminated) == [False, True, False]
    assert as_list(truncated) == [False, False, False]
    assert bool(info["episode_over"])


def test_truncation_at_the_horizon():
    # Player 2 starves and dehydrates: 100 - 20 per step reaches 0 in step 5, the horizon.
    cfg, state = scenario.build(LINE, players={2: dict(food=0, water=0), 3: DEAD}, horizon=5)
    fifth = np.float32(1 / 5)
    for _ in range(4):
        _, state, reward, terminated, truncated, info = step(cfg, state)
        assert as_list(reward) == [fifth, fifth, 0.0]
        assert not np.asarray(truncated).any() and not bool(info["episode_over"])

    # Step 5: realm.tick reaches the horizon. The living are truncated (and still rewarded for
    # this tick); the agent dying in this step is terminated, not truncated, with -1.
    obs, state, reward, terminated, truncated, info = step(cfg, state)
    assert int(state.tick) == 5 and int(obs.tick) == 5
    assert as_list(reward) == [fifth, -1.0, 0.0]
    assert as_list(terminated) == [False, True, False]
    assert as_list(truncated) == [True, False, False]
    assert bool(info["episode_over"])

    # Steps past the horizon are allowed: reward 0, still truncated (SPEC 13.3).
    _, state, reward, terminated, truncated, info = step(cfg, state)
    assert as_list(reward) == [0.0, 0.0, 0.0]
    assert as_list(truncated) == [True, False, False]
    assert bool(info["episode_over"])


def test_auto_reset_starts_a_new_episode_and_keeps_the_final_observation():
    cfg = nmmo_jax.Config.small(horizon=3)
    env = nmmo_jax.AutoReset(nmmo_jax.Env(cfg))
    obs, state = jax.jit(env.reset)(jax.random.key(0))  # eager: ~7 s of op-by-op dispatch
    step_fn = jax.jit(env.step)
    noop = env.noop_actions

    for k in (1, 2):
        obs, state, reward, terminated, truncated, info = step_fn(jax.random.key(k), state, noop)
        assert not bool(info["episode_over"])
        assert int(state.tick) == k and int(obs.tick) == k
        # Without a reset the final observation is this step's observation.
        np.testing.assert_array_equal(
            np.asarray(info["final_observation"].agent), np.asarray(obs.agent)
        )

    obs, state, reward, terminated, truncated, info = step_fn(jax.random.key(3), state, noop)
    n = cfg.player_n
    assert bool(info["episode_over"])
    assert as_list(truncated) == [True] * n and as_list(terminated) == [False] * n
    # the task reward is the progress increase, 1 - 2/3 (SPEC 13.4: equal to 1/3 up to the
    # rounding of the difference, which the reference's float64 shows too)
    np.testing.assert_allclose(np.asarray(reward), np.full(n, 1 / 3, np.float32), rtol=1e-6)

    # The finished episode's last observation: tick 3; agents spawned on edge grass and stayed,
    # and no edge tile is next to water or on foilage (SPEC 2.2, 3.1), so food and water are
    # 100 - 3 * 5 = 85 and health stayed 100.
    final = info["final_observation"]
    assert int(final.tick) == 3
    np.testing.assert_array_equal(np.asarray(final.agent[:, FOOD]), np.full(n, 85))
    np.testing.assert_array_equal(np.asarray(final.agent[:, WATER]), np.full(n, 85))
    np.testing.assert_array_equal(np.asarray(final.agent[:, HEALTH]), np.full(n, 100))

    # The new episode: tick 0, everybody alive and full.
    assert int(state.tick) == 0 and int(obs.tick) == 0
    assert bool(state.players.alive.all())
    np.testing.assert_array_equal(np.asarray(obs.agent[:, FOOD]), np.full(n, 100))
    np.testing.assert_array_equal(np.asarray(obs.agent[:, WATER]), np.full(n, 100))
    np.testing.assert_array_equal(np.asarray(state.events.episode), 0)
