"""Items: the 16 types and their stats by level, inventory slots, item ids, equipment sums.

The catalogue follows SPEC 7.1 (type ids, equipment slot, level requirement, stats); the
inventory is `state.Inventory` (SPEC 7.2-7.3): per player `slots` [N, C, SLOT_WIDTH], storage
places in no order, changed only by point updates; the reference's Inventory rows are the items in
item-id order (`rows_order`). Item ids come from the reference's FIFO allocator (`ItemIds`,
SPEC 7.2), so ids and row order match the reference's.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from nmmo_jax import material as mat
from nmmo_jax import ops
from nmmo_jax.config import Config

# --- type ids (SPEC 7.1); there is no type 1, gold is not an item
HAT, TOP, BOTTOM = 2, 3, 4
SPEAR, BOW, WAND = 5, 6, 7
ROD, GLOVES, PICKAXE, AXE, CHISEL = 8, 9, 10, 11, 12
WHETSTONE, ARROW, RUNES = 13, 14, 15
RATION, POTION = 16, 17
N_TYPES = 18  # tables indexed by type id; rows 0 and 1 unused
NAMES = {
    HAT: "Hat",
    TOP: "Top",
    BOTTOM: "Bottom",
    SPEAR: "Spear",
    BOW: "Bow",
    WAND: "Wand",
    ROD: "Rod",
    GLOVES: "Gloves",
    PICKAXE: "Pickaxe",
    AXE: "Axe",
    CHISEL: "Chisel",
    WHETSTONE: "Whetstone",
    ARROW: "Arrow",
    RUNES: "Runes",
    RATION: "Ration",
    POTION: "Potion",
}
ITEM_TYPES = tuple(NAMES)
ARMOR = (HAT, TOP, BOTTOM)
WEAPONS = (SPEAR, BOW, WAND)
TOOLS = (ROD, GLOVES, PICKAXE, AXE, CHISEL)
AMMUNITION = (WHETSTONE, ARROW, RUNES)
CONSUMABLES = (RATION, POTION)

# --- equipment slots (SPEC 7.3): weapons and tools share `held`; consumables have none (-1)
HAT_SLOT, TOP_SLOT, BOTTOM_SLOT, HELD_SLOT, AMMUNITION_SLOT = range(5)
N_EQUIPMENT_SLOTS = 5
EQUIPMENT_SLOT = np.full(N_TYPES, -1, np.int32)
EQUIPMENT_SLOT[[HAT, TOP, BOTTOM]] = [HAT_SLOT, TOP_SLOT, BOTTOM_SLOT]
EQUIPMENT_SLOT[list(WEAPONS + TOOLS)] = HELD_SLOT
EQUIPMENT_SLOT[list(AMMUNITION)] = AMMUNITION_SLOT

# --- which level gates an item (SPEC 7.1): index into `skills.requirement_levels`, whose column
# 0 is the player level (max over skills) and columns 1..8 the skills melee .. alchemy.
PLAYER_LEVEL = 0
MELEE, RANGE, MAGE, FISHING, HERBALISM, PROSPECTING, CARVING, ALCHEMY = range(1, 9)
REQUIREMENT = np.zeros(N_TYPES, np.int32)
REQUIREMENT[[SPEAR, WHETSTONE]] = MELEE
REQUIREMENT[[BOW, ARROW]] = RANGE
REQUIREMENT[[WAND, RUNES]] = MAGE
REQUIREMENT[[ROD, GLOVES, PICKAXE, AXE, CHISEL]] = [
    FISHING,
    HERBALISM,
    PROSPECTING,
    CARVING,
    ALCHEMY,
]

# The tool that raises the drop level of each harvested material (SPEC 4.2).
TOOL_FOR = {mat.FISH: ROD, mat.HERB: GLOVES, mat.ORE: PICKAXE, mat.TREE: AXE, mat.CRYSTAL: CHISEL}

# --- the reference's ItemState columns (SPEC 7.2), then two of ours: a slot is one int16 row
ITEM_COLUMNS = (
    "id",
    "type_id",
    "owner_id",
    "level",
    "capacity",
    "quantity",
    "melee_attack",
    "range_attack",
    "mage_attack",
    "melee_defense",
    "range_defense",
    "mage_defense",
    "health_restore",
    "resource_restore",
    "equipped",
    "listed_price",
)
N_ITEM_COLUMNS = len(ITEM_COLUMNS)
# listing_tick: when the slot was listed (SPEC 8); acquired: the order the player received its
# items (the reference's `inventory.items` order, in which a dead player's items are destroyed).
SLOT_COLUMNS = ITEM_COLUMNS + ("listing_tick", "acquired")
SLOT_WIDTH = len(SLOT_COLUMNS)
COL = {name: i for i, name in enumerate(SLOT_COLUMNS)}
STAT_COLUMNS = ITEM_COLUMNS[6:14]  # melee_attack .. resource_restore
STAT_MAX = 100  # every stat is clipped to [0, 100] (the reference's ItemState limits)


def stat_tables(cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """(base, per_level) int32 [N_TYPES, 8]: stat = clip(base + per_level * level, 0, 100) for
    the STAT_COLUMNS of every type (SPEC 7.1)."""
    base = np.zeros((N_TYPES, len(STAT_COLUMNS)), np.int32)
    per_level = np.zeros_like(base)
    stat = {name: i for i, name in enumerate(STAT_COLUMNS)}
    defenses = [stat["melee_defense"], stat["range_defense"], stat["mage_defense"]]
    for t in ARMOR:
        base[t, defenses] = cfg.equipment_armor_base_defense
        per_level[t, defenses] = cfg.equipment_armor_level_defense
    for t in TOOLS:
        base[t, defenses] = cfg.equipment_tool_base_defense
        per_level[t, defenses] = cfg.equipment_tool_level_defense
    attacks = {SPEAR: "melee_attack", BOW: "range_attack", WAND: "mage_attack"}
    for t, name in attacks.items():
        base[t, stat[name]] = cfg.equipment_weapon_base_damage
        per_level[t, stat[name]] = cfg.equipment_weapon_level_damage
    attacks = {WHETSTONE: "melee_attack", ARROW: "range_attack", RUNES: "mage_attack"}
    for t, name in attacks.items():
        base[t, stat[name]] = cfg.equipment_ammunition_base_damage
        per_level[t, stat[name]] = cfg.equipment_ammunition_level_damage
    if cfg.profession_system_enabled:  # without professions consumables restore nothing
        base[RATION, stat["resource_restore"]] = cfg.profession_consumable_restore_base
        per_level[RATION, stat["resource_restore"]] = cfg.profession_consumable_restore_level
        base[POTION, stat["health_restore"]] = cfg.profession_consumable_restore_base
        per_level[POTION, stat["health_restore"]] = cfg.profession_consumable_restore_level
    return base, per_level


def new_item(type_id, level, cfg: Config, item_id=0, owner_id=0, quantity=1) -> jax.Array:
    """int16 [..., SLOT_WIDTH]: a freshly made item (SPEC 7.2: quantity 1, not equipped, not
    listed). `type_id` may be a Python int (the stats are then constants) or an int array."""
    base, per_level = stat_tables(cfg)
    level = jnp.asarray(level, jnp.int32)
    if isinstance(type_id, (int, np.integer)):
        stats = base[type_id] + per_level[type_id] * level[..., None]
    else:
        type_id = jnp.asarray(type_id, jnp.int32)
        stats = jnp.asarray(base)[type_id] + jnp.asarray(per_level)[type_id] * level[..., None]
    stats = jnp.clip(stats, 0, STAT_MAX)
    shape = level.shape
    head = [
        jnp.broadcast_to(jnp.asarray(v, jnp.int32), shape)
        for v in (item_id, type_id, owner_id, level, 0, quantity)
    ]
    zeros = jnp.zeros(shape, jnp.int32)
    columns = head + [stats[..., i] for i in range(len(STAT_COLUMNS))] + [zeros] * 4
    return jnp.stack(columns, axis=-1).astype(jnp.int16)


# --- inventory slot operations, vectorised over players ([N, C, SLOT_WIDTH] slots)
def column(slots: jax.Array, name: str) -> jax.Array:
    """int32 [N, C]: one column of every slot."""
    return slots[..., COL[name]].astype(jnp.int32)


def occupied(slots: jax.Array) -> jax.Array:
    return slots[..., COL["type_id"]] > 0


def space(slots: jax.Array) -> jax.Array:
    """int32 [N]: free slots (Inventory.space)."""
    return slots.shape[-2] - occupied(slots).sum(axis=-1, dtype=jnp.int32)


def is_ammunition(item_type: jax.Array) -> jax.Array:
    """bool [...]: the type is a stackable ammunition (Whetstone, Arrow, Runes)."""
    return (item_type >= WHETSTONE) & (item_type <= RUNES)


def stack_slot(slots: jax.Array, item_type: jax.Array, level: jax.Array) -> jax.Array:
    """int32 [N]: the slot of each inventory [N, C] holding a stack of the ammunition
    (`item_type`, `level`) [N], which a received one merges into (SPEC 7.3); C when there is
    none or the type is no ammunition."""
    match = (
        (column(slots, "type_id") == item_type[:, None])
        & (column(slots, "level") == level[:, None])
        & is_ammunition(item_type)[:, None]
    )
    return ops.first_true(match)


def first_free(slots: jax.Array) -> jax.Array:
    """int32 [N]: the first empty slot of each inventory (C when full)."""
    empty = ~occupied(slots)
    return ops.first_true(empty)


def _at(slots: jax.Array, index: jax.Array, wants: jax.Array):
    """(players, slot) scatter indices: out of range (dropped) where not `wants`."""
    players = jnp.arange(slots.shape[0])
    return players, jnp.where(wants, index, slots.shape[-2])


def put(slots: jax.Array, index: jax.Array, row: jax.Array, wants: jax.Array) -> jax.Array:
    """Writes `row` [N, SLOT_WIDTH] into slot `index` [N] where `wants` [N]. Every change of an
    inventory is such a point update (a scatter, done in place): passes of selects over the
    [N, C, SLOT_WIDTH] slots cost more than the rest of the step, as XLA CPU fuses their chains
    into one loop that recomputes every earlier stage per element (docs/PERFORMANCE.md)."""
    players, index = _at(slots, index, wants)
    return slots.at[players, index].set(row.astype(slots.dtype), mode="drop")


def clear(slots: jax.Array, index: jax.Array, wants: jax.Array) -> jax.Array:
    """Empties slot `index` [N] where `wants` [N]."""
    return put(slots, index, jnp.zeros(slots.shape[::2], slots.dtype), wants)


def set_field(slots, name: str, index, value, wants) -> jax.Array:
    """Sets column `name` of slot `index` [N] to `value` where `wants` [N]."""
    players, index = _at(slots, index, wants)
    value = jnp.broadcast_to(jnp.asarray(value, slots.dtype), players.shape)
    return slots.at[players, index, COL[name]].set(value, mode="drop")


def add_field(slots, name: str, index, amount, wants) -> jax.Array:
    """Adds `amount` to column `name` of slot `index` [N] where `wants` [N]."""
    players, index = _at(slots, index, wants)
    amount = jnp.broadcast_to(jnp.asarray(amount, slots.dtype), players.shape)
    return slots.at[players, index, COL[name]].add(amount, mode="drop")


def find(slots: jax.Array, item_id: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(found bool [N], slot int32 [N]) of item `item_id` [N] (0 = none) in each inventory."""
    match = occupied(slots) & (column(slots, "id") == item_id[:, None]) & (item_id[:, None] > 0)
    first = ops.first_true(match)
    found = first < match.shape[-1]
    return found, jnp.where(found, first, 0)


