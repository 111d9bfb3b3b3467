"""Death fog: the fog map, its float16 growth, its damage and kills, the fog observation (SPEC 10,
3.3 steps 2-3, 3.4, 13.1 f, 18.1, 18.11).

Every expected value is worked out by hand from the SPEC; the arithmetic is in the comments.
The fog at reset is MAP_BORDER - ring, ring = min(r, c, S - 1 - r, S - 1 - c), with the safe
square [S // 2 - F, S // 2 + F]^2 at -S; after a step whose new tick is >= onset every cell gains
the speed (in float16) and the safe square is reset; in a step whose tick (before it advances)
is >= onset a player on fog > 0.5 takes round(fog) damage, half to even.

The scenario worlds here are 7 x 7 drawings with map_center = 6 (map_size 22, border 8), so the
drawing's last row and column (6) sit on ring 7, the ring the reference's row 144 is on (its
walkable square is one row wider than MAP_CENTER, SPEC 2.2, 18.1): in state coordinates a cell
(r, c) of the drawing is (r + 8, c + 8) and

    drawing row or column    0    1    2..4   5    6
    ring (state index)       8    9    >= 10  8    7       (ring = min over both coordinates)
    fog at reset             0   -1    <= -2  0   +1

The safe square (S // 2 = 11, F = 1) is state [10, 12]^2 = drawing [2, 4]^2, at -22.
"""

import functools
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nmmo_jax as nj
from nmmo_jax import items as it
from nmmo_jax import material as m
from nmmo_jax import scenario
from nmmo_jax.env import spawn_players
from nmmo_jax.events import GOLD_KEYS
from nmmo_jax.observe import observe, reference_observation
from nmmo_jax.state import material
from nmmo_jax.step import HEAD_INDEX
from nmmo_jax.systems import fog

# The recording switches off what draws randomness (as tests/reference_world.py): NPCs, regrowth,
# the 2.5 % weapon drops.
NO_RANDOMNESS = dict(
    {field: 0.0 for field in m.RESPAWN_FIELD.values()}, npc_n=0, weapon_drop_prob=0.0
)
DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "reference_fog.npz"
N, S, E, W, STAY = range(5)
GEOMETRY = dict(map_center=6, map_size=22, death_fog_final_size=1, provide_death_fog_obs=True)
SPEC_EXAMPLE = dict(GEOMETRY, death_fog_onset=3, death_fog_speed=1.0)  # SPEC 10's example
HALVES = dict(GEOMETRY, death_fog_onset=0, death_fog_speed=0.5)  # round half to even
SMALL_MAP = dict(map_center=6, map_size=22, player_n=4, death_fog_final_size=1)  # no scenario
HUNGRY = dict(food=50, water=50)  # no regeneration (needs food > 50 and water > 50)
GRASS = "\n".join([". . . . . . ."] * 7)
# Four players on a column of the drawing: on ring 7 (+1), ring 8 (0), ring 9 (-1), safe.
FOUR = {
    1: dict(row=6, col=3, **HUNGRY),
    2: dict(row=0, col=3, **HUNGRY),
    3: dict(row=1, col=3, **HUNGRY),
    4: dict(row=3, col=3, **HUNGRY),
}


@functools.cache
def _compiled_step(cfg):
    return jax.jit(nj.Env(cfg).step)


def step(cfg, state, moves=None):
    """One env step; `moves` is one Move.Direction per player (all Stay when None)."""
    env = nj.Env(cfg)
    actions = env.noop_actions
    if moves is not None:
        actions = actions.at[:, HEAD_INDEX["move"]].set(jnp.asarray(moves, jnp.int32))
    return _compiled_step(cfg)(jax.random.key(int(state.tick)), state, actions)


def fog_at(cfg, state, row, col):
    """The fog on cell (row, col) of the drawing, as a Python float."""
    r, c = scenario.position(cfg, row, col)
    return float(state.fog[r, c])


def column(state, name):
    return np.asarray(getattr(state.players, name)).tolist()


