"""Combat: the Attack action, damage, XP, combat status, death and loot, the Attack mask (SPEC
3.4, 5, 6.5, 12.3, 13.1, 14.6, 18.2-18.5).

Every expected value is worked out by hand from the SPEC; the arithmetic is in the comments.
Scenario drawings use the legend of nmmo_jax.scenario (`.` grass, `#` stone, digits players).
Every drawing fits the same 8 x 8 square with 4 player slots and 2 NPC slots and no NPC refill
(`npc_spawn_attempts=0`), so most scenarios share one compiled step.

Conventions of the numbers below (SPEC 5.3, 7.1):
* player offense with style S = 10 + 5 * (S level) + equipment (Spear L: 5 + 5 L, Whetstone L:
  5 + 10 L); a player target's defense = 5 * player level + equipment (armour 3 L, tools 15);
  an NPC target's defense = int(8 * lvl); damage = int(max(mult * offense - defense,
  0.25 * offense)), floored at 0.
* Players start a step by regenerating 10 health when food > 50 and water > 50 (SPEC 3.3): the
  players of these scenarios have food = water = 50 (HUNGRY), so their health only moves by hits
  (food and water then drop 5 a step, and nobody starves within 10 steps).
* Target heads take entity slots: player id i is slot i - 1, NPC k of the list is slot 4 + k;
  slot 6 (= n_entities) is the no-op.
"""

import functools

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from item_world import give, inventory

import nmmo_jax as nj
from nmmo_jax import items as it
from nmmo_jax import scenario
from nmmo_jax.events import GOLD_KEYS
from nmmo_jax.observe import observe
from nmmo_jax.state import ENTITY_COLUMNS

MELEE, RANGE, MAGE = 0, 1, 2
N, S, E, W, STAY = range(5)
N_PLAYERS, N_NPCS = 4, 2
N_ENTITIES = N_PLAYERS + N_NPCS
NOOP_TARGET = N_ENTITIES
NOOP_ITEM = 12  # the InventoryItem no-op index = ITEM_INVENTORY_CAPACITY
GEOMETRY = dict(map_center=8, map_size=24, player_n=N_PLAYERS, npc_n=N_NPCS)
RULES = dict(npc_spawn_attempts=0, weapon_drop_prob=0.0)
VETERAN = 25  # time_alive past the spawn immunity of 20
HUNGRY = dict(food=50, water=50)  # no health regeneration (needs food > 50 and water > 50)
LOOT_GOLD = GOLD_KEYS.index("LOOT_GOLD")
PASSIVE, NEUTRAL, HOSTILE = 1, 2, 3


def veteran(**columns):
    """A player past spawn immunity that does not regenerate."""
    return {"time_alive": VETERAN, **HUNGRY, **columns}


def npc_slot(k):
    return N_PLAYERS + k


# A passive NPC in a stone pocket (it cannot meander away, SPEC 6.3) at (1, 2), with players
# around it: 1 at (0, 0) and 2 at (2, 0) (Chebyshev 2 from the NPC), 3 at (4, 0) and 4 at (4, 4)
# (Chebyshev 3).
POCKET = """
1 . # . . . . .
. # . # . . . .
2 . # . . . . .
. . . . . . . .
3 . . . 4 . . .
"""
IN_POCKET = dict(row=1, col=2)


def build(drawing, players=None, npcs=None, tick=0, **rules):
    return scenario.build(drawing, players, tick, npcs, **GEOMETRY, **dict(RULES, **rules))


@functools.cache
def _compiled_step(cfg):
    return jax.jit(nj.Env(cfg).step)


def run(cfg, state, attacks=None, moves=None, use=None, steps=1):
    """`steps` jitted env steps with the same actions; `attacks` maps a player id to (target
    slot, style), `moves` to a direction, `use` to an Inventory row; no-ops elsewhere.
    Returns (obs, state, terminated, reward) of the last step."""
    env = nj.Env(cfg)
    n = cfg.player_n
    target = np.full(n, cfg.n_entities, np.int32)
    style = np.zeros(n, np.int32)
    move = np.full(n, STAY, np.int32)
    use_row = np.full(n, cfg.item_inventory_capacity, np.int32)
    for pid, (slot, s) in (attacks or {}).items():
        target[pid - 1], style[pid - 1] = slot, s
    for pid, d in (moves or {}).items():
        move[pid - 1] = d
    for pid, row in (use or {}).items():
        use_row[pid - 1] = row
    actions = env.actions(move=move, use=use_row, attack_style=style, attack_target=target)
    out = None
    for _ in range(steps):
        out = _compiled_step(cfg)(jax.random.key(int(state.tick)), state, actions)
        state = out[1]
    obs, state, reward, terminated, _, _ = out
    return obs, state, np.asarray(terminated), np.asarray(reward)


def col(state, name):
    return np.asarray(getattr(state.entities, name))


def count(state, name, episode=True):
    return np.asarray(state.events.count(name, episode=episode))


def looted(state, item_type, min_level=1):
    return np.asarray(state.events.item_number("LOOT_ITEM", item_type, min_level))


