"""Item invariants over random seeds and random valid actions (hypothesis; SPEC 3.4, 4.2, 7.2,
7.3, 8, 14.6).

Each example is one jitted rollout (compiled once for the module) of Config.small (combat and
NPCs off) with every
profession tile regrowing at once (p = 1), more resource tiles and a high weapon drop rate, so
harvests, stacks, Use and Destroy happen often; every agent plays Env.sample_actions (uniform
among the choices its masks allow). After every step, per env:

* items appear only by harvest and leave only by Use (consume), Destroy or death: per player, the
  ids that disappear are CONSUME_ITEM + DESTROY_ITEM of the step (all of them when it died); the
  new ids are fresh drops (quantity 1, a harvestable type); new slots plus stack growth equal the
  HARVEST_ITEM count (a drop is a new slot or +1 on a stack), less at most one drop that merged
  into a stack destroyed later in the same step;
* an item keeps its type, level and stats; only ammunition stacks grow;
* at most 12 occupied slots with distinct ids; empty slots are
  zero; quantities >= 1; owner_id is the holder; at most one equipped item per equipment slot and
  consumables are never equipped; EQUIP_ITEM counts the items that came on;
* no id is held twice; live ids and the allocator's queue (unissued ids and freed ones) are
  disjoint and together are exactly the ids 1 .. table_size - 1 (no id leaks).
"""

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nmmo_jax as nj
from nmmo_jax import items as it
from nmmo_jax import material as m
from nmmo_jax.observe import observe
from nmmo_jax.step import HEAD_INDEX

RULES = dict(
    {field: 1.0 for field in m.PROFESSION_RESPAWN_FIELDS},
    progression_spawn_clusters=16,
    progression_spawn_uniforms=256,
    weapon_drop_prob=0.3,
    # items move by loot too; these invariants are about the item rules alone (the loot
    # invariants are in tests/systems/test_combat.py)
    combat_system_enabled=False,
    npc_n=0,
    # likewise trade and gifts (their conservation: tests/systems/test_exchange.py)
    exchange_system_enabled=False,
)
CFG = nj.Config.small(**RULES)
ENV = nj.Env(CFG)
N, C = CFG.player_n, CFG.item_inventory_capacity
RING = it.id_queue_capacity(CFG)
STEPS = 96

# SPEC 7.1 / 7.3, written out: the equipment slot of each type (None: consumables).
SLOT = {2: "hat", 3: "top", 4: "bottom", 13: "ammunition", 14: "ammunition", 15: "ammunition"}
SLOT.update({t: "held" for t in range(5, 13)})  # weapons and tools share `held`
SLOT.update({16: None, 17: None})
AMMUNITION = (13, 14, 15)
DROPS = (16, 17, 13, 14, 15, 5, 6, 7)  # what harvests make (SPEC 4.2)
STAT_NAMES = it.ITEM_COLUMNS[6:14]

PROPERTY_SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@jax.jit
def rollout(key, vitals, ring_offset):
    """STEPS steps from a reset with the players' (health, food, water) set to `vitals` and the
    allocator's (empty) ring of freed ids starting at `ring_offset`, so that some examples wrap
    around its end; returns the records after the reset and after every step, and the events."""
    _, state = ENV.reset(jax.random.fold_in(key, 0))
    inv = state.inventory
    ids = inv.ids.replace(head=ring_offset, tail=ring_offset)
    state = state.replace(inventory=inv.replace(ids=ids))
    ent = state.entities
    ent = ent.replace(
        health=ent.health.at[:N].set(vitals[:, 0]),
        food=ent.food.at[:N].set(vitals[:, 1]),
        water=ent.water.at[:N].set(vitals[:, 2]),
    )
    state = state.replace(entities=ent)
    obs = observe(state, CFG)

    def record(state):
        ids = state.inventory.ids
        return dict(
            slots=state.inventory.slots,
            alive=state.entities.alive[:N],
            free=ids.free,
            head=ids.head,
            tail=ids.tail,
            next_fresh=ids.next_fresh,
            table_size=ids.table_size,
        )

    def body(carry, t):
        obs, state = carry
        actions = ENV.sample_actions(jax.random.fold_in(key, 2 * t + 1), obs)
        actions = actions.at[:, HEAD_INDEX["give_item"]].set(C)  # no gifts (see RULES)
        obs, state, *_ = ENV.step(jax.random.fold_in(key, 2 * t + 2), state, actions)
        events = {
            name: state.events.count(name, episode=False)[:N]
            for name in ("HARVEST_ITEM", "CONSUME_ITEM", "DESTROY_ITEM", "EQUIP_ITEM")
        }
        return (obs, state), (record(state), events)

    first = record(state)
    _, (records, events) = jax.lax.scan(body, (obs, state), jnp.arange(STEPS))
    records = jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), first, records)
    return records, events