# --- the map at reset (SPEC 10, 18.1)


def test_initial_rings_of_the_default_map():
    cfg = nj.Config(death_fog_onset=0)  # S = 160, border 16, centre square c = 80, F = 8
    f = np.asarray(fog.initial(cfg))
    assert f.dtype == np.float16 and f.shape == (160, 160)
    assert f[0, 0] == 16  # ring 0: 16 - 0, the outer edge of the void border
    assert f[15, 80] == 1  # ring 15: 16 - 15
    assert f[16, 80] == 0 and f[80, 16] == 0  # ring 16, the first walkable row and column
    # Quirk 18.1: row 144, the last walkable one, is ring min(144, 159 - 144) = 15: +1, not 0.
    assert f[144, 80] == 1 and f[80, 144] == 1 and f[144, 144] == 1
    assert f[143, 80] == 0  # ring 159 - 143 = 16
    assert f[17, 80] == -1 and f[20, 20] == -4  # rings 17 and 20
    assert f[71, 80] == -55  # ring 71: 16 - 71, just outside the safe square
    # The safe square [80 - 8, 80 + 8]^2 = [72, 88]^2, 17 x 17 cells at -S = -160.
    assert f[72, 72] == f[88, 88] == f[80, 80] == f[72, 88] == -160
    assert (f == -160).sum() == 17 * 17
    assert f[89, 80] == 16 - 70  # ring min(89, 159 - 89 = 70) = 70
    assert f[80, 71] == -55


def test_initial_rings_and_safe_square_of_a_scenario():
    cfg, state = scenario.build(GRASS, players=FOUR, **SPEC_EXAMPLE)
    assert state.fog.dtype == jnp.float16 and state.fog.shape == (22, 22)
    # The table of the module docstring, along drawing column 3 (state column 11).
    expected = {0: 0, 1: -1, 2: -22, 3: -22, 4: -22, 5: 0, 6: 1}
    assert {r: fog_at(cfg, state, r, 3) for r in range(7)} == expected
    # State (0, 0): ring 0, fog = border = 8; state (7, 11): ring 7, +1 (the void ring around
    # the drawing's rows 0-5 has the same value as its row 6).
    assert float(state.fog[0, 0]) == 8 and float(state.fog[7, 11]) == 1
    # Drawing (1, 1): ring 9 -> -1; drawing (5, 1): state (13, 9), ring min(13, 9, 8, 12) = 8.
    assert fog_at(cfg, state, 1, 1) == -1 and fog_at(cfg, state, 5, 1) == 0
    assert int((np.asarray(state.fog) == -22).sum()) == 3 * 3


def test_safe_square_follows_numpy_slicing():
    # F = 20 > S // 2 = 11: the reference's slice [11 - 20 : 11 + 20 + 1] = [-9 : 32] starts 9
    # from the end on a 22-wide map, so only [13, 22)^2, the far corner, is safe.
    cfg = nj.Config(
        map_center=6, map_size=22, player_n=4, death_fog_onset=0, death_fog_final_size=20
    )
    assert fog.safe_square(cfg) == (13, 22)
    f = np.asarray(fog.initial(cfg))
    assert (f[13:, 13:] == -22).all() and f[12, 12] == 8 - 9 and f[11, 11] == 8 - 10


# --- growth, damage and the observation: the verified example of SPEC 10


