"""Every built-in predicate of SPEC 14.3, with values worked out by hand from its table.

The world (helpers.py): C = map_center = 16, B = map_border = 8, S = map_size = 32; the centre
tile is (S//2, S//2) = (16, 16); positions are state coordinates. Six player slots (ids 1..6),
each its own team unless a test says otherwise. Task i of a call is assigned to player i + 1;
the subject is written out (`Group([...])`) unless a case says "assignee".

Dead-member rules (SPEC 14.3): entity- and item-based predicates see only alive members (a
dead member's row is gone), event-based predicates count every event of the episode of every
member (dead or alive), observation-based ones keep a dead member's last live view.

One compiled `engine.evaluate` (every built-in traced) serves the whole module; a second, with
cfg.seize_center and only the seize predicates, serves the seize tests.
"""

import jax.numpy as jnp
import numpy as np
from helpers import (
    Evaluator,
    add_events,
    add_gold,
    add_hits,
    add_item_event,
    add_kill,
    player,
    set_entity,
    world,
)

from nmmo_jax import events, scenario
from nmmo_jax import items as it
from nmmo_jax.systems import seize
from nmmo_jax.task import REGISTRY, Group, P
from nmmo_jax.task.predicates import predicate_id

CFG, _ = world({})
EV = Evaluator(CFG)
DEAD = dict(alive=False, health=0)


def values(state, *exprs, memory=None):
    return EV.values(state, *exprs, memory=memory)


def check(state, *cases, memory=None):
    """cases: (expression, expected value) pairs, evaluated in one call."""
    got = values(state, *[expr for expr, _ in cases], memory=memory)
    np.testing.assert_allclose(got, [want for _, want in cases], rtol=1e-6, atol=1e-6)


def test_every_builtin_predicate_of_the_spec_is_registered():
    names = (
        "Success TickGE CanSeeTile StayAlive AllDead CheckAgentStatus OccupyTile CanSeeAgent "
        "CanSeeGroup DistanceTraveled AttainSkill GainExperience CountEvent ScoreHit "
        "DefeatEntity HoardGold EarnGold SpendGold MakeProfit InventorySpaceGE OwnItem "
        "EquipItem FullyArmed ConsumeItem HarvestItem FireAmmo ListItem BuyItem "
        "ProgressTowardCenter AllMembersWithinRange SeizeTile SeizeCenter SeizeQuadCenter "
        "ProtectLeader"
    ).split()
    assert list(REGISTRY)[: len(names)] == names


# --- Success, TickGE, ProtectLeader: the tick and the horizon (1024)


def test_success_and_tick_ge():
    _, state = world({1: player(10, 10)}, tick=3)
    check(
        state,
        (P.Success(), 1.0),
        (P.TickGE(num_tick=4), 0.75),  # tick / num_tick = 3 / 4
        (P.TickGE(num_tick=2), 1.0),  # 3 / 2 = 1.5, clamped to 1
        (P.TickGE(), 3 / 1024),  # num_tick None -> HORIZON = 1024
    )


def test_protect_leader_is_tick_over_horizon_while_the_leader_lives():
    _, state = world({1: player(10, 10), 2: player(11, 11), 3: player(12, 12, **DEAD)}, tick=256)
    check(
        state,
        (P.ProtectLeader(Group(1), Group(2), Group(4)), 0.25),  # leader 2 alive: 256 / 1024
        (P.ProtectLeader(Group(1), Group(3), Group(4)), 0.0),  # leader 3 dead
    )


# --- alive and dead: StayAlive, AllDead, CheckAgentStatus


def test_stay_alive_all_dead_and_agent_status():
    _, state = world({1: player(10, 10), 2: player(11, 11), 3: player(12, 12, **DEAD)})
    check(
        state,
        (P.StayAlive(Group([1, 2])), 1.0),
        (P.StayAlive(Group([1, 2, 3])), 0.0),  # 2 of 3 alive
        (P.AllDead(Group([1, 2, 3])), 1 - 2 / 3),  # fraction dead: 1 - alive / len
        (P.AllDead(Group([3, 4])), 1.0),  # 4 is a dead placeholder too
        (P.AllDead(Group([1, 2])), 0.0),
        # the target's share alive / dead; the subject (1) plays no part
        (P.CheckAgentStatus(Group(1), Group([2, 3, 4]), "alive"), 1 / 3),
        (P.CheckAgentStatus(Group(1), Group([2, 3, 4]), "dead"), 2 / 3),
        (P.CheckAgentStatus(Group(1), Group([1, 2]), "alive"), 1.0),
    )


