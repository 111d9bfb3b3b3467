"""Seizing the centre tile: KingoftheHill's seize target (SPEC 14.3, 14.6, 14.7).

With `cfg.seize_center` the state keeps who holds the centre tile, `state.seize` = int32 [2]
(holder player id, 0 = nobody; the tick it was seized). The reference's `Tile.update_seize`
runs in `map.step`, after the tick increment: when exactly one entity stands on the tile, it is
a player, and the holder is not on that player's team, the player seizes the tile at the new
tick and logs SEIZE_TILE. So the holder keeps the hold after leaving or dying, a teammate never
restarts the clock, and NPCs neither seize nor break a hold.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax.config import Config
from nmmo_jax.state import WorldState


def initial(cfg: Config) -> jax.Array | None:
    """Nobody holds the tile; None without a seize target."""
    return jnp.zeros(2, jnp.int32) if cfg.seize_center else None


def update(state: WorldState, cfg: Config, tick) -> WorldState:
    """`state` after the seize rule at `tick` (the step's new tick), with SEIZE_TILE logged."""
    n = cfg.player_n
    centre = cfg.map_size // 2
    ent = state.entities
    on = ent.alive & (ent.row == centre) & (ent.col == centre)
    who = jnp.argmax(on)
    holder = state.seize[0]
    team = ent.team[:n]
    same_team = (holder > 0) & (
        team[jnp.clip(holder - 1, 0, n - 1)] == team[jnp.minimum(who, n - 1)]
    )
    takes = (on.sum() == 1) & (who < n) & ~same_team
    seized = jnp.zeros(n, bool).at[jnp.minimum(who, n - 1)].set(takes)
    return state.replace(
        seize=jnp.where(takes, jnp.stack([who + 1, jnp.asarray(tick)]), state.seize).astype(
            jnp.int32
        ),
        events=state.events.record("SEIZE_TILE", seized),
    )
