"""Teams: who plays with whom, where a team spawns, and ProtectTheKing's rule (SPEC 3.1, 14.5,
14.7).

With `cfg.team_n` teams the players are split as the reference's `team_helper.make_teams`:
consecutive ids, `player_n // team_n` per team, the last team taking the rest; team t is the
t-th of the reference's TEAMS dict (its order decides left and right), its leader the first
(lowest) id. Without teams (`team_n = 0`, the reference's TEAMS None) every player is alone.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from nmmo_jax.config import Config
from nmmo_jax.mapgen import edge_tiles
from nmmo_jax.state import WorldState


def team_of(cfg: Config) -> np.ndarray:
    """int32 [player_n]: each player's team id (make_teams; each alone without teams)."""
    n = cfg.player_n
    if cfg.team_n == 0:
        return np.arange(n, dtype=np.int32)
    size = n // cfg.team_n
    return np.minimum(np.arange(n) // size, cfg.team_n - 1).astype(np.int32)


def leaders(team: jax.Array) -> jax.Array:
    """bool [N]: the first (lowest id) member of each team."""
    ids = jnp.arange(team.shape[-1])
    earlier = (team[None, :] == team[:, None]) & (ids[None, :] < ids[:, None])
    return ~earlier.any(axis=1)


def team_spawn_positions(key: jax.Array, cfg: Config) -> tuple[jax.Array, jax.Array]:
    """(row, col) int32 [player_n]: every member of a team on its team's tile (SPEC 3.1,
    `spawn_team_together`): ceil(team_n / 4) places per side of the edge list at
    int(len(side) * (i + 1) / (per_side + 1)), shuffled, team t taking the t-th."""
    rows, cols = edge_tiles(cfg)
    per_side = (cfg.team_n + 3) // 4
    side = len(rows) // 4
    picks = [
        s * side + int(side * (i + 1) / (per_side + 1)) for s in range(4) for i in range(per_side)
    ]
    order = jax.random.permutation(key, len(picks))
    team = jnp.asarray(team_of(cfg))
    chosen = jnp.asarray(picks)[order][team]
    return jnp.asarray(rows)[chosen], jnp.asarray(cols)[chosen]


def cull_with_leaders(state: WorldState, alive_before: jax.Array, cfg: Config) -> WorldState:
    """ProtectTheKing (SPEC 14.7): when a team's leader died in this step, every member of the
    team dies with it (health 0, culled with the step's dead)."""
    n = cfg.player_n
    ent = state.entities
    team = ent.team[:n]
    fallen = leaders(team) & alive_before[:n] & ~ent.alive[:n]
    lost = (team[:, None] == team[None, :]) & fallen[None, :]
    dies = lost.any(axis=1) & ent.alive[:n]
    pad = jnp.zeros(ent.size - n, bool)
    dies = jnp.concatenate([dies, pad])
    return state.replace(
        entities=ent.replace(
            alive=ent.alive & ~dies, health=jnp.where(dies, 0, ent.health).astype(ent.health.dtype)
        )
    )
