"""Harvesting: the five professions, their drops, XP and regrowth (SPEC 2.1, 3.3 step 6, 4.1, 4.2,
7.1-7.3, 14.6).

Every expected value is worked out by hand from the SPEC; the arithmetic is in the comments.
Scenario drawings: `.` grass, `x` fish, `h` herb, `o` ore, `t` tree, `c` crystal; digits are
players (standing on grass); players given as `players={pid: dict(row=, col=)}` stand on the
resource drawn there. Every drawing fits the same 8 x 8 square with 4 player slots, so the scenario
configs differ only in their rules and each compiles once.

XP (SPEC 4.1): fishing and herbalism 30 per harvest, prospecting, carving and alchemy 15. Item ids
come from the FIFO allocator (SPEC 7.2): a fresh episode issues 1, 2, 3, ... in order.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

import nmmo_jax as nj
from nmmo_jax import items as it
from nmmo_jax import material as m
from nmmo_jax import scenario
from nmmo_jax.state import material
from nmmo_jax.step import HEAD_INDEX

N, S, E, W, STAY = range(5)
GEOMETRY = dict(map_center=8, map_size=24, player_n=4)
PROFESSION_RESPAWN = m.PROFESSION_RESPAWN_FIELDS
# Harvested tiles never regrow and there are no weapon drops: one harvest per tile, deterministic.
STILL = dict({name: 0.0 for name in PROFESSION_RESPAWN}, weapon_drop_prob=0.0)
# Harvested tiles regrow at the end of every step (p = 1, SPEC 2.1): one harvest per step.
REGROW = dict({name: 1.0 for name in PROFESSION_RESPAWN}, weapon_drop_prob=0.0)
# The 2.5 % weapon entry of the ore, tree and crystal drop tables always rolls (SPEC 4.2).
WEAPONS = dict(STILL, weapon_drop_prob=1.0)

SKILL_ID = {"fishing": 4, "herbalism": 5, "prospecting": 6, "carving": 7, "alchemy": 8}


def build(drawing, players=None, tick=0, **rules):
    return scenario.build(drawing, players, tick, **GEOMETRY, **rules)


@functools.cache
def _compiled_step(cfg):
    return jax.jit(nj.Env(cfg).step)


def run(cfg, state, steps=1, moves=None, use=None, destroy=None):
    """`steps` jitted env steps with the given actions per player (no-ops where None);
    returns (obs, state) after the last."""
    env = nj.Env(cfg)
    actions = env.noop_actions
    for head, values in (("move", moves), ("use", use), ("destroy", destroy)):
        if values is not None:
            actions = actions.at[:, HEAD_INDEX[head]].set(jnp.asarray(values, jnp.int32))
    obs = None
    for _ in range(steps):
        obs, state, *_ = _compiled_step(cfg)(jax.random.key(int(state.tick)), state, actions)
    return obs, state


def shown(cfg, state, row, col):
    """The material tile (row, col) of the drawing shows now."""
    r, c = scenario.position(cfg, row, col)
    return int(material(state.tiles, state.tick)[r, c])


def inventory(state, pid):
    """Player `pid`'s occupied rows, in Inventory row order (item-id order, SPEC 11), as dicts
    of the ItemState columns."""
    slots = np.asarray(state.inventory.slots[pid - 1])
    slots = slots[np.argsort(np.where(slots[:, it.COL["type_id"]] > 0, slots[:, 0], 1 << 20))]
    rows = []
    for slot in slots:
        if slot[it.COL["type_id"]] > 0:
            rows.append({name: int(slot[it.COL[name]]) for name in it.ITEM_COLUMNS})
    return rows


def kinds(state, pid):
    """[(type_id, level, quantity)] of player `pid`'s items, in row order."""
    return [(r["type_id"], r["level"], r["quantity"]) for r in inventory(state, pid)]


def column(state, name):
    return np.asarray(getattr(state.players, name))


def count(state, name):
    return np.asarray(state.events.count(name))


def harvested(state, item_type, min_level=1):
    return np.asarray(state.events.item_number("HARVEST_ITEM", item_type, min_level))


# --- what each profession yields (SPEC 4.1, 4.2)