def test_stay_alive_defaults_to_the_assignee():
    _, state = world({1: player(10, 10), 2: player(11, 11, **DEAD)})
    # subject left out = the player whose row it is: player 1 alive, player 2 dead
    check(state, (P.StayAlive(), 1.0), (P.StayAlive(), 0.0))


# --- positions: OccupyTile, DistanceTraveled, ProgressTowardCenter, AllMembersWithinRange


def test_occupy_tile_counts_alive_members_only():
    _, state = world({1: player(10, 10), 2: player(12, 12, **DEAD)})
    check(
        state,
        (P.OccupyTile(Group([1, 2]), 10, 10), 1.0),
        (P.OccupyTile(Group([1, 2]), 10, 11), 0.0),
        (P.OccupyTile(Group([1, 2]), 12, 12), 0.0),  # only the dead member stands there
    )


def test_distance_traveled_sums_alive_members_linf_from_spawn():
    _, state = world({1: player(10, 10), 2: player(20, 20), 3: player(12, 12)})
    # spawns are the built positions; now 1 is at (13, 11): L-inf 3; 2 at (20, 22): 2;
    # 3 moved 9 but is dead (not counted)
    state = set_entity(state, 1, row=13, col=11)
    state = set_entity(state, 2, col=22)
    state = set_entity(state, 3, row=21, alive=False, health=0)
    check(
        state,
        (P.DistanceTraveled(Group([1, 2, 3]), 10), 0.5),  # (3 + 2) / 10
        (P.DistanceTraveled(Group([1, 2]), 4), 1.0),  # 5 / 4 clamped
        (P.DistanceTraveled(Group(3), 1), 0.0),  # no member alive
    )


def test_progress_toward_center():
    _, state = world({1: player(13, 16), 2: player(15, 14), 3: player(8, 8), 4: player(16, 16)})
    state = set_entity(state, 4, alive=False, health=0)
    # 1 - L-inf(member, (S//2, S//2)) / (S//2 - B), with S//2 = 16 and S//2 - B = 8
    check(
        state,
        (P.ProgressTowardCenter(Group(1)), 1 - 3 / 8),
        (P.ProgressTowardCenter(Group(3)), 0.0),  # at the corner of the map: 8 / 8
        # two alive members: the closest (ours; the reference raises, DEVIATIONS): 2 away
        (P.ProgressTowardCenter(Group([1, 2])), 1 - 2 / 8),
        # a dead member on the centre does not count
        (P.ProgressTowardCenter(Group([3, 4])), 0.0),
        (P.ProgressTowardCenter(Group(4)), 0.0),  # nobody alive
    )


def test_all_members_within_range_three_members_by_hand():
    positions = {1: player(10, 10), 2: player(12, 10), 3: player(14, 16), 4: player(23, 23)}
    _, state = world(positions)
    state = set_entity(state, 4, alive=False, health=0)  # a dead member far away: ignored
    # rows 10, 12, 14 (span 4), cols 10, 10, 16 (span 6): span = 6.
    # rows: mean 12, population variance (4 + 0 + 4) / 3 = 8/3; cols: mean 12, (4 + 4 + 16)/3 = 8
    # with dist = 3 and C = 16:
    #   (C - span) / (C - dist) = 10/13
    #   dist / max(3 std(rows), dist) = 3 / (3 sqrt(8/3)) = 1 / sqrt(8/3)   (3 std = 4.90 > 3)
    #   dist / max(3 std(cols), dist) = 3 / (3 sqrt(8)) = 1 / sqrt(8)       (3 std = 8.49 > 3)
    by_hand = (10 / 13 + 1 / np.sqrt(8 / 3) + 1 / np.sqrt(8)) / 3  # 0.5784
    group = Group([1, 2, 3, 4])
    check(
        state,
        (P.AllMembersWithinRange(group, 3), by_hand),
        (P.AllMembersWithinRange(group, 6), 1.0),  # span 6 <= 6
        (P.AllMembersWithinRange(group, -1), 0.0),  # dist < 0
        (P.AllMembersWithinRange(Group(4), 3), 0.0),  # nobody alive
        (P.AllMembersWithinRange(Group(1), 0), 1.0),  # one member: span 0 <= 0
    )


