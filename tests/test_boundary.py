"""Bad input at the Python boundary raises a ValueError naming the field (DESIGN "Conventions").

Config values, the Env constructor, action arrays handed to env.step eagerly, and scenario
drawings. Nothing here runs a game step, so the module is cheap.
"""

import dataclasses
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nmmo_jax as nj
from nmmo_jax import scenario
from nmmo_jax.config import MAX_HORIZON

SMALL = nj.Config.small()
ENV = nj.Env(SMALL)
N = SMALL.player_n
HEADS = len(nj.ACTION_HEADS)
KEY = jax.random.key(0)


def _raises(field: str, **kwargs):
    """Config.small(**kwargs) raises a ValueError whose message names `field`."""
    with pytest.raises(ValueError, match=re.escape(field)):
        nj.Config.small(**kwargs)


# --- Config fields


@pytest.mark.parametrize(
    "field, value",
    [
        ("player_n", 0),
        ("player_n", -1),
        ("player_n", 5000),
        ("horizon", 40000),
        ("horizon", 0),
        ("horizon", MAX_HORIZON),
        ("npc_n", -1),
        ("player_vision_radius", 0),
        ("player_vision_radius", 16),
        ("map_size", 8),
        ("map_n", 0),
        ("terrain_water", -0.1),
        ("terrain_water", 1.5),
        ("terrain_frequency", 1.0),
        ("resource_damage_reduction", 2.0),
        ("progression_spawn_clusters", -1),
    ],
)
def test_config_out_of_range_names_the_field(field, value):
    _raises(field, **{field: value})


@pytest.mark.parametrize(
    "field, value",
    [
        ("player_n", "8"),
        ("player_n", 8.0),
        ("player_n", True),  # a bool is not an int here
        ("player_n", None),
        ("horizon", np.float32(3)),
        ("map_size", [64]),
        ("immortal", 1),
        ("immortal", "yes"),
        ("terrain_flip_seed", None),
        ("terrain_water", "0.3"),
        ("terrain_water", float("nan")),
        ("terrain_grass", True),
    ],
)
def test_config_wrong_type_names_the_field(field, value):
    _raises(field, **{field: value})


def test_config_accepts_ints_for_float_fields_and_edge_values():
    cfg = nj.Config.small(terrain_water=0, terrain_grass=1, terrain_foilage=1)
    assert cfg.terrain_water == 0
    assert nj.Config.small(horizon=1).horizon == 1
    assert nj.Config.small(horizon=MAX_HORIZON - 1).horizon == MAX_HORIZON - 1
    assert nj.Config.small(player_n=1).player_n == 1


def test_config_map_size_and_map_center_must_agree():
    # map_size - map_center must be even (the border is the same on both sides).
    with pytest.raises(ValueError, match="map_center") as info:
        nj.Config.small(map_size=64, map_center=33)
    assert "map_size" in str(info.value)
    # The centre must fit inside the map.
    _raises("map_center", map_size=64, map_center=64)
    _raises("map_center", map_size=64, map_center=100)


def test_config_vision_must_fit_inside_the_border():
    # border = (48 - 32) // 2 = 8 must exceed the vision radius: 7 is valid, 8 and 9 are not
    cfg = nj.Config.small(map_size=48, map_center=32, player_vision_radius=7)
    assert cfg.map_border == 8
    _raises("player_vision_radius", map_size=48, map_center=32, player_vision_radius=8)
    _raises("player_vision_radius", map_size=48, map_center=32, player_vision_radius=9)


def test_config_terrain_thresholds_must_be_ordered():
    _raises("terrain_water", terrain_water=0.8)  # above terrain_grass 0.7
    _raises("terrain_grass", terrain_grass=0.9)  # above terrain_foilage 0.85
    _raises("terrain_foilage", terrain_foilage=0.5)


def test_config_too_many_players_for_the_spawn_edge():
    # 4 * map_center spawn tiles: 128 for the small map.
    assert nj.Config.small(player_n=128).player_n == 128
    _raises("player_n", player_n=129)


def test_config_replace_and_preset_validate():
    with pytest.raises(ValueError, match="player_n"):
        SMALL.replace(player_n=0)
    with pytest.raises(ValueError, match="preset"):
        nj.Config.preset("huge")
    assert nj.Config.preset("small") == SMALL


# --- Config is static and hashable