def test_three_fish_harvests_reach_fishing_level_2():
    cfg, state = build(
        """
        x . .
        1 . .
        """,
        **REGROW,
    )
    exp, level = [], []
    for _ in range(3):
        obs, state = run(cfg, state)
        exp.append(int(state.players.fishing_exp[0]))
        level.append(int(state.players.fishing_level[0]))
        # p = 1: the fish depleted by this step's harvest already shows again (SPEC 2.1).
        assert shown(cfg, state, 0, 0) == m.FISH
        r = cfg.player_vision_radius
        assert int(obs.tile[0, r - 1, r]) == m.FISH
    # 30 XP per harvest: 30, 60, 90; 90 is the level-2 threshold.
    assert exp == [30, 60, 90]
    assert level == [1, 1, 2]
    # One LEVEL_UP (fishing, SKILL_ID 4) with level 2.
    assert count(state, "LEVEL_UP")[0] == 1
    assert int(state.events.level_up[0, SKILL_ID["fishing"] - 1]) == 2
    # Three level-1 Rations, one slot each (consumables do not stack), ids 1, 2, 3.
    assert kinds(state, 1) == [(it.RATION, 1, 1)] * 3
    assert [r["id"] for r in inventory(state, 1)] == [1, 2, 3]
    # Ration level 1: resource_restore = 50 + 5 * 1 = 55 (SPEC 7.1).
    for ration in inventory(state, 1):
        assert (ration["resource_restore"], ration["health_restore"]) == (55, 0)
    assert count(state, "HARVEST_ITEM")[0] == 3
    assert harvested(state, it.RATION)[0] == 3
    assert harvested(state, it.RATION, 2)[0] == 0
    # No other skill moved.
    for skill in ("herbalism", "prospecting", "carving", "alchemy", "melee"):
        assert column(state, f"{skill}_exp")[0] == 0


def test_herb_gives_a_level_1_potion_and_30_herbalism_xp():
    cfg, state = build(". h .", players={1: dict(row=0, col=1)}, **STILL)
    obs, state = run(cfg, state)
    [potion] = inventory(state, 1)
    # Potion level 1: health_restore = 50 + 5 * 1 = 55; every other stat 0 (SPEC 7.1, 7.2).
    assert potion == dict(
        {name: 0 for name in it.ITEM_COLUMNS},
        id=1,
        type_id=it.POTION,
        owner_id=1,
        level=1,
        quantity=1,
        health_restore=55,
    )
    np.testing.assert_array_equal(np.asarray(obs.inventory[0, 0]), list(potion.values()))
    assert column(state, "herbalism_exp")[0] == 30
    assert column(state, "herbalism_level")[0] == 1  # 30 < 90
    assert count(state, "LEVEL_UP")[0] == 0
    assert harvested(state, it.POTION)[0] == 1
    assert count(state, "HARVEST_ITEM")[0] == 1
    assert shown(cfg, state, 0, 1) == m.WEEDS  # Herb depletes to Weeds; p = 0: stays so

    # Depleted: the next step harvests nothing (SPEC 4.1: only a tile showing its base).
    _, state = run(cfg, state)
    assert len(inventory(state, 1)) == 1
    assert column(state, "herbalism_exp")[0] == 30


def test_ore_whetstones_stack_in_one_slot():
    cfg, state = build(". o .", players={1: dict(row=0, col=1)}, **REGROW)
    for k in range(1, 8):
        obs, state = run(cfg, state)
        # One stack of level-1 Whetstones (the first drop, id 1) growing by one per harvest;
        # weapon_drop_prob = 0: never a Wand.
        assert kinds(state, 1) == [(it.WHETSTONE, 1, k)], k
        [stack] = inventory(state, 1)
        assert stack["id"] == 1
        assert stack["melee_attack"] == 15  # 5 + 10 * 1 (SPEC 7.1)
        assert int(obs.inventory[0, 0, it.COL["quantity"]]) == k
        # 15 XP per harvest; 6 * 15 = 90 reaches level 2 (SPEC 4.1: 6 ammunition harvests).
        assert column(state, "prospecting_exp")[0] == 15 * k
        assert column(state, "prospecting_level")[0] == (2 if k >= 6 else 1)
        assert count(state, "LEVEL_UP")[0] == (1 if k >= 6 else 0)
        # HARVEST_ITEM is logged for merged drops too (SPEC 14.6).
        assert count(state, "HARVEST_ITEM")[0] == k
        assert harvested(state, it.WHETSTONE)[0] == k
        # The first regrowth roll is at the end of the harvest step: p = 1 shows Ore again.
        assert shown(cfg, state, 0, 1) == m.ORE
        r = cfg.player_vision_radius
        assert int(obs.tile[0, r, r]) == m.ORE
    assert int(state.events.level_up[0, SKILL_ID["prospecting"] - 1]) == 2
    assert harvested(state, it.WAND)[0] == 0