def kinds(state, pid):
    """sorted [(type_id, level, quantity, equipped)] of player `pid`'s items."""
    return sorted(
        (r["type_id"], r["level"], r["quantity"], r["equipped"]) for r in inventory(state, pid)
    )


# --- the damage formula (SPEC 5.3)


def test_level_1_melee_hit_without_gear_deals_10():
    cfg, state = build("1 2 . .", players={1: veteran(), 2: veteran()})
    obs, state, _, _ = run(cfg, state, attacks={1: (1, MELEE)})
    # offense 10 + 5 * 1 = 15, defense 5 * 1 = 5, all exps equal (mult 1): 15 - 5 = 10.
    assert col(state, "damage")[1] == 10
    assert col(state, "health")[:2].tolist() == [100, 90]  # 100 - 10; the attacker untouched
    assert count(state, "SCORE_HIT")[:N_ENTITIES].tolist() == [1, 0, 0, 0, 0, 0]
    assert count(state, "SCORE_HIT", episode=False)[0] == 1
    # SCORE_HIT's style: melee (type 1) in the per-style hit counts
    assert np.asarray(state.events.hits)[0].tolist() == [1, 0, 0]
    # the observation carries the same table (row s + 1 is slot s)
    assert int(obs.entities[2, ENTITY_COLUMNS.index("health")]) == 90


def test_spear_and_whetstone_against_hat_and_rod_and_the_ammunition_running_out():
    cfg, state = build("1 2 . .", players={1: veteran(), 2: veteran()})
    state = give(
        state,
        cfg,
        1,
        (it.SPEAR, 1, dict(equipped=True)),
        (it.WHETSTONE, 1, dict(quantity=3, equipped=True)),
    )
    state = give(state, cfg, 2, (it.HAT, 1, dict(equipped=True)), (it.ROD, 1, dict(equipped=True)))
    health, dealt, whetstones, fired, fired_number = [], [], [], [], []
    for _ in range(4):
        _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE)})
        health.append(int(col(state, "health")[1]))
        dealt.append(int(col(state, "damage")[1]))
        whetstones.append(
            [r["quantity"] for r in inventory(state, 1) if r["type_id"] == it.WHETSTONE]
        )
        fired.append(int(count(state, "FIRE_AMMO")[0]))
        fired_number.append(int(state.events.item_number("FIRE_AMMO", it.WHETSTONE)[0]))
    # hits 1-3: offense 15 + Spear L1 (5 + 5 = 10) + Whetstone L1 (5 + 10 = 15) = 40;
    # defense 5 + Hat L1 (3) + Rod (15) = 23; 40 - 23 = 17.
    # hit 4, the stack used up: offense 15 + 10 = 25; max(25 - 23, 0.25 * 25 = 6.25) -> 6.
    assert dealt == [17, 17, 17, 6]
    assert health == [83, 66, 49, 43]  # 100 - 17, 83 - 17, 66 - 17, 49 - 6
    # one unit fired per hit: 3 -> 2 -> 1 -> 0, and the empty stack is destroyed
    assert whetstones == [[2], [1], [], []]
    assert fired == [1, 2, 3, 3]  # no FIRE_AMMO without ammunition
    # FIRE_AMMO's number is the quantity left (SPEC 14.6, 18.5): 2, 2 + 1, 2 + 1 + 0
    assert fired_number == [2, 3, 3, 3]
    # the spear stays
    assert [r["type_id"] for r in inventory(state, 1)] == [it.SPEAR]


@pytest.mark.parametrize(
    "style, target_exp, expected",
    [
        # Mage beats Melee: 1.5 * 15 - 5 = 17.5 -> 17
        (MAGE, dict(melee_exp=10), 17),
        # Range beats Mage, not Melee: 15 - 5 = 10
        (RANGE, dict(melee_exp=10), 10),
        # Melee beats Range: 1.5 * 15 - 5 = 17.5 -> 17
        (MELEE, dict(range_exp=10), 17),
        # Range beats Mage: 17
        (RANGE, dict(mage_exp=10), 17),
        # Melee does not beat Mage: 10
        (MELEE, dict(mage_exp=10), 10),
        # a tie of melee and range exp: the first (melee) is dominant; Mage beats it: 17
        (MAGE, dict(melee_exp=10, range_exp=10), 17),
        (MELEE, dict(melee_exp=10, range_exp=10), 10),
        # all three exps equal: no dominant style, mult 1: 10
        (MAGE, dict(melee_exp=10, range_exp=10, mage_exp=10), 10),
    ],
)
def test_combat_triangle(style, target_exp, expected):
    # exp 10 < 90 keeps the target at level 1 (defense 5); the attacker's styles are level 1
    # (offense 15)
    cfg, state = build("1 2 . .", players={1: veteran(), 2: veteran(**target_exp)})
    _, state, _, _ = run(cfg, state, attacks={1: (1, style)})
    assert col(state, "damage")[1] == expected
    assert col(state, "health")[1] == 100 - expected


