"""Invariants of one step, as a pure, jittable and vmappable check (issue 14: long-run soundness).

`check(cfg, before, actions, after, obs_before, obs_after, reward, terminated)` looks at one
transition of one environment, `after = env.step(key, before, actions)` with the actions chosen
from `obs_before` (the observation of `before`), and returns {invariant name: bool []}, True where
the invariant is VIOLATED. The flags are cheap enough to evaluate every step inside a long
`lax.scan` (bench/soundness.py) and to accumulate as counts. Transitions across an auto-reset are
not steps: check the step, then reset.

What each flag checks (the rules: SPEC sections in brackets):

* finite: no NaN or infinity in any float leaf of the state, the observation or the reward.
* vitals [3.2, 3.3]: players' health in [0, PLAYER_BASE_HEALTH], food and water in
  [0, RESOURCE_BASE]; a live entity has health > 0; live NPCs' health <= 100.
* skills [4.1]: live players' skill levels in [1, PROGRESSION_LEVEL_MAX] and equal to the level
  of their exp; levels and exp never decrease while a player lives.
* rewards [13.3, 13.4]: reward in {-1, 0, 1/HORIZON}, -1 exactly for the agents that died in this
  step, `terminated` = died; the dead stay dead; the tick advances by one.
* gold_nonnegative [8]: no entity holds negative gold.
* gold_conserved [3.4, 6.1, 6.5, 8]: the gold of all live entities (players and NPCs) after the
  step = before + the gold of the NPCs spawned at the end of this step (an NPC's gold is its
  level) - the gold left in the rows of the entities that died in this step. Exact: every other
  movement of gold is a transfer (Buy: buyer -> seller, GiveGold, LOOT_GOLD: victim -> killer,
  the victim's row keeping 0), and a sourceless death (starvation, dehydration, fog) leaves the
  victim's gold in its dead row, where it vanishes. Also the gold log balances: the EARN_GOLD
  amounts of the step equal the prices of its BUY_ITEM events.
* items_conserved [4.2, 5.3, 6.5, 7.3, 8]: with Q = the summed quantity of every item held by
  a player, H, L, C the summed `number` of this step's HARVEST_ITEM, LOOT_ITEM, CONSUME_ITEM
  events (1 per harvested, consumed or NPC-dropped item; the quantity for an item looted from a
  player) and F, D the counts of FIRE_AMMO and DESTROY_ITEM:
  - always Q_after <= Q_before + H + L - C - F - D (no item is ever created by anything but a
    harvest or an NPC's drop; a destroyed stack holds at least 1). One-sided, because LOOT_ITEM
    also logs the items a killer takes over from a player victim (a transfer, not a source), an
    ammunition stack merged into the killer's is not logged at all, and the quantity a Destroy
    or a death takes away is not in the log;
  - exact, Q_after == Q_before + H + L - C - F, in every step where no player died and nothing
    was destroyed (then every LOOT_ITEM is an NPC drop and nothing else leaves).
* item_provenance [3.4, 7.2, 7.3, 8]: by item id, between the two states:
  - an item that is gone was consumed, destroyed, fired to nothing, given, sold (its owner
    logged one of CONSUME_ITEM, DESTROY_ITEM, FIRE_AMMO, GIVE_ITEM, EARN_GOLD) or its owner died;
    per owner, no more items are gone than those events (or the owner died);
  - an item that changed hands was bought (the new owner logged BUY_ITEM and the old one
    EARN_GOLD), given (the old owner logged GIVE_ITEM and targeted the new one) or looted (the
    old owner died, or destroyed an item whose freed id an NPC drop reused in this tick (the
    allocator hands out ids freed earlier in the tick when its queue runs dry, DEVIATIONS 13),
    and the new owner logged LOOT_ITEM);
  - new ids (not held before) number at most the HARVEST_ITEM + LOOT_ITEM events;
  - an item keeps its type and level; only ammunition changes quantity, and a stack loses at
    most one unit per FIRE_AMMO of its old owner (a victim may fire, then be killed and looted
    in the same tick: found at seed 0 of bench/soundness.py, call 40).
* item_ids [7.2]: no two held items share an id; every held id is in [1, table_size); the id
  allocator's queue (unissued ids and freed ones) and the held ids are disjoint and together
  exactly 1 .. table_size - 1 (no id leaks or is issued twice).
* inventory_layout [7.2, 7.3, 8]: an empty slot is all zeros; an occupied one has quantity >= 1
  (> 1 only for ammunition), owner_id = its holder, who is alive; at most one equipped item per
  equipment slot, consumables never equipped; at most one stack per ammunition (type, level);
  a listed item has price 1..PRICE_N_OBS, is not equipped and not older than the listing
  duration.
* entities [3.2, 6.1, 11, 13.2]: live entities stand on passable tiles inside the walkable
  square; players' ids are their slot + 1; live NPCs have distinct negative ids and at most NPC_N
  are alive; the dead are zero rows of the Entity table and see a zero own row.
* mask_chosen [12.3]: every chosen action value is allowed by the mask the agent saw.
* honoured_* [12.3, 13.1]: an action the mask allowed did not fail for a reason the mask
  knows. All thirteen heads act in the same tick, so an action may fail because of another of
  the same agent's actions or of another agent's earlier in the tick order: those reasons are
  excused, and only an agent alive after the step is judged (a dead one may have died before
  its turn):
  - move: a direction moved the agent one tile that way;
  - comm: a token became the agent's message;
  - attack: a target that is still the same live entity after the step was hit (SCORE_HIT);
  - use: the item was consumed (CONSUME_ITEM), equipped (EQUIP_ITEM) or, if it was equipped,
    unequipped;
  - give_gold: GIVE_GOLD, when the receiver is alive after the step, unless the giver bought
    something this tick (Buy runs before GiveGold and spends the gold the mask saw);
  - destroy: DESTROY_ITEM, unless the agent's own Use or Give named the same item, or the item
    was listed and someone bought something this tick;
  - sell: LIST_ITEM, unless the agent's own Use, Give or Destroy named the same item or it was
    hit this tick (Attack runs before Sell; SPEC 5.5);
  - give: GIVE_ITEM, when the receiver is alive after the step, unless the agent's own Use named
    the same item or the receiver's free slots at the start were no more than what it harvested,
    bought and was given in this tick;
  - buy: BUY_ITEM, unless another buyer named the same listing and bought, or the buyer's free
    slots at the start were no more than its harvests of this tick (including a full inventory:
    the stack the mask counted on may have been sold earlier in the tick).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax import items as it
from nmmo_jax import material as mat
from nmmo_jax.compile import jit
from nmmo_jax.config import Config
from nmmo_jax.events import EVENT_CODES, EVENT_COLUMN, GOLD_KEYS, ITEM_EVENT_KEYS
from nmmo_jax.observe import Observation
from nmmo_jax.skills import level_at_exp
from nmmo_jax.state import SKILLS, WorldState
from nmmo_jax.step import HEAD_INDEX, action_heads
from nmmo_jax.systems import exchange
from nmmo_jax.systems import items as item_actions
from nmmo_jax.systems.movement import STAY

NAMES = (
    "finite",
    "vitals",
    "skills",
    "rewards",
    "gold_nonnegative",
    "gold_conserved",
    "items_conserved",
    "item_provenance",
    "item_ids",
    "inventory_layout",
    "entities",
    "mask_chosen",
    "honoured_move",
    "honoured_comm",
    "honoured_attack",
    "honoured_use",
    "honoured_give_gold",
    "honoured_destroy",
    "honoured_sell",
    "honoured_give",
    "honoured_buy",
)
DELTA_ROW = jnp.array([-1, 1, 0, 0, 0], jnp.int32)  # N S E W Stay (SPEC 12.1)
DELTA_COL = jnp.array([0, 0, 1, -1, 0], jnp.int32)


def _count(state: WorldState, name: str) -> jax.Array:
    """int32 [E]: how often `name` was logged in the step that produced `state`."""
    return state.events.tick[:, EVENT_COLUMN[EVENT_CODES[name]]].astype(jnp.int32)


def _item_number(before: WorldState, after: WorldState, code: str) -> jax.Array:
    """int32 [N]: the summed `number` of this step's item events `code` per player."""
    keys = [k for k, (c, _) in enumerate(ITEM_EVENT_KEYS) if c == code]
    delta = after.events.items[:, keys] - before.events.items[:, keys]
    return delta.sum(axis=(1, 2))