def test_tree_and_crystal_give_arrows_and_runes():
    cfg, state = build(
        "t . c",
        players={1: dict(row=0, col=0), 2: dict(row=0, col=2)},
        **STILL,
    )
    _, state = run(cfg, state)
    # Arrow: range_attack 5 + 10 = 15; Runes: mage_attack 15 (SPEC 7.1); 15 XP each.
    [arrow] = inventory(state, 1)
    [runes] = inventory(state, 2)
    assert (arrow["type_id"], arrow["level"], arrow["range_attack"]) == (it.ARROW, 1, 15)
    assert (runes["type_id"], runes["level"], runes["mage_attack"]) == (it.RUNES, 1, 15)
    assert arrow["id"] == 1 and runes["id"] == 2  # player 1's drop is made first
    np.testing.assert_array_equal(column(state, "carving_exp")[:2], [15, 0])
    np.testing.assert_array_equal(column(state, "alchemy_exp")[:2], [0, 15])
    assert shown(cfg, state, 0, 0) == m.STUMP
    assert shown(cfg, state, 0, 2) == m.FRAGMENT


def test_harvest_happens_the_tick_after_arriving():
    cfg, state = build("1 o .", **STILL)
    _, state = run(cfg, state, moves=[E, STAY, STAY, STAY])
    # The update (with the harvest) runs before the move (SPEC 3.3, 13.1).
    assert kinds(state, 1) == [] and shown(cfg, state, 0, 1) == m.ORE
    _, state = run(cfg, state)
    assert kinds(state, 1) == [(it.WHETSTONE, 1, 1)]
    assert shown(cfg, state, 0, 1) == m.SLAG


def test_multi_level_jump_logs_one_level_up_with_the_final_level():
    # Fishing exp 370 at level 1 (a hand-set row): one harvest gives 370 + 30 = 400 >= 373:
    # level 4 in one grant, one LEVEL_UP with level 4 (SPEC 14.6).
    cfg, state = build(
        """
        x . .
        1 . .
        """,
        players={1: dict(fishing_exp=370)},
        **STILL,
    )
    _, state = run(cfg, state)
    assert column(state, "fishing_exp")[0] == 400
    assert column(state, "fishing_level")[0] == 4
    assert count(state, "LEVEL_UP")[0] == 1
    assert int(state.events.level_up[0, SKILL_ID["fishing"] - 1]) == 4


# --- drop level and tools (SPEC 4.2)


def test_drop_level_from_the_held_matching_tool():
    cfg, state = build(
        "o . o . o . o",
        players={pid: dict(row=0, col=2 * (pid - 1)) for pid in range(1, 5)},
        **STILL,
    )
    # 1: no tool. 2: Pickaxe level 1 equipped. 3: Pickaxe level 9 equipped. 4: an Axe (the tree
    # tool) equipped. Tools are given first: ids 1, 2, 3.
    state = scenario.give(state, cfg, 2, it.PICKAXE, 1, equipped=True)
    state = scenario.give(state, cfg, 3, it.PICKAXE, 9, equipped=True)
    state = scenario.give(state, cfg, 4, it.AXE, 1, equipped=True)
    _, state = run(cfg, state)
    whetstones = [
        [r for r in inventory(state, pid) if r["type_id"] == it.WHETSTONE] for pid in range(1, 5)
    ]
    # Drop level: 1; min(1 + 1, 10) = 2; min(1 + 9, 10) = 10; non-matching tool: 1.
    assert [[w["level"] for w in ws] for ws in whetstones] == [[1], [2], [10], [1]]
    # melee_attack 5 + 10 L: 15, 25, 105 clipped to 100, 15 (SPEC 7.1).
    assert [ws[0]["melee_attack"] for ws in whetstones] == [15, 25, 100, 15]
    # XP does not depend on the tool: 15 each.
    np.testing.assert_array_equal(column(state, "prospecting_exp"), [15] * 4)
    np.testing.assert_array_equal(harvested(state, it.WHETSTONE, 2), [0, 1, 1, 0])
    np.testing.assert_array_equal(harvested(state, it.WHETSTONE, 10), [0, 0, 1, 0])


def test_drop_level_for_every_profession_and_unequipped_tools():
    cfg, state = build(
        """
        x . h . c
        1 . . . .
        t . o . .
        """,
        players={2: dict(row=0, col=2), 3: dict(row=0, col=4), 4: dict(row=2, col=2)},
        **STILL,
    )
    # Player 2 stands on the herb, 3 on the crystal, 4 on the ore; 1 fishes (fish to its N).
    # 1: Rod level 3 equipped -> Ration level 4. 2: Gloves level 2 equipped -> Potion level 3.
    # 3: Chisel level 1 equipped -> Runes level 2. 4: a Pickaxe held but NOT equipped -> level 1.
    # (The tree at (2, 0) has nobody on it.)
    state = scenario.give(state, cfg, 1, it.ROD, 3, equipped=True)
    state = scenario.give(state, cfg, 2, it.GLOVES, 2, equipped=True)
    state = scenario.give(state, cfg, 3, it.CHISEL, 1, equipped=True)
    state = scenario.give(state, cfg, 4, it.PICKAXE, 5, equipped=False)
    _, state = run(cfg, state)
    drops = [inventory(state, pid)[1] for pid in range(1, 5)]  # row 0 is the tool (lower id)
    assert [(d["type_id"], d["level"]) for d in drops] == [
        (it.RATION, 4),  # min(1 + 3, 10)
        (it.POTION, 3),  # min(1 + 2, 10)
        (it.RUNES, 2),  # min(1 + 1, 10)
        (it.WHETSTONE, 1),
    ]
    # Restores 50 + 5 L: Ration 70, Potion 65; Runes mage_attack 5 + 10 * 2 = 25.
    assert drops[0]["resource_restore"] == 70
    assert drops[1]["health_restore"] == 65
    assert drops[2]["mage_attack"] == 25
    # A harvest does not need the tool at the skill's level (the Rod is level 3, fishing 1).
    assert column(state, "fishing_exp")[0] == 30
    assert shown(cfg, state, 2, 0) == m.TREE