def test_spec_example_onset_3_speed_1():
    cfg, state = scenario.build(GRASS, players=FOUR, **SPEC_EXAMPLE)
    seen, damage, health = [], [], []
    for _ in range(6):
        obs, state, *_ = step(cfg, state)
        centre = cfg.player_vision_radius
        seen.append(np.asarray(obs.fog[:, centre, centre]).tolist())
        damage.append(column(state, "damage"))
        health.append(column(state, "health"))
    # Fog on each player's tile after steps 1..6 (reset values +1, 0, -1, safe): the increment
    # comes at the end of the steps whose new tick is >= 3, i.e. steps 3, 4, 5, 6:
    #   player 1 (row-144 ring): 1, 1, 2, 3, 4, 5      player 2 (ring 8): 0, 0, 1, 2, 3, 4
    #   player 3 (ring 9):     -1, -1, 0, 1, 2, 3      player 4 (safe):   -22 always
    assert seen == [
        [1, 0, -1, -22],
        [1, 0, -1, -22],
        [2, 1, 0, -22],
        [3, 2, 1, -22],
        [4, 3, 2, -22],
        [5, 4, 3, -22],
    ]
    # Damage in step k reads the fog after step k - 1, from the step whose tick is 3 (step 4):
    #   player 1: 2, 3, 4 in steps 4, 5, 6 (SPEC 10);  player 2: 1, 2, 3;
    #   player 3: fog 0 is not > 0.5 in step 4, then 1 (step 5: the ring-17 tile's first damage
    #   in SPEC 10) and 2.
    assert damage == [[0, 0, 0, 0]] * 3 + [[2, 1, 0, 0], [3, 2, 1, 0], [4, 3, 2, 0]]
    # Hungry players (food = water = 50) do not regenerate: health 100 - cumulative damage.
    assert health == [[100] * 4] * 3 + [[98, 99, 100, 100], [95, 97, 99, 100], [91, 94, 97, 100]]
    assert int(state.tick) == 6 and float(state.fog[0, 0]) == 8 + 4  # 4 increments


def test_fog_kill_stops_the_update_and_destroys_items():
    # Player 1 stands on foilage at drawing (6, 1) (ring min(14, 9, 7, 12) = 7: fog +1) next to
    # water (6, 0), with 1 health, fed (food = water = 60 > 50), two items and 1 gold. The step
    # starts at tick 3 = onset: the fog deals round(1) = 1 damage and kills it. Player 2 starves
    # in the safe square on foilage next to water: it dies too, but only after its update.
    cfg, state = scenario.build(
        """
        . . . . . . .
        . . . . . . .
        . . . ~ . . .
        . . . f . . .
        . . . . . . .
        . . . . . . .
        ~ f . . . . .
        """,
        players={
            1: dict(row=6, col=1, health=1, food=60, water=60),
            2: dict(row=3, col=3, health=10, food=0, water=0),
            3: dict(row=1, col=5, **HUNGRY),  # ring min(9, 13, 12, 8) = 8: fog 0, no damage
            4: dict(row=4, col=4, **HUNGRY),  # safe
        },
        tick=3,
        **SPEC_EXAMPLE,
    )
    state = scenario.give(state, cfg, 1, it.HAT, equipped=True)
    state = scenario.give(state, cfg, 1, it.RATION)
    obs, state, reward, terminated, _, info = step(cfg, state, moves=[N, STAY, STAY, STAY])

    # Player 1: health 1 - 1 = 0, damage 1 recorded (quirk 18.11), then nothing of its update:
    # no +10 regeneration, food and water stay 60 (no -5, no drinking or eating), the foilage
    # under it is not eaten; it does not move North (dead before the actions) and is culled.
    assert column(state, "health")[0] == 0 and column(state, "damage")[0] == 1
    assert column(state, "food")[0] == 60 and column(state, "water")[0] == 60
    assert scenario.position(cfg, 6, 1) == (int(state.players.row[0]), int(state.players.col[0]))
    r, c = scenario.position(cfg, 6, 1)
    assert int(material(state.tiles, state.tick)[r, c]) == m.FOILAGE
    assert not bool(info["alive"][0]) and bool(terminated[0]) and float(reward[0]) == -1.0
    # A sourceless death (SPEC 3.4): its items are destroyed, nobody is credited a kill or gold.
    assert not bool(it.occupied(state.inventory.slots[0]).any())
    assert int(state.events.count("PLAYER_KILL").sum()) == 0
    assert int(state.events.gold[:, GOLD_KEYS.index("LOOT_GOLD")].sum()) == 0
    ev = state.events
    assert int(ev.count("DRINK_WATER")[0]) == 0 and int(ev.count("EAT_FOOD")[0]) == 0
    assert not obs.fog[0].any()  # the dead see zeros

    # Player 2 (no fog in the safe square) starves: 10 - 10 - 10 -> 0, but its update goes on:
    # water max(0 - 5, 0) + 100 = 100, food likewise 100, the foilage is eaten; no damage column.
    assert column(state, "health")[1] == 0 and column(state, "damage")[1] == 0
    assert column(state, "water")[1] == 100 and column(state, "food")[1] == 100
    assert int(ev.count("DRINK_WATER")[1]) == 1 and int(ev.count("EAT_FOOD")[1]) == 1
    assert bool(terminated[1])
    # Players 3 (fog 0 is not > 0.5) and 4 (safe) are untouched; hungry: food 50 - 5 = 45.
    assert column(state, "health")[2:] == [100, 100] and column(state, "damage")[2:] == [0, 0]
    assert column(state, "food")[2:] == [45, 45]


