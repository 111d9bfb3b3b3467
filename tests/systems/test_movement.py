"""Movement, the Move action mask and exploration (SPEC 13.2, 12.3, 2.1).

Every expected value is worked out by hand from the SPEC. Scenario drawings use the legend of
nmmo_jax.scenario; digits are players (standing on grass). Positions are drawing (row, col).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nmmo_jax
from nmmo_jax import scenario
from nmmo_jax.state import ENTITY_COLUMNS
from nmmo_jax.step import HEAD_INDEX

N, S, E, W, STAY = range(5)  # Move.Direction: North row-1, South row+1, East col+1, West col-1


@functools.cache
def _compiled_step(cfg):
    return jax.jit(nmmo_jax.Env(cfg).step)


def step(cfg, state, moves):
    """One jitted env step with one Move.Direction per player (other heads no-ops)."""
    actions = nmmo_jax.Env(cfg).noop_actions
    actions = actions.at[:, HEAD_INDEX["move"]].set(jnp.asarray(moves, jnp.int32))
    return _compiled_step(cfg)(jax.random.key(int(state.tick)), state, actions)


def positions(cfg, state):
    """[(row, col)] of every player, in drawing coordinates."""
    b = cfg.map_border
    rows = np.asarray(state.players.row) - b
    cols = np.asarray(state.players.col) - b
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]


def test_the_four_directions_and_stay():
    cfg, state = scenario.build(
        """
        . . . . . . . . . . . . . . .
        . 1 . . 2 . . 3 . . 4 . . 5 .
        . . . . . . . . . . . . . . .
        """
    )
    _, state, _, _, _, _ = step(cfg, state, [N, S, E, W, STAY])
    assert positions(cfg, state) == [(0, 1), (2, 4), (1, 8), (1, 9), (1, 13)]
    # Two more steps the same way: each is one tile per tick, until the map's edge stops it.
    _, state, _, _, _, _ = step(cfg, state, [N, S, E, W, STAY])
    assert positions(cfg, state) == [(0, 1), (2, 4), (1, 9), (1, 8), (1, 13)]


def test_water_stone_void_and_the_border_block():
    # North of players 1-3: water, stone, void. South of 4: outside the drawing (void border).
    cfg, state = scenario.build(
        """
        ~ . # . _ . .
        1 . 2 . 3 . 4
        """
    )
    start = positions(cfg, state)
    obs, state, _, _, _, _ = step(cfg, state, [N, N, N, S])
    assert positions(cfg, state) == start
    # The mask agrees: North is invalid for 1-3, South (the void border) for everyone.
    np.testing.assert_array_equal(np.asarray(obs.action_mask.move[:, N]), [False] * 3 + [True])
    np.testing.assert_array_equal(np.asarray(obs.action_mask.move[:, S]), [False] * 4)


def test_ocean_and_fish_block():
    cfg, state = scenario.build(
        """
        = . x
        1 . 2
        """
    )
    start = positions(cfg, state)
    obs, state, _, _, _, _ = step(cfg, state, [N, N])
    # The mask (computed on int32 material ids) already says North is invalid...
    np.testing.assert_array_equal(np.asarray(obs.action_mask.move[:, N]), [False, False])
    # ...and the move must fail like any move into an impassable tile (SPEC 2.1, 13.2).
    assert positions(cfg, state) == start


def test_every_habitable_material_can_be_entered():
    # Grass, Scrub, Foilage, Slag, Ore, Stump, Tree, Fragment, Crystal, Weeds, Herb (SPEC 2.1).
    cfg, state = scenario.build(
        """
        . , f s o u t r c w h
        . . . . . . . . . . .
        """,
        players={pid: dict(row=1, col=pid - 1) for pid in range(1, 12)},
    )
    obs, state, _, _, _, _ = step(cfg, state, [N] * 11)
    assert positions(cfg, state) == [(0, c) for c in range(11)]


def test_tiles_may_be_shared_by_default():
    # 1 and 2 walk onto 4's tile from the sides, 3 from below; 4 stays.
    cfg, state = scenario.build(
        """
        1 4 2
        . 3 .
        """
    )
    _, state, _, _, _, _ = step(cfg, state, [E, W, N, STAY])
    assert positions(cfg, state) == [(0, 1)] * 4


# Four independent rows: 1 leaves the tile 2 enters; 3 enters the tile 4 leaves; 5 and 6 both
# want the middle tile; 7 walks into 8, who stays; 9 walks onto the tile of 10, who is dead.
QUEUE = """
. 1 2
. . .
3 4 .
. . .
5 . 6
. . .
7 8 .
. . .
9 . .
"""
QUEUE_PLAYERS = {10: dict(row=8, col=1, alive=False, health=0)}
QUEUE_MOVES = [W, W, E, E, E, W, E, STAY, E, STAY]


def test_occupied_tiles_block_in_player_id_order():
    cfg, state = scenario.build(QUEUE, QUEUE_PLAYERS, allow_move_into_occupied_tile=False)
    _, state, _, _, _, _ = step(cfg, state, QUEUE_MOVES)
    # Players move one after another in id order (SPEC 13.2): 1 vacates (0, 1) before 2 moves,
    # so both move; 3 tries (2, 1) while 4 is still there, so 3 stays and then 4 moves; 5 takes
    # (4, 1) first, so 6 stays; 8 stays, so 7 is blocked; the dead 10 occupies nothing.
    assert positions(cfg, state)[:9] == [
        (0, 0), (0, 1),
        (2, 0), (2, 2),
        (4, 1), (4, 2),
        (6, 0), (6, 1),
        (8, 1),
    ]  # fmt: skip


def test_the_same_moves_all_succeed_when_tiles_may_be_shared():
    cfg, state = scenario.build(QUEUE, QUEUE_PLAYERS)
    _, state, _, _, _, _ = step(cfg, state, QUEUE_MOVES)
    assert positions(cfg, state)[:9] == [
        (0, 0), (0, 1),
        (2, 1), (2, 2),
        (4, 1), (4, 1),
        (6, 1), (6, 1),
        (8, 1),
    ]  # fmt: skip


def test_out_of_range_directions_are_no_ops_inside_jit():
    cfg, state = scenario.build(
        """
        . . . . . . .
        . 1 . 2 . 3 .
        . . . . . . .
        """
    )
    start = positions(cfg, state)
    # Inside jit the values are not checked: anything outside [0, 5) moves nobody.
    _, moved, _, _, _, _ = step(cfg, state, [7, -1, 5])
    assert positions(cfg, moved) == start
    # At the Python boundary (concrete actions) they are rejected (SPEC 12.2, DEVIATIONS).
    env = nmmo_jax.Env(cfg)
    bad = env.noop_actions.at[0, HEAD_INDEX["move"]].set(7)
    with pytest.raises(ValueError, match="move"):
        env.step(jax.random.key(0), state, bad)


# Player 1: water N, depleted foilage S (shows Scrub), stone E, scrub W. Player 2: stone W,
# player 3's tile E. Player 3: the void border E. Player 4 is dead.
MASKED = """
. ~ . . .
, 1 # 2 3
. f . . .
"""
MASKED_PLAYERS = {4: dict(row=2, col=3, alive=False, health=0)}


def test_move_mask_is_the_habitability_of_the_four_neighbours():
    cfg, state = scenario.build(MASKED, MASKED_PLAYERS)
    state = scenario.depleted(state, 2, 1, cfg, until=100)
    obs, state, _, _, _, _ = step(cfg, state, [STAY] * 4)
    # [N, S, E, W, Stay]: static habitability (a depleted tile keeps its class, an occupied tile
    # is still habitable), Stay always; a dead agent may only Stay (SPEC 12.3).
    np.testing.assert_array_equal(
        np.asarray(obs.action_mask.move),
        [
            [False, True, False, True, True],
            [True, True, True, False, True],
            [True, True, False, True, True],
            [False, False, False, False, True],
        ],
    )


def test_dead_agents_do_not_move():
    cfg, state = scenario.build(MASKED, MASKED_PLAYERS)
    # Player 4 (dead) asks to go North onto player 2's grass tile.
    _, state, reward, terminated, _, _ = step(cfg, state, [STAY, STAY, STAY, N])
    assert positions(cfg, state)[3] == (2, 3)
    assert not bool(state.players.alive[3])
    assert float(reward[3]) == 0.0 and not bool(terminated[3])


def test_go_farthest_logs_new_records_of_progress_to_the_centre():
    # 9 x 9 drawing: map_center 9, so progress = 9 // 2 - Chebyshev distance to the centre,
    # which is drawing (4, 4) (map_size // 2 in state coordinates). Stone at (2, 3).
    cfg, state = scenario.build(
        """
        1 . . . . . . . .
        . . . . . . . . .
        . . . # . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . 2 . .
        . . . . . . . . .
        . . . . . . . . .
        """
    )
    assert cfg.map_center == 9
    # Player 1's path, the progress of each new tile, and whether it beats the best so far
    # (which starts at 0):
    #   S (1,0): 4-4=0 no | E (1,1): 4-3=1 yes | W (1,0): 0 no | E (1,1): 1 = best, no
    #   S (2,1): 4-3=1 no | E (2,2): 4-2=2 yes | Stay: no move | E into stone: no move
    #   S (3,2): 4-2=2 no | E (3,3): 4-1=3 yes | E (3,4): 4-1=3 no | S (4,4): 4-0=4 yes
    path = [S, E, W, E, S, E, STAY, E, S, E, E, S]
    logged = [0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 4]
    # Player 2 spawns at (6, 6) (progress 4-2=2) and moves North to (5, 6): progress 2 > 0.
    other = [N] + [STAY] * 11
    other_logged = [2] + [0] * 11
    for k, (move, want, move2, want2) in enumerate(
        zip(path, logged, other, other_logged, strict=True)
    ):
        _, state, _, _, _, _ = step(cfg, state, [move, move2])
        np.testing.assert_array_equal(
            np.asarray(state.events.go_farthest), [want, want2], err_msg=f"step {k + 1}"
        )
    assert positions(cfg, state) == [(4, 4), (5, 6)]
    np.testing.assert_array_equal(np.asarray(state.events.count("GO_FARTHEST")), [4, 1])
    np.testing.assert_array_equal(np.asarray(state.players.exploration), [4, 2])


# --- freeze (SPEC 3.3 step 1, 5.7, 13.1 d, 13.2)

# Everyone walks East every tick. Player 4 (frozen) stands next to water with water 40.
FROZEN = """
1 . . . .
2 . . . .
3 . . . .
4 ~ . . .
"""
FROZEN_PLAYERS = {1: dict(freeze=3), 2: dict(freeze=1), 4: dict(freeze=5, water=40)}


def test_frozen_players_do_not_move_and_freeze_counts_down():
    cfg, state = scenario.build(FROZEN, FROZEN_PLAYERS)
    freeze_column = ENTITY_COLUMNS.index("freeze")
    expected = [
        # The update decrements freeze before the actions run, and a move runs only while
        # freeze is 0 (SPEC 3.3 step 1, 13.1 d): freeze 3 stays in steps 1 and 2 and moves from
        # step 3 on; freeze 1 is 0 by the time of its first move; 4 walks into water (fails).
        # (positions after the step, freeze after the step)
        ([(0, 0), (1, 1), (2, 1), (3, 0)], [2, 0, 0, 4]),
        ([(0, 0), (1, 2), (2, 2), (3, 0)], [1, 0, 0, 3]),
        ([(0, 1), (1, 3), (2, 3), (3, 0)], [0, 0, 0, 2]),
        ([(0, 2), (1, 4), (2, 4), (3, 0)], [0, 0, 0, 1]),
    ]
    for k, (want_positions, want_freeze) in enumerate(expected):
        obs, state, _, _, _, _ = step(cfg, state, [E, E, E, E])
        assert positions(cfg, state) == want_positions, f"step {k + 1}"
        np.testing.assert_array_equal(
            np.asarray(state.players.freeze), want_freeze, err_msg=f"step {k + 1}"
        )
        # The observation shows the count in the freeze column (SPEC 3.2).
        np.testing.assert_array_equal(
            np.asarray(obs.agent)[:, freeze_column], want_freeze, err_msg=f"step {k + 1}"
        )
        if k == 0:
            # Frozen players still get their update: 4 drinks (40 - 5 + 100, capped).
            assert int(state.players.water[3]) == 100


def test_frozen_player_moves_once_unfrozen_in_every_direction():
    # Freeze 2: steps 1 (freeze -> 1) blocked, step 2 (freeze -> 0) moves. Each player tries a
    # different direction into open grass.
    cfg, state = scenario.build(
        """
        . . . . . . . . .
        . 1 . 2 . 3 . 4 .
        . . . . . . . . .
        """,
        {p: dict(freeze=2) for p in range(1, 5)},
    )
    start = positions(cfg, state)
    _, state, _, _, _, _ = step(cfg, state, [N, S, E, W])
    assert positions(cfg, state) == start
    _, state, _, _, _, _ = step(cfg, state, [N, S, E, W])
    assert positions(cfg, state) == [(0, 1), (2, 3), (1, 6), (1, 6)]


def test_frozen_players_receive_reward_zero():
    cfg, state = scenario.build("1 . 2 . 3", {1: dict(freeze=3), 2: dict(freeze=1)})
    _, state, reward, _, _, _ = step(cfg, state, [STAY] * 3)
    # After the step 1 still has freeze 2 (frozen), 2 has freeze 0 (not frozen) like 3.
    np.testing.assert_array_equal(np.asarray(reward), [0.0, 1 / 1024, 1 / 1024])