def test_config_is_frozen_and_hashable():
    a, b = nj.Config.small(), nj.Config.small()
    assert a == b and hash(a) == hash(b)
    assert a != nj.Config.small(horizon=64)
    assert {a: 1}[b] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.player_n = 3  # type: ignore[misc]
    # Env hashes by its config too (jax.jit(env.step) may be cached by the bound method).
    assert hash(nj.Env(a)) == hash(nj.Env(b)) and nj.Env(a) == nj.Env(b)


def test_config_as_a_static_jit_argument():
    traces = []

    def f(x, cfg):
        traces.append(cfg)
        return x * cfg.player_n + cfg.horizon

    g = jax.jit(f, static_argnums=1)
    assert int(g(jnp.int32(2), nj.Config.small())) == 2 * 8 + 128
    assert int(g(jnp.int32(3), nj.Config.small())) == 3 * 8 + 128  # equal config: cached
    assert len(traces) == 1
    assert int(g(jnp.int32(2), nj.Config.small(horizon=64))) == 2 * 8 + 64
    assert len(traces) == 2
    h = jax.jit(f, static_argnames="cfg")
    assert int(h(jnp.int32(1), cfg=nj.Config.small())) == 8 + 128


@pytest.mark.parametrize("name", nj.Config.PRESETS)
def test_presets_build(name):
    cfg = nj.Config.preset(name)
    assert cfg == getattr(nj.Config, name)()
    assert cfg.map_border > cfg.player_vision_radius
    assert cfg.n_entities == cfg.player_n + cfg.npc_n
    assert nj.Env(cfg).num_agents == cfg.player_n


def test_preset_values():
    assert (SMALL.player_n, SMALL.map_size, SMALL.map_center) == (8, 64, 32)
    medium = nj.Config.medium()
    assert medium == nj.Config()
    assert (medium.player_n, medium.map_size, medium.map_center) == (128, 160, 128)
    assert medium.horizon == 1024
    large = nj.Config.large()
    assert (large.player_n, large.map_size, large.map_center) == (1024, 1056, 1024)
    assert nj.Config.small(horizon=5).horizon == 5


# --- Env


@pytest.mark.parametrize("bad", ["x", 3, {"player_n": 8}, nj.Config])
def test_env_rejects_a_non_config(bad):
    with pytest.raises(ValueError, match="cfg"):
        nj.Env(bad)


def test_env_default_config():
    assert nj.Env().cfg == nj.Config()
    assert nj.Env(None).cfg == nj.Config()


# --- actions at the boundary (eager)

# A state to step with: a hand-built scenario (no map generation, nothing compiled here, since a
# ValueError is raised before any computation).
CFG_S, STATE_S = scenario.build(". 1 . 2 .\n. . . . .")
ENV_S = nj.Env(CFG_S)


@pytest.mark.parametrize(
    "shape",
    [(N,), (N, HEADS + 1), (N - 1, HEADS), (N + 1, HEADS), (HEADS, N), (1, N, HEADS), ()],
)
def test_step_rejects_actions_of_the_wrong_shape(shape):
    with pytest.raises(ValueError, match="shape"):
        ENV.step(KEY, None, np.zeros(shape, np.int32))
    with pytest.raises(ValueError, match="actions"):
        ENV.check_actions(jnp.zeros(shape, jnp.int32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.bool_, np.complex64])
def test_step_rejects_non_integer_actions(dtype):
    actions = np.full((N, HEADS), 4, dtype)
    with pytest.raises(ValueError, match="dtype"):
        ENV.step(KEY, None, actions)
    with pytest.raises(ValueError, match="dtype"):
        ENV.step(KEY, None, jnp.asarray(actions))


def test_step_rejects_a_nested_list_of_floats():
    with pytest.raises(ValueError, match="dtype"):
        ENV.check_actions([[4.0] * HEADS] * N)


@pytest.mark.parametrize("value", [5, 6, 99, -1, -3, 2**31 - 1, -(2**31)])
def test_step_rejects_out_of_range_actions_eagerly(value):
    actions = np.full((N, HEADS), 4, np.int64)
    actions[3, 0] = value
    with pytest.raises(ValueError, match="move") as info:
        ENV.step(KEY, None, actions)
    message = str(info.value)
    assert "actions" in message and str(value) in message and "agent index 3" in message
    with pytest.raises(ValueError, match="move"):
        ENV.step(KEY, None, jnp.asarray(actions, jnp.int32))