def rows(slots):
    """{id: row dict} of one inventory's occupied slots."""
    out = {}
    for slot in slots:
        if slot[it.COL["type_id"]] > 0:
            out[int(slot[it.COL["id"]])] = {
                name: int(slot[it.COL[name]]) for name in it.ITEM_COLUMNS
            }
    return out


def check_inventories(r, t):
    """Layout invariants of every inventory and the id allocator at record t."""
    slots = r["slots"][t]
    live = []
    for i in range(N):
        s = slots[i].astype(np.int64)
        occupied = s[:, it.COL["type_id"]] > 0
        k = int(occupied.sum())
        assert k <= C
        # Slots are storage places in no order (the Inventory rows are the items in id order,
        # built by observe): an empty slot is all zeros, the ids of the occupied ones distinct.
        assert not s[~occupied].any(), (t, i, "empty slots must be zero")
        s = s[occupied][np.argsort(s[occupied][:, it.COL["id"]])]
        ids = s[:, it.COL["id"]]
        assert (np.diff(ids) > 0).all(), (t, i, "duplicate ids", ids)
        assert (ids >= 1).all()
        assert (s[:k, it.COL["quantity"]] >= 1).all(), (t, i)
        assert (s[:, it.COL["quantity"]] >= 0).all()
        assert (s[:k, it.COL["owner_id"]] == i + 1).all(), (t, i)
        equipped = [SLOT[int(x)] for x in s[:k][s[:k, it.COL["equipped"]] > 0, it.COL["type_id"]]]
        assert None not in equipped, (t, i, "a consumable is equipped")
        assert len(equipped) == len(set(equipped)), (t, i, equipped)
        live.extend(int(x) for x in ids)
    assert len(live) == len(set(live)), (t, "duplicate item id", sorted(live))

    q = r["free"].shape[-1]
    head, tail = int(r["head"][t]), int(r["tail"][t])
    waiting = [int(r["free"][t][j % q]) for j in range(head, tail)]
    fresh = list(range(int(r["next_fresh"][t]), int(r["table_size"][t])))
    queue = waiting + fresh
    assert len(queue) == len(set(queue)), (t, "an id is queued twice")
    assert not set(live) & set(queue), (t, "a live id is in the free queue")
    assert sorted(live + queue) == list(range(1, int(r["table_size"][t]))), (t, "id leak")