def test_minimum_damage_is_a_quarter_of_the_offense():
    # NPC lvl 3.4: defense int(8 * 3.4) = int(27.2) = 27
    cfg, state = build(POCKET, players={1: veteran()}, npcs=[dict(IN_POCKET, level=3, lvl=3.4)])
    _, state, _, _ = run(cfg, state, attacks={1: (npc_slot(0), MELEE)})
    # max(15 - 27, 0.25 * 15 = 3.75) -> 3
    assert col(state, "damage")[npc_slot(0)] == 3
    # the NPC regenerates first (100 + 1, capped at 100), then takes 3
    assert col(state, "health")[npc_slot(0)] == 97
    assert count(state, "SCORE_HIT")[0] == 1


# --- who can be hit (SPEC 5.1)


def test_reach_is_chebyshev_3():
    cfg, state = build(
        """
        1 . . . . . . 3
        . . . . . . . .
        . . . . . . . .
        . . . 2 . . . .
        . . . . . . . 4
        """,
        players={pid: veteran() for pid in (1, 2, 3, 4)},
    )
    # 1 (0, 0) -> 2 (3, 3): Chebyshev max(3, 3) = 3 (Manhattan 6): in reach.
    # 3 (0, 7) -> 4 (4, 7): Chebyshev 4: out of reach, the attack does not execute.
    _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE), 3: (3, MELEE)})
    assert count(state, "SCORE_HIT")[:4].tolist() == [1, 0, 0, 0]
    assert col(state, "melee_exp")[:4].tolist() == [6, 0, 0, 0]
    assert col(state, "latest_combat_tick")[:4].tolist() == [1, 1, 0, 0]
    assert col(state, "health")[:4].tolist() == [100, 90, 100, 100]
    assert col(state, "attacker_id")[:4].tolist() == [0, 1, 0, 0]
    assert col(state, "damage")[3] == 0


def test_spawn_immunity_protects_players_under_20_ticks_old_from_players_only():
    cfg, state = build(
        """
        1 2 . .
        . . . .
        . . . .
        . . . .
        3 4 . .
        """,
        players={
            # attackers are fresh: only the target's time_alive counts
            1: dict(time_alive=0, **HUNGRY),
            2: dict(time_alive=18, **HUNGRY),  # 19 after this step's update: immune
            3: dict(time_alive=0, **HUNGRY),
            4: dict(time_alive=19, **HUNGRY),  # 20 after the update: not immune
        },
    )
    _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE), 3: (3, MELEE)})
    assert col(state, "time_alive")[:4].tolist() == [1, 19, 1, 20]
    assert count(state, "SCORE_HIT")[:4].tolist() == [0, 0, 1, 0]
    assert col(state, "health")[:4].tolist() == [100, 100, 100, 90]
    assert col(state, "melee_exp")[:4].tolist() == [0, 0, 6, 0]
    assert col(state, "latest_combat_tick")[:4].tolist() == [0, 0, 1, 1]
    assert col(state, "attacker_id")[:4].tolist() == [0, 0, 0, 3]


def test_players_may_hit_npcs_from_their_first_step():
    cfg, state = build(POCKET, players={1: dict(HUNGRY)}, npcs=[dict(IN_POCKET)])
    _, state, _, _ = run(cfg, state, attacks={1: (npc_slot(0), MELEE)})
    # time_alive 1 for both; NPC lvl 1: defense 8; 15 - 8 = 7; 100 - 7 = 93
    assert count(state, "SCORE_HIT")[0] == 1
    assert col(state, "health")[npc_slot(0)] == 93
    assert col(state, "attacker_id")[npc_slot(0)] == 1


def test_self_attack_and_dead_targets_are_rejected():
    cfg, state = build(
        "1 2 3 .", players={1: veteran(), 2: veteran(alive=False, health=0), 3: veteran()}
    )
    # 1 targets itself (slot 0), 3 targets the dead player 2 (slot 1)
    _, state, _, _ = run(cfg, state, attacks={1: (0, MELEE), 3: (1, MELEE)})
    assert count(state, "SCORE_HIT")[:4].tolist() == [0, 0, 0, 0]
    assert col(state, "melee_exp")[:4].tolist() == [0, 0, 0, 0]
    assert col(state, "health")[[0, 2]].tolist() == [100, 100]


# --- the effects of an executed attack (SPEC 4.1, 5.4-5.6)