def pick(values: jax.Array, index: jax.Array) -> jax.Array:
    """values[n, index[n]] for values [N, C] or [N, C, W] (0 where index is outside [0, C)), as
    a masked sum over the slots: XLA CPU would fuse a gather into its consumers."""
    hit = jnp.arange(values.shape[1])[None, :] == index[:, None]
    if values.ndim == 3:
        hit = hit[..., None]
    return jnp.where(hit, values, 0).sum(axis=1, dtype=jnp.int32)


# --- the Inventory observation's row order
def rows_order(slots: jax.Array) -> jax.Array:
    """int32 [N, C]: the Inventory row each slot's item is shown in. Slots are storage places
    in no order; the reference lists a player's items in datastore row order, which is item-id
    order (SPEC 7.2, 11), so row = the number of the player's items with a smaller id. Empty
    slots get C (no row)."""
    ids, full = column(slots, "id"), occupied(slots)
    smaller = full[:, None, :] & (ids[:, None, :] < ids[:, :, None])
    return jnp.where(full, smaller.sum(axis=-1), slots.shape[-2]).astype(jnp.int32)


def in_row_order(values: jax.Array, rows: jax.Array) -> jax.Array:
    """`values` [N, C, ...] per slot, moved to their Inventory rows `rows` [N, C] (zeros for
    rows without an item): one scatter."""
    return jax.vmap(lambda v, r: jnp.zeros_like(v).at[r].set(v, mode="drop"))(values, rows)


