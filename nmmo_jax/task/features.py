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
from nmmo_jax import material as mat
from nmmo_jax.config import Config
from nmmo_jax.events import EVENT_CODES, EVENT_COLUMN, GOLD_KEYS, N_SKILLS
from nmmo_jax.state import ENTITY_COLUMNS, WorldState

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
    """What the task system remembers between steps (per env; N players, E entities).

    seen_material  bool [N, 16]  materials in each player's window at its last live step
    seen           bool [N, E]   entities in each player's view at its last live step
    free_slots     int32 [N]     free inventory slots at each player's last live step
    """

    seen_material: jax.Array
    seen: jax.Array
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
    memory     TaskMemory              the views (updated for this step's live players)
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
    memory: TaskMemory
    seize: jax.Array


def empty_memory(cfg: Config, views: bool) -> TaskMemory:
    """Nothing seen yet; without `views` (no task reads them) the view arrays are empty."""
    n = cfg.player_n
    return TaskMemory(
        seen_material=jnp.zeros((n, mat.N_MATERIALS if views else 0), bool),
        seen=jnp.zeros((n, cfg.n_entities if views else 0), bool),
        free_slots=jnp.full(n if views else 0, cfg.item_inventory_capacity, jnp.int32),
    )


def current_views(state: WorldState, cfg: Config) -> tuple[jax.Array, jax.Array]:
    """(materials bool [N, 16], entities bool [N, E]): what each player's observation shows
    now (SPEC 11): the materials of its 15x15 window, the live entities within the vision
    radius (the reference's Entity rows; beyond 100 in view it keeps the nearest, which we do
    not model here: DEVIATIONS)."""
    from nmmo_jax.observe import observe_window  # observe imports nothing from task/

    n = cfg.player_n
    window = observe_window(state, cfg)
    material = (window & jnp.uint32(0xF)).astype(jnp.int32).reshape(n, -1)
    materials = (material[:, :, None] == jnp.arange(mat.N_MATERIALS)).any(axis=1)
    ent = state.entities
    distance = jnp.maximum(
        jnp.abs(ent.row[None, :] - ent.row[:n, None]),
        jnp.abs(ent.col[None, :] - ent.col[:n, None]),
    )
    seen = ent.alive[None, :] & (distance <= cfg.player_vision_radius)
    return materials, seen


def remember(memory: TaskMemory, state: WorldState, cfg: Config) -> TaskMemory:
    """The memory after a step: live players' views replaced by their current ones (SPEC
    14.3: a dead member's observation keeps its last live view)."""
    alive = state.entities.alive[: cfg.player_n]
    materials, seen = current_views(state, cfg)
    free = cfg.item_inventory_capacity - it.occupied(state.inventory.slots).sum(axis=1)
    return memory.replace(
        seen_material=jnp.where(alive[:, None], materials, memory.seen_material),
        seen=jnp.where(alive[:, None], seen, memory.seen),
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
    counts = events.episode[:n, [EVENT_COLUMN[c] for c in EVENT_CODES.values()]]
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
        memory=memory,
        seize=jnp.zeros(2, jnp.int32) if state.seize is None else state.seize,
    )