def test_six_xp_per_executed_attack_and_the_level_it_reaches():
    cfg, state = build("1 2 . .", players={1: veteran(melee_exp=84), 2: veteran()})
    _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE)})
    # damage uses the level before the XP: 15 - 5 = 10. exp 84 + 6 = 90 = the level-2 threshold.
    assert col(state, "damage")[1] == 10
    assert (col(state, "melee_exp")[0], col(state, "melee_level")[0]) == (90, 2)
    assert count(state, "LEVEL_UP")[0] == 1
    assert int(state.events.level_up[0, 0]) == 2  # skill 1 (melee), level 2
    _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE)})
    # melee level 2: offense 10 + 5 * 2 = 20; 20 - 5 = 15
    assert col(state, "damage")[1] == 15
    assert col(state, "melee_exp")[0] == 96  # 90 + 6
    _, state, _, _ = run(cfg, state, attacks={1: (1, RANGE)})
    # range level 1: offense 15; 15 - 5 = 10; 6 range XP, melee unchanged
    assert col(state, "damage")[1] == 10
    assert (col(state, "melee_exp")[0], col(state, "range_exp")[0]) == (96, 6)
    assert col(state, "health")[1] == 65  # 100 - 10 - 15 - 10
    assert count(state, "SCORE_HIT")[0] == 3
    assert count(state, "LEVEL_UP")[0] == 1
    assert np.asarray(state.events.hits)[0].tolist() == [2, 1, 0]
    # the target gains no XP
    assert [col(state, f"{s}_exp")[1] for s in ("melee", "range", "mage")] == [0, 0, 0]


def test_latest_combat_tick_is_the_tick_after_the_step_for_both():
    cfg, state = build("1 2 3 .", players={1: veteran(), 2: veteran(), 3: veteran()}, tick=5)
    _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE)})
    # realm.tick is 5 during the step: 5 + 1 = 6, for the attacker and the target only
    assert int(state.tick) == 6
    assert col(state, "latest_combat_tick")[:4].tolist() == [6, 6, 0, 0]
    _, state, _, _ = run(cfg, state)
    assert col(state, "latest_combat_tick")[:4].tolist() == [6, 6, 0, 0]  # no new fight


def test_attacker_id_lives_one_step_after_the_hit():
    cfg, state = build("1 2 3 .", players={1: veteran(), 2: veteran(), 3: veteran()})
    seen = []
    _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE), 3: (1, MELEE)})
    # both hit in step 1; 3 acts after 1, so its hit is the last: attacker_id 3, damage 10
    assert col(state, "health")[1] == 80  # 100 - 10 - 10
    assert col(state, "damage")[1] == 10
    seen.append(int(col(state, "attacker_id")[1]))
    for _ in range(2):
        _, state, _, _ = run(cfg, state)
        seen.append(int(col(state, "attacker_id")[1]))
    # step 2 starts with damage 10 (kept), step 3 with damage 0 (cleared)
    assert seen == [3, 3, 0]


def test_a_hit_of_zero_damage_clears_attacker_id_at_the_next_step():
    # with no base or level damage a player's offense is 0: int(max(0 - 5, 0.25 * 0)) = 0
    cfg, state = build(
        "1 2 . .",
        players={1: veteran(), 2: veteran()},
        progression_melee_base_damage=0,
        progression_melee_level_damage=0,
    )
    _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE)})
    # the attack executes (SCORE_HIT, XP, attacker_id, combat ticks) but deals 0
    assert count(state, "SCORE_HIT")[0] == 1
    assert col(state, "melee_exp")[0] == 6
    assert col(state, "health")[1] == 100
    assert col(state, "attacker_id")[1] == 1
    assert col(state, "latest_combat_tick")[:2].tolist() == [1, 1]
    _, state, _, _ = run(cfg, state)
    assert col(state, "attacker_id")[1] == 0  # step 2 started with damage 0


def test_combat_status_blocks_use_for_three_steps():
    cfg, state = build("1 2 . .", players={1: veteran(), 2: veteran()})
    for pid in (1, 2):
        state = give(state, cfg, pid, *[(it.POTION, 1)] * 5)
    consumed, use_allowed = [], []
    for k in range(1, 6):
        attacks = {1: (1, MELEE)} if k == 1 else None
        obs, state, _, _ = run(cfg, state, attacks=attacks, use={1: 0, 2: 0})
        consumed.append(count(state, "CONSUME_ITEM")[:2].tolist())
        use_allowed.append(np.asarray(obs.action_mask.use)[:2, :NOOP_ITEM].any(-1).tolist())
    # The attack of step 1 sets latest_combat_tick = 1 for both. Use (priority 10) of step 1 runs
    # before it: allowed. In step j (realm.tick j - 1) Use is blocked while (j - 1) - 1 < 3,
    # i.e. in steps 2, 3, 4; step 5 is free again.
    assert consumed == [[1, 1], [1, 1], [1, 1], [1, 1], [2, 2]]
    # The mask after step j reads CurrentTick j: in combat while j - 1 < 3 (after steps 1-3).
    assert use_allowed == [[False, False]] * 3 + [[True, True]] * 2


# --- order within a tick (SPEC 5.1, 13.1)