def test_all_members_within_range_std_floor_at_dist():
    _, state = world({1: player(10, 10), 2: player(10, 11), 3: player(10, 20)})
    # rows all 10 (span 0, std 0), cols 10, 11, 20: span 10 > dist 4, mean 41/3,
    # variance ((-11/3)^2 + (-8/3)^2 + (19/3)^2) / 3 = (121 + 64 + 361) / 27 = 546/27
    # row score: 4 / max(0, 4) = 1; col score 4 / (3 sqrt(546/27)); (C - 10)/(C - 4) = 6/12
    by_hand = (6 / 12 + 1 + 4 / (3 * np.sqrt(546 / 27))) / 3
    check(state, (P.AllMembersWithinRange(Group([1, 2, 3]), 4), by_hand))


# --- skills


def test_attain_skill():
    positions = {
        1: player(10, 10, fishing_level=3),
        2: player(11, 11, fishing_level=2),
        3: player(12, 12, fishing_level=10, **DEAD),
    }
    _, state = world(positions)
    check(
        state,
        # alive members: ((3 - 1) + (2 - 1)) / (num_agent 2 * (level 4 - 1)) = 3 / 6
        (P.AttainSkill(Group([1, 2, 3]), "Fishing", 4, 2), 0.5),
        (P.AttainSkill(Group([1, 2]), "Fishing", 2, 1), 1.0),  # 3 / 1 clamped
        (P.AttainSkill(Group(3), "Fishing", 5, 1), 0.0),  # the dead member's level is gone
        (P.AttainSkill(Group(3), "Fishing", 1, 1), 1.0),  # level <= 1: 1
        (P.AttainSkill(Group(1), "Fishing", 0, 0), 1.0),  # even with num_agent 0
        (P.AttainSkill(Group([1, 2]), "Herbalism", 3, 1), 0.0),  # herbalism level 0 here
    )


def test_gain_experience():
    positions = {
        1: player(10, 10, melee_exp=30),
        2: player(11, 11, melee_exp=50),
        3: player(12, 12, melee_exp=500, **DEAD),
    }
    _, state = world(positions)
    check(
        state,
        # alive members: (30 + 50) / (experience 100 * num_agent 2)
        (P.GainExperience(Group([1, 2, 3]), "Melee", 100, 2), 0.4),
        (P.GainExperience(Group(1), "Range", 100, 1), 0.0),
    )


# --- events: dead members' events still count


def test_count_event_and_score_hit_count_dead_members_events():
    _, state = world({1: player(10, 10), 2: player(11, 11, **DEAD)})
    state = add_events(state, 1, EAT_FOOD=2, DRINK_WATER=1)
    state = add_events(state, 2, EAT_FOOD=1)
    state = add_hits(add_hits(state, 1, 1, 2), 1, 2, 5)  # 1: 2 melee, 5 range hits
    state = add_hits(state, 2, 1, 1)  # 2 (dead): 1 melee hit
    check(
        state,
        (P.CountEvent(Group([1, 2]), "EAT_FOOD", 4), 0.75),  # (2 + 1) / 4
        (P.CountEvent(Group(2), "EAT_FOOD", 2), 0.5),  # the dead member alone
        (P.CountEvent(Group([1, 2]), "DRINK_WATER", 1), 1.0),
        (P.CountEvent(Group([1, 2]), "GIVE_GOLD", 1), 0.0),
        (P.ScoreHit(Group([1, 2]), "Melee", 6), 0.5),  # (2 + 1) / 6
        (P.ScoreHit(Group([1, 2]), "Range", 10), 0.5),  # 5 / 10
        (P.ScoreHit(Group([1, 2]), "Mage", 1), 0.0),
    )


