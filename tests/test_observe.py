"""Observations (nmmo_jax.observe) against hand-worked expectations and SPEC 11 / 12.3.

The compact Observation: the tile window, the entity window of row ids, the entity table and
each agent's own row. The reference layout: reference_observation(state, cfg).
"""

import jax
import numpy as np

import nmmo_jax as nj
from nmmo_jax import material as m
from nmmo_jax import scenario
from nmmo_jax.observe import observe, reference_observation
from nmmo_jax.state import ENTITY_COLUMNS

OBSERVE = jax.jit(observe, static_argnums=1)
REFERENCE = jax.jit(reference_observation, static_argnums=1)
COL = {name: i for i, name in enumerate(ENTITY_COLUMNS)}
R = 7  # vision radius
D = 2 * R + 1

SMALL = nj.Config.small()
SMALL_ENV = nj.Env(SMALL)
SMALL_RESET = jax.jit(SMALL_ENV.reset)

# --- a hand-built world
# Players 1, 4 and 5 share tile (1, 1); 6 is dead at (2, 3); 7 is at (3, 11), 10 columns from 1.
DRAWING = [
    "~ . f # . . . . . . . .",
    ". 1 . . 2 . . . . . . .",
    "t . 3 . o . . . . . . .",
    ". . . . . h . . . . . 7",
]
TICK = 5
CFG, STATE = scenario.build(
    "\n".join(DRAWING),
    players={
        2: dict(food=37, water=12),
        3: dict(gold=40000),  # beyond int16: clipped in the observation
        4: dict(row=1, col=1),
        5: dict(row=1, col=1),
        6: dict(row=2, col=3, alive=False, health=0),
    },
    tick=TICK,
)
STATE = scenario.depleted(STATE, 0, 2, CFG, until=TICK + 10)  # the foilage at (0, 2) is eaten
CHARS = {
    "~": m.WATER,
    ".": m.GRASS,
    "f": m.FOILAGE,
    "#": m.STONE,
    "t": m.TREE,
    "o": m.ORE,
    "h": m.HERB,
}
POSITIONS = {1: (1, 1), 2: (1, 4), 3: (2, 2), 4: (1, 1), 5: (1, 1), 6: (2, 3), 7: (3, 11)}
ALIVE = {1, 2, 3, 4, 5, 7}
# Impassable materials (SPEC 2.1), written out here rather than read from nmmo_jax.material.
IMPASSABLE = {m.VOID, m.WATER, m.STONE, m.OCEAN, m.FISH}
# Move masks [N, S, E, W, Stay] of DRAWING, read off the drawing by hand (SPEC 12.3): 1, 4 and 5
# at (1, 1) have grass on all four sides (the water at (0, 0) is diagonal); 2 at (1, 4) has grass
# N, E, W and ore S; 3 at (2, 2) has grass all round (dead 6 stands on (2, 3)); 7 at (3, 11), the
# drawing's corner, has the void border S and E; the dead 6 may only Stay.
MOVE_MASK = {
    1: [1, 1, 1, 1, 1],
    2: [1, 1, 1, 1, 1],
    3: [1, 1, 1, 1, 1],
    4: [1, 1, 1, 1, 1],
    5: [1, 1, 1, 1, 1],
    6: [0, 0, 0, 0, 1],
    7: [1, 0, 0, 1, 1],
}
B = CFG.map_border
OBS = OBSERVE(STATE, CFG)
REF = REFERENCE(STATE, CFG)


def drawing_material(row: int, col: int) -> int:
    """Material shown at drawing cell (row, col), by hand; Void outside the drawing."""
    if not (0 <= row < len(DRAWING) and 0 <= col < len(DRAWING[0].split())):
        return m.VOID
    if (row, col) == (0, 2):
        return m.SCRUB  # depleted Foilage
    char = DRAWING[row].split()[col]
    return m.GRASS if char.isdigit() else CHARS[char]


