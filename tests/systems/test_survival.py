"""Food, water, health and foraging: the per-tick player update (SPEC 3.3, 3.4, 2.1).

Every expected value is worked out by hand from the SPEC; the arithmetic is in the comments.
Scenario drawings: `.` grass, `~` water, `f` foilage, digits are players (standing on grass).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

import nmmo_jax
from nmmo_jax import material as m
from nmmo_jax import scenario
from nmmo_jax.state import material
from nmmo_jax.step import HEAD_INDEX

N, S, E, W, STAY = range(5)  # Move.Direction (SPEC 12.1)
REWARD_ALIVE = np.float32(1 / 1024)  # default horizon 1024 (SPEC 13.4)


@functools.cache
def _compiled_step(cfg):
    return jax.jit(nmmo_jax.Env(cfg).step)


def step(cfg, state, moves=None):
    """One env step; `moves` is one Move.Direction per player (all Stay when None)."""
    env = nmmo_jax.Env(cfg)
    actions = env.noop_actions
    if moves is not None:
        actions = actions.at[:, HEAD_INDEX["move"]].set(jnp.asarray(moves, jnp.int32))
    return _compiled_step(cfg)(jax.random.key(int(state.tick)), state, actions)


def players(state, column):
    """int array [player_n] of an entity column."""
    return np.asarray(getattr(state.players, column))


def shown(cfg, state, row, col):
    """The material tile (row, col) of the drawing shows now."""
    r, c = scenario.position(cfg, row, col)
    return int(material(state.tiles, state.tick)[r, c])


def drawing_position(cfg, state, pid):
    i = pid - 1
    b = cfg.map_border
    return int(state.entities.row[i]) - b, int(state.entities.col[i]) - b


# --- starvation and dehydration (SPEC 3.3 "Consequences")


def test_starvation_timeline_without_food_or_water():
    cfg, state = scenario.build(
        """
        . . .
        . 1 .
        . . .
        """
    )
    food, water, health, reward, terminated = [], [], [], [], []
    for _ in range(25):
        _, state, r, t, _, _ = step(cfg, state)
        food.append(int(state.players.food[0]))
        water.append(int(state.players.water[0]))
        health.append(int(state.players.health[0]))
        reward.append(float(r[0]))
        terminated.append(bool(t[0]))

    # Food and water lose 5 per step: 100 - 5k after step k, 0 from step 20 on.
    assert food == [max(100 - 5 * k, 0) for k in range(1, 26)]
    assert water == food
    # Steps 1-10 read food/water > 50 from the previous tick: +10, capped at 100. Steps 11-20 read
    # 50..5: no regeneration, no damage. Steps 21-25 read 0 and 0: -10 - 10 = -20 per step.
    assert health == [100] * 20 + [80, 60, 40, 20, 0]
    assert reward == [REWARD_ALIVE] * 24 + [-1.0]
    assert terminated == [False] * 24 + [True]
    assert not bool(state.players.alive[0])

    # Dead agents are inert: no update, no move, no reward, no second termination.
    dead = state
    for _ in range(3):
        _, state, r, t, tr, _ = step(cfg, state, moves=[N])
        assert float(r[0]) == 0.0 and not bool(t[0]) and not bool(tr[0])
    for column in ("row", "col", "health", "food", "water", "time_alive", "alive"):
        np.testing.assert_array_equal(players(state, column), players(dead, column), err_msg=column)


def test_food_only_starvation_next_to_water():
    cfg, state = scenario.build(
        """
        . ~ .
        . 1 .
        . . .
        """
    )
    health = []
    for k in range(1, 31):
        _, state, r, t, _, _ = step(cfg, state)
        # Water: 100 - 5 + 100, capped at 100, every step; food 100 - 5k, 0 from step 20.
        assert int(state.players.water[0]) == 100
        assert int(state.players.food[0]) == max(100 - 5 * k, 0)
        health.append(int(state.players.health[0]))
    # Regeneration needs food > 50 (steps 1-10 only, capped at 100); from step 21 food reads 0:
    # -10 per step (water 100 alone does not regenerate), so 100 - 10 * (k - 20), 0 at step 30.
    assert health == [100] * 20 + [90, 80, 70, 60, 50, 40, 30, 20, 10, 0]
    assert bool(t[0]) and float(r[0]) == -1.0


def test_water_only_dehydration_on_regrowing_foilage():
    # With respawn probability 1 the eaten foilage regrows at the end of every step (SPEC 2.1),
    # so the agent eats every tick and only water runs out.
    cfg, state = scenario.build(
        """
        . . .
        . f .
        . . .
        """,
        players={1: dict(row=1, col=1)},
        resource_foilage_respawn=1.0,
    )
    health = []
    for k in range(1, 31):
        _, state, _, _, _, _ = step(cfg, state)
        assert int(state.players.food[0]) == 100  # 100 - 5 + 100, capped
        assert int(state.players.water[0]) == max(100 - 5 * k, 0)
        health.append(int(state.players.health[0]))
    assert health == [100] * 20 + [90, 80, 70, 60, 50, 40, 30, 20, 10, 0]
    assert int(state.events.count("EAT_FOOD")[0]) == 30


def test_starvation_and_dehydration_damage():
    cfg, state = scenario.build(
        "1 . 2 . 3 . 4",
        players={
            1: dict(food=0, water=0),
            2: dict(food=0, water=100),
            3: dict(food=100, water=0),
            4: dict(food=0, water=0, health=15),
        },
    )
    _, state, reward, terminated, _, _ = step(cfg, state)
    # 1: -10 (food) - 10 (water); 2: -10, no regeneration since food is not > 50; 3: -10;
    # 4: 15 - 20 is clipped at 0 (SPEC 3.2 limits): dead.
    np.testing.assert_array_equal(players(state, "health"), [80, 90, 90, 0])
    np.testing.assert_array_equal(players(state, "food"), [0, 0, 95, 0])  # min 0 after -5
    np.testing.assert_array_equal(players(state, "water"), [0, 95, 0, 0])
    np.testing.assert_array_equal(players(state, "alive"), [True, True, True, False])
    np.testing.assert_array_equal(np.asarray(terminated), [False, False, False, True])
    assert float(reward[3]) == -1.0


# --- regeneration (SPEC 3.3 step 5)


def test_regeneration_thresholds_are_strict_and_capped():
    cfg, state = scenario.build(
        "1 . 2 . 3 . 4 . 5",
        players={
            1: dict(health=50, food=51, water=51),
            2: dict(health=50, food=50, water=100),
            3: dict(health=50, food=100, water=50),
            4: dict(health=95, food=100, water=100),
            5: dict(health=50, food=50, water=50),
        },
    )
    _, state, _, _, _, _ = step(cfg, state)
    # 1: 51 > 50 and 51 > 50: +floor(100 * 0.1) = +10. 2, 3, 5: 50 is not > 50: no change.
    # 4: 95 + 10 capped at 100.
    np.testing.assert_array_equal(players(state, "health"), [60, 50, 50, 100, 50])
    np.testing.assert_array_equal(players(state, "food"), [46, 45, 95, 95, 45])
    np.testing.assert_array_equal(players(state, "water"), [46, 95, 45, 95, 45])

    # The test reads last tick's values: player 1 now has 46/46, so no more regeneration.
    _, state, _, _, _, _ = step(cfg, state)
    np.testing.assert_array_equal(players(state, "health"), [60, 50, 50, 100, 50])


def test_resilient_damage_is_reduced_and_truncated():
    cfg, state = scenario.build(
        "1 . 2",
        players={1: dict(food=0, water=0, resilient=True), 2: dict(food=0, water=0)},
        resource_starvation_rate=7,
        resource_dehydration_rate=9,
    )
    _, state, _, _, _, _ = step(cfg, state)
    # Resilient: int(7 * 0.5) = 3 and int(9 * 0.5) = 4, each truncated: 100 - 3 - 4 = 93
    # (not 100 - int(8) = 92). Others: 100 - 7 - 9 = 84.
    np.testing.assert_array_equal(players(state, "health"), [93, 84])


def test_resilient_players_take_half_the_default_damage():
    cfg, state = scenario.build(
        "1 . 2 . 3 . 4 . 5",
        players={
            1: dict(food=0, resilient=True),
            2: dict(water=0, resilient=True),
            3: dict(food=0, water=0, resilient=True),
            4: dict(food=0),
            5: dict(food=0, water=0),
        },
    )
    assert (cfg.resource_starvation_rate, cfg.resource_dehydration_rate) == (10, 10)
    assert cfg.resource_damage_reduction == 0.5
    _, state, _, _, _, _ = step(cfg, state)
    # Resilient: int(10 * 0.5) = 5 per empty bar (SPEC 1.3, 3.3); nobody regenerates (an empty
    # bar is not > 50). 1, 2: 100 - 5; 3: 100 - 5 - 5; 4: 100 - 10; 5: 100 - 10 - 10.
    np.testing.assert_array_equal(players(state, "health"), [95, 95, 90, 90, 80])


def test_resilient_player_starves_twice_as_slowly_next_to_water():
    cfg, state = scenario.build("1 ~ 2", players={1: dict(food=0, resilient=True), 2: dict(food=0)})
    health, terminated = [], []
    for _ in range(20):
        _, state, _, t, _, _ = step(cfg, state)
        health.append(players(state, "health").tolist())
        terminated.append(np.asarray(t).tolist())
    # Both drink every tick (water 100), food stays 0: the resilient 1 loses 5 a tick and dies in
    # step 20; 2 loses 10 a tick and dies in step 10, then stays at 0.
    assert [h[0] for h in health] == [100 - 5 * k for k in range(1, 21)]
    assert [h[1] for h in health] == [max(100 - 10 * k, 0) for k in range(1, 21)]
    assert [t[0] for t in terminated] == [False] * 19 + [True]
    assert [t[1] for t in terminated] == [False] * 9 + [True] + [False] * 10


def test_resilient_population_spawns_resilient_players():
    # RESOURCE_RESILIENT_POPULATION 0.5 of 8 players: round(0.5 * 8) = 4 spawn resilient (SPEC 3.1)
    # and take 5 instead of 10 from an empty food bar.
    drawing = "1 . 2 . 3 . 4 . 5 . 6 . 7 . 8"
    cfg, state = scenario.build(
        drawing, players={p: dict(food=0) for p in range(1, 9)}, resource_resilient_population=0.5
    )
    resilient = players(state, "resilient")
    assert resilient.sum() == 4
    _, state, _, _, _, _ = step(cfg, state)
    np.testing.assert_array_equal(players(state, "health"), np.where(resilient, 95, 90))


def test_no_resilient_players_without_damage_reduction():
    # The reference flags players resilient only when RESOURCE_DAMAGE_REDUCTION > 0
    # (PlayerManager.spawn), so with reduction 0 everyone takes the full 10.
    cfg, state = scenario.build(
        "1 . 2 . 3 . 4",
        players={p: dict(food=0) for p in range(1, 5)},
        resource_resilient_population=1.0,
        resource_damage_reduction=0.0,
    )
    assert not players(state, "resilient").any()
    _, state, _, _, _, _ = step(cfg, state)
    np.testing.assert_array_equal(players(state, "health"), [90, 90, 90, 90])


# --- PLAYER_HEALTH_INCREMENT (SPEC 1.2, 3.3 step 4)


def test_health_increment_comes_before_the_resource_update_and_is_capped():
    cfg, state = scenario.build(
        "1 . 2 . 3 . 4 . 5 . 6 . 7",
        players={
            1: dict(health=50),
            2: dict(health=50, food=0, water=0),
            3: dict(health=95, food=0),
            4: dict(health=50, food=50, water=50),
            5: dict(health=15, food=0, water=0),
            6: dict(health=0, alive=False),
            7: dict(health=95),
        },
        player_health_increment=10,
    )
    _, state, _, terminated, _, _ = step(cfg, state)
    # health + 10, capped at 100, then the resource update on last tick's food and water:
    # 1: 50 + 10 = 60, fed (100 > 50 and 100 > 50): + 10 = 70.
    # 2: 50 + 10 = 60, starving and dehydrated: - 10 - 10 = 40.
    # 3: 95 + 10 = 105, capped at 100 first, then - 10 (food 0; no regeneration) = 90.
    # 4: 50 + 10 = 60; 50 is not > 50: no regeneration, no damage.
    # 5: 15 + 10 = 25 - 20 = 5: alive (without the increment 15 - 20 kills).
    # 6: dead, stays dead at 0. 7: 95 + 10 -> 100, + 10 -> 100.
    np.testing.assert_array_equal(players(state, "health"), [70, 40, 90, 60, 5, 0, 100])
    np.testing.assert_array_equal(players(state, "alive"), [1, 1, 1, 1, 1, 0, 1])
    assert not np.asarray(terminated).any()

    _, state, _, terminated, _, _ = step(cfg, state)
    # Food and water now read 95 (1, 7), 0 (2, 5), 0 and 95 (3), 45 (4):
    # 1: 70 + 10 + 10 = 90. 2: 40 + 10 - 20 = 30. 3: 90 + 10 - 10 = 90. 4: 60 + 10 = 70.
    # 5: 5 + 10 - 20 < 0: dead at 0. 7: 100.
    np.testing.assert_array_equal(players(state, "health"), [90, 30, 90, 70, 0, 0, 100])
    np.testing.assert_array_equal(np.asarray(terminated), [0, 0, 0, 0, 1, 0, 0])


def test_health_increment_applies_to_immortal_players():
    # IMMORTAL skips the resource update (SPEC 3.3 step 5), not the increment of step 4.
    cfg, state = scenario.build(
        "1 . 2",
        players={1: dict(health=50, food=0, water=0), 2: dict(health=95)},
        player_health_increment=10,
        immortal=True,
    )
    _, state, _, _, _, _ = step(cfg, state)
    np.testing.assert_array_equal(players(state, "health"), [60, 100])
    np.testing.assert_array_equal(players(state, "food"), [0, 100])
    _, state, _, _, _, _ = step(cfg, state)
    np.testing.assert_array_equal(players(state, "health"), [70, 100])


def test_immortal_config_changes_nothing():
    cfg, state = scenario.build(
        """
        ~ . f .
        . . . .
        """,
        players={
            1: dict(row=1, col=0, health=50, food=0, water=0),  # next to water
            2: dict(row=1, col=2, health=50, food=100, water=100),
            3: dict(row=0, col=2, health=50, food=30),  # on foilage
        },
        immortal=True,
    )
    start = state
    for _ in range(3):
        _, state, reward, terminated, _, _ = step(cfg, state)
        assert not bool(terminated.any())
        np.testing.assert_array_equal(np.asarray(reward), [REWARD_ALIVE] * 3)
    # No damage, no regeneration, no depletion, no drinking or eating (SPEC 3.3 steps 5 and
    # 6.6-6.7 are skipped for immortal players).
    for column in ("health", "food", "water", "alive"):
        np.testing.assert_array_equal(
            players(state, column), players(start, column), err_msg=column
        )
    np.testing.assert_array_equal(np.asarray(state.events.count("DRINK_WATER")), [0, 0, 0])
    np.testing.assert_array_equal(np.asarray(state.events.count("EAT_FOOD")), [0, 0, 0])
    assert shown(cfg, state, 0, 2) == m.FOILAGE


# --- eating foilage (SPEC 3.3 step 6.7, 2.1)


def test_eating_foilage_without_regrowth():
    cfg, state = scenario.build(
        """
        . . .
        . f .
        . . .
        """,
        players={1: dict(row=1, col=1, food=30)},
        resource_foilage_respawn=0.0,
    )
    obs, state, _, _, _, _ = step(cfg, state)
    assert int(state.players.food[0]) == 100  # 30 - 5 + 100, capped at 100
    assert shown(cfg, state, 1, 1) == m.SCRUB  # Foilage depletes to Scrub
    r = cfg.player_vision_radius
    assert int(obs.tile[0, r, r]) == m.SCRUB  # the agent sees it under itself
    assert int(state.events.count("EAT_FOOD")[0]) == 1

    # Probability 0: the tile never regrows, so no more eating.
    for k in range(1, 6):
        obs, state, _, _, _, _ = step(cfg, state)
        assert shown(cfg, state, 1, 1) == m.SCRUB
        assert int(state.players.food[0]) == 100 - 5 * k
    assert int(state.events.count("EAT_FOOD")[0]) == 1


def test_eaten_foilage_regrows_in_the_same_step_with_respawn_one():
    cfg, state = scenario.build(
        """
        . . .
        . f .
        . . .
        """,
        players={1: dict(row=1, col=1, food=30)},
        resource_foilage_respawn=1.0,
    )
    obs, state, _, _, _, _ = step(cfg, state)
    assert int(state.players.food[0]) == 100
    # The first regrowth roll is at the end of the harvesting step (SPEC 2.1): with p = 1 the
    # tile already shows Foilage in this step's observation.
    assert shown(cfg, state, 1, 1) == m.FOILAGE
    r = cfg.player_vision_radius
    assert int(obs.tile[0, r, r]) == m.FOILAGE
    assert int(state.events.count("EAT_FOOD")[0]) == 1

    obs, state, _, _, _, _ = step(cfg, state)
    assert int(state.players.food[0]) == 100  # 100 - 5 + 100, capped
    assert int(state.events.count("EAT_FOOD")[0]) == 2


def test_lowest_id_eats_a_shared_foilage_tile():
    # Tile (0, 1): players 1 and 2. Tile (0, 3): player 3 is dead, so player 4 eats.
    cfg, state = scenario.build(
        ". f . f .",
        players={
            1: dict(row=0, col=1, food=30),
            2: dict(row=0, col=1, food=30),
            3: dict(row=0, col=3, food=30, alive=False, health=0),
            4: dict(row=0, col=3, food=30),
        },
        resource_foilage_respawn=1.0,
    )
    _, state, _, _, _, _ = step(cfg, state)
    # Players update in id order (SPEC 3.3): 1 eats (30 - 5 + 100 -> 100) and depletes the tile,
    # 2 finds Scrub (30 - 5 = 25) even though the tile regrows at the end of the step.
    np.testing.assert_array_equal(players(state, "food"), [100, 25, 30, 100])
    np.testing.assert_array_equal(np.asarray(state.events.count("EAT_FOOD")), [1, 0, 0, 1])
    assert shown(cfg, state, 0, 1) == m.FOILAGE

    _, state, _, _, _, _ = step(cfg, state)
    np.testing.assert_array_equal(players(state, "food"), [100, 20, 30, 100])
    np.testing.assert_array_equal(np.asarray(state.events.count("EAT_FOOD")), [2, 0, 0, 2])


# --- drinking (SPEC 3.3 step 6.6)


def test_drinking_from_four_neighbours_but_not_diagonals():
    cfg, state = scenario.build(
        """
        . ~ . . . . . . . . . . .
        . 1 . . 2 . . 3 ~ . ~ 4 .
        . . . . ~ . . . . . . . .
        . . . . . ~ . . . . . . .
        . . . . 5 . . . . . . . .
        . . . ~ . . . . . . . . .
        """,
        players={pid: dict(water=40) for pid in range(1, 6)},
    )
    _, state, _, _, _, _ = step(cfg, state)
    # Players 1-4 have water to the N, S, E, W: 40 - 5 + 100, capped at 100.
    # Player 5 has water only on the diagonals (3, 5) and (5, 3): 40 - 5 = 35.
    np.testing.assert_array_equal(players(state, "water"), [100, 100, 100, 100, 35])
    np.testing.assert_array_equal(np.asarray(state.events.count("DRINK_WATER")), [1, 1, 1, 1, 0])
    assert shown(cfg, state, 0, 1) == m.WATER  # water never depletes


# --- timing within the step (SPEC 3.3, 13.1)


def test_eating_and_drinking_happen_the_tick_after_arriving():
    cfg, state = scenario.build(
        """
        1 . ~ 3
        2 f . .
        """,
        players={1: dict(water=40), 2: dict(food=40), 3: dict(water=40)},
        resource_foilage_respawn=0.0,
    )
    # Step 1: 1 moves next to the water, 2 onto the foilage, 3 away from the water. The update
    # runs before the moves, at the old positions.
    _, state, _, _, _, _ = step(cfg, state, moves=[E, E, S])
    assert [drawing_position(cfg, state, p) for p in (1, 2, 3)] == [(0, 1), (1, 1), (1, 3)]
    np.testing.assert_array_equal(players(state, "water"), [35, 95, 100])  # 3 drank: 40-5+100
    np.testing.assert_array_equal(players(state, "food"), [95, 35, 95])
    assert shown(cfg, state, 1, 1) == m.FOILAGE

    # Step 2: the update at the new positions.
    _, state, _, _, _, _ = step(cfg, state)
    np.testing.assert_array_equal(players(state, "water"), [100, 90, 95])  # 1: 35 - 5 + 100
    np.testing.assert_array_equal(players(state, "food"), [90, 100, 90])  # 2: 35 - 5 + 100
    assert shown(cfg, state, 1, 1) == m.SCRUB
    np.testing.assert_array_equal(np.asarray(state.events.count("DRINK_WATER")), [1, 0, 1])
    np.testing.assert_array_equal(np.asarray(state.events.count("EAT_FOOD")), [0, 1, 0])


def test_starving_agent_still_eats_and_drinks_in_its_death_step_but_does_not_move():
    cfg, state = scenario.build(
        """
        . ~ .
        . f .
        . . .
        """,
        players={1: dict(row=1, col=1, food=0, water=0, health=20)},
        resource_foilage_respawn=0.0,
    )
    obs, state, reward, terminated, _, _ = step(cfg, state, moves=[S])
    # Resource damage 20 - 10 - 10 = 0 kills; the skill update (water, then food) still runs in
    # the same player update: 0 - 5 -> 0, + 100 each; then the dead agent's Move is dropped.
    assert int(state.players.health[0]) == 0
    assert not bool(state.players.alive[0])
    assert bool(terminated[0]) and float(reward[0]) == -1.0
    assert int(state.players.water[0]) == 100 and int(state.players.food[0]) == 100
    assert int(state.events.count("DRINK_WATER")[0]) == 1
    assert int(state.events.count("EAT_FOOD")[0]) == 1
    assert shown(cfg, state, 1, 1) == m.SCRUB
    assert drawing_position(cfg, state, 1) == (1, 1)
    np.testing.assert_array_equal(np.asarray(obs.action_mask.move[0]), [0, 0, 0, 0, 1])
