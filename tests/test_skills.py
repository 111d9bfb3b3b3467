"""Skills: levels from XP, level-ups, player and attack level, the in-combat window (SPEC 4.1, 5.5).

Every expected value is worked out by hand from the SPEC; the arithmetic is in the comments. The
thresholds are PROGRESSION_EXP_THRESHOLD = [0, 90, 217, 373, 553, 754, 974, 1212, 1467, 1737]:
the level is the number of thresholds <= exp, capped at 10 (SPEC 4.1).
"""

import jax.numpy as jnp
import numpy as np
import pytest

import nmmo_jax as nj
from nmmo_jax import skills
from nmmo_jax.events import empty_events
from nmmo_jax.state import SKILLS, empty_entities

CFG = nj.Config(player_n=4, npc_n=0, map_size=24, map_center=8)
FISHING_ID = 4  # SKILL_ID of fishing (SPEC 4.1 table)


def entities(**columns):
    """An entity table of 4 rows, all skills level 1 / exp 0, with `columns` overridden."""
    ent = empty_entities(4)
    base = {f"{s}_level": jnp.ones((4,), jnp.int32) for s in SKILLS}
    base.update({name: jnp.asarray(value, jnp.int32) for name, value in columns.items()})
    return ent.replace(alive=jnp.ones((4,), bool), **base)


@pytest.mark.parametrize(
    "exp, level",
    [
        (0, 1),  # only threshold 0 is <= 0
        (89, 1),
        (90, 2),  # 0, 90
        (216, 2),
        (217, 3),
        (372, 3),
        (373, 4),
        (553, 5),
        (754, 6),
        (974, 7),
        (1211, 7),
        (1212, 8),
        (1467, 9),
        (1736, 9),  # every threshold but 1737
        (1737, 10),  # all ten
        (99999, 10),  # capped at PROGRESSION_LEVEL_MAX
    ],
)
def test_level_at_exp_thresholds(exp, level):
    assert int(skills.level_at_exp(jnp.int32(exp), CFG)) == level


def test_level_at_exp_vectorised():
    exp = jnp.array([0, 89, 90, 1736, 1737, 99999], jnp.int32)
    np.testing.assert_array_equal(np.asarray(skills.level_at_exp(exp, CFG)), [1, 1, 2, 9, 10, 10])


def test_events_needed_per_level_from_spec():
    # SPEC 4.1: 3 consumable harvests (30 XP) reach level 2, 8 reach level 3, 13 level 4 ...;
    # 6 ammunition harvests (15 XP) reach level 2, 15 level 3.
    consumable = [3, 8, 13, 19, 26, 33, 41, 49, 58]
    for level, k in enumerate(consumable, start=2):
        assert int(skills.level_at_exp(jnp.int32(30 * k), CFG)) == level
        assert int(skills.level_at_exp(jnp.int32(30 * (k - 1)), CFG)) == level - 1
    ammunition = [6, 15, 25, 37, 51, 65, 81, 98, 116]
    for level, k in enumerate(ammunition, start=2):
        assert int(skills.level_at_exp(jnp.int32(15 * k), CFG)) == level
        assert int(skills.level_at_exp(jnp.int32(15 * (k - 1)), CFG)) == level - 1


def test_add_xp_multi_level_jump_is_one_level_up_with_the_final_level():
    ent = entities(fishing_exp=[80, 80, 0, 0])
    gains = jnp.array([True, False, True, False])
    ent, leveled, level = skills.add_xp(ent, "fishing", 300, gains, CFG)
    # Row 0: 80 + 300 = 380 >= 373 (and < 553): level 1 -> 4 in one grant: one level-up.
    # Row 1 gains nothing. Row 2: 0 + 300 = 300 (217 <= 300 < 373): level 3.
    np.testing.assert_array_equal(np.asarray(ent.fishing_exp), [380, 80, 300, 0])
    np.testing.assert_array_equal(np.asarray(ent.fishing_level), [4, 1, 3, 1])
    np.testing.assert_array_equal(np.asarray(leveled), [True, False, True, False])
    np.testing.assert_array_equal(np.asarray(level)[[0, 2]], [4, 3])
    # Other skills are untouched.
    np.testing.assert_array_equal(np.asarray(ent.herbalism_exp), [0, 0, 0, 0])
    np.testing.assert_array_equal(np.asarray(ent.herbalism_level), [1, 1, 1, 1])

    # The event log: one LEVEL_UP per grant (not one per level), with the final level.
    events = empty_events(4, 4, CFG.progression_level_max)
    events = events.record_level_up(FISHING_ID, leveled, level)
    np.testing.assert_array_equal(np.asarray(events.count("LEVEL_UP", episode=False)), [1, 0, 1, 0])
    # The step's counts reach the episode's at the end of the step.
    np.testing.assert_array_equal(np.asarray(events.end_tick().count("LEVEL_UP")), [1, 0, 1, 0])
    np.testing.assert_array_equal(np.asarray(events.level_up[:, FISHING_ID - 1]), [4, 0, 3, 0])


