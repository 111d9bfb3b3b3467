"""Items: Use, Destroy, equipment, their masks, item stats and ids (SPEC 3.4, 7.1-7.3, 8, 12.3,
14.6, 18.9, 18.13).

Every expected value is worked out by hand from the SPEC; the arithmetic is in the comments.
Scenario drawings use the legend of nmmo_jax.scenario; every drawing fits the same 8 x 8 square
with 9 player slots, so the scenarios share one compiled step. `scenario.give` hands out item ids
in order (1, 2, 3, ...) from the FIFO allocator (SPEC 7.2); an inventory's rows are its items in
id order, and the Use / Destroy heads pick a row of the observation the agent saw, or the no-op
index 12 (the inventory capacity).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from item_world import give, inventory

import nmmo_jax as nj
from nmmo_jax import items as it
from nmmo_jax import material as m
from nmmo_jax import scenario
from nmmo_jax.observe import reference_observation
from nmmo_jax.state import ENTITY_COLUMNS, SKILLS
from nmmo_jax.step import HEAD_INDEX

NOOP = 12  # the InventoryItem no-op index = ITEM_INVENTORY_CAPACITY
CAPACITY = 12
GEOMETRY = dict(map_center=8, map_size=24, player_n=9)
PROFESSION_RESPAWN = m.PROFESSION_RESPAWN_FIELDS
RULES = dict({name: 0.0 for name in PROFESSION_RESPAWN}, weapon_drop_prob=0.0)
ITEM_LEVEL = ENTITY_COLUMNS.index("item_level")

# SPEC 7.1, written out: (equipment slot, the level that gates Use) of every type.
PLAYER = "player level"
SPEC_TABLE = {
    it.HAT: ("hat", PLAYER),
    it.TOP: ("top", PLAYER),
    it.BOTTOM: ("bottom", PLAYER),
    it.SPEAR: ("held", "melee"),
    it.BOW: ("held", "range"),
    it.WAND: ("held", "mage"),
    it.ROD: ("held", "fishing"),
    it.GLOVES: ("held", "herbalism"),
    it.PICKAXE: ("held", "prospecting"),
    it.AXE: ("held", "carving"),
    it.CHISEL: ("held", "alchemy"),
    it.WHETSTONE: ("ammunition", "melee"),
    it.ARROW: ("ammunition", "range"),
    it.RUNES: ("ammunition", "mage"),
    it.RATION: (None, PLAYER),
    it.POTION: (None, PLAYER),
}

# Nine players on grass, away from water and foilage.
FIELD = """
1 . 2 . 3 . 4 .
. . . . . . . .
5 . 6 . 7 . 8 .
. . . . . . . .
9 . . . . . . .
"""


def build(drawing=FIELD, players=None, tick=0, **rules):
    return scenario.build(drawing, players, tick, **GEOMETRY, **dict(RULES, **rules))


@functools.cache
def _compiled_step(cfg):
    return jax.jit(nj.Env(cfg).step)


def run(cfg, state, use=None, destroy=None, steps=1):
    """Jitted env steps; `use` / `destroy` map a player id to its chosen row (no-op elsewhere).
    Returns (obs, state) after the last step."""
    env = nj.Env(cfg)
    actions = np.array(env.noop_actions)
    for head, chosen in (("use", use), ("destroy", destroy)):
        for pid, row in (chosen or {}).items():
            actions[pid - 1, HEAD_INDEX[head]] = row
    obs = None
    for _ in range(steps):
        key = jax.random.key(int(state.tick))
        obs, state, *_ = _compiled_step(cfg)(key, state, jnp.asarray(actions))
    return obs, state


def ids(state, pid):
    return [r["id"] for r in inventory(state, pid)]


def equipped_ids(state, pid):
    return [r["id"] for r in inventory(state, pid) if r["equipped"]]


def column(state, name):
    return np.asarray(getattr(state.players, name))


def count(state, name):
    return np.asarray(state.events.count(name))


def next_ids(state, k):
    """The next k ids the allocator hands out (SPEC 7.2)."""
    _, new = it.allocate(state.inventory.ids, jnp.ones((k,), bool))
    return [int(i) for i in np.asarray(new)]


def skill_levels(**levels):
    """A players-dict entry with the given skill levels (others stay 1)."""
    return {f"{skill}_level": level for skill, level in levels.items()}


# --- consumables (SPEC 7.1, 7.3)


def test_rations_restore_food_and_water_capped_at_100():
    cfg, state = build(
        players={
            1: dict(food=30, water=20),
            2: dict(food=60, water=100),
            3: dict(food=20, water=10, **skill_levels(herbalism=3)),
        }
    )
    state = give(state, cfg, 1, (it.RATION, 1))
    state = give(state, cfg, 2, (it.RATION, 1))
    state = give(state, cfg, 3, (it.RATION, 3))  # needs player level 3 (herbalism 3)
    _, state = run(cfg, state, use={1: 0, 2: 0, 3: 0})
    # The update runs first (food and water -5), then Use: Ration L restores 50 + 5 L of both.
    # 1: 25 + 55 = 80, 15 + 55 = 70. 2: 55 + 55 = 110 -> 100, 95 + 55 -> 100.
    # 3 (level 3: 65): 15 + 65 = 80, 5 + 65 = 70.
    np.testing.assert_array_equal(column(state, "food")[:3], [80, 100, 80])
    np.testing.assert_array_equal(column(state, "water")[:3], [70, 100, 70])
    np.testing.assert_array_equal(column(state, "health")[:3], [100, 100, 100])
    for pid in (1, 2, 3):
        assert inventory(state, pid) == []
    np.testing.assert_array_equal(count(state, "CONSUME_ITEM")[:4], [1, 1, 1, 0])
    consumed = state.events.item_number
    np.testing.assert_array_equal(np.asarray(consumed("CONSUME_ITEM", it.RATION, 1))[:3], [1, 1, 1])
    np.testing.assert_array_equal(np.asarray(consumed("CONSUME_ITEM", it.RATION, 2))[:3], [0, 0, 1])
    np.testing.assert_array_equal(np.asarray(consumed("CONSUME_ITEM", it.POTION, 1))[:3], [0, 0, 0])


def test_potions_restore_health_capped_at_100():
    cfg, state = build(
        players={
            1: dict(health=30),
            2: dict(health=60),
            3: dict(health=20, food=40, water=40, **skill_levels(fishing=2)),
        }
    )
    state = give(state, cfg, 1, (it.POTION, 1))
    state = give(state, cfg, 2, (it.POTION, 1))
    state = give(state, cfg, 3, (it.POTION, 2))
    _, state = run(cfg, state, use={1: 0, 2: 0, 3: 0})
    # 1: fed (100 > 50): +10 regeneration -> 40, then + 55 = 95. 2: 70 + 55 = 125 -> 100.
    # 3: food 40 is not > 50, no regeneration: 20 + (50 + 5 * 2) = 80.
    np.testing.assert_array_equal(column(state, "health")[:3], [95, 100, 80])
    # A Potion restores no food or water: 100 - 5, 40 - 5.
    np.testing.assert_array_equal(column(state, "food")[:3], [95, 95, 35])
    np.testing.assert_array_equal(column(state, "water")[:3], [95, 95, 35])
    np.testing.assert_array_equal(count(state, "CONSUME_ITEM")[:3], [1, 1, 1])
    potions = np.asarray(state.events.item_number("CONSUME_ITEM", it.POTION, 2))
    np.testing.assert_array_equal(potions[:3], [0, 0, 1])


def test_a_consumed_item_frees_its_slot_and_later_rows_move_up():
    cfg, state = build()
    state = give(state, cfg, 1, (it.HAT, 1), (it.RATION, 1), (it.POTION, 1), (it.TOP, 1))
    obs, state = run(cfg, state, use={1: 1})  # row 1: the Ration (id 2)
    assert [(r["id"], r["type_id"]) for r in inventory(state, 1)] == [
        (1, it.HAT),
        (3, it.POTION),
        (4, it.TOP),
    ]
    np.testing.assert_array_equal(np.asarray(obs.inventory[0, 3]), np.zeros(16))  # freed
    np.testing.assert_array_equal(np.asarray(obs.inventory[0, 2, :2]), [4, it.TOP])
    assert count(state, "CONSUME_ITEM")[0] == 1
    # Id 2 goes to the back of the free list: 5, ..., 99, then 2 (SPEC 7.2).
    assert next_ids(state, 96)[-2:] == [99, 2]


def test_a_player_dying_this_step_does_not_use_its_ration():
    cfg, state = build(players={1: dict(food=0, water=0, health=20)})
    state = give(state, cfg, 1, (it.RATION, 1))
    _, state = run(cfg, state, use={1: 0})
    # 20 - 10 - 10 = 0: dead after the update, so no action (SPEC 3.3): food stays 0, not 55.
    assert not bool(state.players.alive[0])
    assert column(state, "food")[0] == 0
    assert count(state, "CONSUME_ITEM")[0] == 0


# --- level requirements (SPEC 7.1, 7.3)


def test_level_requirements_gate_use():
    cfg, state = build(
        players={
            1: skill_levels(herbalism=2),  # player level 2, fishing 1
            2: {},  # all level 1
            3: skill_levels(fishing=2),  # player level 2
            4: {},
            5: skill_levels(prospecting=2),  # melee 1
            6: skill_levels(melee=2),
            7: skill_levels(fishing=2),
            8: skill_levels(range=3),
            9: skill_levels(alchemy=5),  # mage 1
        }
    )
    items = {
        1: it.ROD,  # fishing 1 < 2: no, although the player level is 2
        2: it.HAT,  # player level 1 < 2: no
        3: it.HAT,  # player level 2: yes
        4: it.RATION,  # player level 1 < 2: cannot be eaten (SPEC 7.3 last bullet, 18.13)
        5: it.SPEAR,  # melee 1 < 2: no
        6: it.SPEAR,  # melee 2: yes
        7: it.ROD,  # fishing 2: yes
        8: it.ARROW,  # range 3 >= 2: yes
        9: it.RUNES,  # mage 1 < 2: no
    }
    for pid, item_type in items.items():
        state = give(state, cfg, pid, (item_type, 2))
    obs, state = run(cfg, state, use={pid: 0 for pid in items})
    equipped = [bool(inventory(state, pid)[0]["equipped"]) for pid in (1, 2, 3, 5, 6, 7, 8, 9)]
    assert equipped == [False, False, True, False, True, True, True, False]
    assert len(inventory(state, 4)) == 1 and column(state, "food")[3] == 95  # 100 - 5
    np.testing.assert_array_equal(count(state, "EQUIP_ITEM"), [0, 0, 1, 0, 0, 1, 1, 1, 0])
    assert count(state, "CONSUME_ITEM").sum() == 0


@pytest.mark.parametrize("group", [0, 1])
def test_use_mask_follows_the_requirement_of_every_type(group):
    # Player k in 1..8 has skill k (melee .. alchemy) at level 2 and the rest at 1, so its player
    # level is 2; player 9 has every skill at 1. Each holds a level-2 item of 8 of the 16 types.
    types = sorted(SPEC_TABLE)[8 * group : 8 * group + 8]
    players = {k: skill_levels(**{SKILLS[k - 1]: 2}) for k in range(1, 9)}
    cfg, state = build(players=players)
    for pid in range(1, 10):
        state = give(state, cfg, pid, *[(t, 2) for t in types])
    obs, state = run(cfg, state)
    for pid in range(1, 10):
        levels = {s: 1 for s in SKILLS}
        if pid <= 8:
            levels[SKILLS[pid - 1]] = 2
        levels[PLAYER] = max(levels.values())
        want = [levels[SPEC_TABLE[t][1]] >= 2 for t in types] + [False] * 4 + [True]
        np.testing.assert_array_equal(np.asarray(obs.action_mask.use[pid - 1]), want, str(pid))


# --- equipment (SPEC 7.3)


def test_equip_unequip_and_swap_in_the_held_slot():
    cfg, state = build()
    state = give(state, cfg, 1, (it.ROD, 1), (it.PICKAXE, 1), (it.HAT, 1))  # ids 1, 2, 3
    _, state = run(cfg, state, use={1: 0})
    assert equipped_ids(state, 1) == [1]  # Use on an unequipped Rod equips it
    assert count(state, "EQUIP_ITEM")[0] == 1
    _, state = run(cfg, state, use={1: 0})
    assert equipped_ids(state, 1) == []  # Use again unequips it: no EQUIP_ITEM
    assert count(state, "EQUIP_ITEM")[0] == 1
    _, state = run(cfg, state, use={1: 0})
    assert equipped_ids(state, 1) == [1]
    _, state = run(cfg, state, use={1: 1})
    assert equipped_ids(state, 1) == [2]  # the Pickaxe takes the held slot from the Rod
    _, state = run(cfg, state, use={1: 2})
    assert equipped_ids(state, 1) == [2, 3]  # the Hat has its own slot
    assert count(state, "EQUIP_ITEM")[0] == 4
    number = state.events.item_number
    assert int(number("EQUIP_ITEM", it.ROD)[0]) == 2
    assert int(number("EQUIP_ITEM", it.PICKAXE)[0]) == 1
    assert int(number("EQUIP_ITEM", it.HAT)[0]) == 1
    # Nothing was consumed or destroyed.
    assert ids(state, 1) == [1, 2, 3]


def test_equipment_slots_of_every_type():
    cfg, state = build()
    on = {"equipped": True}
    # Player 1: Hat, Top, Bottom, Spear, Whetstone on (ids 1-5); then Bow .. Chisel (ids 6-12).
    state = give(state, cfg, 1, *[(t, 1, on) for t in (it.HAT, it.TOP, it.BOTTOM)])
    state = give(state, cfg, 1, (it.SPEAR, 1, on), (it.WHETSTONE, 1, on))
    state = give(state, cfg, 1, *[(t, 1) for t in (it.BOW, it.WAND) + it.TOOLS])
    # Player 2: Hat, Top, Bottom, Bow, Arrow on (ids 13-17); then Hat, Top, Bottom, Spear, Runes,
    # Whetstone, Ration (ids 18-24).
    state = give(state, cfg, 2, *[(t, 1, on) for t in (it.HAT, it.TOP, it.BOTTOM)])
    state = give(state, cfg, 2, (it.BOW, 1, on), (it.ARROW, 1, on))
    later = (it.HAT, it.TOP, it.BOTTOM, it.SPEAR, it.RUNES, it.WHETSTONE, it.RATION)
    state = give(state, cfg, 2, *[(t, 1) for t in later])
    # Each step, each player uses row 5 + k. Equipping an item empties its slot first (SPEC 7.3):
    # player 1's held item is replaced each time (weapons and tools share `held`); player 2's
    # hat, top, bottom, held, then ammunition twice; the Ration has no slot and is eaten.
    want1 = [[1, 2, 3, 5, 6 + k] for k in range(7)]
    want2 = [
        [14, 15, 16, 17, 18],  # Hat 18 replaces Hat 13
        [15, 16, 17, 18, 19],  # Top 19 replaces 14
        [16, 17, 18, 19, 20],  # Bottom 20 replaces 15
        [17, 18, 19, 20, 21],  # Spear 21 replaces the Bow 16 (held)
        [18, 19, 20, 21, 22],  # Runes 22 replace the Arrows 17 (ammunition)
        [18, 19, 20, 21, 23],  # Whetstone 23 replaces the Runes 22
        [18, 19, 20, 21, 23],  # the Ration is consumed; nothing comes off
    ]
    for k in range(7):
        _, state = run(cfg, state, use={1: 5 + k, 2: 5 + k})
        assert equipped_ids(state, 1) == want1[k], k
        assert equipped_ids(state, 2) == want2[k], k
    np.testing.assert_array_equal(count(state, "EQUIP_ITEM")[:2], [7, 6])
    assert count(state, "CONSUME_ITEM")[1] == 1
    assert ids(state, 2) == list(range(13, 24))
    # The table of SPEC 7.1, as the engine stores it.
    slot_names = ("hat", "top", "bottom", "held", "ammunition")
    for t, (slot, _) in SPEC_TABLE.items():
        assert (slot_names[it.EQUIPMENT_SLOT[t]] if it.EQUIPMENT_SLOT[t] >= 0 else None) == slot


def test_equip_item_logs_the_stack_quantity():
    cfg, state = build()
    state = give(state, cfg, 1, (it.WHETSTONE, 1, {"quantity": 4}))
    _, state = run(cfg, state, use={1: 0})
    # EQUIP_ITEM: type, level, number = the item's quantity (SPEC 14.6).
    assert int(state.events.item_number("EQUIP_ITEM", it.WHETSTONE)[0]) == 4
    assert count(state, "EQUIP_ITEM")[0] == 1


def test_item_level_is_the_sum_of_equipped_levels_one_tick_late():
    cfg, state = build(players={1: skill_levels(fishing=2)})
    state = give(state, cfg, 1, (it.HAT, 2), (it.ROD, 2))
    # The column is refreshed at the start of each step, before the actions (SPEC 3.2, 18.9).
    item_level = []
    for use in (0, 1, NOOP, 0, NOOP):  # Hat on, Rod on, -, Hat off, -
        obs, state = run(cfg, state, use={1: use})
        assert int(obs.agent[0, ITEM_LEVEL]) == column(state, "item_level")[0]
        item_level.append(int(column(state, "item_level")[0]))
    # After step 1: 0 (the Hat came on after the refresh). Step 2 refreshes to 2, then the Rod.
    # Step 3: 2 + 2 = 4. Step 4 refreshes to 4, then the Hat comes off. Step 5: 2.
    assert item_level == [0, 2, 4, 4, 2]


# --- in combat (SPEC 5.5, 12.3)


def test_no_use_or_destroy_in_combat():
    # latest_combat_tick 10: in combat while tick - 10 < 3, i.e. in the steps at ticks 10-12.
    cfg, state = build(
        players={1: dict(latest_combat_tick=10, food=50), 2: dict(latest_combat_tick=0, food=50)},
        tick=11,
    )
    state = give(state, cfg, 1, (it.RATION, 1), (it.HAT, 1))  # ids 1, 2
    state = give(state, cfg, 2, (it.RATION, 1), (it.HAT, 1))  # ids 3, 4
    obs, state = run(cfg, state, use={1: 0}, destroy={1: 1})  # tick 11: 11 - 10 = 1 < 3
    assert ids(state, 1) == [1, 2] and column(state, "food")[0] == 45
    # The observation at tick 12 (12 - 10 = 2 < 3): both masks only allow the no-op.
    noop_only = [False] * CAPACITY + [True]
    np.testing.assert_array_equal(np.asarray(obs.action_mask.use[0]), noop_only)
    np.testing.assert_array_equal(np.asarray(obs.action_mask.destroy[0]), noop_only)
    # latest_combat_tick 0 means never in combat (player 2).
    np.testing.assert_array_equal(
        np.asarray(obs.action_mask.use[1]), [True, True] + [False] * 10 + [True]
    )

    obs, state = run(cfg, state, use={1: 0, 2: 0}, destroy={1: 1, 2: 1})  # tick 12: still
    assert ids(state, 1) == [1, 2] and column(state, "food")[0] == 40
    assert count(state, "CONSUME_ITEM")[0] == 0 and count(state, "DESTROY_ITEM")[0] == 0
    assert ids(state, 2) == [] and count(state, "CONSUME_ITEM")[1] == 1
    # Tick 13: 13 - 10 = 3, free again: the masks open and both actions work.
    np.testing.assert_array_equal(
        np.asarray(obs.action_mask.use[0]), [True, True] + [False] * 10 + [True]
    )
    np.testing.assert_array_equal(
        np.asarray(obs.action_mask.destroy[0]), [True, True] + [False] * 10 + [True]
    )
    _, state = run(cfg, state, use={1: 0}, destroy={1: 1})
    # Use (priority 10) eats the Ration (35 + 55 = 90); Destroy (40) still means the Hat, id 2.
    assert ids(state, 1) == [] and column(state, "food")[0] == 90
    assert count(state, "CONSUME_ITEM")[0] == 1 and count(state, "DESTROY_ITEM")[0] == 1


# --- Destroy and listed items (SPEC 7.3, 8)


def test_destroy_removes_unequipped_and_listed_items_but_not_equipped_ones():
    cfg, state = build()
    state = give(
        state,
        cfg,
        1,
        (it.HAT, 1, {"equipped": True}),  # id 1
        (it.RATION, 1),  # id 2
        (it.WHETSTONE, 1, {"quantity": 5, "listed_price": 7}),  # id 3, listed
        (it.POTION, 1),  # id 4
    )
    _, state = run(cfg, state, destroy={1: 0})
    assert ids(state, 1) == [1, 2, 3, 4]  # equipped: refused
    assert count(state, "DESTROY_ITEM")[0] == 0
    _, state = run(cfg, state, destroy={1: 1})
    assert ids(state, 1) == [1, 3, 4]  # the Ration
    assert count(state, "DESTROY_ITEM")[0] == 1
    _, state = run(cfg, state, destroy={1: 1})
    assert ids(state, 1) == [1, 4]  # the listed stack goes, with its listing (SPEC 8)
    assert count(state, "DESTROY_ITEM")[0] == 2
    listed = np.asarray(state.inventory.slots[..., it.COL["listed_price"]])
    assert not listed.any()
    # Freed ids join the back of the queue in order: 5, ..., 99, 2, 3 (SPEC 7.2).
    assert next_ids(state, 97)[-3:] == [99, 2, 3]


def test_use_on_a_listed_item_does_nothing():
    cfg, state = build(players={1: dict(food=50), 2: dict(food=50)})
    state = give(state, cfg, 1, (it.HAT, 1, {"listed_price": 3}))
    state = give(state, cfg, 2, (it.RATION, 1, {"listed_price": 3}))
    obs, state = run(cfg, state, use={1: 0, 2: 0})
    assert inventory(state, 1)[0]["equipped"] == 0
    assert len(inventory(state, 2)) == 1 and column(state, "food")[1] == 45
    assert count(state, "EQUIP_ITEM").sum() == 0 and count(state, "CONSUME_ITEM").sum() == 0
    # The mask agrees (SPEC 12.3): listed rows cannot be used, but can be destroyed.
    assert not bool(obs.action_mask.use[0, 0]) and bool(obs.action_mask.destroy[0, 0])


def test_use_runs_before_destroy_on_the_same_item():
    cfg, state = build(players={1: dict(food=50)})
    state = give(state, cfg, 1, (it.RATION, 1))  # player 1: row 0
    state = give(state, cfg, 2, (it.HAT, 1))  # player 2: row 0
    _, state = run(cfg, state, use={1: 0, 2: 0}, destroy={1: 0, 2: 0})
    # Use (priority 10) before Destroy (40), SPEC 13.1: the Ration is eaten (45 + 55 = 100)
    # and is gone for Destroy; the Hat is equipped first, so Destroy refuses it.
    assert inventory(state, 1) == [] and column(state, "food")[0] == 100
    assert count(state, "CONSUME_ITEM")[0] == 1 and count(state, "DESTROY_ITEM")[0] == 0
    assert equipped_ids(state, 2) == [2] and count(state, "DESTROY_ITEM")[1] == 0


# --- which item an index means (SPEC 12.2, 13.1)


def test_indices_name_the_rows_the_agent_saw_even_if_a_harvest_inserts_one_before():
    # Players 1 and 2 stand on herbs that show again at tick 1.
    cfg, state = build(
        ". h . h .",
        players={1: dict(row=0, col=1), 2: dict(row=0, col=3)},
    )
    state = scenario.depleted(state, 0, 1, cfg, until=1)
    state = scenario.depleted(state, 0, 3, cfg, until=1)
    state = give(state, cfg, 1, (it.RATION, 1), (it.HAT, 1))  # ids 1, 2
    state = give(state, cfg, 2, (it.RATION, 1), (it.TOP, 1))  # ids 3, 4
    # Issue the unused ids 5..99, so that freed ids come back next (SPEC 7.2).
    inv = state.inventory
    burned, _ = it.allocate(inv.ids, jnp.ones((95,), bool))
    state = state.replace(inventory=inv.replace(ids=burned))
    # Step 1 (tick 0): both eat their Ration: ids 1 then 3 are freed.
    obs, state = run(cfg, state, use={1: 0, 2: 0})
    assert ids(state, 1) == [2] and ids(state, 2) == [4]
    assert int(obs.inventory[0, 0, it.COL["type_id"]]) == it.HAT
    assert int(obs.inventory[1, 0, it.COL["type_id"]]) == it.TOP
    # Step 2 (tick 1): the herbs show, so each harvests a Potion first, taking the freed ids 1
    # and 3: each Potion's row 0 comes before the Hat / Top. The actions chose row 0 of the
    # observation they saw: player 1 uses the Hat, player 2 destroys the Top.
    obs, state = run(cfg, state, use={1: 0}, destroy={2: 0})
    assert [(r["id"], r["type_id"], r["equipped"]) for r in inventory(state, 1)] == [
        (1, it.POTION, 0),
        (2, it.HAT, 1),
    ]
    assert [(r["id"], r["type_id"]) for r in inventory(state, 2)] == [(3, it.POTION)]
    assert count(state, "CONSUME_ITEM")[0] == 1  # only the Ration of step 1
    assert count(state, "DESTROY_ITEM")[1] == 1
    np.testing.assert_array_equal(np.asarray(obs.inventory[0, :2, 0]), [1, 2])


def test_invalid_indices_do_nothing():
    cfg, state = build(players={1: dict(food=50), 2: dict(food=50)})
    state = give(state, cfg, 1, (it.RATION, 1), (it.HAT, 1))
    state = give(state, cfg, 2, (it.RATION, 1), (it.HAT, 1))
    state = give(state, cfg, 3, (it.RATION, 1), (it.HAT, 1))
    before = np.asarray(state.inventory.slots)
    # Rows 2 and 11 hold no item; 12 is the no-op. Inside jit, values outside [0, 13) are not
    # checked and must do nothing either (player 3; SPEC 12.2, DEVIATIONS).
    _, state = run(cfg, state, use={1: 2, 2: NOOP, 3: -1}, destroy={1: 11, 2: NOOP, 3: 99})
    np.testing.assert_array_equal(np.asarray(state.inventory.slots), before)
    np.testing.assert_array_equal(column(state, "food")[:3], [45, 45, 95])
    for name in ("CONSUME_ITEM", "EQUIP_ITEM", "DESTROY_ITEM"):
        assert count(state, name).sum() == 0


# --- death (SPEC 3.4, 7.2)


def test_dead_players_items_are_destroyed_and_their_ids_freed_in_the_order_received():
    # Players 1 and 3 starve: 40 - 10 - 10 = 20 after step 1, 0 in step 2.
    cfg, state = build(
        players={1: dict(food=0, water=0, health=40), 3: dict(food=0, water=0, health=40)}
    )
    state = give(state, cfg, 2, (it.POTION, 1))  # id 1
    state = give(state, cfg, 1, (it.HAT, 1, {"equipped": True}), (it.RATION, 1))  # ids 2, 3
    state = give(state, cfg, 3, (it.TOP, 1), (it.ARROW, 1, {"quantity": 3}))  # ids 4, 5
    inv = state.inventory
    burned, _ = it.allocate(inv.ids, jnp.ones((94,), bool))  # issue 6..99
    state = state.replace(inventory=inv.replace(ids=burned))
    _, state = run(cfg, state, destroy={2: 0})  # id 1 goes back to the queue
    state = give(state, cfg, 1, (it.SPEAR, 1))  # the queue's front: id 1
    # Player 1 received ids 2, 3, 1 in that order; its rows are in id order.
    assert ids(state, 1) == [1, 2, 3]
    obs, state = run(cfg, state)
    np.testing.assert_array_equal(column(state, "alive")[:3], [False, True, False])
    assert inventory(state, 1) == [] and inventory(state, 3) == []
    assert not np.asarray(obs.inventory)[[0, 2]].any()
    # Freed player by player in id order, each in the order received: 2, 3, 1, then 4, 5; the
    # queue then runs dry and the table doubles: 100 (SPEC 3.4, 7.2).
    assert next_ids(state, 6) == [2, 3, 1, 4, 5, 100]
    # The dead may only choose the no-op (SPEC 12.3).
    noop_only = [False] * CAPACITY + [True]
    np.testing.assert_array_equal(np.asarray(obs.action_mask.use[0]), noop_only)
    np.testing.assert_array_equal(np.asarray(obs.action_mask.destroy[0]), noop_only)


# --- the masks (SPEC 12.3)


def test_use_and_destroy_masks_on_a_hand_built_inventory():
    cfg, state = build(
        players={
            1: skill_levels(fishing=3),  # player level 3; every other skill 1
            2: dict(latest_combat_tick=5),  # in combat at tick 6: 6 - 5 = 1 < 3
            3: dict(alive=False, health=0),  # dead (items left from a hand-built state)
            4: {},  # empty inventory
            5: skill_levels(**{s: 2 for s in SKILLS}),  # every skill 2
        },
        tick=5,
    )
    on = {"equipped": True}
    state = give(
        state,
        cfg,
        1,
        (it.HAT, 3, on),  # player level 3 >= 3: use; equipped: no destroy
        (it.TOP, 4),  # 4 > 3: no use
        (it.SPEAR, 2),  # melee 1 < 2: no use
        (it.ROD, 3),  # fishing 3: use
        (it.PICKAXE, 2),  # prospecting 1: no use
        (it.WHETSTONE, 1, {"quantity": 4, "listed_price": 5}),  # listed: no use; destroy
        (it.RATION, 3),  # player level 3: use
        (it.POTION, 4),  # no use
        (it.ARROW, 1, on),  # range 1: use (it would unequip); no destroy
    )
    state = give(state, cfg, 2, (it.RATION, 1), (it.HAT, 1))
    state = give(state, cfg, 3, (it.RATION, 1), (it.HAT, 1))
    state = give(
        state,
        cfg,
        5,
        (it.CHISEL, 2),  # alchemy 2: use
        (it.GLOVES, 3),  # herbalism 2 < 3: no
        (it.BOW, 2),  # range 2: use
        (it.WAND, 3),  # mage 2 < 3: no
        (it.RUNES, 2, {"quantity": 9}),  # mage 2: use
        (it.BOTTOM, 2),  # player level 2: use
        (it.BOTTOM, 3),  # no
        (it.AXE, 1, on),  # carving 2: use; equipped: no destroy
    )
    obs, state = run(cfg, state)
    T, F = True, False
    use = np.asarray(obs.action_mask.use)
    destroy = np.asarray(obs.action_mask.destroy)
    noop_only = [F] * 12 + [T]
    np.testing.assert_array_equal(use[0], [T, F, F, T, F, F, T, F, T, F, F, F, T])
    np.testing.assert_array_equal(destroy[0], [F, T, T, T, T, T, T, T, F, F, F, F, T])
    for pid in (2, 3, 4):  # in combat, dead, nothing held: only the no-op
        np.testing.assert_array_equal(use[pid - 1], noop_only, str(pid))
        np.testing.assert_array_equal(destroy[pid - 1], noop_only, str(pid))
    np.testing.assert_array_equal(use[4], [T, F, T, F, T, T, F, T, F, F, F, F, T])
    np.testing.assert_array_equal(destroy[4], [T] * 7 + [F] * 5 + [T])
    # Players 6-9 hold nothing: the no-op only.
    np.testing.assert_array_equal(use[5:], [noop_only] * 4)

    # The reference layout carries the same rows and masks.
    ref = reference_observation(state, cfg)
    np.testing.assert_array_equal(np.asarray(ref["Inventory"]), np.asarray(obs.inventory))
    np.testing.assert_array_equal(np.asarray(ref["ActionTargets"]["Use"]["InventoryItem"]), use)
    np.testing.assert_array_equal(
        np.asarray(ref["ActionTargets"]["Destroy"]["InventoryItem"]), destroy
    )
    # Inventory rows: the 16 ItemState columns of player 1's items in id order; the dead see 0.
    assert [int(i) for i in np.asarray(obs.inventory[0, :, 0])] == list(range(1, 10)) + [0] * 3
    assert not np.asarray(obs.inventory[2]).any()


# --- item stats by level (SPEC 7.1)

STATS = it.ITEM_COLUMNS[6:14]  # melee_attack .. resource_restore


def spec_stats(item_type, level):
    """SPEC 7.1's stats of an item: {column: value} for the non-zero ones."""
    defense = ("melee_defense", "range_defense", "mage_defense")
    if item_type in (it.HAT, it.TOP, it.BOTTOM):
        return {d: 3 * level for d in defense}
    if item_type in it.TOOLS:
        return {d: 15 for d in defense}  # any level
    weapon = {it.SPEAR: "melee_attack", it.BOW: "range_attack", it.WAND: "mage_attack"}
    if item_type in weapon:
        return {weapon[item_type]: 5 + 5 * level}
    ammunition = {it.WHETSTONE: "melee_attack", it.ARROW: "range_attack", it.RUNES: "mage_attack"}
    if item_type in ammunition:
        return {ammunition[item_type]: min(5 + 10 * level, 100)}
    if item_type == it.RATION:
        return {"resource_restore": 50 + 5 * level}
    return {"health_restore": 50 + 5 * level}  # Potion