def test_defeat_entity_by_victim_kind_and_level():
    _, state = world({1: player(10, 10), 2: player(11, 11, **DEAD)})
    state = add_kill(state, 1, npc=True, level=3)
    state = add_kill(state, 1, npc=True, level=1, count=2)
    state = add_kill(state, 1, npc=False, level=5)
    state = add_kill(state, 2, npc=True, level=4)  # the dead member's kill counts
    check(
        state,
        (P.DefeatEntity(Group([1, 2]), "npc", 3, 4), 0.5),  # NPCs of level >= 3: 1 + 1 of 4
        (P.DefeatEntity(Group([1, 2]), "npc", 1, 8), 0.5),  # all 4 NPC kills of 8
        (P.DefeatEntity(Group([1, 2]), "player", 1, 2), 0.5),  # one player kill of 2
        (P.DefeatEntity(Group([1, 2]), "player", 6, 1), 0.0),  # none of level >= 6
        (P.DefeatEntity(Group([1, 2]), "player", 6, 0), 1.0),  # num_agent <= 0: 1
        (P.DefeatEntity(Group([1, 2]), "npc", 9, -1), 1.0),
    )


def test_gold_predicates():
    positions = {1: player(10, 10, gold=3), 2: player(11, 11, gold=4), 3: player(12, 12, gold=90)}
    _, state = world(positions)
    state = set_entity(state, 3, alive=False, health=0)
    state = add_gold(state, 1, "EARN_GOLD", 5)
    state = add_gold(state, 3, "LOOT_GOLD", 3)  # a dead member's event: counts
    state = add_gold(state, 1, "BUY_ITEM", 4)
    state = add_gold(state, 2, "BUY_ITEM", 9)
    g = Group([1, 3])
    check(
        state,
        (P.HoardGold(Group([1, 2]), 10), 0.7),  # (3 + 4) / 10
        (P.HoardGold(Group([1, 2, 3]), 10), 0.7),  # the dead member's 90 gold are gone
        (P.HoardGold(Group([1, 2]), 5), 1.0),  # 7 / 5 clamped
        (P.EarnGold(g, 16), 0.5),  # (EARN 5 + LOOT 3) / 16
        (P.SpendGold(g, 16), 0.25),  # BUY 4 / 16
        (P.MakeProfit(g, 16), 0.25),  # (5 + 3 - 4) / 16
        (P.MakeProfit(Group(2), 16), 0.0),  # (0 - 9) / 16 < 0: clamped to 0
        (P.SpendGold(Group([1, 2]), 26), 0.5),  # (4 + 9) / 26
    )


def test_item_event_predicates_sum_number_at_level_or_above():
    _, state = world({1: player(10, 10), 2: player(11, 11, **DEAD)})
    for level in (1, 2, 3):
        state = add_item_event(state, 1, "HARVEST_ITEM", it.RATION, level, 1)
    state = add_item_event(state, 2, "HARVEST_ITEM", it.RATION, 2, 1)  # dead member: counts
    state = add_item_event(state, 1, "CONSUME_ITEM", it.POTION, 1, 1)
    # FIRE_AMMO's number is the quantity left after the shot (quirk): shots leaving 4, then 3
    state = add_item_event(state, 1, "FIRE_AMMO", it.ARROW, 1, 4)
    state = add_item_event(state, 1, "FIRE_AMMO", it.ARROW, 1, 3)
    state = add_item_event(state, 1, "LIST_ITEM", it.HAT, 2, 1)
    state = add_item_event(state, 2, "BUY_ITEM", it.HAT, 1, 1)
    g = Group([1, 2])
    check(
        state,
        (P.HarvestItem(g, "Ration", 2, 4), 0.75),  # levels >= 2: 1 (lvl 2) + 1 (lvl 3) + 1 (2)
        (P.HarvestItem(g, "Ration", 1, 8), 0.5),  # all 4
        (P.HarvestItem(g, "Potion", 1, 1), 0.0),  # another type
        (P.ConsumeItem(g, "Potion", 1, 2), 0.5),
        (P.FireAmmo(g, "Arrow", 1, 10), 0.7),  # (4 + 3) / 10
        (P.ListItem(g, "Hat", 2, 4), 0.25),
        (P.ListItem(g, "Hat", 3, 4), 0.0),  # listed at level 2 < 3
        (P.BuyItem(g, "Hat", 1, 2), 0.5),
    )


