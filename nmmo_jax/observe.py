"""Observations and action masks, computed from the state (DESIGN "compact observations").

Per agent only what differs between agents (its window of tiles and of entity ids, its own row,
its masks); the entity table is shipped once per environment and the window holds row indices into
it, so a policy gathers the columns it embeds. `reference_observation` builds the reference's
per-agent layout (SPEC 11) from the state for adapters and ported code.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from nmmo_jax import items as it
from nmmo_jax import material as mat
from nmmo_jax import ops
from nmmo_jax.config import Config
from nmmo_jax.ops import INT16_MAX, INT16_MIN
from nmmo_jax.state import N_ENTITY_COLUMNS, WorldState, material
from nmmo_jax.step import HEAD_INDEX, noop_action
from nmmo_jax.systems import combat, comm, exchange, fog, give
from nmmo_jax.systems import items as item_actions
from nmmo_jax.systems.movement import N_DIRECTIONS, STAY


@struct.dataclass
class ActionMask:
    """bool masks of the valid choices of every action head, [player_n, choices]."""

    move: jax.Array  # [N, 5]: N, S, E, W habitable; Stay always (SPEC 12.3)
    use: jax.Array  # [N, C + 1]: inventory rows to Use; the last is the no-op (SPEC 12.3)
    destroy: jax.Array  # [N, C + 1]: inventory rows to Destroy; the last is the no-op
    attack_style: jax.Array  # [N, 3]: melee, range, mage (always all allowed)
    attack_target: jax.Array  # [N, E + 1]: entity slots to attack; the last is the no-op,
    # allowed only when no slot is (SPEC 12.3)
    give_item: jax.Array  # [N, C + 1]: inventory rows to give (not equipped, not listed)
    give_target: jax.Array  # [N, E + 1]: players in view to give an item to; last the no-op
    give_gold_amount: jax.Array  # [N, P]: amounts index + 1 (all while gold <= 2, SPEC 12.3)
    give_gold_target: jax.Array  # [N, E + 1]: players in view to give gold to; last the no-op
    sell_item: jax.Array  # [N, C + 1]: inventory rows to list (not equipped, not listed)
    sell_price: jax.Array  # [N, P]: prices index + 1 (all allowed)
    buy: jax.Array  # [N, M + 1]: market rows to buy; the last is the no-op
    comm: jax.Array  # [N, T + 1]: tokens (all allowed); the last is the no-op


@struct.dataclass
class Observation:
    """What the agents of one environment see after a step (N = player_n, E = n_entities,
    D = 2 * vision radius + 1 = 15).

    tick         int32  []            the reference's CurrentTick
    entities     int16  [E + 1, 31]   the entity table in the reference's columns (SPEC 3.2);
                                      row 0 is all zeros, row s + 1 is entity slot s (players
                                      first: player id i is row i); dead entities are zero rows
    window       uint32 [N, D, D]     each agent's view, centred on it, rows then columns from
                                      -7 to +7 (SPEC 11 Tile); per tile, packed: bits 0-3 the
                                      material id, bits 4-17 and 18-31 two rows of `entities`
                                      standing there (0 = none). Read it through `tile` and
                                      `entity`; the packed form is one slice per agent and the
                                      unpacking fuses into whatever reads it.
    agent        int16  [N, 31]       each agent's own row of `entities`
    inventory    int16  [N, C, 16]    each agent's items, the reference's Inventory rows (SPEC
                                      7.2 columns, items.ITEM_COLUMNS): occupied rows first in
                                      item-id order, zero rows after; C = inventory capacity.
                                      The Use/Destroy/Give/Sell heads index these rows.
    market       int16  [M, 16]       the listed items of the environment, once per env (SPEC
                                      11 Market): item-id order, zero rows after; M =
                                      market_n_obs. The Buy head indexes these rows.
    comm         int16  [N, K]        rows of `entities` of the live members of each agent's
                                      team, in id order, zero padded (SPEC 9 Communication:
                                      the reference shows their id, row, col and message
                                      columns); K = communication_n_obs
    action_mask  ActionMask           per head, bool [N, choices]
    fog          int16  [N, D, D]     with PROVIDE_DEATH_FOG_OBS: round(death fog) on each tile
                                      of the window (SPEC 10; zeros while the fog is off); None
                                      without it
    task         float16 [N, T]       the embedding of each agent's task (SPEC 11 Task; T =
                                      task_embed_dim; zeros for a state without tasks)
    Agents that are dead see zeros and may only choose no-ops.
    """

    tick: jax.Array
    entities: jax.Array
    window: jax.Array
    agent: jax.Array
    inventory: jax.Array
    market: jax.Array
    comm: jax.Array
    action_mask: ActionMask
    fog: jax.Array | None = None
    task: jax.Array | None = None

    @property
    def tile(self) -> jax.Array:
        """int8 [..., N, D, D]: the material id of each tile of the window."""
        return (self.window & jnp.uint32(MATERIAL_MASK)).astype(jnp.int8)

    @property
    def entity(self) -> jax.Array:
        """int16 [..., N, D, D, 2]: rows of `entities` on each tile of the window, 0 = none.
        Layer 0 is the highest row on the tile, layer 1 the lowest other one; a third entity on
        the same tile is not listed (DEVIATIONS)."""
        row_mask = jnp.uint32(MAX_ENTITY_ROWS)
        top = (self.window >> MATERIAL_BITS) & row_mask
        low = (self.window >> (MATERIAL_BITS + ROW_BITS)) & row_mask
        return jnp.stack([top, low], axis=-1).astype(jnp.int16)


# The window packs, per tile, the material (4 bits) and two entity rows (14 bits each) into one
# uint32, so each agent's view is a single dynamic_slice: slicing three int16 planes costs three
# times as much on XLA CPU, and unpacking into three arrays inside the step doubles the cost of
# the view (measured: 31 vs 59 us per env-step of 128 agents; docs/PERFORMANCE.md).
MATERIAL_BITS, ROW_BITS = 4, 14
MATERIAL_MASK = (1 << MATERIAL_BITS) - 1
MAX_ENTITY_ROWS = (1 << ROW_BITS) - 1


def entity_rows(state: WorldState) -> jax.Array:
    """int16 [E + 1, 31]: the entity table with a zero row 0, dead rows zeroed, clipped to int16."""
    table = state.entities.columns()
    table = jnp.where(state.entities.alive[:, None], table, 0)
    table = jnp.clip(table, INT16_MIN, INT16_MAX).astype(jnp.int16)
    return jnp.concatenate([jnp.zeros((1, N_ENTITY_COLUMNS), jnp.int16), table], axis=0)


def window_bounds(cfg: Config) -> tuple[int, int]:
    """[lo, hi): the rows (and columns) any window can reach. Entities stand inside the walkable
    square [border, border + centre] (SPEC 2.2), so windows stay within `radius` of it."""
    lo = max(cfg.map_border - cfg.player_vision_radius, 0)
    hi = min(cfg.map_border + cfg.map_center + cfg.player_vision_radius + 1, cfg.map_size)
    return lo, hi


def window_grid(state: WorldState, cfg: Config) -> jax.Array:
    """uint32 [hi - lo, hi - lo] (window_bounds): per tile the current material and up to two
    entity rows, packed (MATERIAL_BITS, ROW_BITS).

    Built once per environment with scatters (DESIGN "Measured on this machine"). Layer 0 is the
    highest entity row on the tile, layer 1 the lowest other one (0 = none). Only the square the
    windows can reach is built: on the Default map that is 143 of 160 rows, and the per-agent
    slices from it run twice as fast as from the full map (docs/PERFORMANCE.md). The entity
    scatters use uint16 grids, half the zero fill of uint32.
    """
    lo, hi = window_bounds(cfg)
    width = hi - lo
    ent = state.entities
    cell = jnp.where(ent.alive, (ent.row - lo) * width + (ent.col - lo), width * width)
    row_id = jnp.arange(1, ent.size + 1, dtype=jnp.uint16)
    top = jnp.zeros((width * width,), jnp.uint16).at[cell].max(row_id, mode="drop")
    none = jnp.uint16(MAX_ENTITY_ROWS + 1)
    low = jnp.full((width * width,), none, jnp.uint16).at[cell].min(row_id, mode="drop")
    low = jnp.where((low == top) | (low == none), jnp.uint16(0), low)
    tiles = material(state.tiles, state.tick)[lo:hi, lo:hi].reshape(-1).astype(jnp.uint32)
    packed = (
        tiles
        | (top.astype(jnp.uint32) << MATERIAL_BITS)
        | (low.astype(jnp.uint32) << (MATERIAL_BITS + ROW_BITS))
    )
    return packed.reshape(width, width)


def observe_window(state: WorldState, cfg: Config) -> jax.Array:
    """uint32 [N, D, D]: every player's packed view (zeros for dead players)."""
    n = cfg.player_n
    radius, diameter = cfg.player_vision_radius, cfg.vision_diameter
    lo, _ = window_bounds(cfg)
    grid = window_grid(state, cfg)
    width = grid.shape[1]
    # D rows of zeros below the grid: a dead player's window is sliced from them (cheaper than
    # a select over every window); the grid materialized: XLA:CPU otherwise fuses its packing
    # (material, entity rows) into the window gather, recomputed for every gathered tile
    grid = jnp.concatenate([grid, jnp.zeros((diameter, width), grid.dtype)], axis=0)
    (grid,) = ops.materialize(grid, token=state.tick)

    def view(row, col, alive):
        start = (
            jnp.where(alive, row - radius - lo, width),
            jnp.where(alive, col - radius - lo, 0),
        )
        return jax.lax.dynamic_slice(grid, start, (diameter, diameter))

    ent = state.entities
    return jax.vmap(view)(ent.row[:n], ent.col[:n], ent.alive[:n])