# --- which tiles are harvested, and by whom (SPEC 3.3, 4.1, 4.2)


def test_one_fishing_harvest_depletes_every_adjacent_fish_but_yields_one_ration():
    cfg, state = build(
        """
        . x .
        . 1 x
        . . .
        """,
        **STILL,
    )
    _, state = run(cfg, state)
    assert shown(cfg, state, 0, 1) == m.OCEAN
    assert shown(cfg, state, 1, 2) == m.OCEAN
    assert kinds(state, 1) == [(it.RATION, 1, 1)]
    assert column(state, "fishing_exp")[0] == 30  # one harvest
    assert count(state, "HARVEST_ITEM")[0] == 1


def test_fish_on_a_diagonal_is_not_adjacent():
    cfg, state = build(
        """
        x . .
        . 1 .
        """,
        **STILL,
    )
    _, state = run(cfg, state)
    assert kinds(state, 1) == [] and column(state, "fishing_exp")[0] == 0
    assert shown(cfg, state, 0, 0) == m.FISH


def test_a_depleted_tile_gives_nothing_until_it_shows_its_base_material():
    cfg, state = build(
        """
        . o . .
        . . x 2
        """,
        players={1: dict(row=0, col=1)},
        **STILL,
    )
    state = scenario.depleted(state, 0, 1, cfg, until=2)  # Slag at ticks 0 and 1
    state = scenario.depleted(state, 1, 2, cfg, until=100)  # Ocean
    _, state = run(cfg, state)  # tick 0
    assert shown(cfg, state, 0, 1) == m.SLAG  # tick 1 < 2
    _, state = run(cfg, state)  # tick 1
    for pid in (1, 2):
        assert kinds(state, pid) == []
    np.testing.assert_array_equal(column(state, "prospecting_exp")[:2], [0, 0])
    np.testing.assert_array_equal(column(state, "fishing_exp")[:2], [0, 0])
    assert count(state, "HARVEST_ITEM").sum() == 0
    # From tick 2 the ore shows again, and the step at tick 2 harvests it.
    assert shown(cfg, state, 0, 1) == m.ORE
    _, state = run(cfg, state)
    assert kinds(state, 1) == [(it.WHETSTONE, 1, 1)]
    assert column(state, "prospecting_exp")[0] == 15
    assert shown(cfg, state, 1, 2) == m.OCEAN and kinds(state, 2) == []


def test_two_players_on_one_ore_tile_only_the_lower_id_harvests():
    cfg, state = build(
        "1 . o .",
        players={2: dict(row=0, col=2), 3: dict(row=0, col=2)},
        **STILL,
    )
    _, state = run(cfg, state)
    # Players update in id order (SPEC 3.3): 2 harvests and depletes, 3 finds Slag.
    assert kinds(state, 2) == [(it.WHETSTONE, 1, 1)]
    assert kinds(state, 3) == []
    np.testing.assert_array_equal(column(state, "prospecting_exp")[:3], [0, 15, 0])


def test_a_dead_player_on_the_tile_does_not_harvest_or_block():
    cfg, state = build(
        "o . o",
        players={
            1: dict(row=0, col=0, alive=False, health=0),
            2: dict(row=0, col=0),
            3: dict(row=0, col=2, alive=False, health=0),
        },
        **STILL,
    )
    _, state = run(cfg, state)
    # Only the living update (SPEC 3.3): 2 harvests the first ore; nobody takes the second.
    assert [kinds(state, pid) for pid in (1, 2, 3)] == [[], [(it.WHETSTONE, 1, 1)], []]
    assert shown(cfg, state, 0, 0) == m.SLAG and shown(cfg, state, 0, 2) == m.ORE