# --- items: alive members only


def _give(state, cfg, pid, item_type, level, quantity=1, equipped=False):
    return scenario.give(state, cfg, pid, item_type, level, quantity, equipped=equipped)


def test_own_item_and_inventory_space():
    cfg, state = world({1: player(10, 10), 2: player(11, 11), 3: player(12, 12)})
    state = _give(state, cfg, 1, it.ARROW, 2, quantity=3)
    state = _give(state, cfg, 1, it.ARROW, 1, quantity=5)
    state = _give(state, cfg, 2, it.ARROW, 3, quantity=4)
    state = _give(state, cfg, 3, it.ARROW, 5, quantity=10)
    state = _give(state, cfg, 1, it.RATION, 1)
    state = set_entity(state, 3, alive=False, health=0)
    check(
        state,
        # Arrows of level >= 2 among alive members: 3 (1) + 4 (2); the dead 3's 10 are gone
        (P.OwnItem(Group([1, 2, 3]), "Arrow", 2, 10), 0.7),
        (P.OwnItem(Group([1, 2]), "Arrow", 1, 24), 0.5),  # 3 + 5 + 4 = 12 of 24
        (P.OwnItem(Group(1), "Ration", 1, 4), 0.25),
        (P.OwnItem(Group(1), "Potion", 1, 1), 0.0),
        # capacity 12: player 1 holds 3 items (9 free), player 2 one (11 free)
        (P.InventorySpaceGE(Group([1, 2]), 9), 1.0),
        (P.InventorySpaceGE(Group([1, 2]), 10), 0.0),
        (P.InventorySpaceGE(Group(2), 11), 1.0),
    )


def test_equip_item_and_fully_armed():
    cfg, state = world({1: player(10, 10), 2: player(11, 11), 3: player(12, 12)})
    for item in (it.HAT, it.TOP, it.BOTTOM, it.BOW, it.ARROW):
        state = _give(state, cfg, 1, item, 2, equipped=True)  # 1: a full Range set at level 2
        state = _give(state, cfg, 3, item, 2, equipped=True)  # 3 too, but 3 is dead
        # 2: the same, but its bottom is level 1
        state = _give(state, cfg, 2, item, 1 if item == it.BOTTOM else 2, equipped=True)
    state = _give(state, cfg, 1, it.HAT, 3)  # not equipped
    state = set_entity(state, 3, alive=False, health=0)
    g = Group([1, 2, 3])
    check(
        state,
        (P.EquipItem(g, "Hat", 2, 4), 0.5),  # equipped Hats of level >= 2: 1's and 2's
        (P.EquipItem(g, "Hat", 3, 1), 0.0),  # the level-3 Hat is not equipped
        (P.EquipItem(g, "Bottom", 2, 2), 0.5),  # 2's Bottom is level 1
        (P.EquipItem(g, "Spear", 1, 0), 1.0),  # num_agent <= 0: 1
        (P.FullyArmed(g, "Range", 2, 2), 0.5),  # only 1 has all five at level >= 2
        (P.FullyArmed(g, "Range", 1, 4), 0.5),  # 1 and 2 at level >= 1 (3 is dead)
        (P.FullyArmed(g, "Melee", 1, 1), 0.0),  # no Spear and Whetstone
        (P.FullyArmed(g, "Mage", 1, 0), 1.0),  # num_agent <= 0: 1
    )


# --- seizing (no tile is held without cfg.seize_center): the approach value


