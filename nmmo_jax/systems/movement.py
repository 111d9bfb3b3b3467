"""Movement: one tile N/S/E/W per tick onto passable tiles (SPEC 13.2)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax import material as mat
from nmmo_jax import ops
from nmmo_jax.config import Config
from nmmo_jax.state import WorldState

NORTH, SOUTH, EAST, WEST, STAY = range(5)
N_DIRECTIONS = 5


def move_players(state: WorldState, direction: jax.Array, can_act: jax.Array, cfg: Config):
    """Moves every player that can act one tile in `direction` (int32 [player_n]).

    A move fails silently into an impassable tile or while frozen; an index outside [0, 5) is a
    no-op. Tiles may be shared (ALLOW_MOVE_INTO_OCCUPIED_TILE, the default). A successful move
    that brings a player nearer the centre than ever before logs GO_FARTHEST (SPEC 13.2).
    """
    n = cfg.player_n
    ent = state.entities
    row, col = ent.row[:n], ent.col[:n]
    valid = (direction >= 0) & (direction < STAY)
    new_row = row + (direction == SOUTH).astype(jnp.int32) - (direction == NORTH)
    new_col = col + (direction == EAST).astype(jnp.int32) - (direction == WEST)
    wants = can_act & valid & (ent.freeze[:n] == 0)
    wants &= mat.is_passable(ops.gather(state.tiles.base, new_row, new_col)).astype(bool)

    if cfg.allow_move_into_occupied_tile:
        moves = wants
    else:
        moves = _sequential_unoccupied(state, row, col, new_row, new_col, wants, cfg)

    row = jnp.where(moves, new_row, row)
    col = jnp.where(moves, new_col, col)

    centre = cfg.map_size // 2
    progress = cfg.map_center // 2 - jnp.maximum(jnp.abs(row - centre), jnp.abs(col - centre))
    farther = moves & (progress > ent.exploration[:n])
    exploration = jnp.where(farther, progress, ent.exploration[:n])

    ent = ent.replace(
        row=ent.row.at[:n].set(row),
        col=ent.col.at[:n].set(col),
        exploration=ent.exploration.at[:n].set(exploration),
    )
    events = state.events.record("GO_FARTHEST", farther)
    events = events.replace(
        go_farthest=events.go_farthest.at[:n].set(jnp.where(farther, progress, 0))
    )
    return state.replace(entities=ent, events=events)


def _sequential_unoccupied(state, row, col, new_row, new_col, wants, cfg: Config):
    """With ALLOW_MOVE_INTO_OCCUPIED_TILE off, players move one after another in id order and
    a move into a tile holding any entity fails, so earlier movers block later ones (SPEC 13.2).
    Exact, but a sequential loop over players: only this non-default setting pays for it."""
    ent = state.entities
    size = cfg.map_size
    live = ent.alive
    cell = jnp.where(live, ent.row * size + ent.col, size * size)
    occupancy = jnp.zeros((size * size,), jnp.int32).at[cell].add(1, mode="drop")

    def body(i, carry):
        occupancy, moves = carry
        src = row[i] * size + col[i]
        dst = new_row[i] * size + new_col[i]
        ok = wants[i] & (occupancy[dst] == 0)
        occupancy = occupancy.at[src].add(-ok.astype(jnp.int32)).at[dst].add(ok.astype(jnp.int32))
        return occupancy, moves.at[i].set(ok)

    _, moves = jax.lax.fori_loop(0, cfg.player_n, body, (occupancy, jnp.zeros_like(wants)))
    return moves
