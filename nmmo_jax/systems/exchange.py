"""The market: Sell (priority 70), Buy (20), the expiry of listings, the Market observation and
the Sell/Buy masks (SPEC 8, 11, 12.3).

The market is the set of inventory slots with a listed price (DESIGN: not a second copy); a
slot's `listing_tick` is the tick of the step that listed it. The Market observation lists the
listed items of the whole environment in item-id order (the reference's datastore row order),
at most `market_n_obs` rows; the Buy head names one of those rows (`market_n_obs` = no-op), as
the reference's MarketItem does, so its index means the same in both engines.

Order. The reference runs the Buy bucket in a random order (it shuffles the bucket each tick).
A buy can depend on earlier buys of the same tick: the listing may be taken, and a buyer who is
also a seller may have earned gold or freed a slot, or lost its matching ammunition stack. `buy`
reproduces the sequential result for a random order (uniforms of the step key) without a loop
over buyers: the buys that succeed are the fixed point of "succeeds given the buys before it
in the order", found by iterating from "every valid buy succeeds" (each round fixes at least
the next buy in order; one round when no buy depends on another, which is most ticks).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax import items as it
from nmmo_jax import ops, skills
from nmmo_jax.config import Config
from nmmo_jax.events import GOLD_KEYS
from nmmo_jax.state import WorldState

STREAM_BUY = 20  # ops.uniforms stream of the Buy order
GOLD_EARN, GOLD_BUY = GOLD_KEYS.index("EARN_GOLD"), GOLD_KEYS.index("BUY_ITEM")
LEVEL_BITS = 32  # the Buy mask matches ammunition stacks of levels 0..31 (items stay <= 15)
INT32_MAX, INT32_MIN = 2**31 - 1, -(2**31)


def n_buy_choices(cfg: Config) -> int:
    """Buy choices: the Market rows plus the no-op."""
    return cfg.market_n_obs + 1


def n_price_choices(cfg: Config) -> int:
    """Price choices of Sell and GiveGold: index p means p + 1 gold."""
    return cfg.price_n_obs


def id_capacity(cfg: Config) -> int:
    """An upper bound of the item ids (the allocator's table never outgrows its free ring)."""
    return it.id_queue_capacity(cfg)


def market_rows(state: WorldState, cfg: Config) -> tuple[jax.Array, jax.Array]:
    """(flat int32 [M], shown bool [M]): the inventory slot (player * C + slot) of each Market
    row, listed items in item-id order (SPEC 11), M = market_n_obs; rows past the listed items
    are not shown.

    No sort: the listed ids are set as bits of a bitmap over the id range (32 ids a word), and
    an item's rank is the number of bits set before it, a running count over the words plus a
    popcount within its word (a running count over every id costs four times as much)."""
    slots = state.inventory.slots
    n, capacity = slots.shape[0], slots.shape[1]
    words = -(-id_capacity(cfg) // 32)
    listed = (it.occupied(slots) & (slots[..., it.COL["listed_price"]] > 0)).reshape(-1)
    ids = it.column(slots, "id").reshape(-1).astype(jnp.uint32)
    word, bit = ids >> 5, jnp.left_shift(jnp.uint32(1), ids & 31)
    # ids are distinct, so adding the bits sets them
    bitmap = (
        jnp.zeros((words,), jnp.uint32)
        .at[jnp.where(listed, word, words).astype(jnp.int32)]
        .add(bit, mode="drop")
    )
    counts = jax.lax.population_count(bitmap).astype(jnp.int32)
    before = ops.exclusive_cumsum(counts)
    below = jax.lax.population_count(bitmap[jnp.minimum(word, words - 1)] & (bit - 1))
    rank = before[jnp.minimum(word, words - 1)] + below.astype(jnp.int32)
    m = cfg.market_n_obs
    flat = jnp.arange(n * capacity, dtype=jnp.int32)
    rows = (
        jnp.zeros((m,), jnp.int32)
        .at[jnp.where(listed & (rank < m), rank, m)]
        .set(flat, mode="drop")
    )
    shown = jnp.arange(m) < counts.sum()
    return rows, shown


def market_view(state: WorldState, cfg: Config) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(market int16 [M, 16], flat [M], shown [M]): the Market observation (the 16 ItemState
    columns of the listed items, zero rows after) and its rows' slots (market_rows)."""
    rows, shown = market_rows(state, cfg)
    table = state.inventory.slots.reshape(-1, it.SLOT_WIDTH)[rows, : it.N_ITEM_COLUMNS]
    return jnp.where(shown[:, None], table, 0).astype(jnp.int16), rows, shown


def buy_targets(state: WorldState, index: jax.Array, cfg: Config) -> jax.Array:
    """int32 [N]: the slot (player * C + slot) of the listing each agent chose by Market row
    `index` [N], -1 for the no-op or a row without a listing. Read at the start of the step,
    from the state the agents saw (the reference decodes MarketItem before the tick)."""
    rows, shown = market_rows(state, cfg)
    m = rows.shape[0]
    inside = (index >= 0) & (index < m)
    at = jnp.clip(index, 0, max(m - 1, 0))
    return jnp.where(inside & shown[at], rows[at], -1)


def buy(state: WorldState, key, request: jax.Array, can_act: jax.Array, cfg: Config):
    """The Buy actions of the tick (Buy.call, Exchange.buy; SPEC 8), in a random order.

    `request` [N]: the listing's slot (buy_targets), -1 none. A buy succeeds if the buyer can
    act, is not in combat, the item is still listed (not bought earlier in the order) and not
    its own, the buyer has the gold and a free slot or a stack of the same ammunition (type and
    level), all at its turn. The item leaves the seller (unlisted) for the buyer; ammunition
    with a matching stack merges into it and the bought instance is destroyed (its id freed).
    Gold goes from buyer to seller; BUY_ITEM (type, level, number, price) and EARN_GOLD."""
    n = cfg.player_n
    inv, ent = state.inventory, state.entities
    slots = inv.slots
    capacity = slots.shape[1]
    wants = request >= 0
    f = jnp.clip(request, 0, n * capacity - 1)
    row = slots.reshape(-1, it.SLOT_WIDTH)[f].astype(jnp.int32)
    seller, k = f // capacity, f % capacity
    price = row[:, it.COL["listed_price"]]
    item_id, item_type = row[:, it.COL["id"]], row[:, it.COL["type_id"]]
    level, quantity = row[:, it.COL["level"]], row[:, it.COL["quantity"]]
    buyer = jnp.arange(n)
    valid = (
        wants
        & can_act
        & (ent.freeze[:n] == 0)
        & ~skills.in_combat(ent, state.tick, n, cfg)
        & (item_type > 0)
        & (price > 0)
        & (seller != buyer)
    )
    if cfg.exchange_shuffle_buys:
        (u,) = ops.materialize(ops.uniforms(key, (n,), stream=STREAM_BUY), token=state.tick)
        earlier = (u[None, :] < u[:, None]) | (
            (u[None, :] == u[:, None]) & (buyer[None, :] < buyer[:, None])
        )
        rank = earlier.sum(axis=1, dtype=jnp.int32)  # each buyer's turn, 0..n-1
    else:
        rank = buyer
    # the buyer's stack of the same ammunition, if any (its slot; C = none), as a listing slot
    stack_slot = it.stack_slot(slots, item_type, level)
    has_stack = stack_slot < capacity
    own_stack = buyer * capacity + jnp.minimum(stack_slot, capacity - 1)
    gold0, space0 = ent.gold[:n], it.space(slots)
    # the per-buyer values the [N, N] sums below read, in buffers of their own (fused into
    # them, the listing's row gather and the order's hash were redone for every pair)
    rank, f, seller, price, valid, own_stack = ops.materialize(
        rank, f, seller, price, valid, own_stack, token=state.tick
    )
    # [i, j]: buyer j bought from buyer i before i's turn (given that j's buy succeeds)
    sold_before = (seller[None, :] == buyer[:, None]) & (rank[None, :] < rank[:, None])

    def resolve(ok):
        # the turn of the first successful buy of each listing (n = none)
        first = (
            jnp.full((n * capacity,), n, jnp.int32)
            .at[jnp.where(ok, f, n * capacity)]
            .min(rank, mode="drop")
        )
        taken = first[f] < rank  # the listing was bought before this buyer's turn
        stack = has_stack & ~(first[own_stack] < rank)  # its stack was not bought before
        sold = sold_before & ok[None, :]
        gold = gold0 + jnp.where(sold, price[None, :], 0).sum(axis=1)
        space = space0 + sold.sum(axis=1)
        return valid & ~taken & (gold >= price) & ((space > 0) | stack), stack

    ok, stack = ops.fixed_point(resolve, valid, n)
    merge = ok & stack
    # A stack merged into and bought later in the order carries the merged quantity along:
    # buyer j bought the stack its seller s merged into before j's turn.
    carried = ok & merge[seller] & (rank[seller] < rank) & (k == stack_slot[seller])
    got = quantity + jnp.where(carried, quantity[seller], 0)

    gold = gold0 - jnp.where(ok, price, 0)
    gold = gold.at[jnp.where(ok, seller, n)].add(price, mode="drop")
    ent = ent.replace(gold=ent.gold.at[:n].set(gold))

    # inventories: merges, then the sold slots emptied, then the new items in free slots
    slots = it.add_field(slots, "quantity", stack_slot, got, merge)
    slots = slots.at[jnp.where(ok, seller, n), k].set(0, mode="drop")
    new_row = row.at[:, it.COL["owner_id"]].set(buyer + 1).at[:, it.COL["quantity"]].set(got)
    new_row = new_row.at[:, it.COL["listed_price"]].set(0).at[:, it.COL["listing_tick"]].set(0)
    new_row = new_row.at[:, it.COL["acquired"]].set(inv.received)
    whole = ok & ~merge
    slots = it.put(slots, it.first_free(slots), new_row, whole)
    # the bought instances merged into a stack are destroyed, in the order of the buys
    position = jnp.where(merge, (merge[None, :] & (rank[None, :] < rank[:, None])).sum(axis=1), n)
    freed = jnp.zeros((n,), jnp.int32).at[position].set(item_id, mode="drop")
    ids = it.release_first(inv.ids, freed, merge.sum(dtype=jnp.int32))
    inv = inv.replace(slots=slots, ids=ids, received=inv.received + whole)

    events = state.events.record_item("BUY_ITEM", ok, item_type, level, got)
    sales = jnp.zeros((n,), jnp.int32).at[jnp.where(ok, seller, n)].add(1, mode="drop")
    earned = jnp.zeros((n,), jnp.int32).at[jnp.where(ok, seller, n)].add(price, mode="drop")
    gold_log = events.gold.at[:n, GOLD_BUY].add(jnp.where(ok, price, 0))
    gold_log = gold_log.at[:n, GOLD_EARN].add(earned)
    events = events.replace(gold=gold_log).record("EARN_GOLD", sales)
    return state.replace(entities=ent, inventory=inv, events=events)


def sell(state: WorldState, item_id, price_index, can_act, cfg: Config) -> WorldState:
    """Sell of the item `item_id` [N] at price `price_index` + 1 (Sell.call; SPEC 8): the item in
    the inventory, the agent able to act and not in combat, the item neither equipped nor
    listed. The whole stack is listed at the tick of this step; LIST_ITEM (type, level,
    number)."""
    n = cfg.player_n
    inv, ent = state.inventory, state.entities
    found, k = it.find(inv.slots, item_id)
    row = it.pick(inv.slots, k)
    ok = (
        found
        & can_act
        & (ent.freeze[:n] == 0)
        & ~skills.in_combat(ent, state.tick, n, cfg)
        & (row[:, it.COL["equipped"]] == 0)
        & (row[:, it.COL["listed_price"]] == 0)
        & (price_index >= 0)
        & (price_index < cfg.price_n_obs)
    )
    slots = it.set_field(inv.slots, "listed_price", k, price_index + 1, ok)
    slots = it.set_field(slots, "listing_tick", k, state.tick, ok)
    events = state.events.record_item(
        "LIST_ITEM",
        ok,
        row[:, it.COL["type_id"]],
        row[:, it.COL["level"]],
        row[:, it.COL["quantity"]],
    )
    return state.replace(inventory=inv.replace(slots=slots), events=events)


def expire(state: WorldState, cfg: Config) -> WorldState:
    """Exchange.step after the tick advanced: listings older than EXCHANGE_LISTING_DURATION
    ticks (tick - listing_tick > duration) are removed, so a listing made in step k (tick k - 1)
    is in the observations after steps k .. k + 2 and gone after step k + 3 (SPEC 8)."""
    slots = state.inventory.slots
    listed = slots[..., it.COL["listed_price"]] > 0
    old = listed & (state.tick - it.column(slots, "listing_tick") > cfg.exchange_listing_duration)
    price = jnp.where(old, 0, slots[..., it.COL["listed_price"]])
    slots = slots.at[..., it.COL["listed_price"]].set(price)
    return state.replace(inventory=state.inventory.replace(slots=slots))


def slot_mask(state: WorldState, cfg: Config) -> jax.Array:
    """bool [N, C]: the slots whose item may be sold or given (SPEC 12.3): neither equipped nor
    listed, the agent alive and not in combat. observe.py moves them to the Inventory rows."""
    n, slots = cfg.player_n, state.inventory.slots
    ent = state.entities
    free = ent.alive[:n] & ~skills.in_combat(ent, state.tick, n, cfg)
    return (
        it.occupied(slots)
        & free[:, None]
        & (slots[..., it.COL["equipped"]] == 0)
        & (slots[..., it.COL["listed_price"]] == 0)
    )


def buy_mask(state: WorldState, market: jax.Array, shown: jax.Array, cfg: Config) -> jax.Array:
    """bool [N, M + 1] over the Market rows (SPEC 12.3): listings of others at a price within
    the agent's gold; with a full inventory only those matching one of its ammunition stacks
    (type and level); none in combat or dead. The no-op is always allowed.

    What depends on the listing only (its price, shown or not, owner, ammunition kind and level
    bit) and on the agent only (gold, alive and out of combat, stacks, space) is folded into
    one value per row and per agent, materialized (`ops.materialize`), so that each (agent,
    row) pair costs two compares and a word test: the [N, M] fusion went from ~50 to ~9 us
    per env (docs/PERFORMANCE.md)."""
    n, slots = cfg.player_n, state.inventory.slots
    ent = state.entities
    free = ent.alive[:n] & ~skills.in_combat(ent, state.tick, n, cfg)
    # per row: the price (above any gold where the row is not shown), the owner, the kind
    # (0..2: the ammunition types, 3: any other item) and the bit of its level in that kind
    m_type = market[:, it.COL["type_id"]].astype(jnp.int32)
    m_level = market[:, it.COL["level"]].astype(jnp.int32)
    ammo = it.is_ammunition(m_type) & (m_level < LEVEL_BITS)
    level_bit = jnp.left_shift(
        jnp.uint32(1), jnp.clip(m_level, 0, LEVEL_BITS - 1).astype(jnp.uint32)
    )
    # and the no-op as one more row that every agent may choose (price INT32_MIN: the mask is
    # built at its full width, not concatenated)
    price = jnp.where(shown, market[:, it.COL["listed_price"]].astype(jnp.int32), INT32_MAX)
    owner = market[:, it.COL["owner_id"]].astype(jnp.int32)
    kind = jnp.where(ammo, m_type - it.WHETSTONE, 3)
    bit = jnp.where(ammo, level_bit, jnp.uint32(1))
    rows = ops.materialize(
        jnp.append(price, INT32_MIN),
        jnp.append(owner, 0),
        jnp.append(kind, 3),
        jnp.append(bit, jnp.uint32(1)),
        token=state.tick,
    )
    # per agent: its gold (-1 when dead or in combat: no price is within it) and one word per
    # kind: its ammunition stacks of that type as level bits (an inventory never holds two
    # stacks of one type and level: receiving merges them), none for other items; all ones
    # while it has a free slot (any listing fits)
    item_type, level = it.column(slots, "type_id"), it.column(slots, "level")
    bits = jnp.where(
        it.is_ammunition(item_type) & (level < LEVEL_BITS),
        jnp.left_shift(jnp.uint32(1), jnp.clip(level, 0, LEVEL_BITS - 1).astype(jnp.uint32)),
        jnp.uint32(0),
    )
    words = [
        jnp.where(item_type == t, bits, jnp.uint32(0)).sum(axis=1, dtype=jnp.uint32)
        for t in (it.WHETSTONE, it.ARROW, it.RUNES)
    ] + [jnp.zeros(n, jnp.uint32)]
    has_space = it.space(slots) > 0
    agents = ops.materialize(
        jnp.where(free, ent.gold[:n].astype(jnp.int32), -1),
        jnp.arange(1, n + 1, dtype=jnp.int32),
        [jnp.where(has_space, jnp.uint32(0xFFFFFFFF), w) for w in words],
        token=state.tick,
    )
    price, owner, kind, bit = (x[None, :] for x in rows)
    gold, me, words = agents[0][:, None], agents[1][:, None], [w[:, None] for w in agents[2]]
    word = jnp.where(kind == 0, words[0], jnp.where(kind == 1, words[1], words[2]))
    word = jnp.where(kind == 3, words[3], word)
    return ((price <= gold) & (owner != me) & ((word & bit) != 0)) | (price == INT32_MIN)