def test_seize_approach_values_without_a_seize_target():
    # C // 2 = 8: SeizeTile = progress_bonus * (1 - min L-inf distance / 8), clamped
    _, state = world({1: player(13, 16), 2: player(16, 16), 3: player(11, 17), 4: player(8, 8)})
    check(
        state,
        (P.SeizeTile(Group(1), 16, 16, 10), 0.4 * (1 - 3 / 8)),  # default bonus 0.4
        (P.SeizeTile(Group(1), 12, 12, 10), 0.4 * (1 - 4 / 8)),
        (P.SeizeTile(Group(1), 16, 16, 10, 0.6), 0.6 * (1 - 3 / 8)),
        # standing on the centre tile does not hold it: nothing tracks it here
        (P.SeizeTile(Group(2), 16, 16, 10), 0.4),
        (P.SeizeTile(Group(4), 23, 23, 10), 0.0),  # 15 away: 0.4 (1 - 15/8) < 0, clamped
        (P.SeizeTile(Group([1, 4]), 8, 9, 10), 0.4 * (1 - 1 / 8)),  # the closest member
        (P.SeizeCenter(Group(1), 10), 0.3 * (1 - 3 / 8)),  # default bonus 0.3
        # quadrant centres, h = C // 4 = 4: first (20, 20), second (12, 20), third (12, 12),
        # fourth (20, 12); from (11, 17): 9, 3, 5, 9 away
        (P.SeizeQuadCenter(Group(3), 10, "first"), 0.0),  # 0.3 (1 - 9/8) < 0
        (P.SeizeQuadCenter(Group(3), 10, "second"), 0.3 * (1 - 3 / 8)),
        (P.SeizeQuadCenter(Group(3), 10, "third"), 0.3 * (1 - 5 / 8)),
    )
    # from (16, 16): every quadrant centre is 4 away
    check(state, (P.SeizeQuadCenter(Group(2), 10, "fourth"), 0.3 * (1 - 4 / 8)))


def test_seize_is_zero_without_an_alive_member():
    _, state = world({1: player(16, 16, **DEAD)})
    check(state, (P.SeizeTile(Group(1), 16, 16, 10), 0.0), (P.SeizeCenter(Group(1), 10), 0.0))


# --- the seize holder (cfg.seize_center: KingoftheHill's centre tile)

SEIZE = (predicate_id("SeizeTile"), predicate_id("SeizeCenter"), predicate_id("SeizeQuadCenter"))
TEAMS = (0, 0, 1, 2, 3, 4)  # players 1 and 2 are a team


def _seize_world(players, tick, npc_at=(20, 8)):
    npc = dict(row=npc_at[0] - 8, col=npc_at[1] - 8)
    return world(players, tick=tick, team=TEAMS, seize_center=True, npcs=[npc])


def _holder(state):
    return int(state.seize[0]), int(state.seize[1])


def _seize(state, cfg):
    """The seize rule (systems/seize.py) at the state's tick, as the step runs it."""
    return seize.update(state, cfg, state.tick)


def test_seize_holder_rules():
    # Tile.update_seize: exactly one entity on the centre tile, a player, not of the holder's
    # team, seizes it at the current tick (and logs SEIZE_TILE)
    far = player(10, 10)
    cfg, state = _seize_world({1: player(16, 16), 2: far, 3: far}, tick=5)
    assert _holder(state) == (0, 0)
    state = _seize(state, cfg)
    assert _holder(state) == (1, 5)  # 1 alone on the centre at tick 5
    seized = state.events.tick[:, events.EVENT_COLUMN[events.EVENT_CODES["SEIZE_TILE"]]]
    assert np.asarray(seized[:3]).tolist() == [1, 0, 0]

    # 1 leaves, its teammate 2 arrives: a teammate does not restart the clock
    state = set_entity(set_entity(state, 1, row=10), 2, row=16, col=16).replace(tick=9)
    assert _holder(_seize(state, cfg)) == (1, 5)

    # 2 and the foe 3 both on the tile: not alone, nothing changes
    state = set_entity(state, 3, row=16, col=16)
    assert _holder(_seize(state, cfg)) == (1, 5)

    # the foe 3 alone (2 left): 3 seizes at tick 9
    state = _seize(set_entity(state, 2, row=10), cfg)
    assert _holder(state) == (3, 9)
    # 3 dies on the tile at tick 12: a dead player is not there, and it keeps the hold
    dead = set_entity(state, 3, alive=False, health=0).replace(tick=12)
    assert _holder(_seize(dead, cfg)) == (3, 9)
    # then 1 (a foe of 3) alone on the tile takes it back at tick 12
    back = set_entity(dead, 1, row=16, col=16)
    assert _holder(_seize(back, cfg)) == (1, 12)


