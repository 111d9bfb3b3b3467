"""Invariants over random seeds and random action arrays (hypothesis; DESIGN "Conventions").

Out-of-range action values are part of the draws: inside jit they must act as Stay. Each example
runs up to 40 steps of a jitted env.step compiled once for the module, and checks after every
step: food, water and health within their bounds, rewards finite and in {-1, 0, 1/horizon} as the
flags say, the dead stay dead and frozen, the living stand on passable tiles inside the map,
and the number alive never grows.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nmmo_jax as nj
from nmmo_jax import material as m
from nmmo_jax import scenario
from nmmo_jax.state import material

SMALL = nj.Config.small()
ENV = nj.Env(SMALL)
N = SMALL.player_n
RESET = jax.jit(ENV.reset)
STEP = jax.jit(ENV.step)
MAX_STEPS = 40

# A crowded little world with water, foilage and stone, where moving into an occupied tile fails.
CROWD_MAP = """
    . . ~ . . .
    . 1 . 2 # .
    f . 3 . . f
    . 4 . 5 6 .
    # . . ~ . .
"""
CROWD_CFG, CROWD_STATE = scenario.build(CROWD_MAP, allow_move_into_occupied_tile=False, horizon=64)
CROWD_STEP = jax.jit(nj.Env(CROWD_CFG).step)

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# In range (0..4) half the time, else values the jitted step must treat as Stay.
ACTION = st.one_of(
    st.integers(0, 4),
    st.sampled_from([5, 6, 99, -1, -3, -5, 2**31 - 1, -(2**31)]),
)


# Use / Destroy: an inventory row, the no-op (12) or out of range.
ITEM_ACTION = st.one_of(st.integers(0, 12), st.sampled_from([13, 99, -1, 2**31 - 1, -(2**31)]))


# Attack: a style and an entity slot, in range or not (the small configs have <= 16 slots).
STYLE = st.one_of(st.integers(0, 2), st.sampled_from([3, -1, 2**31 - 1]))
TARGET = st.one_of(st.integers(0, 16), st.sampled_from([17, 99, -1, -(2**31)]))
# GiveGold amount and Sell price (99 choices), a Market row (384 + the no-op), a Comm token
# (127 + the no-op), in range or not.
PRICE = st.one_of(st.integers(0, 98), st.sampled_from([99, -1, 2**31 - 1]))
MARKET_ROW = st.one_of(st.integers(0, 384), st.sampled_from([385, -1, -(2**31)]))
TOKEN = st.one_of(st.integers(0, 127), st.sampled_from([128, -1, 2**31 - 1]))


@st.composite
def action_arrays(draw, n_players: int):
    """int32 [steps, n_players, 13] (every head of env.action_heads): 1 to MAX_STEPS steps
    (uniform, not biased to short runs)."""
    steps = draw(st.integers(1, MAX_STEPS))
    agent = st.tuples(
        ACTION,
        ITEM_ACTION,
        ITEM_ACTION,
        STYLE,
        TARGET,
        ITEM_ACTION,
        TARGET,
        PRICE,
        TARGET,
        ITEM_ACTION,
        PRICE,
        MARKET_ROW,
        TOKEN,
    )
    rows = draw(
        st.lists(
            st.lists(agent, min_size=n_players, max_size=n_players), min_size=steps, max_size=steps
        )
    )
    return np.array(rows, np.int64).astype(np.int32)


def vitals(n_players: int):
    """Starting (health, food, water) per player: low values make deaths happen early."""
    return st.lists(
        st.tuples(st.integers(1, 100), st.integers(0, 100), st.integers(0, 100)),
        min_size=n_players,
        max_size=n_players,
    )


def with_vitals(state, values):
    values = np.array(values, np.int32)
    n = values.shape[0]
    ent = state.entities
    return state.replace(
        entities=ent.replace(
            health=ent.health.at[:n].set(values[:, 0]),
            food=ent.food.at[:n].set(values[:, 1]),
            water=ent.water.at[:n].set(values[:, 2]),
        )
    )


def check_step(cfg, before, out, actions):
    """All the invariants of one step from state `before` to `out` = step(...)."""
    obs, after, reward, terminated, truncated, info = jax.device_get(out)
    before = jax.device_get(before)
    n = cfg.player_n
    e0, e1 = before.entities, after.entities
    alive0, alive1 = e0.alive[:n], e1.alive[:n]

    # Bounds (SPEC 3.2: health [0, base health], food and water [0, 100]).
    for name, hi in (
        ("health", cfg.player_base_health),
        ("food", cfg.resource_base),
        ("water", cfg.resource_base),
    ):
        column = getattr(e1, name)[:n]
        assert ((column >= 0) & (column <= hi)).all(), (name, column)
    assert (e1.health[:n][alive1] > 0).all()

    # Rewards and flags (SPEC 13.3, 13.4).
    assert reward.dtype == np.float32 and np.isfinite(reward).all()
    survive = np.float32(1.0 / cfg.horizon) if after.tick <= cfg.horizon else np.float32(0)
    assert np.isin(reward, np.array([-1.0, 0.0, 1.0 / cfg.horizon], np.float32)).all()
    np.testing.assert_array_equal(terminated, alive0 & ~alive1)
    np.testing.assert_array_equal(reward[terminated], -1.0)
    np.testing.assert_array_equal(reward[alive1], survive)
    np.testing.assert_array_equal(reward[~alive0], 0.0)
    np.testing.assert_array_equal(truncated, alive1 & (after.tick >= cfg.horizon))
    np.testing.assert_array_equal(info["alive"], alive1)
    np.testing.assert_array_equal(info["active"], alive0)
    assert after.tick == before.tick + 1

    # The dead stay dead; the alive count never grows.
    assert not (alive1 & ~alive0).any()
    assert alive1.sum() <= alive0.sum()
    # The rows of dead players do not change any more (NPC slots are reused by new spawns).
    dead = ~alive0
    for f in dataclasses.fields(e0):
        column0, column1 = getattr(e0, f.name)[:n], getattr(e1, f.name)[:n]
        np.testing.assert_array_equal(column1[dead], column0[dead], err_msg=f.name)
    # NPCs (SPEC 6): never more than NPC_N, on passable tiles, health within [1, 100] when
    # alive, distinct ids, and every NPC attacked or moved at most one tile.
    npc_alive = e1.alive[n:]
    assert npc_alive.sum() <= cfg.npc_n
    npc_health = e1.health[n:][npc_alive]
    assert ((npc_health > 0) & (npc_health <= cfg.player_base_health)).all()
    ids = e1.id[n:][npc_alive]
    assert (ids < 0).all() and len(np.unique(ids)) == len(ids)
    assert m.is_passable(after.tiles.base[e1.row[n:][npc_alive], e1.col[n:][npc_alive]]).all()
    stayed = e0.alive[n:] & npc_alive & (e0.id[n:] == e1.id[n:])
    npc_step = np.abs(e1.row[n:] - e0.row[n:]) + np.abs(e1.col[n:] - e0.col[n:])
    assert (npc_step[stayed] <= 1).all()
    # Gold is never negative, and trade and gifts only move it: the players' total grows only
    # by loot from NPCs (whose gold comes with their spawn).
    assert (e1.gold >= 0).all()
    npc_gold = np.where(e0.alive[n:], e0.gold[n:], 0).sum()
    assert e1.gold[:n].sum() <= e0.gold[:n].sum() + npc_gold

    # Positions: the living move at most one tile (N/S/E/W) and stand on passable tiles.
    row0, col0, row1, col1 = e0.row[:n], e0.col[:n], e1.row[:n], e1.col[:n]
    step_len = np.abs(row1 - row0) + np.abs(col1 - col0)
    assert (step_len <= 1).all()
    lo, hi = cfg.map_border, cfg.map_size - cfg.map_border
    live = alive1
    assert ((row1[live] >= lo) & (row1[live] <= hi) & (col1[live] >= lo) & (col1[live] <= hi)).all()
    assert m.is_passable(after.tiles.base[row1[live], col1[live]].astype(np.int64)).all()
    shown = np.asarray(material(after.tiles, after.tick))
    assert m.is_passable(shown[row1[live], col1[live]].astype(np.int64)).all()
    # Out-of-range actions (and Stay) never move anyone.
    still = (actions[:, 0] < 0) | (actions[:, 0] >= 4)
    assert (step_len[still] == 0).all()

    # The observation agrees: the dead see zeros and are not seen; the living see their tile.
    assert not obs.agent[~alive1].any()
    assert not obs.window[~alive1].any()
    dead_rows = np.flatnonzero(~after.entities.alive) + 1
    entity = np.asarray(obs.entity)
    assert not np.isin(entity, dead_rows).any()
    r = cfg.player_vision_radius
    tile = np.asarray(obs.tile)
    np.testing.assert_array_equal(tile[live, r, r], shown[row1[live], col1[live]])
    return after


@PROPERTY_SETTINGS
@given(seed=st.integers(0, 2**32 - 1), actions=action_arrays(N), start=vitals(N))
def test_invariants_on_random_small_worlds(seed, actions, start):
    key = jax.random.key(seed)
    _, state = RESET(jax.random.fold_in(key, 0))
    state = with_vitals(state, start)
    for t, step_actions in enumerate(actions):
        out = STEP(jax.random.fold_in(key, t + 1), state, jnp.asarray(step_actions))
        state = check_step(SMALL, state, out, step_actions)


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    actions=action_arrays(CROWD_CFG.player_n),
    start=vitals(CROWD_CFG.player_n),
)
def test_invariants_in_a_crowd_without_shared_tiles(seed, actions, start):
    key = jax.random.key(seed)
    state = with_vitals(CROWD_STATE, start)
    for t, step_actions in enumerate(actions):
        out = CROWD_STEP(jax.random.fold_in(key, t), state, jnp.asarray(step_actions))
        state = check_step(CROWD_CFG, state, out, step_actions)
        # With ALLOW_MOVE_INTO_OCCUPIED_TILE off, no two living players ever share a tile.
        ent = state.entities
        cells = (ent.row * CROWD_CFG.map_size + ent.col)[ent.alive]
        assert len(np.unique(cells)) == len(cells)
