"""Trajectory parity with the reference nmmo 2.1.2 for movement + survival (SPEC 2.1, 3.3, 3.4,
13.1-13.4).

tests/data/reference_trajectory.npz holds a reference episode (Default config, 128 players,
160 x 160, seed 7) with foilage regrowth and NPCs off and only random Move actions (all 5
directions, blocked moves included): the initial tile map, the spawn positions, the actions and,
after every step, each agent's position, food, water, health, alive flag, reward and terminated
flag, plus the number of Foilage tiles (tests/data/make_reference_trajectory.py writes it).

We start from the same world (the reference tile map and spawn positions put into a state from
`spawn_players`) and replay the actions through `Env.step`: with no randomness left, every
number must match exactly (rewards to float32). The profession tiles the reference harvests
(herbs, ore, trees, crystals, fish) change only items and those tiles' materials, never
passability, food, water, health or position, so only Foilage is compared on the map.
"""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nmmo_jax as nj
from nmmo_jax import material as m
from nmmo_jax.env import spawn_players
from nmmo_jax.state import material

DATA = pathlib.Path(__file__).resolve().parent / "data" / "reference_trajectory.npz"
INT_FIELDS = ("row", "col", "food", "water", "health", "alive", "terminated")


@pytest.fixture(scope="module")
def ref():
    with np.load(DATA) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def ours(ref):
    """Our trajectory from the reference's initial world and actions: a dict of [T, N] arrays."""
    n = ref["row0"].shape[0]
    cfg = nj.Config(
        player_n=n,
        npc_n=0,
        horizon=int(ref["horizon"]),
        resource_foilage_respawn=0.0,
    )
    assert ref["tiles"].shape == (cfg.map_size, cfg.map_size)
    env = nj.Env(cfg)
    tiles = jnp.asarray(ref["tiles"], jnp.int8)
    state = spawn_players(jax.random.key(0), tiles, 0, cfg)
    row, col = jnp.asarray(ref["row0"], jnp.int32), jnp.asarray(ref["col0"], jnp.int32)
    ent = state.entities
    ent = ent.replace(
        row=ent.row.at[:n].set(row),
        col=ent.col.at[:n].set(col),
        spawn_row=ent.spawn_row.at[:n].set(row),
        spawn_col=ent.spawn_col.at[:n].set(col),
    )
    state = state.replace(entities=ent)
    actions = jnp.asarray(ref["actions"], jnp.int32)[:, :, None]  # [T, N, 1]: the move head

    @jax.jit
    def rollout(state, actions):
        def body(state, action):
            _, state, reward, terminated, _, info = env.step(jax.random.key(1), state, action)
            p = state.players
            out = dict(
                row=p.row,
                col=p.col,
                food=p.food,
                water=p.water,
                health=p.health,
                alive=info["alive"],
                terminated=terminated,
                reward=reward,
                foilage=(material(state.tiles, state.tick) == m.FOILAGE).sum(),
            )
            return state, out

        return jax.lax.scan(body, state, actions)[1]

    assert int((material(state.tiles, state.tick) == m.FOILAGE).sum()) == int(
        (ref["tiles"] == m.FOILAGE).sum()
    )
    return {k: np.asarray(v) for k, v in rollout(state, actions).items()}


def _first_mismatch(name, ours, ref):
    """A message naming the first (step, agent) where `ours` and `ref` differ, or None."""
    bad = ours != ref
    if not bad.any():
        return None
    t, i = np.argwhere(bad)[0]
    return (
        f"{name}: {int(bad.sum())} mismatches; first at step {t + 1} (after the step), "
        f"agent {i + 1}: ours {ours[t, i]}, reference {ref[t, i]}"
    )


def test_reference_trajectory_is_informative(ref):
    """The recorded episode exercises what it should: deaths spread over many steps, eating,
    regeneration and blocked moves."""
    terminated = ref["terminated"]
    assert terminated.sum() >= 100
    assert len(np.flatnonzero(terminated.any(axis=1))) >= 20
    assert ref["foilage"][-1] < (ref["tiles"] == m.FOILAGE).sum()
    assert (np.diff(ref["health"], axis=0) > 0).any()
    assert (ref["actions"] < 4).any()


@pytest.mark.parametrize("name", INT_FIELDS)
def test_matches_reference(ref, ours, name):
    expected = ref[name].astype(ours[name].dtype)
    message = _first_mismatch(name, ours[name], expected)
    assert message is None, message


def test_rewards_match_reference(ref, ours):
    expected = ref["reward"].astype(np.float32)
    message = _first_mismatch("reward", ours["reward"], expected)
    assert message is None, message
    assert set(np.unique(ref["reward"])) <= {0.0, -1.0, 1.0 / int(ref["horizon"])}


def test_foilage_count_matches_reference(ref, ours):
    bad = np.flatnonzero(ours["foilage"] != ref["foilage"])
    assert bad.size == 0, (
        f"foilage count first differs after step {bad[0] + 1}: "
        f"ours {ours['foilage'][bad[0]]}, reference {ref['foilage'][bad[0]]}"
    )