def observe(state: WorldState, cfg: Config) -> Observation:
    """The observation of every player of one environment (see Observation for shapes)."""
    n = cfg.player_n
    alive = state.entities.alive[:n]
    window = observe_window(state, cfg)
    entities = entity_rows(state)
    inventory, rows = inventory_view(state, cfg)
    attack_style, attack_target = combat.attack_mask(state, cfg)
    market, market_shown = market_view(state, cfg)
    nonempty = inventory[:, 0, it.COL["type_id"]] > 0
    give_target, give_gold_amount, give_gold_target = give.target_masks(state, cfg, nonempty)
    return Observation(
        tick=state.tick,
        entities=entities,
        window=window,
        agent=entities[1 : n + 1],
        inventory=inventory,
        market=market,
        comm=comm_view(state, cfg),
        action_mask=ActionMask(
            move=move_mask(window, alive, cfg),
            use=rows["use"],
            destroy=rows["destroy"],
            attack_style=attack_style,
            attack_target=attack_target,
            give_item=rows["give"],
            give_target=give_target,
            give_gold_amount=give_gold_amount,
            give_gold_target=give_gold_target,
            sell_item=rows["sell"],
            sell_price=jnp.ones((n, cfg.price_n_obs), bool),
            buy=buy_mask(state, market, market_shown, cfg),
            comm=jnp.ones((n, comm.n_choices(cfg)), bool),
        ),
        fog=fog_window(state, cfg) if cfg.provide_death_fog_obs else None,
        task=task_embedding(state, cfg),
    )


