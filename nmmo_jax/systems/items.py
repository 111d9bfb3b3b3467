"""The item actions Use (priority 10) and Destroy (40), their masks, and what death does to an
inventory (SPEC 7.3, 8, 12.3, 3.4).

Both heads choose an InventoryItem: a row of the agent's last Inventory observation (its items in
id order), or the no-op index C = capacity. The reference decodes the index to an item before the
tick runs, so a harvest that adds a row before it in between does not change which item is meant:
`targets` reads the ids at the start of the step, the actions find them later by id.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax import items as it
from nmmo_jax import ops, skills
from nmmo_jax.config import Config
from nmmo_jax.state import WorldState


def n_choices(cfg: Config) -> int:
    """InventoryItem choices: the slots plus the no-op (PROVIDE_NOOP_ACTION_TARGET)."""
    return cfg.item_inventory_capacity + 1


def targets(state: WorldState, *index: jax.Array) -> tuple[jax.Array, ...]:
    """int32 [N] per head: the id of the item each agent chose by Inventory row `index` [N]
    (0 = none), for several heads at once (one row order for all)."""
    slots = state.inventory.slots
    rows, ids = it.rows_order(slots), it.column(slots, "id")
    out = []
    for row in index:
        match = rows == row[:, None]
        out.append(jnp.where(match, ids, 0).sum(axis=-1))
    return tuple(out)


def _requirement(state: WorldState, slots, n: int) -> jax.Array:
    """int32 [N, C]: the level each slot's item asks for (SPEC 7.1). Selects over the types
    rather than a table lookup: see items.equipment_slot."""
    levels = skills.requirement_levels(state.entities, n)
    item_type = it.column(slots, "type_id")
    need = jnp.zeros(item_type.shape, jnp.int32)
    for t in it.ITEM_TYPES:
        need = jnp.where(item_type == t, levels[:, it.REQUIREMENT[t], None], need)
    return need


def use(state: WorldState, item_id: jax.Array, can_act: jax.Array, cfg: Config) -> WorldState:
    """Use of the item `item_id` [N] (Use.call, Item.use; SPEC 7.3).

    Requires the item in the inventory, the agent able to act, not in combat, the item not
    listed and its level within the requirement. Equipment: unequips it if equipped; else the
    slot's current item comes off and this one goes on (EQUIP_ITEM). A Ration restores food and
    water, a Potion health, each capped at its maximum (CONSUME_ITEM); it is then destroyed.
    """
    n = cfg.player_n
    inv, ent = state.inventory, state.entities
    slots = inv.slots
    found, k = it.find(slots, item_id)
    row = it.pick(slots, k)
    item_type, level = row[:, it.COL["type_id"]], row[:, it.COL["level"]]
    need = it.pick(_requirement(state, slots, n), k)
    ok = (
        found
        & can_act
        & (ent.freeze[:n] == 0)
        & ~skills.in_combat(ent, state.tick, n, cfg)
        & (row[:, it.COL["listed_price"]] == 0)
        & (level <= need)
    )
    slot_of = it.equipment_slot(item_type)
    equipment = ok & (slot_of >= 0)
    consumable = ok & (slot_of < 0)

    # Equip / unequip (the target slot is emptied first: Equipment.use): at most two point
    # updates, the item already in that equipment slot off and this one on.
    equipped = slots[..., it.COL["equipped"]] > 0
    same_slot = it.equipment_slot(it.column(slots, "type_id")) == slot_of[:, None]
    was_on = row[:, it.COL["equipped"]] > 0
    worn = equipped & same_slot
    slots = it.set_field(slots, "equipped", ops.first_true(worn), 0, equipment & worn.any(-1))
    slots = it.set_field(slots, "equipped", k, 1, equipment & ~was_on)
    events = state.events.record_item(
        "EQUIP_ITEM", equipment & ~was_on, item_type, level, row[:, it.COL["quantity"]]
    )

    # Consume: the restore applies, the item is destroyed.
    ration = consumable & (item_type == it.RATION)
    potion = consumable & (item_type == it.POTION)
    resource = row[:, it.COL["resource_restore"]]
    food = jnp.where(ration, jnp.minimum(ent.food[:n] + resource, cfg.resource_base), ent.food[:n])
    water = jnp.where(
        ration, jnp.minimum(ent.water[:n] + resource, cfg.resource_base), ent.water[:n]
    )
    health = jnp.where(
        potion,
        jnp.minimum(ent.health[:n] + row[:, it.COL["health_restore"]], cfg.player_base_health),
        ent.health[:n],
    )
    ent = ent.replace(
        food=ent.food.at[:n].set(food),
        water=ent.water.at[:n].set(water),
        health=ent.health.at[:n].set(health),
    )
    events = events.record_item("CONSUME_ITEM", consumable, item_type, level)
    slots = it.clear(slots, k, consumable)
    ids = it.release(inv.ids, item_id, consumable)
    return state.replace(entities=ent, inventory=inv.replace(slots=slots, ids=ids), events=events)


def destroy(state: WorldState, item_id: jax.Array, can_act: jax.Array, cfg: Config):
    """Destroy of the item `item_id` [N] (SPEC 8): not equipped, not in combat; a listing goes
    with it (the market is the listed slots). DESTROY_ITEM carries no fields."""
    n = cfg.player_n
    inv, ent = state.inventory, state.entities
    found, k = it.find(inv.slots, item_id)
    equipped = it.pick(it.column(inv.slots, "equipped"), k)
    ok = (
        found
        & can_act
        & (ent.freeze[:n] == 0)
        & ~skills.in_combat(ent, state.tick, n, cfg)
        & (equipped == 0)
    )
    slots = it.clear(inv.slots, k, ok)
    ids = it.release(inv.ids, item_id, ok)
    events = state.events.record("DESTROY_ITEM", ok)
    return state.replace(inventory=inv.replace(slots=slots, ids=ids), events=events)


def discard_dead(state: WorldState, died: jax.Array) -> WorldState:
    """The items of players culled this step are destroyed (EntityGroup.cull_entity, SPEC 3.4):
    their ids are freed player by player in id order, each player's in the order it received
    them (the reference's inventory.items). Runs only in steps where a player died (ops.when)."""

    def discard(inv):
        return _discard(inv, died)

    return state.replace(inventory=ops.when(died.any(), discard, state.inventory))


def _discard(inv, died: jax.Array):
    slots = inv.slots
    full = it.occupied(slots) & died[:, None]
    acquired = it.column(slots, "acquired")
    # rank of each item among its owner's by acquisition (a 12 x 12 compare per player)
    earlier = (acquired[:, None, :] < acquired[:, :, None]) & full[:, None, :]
    rank = earlier.sum(axis=-1)
    before = ops.exclusive_cumsum(full.sum(axis=-1))
    order = jnp.where(full, before[:, None] + rank, -1).reshape(-1)
    total = full.sum()
    # release() appends in array order, so put the ids in release order first
    ids_in_order = (
        jnp.zeros((order.shape[0],), jnp.int32)
        .at[jnp.where(order >= 0, order, order.shape[0])]
        .set(it.column(slots, "id").reshape(-1), mode="drop")
    )
    ids = it.release_first(inv.ids, ids_in_order, total.astype(jnp.int32))
    players = jnp.arange(slots.shape[0])
    slots = slots.at[jnp.where(died, players, slots.shape[0])].set(0, mode="drop")
    return inv.replace(slots=slots, ids=ids)


def refresh_item_level(state: WorldState, cfg: Config) -> WorldState:
    """item_level = sum of the levels of the equipped items, refreshed in the entity update at the
    start of a tick, so the column lags equipment changes by one tick (SPEC 3.2, 18.9)."""
    n = cfg.player_n
    ent = state.entities
    level = it.equipment_totals(state.inventory.slots)["level"]
    level = jnp.where(ent.alive[:n], level, ent.item_level[:n])
    return state.replace(entities=ent.replace(item_level=ent.item_level.at[:n].set(level)))


def slot_masks(state: WorldState, cfg: Config) -> tuple[jax.Array, jax.Array]:
    """(use, destroy) bool [N, C] per slot (SPEC 12.3), from the state after a step: the items
    the agent may Use (not listed, level within the requirement) or Destroy (not equipped);
    none while in combat (CurrentTick - latest_combat_tick < 3) or dead. observe.py moves them
    to the Inventory rows and appends the no-op, which is always allowed."""
    n = cfg.player_n
    slots = state.inventory.slots
    ent = state.entities
    free = ent.alive[:n] & ~skills.in_combat(ent, state.tick, n, cfg)
    full = it.occupied(slots) & free[:, None]
    usable = (
        full
        & (slots[..., it.COL["listed_price"]] == 0)
        & (it.column(slots, "level") <= _requirement(state, slots, n))
    )
    destroyable = full & (slots[..., it.COL["equipped"]] == 0)
    return usable, destroyable