def test_item_stats_by_level():
    cfg = nj.Config(player_n=4, npc_n=0, map_size=24, map_center=8)
    for item_type in SPEC_TABLE:
        rows = np.asarray(it.new_item(item_type, jnp.arange(1, 11), cfg, item_id=7, owner_id=2))
        for level, row in zip(range(1, 11), rows, strict=True):
            got = {name: int(row[it.COL[name]]) for name in it.ITEM_COLUMNS}
            want = dict({name: 0 for name in STATS}, **spec_stats(item_type, level))
            assert {s: got[s] for s in STATS} == want, (it.NAMES[item_type], level)
            assert (got["id"], got["type_id"], got["owner_id"]) == (7, item_type, 2)
            assert (got["level"], got["quantity"], got["capacity"]) == (level, 1, 0)
            assert (got["equipped"], got["listed_price"]) == (0, 0)
    # The values SPEC 7.1 lists for levels 1..10.
    level = jnp.arange(1, 11)
    hat = np.asarray(it.new_item(it.HAT, level, cfg))[:, it.COL["melee_defense"]]
    np.testing.assert_array_equal(hat, [3, 6, 9, 12, 15, 18, 21, 24, 27, 30])
    bow = np.asarray(it.new_item(it.BOW, level, cfg))[:, it.COL["range_attack"]]
    np.testing.assert_array_equal(bow, [10, 15, 20, 25, 30, 35, 40, 45, 50, 55])
    arrow = np.asarray(it.new_item(it.ARROW, level, cfg))[:, it.COL["range_attack"]]
    np.testing.assert_array_equal(arrow, [15, 25, 35, 45, 55, 65, 75, 85, 95, 100])
    potion = np.asarray(it.new_item(it.POTION, level, cfg))[:, it.COL["health_restore"]]
    np.testing.assert_array_equal(potion, [55, 60, 65, 70, 75, 80, 85, 90, 95, 100])