def _finite(tree) -> jax.Array:
    bad = jnp.bool_(False)
    for leaf in jax.tree.leaves(tree):
        if jnp.issubdtype(leaf.dtype, jnp.floating):
            bad |= ~jnp.isfinite(leaf).all()
    return bad


def _any(*flags) -> jax.Array:
    out = jnp.bool_(False)
    for flag in flags:
        out |= jnp.any(flag)
    return out


def _items(state: WorldState) -> dict:
    """Per slot [N * C] columns of an inventory, flattened, and the holder of each slot."""
    slots = state.inventory.slots
    n, c = slots.shape[0], slots.shape[1]
    flat = slots.reshape(n * c, -1).astype(jnp.int32)
    cols = {name: flat[:, it.COL[name]] for name in it.SLOT_COLUMNS}
    cols["occupied"] = cols["type_id"] > 0
    cols["holder"] = jnp.repeat(jnp.arange(n, dtype=jnp.int32), c)
    cols["flat"] = flat
    return cols


def _by_id(items: dict, capacity: int) -> dict:
    """Tables over item ids [capacity]: whether an id is held, and its holder, type, level,
    quantity (an id held twice is caught by item_ids; here the last write wins)."""
    at = jnp.where(items["occupied"], items["id"], capacity)
    out = {"held": jnp.zeros((capacity,), bool).at[at].set(True, mode="drop")}
    for name in ("holder", "type_id", "level", "quantity", "equipped"):
        out[name] = jnp.zeros((capacity,), jnp.int32).at[at].set(items[name], mode="drop")
    return out