def test_a_player_starving_this_step_still_harvests():
    cfg, state = build(
        ". o .",
        players={1: dict(row=0, col=1, food=0, water=0, health=20)},
        **STILL,
    )
    _, state = run(cfg, state)
    # 20 - 10 - 10 = 0, but the skill updates of the same player update still run (SPEC 3.3):
    # the ore depletes and HARVEST_ITEM is logged; the drop (id 1) is destroyed with the rest
    # of the inventory at the cull (SPEC 3.4), so id 1 goes back to the queue after 2..99.
    assert not bool(state.players.alive[0])
    assert shown(cfg, state, 0, 1) == m.SLAG
    assert count(state, "HARVEST_ITEM")[0] == 1
    assert kinds(state, 1) == []
    _, ids = it.allocate(state.inventory.ids, jnp.ones((99,), bool))
    np.testing.assert_array_equal(np.asarray(ids), list(range(2, 100)) + [1])


def test_fishing_comes_before_the_underfoot_harvest():
    # Player 1 stands on ore with fish to its N; both skills are one harvest from level 2:
    # fishing 60 + 30 = 90, prospecting 75 + 15 = 90.
    cfg, state = build(
        """
        . x .
        . o .
        """,
        players={1: dict(row=1, col=1, fishing_exp=60, prospecting_exp=75)},
        **STILL,
    )
    _, state = run(cfg, state)
    # Fishing is the first skill update (SPEC 3.3 step 6.1): the Ration takes id 1, the
    # Whetstone id 2.
    assert [(r["id"], r["type_id"]) for r in inventory(state, 1)] == [
        (1, it.RATION),
        (2, it.WHETSTONE),
    ]
    np.testing.assert_array_equal(column(state, "fishing_level")[:1], [2])
    np.testing.assert_array_equal(column(state, "prospecting_level")[:1], [2])
    assert count(state, "LEVEL_UP")[0] == 2  # one per skill that rose
    assert int(state.events.level_up[0, SKILL_ID["fishing"] - 1]) == 2
    assert int(state.events.level_up[0, SKILL_ID["prospecting"] - 1]) == 2


def test_the_last_free_slot_goes_to_the_ration():
    cfg, state = build(
        """
        . x .
        . o .
        """,
        players={1: dict(row=1, col=1)},
        **STILL,
    )
    for _ in range(11):
        state = scenario.give(state, cfg, 1, it.HAT)  # ids 1..11
    _, state = run(cfg, state)
    # The Ration (id 12) takes slot 12; the Whetstone (id 13) finds no space (SPEC 4.2).
    assert kinds(state, 1)[-1] == (it.RATION, 1, 1)
    assert len(inventory(state, 1)) == 12
    assert count(state, "HARVEST_ITEM")[0] == 1
    np.testing.assert_array_equal(column(state, "prospecting_exp")[:1], [15])


def test_a_fish_tile_shared_by_two_players_goes_to_the_lower_id():
    # Fish A (1, 1) touches players 1 (W of it) and 2 (E of it); fish B (1, 3) only player 2.
    # Fish C (4, 2) touches player 3 (N of it) and player 4 (E of it).
    cfg, state = build(
        """
        . . . . .
        1 x 2 x .
        . . . . .
        . . 3 . .
        . . x 4 .
        """,
        **STILL,
    )
    _, state = run(cfg, state)
    # 1 takes A; 2 still has B: a Ration each (2's harvest depletes B). 3 takes C; 4 gets nothing.
    assert [kinds(state, pid) for pid in range(1, 5)] == [[(it.RATION, 1, 1)]] * 3 + [[]]
    np.testing.assert_array_equal(column(state, "fishing_exp"), [30, 30, 30, 0])
    for row, col in ((1, 1), (1, 3), (4, 2)):
        assert shown(cfg, state, row, col) == m.OCEAN


# --- a full inventory (SPEC 4.1, 4.2, 7.2)


def test_full_inventory_still_grants_xp_and_frees_the_drop_id():
    cfg, state = build(". o .", players={1: dict(row=0, col=1)}, **STILL)
    for _ in range(12):
        state = scenario.give(state, cfg, 1, it.POTION)  # ids 1..12
    _, state = run(cfg, state)
    # The harvest happens (the tile depletes, 15 XP), the drop is destroyed: no HARVEST_ITEM.
    assert shown(cfg, state, 0, 1) == m.SLAG
    assert column(state, "prospecting_exp")[0] == 15
    assert kinds(state, 1) == [(it.POTION, 1, 1)] * 12
    assert [r["id"] for r in inventory(state, 1)] == list(range(1, 13))
    assert count(state, "HARVEST_ITEM")[0] == 0
    assert harvested(state, it.WHETSTONE)[0] == 0
    # The drop took id 13 and gave it back: the queue is 14, ..., 99, then 13 (SPEC 7.2).
    _, ids = it.allocate(state.inventory.ids, jnp.ones((87,), bool))
    np.testing.assert_array_equal(np.asarray(ids), list(range(14, 100)) + [13])