def task_embedding(state: WorldState, cfg: Config) -> jax.Array:
    """float16 [N, D]: each player's task embedding (SPEC 11 Task; zeros without tasks)."""
    if state.tasks is None:
        return jnp.zeros((cfg.player_n, cfg.task_embed_dim), jnp.float16)
    return state.tasks.table.embedding


def fog_window(state: WorldState, cfg: Config) -> jax.Array:
    """int16 [N, D, D]: round(fog) in every player's window (zeros for dead players), sliced like
    the tile window from the square the windows can reach (window_bounds)."""
    n = cfg.player_n
    radius, diameter = cfg.player_vision_radius, cfg.vision_diameter
    lo, hi = window_bounds(cfg)
    grid = fog.rounded(state, cfg)[lo:hi, lo:hi]

    def view(row, col):
        return jax.lax.dynamic_slice(grid, (row - radius - lo, col - radius - lo), (diameter,) * 2)

    window = jax.vmap(view)(state.entities.row[:n], state.entities.col[:n])
    return jnp.where(state.entities.alive[:n, None, None], window, jnp.int16(0))


def market_view(state: WorldState, cfg: Config) -> tuple[jax.Array, jax.Array]:
    """(market int16 [M, 16], shown bool [M]): the Market rows (zeros without the exchange)."""
    m = cfg.market_n_obs
    if not cfg.exchange_system_enabled:
        return jnp.zeros((m, it.N_ITEM_COLUMNS), jnp.int16), jnp.zeros((m,), bool)
    market, _, shown = exchange.market_view(state, cfg)
    return market, shown