def test_mutual_kill_the_lower_id_acts_first():
    cfg, state = build(
        """
        1 2 . .
        . . . .
        """,
        players={1: veteran(health=10, gold=1), 2: veteran(health=10, gold=1)},
    )
    start = [(int(col(state, "row")[i]), int(col(state, "col")[i])) for i in (0, 1)]
    _, state, terminated, reward = run(
        cfg, state, attacks={1: (1, MELEE), 2: (0, MELEE)}, moves={1: S, 2: S}
    )
    # 1 acts first: 10 damage kills 2 (10 - 10 = 0); 2 neither attacks nor moves
    assert col(state, "alive")[:2].tolist() == [True, False]
    assert col(state, "health")[:2].tolist() == [10, 0]
    assert count(state, "SCORE_HIT")[:2].tolist() == [1, 0]
    assert col(state, "melee_exp")[:2].tolist() == [6, 0]
    assert count(state, "PLAYER_KILL")[:2].tolist() == [1, 0]
    assert (int(col(state, "row")[0]), int(col(state, "col")[0])) == (start[0][0] + 1, start[0][1])
    assert (int(col(state, "row")[1]), int(col(state, "col")[1])) == start[1]
    assert terminated[:2].tolist() == [False, True]
    assert reward[1] == -1.0
    assert col(state, "gold")[0] == 2  # 1 + the victim's 1


def test_a_second_attack_on_a_target_killed_this_tick_is_rejected():
    cfg, state = build(
        """
        1 2 . .
        . 3 . .
        """,
        players={1: veteran(), 2: veteran(health=10, gold=5), 3: veteran()},
    )
    _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE), 3: (1, MELEE)})
    assert not col(state, "alive")[1]
    assert count(state, "SCORE_HIT")[:3].tolist() == [1, 0, 0]
    assert col(state, "melee_exp")[:3].tolist() == [6, 0, 0]
    assert col(state, "latest_combat_tick")[:3].tolist() == [1, 1, 0]
    assert col(state, "gold")[[0, 2]].tolist() == [6, 1]  # 1 + 5 to the killer, 3 keeps 1
    assert count(state, "PLAYER_KILL")[:3].tolist() == [1, 0, 0]


# --- death and loot (SPEC 3.4, 6.5)


def test_a_player_killer_takes_the_gold_and_the_items_unequipped():
    cfg, state = build("1 2 . .", players={1: veteran(gold=1), 2: veteran(health=5, gold=7)})
    state = give(state, cfg, 1, (it.RATION, 1))  # id 1
    state = give(
        state,
        cfg,
        2,
        (it.HAT, 1, dict(equipped=True)),  # id 2
        (it.POTION, 1),  # id 3
        (it.ARROW, 2, dict(quantity=4, equipped=True)),  # id 4
    )
    _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE)})
    # defense 5 + Hat 3 = 8: 15 - 8 = 7 >= 5 health: killed
    assert not col(state, "alive")[1]
    assert col(state, "gold")[:2].tolist() == [8, 0]  # 1 + 7
    assert count(state, "LOOT_GOLD")[:2].tolist() == [1, 0]
    assert int(state.events.gold[0, LOOT_GOLD]) == 7
    assert count(state, "PLAYER_KILL")[:2].tolist() == [1, 0]
    # all three fit (1 + 3 <= 12): same ids, unequipped, owned by 1
    assert [r["id"] for r in inventory(state, 1)] == [1, 2, 3, 4]
    assert kinds(state, 1) == sorted(
        [(it.RATION, 1, 1, 0), (it.HAT, 1, 1, 0), (it.POTION, 1, 1, 0), (it.ARROW, 2, 4, 0)]
    )
    assert {r["owner_id"] for r in inventory(state, 1)} == {1}
    assert inventory(state, 2) == []
    assert count(state, "LOOT_ITEM")[:2].tolist() == [3, 0]
    # LOOT_ITEM's number is the quantity (an Arrow stack of 4)
    assert looted(state, it.HAT)[0] == 1
    assert looted(state, it.POTION)[0] == 1
    assert looted(state, it.ARROW, 2)[0] == 4
    assert looted(state, it.ARROW, 3)[0] == 0


def test_loot_merges_ammunition_and_destroys_what_does_not_fit():
    cfg, state = build("1 2 . .", players={1: veteran(), 2: veteran(health=10)})
    state = give(state, cfg, 1, (it.WHETSTONE, 1, dict(quantity=2)), *[(it.RATION, 1)] * 10)
    state = give(state, cfg, 2, (it.WHETSTONE, 1, dict(quantity=3)), (it.TOP, 1), (it.POTION, 1))
    _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE)})
    assert not col(state, "alive")[1]  # 15 - 5 = 10 >= 10
    rows = inventory(state, 1)
    # 11 items + 1 free slot: the whetstones merge into the stack (2 + 3 = 5, no slot, no
    # LOOT_ITEM); of the Top and the Potion one fits, the other is destroyed
    assert len(rows) == 12
    assert [r["quantity"] for r in rows if r["type_id"] == it.WHETSTONE] == [5]
    assert sum(r["type_id"] == it.RATION for r in rows) == 10
    extra = [r["type_id"] for r in rows if r["type_id"] in (it.TOP, it.POTION)]
    assert len(extra) == 1
    assert count(state, "LOOT_ITEM")[0] == 1
    assert looted(state, it.TOP)[0] + looted(state, it.POTION)[0] == 1
    assert looted(state, it.WHETSTONE)[0] == 0
    assert inventory(state, 2) == []


