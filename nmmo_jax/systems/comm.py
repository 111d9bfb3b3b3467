"""Communication: the Comm action (priority 99) and the team's Communication view (SPEC 9).

The Comm head chooses a token index t (0..COMMUNICATION_NUM_TOKENS - 1) that sets the agent's
`message` to t + 1, which persists until changed; its last choice, T, is a no-op that keeps the
message (the reference has none: an agent that submits no Comm action keeps its message, which a
fixed-shape action array can only say with a choice of its own).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax.config import Config
from nmmo_jax.state import WorldState


def n_choices(cfg: Config) -> int:
    """Comm choices: the tokens plus the no-op."""
    return cfg.communication_num_tokens + 1


def comm(state: WorldState, token: jax.Array, can_act: jax.Array, cfg: Config) -> WorldState:
    """Sets `message` = token + 1 for the agents that can act (alive, not frozen) and chose a
    token (Comm.call)."""
    n = cfg.player_n
    ent = state.entities
    ok = can_act & (ent.freeze[:n] == 0) & (token >= 0) & (token < cfg.communication_num_tokens)
    message = jnp.where(ok, token + 1, ent.message[:n])
    return state.replace(entities=ent.replace(message=ent.message.at[:n].set(message)))


def team_rows(state: WorldState, cfg: Config) -> jax.Array:
    """int16 [N, K] (K = COMMUNICATION_N_OBS): for each agent, the `obs.entities` rows (player
    id) of the live members of its team in id order, zero padded: the reference's
    Communication rows (id, row, col, message) are those rows' columns (SPEC 9). Teams are
    `state.entities.team`, ids in [0, player_n) (every player alone unless a game assigns
    teams). Every member of a team sees the same list, so it is built once per team. Dead
    agents: zeros."""
    n, k = cfg.player_n, cfg.communication_n_obs
    ent = state.entities
    team, alive = ent.team[:n], ent.alive[:n]
    player = jnp.arange(n)
    earlier_mate = (
        (team[None, :] == team[:, None]) & alive[None, :] & (player[None, :] < player[:, None])
    )
    rank = earlier_mate.sum(axis=1)
    listed = alive & (rank < k)
    lists = (
        jnp.zeros((n, k), jnp.int16)
        .at[jnp.where(listed, team, n), rank]
        .set((player + 1).astype(jnp.int16), mode="drop")
    )
    return jnp.where(alive[:, None], lists[jnp.clip(team, 0, n - 1)], 0)