def check(
    cfg: Config,
    before: WorldState,
    actions: jax.Array,
    after: WorldState,
    obs_before: Observation,
    obs_after: Observation,
    reward: jax.Array,
    terminated: jax.Array,
) -> dict[str, jax.Array]:
    """{name: bool []} over NAMES, True where the invariant is violated (module docstring) in the
    step `before` -> `after` of one environment taken with `actions` [N, H] chosen from
    `obs_before`, which returned `obs_after`, `reward` and `terminated`."""
    n, size = cfg.player_n, cfg.n_entities
    e0, e1 = before.entities, after.entities
    alive0, alive1 = e0.alive, e1.alive
    p0, p1 = alive0[:n], alive1[:n]
    stayed = p0 & p1  # players alive through the step
    died = alive0 & ~alive1  # entities that died in this step (an NPC slot may be refilled)
    npc_new = alive1 & (~alive0 | (e0.id != e1.id))  # spawned at the end of this step
    npc_new = npc_new.at[:n].set(False)
    flags = {}

    flags["finite"] = _finite(after) | _finite(obs_after) | _finite(reward)

    health, food, water = e1.health[:n], e1.food[:n], e1.water[:n]
    flags["vitals"] = _any(
        (health < 0) | (health > cfg.player_base_health),
        (food < 0) | (food > cfg.resource_base),
        (water < 0) | (water > cfg.resource_base),
        alive1 & (e1.health <= 0),
        alive1[n:] & (e1.health[n:] > 100),
    )

    skill_flags = []
    for skill in SKILLS:
        level1, exp1 = getattr(e1, f"{skill}_level")[:n], getattr(e1, f"{skill}_exp")[:n]
        level0, exp0 = getattr(e0, f"{skill}_level")[:n], getattr(e0, f"{skill}_exp")[:n]
        skill_flags += [
            p1 & ((level1 < 1) | (level1 > cfg.progression_level_max)),
            stayed & ((level1 < level0) | (exp1 < exp0)),
        ]
        if cfg.progression_system_enabled:
            skill_flags.append(p1 & (level1 != level_at_exp(exp1, cfg)))
    flags["skills"] = _any(*skill_flags)

    survive = jnp.where(after.tick <= cfg.horizon, 1.0 / cfg.horizon, 0.0).astype(jnp.float32)
    frozen = e1.freeze[:n] > 0
    expected = jnp.where(p1 & ~frozen, survive, 0.0)
    expected = jnp.where(p0 & ~p1, -1.0, expected).astype(jnp.float32)
    flags["rewards"] = _any(
        reward != expected,
        terminated != (p0 & ~p1),
        p1 & ~p0,
        after.tick != before.tick + 1,
    )

    flags["gold_nonnegative"] = jnp.any(e1.gold < 0)
    gold0 = jnp.where(alive0, e0.gold, 0).sum()
    gold1 = jnp.where(alive1, e1.gold, 0).sum()
    spawned = jnp.where(npc_new, e1.gold, 0).sum()
    # a refilled slot's previous NPC died with a killer: its gold went to the killer
    left_behind = jnp.where(died & ~npc_new, e1.gold, 0).sum()
    gold_log = after.events.gold - before.events.gold
    earn, paid = GOLD_KEYS.index("EARN_GOLD"), GOLD_KEYS.index("BUY_ITEM")
    flags["gold_conserved"] = (gold1 != gold0 + spawned - left_behind) | (
        gold_log[:, earn].sum() != gold_log[:, paid].sum()
    )

    i0, i1 = _items(before), _items(after)
    q0 = jnp.where(i0["occupied"], i0["quantity"], 0).sum()
    q1 = jnp.where(i1["occupied"], i1["quantity"], 0).sum()
    harvest = _item_number(before, after, "HARVEST_ITEM").sum()
    loot = _item_number(before, after, "LOOT_ITEM").sum()
    consume = _item_number(before, after, "CONSUME_ITEM").sum()
    fires = _count(after, "FIRE_AMMO")[:n]
    destroys = _count(after, "DESTROY_ITEM")[:n]
    flow = q0 + harvest + loot - consume - fires.sum()
    quiet = ~(p0 & ~p1).any() & (destroys.sum() == 0)
    flags["items_conserved"] = (q1 > flow - destroys.sum()) | (quiet & (q1 != flow))

    flags["item_provenance"] = _provenance(cfg, before, actions, after, i0, i1, p0, p1)
    flags["item_ids"] = _ids(cfg, after, i1)
    flags["inventory_layout"] = _layout(cfg, after, i1, p1)

    lo, hi = cfg.map_border, cfg.map_size - cfg.map_border
    row, col = e1.row, e1.col
    inside = (row >= lo) & (row <= hi) & (col >= lo) & (col <= hi)
    base = after.tiles.base[jnp.clip(row, 0, cfg.map_size - 1), jnp.clip(col, 0, cfg.map_size - 1)]
    passable = mat.is_passable(base.astype(jnp.int32)) > 0
    npc_ids = jnp.where(alive1[n:], e1.id[n:], 0)
    npc_dup = (npc_ids[:, None] == npc_ids[None, :]) & (npc_ids[:, None] < 0)
    npc_dup &= ~jnp.eye(size - n, dtype=bool)
    dead_rows = ~alive1[:, None] & (obs_after.entities[1:] != 0)
    flags["entities"] = _any(
        alive1 & ~(inside & passable),
        e1.id[:n] != jnp.arange(1, n + 1),
        alive1[n:] & (e1.id[n:] >= 0),
        npc_dup,
        alive1[n:].sum() > cfg.npc_n,
        dead_rows,
        ~p1[:, None] & (obs_after.agent != 0),
    )

    flags.update(_masks(cfg, before, actions, after, obs_before, p1))
    return {name: flags[name] for name in NAMES}