def test_killed_by_an_npc_the_npc_takes_the_gold_and_the_items_are_destroyed():
    cfg, state = build(
        "1 . . .",
        players={1: dict(HUNGRY, health=10, gold=7)},
        npcs=[dict(row=0, col=1, npc_type=HOSTILE, level=3, lvl=3.0)],
    )
    state = give(state, cfg, 1, (it.HAT, 1), (it.POTION, 1))
    _, state, terminated, _ = run(cfg, state)
    # the hostile NPC finds player 1 (Chebyshev 1, no immunity against NPCs) and hits it:
    # offense int(8 * 3.0) = 24, defense 5 (the Hat is not equipped): 24 - 5 = 19 >= 10
    assert not col(state, "alive")[0]
    assert terminated[0]
    assert col(state, "gold")[npc_slot(0)] == 10  # its own 3 (= level) + the player's 7
    assert count(state, "LOOT_GOLD")[npc_slot(0)] == 1
    assert int(state.events.gold[npc_slot(0), LOOT_GOLD]) == 7
    assert count(state, "PLAYER_KILL")[npc_slot(0)] == 1
    assert inventory(state, 1) == []
    assert count(state, "LOOT_ITEM").sum() == 0
    # NPCs log no SCORE_HIT
    assert count(state, "SCORE_HIT").sum() == 0


def test_a_player_killing_an_npc_gets_its_gold_and_two_drops_at_its_level():
    cfg, state = build(
        POCKET,
        players={1: veteran(gold=1)},
        npcs=[dict(IN_POCKET, level=3, lvl=3.0, health=2, drop_armor=it.TOP, drop_tool=it.PICKAXE)],
    )
    _, state, _, _ = run(cfg, state, attacks={1: (npc_slot(0), MELEE)})
    # NPC health 2 + 1 (its update) = 3; defense int(8 * 3.0) = 24: max(15 - 24, 3.75) -> 3
    assert not col(state, "alive")[npc_slot(0)]
    assert col(state, "gold")[0] == 4  # 1 + the NPC's gold 3 (= its level)
    assert count(state, "LOOT_GOLD")[0] == 1
    assert int(state.events.gold[0, LOOT_GOLD]) == 3
    assert count(state, "PLAYER_KILL")[0] == 1
    # victim is an NPC (index 1) of attack level 3
    assert int(state.events.kills[0, 1, 3]) == 1
    # the drop table: its armour and tool at its attack level 3, unequipped
    assert kinds(state, 1) == sorted([(it.TOP, 3, 1, 0), (it.PICKAXE, 3, 1, 0)])
    top = next(r for r in inventory(state, 1) if r["type_id"] == it.TOP)
    pickaxe = next(r for r in inventory(state, 1) if r["type_id"] == it.PICKAXE)
    assert top["melee_defense"] == 9  # 3 * 3
    assert pickaxe["melee_defense"] == 15  # tools: 15 at any level
    assert count(state, "LOOT_ITEM")[0] == 2
    assert looted(state, it.TOP, 3)[0] == 1
    assert looted(state, it.TOP, 4)[0] == 0
    assert looted(state, it.PICKAXE, 3)[0] == 1


@pytest.mark.parametrize("held, received", [(11, [it.TOP]), (12, [])])
def test_npc_drops_that_do_not_fit_are_destroyed(held, received):
    cfg, state = build(
        POCKET,
        players={1: veteran(gold=1)},
        npcs=[dict(IN_POCKET, level=1, health=1, drop_armor=it.TOP, drop_tool=it.AXE)],
    )
    state = give(state, cfg, 1, *[(it.RATION, 1)] * held)
    _, state, _, _ = run(cfg, state, attacks={1: (npc_slot(0), MELEE)})
    # NPC health 1 + 1 = 2; defense 8: 15 - 8 = 7: killed
    assert not col(state, "alive")[npc_slot(0)]
    # the armour comes first: 1 free slot takes it, the tool is destroyed; none with a full bag
    assert [r["type_id"] for r in inventory(state, 1) if r["type_id"] != it.RATION] == received
    assert count(state, "LOOT_ITEM")[0] == len(received)
    assert col(state, "gold")[0] == 2  # 1 + level 1: gold needs no space
    assert count(state, "LOOT_GOLD")[0] == 1


def test_health_never_goes_below_zero():
    cfg, state = build(
        POCKET, players={1: veteran(), 2: veteran(health=3)}, npcs=[dict(IN_POCKET, health=1)]
    )
    # 1 (0, 0) -> 2 (2, 0) at Chebyshev 2; 3 (4, 0) -> the NPC (1, 2) at Chebyshev 3
    _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE), 3: (npc_slot(0), MELEE)})
    # player 2: 3 - 10 -> 0, not -7; the NPC: 1 + 1 - 7 -> 0, not -5
    assert col(state, "health")[1] == 0
    assert col(state, "health")[npc_slot(0)] == 0
    assert not col(state, "alive")[1]
    assert not col(state, "alive")[npc_slot(0)]
    assert (col(state, "health") >= 0).all()