def expected_tile_window(pid: int) -> np.ndarray:
    r, c = POSITIONS[pid]
    return np.array(
        [[drawing_material(r + dr, c + dc) for dc in range(-R, R + 1)] for dr in range(-R, R + 1)]
    )


def expected_entity_window(pid: int) -> np.ndarray:
    r, c = POSITIONS[pid]
    out = np.zeros((D, D, 2), np.int16)
    for dr in range(-R, R + 1):
        for dc in range(-R, R + 1):
            here = sorted(p for p in ALIVE if POSITIONS[p] == (r + dr, c + dc))
            if here:
                out[dr + R, dc + R, 0] = here[-1]
                out[dr + R, dc + R, 1] = here[0] if len(here) > 1 else 0
    return out


def test_observation_shapes_and_dtypes_small():
    obs, state = SMALL_RESET(jax.random.key(0))
    n, e = SMALL.player_n, SMALL.n_entities
    expected = {
        "tick": ((), np.int32),
        "entities": ((e + 1, 31), np.int16),
        "window": ((n, D, D), np.uint32),
        "tile": ((n, D, D), np.int8),
        "entity": ((n, D, D, 2), np.int16),
        "agent": ((n, 31), np.int16),
        "inventory": ((n, 12, 16), np.int16),  # SPEC 11: Inventory (12, 16) per agent
        "market": ((384, 16), np.int16),  # SPEC 11: Market (384, 16), once per env
        "comm": ((n, 32), np.int16),  # SPEC 11: Communication (32 rows) as entity rows
    }
    for name, (shape, dtype) in expected.items():
        leaf = getattr(obs, name)
        assert leaf.shape == shape and leaf.dtype == dtype, name
    assert obs.action_mask.move.shape == (n, 5) and obs.action_mask.move.dtype == np.bool_
    for head in ("use", "destroy"):  # SPEC 12.1: InventoryItem = 12 rows + the no-op
        mask = getattr(obs.action_mask, head)
        assert mask.shape == (n, 13) and mask.dtype == np.bool_, head
    assert obs.action_mask.attack_style.shape == (n, 3)  # SPEC 12.1: melee, range, mage
    assert obs.action_mask.attack_target.shape == (n, e + 1)  # entity slots + the no-op
    # SPEC 12.1: Give/Sell InventoryItem 13, Price 99, MarketItem 385, Token 127 (+ our no-op)
    heads = {
        "give_item": 13,
        "give_target": e + 1,
        "give_gold_amount": 99,
        "give_gold_target": e + 1,
        "sell_item": 13,
        "sell_price": 99,
        "buy": 385,
        "comm": 128,
    }
    for head, size in heads.items():
        mask = getattr(obs.action_mask, head)
        assert mask.shape == (n, size) and mask.dtype == np.bool_, head
    assert len(ENTITY_COLUMNS) == 31
    # The pytree leaves: tick, entities, window, agent, inventory, market, comm, the 13 masks
    # and the task embedding (tile and entity are views of the packed window).
    assert len(jax.tree.leaves(obs)) == 21
    assert obs.task.shape == (n, SMALL.task_embed_dim) and obs.task.dtype == np.float16
    window = np.asarray(obs.window)
    np.testing.assert_array_equal(np.asarray(obs.tile), window & 0xF)
    np.testing.assert_array_equal(np.asarray(obs.entity)[..., 0], (window >> 4) & 0x3FFF)
    np.testing.assert_array_equal(np.asarray(obs.entity)[..., 1], window >> 18)
    # Fresh episode: row 0 and the empty NPC rows are zeros, every player's row is filled in,
    # the NPCs spawned at reset have ids -1, -2, ... (SPEC 6.1).
    entities = np.asarray(obs.entities)
    npc_alive = np.asarray(state.entities.alive[n:])
    assert not entities[0].any() and not entities[n + 1 :][~npc_alive].any()
    assert (entities[n + 1 :][npc_alive, COL["id"]] < 0).all()
    np.testing.assert_array_equal(entities[1 : n + 1, COL["id"]], np.arange(1, n + 1))
    np.testing.assert_array_equal(np.asarray(obs.agent), entities[1 : n + 1])
    # Each agent sees its own row id at the window centre (alone or with another player).
    centre = np.asarray(obs.entity)[:, R, R]
    assert all(i + 1 in centre[i] for i in range(n))
    # Stay is always allowed; the centre tile is passable.
    assert np.asarray(obs.action_mask.move)[:, 4].all()
    assert m.is_passable(np.asarray(obs.tile)[:, R, R].astype(np.int64)).all()