def test_full_inventory_ammunition_does_not_merge_into_its_stack():
    cfg, state = build(
        "o . o",
        players={1: dict(row=0, col=0), 2: dict(row=0, col=2)},
        **STILL,
    )
    # Both hold a stack of 3 level-1 Whetstones; 1 also holds 11 Potions (full), 2 holds 10.
    for pid, potions in ((1, 11), (2, 10)):
        state = scenario.give(state, cfg, pid, it.WHETSTONE, 1, quantity=3)
        for _ in range(potions):
            state = scenario.give(state, cfg, pid, it.POTION)
    _, state = run(cfg, state)
    # SPEC 4.2: the free-slot check comes first, so 1's drop is destroyed although it matches the
    # stack; 2 has a free slot, so its drop merges (3 + 1 = 4) without taking the slot.
    assert kinds(state, 1)[0] == (it.WHETSTONE, 1, 3)
    assert kinds(state, 2)[0] == (it.WHETSTONE, 1, 4)
    assert [len(inventory(state, pid)) for pid in (1, 2)] == [12, 11]
    np.testing.assert_array_equal(count(state, "HARVEST_ITEM")[:2], [0, 1])
    np.testing.assert_array_equal(column(state, "prospecting_exp")[:2], [15, 15])


def test_ammunition_stacks_merge_only_by_type_and_level():
    cfg, state = build(
        "o . o . o",
        players={1: dict(row=0, col=0), 2: dict(row=0, col=2), 3: dict(row=0, col=4)},
        **STILL,
    )
    # 1: Whetstone level 1 and a Pickaxe level 1 equipped: its drop is a level-2 Whetstone.
    # 2: Whetstone level 1, no tool: its level-1 drop merges. 3: Arrows level 1: no merge.
    state = scenario.give(state, cfg, 1, it.WHETSTONE, 1)  # id 1
    state = scenario.give(state, cfg, 1, it.PICKAXE, 1, equipped=True)  # id 2
    state = scenario.give(state, cfg, 2, it.WHETSTONE, 1)  # id 3
    state = scenario.give(state, cfg, 3, it.ARROW, 1)  # id 4
    _, state = run(cfg, state)
    # Drops take ids 5, 6, 7 in player order; 2's (6) is merged and destroyed.
    assert kinds(state, 1) == [(it.WHETSTONE, 1, 1), (it.PICKAXE, 1, 1), (it.WHETSTONE, 2, 1)]
    assert [r["id"] for r in inventory(state, 1)] == [1, 2, 5]
    assert kinds(state, 2) == [(it.WHETSTONE, 1, 2)]
    assert [r["id"] for r in inventory(state, 2)] == [3]
    assert kinds(state, 3) == [(it.ARROW, 1, 1), (it.WHETSTONE, 1, 1)]
    assert [r["id"] for r in inventory(state, 3)] == [4, 7]
    np.testing.assert_array_equal(count(state, "HARVEST_ITEM")[:3], [1, 1, 1])


# --- the weapon entry of the drop tables (SPEC 4.2)


def test_weapon_drops_at_probability_one_come_at_the_drop_level():
    cfg, state = build(
        "o . t . c . h",
        players={pid: dict(row=0, col=2 * (pid - 1)) for pid in range(1, 5)},
        **WEAPONS,
    )
    state = scenario.give(state, cfg, 1, it.PICKAXE, 1, equipped=True)  # id 1
    state = scenario.give(state, cfg, 2, it.AXE, 2, equipped=True)  # id 2
    _, state = run(cfg, state)
    # Players in id order, each its table's entries in order (primary, then weapon): ids 3, 4
    # (player 1), 5, 6 (player 2), 7, 8 (player 3), 9 (player 4: herbs have no weapon entry).
    got = [
        [(r["id"], r["type_id"], r["level"]) for r in inventory(state, pid)] for pid in range(1, 5)
    ]
    assert got == [
        [(1, it.PICKAXE, 1), (3, it.WHETSTONE, 2), (4, it.WAND, 2)],  # min(1 + 1, 10) = 2
        [(2, it.AXE, 2), (5, it.ARROW, 3), (6, it.SPEAR, 3)],  # min(1 + 2, 10) = 3
        [(7, it.RUNES, 1), (8, it.BOW, 1)],
        [(9, it.POTION, 1)],
    ]
    # Weapon attack 5 + 5 L: Wand L2 mage 15, Spear L3 melee 20, Bow L1 range 10 (SPEC 7.1).
    assert inventory(state, 1)[2]["mage_attack"] == 15
    assert inventory(state, 2)[2]["melee_attack"] == 20
    assert inventory(state, 3)[1]["range_attack"] == 10
    np.testing.assert_array_equal(count(state, "HARVEST_ITEM"), [2, 2, 2, 1])
    np.testing.assert_array_equal(harvested(state, it.WAND, 2), [1, 0, 0, 0])
    np.testing.assert_array_equal(harvested(state, it.SPEAR, 3), [0, 1, 0, 0])
    np.testing.assert_array_equal(harvested(state, it.BOW), [0, 0, 1, 0])
    # XP is per harvest, not per drop.
    np.testing.assert_array_equal(column(state, "prospecting_exp"), [15, 0, 0, 0])
    np.testing.assert_array_equal(column(state, "carving_exp"), [0, 15, 0, 0])
    np.testing.assert_array_equal(column(state, "alchemy_exp"), [0, 0, 15, 0])
    np.testing.assert_array_equal(column(state, "herbalism_exp"), [0, 0, 0, 30])