def test_npcs_neither_seize_nor_break_a_hold():
    cfg, state = _seize_world({1: player(10, 10), 3: player(10, 11)}, tick=4, npc_at=(16, 16))
    assert _holder(_seize(state, cfg)) == (0, 0)  # the NPC alone: nobody
    held = state.replace(seize=jnp.array([1, 2], jnp.int32))
    assert _holder(_seize(held, cfg)) == (1, 2)  # nor does it break 1's hold
    # the foe 3 joins the NPC: two entities on the tile, no seizure
    held = set_entity(held, 3, row=16, col=16)
    assert _holder(_seize(held, cfg)) == (1, 2)


def test_seized_values_through_evaluate():
    far = player(10, 10)
    cfg, state = _seize_world({1: player(16, 16), 2: far, 3: player(13, 16)}, tick=7)
    ev = Evaluator(cfg, used=SEIZE)
    g1, g2, g3 = Group(1), Group(2), Group(3)
    # the step that left 1 alone on the centre at tick 7 seizes it: held 0 ticks
    state = _seize(state, cfg)
    got = ev.values(
        state, P.SeizeCenter(g1, 10), P.SeizeTile(g1, 16, 16, 10), P.SeizeCenter(g3, 10)
    )
    # held: progress_bonus + seize_bonus + (1 - both) * held / num_ticks
    np.testing.assert_allclose(got, [0.3 + 0.3, 0.4 + 0.3, 0.3 * (1 - 3 / 8)], rtol=1e-6)
    assert _holder(state) == (1, 7)

    # tick 11, 1 has left (to (13, 16)): it still holds, 4 ticks long
    later = set_entity(state, 1, row=13).replace(tick=11)
    got = ev.values(
        later,
        P.SeizeCenter(g1, 10),  # 0.3 + 0.3 + 0.4 * 4/10
        P.SeizeTile(g1, 16, 16, 10),  # 0.4 + 0.3 + 0.3 * 4/10
        P.SeizeCenter(Group([2, 1]), 10),  # a group containing the holder holds
        P.SeizeCenter(g2, 10),  # the holder's teammate alone does not: approach, 6 away
        P.SeizeTile(g1, 13, 16, 10),  # another tile is never held: 0.4 (1 - 0/8)
        P.SeizeQuadCenter(g1, 10, "third"),  # (12, 12), 4 away: 0.3 (1 - 4/8)
        P.SeizeCenter(g1, 2),  # 0.6 + 0.4 * 4/2 = 1.4, clamped
    )
    want = [0.76, 0.82, 0.76, 0.3 * (1 - 6 / 8), 0.4, 0.15, 1.0]
    np.testing.assert_allclose(got, want, rtol=1e-6)

    # the holder dead: a group needs an alive member, and then holds through the dead holder
    dead = set_entity(later, 1, alive=False, health=0)
    got = ev.values(dead, P.SeizeCenter(g1, 10), P.SeizeCenter(Group([1, 2]), 10))
    np.testing.assert_allclose(got, [0.0, 0.76], rtol=1e-6)


# --- what members saw (views): CanSeeTile, CanSeeAgent, CanSeeGroup


def test_can_see_tile_agent_and_group():
    # vision radius 7: the 15x15 window of (10, 10) spans rows and cols 3..17 (water at (8, 8));
    # that of (23, 16) spans rows 16..30, cols 9..23 (the tree at (23, 23), no water)
    positions = {1: player(10, 10), 2: player(14, 14), 3: player(10, 20), 4: player(23, 16)}
    _, state = world(positions)
    check(
        state,
        (P.CanSeeTile(Group(1), "Water"), 1.0),
        (P.CanSeeTile(Group(4), "Water"), 0.0),
        (P.CanSeeTile(Group(4), "Tree"), 1.0),
        (P.CanSeeTile(Group([1, 4]), "Tree"), 1.0),  # any member
        (P.CanSeeTile(Group(1), "Ore"), 0.0),
        # 2 is 4 away from 1 (seen), 3 is 10 away (not seen)
        (P.CanSeeAgent(Group(1), Group(2)), 1.0),
        (P.CanSeeAgent(Group(1), Group(3)), 0.0),
        (P.CanSeeGroup(Group(1), Group([2, 3])), 1.0),
        (P.CanSeeGroup(Group(1), Group([3, 4])), 0.0),
        (P.CanSeeGroup(Group(1)), 0.0),  # target None: 0
        (P.CanSeeGroup(Group([1, 4]), Group(3)), 0.0),
    )