def equipment_slot(type_id: jax.Array) -> jax.Array:
    """int32 [...]: EQUIPMENT_SLOT of each type, by compares against the constant table (a
    table gather by a dynamic type would be re-run for every element it feeds)."""
    type_id = jnp.asarray(type_id, jnp.int32)
    slot = jnp.full(type_id.shape, -1, jnp.int32)
    for t in ITEM_TYPES:
        slot = jnp.where(type_id == t, int(EQUIPMENT_SLOT[t]), slot)
    return slot


def equipment_totals(slots: jax.Array) -> dict[str, jax.Array]:
    """int32 [N] sums over equipped items of level (item_level) and of each attack and defense
    stat (SPEC 5.3: a player's equipment offense and defense per style)."""
    equipped = occupied(slots) & (slots[..., COL["equipped"]] > 0)
    names = ("level", "melee_attack", "range_attack", "mage_attack") + (
        "melee_defense",
        "range_defense",
        "mage_defense",
    )
    return {
        name: jnp.where(equipped, column(slots, name), 0).sum(axis=-1, dtype=jnp.int32)
        for name in names
    }


def held_item(slots: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(type_id, level) int32 [N] of the equipped weapon or tool in the held slot (0, 0 if
    none): weapons and tools share it (SPEC 7.3)."""
    type_id = column(slots, "type_id")
    held = (slots[..., COL["equipped"]] > 0) & (type_id >= SPEAR) & (type_id <= CHISEL)
    return (
        jnp.where(held, type_id, 0).max(axis=-1),
        jnp.where(held, column(slots, "level"), 0).max(axis=-1),
    )


# --- item ids: the reference's FIFO free list (SPEC 7.2)
@struct.dataclass
class ItemIds:
    """The reference's item id allocator, per environment (SPEC 7.2).

    Its free list is a queue: the unissued ids [next_fresh, table_size) first, then the ids of
    destroyed items in the order they were freed (`free`, a ring buffer, entries [head, tail)).
    A new item takes the front; when the queue is empty the table doubles and its new ids come
    next. So `table_size` is 100, 200, 400, ... and ids start at 1 (row 0 is reserved).
    """

    free: jax.Array  # int32 [Q]
    head: jax.Array  # int32 []
    tail: jax.Array  # int32 []
    next_fresh: jax.Array  # int32 []
    table_size: jax.Array  # int32 []


INITIAL_TABLE_SIZE = 100


def id_queue_capacity(cfg: Config) -> int:
    """Ring size: at most every id ever issued is waiting, and the table only grows once all of
    its ids are live, so twice the live items (inventories plus this tick's drops) bounds it."""
    live = cfg.player_n * (cfg.item_inventory_capacity + 3) + INITIAL_TABLE_SIZE
    return 1 << int(np.ceil(np.log2(2 * live)))


def empty_item_ids(cfg: Config) -> ItemIds:
    return empty_ids(id_queue_capacity(cfg))


def empty_ids(capacity: int) -> ItemIds:
    """A fresh FIFO allocator (ids 1..99 free, table 100) with a free ring of `capacity`."""
    return ItemIds(
        free=jnp.zeros((capacity,), jnp.int32),
        head=jnp.int32(0),
        tail=jnp.int32(0),
        next_fresh=jnp.int32(1),
        table_size=jnp.int32(INITIAL_TABLE_SIZE),
    )


def allocate(ids: ItemIds, wants: jax.Array) -> tuple[ItemIds, jax.Array]:
    """(ids, new int32 [M]): ids for the requests `wants` [M], taken in request order from the
    front of the queue (0 where not wanted).

    Exact while the queue at the start of the call holds enough ids. When it runs dry the new
    ids continue after the table (its doubling); the reference would first reuse an id freed
    earlier in the same tick (DEVIATIONS).
    """
    wants = wants.astype(jnp.int32)
    rank = ops.exclusive_cumsum(wants)
    fresh = ids.table_size - ids.next_fresh
    waiting = ids.tail - ids.head
    queued = fresh + waiting
    capacity = ids.free.shape[0]
    recycled = ids.free[(ids.head + rank - fresh) % capacity]
    new = jnp.where(
        rank < fresh,
        ids.next_fresh + rank,
        jnp.where(rank < queued, recycled, ids.table_size + rank - queued),
    )
    total = wants.sum()
    extra = jnp.maximum(total - queued, 0)
    table_size = ids.table_size
    for _ in range(16):  # the table doubles until the extra ids fit
        table_size = jnp.where(table_size - ids.table_size < extra, table_size * 2, table_size)
    ids = ids.replace(
        next_fresh=jnp.where(
            extra > 0, ids.table_size + extra, ids.next_fresh + jnp.minimum(total, fresh)
        ),
        head=ids.head + jnp.clip(total - fresh, 0, waiting),
        table_size=table_size,
    )
    return ids, jnp.where(wants > 0, new, 0)


def release(ids: ItemIds, item_id: jax.Array, wants: jax.Array) -> ItemIds:
    """Appends the ids `item_id` [M] where `wants` [M] to the free list, in order."""
    wants = wants.astype(jnp.int32)
    return _append(ids, item_id, ops.exclusive_cumsum(wants), wants > 0, wants.sum())


def release_first(ids: ItemIds, item_id: jax.Array, count: jax.Array) -> ItemIds:
    """Appends the first `count` ids of `item_id` [M] to the free list, in order: `release`
    with `wants` = arange(M) < count, without the running count of `wants`."""
    index = jnp.arange(item_id.shape[0], dtype=jnp.int32)
    return _append(ids, item_id, index, index < count, count.astype(ids.tail.dtype))


def _append(ids: ItemIds, item_id, position, keep, added) -> ItemIds:
    """`item_id` [M] where `keep` [M] written `position` [M] places after the free list's tail,
    which moves on by `added`."""
    capacity = ids.free.shape[0]
    slot = jnp.where(keep, (ids.tail + position) % capacity, capacity)
    free = ids.free.at[slot].set(item_id.astype(jnp.int32), mode="drop")
    return ids.replace(free=free, tail=ids.tail + added)