def test_immortal_players_take_no_fog_damage():
    # IMMORTAL: the reference's Player.receive_damage returns before recording anything.
    cfg, state = scenario.build(GRASS, players=FOUR, tick=3, immortal=True, **SPEC_EXAMPLE)
    hurt, updating = fog.damage(state, cfg)
    assert column(hurt, "health") == [100] * 4 and column(hurt, "damage") == [0] * 4
    assert np.asarray(updating).tolist() == [True] * 4
    # Mortal, the same world: player 1 on +1 takes 1 (player 2's 0 is not > 0.5).
    cfg, state = scenario.build(GRASS, players=FOUR, tick=3, **SPEC_EXAMPLE)
    hurt, _ = fog.damage(state, cfg)
    assert column(hurt, "health") == [99, 100, 100, 100] and column(hurt, "damage") == [1, 0, 0, 0]


# --- half-to-even rounding and the fog observation


def test_damage_rounds_half_to_even():
    # Onset 0, speed 0.5: step k reads reset + 0.5 (k - 1) (the increment follows every step).
    cfg, state = scenario.build(GRASS, players=FOUR, **HALVES)
    damage = []
    for _ in range(5):
        _, state, *_ = step(cfg, state)
        damage.append(column(state, "damage")[:3])
    # player 1 (+1): reads 1.0, 1.5, 2.0, 2.5, 3.0 -> 1, 2, 2, 2 (2.5 to even), 3
    # player 2 (0):  reads 0.0, 0.5, 1.0, 1.5, 2.0 -> 0, 0 (0.5 is not > 0.5), 1, 2, 2
    # player 3 (-1): reads -1, -0.5, 0.0, 0.5, 1.0 -> 0, 0, 0, 0, 1
    assert damage == [[1, 0, 0], [2, 0, 0], [2, 1, 0], [2, 2, 0], [3, 2, 1]]
    # health: player 1 100 - 1 - 2 - 2 - 2 - 3 = 90; player 2 100 - 1 - 2 - 2 = 95; player 3 99
    assert column(state, "health") == [90, 95, 99, 100]