def buy_mask(state: WorldState, market, shown, cfg: Config) -> jax.Array:
    n = cfg.player_n
    if not cfg.exchange_system_enabled:
        return jnp.zeros((n, cfg.market_n_obs + 1), bool).at[:, -1].set(True)
    return exchange.buy_mask(state, market, shown, cfg)


def comm_view(state: WorldState, cfg: Config) -> jax.Array:
    if not cfg.communication_system_enabled:
        return jnp.zeros((cfg.player_n, cfg.communication_n_obs), jnp.int16)
    return comm.team_rows(state, cfg)


# The InventoryItem heads and the per-slot masks observe.py moves to the Inventory rows.
ROW_MASKS = ("use", "destroy", "give", "sell")


def inventory_view(state: WorldState, cfg: Config) -> tuple[jax.Array, dict]:
    """(rows int16 [N, C, 16], masks): each player's Inventory rows, its items in id order
    (zeros for the dead), and the masks of those rows with the trailing no-op, bool [N, C + 1]
    by head (ROW_MASKS: Use, Destroy, Give, Sell). The slots' item columns go to their rows in
    one scatter, and their mask bits, packed in one int8 per slot, in another (one scatter of
    the item columns with the masks appended cost a concatenation and a slice more: ~2 % of
    the step, docs/PERFORMANCE.md)."""
    n, slots = cfg.player_n, state.inventory.slots
    none = jnp.zeros(slots.shape[:2], bool)
    if cfg.item_system_enabled:
        use, destroy = item_actions.slot_masks(state, cfg)
        give_sell = exchange.slot_mask(state, cfg)
    else:
        use = destroy = give_sell = none
    sell = give_sell if cfg.exchange_system_enabled else none
    bits = sum(m.astype(jnp.int8) << i for i, m in enumerate((use, destroy, give_sell, sell)))
    order = jnp.where(state.entities.alive[:n, None], it.rows_order(slots), slots.shape[1])
    rows = it.in_row_order(slots[..., : it.N_ITEM_COLUMNS], order)
    row_bits = it.in_row_order(bits, order)
    noop = jnp.ones((n, 1), bool)
    out = {
        name: jnp.concatenate([(row_bits >> i) & 1 > 0, noop], axis=-1)
        for i, name in enumerate(ROW_MASKS)
    }
    return rows, out