def test_tile_window_by_hand():
    tile = np.asarray(OBS.tile)
    one = tile[0]
    assert one[R, R] == m.GRASS  # the centre is the agent's own tile
    assert one[R - 1, R - 1] == m.WATER  # offset (-1, -1): drawing (0, 0)
    assert one[R - 1, R + 1] == m.SCRUB  # offset (-1, +1): depleted foilage
    assert one[R - 1, R + 2] == m.STONE
    assert one[R + 1, R - 1] == m.TREE
    assert one[R + 1, R + 3] == m.ORE
    assert one[R + 2, R + 4] == m.HERB
    assert one[R - 2, R] == m.VOID  # above the drawing
    assert one[R, R - 2] == m.VOID  # left of the drawing
    assert (one[: R - 1] == m.VOID).all() and (one[:, : R - 1] == m.VOID).all()
    for pid in ALIVE:
        np.testing.assert_array_equal(tile[pid - 1], expected_tile_window(pid), err_msg=str(pid))


def test_tile_window_matches_the_state_map():
    grid = np.asarray(nj.state.material(STATE.tiles, STATE.tick))
    for pid in ALIVE:
        r, c = POSITIONS[pid]
        r, c = r + B, c + B
        expected = grid[r - R : r + R + 1, c - R : c + R + 1]
        np.testing.assert_array_equal(np.asarray(OBS.tile[pid - 1]), expected)


def test_entity_window_by_hand():
    entity = np.asarray(OBS.entity)
    one = entity[0]
    np.testing.assert_array_equal(one[R, R], [5, 1])  # 1, 4, 5 on one tile: highest, then lowest
    np.testing.assert_array_equal(one[R, R + 3], [2, 0])
    np.testing.assert_array_equal(one[R + 1, R + 1], [3, 0])
    np.testing.assert_array_equal(one[R + 1, R + 2], [0, 0])  # player 6 is dead
    assert np.count_nonzero(one) == 4
    # Player 7 is 10 columns east of players 1, 4 and 5 (out of view) and sees 2 only.
    seven = entity[6]
    np.testing.assert_array_equal(seven[R, R], [7, 0])
    np.testing.assert_array_equal(seven[R - 2, R - 7], [2, 0])
    assert np.count_nonzero(seven) == 2
    for pid in ALIVE:
        expected = expected_entity_window(pid)
        np.testing.assert_array_equal(entity[pid - 1], expected, err_msg=str(pid))
    # The shared tile looks the same to the three players on it.
    np.testing.assert_array_equal(entity[3], entity[0])
    np.testing.assert_array_equal(entity[4], entity[0])


def test_dead_agents_see_zeros_and_are_not_seen():
    dead = 6 - 1
    assert not np.asarray(OBS.tile[dead]).any()
    assert not np.asarray(OBS.entity[dead]).any()
    assert not np.asarray(OBS.agent[dead]).any()
    assert not np.asarray(OBS.entities[6]).any()
    np.testing.assert_array_equal(np.asarray(OBS.action_mask.move[dead]), [0, 0, 0, 0, 1])
    assert not (np.asarray(OBS.entity) == 6).any()