# --- immortal players (SPEC 1.2, 5.1)


def test_immortal_players_are_hit_but_take_no_damage():
    cfg, state = build(
        POCKET,
        players={1: veteran(), 2: veteran(health=50), 3: veteran()},
        npcs=[dict(IN_POCKET)],
        immortal=True,
    )
    _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE), 3: (npc_slot(0), MELEE)})
    # player 1 (0, 0) -> 2 (2, 0), Chebyshev 2: the attack executes (SCORE_HIT, XP, attacker_id,
    # combat ticks), but 2 keeps its 50 (no damage, and no regeneration for the immortal)
    assert count(state, "SCORE_HIT")[:3].tolist() == [1, 0, 1]
    assert col(state, "melee_exp")[[0, 2]].tolist() == [6, 6]
    assert col(state, "health")[1] == 50
    assert col(state, "attacker_id")[1] == 1
    assert col(state, "latest_combat_tick")[:2].tolist() == [1, 1]
    # NPCs are not immortal: 100 - (15 - 8) = 93
    assert col(state, "health")[npc_slot(0)] == 93
    _, state, _, _ = run(cfg, state, attacks={1: (1, MELEE)}, steps=3)
    assert col(state, "health")[1] == 50
    assert col(state, "alive")[1]


# --- the Attack mask (SPEC 12.3, 18.2)


def test_attack_mask_self_reach_immunity_npcs_and_the_noop():
    cfg, state = build(
        """
        1 . . 2 3 . . .
        . 4 . . . . . .
        . . . . . . . .
        """,
        players={1: veteran(), 2: veteran(), 3: veteran(), 4: veteran(time_alive=19)},
        npcs=[dict(row=2, col=2)],
    )
    obs = observe(state, cfg)
    mask = np.asarray(obs.action_mask.attack_target)
    assert mask.shape == (N_PLAYERS, N_ENTITIES + 1)
    F, T = False, True
    # slots: players 1-4, NPC 0 (2, 2), the empty NPC slot 5, the no-op
    expected = [
        # 1 (0, 0): self; 2 at 3; 3 at 4 (out); 4 at 1 but time_alive 19; the NPC at 2
        [F, T, F, F, T, F, F],
        # 2 (0, 3): 1 at 3; self; 3 at 1; 4 at 2 but 19; the NPC at max(2, 1) = 2
        [T, F, T, F, T, F, F],
        # 3 (0, 4): 1 at 4 (out); 2 at 1; self; 4 at 3 but 19; the NPC at 2
        [F, T, F, F, T, F, F],
        # 4 (1, 1), itself 19 ticks old: the mask checks the target's time_alive, not its own
        # (the Cython mask): 1 at 1, 2 at 2, 3 at 3, self, the NPC at 1
        [T, T, T, F, T, F, F],
    ]
    assert mask.tolist() == expected
    assert np.asarray(obs.action_mask.attack_style).tolist() == [[T, T, T]] * 4


def test_attack_mask_is_noop_only_without_a_valid_target():
    cfg, state = build(
        "1 . . . . . . 3",
        players={1: veteran(), 2: veteran(row=0, col=1, alive=False, health=0), 3: veteran()},
    )
    mask = np.asarray(observe(state, cfg).action_mask.attack_target)
    noop_only = [False] * N_ENTITIES + [True]
    # 1 (0, 0): 2 is dead, 3 at Chebyshev 7; 3 likewise; 2 is dead and 4 was never alive
    assert mask.tolist() == [noop_only] * 4
    assert np.asarray(observe(state, cfg).action_mask.attack_style)[[0, 2]].all()


def test_attack_mask_lags_the_immunity_rule_by_one_tick():
    cfg, state = build("1 2 . .", players={1: dict(), 2: dict()})
    for _ in range(19):
        obs, state, _, _ = run(cfg, state)
        # after step k both are k ticks old; the mask wants the target's observed >= 20
        assert not np.asarray(obs.action_mask.attack_target)[0, 1]
    assert col(state, "time_alive")[:2].tolist() == [19, 19]
    assert np.asarray(obs.action_mask.attack_target)[0, NOOP_TARGET]
    # step 20: the update makes the target 20 ticks old before the attack: it executes
    obs, state, _, _ = run(cfg, state, attacks={1: (1, MELEE)})
    assert count(state, "SCORE_HIT")[0] == 1
    # food 100 - 5 * 19 = 5 at the start of step 20: no regeneration (needs > 50), no
    # starvation (needs 0): 100 - 10 = 90
    assert col(state, "health")[1] == 90
    assert np.asarray(obs.action_mask.attack_target)[0, 1]
    assert not np.asarray(obs.action_mask.attack_target)[0, NOOP_TARGET]


# --- conservation by loot (SPEC 3.4, 6.5): hypothesis properties on small worlds

GRASS = "\n".join([". . . . . . . ."] * 8)
cell = st.integers(0, 7)