def move_mask(window: jax.Array, alive: jax.Array, cfg: Config) -> jax.Array:
    """bool [N, 5]: which neighbours of the window centre are passable; Stay is always valid.
    Passability follows the base material, which depletion never changes (SPEC 2.1, 12.3)."""
    c = cfg.player_vision_radius
    neighbour = jnp.stack(
        [window[:, c - 1, c], window[:, c + 1, c], window[:, c, c + 1], window[:, c, c - 1]],
        axis=-1,
    )
    material_id = (neighbour & jnp.uint32(MATERIAL_MASK)).astype(jnp.int32)
    passable = mat.is_passable(material_id).astype(bool) & alive[:, None]
    stay = jnp.ones(alive.shape + (1,), bool)
    mask = jnp.concatenate([passable, stay], axis=-1)
    assert mask.shape[-1] == N_DIRECTIONS and STAY == N_DIRECTIONS - 1
    return mask


def reference_observation(state: WorldState, cfg: Config) -> dict:
    """The reference's per-agent observation layout (SPEC 11), built from our state.

    Returns a dict of arrays with a leading [player_n] axis: "CurrentTick" int16 [N],
    "AgentId" int16 [N], "Tile" int16 [N, 225, 3] (absolute row, absolute col, material; with
    PROVIDE_DEATH_FOG_OBS [N, 225, 4], round(fog) appended and, the reference's quirk (SPEC
    10), the material column frozen at its reset values: the base material, never depleted),
    "Entity" int16 [N, 100, 31] (entities within the window in datastore row order, zero
    padded), "Inventory" int16 [N, C, 16] (the agent's items in id order, zero padded),
    "Market" int16 [N, M, 16] (the listed items in id order; the same for every live agent),
    "Communication" int16 [N, K, 4] (id, row, col, message of the live members of the agent's
    team), and "ActionTargets" with every head of SPEC 12.1 as int8 masks: Move.Direction,
    Attack.Style/Target, Use/Destroy.InventoryItem, Give.InventoryItem/Target,
    GiveGold.Price/Target, Sell.InventoryItem/Price, Buy.MarketItem, Comm.Token (the Target
    masks over the Entity rows, 100 + 1 no-op). Dead agents get the reference's empty
    observation: zeros, AgentId kept, Move mask [0, 0, 0, 0, 1], every Target/InventoryItem/
    MarketItem mask only the no-op, Style/Price/Token all ones.
    When more than PLAYER_N_OBS entities are in view the nearest are kept (the reference
    crashes there; DEVIATIONS).
    This is the slow layout (a sort per agent): meant for adapters and porting, not training.
    """
    n = cfg.player_n
    radius, diameter = cfg.player_vision_radius, cfg.vision_diameter
    ent = state.entities
    alive = ent.alive[:n]
    row, col = ent.row[:n], ent.col[:n]
    offsets = jnp.arange(-radius, radius + 1)
    abs_row = jnp.broadcast_to(row[:, None, None] + offsets[None, :, None], (n, diameter, diameter))
    abs_col = jnp.broadcast_to(col[:, None, None] + offsets[None, None, :], (n, diameter, diameter))
    grid = material(state.tiles, state.tick)
    columns = [abs_row, abs_col, grid[abs_row, abs_col].astype(jnp.int32)]
    if cfg.provide_death_fog_obs:
        columns[2] = state.tiles.base[abs_row, abs_col].astype(jnp.int32)
        columns.append(fog.rounded(state, cfg)[abs_row, abs_col].astype(jnp.int32))
    tile = jnp.stack(columns, axis=-1)
    tile = jnp.where(alive[:, None, None, None], tile, 0).reshape(n, diameter * diameter, -1)

    table = entity_rows(state)[1:]
    order, shown = visible_entities(state, cfg)
    k = cfg.player_n_obs
    rows = jnp.where(shown[..., None], table[order], 0)
    if rows.shape[1] < k:
        rows = jnp.pad(rows, ((0, 0), (0, k - rows.shape[1]), (0, 0)))

    def over_rows(slot_mask):
        """A slot mask [N, E + 1] read at each Entity row's slot, padded to PLAYER_N_OBS."""
        mask = jnp.take_along_axis(slot_mask[:, :-1], order, axis=1) & shown
        if mask.shape[1] < k:
            mask = jnp.pad(mask, ((0, 0), (0, k - mask.shape[1])))
        return mask

    obs = observe(state, cfg)
    masks = obs.action_mask
    attack = over_rows(masks.attack_target)
    attack = jnp.concatenate([attack, ~attack.any(axis=1, keepdims=True)], axis=1)
    noop = jnp.ones((n, 1), bool)
    give_target = jnp.concatenate([over_rows(masks.give_target), noop], axis=1)
    gold_target = jnp.concatenate([over_rows(masks.give_gold_target), noop], axis=1)
    team = obs.comm.astype(jnp.int32)
    comm_rows = entity_rows(state)[team][..., [0, 2, 3, 10]]  # id, row, col, message
    agent_id = jnp.arange(1, n + 1, dtype=jnp.int16)

    def int8(mask):
        return mask.astype(jnp.int8)

    return {
        "CurrentTick": jnp.where(alive, state.tick, 0).astype(jnp.int16),
        "AgentId": agent_id,
        "Tile": tile.astype(jnp.int16),
        "Entity": rows.astype(jnp.int16),
        "Inventory": obs.inventory,
        "Market": jnp.where(alive[:, None, None], obs.market[None], 0).astype(jnp.int16),
        "Communication": jnp.where(team[..., None] > 0, comm_rows, 0).astype(jnp.int16),
        "ActionTargets": {
            "Move": {"Direction": int8(masks.move)},
            "Attack": {"Style": int8(masks.attack_style), "Target": int8(attack)},
            "Use": {"InventoryItem": int8(masks.use)},
            "Destroy": {"InventoryItem": int8(masks.destroy)},
            "Give": {"InventoryItem": int8(masks.give_item), "Target": int8(give_target)},
            "GiveGold": {"Price": int8(masks.give_gold_amount), "Target": int8(gold_target)},
            "Sell": {"InventoryItem": int8(masks.sell_item), "Price": int8(masks.sell_price)},
            "Buy": {"MarketItem": int8(masks.buy)},
            "Comm": {"Token": int8(masks.comm[:, :-1])},
        },
    }