def _provenance(cfg, before, actions, after, i0, i1, p0, p1) -> jax.Array:
    n, capacity = cfg.player_n, exchange.id_capacity(cfg)
    t0, t1 = _by_id(i0, capacity), _by_id(i1, capacity)
    count0 = {k: _count(after, k)[:n] for k in _GONE_EVENTS + ("BUY_ITEM", "LOOT_ITEM")}
    harvested = _count(after, "HARVEST_ITEM")[:n]
    died = p0 & ~p1
    ids0, ids1 = jnp.clip(i0["id"], 0, capacity - 1), jnp.clip(i1["id"], 0, capacity - 1)
    # the same item: its id is held after the step with the same type and level
    same0 = (
        i0["occupied"]
        & t1["held"][ids0]
        & (t1["type_id"][ids0] == i0["type_id"])
        & (t1["level"][ids0] == i0["level"])
    )
    same1 = (
        i1["occupied"]
        & t0["held"][ids1]
        & (t0["type_id"][ids1] == i1["type_id"])
        & (t0["level"][ids1] == i1["level"])
    )
    gone = i0["occupied"] & ~same0
    holder0 = i0["holder"]
    gone_per = jnp.zeros((n,), jnp.int32).at[holder0].add(gone.astype(jnp.int32))
    explained = sum(count0[k] for k in _GONE_EVENTS)
    bad_gone = ~died & (gone_per > explained)
    # changed hands: old holder a (before), new holder b (after)
    a = t0["holder"][ids1]
    b = i1["holder"]
    moved = same1 & (a != b)
    give_to = actions[:, HEAD_INDEX["give_target"]]
    bought = (count0["BUY_ITEM"][b] > 0) & (count0["EARN_GOLD"][a] > 0)
    given = (count0["GIVE_ITEM"][a] > 0) & (give_to[a] == b)
    # looted: from a victim, possibly one hop after the old owner passed it on in the same tick
    # (given or sold to a player killed later in the tick), or under an id freed by a Destroy
    passed_on = (count0["GIVE_ITEM"][a] > 0) | (count0["EARN_GOLD"][a] > 0)
    looted = (died[a] | (count0["DESTROY_ITEM"][a] > 0) | passed_on) & (count0["LOOT_ITEM"][b] > 0)
    bad_moved = moved & ~(bought | given | looted)
    new = i1["occupied"] & ~same1
    bad_new = new.sum() > harvested.sum() + count0["LOOT_ITEM"].sum()
    # quantities of kept items
    q_before = t0["quantity"][ids1]
    ammo = it.is_ammunition(i1["type_id"])
    kept = same1 & (a == b)
    bad_quantity = (same1 & ~ammo & (i1["quantity"] != q_before)) | (
        kept & (i1["quantity"] < q_before - count0["FIRE_AMMO"][b])
    )
    # a stack changing hands arrives whole (plus merges), less what its old owner fired before
    # it passed on (a victim fires its ammunition, then is killed and looted in the same tick)
    bad_quantity |= moved & (i1["quantity"] < q_before - count0["FIRE_AMMO"][a])
    return _any(bad_gone, bad_moved, bad_new, bad_quantity)