def test_step_rejects_out_of_range_actions_on_a_scenario():
    with pytest.raises(ValueError, match="move"):
        ENV_S.step(KEY, STATE_S, ENV_S.actions(move=jnp.array([0, 5])))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32])
def test_check_actions_accepts_integer_dtypes_in_range(dtype):
    actions = np.arange(N * HEADS).reshape(N, HEADS) % 3  # every head allows 0..2
    out = ENV.check_actions(actions.astype(dtype))
    assert out.dtype == jnp.int32 and out.shape == (N, HEADS)
    np.testing.assert_array_equal(np.asarray(out), actions)


def test_check_actions_accepts_nested_lists():
    noop = list(ENV.noop_actions[0].tolist())
    out = ENV.check_actions([[i % 5] + noop[1:] for i in range(N)])
    assert out.dtype == jnp.int32
    np.testing.assert_array_equal(np.asarray(out)[:, 0], np.arange(N) % 5)


def test_check_actions_inside_jit_checks_shape_and_dtype_only():
    ok = jax.jit(ENV.check_actions)(jnp.full((N, HEADS), 99, jnp.int32))  # values: not checked
    assert ok.shape == (N, HEADS)
    with pytest.raises(ValueError, match="shape"):
        jax.jit(ENV.check_actions)(jnp.zeros((N, HEADS + 1), jnp.int32))
    with pytest.raises(ValueError, match="dtype"):
        jax.jit(ENV.check_actions)(jnp.zeros((N, HEADS), jnp.float32))


# --- scenario drawings


def test_scenario_parse_reads_the_legend_and_players():
    tiles, players = scenario.parse("~ . 1\n# f 2")
    assert tiles.dtype == np.int8 and tiles.shape == (2, 3)
    assert players == {1: (0, 2), 2: (1, 2)}
    m = nj.material
    expected = [[m.WATER, m.GRASS, m.GRASS], [m.STONE, m.FOILAGE, m.GRASS]]
    np.testing.assert_array_equal(tiles, expected)


@pytest.mark.parametrize("char", ["?", "X", "0", "@", "*"])
def test_scenario_parse_rejects_unknown_characters(char):
    with pytest.raises(ValueError, match="legend") as info:
        scenario.parse(f". . .\n. {char} .")
    assert repr(char) in str(info.value) and "(1, 1)" in str(info.value)


def test_scenario_parse_rejects_ragged_rows():
    with pytest.raises(ValueError, match="rows"):
        scenario.parse(". . .\n. .\n. . .")
    with pytest.raises(ValueError, match="rows"):
        scenario.build(". 1 .\n. . . .")


def test_scenario_parse_rejects_empty_maps_and_duplicate_players():
    with pytest.raises(ValueError, match="ascii_map"):
        scenario.parse("   \n\n")
    with pytest.raises(ValueError, match="player 1"):
        scenario.parse(". 1 .\n. 1 .")


def test_scenario_build_rejects_unknown_attributes():
    with pytest.raises(ValueError, match="wisdom"):
        scenario.build(". 1 .", players={1: dict(wisdom=3)})


def test_scenario_build_passes_config_overrides_through_validation():
    with pytest.raises(ValueError, match="horizon"):
        scenario.build(". 1 .", horizon=0)
    cfg, state = scenario.build(". 1 .", horizon=7)
    assert cfg.horizon == 7 and cfg.player_n == 1


# --- checked mode inside jit


def test_checked_step_reports_out_of_range_actions_inside_jit():
    cfg, state = scenario.build(
        """
        1 . .
        . . 2
        """
    )
    env = nj.Env(cfg)
    checked = jax.jit(env.checked_step)
    key = jax.random.key(0)
    err, out = checked(key, state, env.actions(move=jnp.array([0, 4])))
    assert err.get() is None
    err, out = checked(key, state, env.actions(move=jnp.array([0, 7])))
    assert "actions[:, 0] (move) must be in [0, 5)" in err.get()
    with pytest.raises(Exception, match="move"):
        err.throw()
    # The outputs are those of the plain step, where the invalid action is a no-op (Stay).
    # (jitted: an eager step compiles every op of the game, ~20 s; jit == eager is checked in
    # tests/test_determinism.py)
    plain = jax.jit(env.step)(key, state, env.actions(move=jnp.array([0, 4])))
    np.testing.assert_array_equal(
        np.asarray(out[1].entities.row), np.asarray(plain[1].entities.row)
    )