def test_weapon_drop_takes_no_slot_when_the_primary_filled_the_inventory():
    cfg, state = build(". o .", players={1: dict(row=0, col=1)}, **WEAPONS)
    for _ in range(11):
        state = scenario.give(state, cfg, 1, it.POTION)  # ids 1..11
    _, state = run(cfg, state)
    # The Whetstone (id 12) takes the last slot; the Wand (id 13) finds none and is destroyed.
    assert kinds(state, 1)[-1] == (it.WHETSTONE, 1, 1)
    assert len(inventory(state, 1)) == 12
    assert count(state, "HARVEST_ITEM")[0] == 1
    assert harvested(state, it.WAND)[0] == 0
    # The queue: 14, ..., 99, then 13; after that the table doubles and 100 comes next.
    _, ids = it.allocate(state.inventory.ids, jnp.ones((88,), bool))
    np.testing.assert_array_equal(np.asarray(ids), list(range(14, 100)) + [13, 100])


def test_no_weapon_drops_at_probability_zero():
    cfg, state = build(
        "o . t . c",
        players={1: dict(row=0, col=0), 2: dict(row=0, col=2), 3: dict(row=0, col=4)},
        **REGROW,
    )
    _, state = run(cfg, state, steps=10)
    # 10 harvests each (p = 1 regrowth), all merged into one stack; never a weapon.
    assert kinds(state, 1) == [(it.WHETSTONE, 1, 10)]
    assert kinds(state, 2) == [(it.ARROW, 1, 10)]
    assert kinds(state, 3) == [(it.RUNES, 1, 10)]


def test_no_weapon_drops_without_the_equipment_system():
    cfg, state = build(
        "o . t . c",
        players={1: dict(row=0, col=0), 2: dict(row=0, col=2), 3: dict(row=0, col=4)},
        **dict(WEAPONS, equipment_system_enabled=False),
    )
    _, state = run(cfg, state)
    assert [kinds(state, pid) for pid in (1, 2, 3)] == [
        [(it.WHETSTONE, 1, 1)],
        [(it.ARROW, 1, 1)],
        [(it.RUNES, 1, 1)],
    ]


# --- system switches (SPEC 1.3, 1.4)

SWITCH_MAP = """
x . o .
1 . . .
"""
SWITCH_PLAYERS = {2: dict(row=0, col=2)}


def test_no_harvest_without_the_profession_system():
    cfg, state = build(SWITCH_MAP, SWITCH_PLAYERS, **dict(STILL, profession_system_enabled=False))
    _, state = run(cfg, state)
    assert kinds(state, 1) == [] and kinds(state, 2) == []
    assert shown(cfg, state, 0, 0) == m.FISH and shown(cfg, state, 0, 2) == m.ORE
    np.testing.assert_array_equal(column(state, "fishing_exp")[:2], [0, 0])
    np.testing.assert_array_equal(column(state, "prospecting_exp")[:2], [0, 0])
    assert count(state, "HARVEST_ITEM").sum() == 0


def test_items_but_no_xp_without_the_progression_system():
    cfg, state = build(SWITCH_MAP, SWITCH_PLAYERS, **dict(REGROW, progression_system_enabled=False))
    _, state = run(cfg, state, steps=6)
    # Six harvests each; without progression no XP, levels stay 1, no LEVEL_UP.
    assert kinds(state, 1) == [(it.RATION, 1, 1)] * 6
    assert kinds(state, 2) == [(it.WHETSTONE, 1, 6)]
    np.testing.assert_array_equal(column(state, "fishing_exp")[:2], [0, 0])
    np.testing.assert_array_equal(column(state, "prospecting_exp")[:2], [0, 0])
    np.testing.assert_array_equal(column(state, "fishing_level")[:2], [1, 1])
    np.testing.assert_array_equal(column(state, "prospecting_level")[:2], [1, 1])
    assert count(state, "LEVEL_UP").sum() == 0