_GONE_EVENTS = ("CONSUME_ITEM", "DESTROY_ITEM", "FIRE_AMMO", "GIVE_ITEM", "EARN_GOLD")


def _ids(cfg, after, i1) -> jax.Array:
    capacity = exchange.id_capacity(cfg)
    ids = after.inventory.ids
    held = jnp.where(i1["occupied"], i1["id"], capacity)
    counts = jnp.zeros((capacity + 1,), jnp.int32).at[held].add(1, mode="drop")
    ring = ids.free.shape[0]
    j = jnp.arange(ring)
    waiting = j < ids.tail - ids.head
    queued_ids = jnp.where(waiting, ids.free[(ids.head + j) % ring], capacity)
    counts = counts.at[queued_ids].add(1, mode="drop")
    every = jnp.arange(capacity + 1)
    fresh = (every >= ids.next_fresh) & (every < ids.table_size)
    counts = counts + fresh
    in_table = (every >= 1) & (every < ids.table_size)
    return _any(
        i1["occupied"] & ((i1["id"] < 1) | (i1["id"] >= ids.table_size)),
        counts[:capacity] != in_table[:capacity],
        ids.tail - ids.head > ring,
        ids.table_size > capacity,
    )


def _layout(cfg, after, i1, p1) -> jax.Array:
    n, c = cfg.player_n, cfg.item_inventory_capacity
    occ = i1["occupied"]
    flat = i1["flat"]
    quantity, type_id = i1["quantity"], i1["type_id"]
    ammo = it.is_ammunition(type_id)
    equipped = occ & (i1["equipped"] > 0)
    slot = it.equipment_slot(type_id)
    per_slot = jnp.zeros((n, it.N_EQUIPMENT_SLOTS + 1), jnp.int32)
    per_slot = per_slot.at[i1["holder"], jnp.where(equipped, slot, it.N_EQUIPMENT_SLOTS)].add(1)
    sig = jnp.where(occ & ammo, type_id * 256 + i1["level"], -1).reshape(n, c)
    dup_stack = (sig[:, :, None] == sig[:, None, :]) & (sig[:, :, None] >= 0)
    dup_stack &= ~jnp.eye(c, dtype=bool)[None]
    price = i1["listed_price"]
    listed = occ & (price != 0)
    return _any(
        ~occ & (flat != 0).any(axis=-1),
        occ & ((quantity < 1) | (~ammo & (quantity != 1))),
        occ & (i1["owner_id"] != i1["holder"] + 1),
        occ & ~p1[i1["holder"]],
        per_slot[:, : it.N_EQUIPMENT_SLOTS] > 1,
        equipped & (slot < 0),
        dup_stack,
        listed & ((price < 1) | (price > cfg.price_n_obs)),
        listed & (i1["equipped"] > 0),
        listed & (after.tick - i1["listing_tick"] > cfg.exchange_listing_duration),
    )


