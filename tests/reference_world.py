"""The worlds recorded from the reference engine (tests/data), as our initial states; shared by
the step-for-step replays (test_reference_parity.py, test_reference_items.py,
test_reference_combat.py), with the comparisons they share."""

import jax
import jax.numpy as jnp
import numpy as np

import nmmo_jax as nj
from nmmo_jax import material
from nmmo_jax.env import spawn_players
from nmmo_jax.events import EVENT_CODES, EVENT_COLUMN

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


def mismatch(name, ours, theirs, where):
    """None if `ours` == `theirs` wherever `where` ([T, N, ...] arrays: step, agent, ...), else a
    message naming the count and the first mismatch."""
    bad = (ours != theirs) & where
    if not bad.any():
        return None
    t, a, *rest = np.argwhere(bad)[0]
    return (
        f"{name}: {int(bad.sum())} mismatches; first after step {t + 1}, agent {a + 1} at "
        f"{tuple(int(i) for i in rest)}: ours {ours[(t, a, *rest)]}, "
        f"reference {theirs[(t, a, *rest)]}"
    )


def assert_event_counts_match(ref, ours):
    """How often each agent logged each code in each step: the recording's event rows
    (step, ent_id, event, ...) of agents (ent_id > 0) against `ours` [T, N, codes]."""
    events = ref["events"]
    steps, n = ref["alive"].shape
    for name, code in EVENT_CODES.items():
        rows = events[(events[:, 2] == code) & (events[:, 1] > 0)]
        expected = np.zeros((steps, n), np.int64)
        np.add.at(expected, (rows[:, 0] - 1, rows[:, 1] - 1), 1)
        got = ours[:, :, EVENT_COLUMN[code]].astype(np.int64)
        message = mismatch(name, got[..., None], expected[..., None], np.ones((1, 1, 1), bool))
        assert message is None, message