def test_fog_observation_and_the_reference_tile_quirk():
    # Player 4 stands on foilage in the safe square and eats it in step 1 (food 50 - 5 + 100).
    drawing = GRASS.splitlines()
    drawing[3] = ". . . f . . ."
    cfg, state = scenario.build("\n".join(drawing), players=FOUR, **HALVES)
    obs, state, *_ = step(cfg, state)
    # After step 1 every cell holds reset + 0.5 (safe cells -22). Player 2 at drawing (0, 3) =
    # state (8, 11) sees state rows 1..15 and columns 4..18: window (i, j) = state (1 + i, 4 + j).
    window = np.asarray(obs.fog[1])
    assert obs.fog.dtype == jnp.int16 and obs.fog.shape == (4, 15, 15)
    assert window[7, 7] == 0  # state (8, 11), ring 8: 0 + 0.5 = 0.5 -> 0 (half to even)
    assert window[6, 7] == 2  # state (7, 11), ring 7: 1.5 -> 2
    assert window[5, 7] == 2  # ring 6: 2.5 -> 2
    assert window[4, 7] == 4  # ring 5: 3.5 -> 4
    assert window[0, 0] == 8  # state (1, 4), ring 1: 7.5 -> 8
    assert window[14, 14] == 6  # state (15, 18), ring min(15, 18, 6, 3) = 3: 5.5 -> 6
    assert window[8, 7] == 0  # state (9, 11), ring 9: -0.5 -> -0 = 0
    assert window[9, 7] == window[11, 6] == -22  # state (10, 11), (12, 10): safe
    assert window[12, 7] == 0  # state (13, 11), ring min(13, 11, 8, 10) = 8: 0.5 -> 0
    assert window[13, 7] == 2  # state (14, 11), ring 7 (the row-144 ring): 1.5 -> 2
    # Every entry: round-half-even of (8 - ring + 0.5), -22 in the safe square.
    rows, cols = np.meshgrid(np.arange(1, 16), np.arange(4, 19), indexing="ij")
    ring = np.minimum.reduce([rows, cols, 21 - rows, 21 - cols])
    safe = (rows >= 10) & (rows <= 12) & (cols >= 10) & (cols <= 12)
    np.testing.assert_array_equal(window, np.where(safe, -22, np.round(8.5 - ring)))
    # Without PROVIDE_DEATH_FOG_OBS there is no fog leaf.
    assert observe(state, cfg.replace(provide_death_fog_obs=False)).fog is None


def test_reference_observation_fog_column_and_material_quirk():
    drawing = GRASS.splitlines()
    drawing[3] = ". . . f . . ."
    cfg, state = scenario.build("\n".join(drawing), players=FOUR, **HALVES)
    obs, state, *_ = step(cfg, state)
    r, c = scenario.position(cfg, 3, 3)
    assert int(material(state.tiles, state.tick)[r, c]) == m.SCRUB  # eaten: depleted foilage
    ref = reference_observation(state, cfg)
    tile = np.asarray(ref["Tile"])
    assert tile.shape == (4, 225, 4)
    centre = 7 * 15 + 7  # row-major window index of offset (0, 0)
    # Player 4's own tile: absolute (11, 11), material Foilage (quirk: the Tile map keeps its
    # reset materials once the fog column is added), fog -22.
    assert tile[3, centre].tolist() == [r, c, m.FOILAGE, -22]
    # The fog column is the same window as obs.fog, row-major.
    np.testing.assert_array_equal(tile[..., 3], np.asarray(obs.fog).reshape(4, 225))
    # Without the fog observation the same state shows the depleted tile, 3 columns.
    plain = np.asarray(
        reference_observation(state, cfg.replace(provide_death_fog_obs=False))["Tile"]
    )
    assert plain.shape == (4, 225, 3) and plain[3, centre].tolist() == [r, c, m.SCRUB]
    # The fog observation without a fog: the reference's fog map stays all zeros, and the quirk
    # still freezes the materials.
    no_fog = reference_observation(state.replace(fog=None), cfg.replace(death_fog_onset=None))
    assert np.asarray(no_fog["Tile"])[3, centre].tolist() == [r, c, m.FOILAGE, 0]
    assert not np.asarray(no_fog["Tile"])[..., 3].any()


# --- float16 growth (SPEC 10: the reference adds in float16)


def _advance(cfg, fog_map, ticks):
    """The fog map after the end-of-step updates of `ticks` (new tick values), in order."""
    run = jax.jit(lambda f, t: fog.advance(_Stub(f, t), cfg).fog)
    for t in ticks:
        fog_map = run(fog_map, jnp.int32(t))
    return np.asarray(fog_map)


class _Stub:
    """The two fields of a WorldState that `fog.advance` reads."""

    def __init__(self, fog, tick):
        self.fog, self.tick = fog, tick

    def replace(self, fog):
        return _Stub(fog, self.tick)


