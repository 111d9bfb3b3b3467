"""What the predicates read, gathered once per step from the state (SPEC 14.2).

The reference builds a GameState after each step: the live entity rows, the items by owner,
every event of the episode, the agents' observations. Its predicates filter those tables per
subject. Here the per-player quantities every built-in predicate needs are put side by side in
one int32 table [N, F] (entity columns, event counts, gold sums, best levels, free slots), and
a subject's members read it with one row gather each (`query.Query`). Quantities that depend
on a predicate's arguments (an item type and a minimum level) stay in small per-player tables
that a member reads at those arguments.

What a member *saw* (CanSeeTile, CanSeeAgent, CanSeeGroup) and its inventory's free space
(InventorySpaceGE) are part of the task memory: the reference reads a dead member's last
observation, so they are kept from the last step the member was alive (`TaskMemory`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from nmmo_jax import items as it
from nmmo_jax.config import Config
from nmmo_jax.events import EVENT_CODES, EVENT_COLUMN, GOLD_KEYS, N_SKILLS
from nmmo_jax.state import ENTITY_COLUMNS, WorldState, material

# The columns of Features.table, in order.
EVENT_FEATURES = tuple(f"event_{name}" for name in EVENT_CODES)
FEATURE_COLUMNS = (
    ENTITY_COLUMNS
    + ("alive", "spawn_row", "spawn_col", "free_slots", "team")
    + EVENT_FEATURES
    + tuple(f"hits_{style}" for style in ("melee", "range", "mage"))
    + tuple(f"gold_{name}" for name in GOLD_KEYS)
    + tuple(f"level_up_{skill}" for skill in range(1, N_SKILLS + 1))
)
FEATURE = {name: i for i, name in enumerate(FEATURE_COLUMNS)}
N_FEATURES = len(FEATURE_COLUMNS)


@struct.dataclass
class TaskMemory:
    """What the task system remembers between steps (per env; N players): where each player
    last stood alive, and its free inventory slots then, for the views of dead members.

    last_row, last_col  int32 [N]  position at the last live step (-1: never seen alive)
    free_slots          int32 [N]  free inventory slots at the last live step
    """

    last_row: jax.Array
    last_col: jax.Array
    free_slots: jax.Array


@struct.dataclass
class Features:
    """One step's per-player quantities (N players): the `table` columns FEATURE_COLUMNS, and
    the per-(type, level) tables the item predicates read.

    tick       int32 []
    table      int32 [N, F]            FEATURE_COLUMNS (entity columns of dead players are 0)
    alive      bool  [N]
    items      int32 [N, K, L]         the event log's item-event number sums (events.py)
    owned      int32 [N, T, L]         quantity owned by item type and level (alive players)
    equipped   int32 [N, T, L]         items equipped by type and level (alive players)
    kills      int32 [N, 2, KL]        kills by (victim is an NPC, victim level)
    material   int8  [S, S]            the material of every tile now
    memory     TaskMemory              last live positions (updated for this step's live
                                       players)
    seize      int32 [2]               the centre tile's holder id and seize tick (zeros
                                       without a seize target; systems/seize.py)
    """

    tick: jax.Array
    table: jax.Array
    alive: jax.Array
    items: jax.Array
    owned: jax.Array
    equipped: jax.Array
    kills: jax.Array
    material: jax.Array
    memory: TaskMemory
    seize: jax.Array


def empty_memory(cfg: Config, views: bool) -> TaskMemory:
    """Nothing seen yet; without `views` (no task reads them) the arrays are empty."""
    n = cfg.player_n if views else 0
    return TaskMemory(
        last_row=jnp.full(n, -1, jnp.int32),
        last_col=jnp.full(n, -1, jnp.int32),
        free_slots=jnp.full(n, cfg.item_inventory_capacity, jnp.int32),
    )


def remember(memory: TaskMemory, state: WorldState, cfg: Config) -> TaskMemory:
    """The memory after a step: live players' positions and free slots (SPEC 14.3: a dead
    member's observation keeps its last live view)."""
    ent = state.entities
    n = cfg.player_n
    alive = ent.alive[:n]
    free = cfg.item_inventory_capacity - it.occupied(state.inventory.slots).sum(axis=1)
    return memory.replace(
        last_row=jnp.where(alive, ent.row[:n], memory.last_row).astype(jnp.int32),
        last_col=jnp.where(alive, ent.col[:n], memory.last_col).astype(jnp.int32),
        free_slots=jnp.where(alive, free, memory.free_slots).astype(jnp.int32),
    )


def features(state: WorldState, memory: TaskMemory, cfg: Config) -> Features:
    """The per-player quantities of SPEC 14.2-14.3 after a step (`memory` already updated by
    `remember`)."""
    n = cfg.player_n
    ent = state.entities
    alive = ent.alive[:n]
    slots = state.inventory.slots.astype(jnp.int32)
    occupied = it.occupied(slots)
    events = state.events
    entity = [jnp.where(alive, getattr(ent, name)[:n], 0) for name in ENTITY_COLUMNS]
    extra = [
        alive.astype(jnp.int32),
        ent.spawn_row[:n],
        ent.spawn_col[:n],
        cfg.item_inventory_capacity - occupied.sum(axis=1).astype(jnp.int32),
        ent.team[:n],
    ]
    columns = [EVENT_COLUMN[c] for c in EVENT_CODES.values()]
    counts = events.episode[:n, :]
    if columns != list(range(counts.shape[-1])):  # the log's columns are in code order
        counts = counts[:, columns]
    table = jnp.concatenate(
        [
            jnp.stack(entity + extra, axis=1).astype(jnp.int32),
            counts.astype(jnp.int32),
            events.hits[:n].astype(jnp.int32),
            events.gold[:n].astype(jnp.int32),
            events.level_up[:n].astype(jnp.int32),
        ],
        axis=1,
    )
    levels = events.items.shape[-1]
    type_id = it.column(slots, "type_id")
    level = jnp.clip(it.column(slots, "level"), 1, levels) - 1
    quantity = jnp.where(occupied & alive[:, None], it.column(slots, "quantity"), 0)
    equipped = (occupied & alive[:, None] & (it.column(slots, "equipped") > 0)).astype(jnp.int32)
    player = jnp.broadcast_to(jnp.arange(n)[:, None], type_id.shape)
    shape = (n, it.N_TYPES, levels)
    return Features(
        tick=state.tick.astype(jnp.int32),
        table=table,
        alive=alive,
        items=events.items[:n].astype(jnp.int32),
        owned=jnp.zeros(shape, jnp.int32).at[player, type_id, level].add(quantity),
        equipped=jnp.zeros(shape, jnp.int32).at[player, type_id, level].add(equipped),
        kills=events.kills[:n].astype(jnp.int32),
        material=material(state.tiles, state.tick),
        memory=memory,
        seize=jnp.zeros(2, jnp.int32) if state.seize is None else state.seize,
    )