def visible_entities(state: WorldState, cfg: Config) -> tuple[jax.Array, jax.Array]:
    """(slots int32 [N, K], shown bool [N, K]) with K = min(PLAYER_N_OBS, E): the entities each
    agent's reference Entity observation lists, in its row order: those within Chebyshev
    distance `radius`, by datastore row (SPEC 11); when more than K are in view, the nearest
    (DEVIATIONS)."""
    n = cfg.player_n
    ent = state.entities
    row, col = ent.row[:n], ent.col[:n]
    distance = jnp.maximum(
        jnp.abs(ent.row[None, :] - row[:, None]), jnp.abs(ent.col[None, :] - col[:, None])
    )
    visible = ent.alive[None, :] & (distance <= cfg.player_vision_radius) & ent.alive[:n, None]
    k = min(cfg.player_n_obs, ent.size)
    span = 1 << 24  # datastore rows stay below it
    order_key = ent.ds_row[None, :] + jnp.where(
        visible.sum(axis=1, keepdims=True) > cfg.player_n_obs, distance * span, 0
    )
    order_key = jnp.where(visible, order_key, jnp.iinfo(jnp.int32).max)
    order = jnp.argsort(order_key, axis=1)[:, :k].astype(jnp.int32)
    return order, jnp.take_along_axis(visible, order, axis=1)