def check_transition(r, events, t):
    """Where items come from and go to in step t (records t -> t + 1)."""
    for i in range(N):
        before = rows(r["slots"][t][i])
        after = rows(r["slots"][t + 1][i])
        harvest, consume, destroy, equip = (
            int(events[name][t][i])
            for name in ("HARVEST_ITEM", "CONSUME_ITEM", "DESTROY_ITEM", "EQUIP_ITEM")
        )
        was_alive, alive = bool(r["alive"][t][i]), bool(r["alive"][t + 1][i])
        if not was_alive:
            assert after == before, (t, i, "the dead hold nothing new")
            assert harvest == consume == destroy == equip == 0
            continue
        if not alive:  # culled this step: every item is destroyed (SPEC 3.4)
            assert after == {}, (t, i)
            continue
        new = set(after) - set(before)
        gone = set(before) - set(after)
        kept = set(after) & set(before)
        assert len(gone) == consume + destroy, (t, i, gone, consume, destroy)
        for item_id in new:
            item = after[item_id]
            assert item["type_id"] in DROPS, (t, i, item)
            assert item["quantity"] == 1 and item["equipped"] == 0 and item["listed_price"] == 0
        for item_id in kept:
            a, b = after[item_id], before[item_id]
            for name in ("type_id", "level") + STAT_NAMES:
                assert a[name] == b[name], (t, i, item_id, name)
            grew = a["quantity"] - b["quantity"]
            assert grew >= 0 and (grew == 0 or a["type_id"] in AMMUNITION), (t, i, a, b)
        # Each drop is a new slot or +1 on a stack; a drop merged into a stack that was used
        # or destroyed later in the step left with it. A player harvests at most one ammunition
        # drop per step (the primary entry of its tile), so at most one harvest is hidden so.
        increments = len(new) + sum(after[x]["quantity"] - before[x]["quantity"] for x in kept)
        hidden = harvest - increments
        gone_stack = any(before[x]["type_id"] in AMMUNITION for x in gone)
        assert hidden in ((0, 1) if gone_stack else (0,)), (t, i, "quantity", harvest, hidden)
        came_on = sum(1 for x in kept if after[x]["equipped"] and not before[x]["equipped"])
        assert came_on == equip, (t, i, came_on, equip)


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    vitals=st.lists(
        st.tuples(st.integers(1, 100), st.integers(0, 100), st.integers(0, 100)),
        min_size=N,
        max_size=N,
    ),
    ring_offset=st.sampled_from([0, RING - 7]),
)
def test_items_are_conserved_and_inventories_stay_well_formed(seed, vitals, ring_offset):
    vitals = jnp.asarray(np.array(vitals, np.int32))
    records, events = jax.device_get(rollout(jax.random.key(seed), vitals, jnp.int32(ring_offset)))
    for t in range(STEPS + 1):
        check_inventories(records, t)
    for t in range(STEPS):
        check_transition(records, events, t)


def test_the_rollouts_exercise_the_item_rules():
    """The settings above make every rule happen: harvests, merges, Use, Destroy, equips."""
    full = jnp.full((N, 3), 100, jnp.int32)
    records, events = jax.device_get(rollout(jax.random.key(7), full, jnp.int32(RING - 7)))
    assert events["HARVEST_ITEM"].sum() > 50
    assert events["CONSUME_ITEM"].sum() > 0
    assert events["DESTROY_ITEM"].sum() > 0
    assert events["EQUIP_ITEM"].sum() > 0
    quantity = records["slots"][..., it.COL["quantity"]]
    assert quantity.max() > 1  # some ammunition stacked
    assert records["tail"][-1] > RING  # freed ids wrapped around the ring's end
    for t in range(STEPS + 1):
        check_inventories(records, t)
    for t in range(STEPS):
        check_transition(records, events, t)


def test_in_row_order_moves_each_slot_to_its_row():
    """Worked by hand: slots 0, 1, 2 shown in rows 2, none (C = 3), 0: row 0 holds slot 2's
    values, row 1 nothing (zeros), row 2 slot 0's; a player without items has only zero rows."""
    values = jnp.asarray([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 9], [4, 4]]], jnp.int16)
    rows = jnp.asarray([[2, 3, 0], [3, 3, 3]])
    got = np.asarray(it.in_row_order(values, rows))
    np.testing.assert_array_equal(got[0], [[5, 6], [0, 0], [1, 2]])
    np.testing.assert_array_equal(got[1], np.zeros((3, 2)))
    assert got.dtype == np.int16


@given(st.integers(0, 2**31 - 1))
@settings(max_examples=30, deadline=None)
def test_in_row_order_equals_placing_slots_one_by_one(seed):
    rng = np.random.default_rng(seed)
    n, c = 4, 12
    values = rng.integers(-99, 99, (n, c, 5)).astype(np.int16)
    rows = np.full((n, c), c)
    for i in range(n):
        k = int(rng.integers(0, c + 1))
        rows[i, rng.choice(c, k, replace=False)] = rng.permutation(c)[:k]
    want = np.zeros_like(values)
    for i in range(n):
        for s in range(c):
            if rows[i, s] < c:
                want[i, rows[i, s]] = values[i, s]
    got = np.asarray(it.in_row_order(jnp.asarray(values), jnp.asarray(rows)))
    np.testing.assert_array_equal(got, want)