def test_entity_table_rows():
    entities = np.asarray(OBS.entities)
    assert entities.shape == (CFG.n_entities + 1, 31) and entities.dtype == np.int16
    assert not entities[0].any()
    columns = np.asarray(STATE.entities.columns())
    for pid in range(1, CFG.player_n + 1):
        np.testing.assert_array_equal(np.asarray(OBS.agent[pid - 1]), entities[pid])
        if pid in ALIVE:
            expected = np.clip(columns[pid - 1], -(2**15), 2**15 - 1)
            np.testing.assert_array_equal(entities[pid], expected, err_msg=str(pid))
            r, c = POSITIONS[pid]
            assert entities[pid, COL["id"]] == pid
            assert (entities[pid, COL["row"]], entities[pid, COL["col"]]) == (r + B, c + B)
            assert entities[pid, COL["health"]] == 100
            assert entities[pid, COL["gold"]] == (32767 if pid == 3 else 1)
            levels = [COL[f"{s}_level"] for s in nj.state.SKILLS]
            assert (entities[pid, levels] == 1).all()
        else:
            assert not entities[pid].any()
    assert (entities[2, COL["food"]], entities[2, COL["water"]]) == (37, 12)
    assert OBS.tick.dtype == np.int32 and int(OBS.tick) == TICK


def test_move_mask_is_habitability_of_the_neighbours():
    mask = np.asarray(OBS.action_mask.move)
    assert mask.dtype == np.bool_
    for pid in range(1, CFG.player_n + 1):
        r, c = POSITIONS[pid]
        if pid in ALIVE:
            neighbours = [(r - 1, c), (r + 1, c), (r, c + 1), (r, c - 1)]  # N, S, E, W
            expected = [drawing_material(*p) not in IMPASSABLE for p in neighbours] + [True]
        else:
            expected = [False] * 4 + [True]
        np.testing.assert_array_equal(mask[pid - 1], expected, err_msg=str(pid))
        np.testing.assert_array_equal(mask[pid - 1], MOVE_MASK[pid], err_msg=str(pid))


# A second world whose agents have every impassable material next to them (SPEC 2.1, 12.3).
# Player 1: water N, depleted foilage S (shows Scrub: habitable), scrub E, stone W.
# Player 2: depleted fish N (shows Ocean), stone S, foilage E, fish W.
# Player 3: ocean N, the void border S and E, grass W. Player 4 is dead.
MASK_DRAWING = """
. ~ . . x . .
# 1 , x 2 f =
. f . . # . 3
"""
MASK_CFG, MASK_STATE = scenario.build(
    MASK_DRAWING, players={4: dict(row=0, col=0, alive=False, health=0)}
)
MASK_STATE = scenario.depleted(MASK_STATE, 2, 1, MASK_CFG, until=100)
MASK_STATE = scenario.depleted(MASK_STATE, 0, 4, MASK_CFG, until=100)
MASK_EXPECTED = [
    [0, 1, 1, 0, 1],
    [0, 0, 1, 0, 1],
    [0, 0, 0, 1, 1],
    [0, 0, 0, 0, 1],
]


def test_move_mask_next_to_every_impassable_material():
    obs = OBSERVE(MASK_STATE, MASK_CFG)
    np.testing.assert_array_equal(np.asarray(obs.action_mask.move), MASK_EXPECTED)
    ref = REFERENCE(MASK_STATE, MASK_CFG)["ActionTargets"]["Move"]["Direction"]
    assert ref.dtype == np.int8
    np.testing.assert_array_equal(np.asarray(ref), MASK_EXPECTED)


# --- reference_observation (SPEC 11)


