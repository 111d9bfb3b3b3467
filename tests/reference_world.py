"""The worlds recorded from the reference engine (tests/data), as our initial states; shared by
the step-for-step replays (test_reference_parity.py, test_reference_items.py)."""

import jax
import jax.numpy as jnp

import nmmo_jax as nj
from nmmo_jax import material
from nmmo_jax.env import spawn_players

# The recordings switch off what draws randomness: NPCs, regrowth, the 2.5 % weapon drops.
NO_RANDOMNESS = dict(
    {field: 0.0 for field in material.RESPAWN_FIELD.values()}, npc_n=0, weapon_drop_prob=0.0
)


def replay_config(ref) -> nj.Config:
    """The Default config with the recording's players and horizon, and no randomness."""
    cfg = nj.Config(player_n=ref["row0"].shape[0], horizon=int(ref["horizon"]), **NO_RANDOMNESS)
    assert ref["tiles"].shape == (cfg.map_size, cfg.map_size)
    return cfg


def reference_world(ref, cfg: nj.Config):
    """A state with the recording's tile map and spawn positions (players as spawned)."""
    n = cfg.player_n
    state = spawn_players(jax.random.key(0), jnp.asarray(ref["tiles"], jnp.int8), 0, cfg)
    row, col = jnp.asarray(ref["row0"], jnp.int32), jnp.asarray(ref["col0"], jnp.int32)
    ent = state.entities.replace(
        row=state.entities.row.at[:n].set(row),
        col=state.entities.col.at[:n].set(col),
        spawn_row=state.entities.spawn_row.at[:n].set(row),
        spawn_col=state.entities.spawn_col.at[:n].set(col),
    )
    return state.replace(entities=ent)