def test_dead_member_keeps_its_last_view():
    positions = {1: player(10, 10), 2: player(14, 14), 3: player(23, 16)}
    _, state = world(positions)
    exprs = (
        P.CanSeeTile(Group(1), "Water"),
        P.CanSeeAgent(Group(1), Group(2)),
        P.CanSeeTile(Group(3), "Water"),
    )
    got, memory = EV.values_and_memory(state, *exprs)
    np.testing.assert_array_equal(got, [1, 1, 0])

    # next step: 1 died (its row moved away, too) and 3 walked to (10, 12): 1's last live
    # view still shows the water and 2; 3's view is its current one
    later = set_entity(state, 1, alive=False, health=0, row=23, col=23)
    later = set_entity(later, 3, row=10, col=12)
    np.testing.assert_array_equal(values(later, *exprs, memory=memory), [1, 1, 1])
    # without the memory of the earlier step, the dead member has seen nothing
    np.testing.assert_array_equal(values(later, *exprs), [0, 0, 1])
    # a target that died is in nobody's current view: 3 (alive, 4 away from 2) no longer
    # sees it, since an alive member's view is always its current one
    gone = set_entity(later, 2, alive=False, health=0)
    check(gone, (P.CanSeeAgent(Group(3), Group(2)), 0.0), memory=memory)


def test_dead_member_keeps_its_last_inventory_space():
    cfg, state = world({1: player(10, 10), 2: player(11, 11)})
    for item in (it.HAT, it.TOP, it.BOTTOM):
        state = _give(state, cfg, 1, item, 1)
    space = P.InventorySpaceGE(Group([1, 2]), 10)
    # both alive: 1 has 12 - 3 = 9 free slots < 10
    got, memory = EV.values_and_memory(state, space)
    assert got.tolist() == [0.0]
    # 1 dies and its items are gone from the state: its last observation still shows 9 free
    dead = set_entity(state, 1, alive=False, health=0)
    dead = dead.replace(inventory=dead.inventory.replace(slots=dead.inventory.slots.at[0].set(0)))
    check(dead, (space, 0.0), (P.InventorySpaceGE(Group([1, 2]), 9), 1.0), memory=memory)


def test_stay_alive_and_all_dead_of_a_target_role_beyond_the_group_size():
    """SPEC 14.5: AllDead and StayAlive given a target read the target as their group, however
    large. Teams of 3 (ids 1-3, 4-6) with task_group_size 2: player 1's left team is 4-6, of
    which 5 and 6 are dead (slot 6 is a dead placeholder): AllDead = 1 - 1/3 = 2/3,
    StayAlive = 0; its right team is also 4-6 (two teams); player 4's left team 1-3, all alive
    (slot 3 alive): AllDead 0, StayAlive 1."""
    team = [0, 0, 0, 1, 1, 1]
    cfg, state = world(
        {
            1: player(10, 10),
            2: player(11, 11),
            3: player(12, 12),
            4: player(14, 14),
            5: player(15, 15, **DEAD),
        },
        team=team,
        task_group_size=2,
    )
    evaluator = Evaluator(cfg)
    tasks = [
        P.AllDead(target="left_team"),
        P.StayAlive(target="left_team"),
        P.AllDead(target="right_team"),
        P.AllDead(target="left_team"),
        P.StayAlive(target="left_team"),
    ]
    state_tasks = evaluator.start(state, tasks, team=jnp.asarray(team))
    _, _, info = evaluator.evaluate(state, state_tasks)
    np.testing.assert_allclose(info["progress"][:5], [2 / 3, 0.0, 2 / 3, 0.0, 1.0], atol=1e-6)