def test_reference_observation_keys_shapes_dtypes():
    n = CFG.player_n
    assert set(REF) == {
        "CurrentTick",
        "AgentId",
        "Tile",
        "Entity",
        "Inventory",
        "Market",
        "Communication",
        "ActionTargets",
    }
    assert REF["Inventory"].shape == (n, 12, 16) and REF["Inventory"].dtype == np.int16
    assert REF["Market"].shape == (n, 384, 16) and REF["Market"].dtype == np.int16
    assert REF["Communication"].shape == (n, 32, 4) and REF["Communication"].dtype == np.int16
    # SPEC 12.1: every action and argument, with the reference's sizes (Default config)
    sizes = {
        ("Attack", "Style"): 3,
        ("Attack", "Target"): CFG.player_n_obs + 1,
        ("Buy", "MarketItem"): 385,
        ("Comm", "Token"): 127,
        ("Destroy", "InventoryItem"): 13,
        ("Give", "InventoryItem"): 13,
        ("Give", "Target"): CFG.player_n_obs + 1,
        ("GiveGold", "Price"): 99,
        ("GiveGold", "Target"): CFG.player_n_obs + 1,
        ("Move", "Direction"): 5,
        ("Sell", "InventoryItem"): 13,
        ("Sell", "Price"): 99,
        ("Use", "InventoryItem"): 13,
    }
    targets = REF["ActionTargets"]
    assert {(a, b) for a in targets for b in targets[a]} == set(sizes)
    for (action, argument), size in sizes.items():
        mask = targets[action][argument]
        assert mask.shape == (n, size) and mask.dtype == np.int8, (action, argument)
    assert REF["CurrentTick"].shape == (n,) and REF["CurrentTick"].dtype == np.int16
    assert REF["AgentId"].shape == (n,) and REF["AgentId"].dtype == np.int16
    assert REF["Tile"].shape == (n, D * D, 3) and REF["Tile"].dtype == np.int16
    assert REF["Entity"].shape == (n, CFG.player_n_obs, 31) and REF["Entity"].dtype == np.int16
    move = REF["ActionTargets"]["Move"]["Direction"]
    assert move.shape == (n, 5) and move.dtype == np.int8


def test_reference_observation_tile_rows():
    tile = np.asarray(REF["Tile"])
    for pid in ALIVE:
        r, c = POSITIONS[pid]
        expected = [
            (r + B + dr, c + B + dc, drawing_material(r + dr, c + dc))
            for dr in range(-R, R + 1)  # row offset outer
            for dc in range(-R, R + 1)
        ]
        np.testing.assert_array_equal(tile[pid - 1], np.array(expected), err_msg=str(pid))
        # The same materials as the compact window, row-major.
        compact = np.asarray(OBS.tile[pid - 1]).reshape(-1)
        np.testing.assert_array_equal(tile[pid - 1, :, 2], compact)
    assert tile[0, 0].tolist() == [1 + B - R, 1 + B - R, m.VOID]
    assert tile[0, D * R + R].tolist() == [1 + B, 1 + B, m.GRASS]  # the centre, row 112


def test_reference_observation_entity_rows():
    entity = np.asarray(REF["Entity"])
    entities = np.asarray(OBS.entities)
    for pid in ALIVE:
        r, c = POSITIONS[pid]
        visible = [
            p for p in sorted(ALIVE) if max(abs(POSITIONS[p][0] - r), abs(POSITIONS[p][1] - c)) <= R
        ]
        expected = np.zeros((CFG.player_n_obs, 31), np.int16)
        expected[: len(visible)] = entities[visible]
        np.testing.assert_array_equal(entity[pid - 1], expected, err_msg=str(pid))
    # Spot checks: player 1 sees 1, 2, 3, 4, 5 (not the dead 6, not 7 at distance 10).
    np.testing.assert_array_equal(entity[0, :6, COL["id"]], [1, 2, 3, 4, 5, 0])
    np.testing.assert_array_equal(entity[6, :3, COL["id"]], [2, 7, 0])
    # Player 2 at (1, 4) sees 7 at (3, 11), at distance exactly 7.
    np.testing.assert_array_equal(entity[1, :7, COL["id"]], [1, 2, 3, 4, 5, 7, 0])
    assert entity[1, 1, COL["food"]] == 37 and entity[1, 1, COL["water"]] == 12


def test_reference_observation_masks_and_ids():
    np.testing.assert_array_equal(np.asarray(REF["AgentId"]), np.arange(1, CFG.player_n + 1))
    tick = np.asarray(REF["CurrentTick"])
    np.testing.assert_array_equal(tick, [TICK if p in ALIVE else 0 for p in range(1, 8)])
    move = np.asarray(REF["ActionTargets"]["Move"]["Direction"])
    np.testing.assert_array_equal(move, [MOVE_MASK[pid] for pid in range(1, CFG.player_n + 1)])


