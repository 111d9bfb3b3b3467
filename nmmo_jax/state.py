"""WorldState: the whole game as a pytree of fixed-shape arrays (DESIGN "State")."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from nmmo_jax.events import EventLog
from nmmo_jax.items import INITIAL_TABLE_SIZE, SLOT_WIDTH, ItemIds, empty_ids, empty_item_ids

# The reference's EntityState columns, in order (SPEC 3.2). Each is one [E] array of EntityTable.
ENTITY_COLUMNS = (
    "id",
    "npc_type",
    "row",
    "col",
    "damage",
    "time_alive",
    "freeze",
    "item_level",
    "attacker_id",
    "latest_combat_tick",
    "message",
    "gold",
    "health",
    "food",
    "water",
    "melee_level",
    "melee_exp",
    "range_level",
    "range_exp",
    "mage_level",
    "mage_exp",
    "fishing_level",
    "fishing_exp",
    "herbalism_level",
    "herbalism_exp",
    "prospecting_level",
    "prospecting_exp",
    "carving_level",
    "carving_exp",
    "alchemy_level",
    "alchemy_exp",
)
N_ENTITY_COLUMNS = len(ENTITY_COLUMNS)
SKILLS = ("melee", "range", "mage", "fishing", "herbalism", "prospecting", "carving", "alchemy")


@struct.dataclass
class EntityTable:
    """Players and NPCs, one row each: rows [0, player_n) are players (id = row + 1), the rest NPCs.

    Every reference column (SPEC 3.2) is an int32 array of shape [E]; dead rows stay, masked by
    `alive`. Extra per-row state the reference keeps outside its table follows the columns.
    """

    id: jax.Array
    npc_type: jax.Array
    row: jax.Array
    col: jax.Array
    damage: jax.Array
    time_alive: jax.Array
    freeze: jax.Array
    item_level: jax.Array
    attacker_id: jax.Array
    latest_combat_tick: jax.Array
    message: jax.Array
    gold: jax.Array
    health: jax.Array
    food: jax.Array
    water: jax.Array
    melee_level: jax.Array
    melee_exp: jax.Array
    range_level: jax.Array
    range_exp: jax.Array
    mage_level: jax.Array
    mage_exp: jax.Array
    fishing_level: jax.Array
    fishing_exp: jax.Array
    herbalism_level: jax.Array
    herbalism_exp: jax.Array
    prospecting_level: jax.Array
    prospecting_exp: jax.Array
    carving_level: jax.Array
    carving_exp: jax.Array
    alchemy_level: jax.Array
    alchemy_exp: jax.Array
    # --- beyond the reference's columns
    alive: jax.Array  # bool [E]
    resilient: jax.Array  # bool [E]: starvation/dehydration damage x RESOURCE_DAMAGE_REDUCTION
    spawn_row: jax.Array  # int32 [E]: position at spawn (tasks measure distance travelled)
    spawn_col: jax.Array
    exploration: jax.Array  # int32 [E]: best progress toward the centre so far (SPEC 13.2)
    team: jax.Array  # int32 [E]: a player's team id in [0, player_n) (SPEC 9: Communication)
    # the reference's order of the actions of one tick (SPEC 13.1): players by id, then NPCs in
    # spawn order (npc serial = -id); and the datastore row (the Entity observation's order)
    order: jax.Array  # int32 [E]
    ds_row: jax.Array  # int32 [E]
    # NPCs (SPEC 6): the entity slot of the current target (-1 none), the fixed combat style
    # (0 melee, 1 range, 2 mage), the equipment stats and item level of the spawn roll, the
    # two drop-table items (type ids; 0 none) and the spawn ring (distance from the edge)
    target: jax.Array  # int32 [E]
    style: jax.Array  # int32 [E]
    npc_damage: jax.Array  # int32 [E]
    npc_defense: jax.Array  # int32 [E]
    npc_item_level: jax.Array  # int32 [E]
    drop_armor: jax.Array  # int32 [E]
    drop_tool: jax.Array  # int32 [E]
    spawn_ring: jax.Array  # int32 [E]

    @property
    def size(self) -> int:
        return self.id.shape[-1]

    def columns(self) -> jax.Array:
        """The reference layout: int32 [E, 31], columns in ENTITY_COLUMNS order."""
        return jnp.stack([getattr(self, name) for name in ENTITY_COLUMNS], axis=-1)


@struct.dataclass
class Inventory:
    """Item slots per player (SPEC 7.2-7.3).

    `slots`: int16 [player_n, capacity, items.SLOT_WIDTH], per slot the reference's 16 ItemState
    columns (items.ITEM_COLUMNS) then `listing_tick` and `acquired`. A slot is a storage place
    in no order (empty: all zeros), changed by point updates; the reference's Inventory rows,
    which the InventoryItem actions index, are the items in id order (items.rows_order). The
    market is the set of slots with `listed_price > 0` (DESIGN: not a second copy).
    `received`: int32 [player_n], items received so far (the next `acquired` value).
    `ids`: the item id allocator of the environment (items.ItemIds).
    """

    slots: jax.Array
    received: jax.Array
    ids: ItemIds


@struct.dataclass
class NpcState:
    """The NPC manager of one environment (SPEC 6.1).

    `next_serial`: the next NPC gets id -next_serial (ids are never reused in an episode).
    `dangers`: the respawn-danger queue, a ring buffer [Q] of spawn rings (distance from the
    edge) of dead NPCs, entries [head, tail), popped first by the refill.
    `rows`: the allocator of entity datastore rows (the same FIFO free list as item ids, SPEC
    7.2 and 11), which gives the Entity observation its row order.
    `directions`: int8 [1024], the reference RNG's cyclic direction sequence (0..3: N, S, W, E),
    drawn at reset; `direction_index`: the element read last. Every meandering NPC advances the
    index by one and reads (SPEC 6.3, 16).
    """

    next_serial: jax.Array
    dangers: jax.Array
    head: jax.Array
    tail: jax.Array
    rows: ItemIds
    directions: jax.Array
    direction_index: jax.Array


@struct.dataclass
class TileMap:
    """The map of one episode, [map_size, map_size] each.

    `base`: int8 material of each tile when not depleted (terrain + this episode's resources).
    `regrow_at`: int16 tick at which a depleted tile shows `base` again; the tile is depleted while
    `tick < regrow_at` and shows `base - 1` (material.DEPLETED_OF). 0 for never harvested;
    saturates at 32767 (ticks never exceed MAX_HORIZON). int16 halves the state's largest array.
    """

    base: jax.Array
    regrow_at: jax.Array


@struct.dataclass
class WorldState:
    """One environment. Shapes (E = player_n + npc_n, S = map_size):

    tick          int32 []   steps taken since reset (the reference's realm.tick)
    map_index     int32 []   which terrain of the map pool this episode uses (0-based)
    tiles         TileMap
    entities      EntityTable, [E] per column
    inventory     Inventory, slots [player_n, item_inventory_capacity, items.SLOT_WIDTH]
    events        EventLog
    npcs          NpcState (the NPC manager: ids, respawn dangers, datastore rows)
    fog           float16 [S, S], the death fog (systems/fog.py); None when it is off
    seize         int32 [2], the centre tile's holder id and seize tick (systems/seize.py); None
                  without a seize target (cfg.seize_center)
    tasks         the players' tasks and their progress (task.engine.TaskState); None in a
                  hand-built state (the step then pays the default task's reward)
    """

    tick: jax.Array
    map_index: jax.Array
    tiles: TileMap
    entities: EntityTable
    inventory: Inventory
    events: EventLog
    npcs: NpcState
    fog: jax.Array | None = None
    seize: jax.Array | None = None
    tasks: Any = None

    @property
    def n_players(self) -> int:
        return self.inventory.slots.shape[-3]

    @property
    def players(self) -> EntityTable:
        """The player rows of the entity table (a view as arrays [player_n])."""
        n = self.n_players
        return jax.tree.map(lambda column: column[..., :n], self.entities)


def material(tiles: TileMap, tick) -> jax.Array:
    """The material each tile shows at `tick` (depleted tiles show their depleted id)."""
    return tiles.base - (tick < tiles.regrow_at).astype(tiles.base.dtype)


def empty_entities(n_entities: int) -> EntityTable:
    zeros = jnp.zeros((n_entities,), jnp.int32)
    fields = {name: zeros for name in ENTITY_COLUMNS}
    fields.update(
        alive=jnp.zeros((n_entities,), bool),
        resilient=jnp.zeros((n_entities,), bool),
        spawn_row=zeros,
        spawn_col=zeros,
        exploration=zeros,
        team=jnp.arange(n_entities, dtype=jnp.int32),
        order=jnp.arange(n_entities, dtype=jnp.int32),
        ds_row=zeros,
        target=jnp.full((n_entities,), -1, jnp.int32),
        style=zeros,
        npc_damage=zeros,
        npc_defense=zeros,
        npc_item_level=zeros,
        drop_armor=zeros,
        drop_tool=zeros,
        spawn_ring=zeros,
    )
    return EntityTable(**fields)


DIRECTION_SEQUENCE = 1024  # nmmo.lib.seeding.RandomNumberGenerator._dir_seq_len


def empty_npcs(cfg) -> NpcState:
    # every NPC ever queued is dead and every dead one queued at most once per death: the
    # queue never holds more than the attempts of a tick plus the NPC capacity
    capacity = 1 << int(np.ceil(np.log2(max(cfg.npc_n + cfg.npc_spawn_attempts, 1) + 1)))
    live = cfg.n_entities + INITIAL_TABLE_SIZE
    return NpcState(
        next_serial=jnp.int32(1),
        dangers=jnp.zeros((capacity,), jnp.int32),
        head=jnp.int32(0),
        tail=jnp.int32(0),
        rows=empty_ids(1 << int(np.ceil(np.log2(2 * live)))),
        directions=jnp.zeros((DIRECTION_SEQUENCE,), jnp.int8),
        direction_index=jnp.int32(0),
    )


def empty_inventory(cfg) -> Inventory:
    n, capacity = cfg.player_n, cfg.item_inventory_capacity
    return Inventory(
        slots=jnp.zeros((n, capacity, SLOT_WIDTH), jnp.int16),
        received=jnp.zeros((n,), jnp.int32),
        ids=empty_item_ids(cfg),
    )