def test_no_inventory_change_without_the_item_system():
    rules = dict(
        STILL,
        item_system_enabled=False,
        equipment_system_enabled=False,
        profession_system_enabled=False,
        exchange_system_enabled=False,
    )
    cfg, state = build(SWITCH_MAP, SWITCH_PLAYERS, **rules)
    before = np.asarray(state.inventory.slots)
    obs, state = run(cfg, state, steps=2)
    np.testing.assert_array_equal(np.asarray(state.inventory.slots), before)
    assert not np.asarray(obs.inventory).any()
    assert count(state, "HARVEST_ITEM").sum() == 0
    assert shown(cfg, state, 0, 2) == m.ORE


# --- regrowth at the real probabilities (SPEC 1.3 Profession, 2.1)

# 8 columns: fish (row 0) next to the players on herbs (row 1), then a row each of ore, tree and
# crystal with a player on every tile: 32 players, 8 tiles of each material.
REGROWTH_MAP = """
x x x x x x x x
h h h h h h h h
o o o o o o o o
t t t t t t t t
c c c c c c c c
"""
REGROWTH_ROWS = {m.FISH: 0, m.HERB: 1, m.ORE: 2, m.TREE: 3, m.CRYSTAL: 4}
DEFAULT = nj.Config()
REGROWTH_P = {
    m.HERB: DEFAULT.profession_herb_respawn,  # 0.02
    m.ORE: DEFAULT.profession_ore_respawn,  # 0.10
    m.TREE: DEFAULT.profession_tree_respawn,  # 0.105
    m.CRYSTAL: DEFAULT.profession_crystal_respawn,  # 0.10
    m.FISH: DEFAULT.profession_fish_respawn,  # 0.02
}
REGROWTH_EPISODES, REGROWTH_STEPS = 32, 320


def test_regrowth_delay_is_geometric_with_the_profession_probability():
    players = {8 * (r - 1) + c + 1: dict(row=r, col=c) for r in range(1, 5) for c in range(8)}
    cfg, state0 = scenario.build(REGROWTH_MAP, players)  # the default probabilities
    assert cfg.player_n == 32
    b = cfg.map_border
    rows = jnp.repeat(jnp.arange(5), 8) + b
    cols = jnp.tile(jnp.arange(8), 5) + b
    env = nj.Env(cfg)
    noop = env.noop_actions

    @jax.jit
    def rollout(key):
        def body(state, t):
            state = env.step(jax.random.fold_in(key, t), state, noop)[1]
            return state, material(state.tiles, state.tick)[rows, cols]

        return jax.lax.scan(body, state0, jnp.arange(REGROWTH_STEPS))[1]

    base = np.asarray(state0.tiles.base[rows, cols])
    # Every tile is harvested in step 1 (tick 0). A tile's delay is the first step k after
    # which it shows its base material again; the first roll is at the end of step 1, so
    # P(k) = (1 - p)^(k - 1) p on {1, 2, ...}: mean 1 / p (SPEC 2.1).
    history = [rollout(jax.random.key(1000 + episode)) for episode in range(REGROWTH_EPISODES)]
    delays = []
    for shown_now in jax.device_get(history):
        regrown = shown_now == base  # [steps, 40]
        assert not regrown[0].all()  # harvested in step 1, so not all back at once
        delays.append(np.where(regrown.any(axis=0), regrown.argmax(axis=0) + 1, 0))  # 0: censored
    delays = np.stack(delays)  # [episodes, 40]

    for material_id, p in REGROWTH_P.items():
        row = REGROWTH_ROWS[material_id]
        d = delays[:, 8 * row : 8 * row + 8].reshape(-1)  # 256 tiles
        # Each step is one regrowth roll; a censored tile contributes REGROWTH_STEPS failed
        # rolls. p_hat = regrowths / rolls, so the mean delay 1 / p_hat is (sum of delays) /
        # (number regrown) when nothing is censored.
        regrowths = int((d > 0).sum())
        rolls = int(np.where(d > 0, d, REGROWTH_STEPS).sum())
        mean_delay = rolls / regrowths
        name = m.NAMES[material_id]
        # Geometric: sd = sqrt(1 - p) / p; standard error of the mean over the tiles.
        for q, close in ((p, True), (2 * p, False), (p / 2, False), (p * p, False)):
            se = np.sqrt(1 - q) / q / np.sqrt(regrowths)
            assert (abs(mean_delay - 1 / q) < 4 * se) == close, (name, q, mean_delay, 1 / q, se)
        # The same-step regrowth (k = 1) happens with probability p: tiles can show again in
        # the observation of the harvest step.
        same_step = (d == 1).mean()
        se = np.sqrt(p * (1 - p) / d.size)
        assert abs(same_step - p) < 4 * se + 1e-9, (name, same_step, p)