def test_reference_observation_of_a_dead_agent():
    dead = 6 - 1
    assert int(REF["AgentId"][dead]) == 6
    assert int(REF["CurrentTick"][dead]) == 0
    assert not np.asarray(REF["Tile"][dead]).any()
    assert not np.asarray(REF["Entity"][dead]).any()
    move = np.asarray(REF["ActionTargets"]["Move"]["Direction"][dead])
    assert move.dtype == np.int8
    np.testing.assert_array_equal(move, [0, 0, 0, 0, 1])
    # Nobody else lists the dead agent.
    assert not (np.asarray(REF["Entity"])[..., COL["id"]] == 6).any()


CROWD_CFG, CROWD_STATE = scenario.build(
    "\n".join(DRAWING),
    players={4: dict(row=1, col=1), 5: dict(row=1, col=1), 6: dict(row=2, col=3)},
    player_n_obs=3,
)


def test_reference_observation_keeps_the_nearest_when_crowded():
    """More than PLAYER_N_OBS entities in view: the nearest are kept (DEVIATIONS; the
    reference crashes)."""
    entity = np.asarray(REFERENCE(CROWD_STATE, CROWD_CFG)["Entity"])
    assert entity.shape == (CROWD_CFG.player_n, 3, 31)
    positions = dict(POSITIONS)
    for pid in range(1, CROWD_CFG.player_n + 1):
        r, c = positions[pid]

        def distance(p, r=r, c=c):
            return max(abs(positions[p][0] - r), abs(positions[p][1] - c))

        visible = {p for p in positions if distance(p) <= R}
        kept = [int(i) for i in entity[pid - 1, :, COL["id"]] if i != 0]
        assert len(kept) == min(3, len(visible)) and len(set(kept)) == len(kept)
        assert set(kept) <= visible
        dropped = visible - set(kept)
        if dropped:
            assert max(distance(p) for p in kept) <= min(distance(p) for p in dropped), pid


def test_reference_observation_agrees_with_observe_on_a_real_map():
    obs, state = SMALL_RESET(jax.random.key(4))
    ref = REFERENCE(state, SMALL)
    n = SMALL.player_n
    tile = np.asarray(ref["Tile"])
    np.testing.assert_array_equal(tile[..., 2], np.asarray(obs.tile).reshape(n, -1))
    row = np.asarray(state.entities.row[:n])
    col = np.asarray(state.entities.col[:n])
    np.testing.assert_array_equal(tile[:, D * R + R, :2], np.stack([row, col], axis=-1))
    # The Move masks, worked out from the generated map: a neighbour is habitable unless its base
    # material is impassable (SPEC 2.1, 12.3); everyone is alive at reset.
    base = np.asarray(state.tiles.base)
    neighbours = np.stack(
        [base[row - 1, col], base[row + 1, col], base[row, col + 1], base[row, col - 1]], axis=-1
    )  # N, S, E, W
    expected = np.concatenate(
        [~np.isin(neighbours, list(IMPASSABLE)), np.ones((n, 1), bool)], axis=-1
    )
    assert not expected[:, :4].all()  # agents on the edge have the void border next to them
    np.testing.assert_array_equal(np.asarray(obs.action_mask.move), expected)
    np.testing.assert_array_equal(np.asarray(ref["ActionTargets"]["Move"]["Direction"]), expected)
    # Every entity of the compact window is listed (by id) in the reference Entity rows, NPCs
    # included (the window holds rows of obs.entities; their id column names them).
    ids = np.asarray(ref["Entity"])[..., COL["id"]]
    window = np.asarray(obs.entity)
    window_ids = np.asarray(obs.entities)[window, COL["id"]]
    for i in range(n):
        listed = set(ids[i][ids[i] != 0].tolist())
        shown = set(window_ids[i][window[i] != 0].tolist())
        assert i + 1 in listed and shown <= listed