def test_add_xp_without_crossing_a_threshold_logs_nothing():
    ent = entities(prospecting_exp=[74, 75, 0, 0])
    ent, leveled, _ = skills.add_xp(ent, "prospecting", 15, jnp.array([True] * 4), CFG)
    # 74 + 15 = 89 < 90: still 1. 75 + 15 = 90: level 2. 0 + 15 = 15: 1.
    np.testing.assert_array_equal(np.asarray(ent.prospecting_exp), [89, 90, 15, 15])
    np.testing.assert_array_equal(np.asarray(ent.prospecting_level), [1, 2, 1, 1])
    np.testing.assert_array_equal(np.asarray(leveled), [False, True, False, False])


def test_levels_never_go_down():
    # A row whose level (5) is above what its exp gives (30 -> 1) keeps its level.
    ent = entities(herbalism_level=[5, 1, 1, 1], herbalism_exp=[0, 0, 0, 0])
    ent, leveled, _ = skills.add_xp(ent, "herbalism", 30, jnp.array([True] * 4), CFG)
    np.testing.assert_array_equal(np.asarray(ent.herbalism_exp), [30, 30, 30, 30])
    np.testing.assert_array_equal(np.asarray(ent.herbalism_level), [5, 1, 1, 1])
    assert not bool(leveled.any())
    # Exp 500 at level 5 (500 gives 4) gains 60: 560 >= 553 gives 5, not above 5: no level-up.
    ent = entities(herbalism_level=[5, 5, 1, 1], herbalism_exp=[500, 700, 0, 0])
    gains = jnp.array([True, True, False, False])
    ent, leveled, _ = skills.add_xp(ent, "herbalism", 60, gains, CFG)
    # Row 1: 700 + 60 = 760 >= 754: level 6 > 5: a level-up.
    np.testing.assert_array_equal(np.asarray(ent.herbalism_level), [5, 6, 1, 1])
    np.testing.assert_array_equal(np.asarray(leveled), [False, True, False, False])


def test_add_xp_caps_at_level_ten():
    ent = entities(alchemy_exp=[1700, 5000, 0, 0], alchemy_level=[9, 10, 1, 1])
    ent, leveled, _ = skills.add_xp(ent, "alchemy", 100, jnp.array([True, True, False, False]), CFG)
    # 1800 >= 1737: 10 (a level-up). 5100: still 10, no level-up.
    np.testing.assert_array_equal(np.asarray(ent.alchemy_level), [10, 10, 1, 1])
    np.testing.assert_array_equal(np.asarray(leveled), [True, False, False, False])


def test_add_xp_without_progression_changes_nothing():
    cfg = CFG.replace(progression_system_enabled=False)
    ent = entities(fishing_exp=[80, 0, 0, 0])
    new, leveled, _ = skills.add_xp(ent, "fishing", 300, jnp.array([True] * 4), cfg)
    np.testing.assert_array_equal(np.asarray(new.fishing_exp), [80, 0, 0, 0])
    np.testing.assert_array_equal(np.asarray(new.fishing_level), [1, 1, 1, 1])
    assert not bool(leveled.any())


def test_player_level_is_the_max_skill_at_least_one():
    ent = entities(
        melee_level=[1, 1, 1, 0],
        fishing_level=[1, 7, 1, 0],
        alchemy_level=[1, 1, 3, 0],
        range_level=[1, 1, 1, 0],
        mage_level=[1, 1, 1, 0],
        herbalism_level=[1, 1, 1, 0],
        prospecting_level=[1, 1, 1, 0],
        carving_level=[1, 1, 1, 0],
    )
    # Row 3 has every skill at 0 (an NPC-like row): the player level is still 1 (min 1).
    np.testing.assert_array_equal(np.asarray(skills.player_level(ent, 4)), [1, 7, 3, 1])


def test_attack_level_is_the_max_combat_skill():
    ent = entities(
        melee_level=[1, 4, 1, 2],
        range_level=[1, 1, 6, 2],
        mage_level=[1, 2, 1, 5],
        fishing_level=[9, 9, 9, 9],  # not a combat skill
    )
    np.testing.assert_array_equal(np.asarray(skills.attack_level(ent, 4)), [1, 4, 6, 5])


@pytest.mark.parametrize(
    "latest, tick, fighting",
    [
        (0, 0, False),  # 0 = never in combat
        (0, 1, False),  # 1 - 0 < 3, but latest_combat_tick 0 means never
        (0, 2, False),
        (10, 10, True),  # 10 - 10 = 0 < 3
        (10, 11, True),
        (10, 12, True),  # 12 - 10 = 2 < 3
        (10, 13, False),  # 13 - 10 = 3: free again
        (10, 50, False),
        (1, 3, True),  # 3 - 1 = 2
        (1, 4, False),
    ],
)
def test_in_combat_window(latest, tick, fighting):
    ent = entities(latest_combat_tick=[latest, 0, 0, 0])
    got = skills.in_combat(ent, jnp.int32(tick), 4, CFG)
    np.testing.assert_array_equal(np.asarray(got), [fighting, False, False, False])