def reference_actions(state: WorldState, cfg: Config, actions: dict) -> jax.Array:
    """int32 [N, H]: our action array for the reference's action dict (SPEC 12.1-12.2) given as
    arrays [N] per argument, e.g. {"Move": {"Direction": d}, "Attack": {"Style": s, "Target":
    t}, "Buy": {"MarketItem": m}, ...}, indices into the observation each agent got from
    `state` (`reference_observation(state, cfg)`). Actions or arguments left out are no-ops;
    an index outside the rows that observation listed (the reference's no-op index among them)
    gives the head's no-op. Targets (Attack, Give, GiveGold) are Entity rows, translated to
    entity slots; InventoryItem, MarketItem, Price, Token and Direction mean the same here.
    The fixed arguments (Direction, Style, Price, Token) decode as the reference's do: too
    large is clipped to the last choice, negative drops the whole action."""
    n = cfg.player_n
    order, shown = visible_entities(state, cfg)
    k = order.shape[1]

    def slot(index):
        index = jnp.asarray(index, jnp.int32)
        inside = (index >= 0) & (index < k)
        at = jnp.clip(index, 0, k - 1)[:, None]
        found = jnp.take_along_axis(order, at, axis=1)[:, 0]
        listed = jnp.take_along_axis(shown, at, axis=1)[:, 0]
        return jnp.where(inside & listed, found, cfg.n_entities)

    def bounded(limit, noop):
        def translate(index):
            index = jnp.asarray(index, jnp.int32)
            return jnp.where((index >= 0) & (index < limit), index, noop)

        return translate

    def fixed(choices, noop):
        def translate(index):
            index = jnp.asarray(index, jnp.int32)
            return jnp.where(index >= 0, jnp.minimum(index, choices - 1), noop)

        return translate

    # a negative fixed argument drops its action: the head that carries the action's no-op
    dropped_with = {
        ("Attack", "Style"): "attack_target",
        ("GiveGold", "Price"): "give_gold_target",
        ("Sell", "Price"): "sell_item",
    }
    capacity, prices = cfg.item_inventory_capacity, cfg.price_n_obs
    item = bounded(capacity, capacity)
    table = {
        ("Move", "Direction"): ("move", fixed(5, 4)),
        ("Attack", "Style"): ("attack_style", fixed(3, 0)),
        ("Attack", "Target"): ("attack_target", slot),
        ("Use", "InventoryItem"): ("use", item),
        ("Destroy", "InventoryItem"): ("destroy", item),
        ("Give", "InventoryItem"): ("give_item", item),
        ("Give", "Target"): ("give_target", slot),
        ("GiveGold", "Price"): ("give_gold_amount", fixed(prices, 0)),
        ("GiveGold", "Target"): ("give_gold_target", slot),
        ("Sell", "InventoryItem"): ("sell_item", item),
        ("Sell", "Price"): ("sell_price", fixed(prices, 0)),
        ("Buy", "MarketItem"): ("buy", bounded(cfg.market_n_obs, cfg.market_n_obs)),
        ("Comm", "Token"): (
            "comm",
            fixed(cfg.communication_num_tokens, cfg.communication_num_tokens),
        ),
    }
    noops = noop_action(cfg)
    columns = [jnp.full((n,), v, jnp.int32) for v in noops]
    drop = {}
    for action, arguments in actions.items():
        for argument, index in arguments.items():
            if (action, argument) not in table:
                raise ValueError(
                    f"unknown reference action {action}.{argument}; known: "
                    f"{sorted(f'{a}.{b}' for a, b in table)}"
                )
            head, translate = table[(action, argument)]
            columns[HEAD_INDEX[head]] = jnp.broadcast_to(translate(index), (n,))
            if (action, argument) in dropped_with:
                negative = jnp.broadcast_to(jnp.asarray(index) < 0, (n,))
                drop[dropped_with[(action, argument)]] = negative
    for head, negative in drop.items():
        h = HEAD_INDEX[head]
        columns[h] = jnp.where(negative, noops[h], columns[h])
    return jnp.stack(columns, axis=-1)