def _masks(cfg, before, actions, after, obs, p1) -> dict[str, jax.Array]:
    """mask_chosen and the honoured_* flags (module docstring)."""
    n, size = cfg.player_n, cfg.n_entities
    heads = action_heads(cfg)
    masks = obs.action_mask
    chosen = []
    for h, (name, choices) in enumerate(heads):
        value = actions[:, h]
        mask = getattr(masks, name)
        allowed = jnp.take_along_axis(mask, jnp.clip(value, 0, choices - 1)[:, None], axis=1)
        chosen.append((value < 0) | (value >= choices) | ~allowed[:, 0])
    out = {"mask_chosen": _any(*chosen)}

    def head(name):
        return actions[:, HEAD_INDEX[name]]

    def count(name):
        return _count(after, name)[:n] > 0

    e0, e1 = before.entities, after.entities
    judged = p1  # alive after the step: it lived through its turn

    move = head("move")
    moving = judged & (move >= 0) & (move < STAY)
    m = jnp.clip(move, 0, STAY)
    out["honoured_move"] = jnp.any(
        moving
        & ((e1.row[:n] != e0.row[:n] + DELTA_ROW[m]) | (e1.col[:n] != e0.col[:n] + DELTA_COL[m]))
    )

    token = head("comm")
    talks = judged & (token >= 0) & (token < cfg.communication_num_tokens)
    out["honoured_comm"] = jnp.any(talks & (e1.message[:n] != token + 1))

    target = head("attack_target")
    t = jnp.clip(target, 0, size - 1)
    attacks = judged & (target >= 0) & (target < size)
    same_target = e1.alive[t] & (e1.id[t] == e0.id[t])
    out["honoured_attack"] = jnp.any(attacks & same_target & ~count("SCORE_HIT"))

    use_id, destroy_id, give_id, sell_id = item_actions.targets(
        before, *(head(h) for h in ("use", "destroy", "give_item", "sell_item"))
    )
    slots0 = before.inventory.slots
    _, k0 = it.find(slots0, use_id)
    was_on = it.pick(it.column(slots0, "equipped"), k0) > 0
    found1, k1 = it.find(after.inventory.slots, use_id)
    now_on = it.pick(it.column(after.inventory.slots, "equipped"), k1) > 0
    used = count("CONSUME_ITEM") | count("EQUIP_ITEM") | (was_on & found1 & ~now_on)
    out["honoured_use"] = jnp.any(judged & (use_id > 0) & ~used)

    gold_target = head("give_gold_target")
    g = jnp.clip(gold_target, 0, n - 1)
    gives_gold = judged & (gold_target >= 0) & (gold_target < n) & p1[g]
    out["honoured_give_gold"] = jnp.any(gives_gold & ~count("BUY_ITEM") & ~count("GIVE_GOLD"))

    listed0 = it.pick(it.column(slots0, "listed_price"), it.find(slots0, destroy_id)[1]) > 0
    someone_bought = _count(after, "BUY_ITEM").sum() > 0
    excused = (destroy_id == use_id) | (destroy_id == give_id) | (listed0 & someone_bought)
    out["honoured_destroy"] = jnp.any(judged & (destroy_id > 0) & ~excused & ~count("DESTROY_ITEM"))

    hit = e1.latest_combat_tick[:n] == after.tick
    excused = (sell_id == use_id) | (sell_id == give_id) | (sell_id == destroy_id) | hit
    out["honoured_sell"] = jnp.any(judged & (sell_id > 0) & ~excused & ~count("LIST_ITEM"))

    give_target = head("give_target")
    r = jnp.clip(give_target, 0, n - 1)
    gives = judged & (give_id > 0) & (give_target >= 0) & (give_target < n) & p1[r]
    gifts_in = (
        jnp.zeros((n,), jnp.int32).at[jnp.where(count("GIVE_ITEM"), r, n)].add(1, mode="drop")
    )
    space0 = it.space(slots0)
    incoming = _count(after, "HARVEST_ITEM")[:n] + _count(after, "BUY_ITEM")[:n] + gifts_in
    excused = (give_id == use_id) | (space0[r] <= incoming[r])
    out["honoured_give"] = jnp.any(gives & ~excused & ~count("GIVE_ITEM"))

    buy = head("buy")
    if cfg.exchange_system_enabled:
        listing = exchange.buy_targets(before, buy, cfg)
    else:
        listing = jnp.full_like(buy, -1)
    buys = judged & (listing >= 0)
    got = count("BUY_ITEM")
    taken = (
        (listing[:, None] == listing[None, :])
        & got[None, :]
        & ~jnp.eye(n, dtype=bool)
        & (listing[:, None] >= 0)
    ).any(axis=1)
    excused = taken | (space0 <= _count(after, "HARVEST_ITEM")[:n])
    out["honoured_buy"] = jnp.any(buys & ~excused & ~got)
    return out