def test_speed_one_tenth_rounds_in_float16():
    cfg = nj.Config(**SMALL_MAP, death_fog_onset=1, death_fog_speed=0.1)
    start = fog.initial(cfg)
    # 0.1 in float16 is 1638 / 16384 = 0.0999755859375. Ring 9 (-1) gains it with each update,
    # rounded to the float16 grid (spacing 2^-11 in [-1, -0.5), 2^-12 in [-0.5, -0.25), ...):
    #   -1 + 0.0999755859375 = -0.9000244... = -1843.25 x 2^-11 -> -1843 x 2^-11 = -0.89990234375
    #   -0.89990234375 + 0.0999755859375 = -1638.25 x 2^-11 -> -1638 x 2^-11 = -0.7998046875
    # and so on: each step in [-1, -0.5) gains 0.10009765625 (a quarter spacing up), so after 5
    # updates -1 + 5 x 0.10009765625 = -0.49951171875; then -0.3995361328125 = -1636.5 x 2^-12,
    # a tie, to even -1636 x 2^-12 = -0.3994140625; continuing the same way:
    expected = [
        -0.89990234375, -0.7998046875, -0.69970703125, -0.599609375, -0.49951171875,
        -0.3994140625, -0.29931640625, -0.1993408203125, -0.099365234375, 0.0006103515625,
        0.1005859375, 0.2005615234375, 0.300537109375, 0.400390625, 0.50048828125,
    ]  # fmt: skip
    got = []
    f = start
    for t in range(1, 16):
        f = _advance(cfg, f, [t])
        got.append(float(f[9, 11]))  # state (9, 11): ring 9
    assert got == expected
    # After 15 updates the float16 sum is 0.50048828125 > 0.5: a player there now takes
    # round(0.5005) = 1 damage, where exact arithmetic (-1 + 15 x 0.1 = 0.5) would give none.
    assert got[-1] > 0.5 and -1 + 15 * 0.1 <= 0.5
    # Ring 8 (0): 0.0999755859375, 0.199951171875 (exact: 1638 x 2^-13), then 0.2999267578125
    # = 1228.5 x 2^-12, a tie, to even 1228 x 2^-12 = 0.2998046875.
    f = _advance(cfg, start, [1, 2, 3])
    assert float(f[8, 11]) == 0.2998046875


def test_speed_one_sixteenth_is_exact():
    # 1/16 = 0.0625 is a float16; sums stay exact while |value| < 128 (spacing <= 2^-4 there).
    cfg = nj.Config(**SMALL_MAP, death_fog_onset=3, death_fog_speed=1 / 16)
    f = _advance(cfg, fog.initial(cfg), range(1, 101))
    # Updates at new ticks 3..100: 98 x 0.0625 = 6.125. Ring 0: 8 + 6.125; ring 9: -1 + 6.125.
    assert float(f[0, 0]) == 14.125 and float(f[9, 11]) == 5.125
    assert float(f[11, 11]) == -22  # the safe square is reset after every update


# --- switched off


def test_fog_off_changes_nothing():
    # The same world with the fog off, and on before its onset (ticks 0, 1 < 3: no damage, no
    # growth): every state and observation leaf but the fog is the same.
    drawing = """
        . . . . . . .
        . . . ~ . . .
        . . . f . . .
        . . . . . . .
        . . . . . . .
        . . . . . . .
        . f . . . . .
        """
    players = {
        1: dict(row=6, col=1),
        2: dict(row=2, col=3, food=0),
        3: dict(row=0, col=0),
        4: dict(row=4, col=5),
    }
    off_cfg, off = scenario.build(drawing, players=players, **GEOMETRY)
    on_cfg, on = scenario.build(drawing, players=players, **SPEC_EXAMPLE)
    assert off_cfg.death_fog_onset is None and off.fog is None
    assert len(jax.tree.leaves(on)) == len(jax.tree.leaves(off)) + 1
    off_cfg = off_cfg.replace(provide_death_fog_obs=False)
    for moves in ([N, E, W, S], [E, S, N, W]):
        off_obs, off, *off_rest = step(off_cfg, off, moves)
        on_obs, on, *on_rest = step(on_cfg, on, moves)
        assert off_obs.fog is None and off.fog is None
        on_state = on.replace(fog=None)
        for a, b in zip(jax.tree.leaves(off), jax.tree.leaves(on_state), strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(
            jax.tree.leaves((off_obs, off_rest)),
            jax.tree.leaves((on_obs.replace(fog=None), on_rest)),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)


def test_config_validation():
    assert nj.Config().death_fog_onset is None  # the Default: no fog
    assert nj.Config(death_fog_onset=0).death_fog_onset == 0
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="death_fog_onset"):
            nj.Config(death_fog_onset=bad)
    with pytest.raises(ValueError, match="death_fog_speed"):
        nj.Config(death_fog_speed=-1.0)
    with pytest.raises(ValueError, match="death_fog_final_size"):
        nj.Config(death_fog_final_size=-1)
    with pytest.raises(ValueError, match="provide_death_fog_obs"):
        nj.Config(provide_death_fog_obs=1)