def test_consumables_restore_nothing_without_the_profession_system():
    cfg = nj.Config(player_n=4, npc_n=0, map_size=24, map_center=8, profession_system_enabled=False)
    ration = np.asarray(it.new_item(it.RATION, 3, cfg))
    potion = np.asarray(it.new_item(it.POTION, 3, cfg))
    assert ration[it.COL["resource_restore"]] == 0 and potion[it.COL["health_restore"]] == 0


# --- item ids (SPEC 7.2)


def test_fifo_item_ids():
    cfg = nj.Config(player_n=4, npc_n=0, map_size=24, map_center=8)
    ids = it.empty_item_ids(cfg)
    ids, first = it.allocate(ids, jnp.ones((5,), bool))
    np.testing.assert_array_equal(np.asarray(first), [1, 2, 3, 4, 5])
    ids = it.release(ids, jnp.array([2, 4]), jnp.array([True, True]))
    # Next: 6, 7, ..., 99, then 2, then 4; then the table doubles: 100, 101, ...
    want = list(range(6, 100)) + [2, 4, 100, 101, 102]
    allocate = jax.jit(it.allocate)
    one_by_one, got = ids, []
    for _ in want:
        one_by_one, new = allocate(one_by_one, jnp.ones((1,), bool))
        got.append(int(new[0]))
    assert got == want
    # The same in one call, and with gaps in the requests (0 where not wanted).
    _, batch = it.allocate(ids, jnp.ones((len(want),), bool))
    np.testing.assert_array_equal(np.asarray(batch), want)
    _, sparse = it.allocate(ids, jnp.array([True, False, False, True]))
    np.testing.assert_array_equal(np.asarray(sparse), [6, 0, 0, 7])
    # Released ids keep their order; a masked-out release frees nothing: releasing 5, (3), 1
    # queues 6, ..., 99, 2, 4, 5, 1.
    ids2 = it.release(ids, jnp.array([5, 3, 1]), jnp.array([True, False, True]))
    _, tail = it.allocate(ids2, jnp.ones((98,), bool))
    np.testing.assert_array_equal(np.asarray(tail)[-5:], [99, 2, 4, 5, 1])
