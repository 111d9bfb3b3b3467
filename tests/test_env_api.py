"""Small parts of the Env API that adapters rely on."""

import jax.numpy as jnp
import numpy as np

import nmmo_jax as nj


def test_action_space_description():
    env = nj.Env(nj.Config.small())
    # SPEC 12.1: Move.Direction has 5 choices (N, S, E, W, Stay); Use.InventoryItem and
    # Destroy.InventoryItem 12 inventory rows + the no-op = 13; Attack.Style 3 (melee, range,
    # mage) and our Attack target: the 8 + 8 entity slots of the small config + the no-op.
    # Then Give (InventoryItem 13, Target: an entity slot + the no-op), GiveGold (Price 99,
    # Target), Sell (InventoryItem 13, Price 99), Buy (384 Market rows + the no-op) and Comm
    # (127 tokens + our no-op).
    assert env.action_heads == (
        ("move", 5),
        ("use", 13),
        ("destroy", 13),
        ("attack_style", 3),
        ("attack_target", 17),
        ("give_item", 13),
        ("give_target", 17),
        ("give_gold_amount", 99),
        ("give_gold_target", 17),
        ("sell_item", 13),
        ("sell_price", 99),
        ("buy", 385),
        ("comm", 128),
    )
    assert env.action_nvec == (5, 13, 13, 3, 17, 13, 17, 99, 17, 13, 99, 385, 128)
    noop = np.asarray(env.noop_actions)
    assert noop.shape == (8, 13) and noop.dtype == np.int32
    assert (noop[:, 0] == 4).all()  # Stay
    assert (noop[:, [1, 2, 5, 9]] == 12).all()  # the trailing no-op index of InventoryItem
    assert (noop[:, [4, 6, 8]] == 16).all()  # the entity-slot no-op
    assert (noop[:, 11] == 384).all() and (noop[:, 12] == 127).all()


def test_actions_builder_fills_the_other_heads_with_no_ops():
    env = nj.Env(nj.Config.small())
    actions = np.asarray(env.actions(move=jnp.arange(8) % 5, destroy=3))
    np.testing.assert_array_equal(actions[:, 0], np.arange(8) % 5)
    np.testing.assert_array_equal(actions[:, 1], 12)
    np.testing.assert_array_equal(actions[:, 2], 3)
    batched = env.actions(move=jnp.zeros((4, 8), jnp.int32))
    assert batched.shape == (4, 8, 13)


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
    assert jnp.asarray(env.noop_actions).shape == (128, 13)
