"""Give and GiveGold (priority 30) and their masks (SPEC 8, 12.3).

Give names an Inventory row (the item, resolved to its id at the start of the step) and a
target; GiveGold an amount (index a gives a + 1 gold) and a target. Targets are entity slots as
for Attack (player id i is slot i - 1, E = n_entities the no-op); only live players other than
the giver within the vision radius (Chebyshev 7) can receive.

Order. The reference runs the bucket in the order of the action dict, players by id, each
player's Give before its GiveGold. A gift can depend on earlier gifts of the tick: the receiver's
free slots and ammunition stacks change as it receives and gives, and a player's gold grows by
the gold given to it before its turn. Both are resolved as fixed points of "succeeds given the
gifts before it" (ops.fixed_point), exactly, including the quantity a stack carries
when gifts merged into it before it is given on.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax import items as it
from nmmo_jax import ops, skills
from nmmo_jax.config import Config
from nmmo_jax.state import WorldState


def n_targets(cfg: Config) -> int:
    """give_target / give_gold_target choices: every entity slot, then the no-op."""
    return cfg.n_entities + 1


def _receivers(state: WorldState, giver_can_act, target, cfg: Config):
    """(valid bool [N], receiver int32 [N]): the target rules shared by Give and GiveGold: the
    giver can act and is not in combat, gifts are allowed, the target is another live player
    within the vision radius (positions of this moment)."""
    n = cfg.player_n
    ent = state.entities
    giver = jnp.arange(n)
    r = jnp.clip(target, 0, n - 1)
    near = (
        jnp.maximum(jnp.abs(ent.row[:n] - ent.row[r]), jnp.abs(ent.col[:n] - ent.col[r]))
        <= cfg.player_vision_radius
    )
    valid = (
        (target >= 0)
        & (target < n)
        & giver_can_act
        & (ent.freeze[:n] == 0)
        & ~skills.in_combat(ent, state.tick, n, cfg)
        & (r != giver)
        & ent.alive[r]
        & (ent.health[r] > 0)
        & near
    )
    if not cfg.item_allow_gift:
        valid = jnp.zeros_like(valid)
    return valid, r


def give(state: WorldState, item_id, target, can_act, cfg: Config) -> WorldState:
    """Give of the item `item_id` [N] to entity slot `target` [N] (Give.call; SPEC 8).

    The item must be in the giver's inventory, neither equipped nor listed; the receiver needs a
    free slot or a stack of the same ammunition (type and level) at the giver's turn. Received
    ammunition merges into such a stack (the given instance is destroyed, its id freed);
    anything else takes a free slot. GIVE_ITEM for the giver."""
    n = cfg.player_n
    inv = state.inventory
    slots = inv.slots
    capacity = slots.shape[1]
    valid, r = _receivers(state, can_act, target, cfg)
    found, k = it.find(slots, item_id)
    row = it.pick(slots, k)
    item_type, level = row[:, it.COL["type_id"]], row[:, it.COL["level"]]
    quantity = row[:, it.COL["quantity"]]
    valid &= found & (row[:, it.COL["equipped"]] == 0) & (row[:, it.COL["listed_price"]] == 0)
    ammo = it.is_ammunition(item_type)
    sig = jnp.where(ammo, item_type * 256 + level, -1 - jnp.arange(n))  # unique if not ammo
    g = jnp.arange(n)
    # the receiver's own stack of the same ammunition at the start (its slot; C = none)
    init_slot = it.stack_slot(slots[r], item_type, level)
    init = init_slot < capacity
    space0 = it.space(slots)[r]
    # the per-giver values the [N, N] orderings below read, in buffers of their own (fused
    # into them, the item search and the receiver's lookups were redone for every pair)
    r, sig, valid, quantity, ammo, init, space0 = ops.materialize(
        r, sig, valid, quantity, ammo, init, space0, token=state.tick
    )
    before = g[None, :] < g[:, None]  # [g, h]: h acts before g
    to_same = before & (r[None, :] == r[:, None])  # h gives to g's receiver before g
    same_sig = to_same & (sig[None, :] == sig[:, None])
    r_first = r < g  # the receiver's own Give came before g's
    after_r = g[None, :] > r[:, None]  # [g, h]: h acts after g's receiver

    def resolve(ok):
        # the receiver gave its own stack of this ammunition away before g's turn
        removed = r_first & ok[r] & (sig[r] == sig)
        received = same_sig & ok[None, :] & (~removed[:, None] | after_r)
        stack = ammo & ((init & ~removed) | received.any(axis=1))
        merged = ok & stack
        taken = (to_same & ok[None, :] & ~merged[None, :]).sum(axis=1)
        space = space0 + (r_first & ok[r]) - taken
        return valid & ((space > 0) | stack), stack

    ok, stack = ops.fixed_point(resolve, valid, n)
    merged = ok & stack
    # where each merge goes: the receiver's initial stack, unless it was given away before this
    # turn; then the stack created by the first gift of the same ammunition after that
    removed = r_first & ok[r] & (sig[r] == sig)
    to_init = merged & init & ~removed
    creates = ok & ~merged
    creator_ok = same_sig & creates[None, :] & (~removed[:, None] | after_r)
    creator = ops.first_true(creator_ok)  # [g]: the gift that created the stack (N = none)
    to_created = merged & ~to_init
    # quantities: a gift carries what merged into the giver's stack before its turn
    into_mine = (before & merged[None, :] & (r[None, :] == g[:, None])) & (
        sig[None, :] == sig[:, None]
    )  # [g, h]: h merged into g's own stack before g gives it

    def carried(q):
        return quantity + jnp.where(into_mine & to_init[None, :], q[None, :], 0).sum(axis=1), None

    got, _ = ops.fixed_point(carried, quantity, n)

    # the receivers' new items: the j-th creating gift to a receiver takes its j-th free slot
    # after the receiver's own gift left
    rank = (to_same & creates[None, :]).sum(axis=1)
    gives_own = ok & found
    slots = it.clear(slots, k, gives_own)
    free = ~it.occupied(slots)
    free_rank = jnp.where(free, jnp.cumsum(free, axis=1) - 1, capacity)  # [N, C]
    dest = ops.first_true(free_rank[r] == rank[:, None])
    added_created = (
        jnp.zeros((n,), jnp.int32).at[jnp.where(to_created, creator, n)].add(got, mode="drop")
    )
    new_row = row.astype(jnp.int32).at[:, it.COL["owner_id"]].set(r + 1)
    new_row = new_row.at[:, it.COL["quantity"]].set(got + added_created)
    acquired = inv.received[r] + rank
    new_row = new_row.at[:, it.COL["acquired"]].set(acquired).at[:, it.COL["listing_tick"]].set(0)
    slots = slots.at[jnp.where(creates, r, n), dest].set(new_row.astype(slots.dtype), mode="drop")
    # merges into the receivers' initial stacks (the slot may have been emptied if the receiver
    # gave the stack away later in the order: then the gift carried the quantity along)
    keep = to_init & ~(ok[r] & (sig[r] == sig) & (r > g))
    slots = slots.at[jnp.where(keep, r, n), init_slot].add(
        jnp.zeros((n, slots.shape[-1]), slots.dtype)
        .at[:, it.COL["quantity"]]
        .set(got.astype(slots.dtype)),
        mode="drop",
    )
    # the merged instances are destroyed, in the order of the gifts (giver id)
    position = jnp.where(merged, ops.exclusive_cumsum(merged), n)
    freed = jnp.zeros((n,), jnp.int32).at[position].set(row[:, it.COL["id"]], mode="drop")
    ids = it.release_first(inv.ids, freed, merged.sum(dtype=jnp.int32))
    received = inv.received + jnp.zeros((n,), jnp.int32).at[jnp.where(creates, r, n)].add(
        1, mode="drop"
    )
    inv = inv.replace(slots=slots, ids=ids, received=received)
    return state.replace(inventory=inv, events=state.events.record("GIVE_ITEM", ok))


def give_gold(state: WorldState, amount_index, target, can_act, cfg: Config) -> WorldState:
    """GiveGold of `amount_index` + 1 gold to entity slot `target` [N] (GiveGold.call; SPEC 8):
    no more than the giver's gold at its turn (gold given to it earlier in the order counts).
    GIVE_GOLD for the giver."""
    n = cfg.player_n
    ent = state.entities
    valid, r = _receivers(state, can_act, target, cfg)
    amount = amount_index + 1
    valid &= (amount_index >= 0) & (amount_index < cfg.price_n_obs)
    g = jnp.arange(n)
    gold0 = ent.gold[:n]
    first = g < r  # the giver acts before its receiver (a scatter of those gifts, no [N, N])

    def resolve(ok):
        received = (
            jnp.zeros((n,), jnp.int32).at[jnp.where(ok & first, r, n)].add(amount, mode="drop")
        )
        return valid & (amount <= gold0 + received), None

    ok, _ = ops.fixed_point(resolve, valid, n)
    paid = jnp.where(ok, amount, 0)
    gold = (gold0 - paid).at[r].add(paid)
    ent = ent.replace(gold=ent.gold.at[:n].set(gold))
    return state.replace(entities=ent, events=state.events.record("GIVE_GOLD", ok))


def target_masks(state: WorldState, cfg: Config, nonempty: jax.Array):
    """(give_target bool [N, E + 1], give_gold_amount [N, P], give_gold_target [N, E + 1])
    (SPEC 12.3): targets are the other live players in view (the reference's Entity rows with
    npc_type 0); Give targets none while in combat or with an empty inventory (`nonempty` [N]);
    GiveGold targets none while in combat or with gold <= 2, and then every amount is allowed,
    else the amounts 1..gold. Every no-op is allowed."""
    n, size = cfg.player_n, cfg.n_entities
    ent = state.entities
    free = ent.alive[:n] & ~skills.in_combat(ent, state.tick, n, cfg)
    dist = jnp.maximum(
        jnp.abs(ent.row[:n, None] - ent.row[None, :n]),
        jnp.abs(ent.col[:n, None] - ent.col[None, :n]),
    )
    players = (
        ent.alive[None, :n]
        & (dist <= cfg.player_vision_radius)
        & (jnp.arange(n)[:, None] != jnp.arange(n)[None, :])
    )
    pad = jnp.zeros((n, size - n), bool)
    noop = jnp.ones((n, 1), bool)
    give_on = cfg.item_system_enabled
    gold_on = cfg.exchange_system_enabled
    give = players & (free & nonempty)[:, None] & give_on
    rich = free & (ent.gold[:n] > 2) & gold_on
    gold = players & rich[:, None]
    amount = jnp.where(
        rich[:, None], jnp.arange(cfg.price_n_obs)[None, :] < ent.gold[:n, None], True
    )
    return (
        jnp.concatenate([give, pad, noop], axis=-1),
        amount,
        jnp.concatenate([gold, pad, noop], axis=-1),
    )
