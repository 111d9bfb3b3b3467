"""Small parts of the Env API that adapters rely on."""

import jax.numpy as jnp
import numpy as np

import nmmo_jax as nj


def test_action_space_description():
    env = nj.Env(nj.Config.small())
    # SPEC 12.1: Move.Direction has 5 choices (N, S, E, W, Stay); Use.InventoryItem and
    # Destroy.InventoryItem 12 inventory rows + the no-op = 13; Attack.Style 3 (melee, range,
    # mage) and our Attack target: the 8 + 8 entity slots of the small config + the no-op.
    assert env.action_heads == (
        ("move", 5),
        ("use", 13),
        ("destroy", 13),
        ("attack_style", 3),
        ("attack_target", 17),
    )
    assert env.action_nvec == (5, 13, 13, 3, 17)
    noop = np.asarray(env.noop_actions)
    assert noop.shape == (8, 5) and noop.dtype == np.int32
    assert (noop[:, 0] == 4).all()  # Stay
    assert (noop[:, 1:3] == 12).all()  # the trailing no-op index
    assert (noop[:, 4] == 16).all()


def test_actions_builder_fills_the_other_heads_with_no_ops():
    env = nj.Env(nj.Config.small())
    actions = np.asarray(env.actions(move=jnp.arange(8) % 5, destroy=3))
    np.testing.assert_array_equal(actions[:, 0], np.arange(8) % 5)
    np.testing.assert_array_equal(actions[:, 1], 12)
    np.testing.assert_array_equal(actions[:, 2], 3)
    batched = env.actions(move=jnp.zeros((4, 8), jnp.int32))
    assert batched.shape == (4, 8, 5)


def test_envs_with_equal_configs_are_equal_and_hash_alike():
    a, b = nj.Env(nj.Config.small()), nj.Env(nj.Config.small())
    assert a == b and hash(a) == hash(b)
    assert a != nj.Env(nj.Config.small(horizon=7))


def test_default_env_is_the_reference_default():
    env = nj.Env()
    cfg = env.cfg
    # SPEC 1.1: Medium = Default: 128 players, 160 map, centre 128, horizon 1024, NPC_N 128.
    assert (cfg.player_n, cfg.map_size, cfg.map_center, cfg.horizon, cfg.npc_n) == (
        128,
        160,
        128,
        1024,
        128,
    )
    assert cfg.map_border == 16 and cfg.vision_diameter == 15
    assert jnp.asarray(env.noop_actions).shape == (128, 5)
