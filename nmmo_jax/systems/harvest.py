"""Harvesting: the five professions of the per-tick player update (SPEC 3.3 step 6, 4.2).

Fishing takes every adjacent Fish tile (4-neighbours); herbalism, prospecting, carving and
alchemy take the Herb, Ore, Tree or Crystal the player stands on. A harvest needs the tile to show
its base material, depletes it (regrowth drawn now, SPEC 2.1), grants XP (even when the drop is
lost to a full inventory) and drops items at level 1, or min(1 + level, 10) with the matching
tool held (SPEC 4.2).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax import items as it
from nmmo_jax import material as mat
from nmmo_jax import ops, skills
from nmmo_jax.config import Config
from nmmo_jax.state import WorldState

# Underfoot materials: (material, skill, drop type, weapon entry of the drop table).
UNDERFOOT = (
    (mat.HERB, "herbalism", it.POTION, None),
    (mat.ORE, "prospecting", it.WHETSTONE, it.WAND),
    (mat.TREE, "carving", it.ARROW, it.SPEAR),
    (mat.CRYSTAL, "alchemy", it.RUNES, it.BOW),
)
# Drops of one player in one tick, in the reference's order: fishing, then the underfoot
# skill's table (its primary entry, then the 2.5 % weapon entry).
RATION_DROP, PRIMARY_DROP, WEAPON_DROP = range(3)
# Uniforms per player and tick: the regrowth draws of the 4 neighbours and the tile underfoot,
# then the weapon entry of the drop table.
N_UNIFORMS = 6


def harvest(
    state: WorldState, u: jax.Array, cfg: Config, live: jax.Array | None = None
) -> WorldState:
    """Every live player harvests what it can this tick (SPEC 3.3 step 6, 4.2). `u`: float32
    [N, N_UNIFORMS] uniforms of this tick; `live`: bool [N], the players that update (default
    the live ones; the death fog leaves out those it killed this tick, SPEC 3.3 step 3).

    Players update one after another in id order, so of two players after the same tile the lower
    id harvests it, and a fish tile next to several players goes to the lowest id among them. One
    fishing harvest depletes every adjacent fish tile it claims but yields one Ration (the quirk,
    SPEC 4.2 / 18.4). Claims are a scatter-min of player indices into a map-sized grid: fish
    tiles are impassable and the other resources are stood on, so their cells never collide.
    """
    n, size = cfg.player_n, cfg.map_size
    ent = state.entities
    live = ent.alive[:n] if live is None else live
    row, col = ent.row[:n], ent.col[:n]
    tiles, tick = state.tiles, state.tick

    def shows(r, c, material):
        return (ops.gather(tiles.base, r, c) == material) & (
            tick >= ops.gather(tiles.regrow_at, r, c)
        )

    # Requests [N, 5]: the 4 neighbours (fishing) and the tile underfoot.
    deltas = ops.NEIGHBOUR_DELTAS + ((0, 0),)
    req_row = jnp.stack([row + dr for dr, _ in deltas], axis=-1)
    req_col = jnp.stack([col + dc for _, dc in deltas], axis=-1)
    under = ops.gather(tiles.base, row, col)
    fish = shows(req_row[:, :4], req_col[:, :4], mat.FISH)
    resource = jnp.zeros((n,), bool)
    for material, *_ in UNDERFOOT:
        resource |= under == material
    resource &= tick >= ops.gather(tiles.regrow_at, row, col)
    wants = jnp.concatenate([fish, resource[:, None]], axis=-1) & live[:, None]

    # The claim grid covers the walkable square and its neighbours only (players stand inside
    # it, SPEC 2.2), in int16: its fill is most of the cost of the claims.
    lo, width = cfg.map_border - 1, cfg.map_center + 3
    local = (req_row - lo) * width + (req_col - lo)
    dtype = jnp.int16 if n < ops.INT16_MAX else jnp.int32
    index = jnp.broadcast_to(jnp.arange(n, dtype=dtype)[:, None], local.shape)
    claim = (
        jnp.full((width * width,), n, dtype)
        .at[jnp.where(wants, local, width * width)]
        .min(index, mode="drop")
    )
    claimed = wants & (claim[local] == index)
    cell = req_row * size + req_col
    fishes = claimed[:, :4].any(axis=-1)
    takes = claimed[:, 4]

    # Depletion: every claimed tile, each with its own regrowth draw (SPEC 2.1).
    probability = mat.respawn_probability(cfg)
    p_under = jnp.float32(0.0)
    for material, *_ in UNDERFOOT:
        p_under = jnp.where(under == material, probability[material], p_under)
    p = jnp.concatenate(
        [jnp.full((n, 4), probability[mat.FISH], jnp.float32), p_under[:, None]], axis=-1
    )
    delay = ops.geometric_delay(u[:, :5], p)
    regrow = jnp.minimum(tick + delay, ops.INT16_MAX).astype(jnp.int16)
    regrow_at = (
        tiles.regrow_at.reshape(-1)
        .at[jnp.where(claimed, cell, size * size)]
        .set(regrow, mode="drop")
        .reshape(tiles.regrow_at.shape)
    )
    state = state.replace(tiles=tiles.replace(regrow_at=regrow_at))

    if cfg.item_system_enabled:
        state = _drop_items(state, u[:, 5], fishes, takes, under, cfg)

    # XP after the drops (AmmunitionSkill / ConsumableSkill.process_drops), one LEVEL_UP per rise.
    ent, events = state.entities, state.events
    ent, leveled, level = skills.add_xp(
        ent, "fishing", cfg.progression_consumable_xp_scale, fishes, cfg
    )
    events = events.record_level_up(skills.SKILL_ID["fishing"], leveled, level)
    for material, skill, _, weapon in UNDERFOOT:
        xp = cfg.progression_ammunition_xp_scale if weapon else cfg.progression_consumable_xp_scale
        ent, leveled, level = skills.add_xp(ent, skill, xp, takes & (under == material), cfg)
        events = events.record_level_up(skills.SKILL_ID[skill], leveled, level)
    return state.replace(entities=ent, events=events)


def _drop_level(held, tool_type: int, cfg: Config):
    """int32 [N]: 1, or min(1 + tool level, 10) with the matching tool held (SPEC 4.2)."""
    held_type, held_level = held
    return jnp.where(
        held_type == tool_type, jnp.minimum(1 + held_level, cfg.progression_level_max), 1
    )


def _drop_items(state, u, fishes, takes, under, cfg: Config) -> WorldState:
    """Makes this tick's drops and puts each into its harvester's inventory (SPEC 4.2, 7.3).

    Per player, in order: the Ration, the underfoot table's primary drop, the weapon entry. Each
    drop takes an item id; it goes in if the inventory has a free slot (ammunition then merges into
    a stack of the same type and level), else it is destroyed and its id freed; HARVEST_ITEM is
    logged for every drop that went in, merged or not (SPEC 14.6).
    """
    n = cfg.player_n
    inv = state.inventory
    slots = inv.slots

    # The three possible drops, [N, SLOT_WIDTH] each. Rows are built from constants per type and
    # chosen with selects: a table lookup by a dynamic type would be a gather that XLA re-runs for
    # every element of the inventory selects it feeds (docs/PERFORMANCE.md).
    owner = jnp.arange(1, n + 1)
    held = it.held_item(slots)
    ration = it.new_item(it.RATION, _drop_level(held, it.ROD, cfg), cfg, owner_id=owner)
    primary = jnp.zeros_like(ration)
    weapon = jnp.zeros_like(ration)
    for material, _, drop, weapon_type in UNDERFOOT:
        here = (under == material)[:, None]
        level = _drop_level(held, it.TOOL_FOR[material], cfg)
        primary = jnp.where(here, it.new_item(drop, level, cfg, owner_id=owner), primary)
        if weapon_type is not None:
            weapon = jnp.where(here, it.new_item(weapon_type, level, cfg, owner_id=owner), weapon)
    weapon_drops = jnp.zeros((n,), bool)
    if cfg.equipment_system_enabled and cfg.weapon_drop_prob > 0:
        weapon_drops = takes & (weapon[:, it.COL["type_id"]] > 0) & (u < cfg.weapon_drop_prob)

    made = jnp.stack([fishes, takes, weapon_drops], axis=-1)  # [N, 3]
    ids, new_ids = it.allocate(inv.ids, made.reshape(-1))
    new_ids = new_ids.reshape(n, 3)
    # Each drop goes in if a slot is free after the drops before it (Inventory.space); the
    # primary drop, ammunition, merges into a held stack of its (type, level) instead.
    events = state.events
    received = inv.received
    freed = []
    for d, item in enumerate((ration, primary, weapon)):
        wants = made[:, d]
        item_type, level = item[:, it.COL["type_id"]], item[:, it.COL["level"]]
        fits = wants & (it.space(slots) > 0)
        goes_in = fits
        if d == PRIMARY_DROP:
            stack = it.stack_slot(slots, item_type, level)
            merges = fits & (stack < slots.shape[1])
            slots = it.add_field(slots, "quantity", stack, 1, merges)
            goes_in = fits & ~merges
        item = item.at[:, it.COL["id"]].set(new_ids[:, d].astype(jnp.int16))
        item = item.at[:, it.COL["acquired"]].set(received.astype(jnp.int16))
        slots = it.put(slots, it.first_free(slots), item, goes_in)
        received = received + goes_in
        events = events.record_item("HARVEST_ITEM", fits, item_type, level)
        freed.append(wants & ~goes_in)
    # Destroyed drops (no space, or merged into a stack) free their ids in drop order.
    ids = it.release(ids, new_ids.reshape(-1), jnp.stack(freed, axis=-1).reshape(-1))
    inv = inv.replace(slots=slots, received=received, ids=ids)
    return state.replace(inventory=inv, events=events)