@st.composite
def fights(draw):
    players = {
        pid: dict(
            row=draw(cell),
            col=draw(cell),
            health=draw(st.integers(1, 40)),
            gold=draw(st.integers(0, 20)),
            time_alive=draw(st.integers(18, 25)),
        )
        for pid in range(1, N_PLAYERS + 1)
    }
    npcs = [
        dict(
            row=draw(cell),
            col=draw(cell),
            npc_type=draw(st.integers(1, 3)),
            style=draw(st.integers(0, 2)),
            level=draw(st.integers(1, 5)),
            health=draw(st.integers(1, 40)),
            gold=draw(st.integers(0, 20)),
        )
        for _ in range(draw(st.integers(0, N_NPCS)))
    ]
    attacks = {
        pid: (draw(st.integers(0, N_ENTITIES)), draw(st.integers(0, 2)))
        for pid in range(1, N_PLAYERS + 1)
    }
    return players, npcs, attacks


@settings(max_examples=25, deadline=None)
@given(fights())
def test_attacks_conserve_gold(fight):
    players, npcs, attacks = fight
    # food = water = 100 (default): no starvation, so every death has a killer, who takes the
    # gold (a killer killed later in the tick passes it on); the map is grass only (no harvest)
    cfg, state = build(GRASS, players=players, npcs=npcs)
    alive = col(state, "alive")
    before = int(col(state, "gold")[alive].sum())
    _, state, _, _ = run(cfg, state, attacks=attacks)
    alive_after = col(state, "alive")
    assert int(col(state, "gold")[alive_after].sum()) == before
    died = alive & ~alive_after
    assert (col(state, "gold")[died] == 0).all()


ITEM_SPECS = st.tuples(st.sampled_from(it.ITEM_TYPES), st.integers(1, 3), st.integers(1, 5))


def _unique_stacks(specs):
    """One stack per (ammunition type, level), quantity 1 for non-stackables."""
    seen, out = set(), []
    for item_type, level, quantity in specs:
        if item_type in it.AMMUNITION:
            if (item_type, level) in seen:
                continue
            seen.add((item_type, level))
        else:
            quantity = 1
        out.append((item_type, level, quantity))
    return out


@settings(max_examples=20, deadline=None)
@given(
    st.lists(ITEM_SPECS, max_size=12),
    st.lists(ITEM_SPECS, max_size=12),
    st.lists(st.booleans(), min_size=12, max_size=12),
    st.integers(1, 3),
    st.integers(0, 20),
    st.integers(0, 2),
)
def test_a_kill_moves_the_victims_items_minus_those_without_space(
    killer_specs, victim_specs, equip, victim_health, victim_gold, style
):
    killer_specs = _unique_stacks(killer_specs)
    victim_specs = _unique_stacks(victim_specs)
    cfg, state = build(
        "1 2 . .",
        players={1: veteran(gold=1), 2: veteran(health=victim_health, gold=victim_gold)},
    )
    # the killer's items stay unequipped (no ammunition fires); the victim equips at most one
    # item per equipment slot
    for item_type, level, quantity in killer_specs:
        state = scenario.give(state, cfg, 1, item_type, level, quantity)
    used = set()
    for (item_type, level, quantity), wants in zip(victim_specs, equip, strict=False):
        slot = int(it.EQUIPMENT_SLOT[item_type])
        equipped = wants and slot >= 0 and slot not in used
        used |= {slot} if equipped else set()
        state = scenario.give(state, cfg, 2, item_type, level, quantity, equipped)
    killer_before = {r["id"]: r for r in inventory(state, 1)}
    victim_before = inventory(state, 2)
    _, state, _, _ = run(cfg, state, attacks={1: (1, style)})
    # any hit deals >= int(0.25 * 15) = 3 >= the victim's health: it dies
    assert not col(state, "alive")[1]
    assert col(state, "gold")[0] == 1 + victim_gold

    stacks = {(r["type_id"], r["level"]): r["id"] for r in killer_before.values()}
    stacks = {k: v for k, v in stacks.items() if k[0] in it.AMMUNITION}
    merged = {}  # killer stack id -> quantity added
    whole = []
    for r in victim_before:
        key = (r["type_id"], r["level"])
        if key in stacks:
            merged[stacks[key]] = merged.get(stacks[key], 0) + r["quantity"]
        else:
            whole.append(r)
    space = 12 - len(killer_before)
    n_received = min(space, len(whole))

    after = {r["id"]: r for r in inventory(state, 1)}
    for item_id, r in killer_before.items():
        assert after[item_id]["quantity"] == r["quantity"] + merged.get(item_id, 0)
    new = [r for item_id, r in after.items() if item_id not in killer_before]
    assert len(new) == n_received
    by_id = {r["id"]: r for r in whole}
    for r in new:
        source = by_id[r["id"]]  # a received item keeps its id
        assert (r["type_id"], r["level"], r["quantity"]) == (
            source["type_id"],
            source["level"],
            source["quantity"],
        )
        assert r["equipped"] == 0
        assert r["owner_id"] == 1
    assert inventory(state, 2) == []
    assert count(state, "LOOT_ITEM")[0] == n_received