def checked_rollout(env, num_envs: int, chunk: int, policy=None):
    """(init, run): a batch of `num_envs` environments stepped `chunk` ticks per call with every
    invariant checked after every step, for long soundness runs (bench/soundness.py) and tests.

    `policy(key, obs) -> int32 [N, H]` acts for one environment (default: env.sample_actions,
    every head uniform among the choices its mask allows). `init(key) -> carry`;
    `run(carry, key) -> (carry, totals)`, jitted, with totals: "agent_steps" (agents alive at
    the start of each step), "env_steps", "episodes" (finished), and per invariant of NAMES the
    number of env-steps that violated it. An environment whose episode is over is checked, then
    reset (the reset is not a step, so no invariant spans it)."""
    cfg = env.cfg
    act = env.sample_actions if policy is None else policy

    def init(key):
        return jax.vmap(env.reset)(jax.random.split(key, num_envs))

    def body(inner, key):
        (obs, states), totals = inner
        act_key, step_key, reset_key = jax.random.split(key, 3)
        actions = jax.vmap(act)(jax.random.split(act_key, num_envs), obs)
        new_obs, new_states, reward, terminated, _, info = jax.vmap(env.step)(
            jax.random.split(step_key, num_envs), states, actions
        )
        flags = jax.vmap(lambda *a: check(cfg, *a))(
            states, actions, new_states, obs, new_obs, reward, terminated
        )
        over = info["episode_over"]

        def reset(carry):
            fresh_obs, fresh = init(reset_key)
            pick = jax.vmap(lambda o, a, b: jnp.where(o, a, b), in_axes=(0, 0, 0))
            return jax.tree.map(lambda a, b: pick(over, a, b), (fresh_obs, fresh), carry)

        carry = jax.lax.cond(over.any(), reset, lambda c: c, (new_obs, new_states))
        totals = dict(totals)
        totals["agent_steps"] += info["active"].sum(dtype=jnp.int32)
        totals["env_steps"] += num_envs
        totals["episodes"] += over.sum(dtype=jnp.int32)
        for name in NAMES:
            totals[name] += flags[name].sum(dtype=jnp.int32)
        return (carry, totals), None

    def run(carry, key):
        zeros = {k: jnp.int32(0) for k in ("agent_steps", "env_steps", "episodes") + NAMES}
        (carry, totals), _ = jax.lax.scan(body, (carry, zeros), jax.random.split(key, chunk))
        return carry, totals

    return jit(init, once=True), jit(run, donate_argnums=0)