# --- against the reference engine (tests/data/make_reference_fog.py writes the recordings)


@pytest.fixture(scope="module")
def ref():
    with np.load(DATA) as data:
        return {k: data[k] for k in data.files}


# name: (map_size, map_border, onset, speed, final_size), as in make_reference_fog.CASES
CASES = {
    "small": (64, 16, 3, 1 / 16, 8),
    "tenth": (24, 8, 1, 0.1, 5),
    "coarse": (160, 16, 32, 0.3, 5),
    "wide": (24, 8, 0, 1.0, 20),
}


@pytest.mark.parametrize("name", CASES)
def test_fog_map_matches_reference(ref, name):
    """The reference's own update_fog_map, bit for bit: the middle row at the recorded ticks,
    the damage a player would take there (Python round) and the observation (np.round), and the
    whole map at the last tick."""
    size, border, onset, speed, final = CASES[name]
    cfg = nj.Config(
        map_size=size,
        map_center=size - 2 * border,
        death_fog_onset=onset,
        death_fog_speed=speed,
        death_fog_final_size=final,
        player_n=1,
        npc_n=0,
    )
    ticks = ref[f"{name}_ticks"]

    @jax.jit
    def run(f):
        def body(f, t):
            f = fog.advance(_Stub(f, t), cfg).fog
            return f, f[size // 2]

        return jax.lax.scan(body, f, jnp.arange(1, int(ticks[-1]) + 1))

    start = fog.initial(cfg)
    last, rows = run(start)
    rows = np.concatenate([np.asarray(start)[size // 2][None], np.asarray(rows)])[ticks]
    np.testing.assert_array_equal(rows.view(np.uint16), ref[f"{name}_row"].view(np.uint16))
    np.testing.assert_array_equal(
        np.asarray(last).view(np.uint16), ref[f"{name}_map"].view(np.uint16)
    )
    hurt = np.asarray(jnp.where(rows > 0.5, jnp.round(rows).astype(jnp.int32), 0))
    np.testing.assert_array_equal(hurt, ref[f"{name}_damage"])
    shown = np.asarray(jnp.round(jnp.asarray(rows)).astype(jnp.int16))
    np.testing.assert_array_equal(shown, ref[f"{name}_obs"])


EPISODE_FIELDS = ("row", "col", "health", "damage", "food", "water", "alive")


@pytest.fixture(scope="module")
def episode(ref):
    """Our replay of the recorded fog episode: the reference's tile map and spawn positions, its
    Move actions; per step the recorded fields, items held and the fog's middle row, and the
    states after every step."""
    ep = {k[3:]: v for k, v in ref.items() if k.startswith("ep_")}
    cfg = nj.Config.small(
        player_n=ep["row0"].shape[0],
        horizon=int(ep["horizon"]),
        death_fog_onset=int(ep["onset"]),
        death_fog_speed=float(ep["speed"]),
        death_fog_final_size=int(ep["final_size"]),
        provide_death_fog_obs=True,
        **NO_RANDOMNESS,
    )
    n = cfg.player_n
    state = spawn_players(jax.random.key(0), jnp.asarray(ep["tiles"], jnp.int8), 0, cfg)
    row, col = jnp.asarray(ep["row0"], jnp.int32), jnp.asarray(ep["col0"], jnp.int32)
    ent = state.entities
    state = state.replace(
        entities=ent.replace(
            row=ent.row.at[:n].set(row),
            col=ent.col.at[:n].set(col),
            spawn_row=ent.spawn_row.at[:n].set(row),
            spawn_col=ent.spawn_col.at[:n].set(col),
        )
    )
    env = nj.Env(cfg)
    actions = env.actions(move=jnp.asarray(ep["actions"], jnp.int32))

    @jax.jit
    def rollout(state, actions):
        def body(state, action):
            _, state, *_ = env.step(jax.random.key(1), state, action)
            p = state.players
            out = {name: getattr(p, name) for name in EPISODE_FIELDS}
            out["items"] = it.occupied(state.inventory.slots).sum(-1)
            out["fog_row"] = state.fog[cfg.map_size // 2]
            return state, (out, state)

        return jax.lax.scan(body, state, actions)[1]

    out, states = rollout(state, actions)
    return dict(
        ep=ep, cfg=cfg, initial=state, out={k: np.asarray(v) for k, v in out.items()}, states=states
    )


def test_reference_episode_is_informative(episode):
    """Fog kills (the update stopped: food and water unchanged in the death step), starvation
    deaths under fog damage, items held, fog damage up to double digits."""
    ep = episode["ep"]
    alive, n = ep["alive"], ep["alive"].shape[1]
    before = np.concatenate([np.ones((1, n), bool), alive[:-1]])
    died = before & ~alive
    food_before = np.concatenate([np.full((1, n), 100), ep["food"][:-1]])
    water_before = np.concatenate([np.full((1, n), 100), ep["water"][:-1]])
    # a player with food left loses 5 in its update, unless the fog stopped it
    stopped = died & (food_before > 0) & (ep["food"] == food_before)
    stopped &= ep["water"] == water_before
    assert stopped.sum() >= 5 and (died & ~stopped).sum() >= 5
    assert ep["damage"].max() >= 10 and ep["items"].max() >= 1


@pytest.mark.parametrize("name", EPISODE_FIELDS)
def test_reference_episode_matches(episode, name):
    ours, theirs = episode["out"][name], episode["ep"][name].astype(episode["out"][name].dtype)
    bad = np.argwhere(ours != theirs)
    assert bad.size == 0, (
        f"{name}: {len(bad)} mismatches; first after step {bad[0][0] + 1}, agent "
        f"{bad[0][1] + 1}: ours {ours[tuple(bad[0])]}, reference {theirs[tuple(bad[0])]}"
    )


def test_reference_episode_items_and_fog(episode):
    ep, out = episode["ep"], episode["out"]
    # Items held by the living (the reference's dead keep listing their destroyed items).
    alive = ep["alive"]
    np.testing.assert_array_equal(out["items"][alive], ep["items"][alive])
    np.testing.assert_array_equal(out["fog_row"].view(np.uint16), ep["fog_row"][1:].view(np.uint16))


def test_reference_episode_tile_observations(episode):
    """The Tile observations with the fog column, the frozen material column included."""
    ep, cfg = episode["ep"], episode["cfg"]
    observe_tile = jax.jit(lambda state: reference_observation(state, cfg)["Tile"])
    frozen = 0
    for k, t in enumerate(ep["obs_steps"]):
        state = episode["initial"]
        if t:
            state = jax.tree.map(lambda x, i=int(t) - 1: x[i], episode["states"])
        tile = np.asarray(observe_tile(state))
        present = ep["obs_present"][k]
        np.testing.assert_array_equal(tile[present], ep["obs_tile"][k][present])
        now = np.asarray(material(state.tiles, state.tick))
        frozen += int((now[tile[..., 0], tile[..., 1]] != tile[..., 2])[present].sum())
    assert frozen > 0  # some window shows a depleted tile as its reset material
