"""Small parts of the Env API that adapters rely on."""

import jax.numpy as jnp
import numpy as np

import nmmo_jax as nj


def test_action_space_description():
    env = nj.Env(nj.Config.small())
    # SPEC 12.1: Move.Direction has 5 choices (N, S, E, W, Stay); it is the only head so far.
    assert env.action_heads == (("move", 5),)
    assert env.action_nvec == (5,)
    noop = np.asarray(env.noop_actions)
    assert noop.shape == (8, 1) and noop.dtype == np.int32
    assert (noop == 4).all()  # Stay


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
    assert jnp.asarray(env.noop_actions).shape == (128, 1)
