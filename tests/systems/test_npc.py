"""NPCs: spawning by danger and their stats, the population ramp-up, behaviour (passive,
neutral, hostile), their attacks, A*'s first step, occupancy, regeneration (SPEC 5.3, 6, 13.1).

Every expected value is worked out by hand from the SPEC; the arithmetic is in the comments.

Behaviour scenarios share one 16 x 16 drawing square with 4 player and 4 NPC slots and no NPC
refill (`npc_spawn_attempts=0`). NPC k of a scenario is entity slot 4 + k and has id -(k + 1);
player id i is slot i - 1. A neutral NPC adopts its attacker as its target (SPEC 6.3); a scenario
NPC built with `attacker_id=i` starts as if player i had hit it in the previous step, since the
decisions run before the update that clears `attacker_id` (SPEC 13.1). Players have
food = water = 50 (HUNGRY): no health regeneration, so their health only moves by hits.

NPC damage (SPEC 5.3): offense int(8 * lvl); a player's defense is 5 * player level +
equipment; damage = int(max(mult * offense - defense, 0.25 * offense)).
"""

import functools

import jax
import numpy as np
import pytest

import nmmo_jax as nj
from nmmo_jax import items as it
from nmmo_jax import material as m
from nmmo_jax import scenario
from nmmo_jax.config import Config

MELEE, RANGE, MAGE = 0, 1, 2
PASSIVE, NEUTRAL, HOSTILE = 1, 2, 3
SIZE = 16
N_PLAYERS, N_NPCS = 4, 4
GEOMETRY = dict(map_center=SIZE, map_size=SIZE + 16, player_n=N_PLAYERS, npc_n=N_NPCS)
RULES = dict(npc_spawn_attempts=0, weapon_drop_prob=0.0)
HUNGRY = dict(food=50, water=50)
IMPASSABLE = (m.VOID, m.WATER, m.STONE, m.OCEAN, m.FISH)


def slot(k):
    """Entity slot of NPC k."""
    return N_PLAYERS + k


def pocket(r, c):
    """The four neighbours of (r, c): stone there keeps an NPC on (r, c) (SPEC 6.3: a meander
    with no habitable direction picks North, which fails; a charge cannot step either)."""
    return [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)]


def drawing(players=(), stones=(), size=SIZE):
    """A grass square with player digits at `players` {id: (row, col)} and stone at `stones`."""
    grid = [["."] * size for _ in range(size)]
    for r, c in stones:
        grid[r][c] = "#"
    for pid, (r, c) in dict(players).items():
        grid[r][c] = str(pid)
    return "\n".join(" ".join(row) for row in grid)


def build(players=None, stones=(), npcs=None, player_columns=None, **rules):
    players = dict(players or {})
    columns = {pid: dict(HUNGRY) for pid in players}
    for pid, extra in (player_columns or {}).items():
        columns[pid].update(extra)
    return scenario.build(
        drawing(players, stones), columns, 0, npcs, **GEOMETRY, **dict(RULES, **rules)
    )


@functools.cache
def _compiled_step(cfg):
    return jax.jit(nj.Env(cfg).step)


def run(cfg, state, attacks=None, steps=1):
    """`steps` jitted env steps; `attacks` maps a player id to the slot it hits with melee."""
    env = nj.Env(cfg)
    target = np.full(cfg.player_n, cfg.n_entities, np.int32)
    for pid, s in (attacks or {}).items():
        target[pid - 1] = s
    actions = env.actions(attack_style=MELEE, attack_target=target)
    for _ in range(steps):
        _, state, *_ = _compiled_step(cfg)(jax.random.key(int(state.tick)), state, actions)
    return state


def col(state, name):
    return np.asarray(getattr(state.entities, name))


def pos(state, i):
    return int(col(state, "row")[i]), int(col(state, "col")[i])


def at(cfg, r, c):
    """State coordinates of drawing cell (r, c)."""
    return scenario.position(cfg, r, c)


# --- danger, type and level (SPEC 6.1, 6.2)


def edge_distance(r, c, border, centre):
    """min(r - B, B + C - 1 - r, c - B, B + C - 1 - c): the d of danger = 2 d / C."""
    return min(r - border, border + centre - 1 - r, c - border, border + centre - 1 - c)


def spec_type_and_level(d, centre, level_min, level_max):
    """SPEC 6.1-6.2 written out: danger = 2 d / C; >= 0.8 hostile, >= 0.5 neutral, else
    passive; level = int(danger * (LMAX - LMIN) + LMIN)."""
    danger = 2 * d / centre
    kind = HOSTILE if danger >= 0.8 else NEUTRAL if danger >= 0.5 else PASSIVE
    return kind, int(danger * (level_max - level_min) + level_min)


# Default (Medium) map: B = 16, C = 128, levels 1..10 (a span of 9). d = the ring's distance from
# the walkable edge; a sample state position (row, col) = (16 + d, ...) is in the comment.
DEFAULT_RINGS = [
    (0, PASSIVE, 1),  # (16, 40): danger 0 -> passive; int(0 * 9 + 1) = 1
    (27, PASSIVE, 4),  # (43, 80): 54/128 = 0.421875; int(3.796875 + 1) = 4
    (31, PASSIVE, 5),  # (47, 80): 62/128 = 0.484375 < 0.5; int(4.359375 + 1) = 5
    (32, NEUTRAL, 5),  # (48, 80): 64/128 = 0.5 -> neutral; int(4.5 + 1) = 5
    (51, NEUTRAL, 8),  # (67, 80): 102/128 = 0.796875 < 0.8; int(7.171875 + 1) = 8
    (52, HOSTILE, 8),  # (68, 80): 104/128 = 0.8125 -> hostile; int(7.3125 + 1) = 8
    (63, HOSTILE, 9),  # (79, 80): 126/128 = 0.984375 (the maximum); int(8.859375 + 1) = 9
]
# Config.small(): B = 16, C = 32, levels 1..5 (a span of 4).
SMALL_RINGS = [
    (0, PASSIVE, 1),  # danger 0; int(0 + 1) = 1
    (3, PASSIVE, 1),  # 6/32 = 0.1875; int(0.75 + 1) = 1
    (4, PASSIVE, 2),  # 8/32 = 0.25; int(1.0 + 1) = 2
    (7, PASSIVE, 2),  # 14/32 = 0.4375; int(1.75 + 1) = 2
    (8, NEUTRAL, 3),  # 16/32 = 0.5 -> neutral; int(2.0 + 1) = 3
    (12, NEUTRAL, 4),  # 24/32 = 0.75; int(3.0 + 1) = 4
    (13, HOSTILE, 4),  # 26/32 = 0.8125 -> hostile; int(3.25 + 1) = 4
    (15, HOSTILE, 4),  # 30/32 = 0.9375 (the maximum); int(3.75 + 1) = 4
]


def test_the_hand_tables_follow_the_spec_formula():
    for d, kind, level in DEFAULT_RINGS:
        assert spec_type_and_level(d, 128, 1, 10) == (kind, level)
    for d, kind, level in SMALL_RINGS:
        assert spec_type_and_level(d, 32, 1, 5) == (kind, level)


def ring_map(centre, ring):
    """A drawing of the walkable square where only the tiles at distance `ring` from its edge
    are grass (the rest stone): every NPC spawns on that ring (impassable draws are wasted)."""
    return "\n".join(
        "".join(
            "." if min(r, centre - 1 - r, c, centre - 1 - c) == ring else "#" for c in range(centre)
        )
        for r in range(centre)
    )


def ring_config(kind):
    # 4096 attempts per step (the most Config allows) so that even a 4-tile ring gets NPCs
    if kind == "default":
        return dict(map_center=128, map_size=160, npc_level_max=10)
    return dict(map_center=32, map_size=64, npc_level_max=5)


@pytest.mark.parametrize(
    "kind, ring, npc_type, level",
    [("default", *case) for case in DEFAULT_RINGS] + [("small", *case) for case in SMALL_RINGS],
)
def test_npcs_spawned_on_a_ring_have_its_type_and_level(kind, ring, npc_type, level):
    geometry = ring_config(kind)
    centre = geometry["map_center"]
    cfg, state = scenario.build(
        ring_map(centre, ring),
        None,
        0,
        None,
        player_n=1,  # player 1 is a dead placeholder: nobody to chase
        npc_n=64,
        npc_spawn_attempts=4096,
        **geometry,
    )
    assert cfg.map_border == 16
    n = cfg.player_n
    for _ in range(12):  # a ring of 4 tiles expects 4096 * 4 / C^2 >= 1 spawn per step
        state = run(cfg, state)
        if col(state, "alive")[n:].any():
            break
    alive = col(state, "alive")[n:]
    assert alive.any()
    new = alive & (col(state, "time_alive")[n:] == 0)  # spawned at the end of the last step
    for name, expected in (
        ("npc_type", npc_type),
        ("gold", level),  # gold = L
        ("health", 100),
        ("item_level", 0),  # reads 0 until the NPC's first update (SPEC 6.2)
    ):
        assert (col(state, name)[n:][new] == expected).all(), name
    styles = np.stack([col(state, f"{s}_level")[n:] for s in ("melee", "range", "mage")], -1)
    exps = np.stack([col(state, f"{s}_exp")[n:] for s in ("melee", "range", "mage")], -1)
    for i in np.flatnonzero(alive):
        r, c = pos(state, n + i)
        assert edge_distance(r, c, 16, centre) == ring
        assert col(state, "npc_type")[n + i] == npc_type
        # the style's level is L with exp 1 (SPEC 18.3), the other two 0 / 0
        assert sorted(styles[i].tolist()) == [0, 0, level]
        s = int(np.argmax(styles[i]))
        assert exps[i].tolist() == [int(j == s) for j in range(3)]
        assert col(state, "id")[n + i] < 0
    ids = col(state, "id")[n:][alive]
    assert len(set(ids.tolist())) == len(ids)
    # one more step: each NPC's update copies item_level = int(5 lvl), lvl = L - U, U in [0, 1):
    # 5 lvl in (5 L - 5, 5 L], so int(5 lvl) in [5 L - 5, 5 L]
    state = run(cfg, state)
    old = col(state, "alive")[n:] & (col(state, "time_alive")[n:] >= 1)
    item_level = col(state, "item_level")[n:][old]
    assert old.any()
    assert ((item_level >= 5 * level - 5) & (item_level <= 5 * level)).all()


# --- the population (SPEC 6.1)


@functools.cache
def ramp(npc_n, steps=40):
    """NPC counts and the states after reset and each of `steps` no-op steps on Config.small."""
    cfg = Config.small(npc_n=npc_n)
    env = nj.Env(cfg)
    step = jax.jit(env.step)
    _, state = jax.jit(env.reset)(jax.random.key(3))
    states = [state]
    for k in range(steps):
        _, state, *_ = step(jax.random.key(100 + k), state, env.noop_actions)
        states.append(state)
    counts = [int(s.entities.alive[cfg.player_n :].sum()) for s in states]
    return cfg, counts, states


@pytest.mark.parametrize("npc_n", [8, 100])
def test_the_npc_count_ramps_up_by_at_most_25_per_step(npc_n):
    cfg, counts, _ = ramp(npc_n)
    # 25 attempts at reset and at the end of each step, stopping at NPC_N alive
    assert 1 <= counts[0] <= min(25, npc_n)
    assert all(c <= npc_n for c in counts)
    steps = np.diff(counts)
    assert (steps >= 0).all()  # no player attacks, so no NPC dies
    assert (steps <= 25).all()
    assert counts[-1] == npc_n
    if npc_n == 100:
        # after step k at most 25 (k + 1) are alive: 100 needs k >= 3
        assert counts.index(npc_n) >= 3


def test_every_spawned_npc_stands_on_a_habitable_tile_of_its_danger():
    cfg, _, states = ramp(100)
    n, b, c = cfg.player_n, cfg.map_border, cfg.map_center
    checked = 0
    for state in states:
        base = np.asarray(state.tiles.base)
        new = col(state, "alive")[n:] & (col(state, "time_alive")[n:] == 0)
        for i in np.flatnonzero(new):
            r, cc = pos(state, n + i)
            assert b <= r < b + c and b <= cc < b + c
            assert base[r, cc] not in IMPASSABLE
            kind, level = spec_type_and_level(edge_distance(r, cc, b, c), c, 1, 5)
            assert col(state, "npc_type")[n + i] == kind
            attack_level = max(col(state, f"{s}_level")[n + i] for s in ("melee", "range", "mage"))
            assert attack_level == level
            assert 1 <= level <= 4  # Small: danger <= 30/32 -> level <= int(4.75) = 4
            checked += 1
    assert checked == 100  # every NPC was checked in the state right after its spawn


# --- behaviour (SPEC 6.3)


def test_a_neutral_npc_retaliates_against_its_attacker():
    cfg, state = build(
        players={1: (0, 0)},
        stones=pocket(1, 1),
        npcs=[dict(row=1, col=1, npc_type=NEUTRAL)],
    )
    state = run(cfg, state, attacks={1: slot(0)})
    # step 1: the NPC decided before the hit: no target yet. The hit: lvl 1 defense 8:
    # 15 - 8 = 7; its health 100 (+1 capped) - 7 = 93
    assert col(state, "target")[slot(0)] == -1
    assert col(state, "attacker_id")[slot(0)] == 1
    assert col(state, "health")[slot(0)] == 93
    assert col(state, "health")[0] == 100
    state = run(cfg, state)
    # step 2: the attacker becomes the target (slot 0) and is hit from Chebyshev 1:
    # offense int(8 * 1) = 8; player 1's melee exp 6 is dominant, melee does not beat melee:
    # max(8 - 5, 2) = 3
    assert col(state, "target")[slot(0)] == 0
    assert col(state, "health")[0] == 97
    assert col(state, "attacker_id")[0] == -1
    assert col(state, "latest_combat_tick")[0] == 2
    assert col(state, "health")[slot(0)] == 94  # 93 + 1
    state = run(cfg, state)
    # step 3: the target is kept though not hit again
    assert col(state, "target")[slot(0)] == 0
    assert col(state, "health")[0] == 94


def test_a_neutral_npc_charges_its_attacker_and_attacks_within_3():
    cfg, state = build(
        players={1: (8, 2)},
        npcs=[dict(row=8, col=7, npc_type=NEUTRAL, attacker_id=1)],
    )
    health, where = [], []
    for _ in range(3):
        state = run(cfg, state)
        health.append(int(col(state, "health")[0]))
        where.append(pos(state, slot(0)))
        assert col(state, "target")[slot(0)] == 0
    # the NPC steps West each step: (8, 7) -> (8, 6) -> (8, 5) -> (8, 4). It attacks only when
    # the target is within 3 at decide time: distances 5, 4, 3 -> a hit in step 3 only,
    # max(8 - 5, 2) = 3 (player 1 has no combat exp: mult 1)
    assert where == [at(cfg, 8, 6), at(cfg, 8, 5), at(cfg, 8, 4)]
    assert health == [100, 100, 97]


def test_a_passive_npc_never_attacks():
    cfg, state = build(
        players={1: (0, 0)},
        stones=pocket(1, 1),
        npcs=[dict(row=1, col=1, npc_type=PASSIVE, attacker_id=1)],
    )
    state = run(cfg, state, attacks={1: slot(0)})
    for _ in range(3):
        state = run(cfg, state)
        assert col(state, "target")[slot(0)] == -1
        assert col(state, "health")[0] == 100
        assert col(state, "attacker_id")[0] == 0
    assert col(state, "latest_combat_tick")[0] == 1  # its own attack of step 1 only
    assert pos(state, slot(0)) == at(cfg, 1, 1)


def test_a_hostile_npc_targets_the_closest_visible_player():
    cfg, state = build(
        # from the NPC at (8, 8), Chebyshev: 1 at 5 (Manhattan 5), 2 and 3 at 4 (Manhattan 8),
        # 4 at 7
        players={1: (8, 13), 2: (4, 4), 3: (12, 12), 4: (1, 8)},
        npcs=[dict(row=8, col=8, npc_type=HOSTILE)],
    )
    state = run(cfg, state)
    # the closest by Chebyshev distance, ties by the lower datastore row: player 2 (slot 1)
    assert col(state, "target")[slot(0)] == 1
    # the first A* step toward a goal to the north-west is North (SPEC 6.4): (7, 8); no attack
    # from distance 4
    assert pos(state, slot(0)) == at(cfg, 7, 8)
    assert (col(state, "latest_combat_tick")[:4] == 0).all()
    state = run(cfg, state)
    # the target is kept (alive, distance max(3, 4) = 4 <= 7); A* toward (4, 4) from (7, 8)
    # again goes North first: every node of f = 7 lies in rows 4..7, cols 4..8, and the heap
    # pops the smaller row first, so the search runs up column 8 before turning West: (6, 8)
    assert col(state, "target")[slot(0)] == 1
    assert pos(state, slot(0)) == at(cfg, 6, 8)


def test_a_hostile_npc_sees_nobody_beyond_its_vision():
    # from (8, 8): (0, 0) at 8, (0, 15) at max(8, 7) = 8, (15, 0) at max(7, 8) = 8: none within 7
    cfg, state = build(
        players={1: (0, 0), 2: (0, 15), 3: (15, 0)},
        npcs=[dict(row=8, col=8, npc_type=HOSTILE)],
    )
    state = run(cfg, state)
    assert col(state, "target")[slot(0)] == -1
    # it meanders: one step in some direction (every neighbour is grass)
    r, c = pos(state, slot(0))
    r0, c0 = at(cfg, 8, 8)
    assert abs(r - r0) + abs(c - c0) == 1


def test_npc_attacks_follow_the_damage_formula():
    # NPC k in a pocket at (1, 1 + 4k), player k + 1 diagonal to it at (0, 4k) (Chebyshev 1);
    # each NPC is neutral with player k + 1 as its attacker, so it targets that player only
    npc_at = [(1, 1 + 4 * k) for k in range(4)]
    cfg, state = build(
        players={k + 1: (0, 4 * k) for k in range(4)},
        stones=[cell for r, c in npc_at for cell in pocket(r, c)],
        npcs=[
            dict(row=r, col=c, npc_type=NEUTRAL, attacker_id=k + 1, style=style, lvl=lvl)
            for k, ((r, c), (style, lvl)) in enumerate(
                zip(npc_at, [(MELEE, 2.5), (MAGE, 2.5), (RANGE, 1.0), (MELEE, 2.5)], strict=True)
            )
        ],
        player_columns={2: dict(melee_exp=10), 4: dict(fishing_level=3)},
    )
    state = scenario.give(state, cfg, 3, it.ROD, 1, equipped=True)
    state = scenario.give(state, cfg, 4, it.HAT, 1, equipped=True)
    state = run(cfg, state)
    # NPC 0: offense int(8 * 2.5) = 20; player 1 level 1, no gear: defense 5; no exp: mult 1;
    #        max(20 - 5, 5) = 15
    # NPC 1: mage 20 vs player 2 whose melee exp is dominant: Mage beats Melee:
    #        1.5 * 20 - 5 = 25
    # NPC 2: range int(8 * 1.0) = 8 vs player 3 with a Rod: 5 + 15 = 20: max(8 - 20, 2) = 2
    # NPC 3: 20 vs player 4 of player level 3 (fishing 3) with a Hat L1: 15 + 3 = 18:
    #        max(20 - 18, 0.25 * 20 = 5) = 5
    assert col(state, "damage")[:4].tolist() == [15, 25, 2, 5]
    assert col(state, "health")[:4].tolist() == [85, 75, 98, 95]
    assert col(state, "attacker_id")[:4].tolist() == [-1, -2, -3, -4]
    assert col(state, "latest_combat_tick")[:4].tolist() == [1, 1, 1, 1]
    assert (col(state, "latest_combat_tick")[4:] == 1).all()
    # NPCs log no SCORE_HIT and gain no XP (the style exp stays 1)
    assert np.asarray(state.events.count("SCORE_HIT"))[4:].tolist() == [0, 0, 0, 0]
    exps = [col(state, f"{s}_exp")[4:].tolist() for s in ("melee", "range", "mage")]
    assert exps == [[1, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0]]


def test_npcs_never_attack_immortal_players():
    # a hostile NPC next to player 1, a neutral one with player 2 as its attacker next to it
    cfg, state = build(
        players={1: (0, 0), 2: (0, 4)},
        stones=pocket(1, 1) + pocket(1, 5),
        npcs=[
            dict(row=1, col=1, npc_type=HOSTILE, lvl=5.0),
            dict(row=1, col=5, npc_type=NEUTRAL, attacker_id=2, lvl=5.0),
        ],
        player_columns={1: dict(health=60), 2: dict(health=60)},
        immortal=True,
    )
    for _ in range(3):
        state = run(cfg, state)
        # no hit at all: the immortal skip regeneration too, so health stays 60
        assert col(state, "health")[:2].tolist() == [60, 60]
        assert col(state, "latest_combat_tick")[:2].tolist() == [0, 0]
        assert col(state, "latest_combat_tick")[slot(0) : slot(2)].tolist() == [0, 0]
        assert col(state, "attacker_id")[:2].tolist() == [0, 0]


@pytest.mark.parametrize(
    "npc, player, first",
    [
        # SPEC 6.4 (verified): toward the south-east the first step is East ...
        ((4, 4), (7, 7), (4, 5)),
        # ... toward the north-west it is North
        ((8, 8), (5, 5), (7, 8)),
        # south-west: W (r, c - 1) and S (r + 1, c) both have f = 1 + 5 = 6; the heap pops the
        # smaller row first and expands row r westward, so the goal is discovered along column
        # c - 3 from (r, c - 3): the path starts West
        ((8, 4), (11, 1), (8, 3)),
        # north-east: N (r - 1, c) pops before E (r, c + 1) (smaller row) and the search runs up
        # column c to row r - 3, then east: the path starts North
        ((14, 9), (11, 12), (13, 9)),
        # straight lines: the only neighbour with f = 1 + 2 = 3 (the others have 1 + 4 = 5)
        ((8, 8), (11, 8), (9, 8)),
        ((8, 8), (8, 5), (8, 7)),
    ],
)
def test_a_charge_takes_the_first_step_of_astar_on_an_open_field(npc, player, first):
    cfg, state = build(
        players={1: player},
        npcs=[dict(row=npc[0], col=npc[1], npc_type=NEUTRAL, attacker_id=1)],
    )
    state = run(cfg, state)
    assert col(state, "target")[slot(0)] == 0
    assert pos(state, slot(0)) == at(cfg, *first)


def test_npcs_ignore_occupancy():
    # two neutral NPCs next to player 1 (5, 5), both with it as their attacker: both step onto its
    # tile (West from (5, 6), North from (6, 5))
    cfg, state = build(
        players={1: (5, 5)},
        npcs=[
            dict(row=5, col=6, npc_type=NEUTRAL, attacker_id=1),
            dict(row=6, col=5, npc_type=NEUTRAL, attacker_id=1),
        ],
    )
    state = run(cfg, state)
    assert pos(state, slot(0)) == pos(state, slot(1)) == pos(state, 0) == at(cfg, 5, 5)
    # both attacked from Chebyshev 1 before moving: 2 * max(8 - 5, 2) = 6; NPCs act in spawn
    # order, so the last hit is NPC 1's (id -2)
    assert col(state, "health")[0] == 94
    assert col(state, "attacker_id")[0] == -2


def test_npc_health_regenerates_one_per_tick_up_to_100():
    pockets = [(1, 1), (1, 5), (1, 9), (1, 13)]
    cfg, state = build(
        stones=[cell for r, c in pockets for cell in pocket(r, c)],
        npcs=[
            dict(row=r, col=c, npc_type=PASSIVE, health=h)
            for (r, c), h in zip(pockets, [90, 99, 100, 50], strict=True)
        ],
    )
    seen = []
    for _ in range(3):
        state = run(cfg, state)
        seen.append(col(state, "health")[4:].tolist())
    # +1 per step, capped at 100
    assert seen == [[91, 100, 100, 51], [92, 100, 100, 52], [93, 100, 100, 53]]


# --- the charge step around obstacles (SPEC 6.4; the rule: DEVIATIONS #21)


def maze(lines):
    """Stones of a drawing in the top-left corner of the square, everything right of and below
    it stone too (as tests/data/astar_mazes.md pads its mazes with blocked tiles); the player
    digits and 'S' read as grass."""
    rows, cols = len(lines), len(lines[0])
    return [
        (r, c)
        for r in range(SIZE)
        for c in range(SIZE)
        if r >= rows or c >= cols or lines[r][c] == "#"
    ]


# tests/data/astar_mazes.md, "Wall forcing a detour": S (3, 2) against a wall whose only gap is
# at the bottom, the player at (3, 6). Greedy: East is blocked, North (2, 2) and South (4, 2)
# both at Manhattan distance 5, so North by the tie order. A* (SPEC 6.4): every path leaves
# through the gap in row 7; f = g + h grows by 2 for every step North, so the heap pops the
# southern nodes first and the backtrace of the goal starts South (the reference's aStar: S).
DETOUR = [
    "...#.....",
    "...#.....",
    "...#.....",
    "..S#..1..",
    "...#.....",
    "...#.....",
    "...#.....",
    ".........",
]
# "U-shaped trap": a cup open toward S (4, 1), the player (4, 7) behind its bottom. Greedy walks
# East into the cup (Manhattan 5 < 7); A* leaves North, around the cup's upper arm (the reference's
# aStar: N; both arms are the same length, and the heap pops the smaller row first).
CUP = [
    ".........",
    ".........",
    "..####...",
    ".....#...",
    ".S...#.1.",
    ".....#...",
    "..####...",
    ".........",
    ".........",
]


def charge_from(lines, start, player, copies=1, **rules):
    cfg, state = build(
        players={1: player},
        stones=maze(lines),
        npcs=[dict(row=start[0], col=start[1], npc_type=NEUTRAL, attacker_id=1)] * copies,
        **rules,
    )
    state = run(cfg, state)
    assert (col(state, "target")[slot(0) : slot(copies)] == 0).all()
    assert col(state, "health")[0] == 100  # distance 4 and 6: out of reach (3)
    return cfg, state


def test_a_charge_walks_around_a_wall():
    cfg, state = charge_from(DETOUR, (3, 2), (3, 6))
    assert pos(state, slot(0)) == at(cfg, 4, 2)


def test_a_charge_walks_around_a_cup():
    cfg, state = charge_from(CUP, (4, 1), (4, 7))
    assert pos(state, slot(0)) == at(cfg, 3, 1)


def test_charging_npcs_past_the_path_batch_step_greedily():
    # two NPCs on the same tile (NPCs ignore occupancy): the first in slot order takes the path
    # rule's step (South), the second, past npc_path_batch = 1, the greedy step (North); with a
    # batch of 0 (the greedy step only) both step North
    cfg, state = charge_from(DETOUR, (3, 2), (3, 6), copies=2, npc_path_batch=1)
    assert [pos(state, slot(k)) for k in range(2)] == [at(cfg, 4, 2), at(cfg, 2, 2)]
    cfg, state = charge_from(DETOUR, (3, 2), (3, 6), copies=2, npc_path_batch=0)
    assert [pos(state, slot(k)) for k in range(2)] == [at(cfg, 2, 2), at(cfg, 2, 2)]


# --- meander directions (SPEC 6.3, 16): one cyclic sequence of 1024 directions per environment
# (nmmo.lib.seeding.RandomNumberGenerator: `_dir_seq = integers(0, 4, 1024)`; `get_direction`
# advances the index first, then reads, wrapping at 1024), read by every meandering NPC in the
# order the reference asks them to decide: spawn order (NPCManager.actions iterates its dict).

DELTA = {0: (-1, 0), 1: (1, 0), 2: (0, -1), 3: (0, 1)}  # the reference's N, S, W, E


def with_directions(state, sequence, index):
    sequence = np.asarray(sequence, np.int8)
    npcs = state.npcs.replace(
        directions=jax.numpy.asarray(sequence), direction_index=jax.numpy.int32(index)
    )
    return state.replace(npcs=npcs)


def moved(cfg, before, after, k):
    (r0, c0), (r1, c1) = pos(before, slot(k)), pos(after, slot(k))
    return r1 - r0, c1 - c0


def test_meandering_npcs_read_the_direction_sequence_in_spawn_order():
    # four passive NPCs on open grass (every neighbour habitable, so the start direction is
    # the move); spawn order (`order`) is the reverse of slot order
    npcs = [dict(row=3 + 3 * k, col=8, npc_type=PASSIVE, order=N_PLAYERS + 4 - k) for k in range(4)]
    cfg, state = build(npcs=npcs)
    sequence = np.zeros(1024, np.int8)
    # the index is 1021: the reads are elements 1022, 1023, 0, 1 (advance, then read)
    sequence[[1022, 1023, 0, 1]] = [1, 3, 2, 0]  # S, E, W, N
    state = with_directions(state, sequence, 1021)
    after = run(cfg, state)
    # slot 3 spawned first: element 1022 (S); slot 2: 1023 (E); slot 1: 0 (W); slot 0: 1 (N)
    assert [moved(cfg, state, after, k) for k in (3, 2, 1, 0)] == [
        DELTA[1],
        DELTA[3],
        DELTA[2],
        DELTA[0],
    ]
    assert int(after.npcs.direction_index) == 1
    assert (np.asarray(after.npcs.directions) == sequence).all()


def test_a_charging_npc_reads_no_direction():
    # NPC 0 (first in spawn order) is hostile with a player 5 away: it charges and takes no
    # direction, so NPCs 1 and 2 read elements 1 and 2 and the index advances by 2 (the fourth
    # NPC slot is empty: a dead NPC reads nothing either)
    cfg, state = build(
        players={1: (3, 13)},
        npcs=[
            dict(row=3, col=8, npc_type=HOSTILE),
            dict(row=10, col=3, npc_type=PASSIVE),
            dict(row=13, col=3, npc_type=PASSIVE),
        ],
    )
    sequence = np.zeros(1024, np.int8)
    sequence[1:3] = [3, 1]  # E, S
    state = with_directions(state, sequence, 0)
    after = run(cfg, state)
    assert col(after, "target")[slot(0)] == 0
    assert moved(cfg, state, after, 0) == (0, 1)  # the charge: East toward the player
    assert moved(cfg, state, after, 1) == DELTA[3]
    assert moved(cfg, state, after, 2) == DELTA[1]
    assert int(after.npcs.direction_index) == 2


def test_reset_draws_a_sequence_of_1024_directions_from_the_start():
    # (with a steady population of 128 meandering NPCs the sequence is read through every 8
    # ticks, so each NPC's start direction has period 8: the reference's NPCs drift by the sum
    # of their 8 directions, or sit in a closed orbit, instead of diffusing)
    cfg = nj.Config(map_n=1, npc_n=128, player_n=1)
    env = nj.Env(cfg)
    _, state = env.reset(jax.random.key(3))
    sequence = np.asarray(state.npcs.directions)
    assert sequence.shape == (1024,) and set(np.unique(sequence)) <= {0, 1, 2, 3}
    assert int(state.npcs.direction_index) == 0
    counts = np.bincount(sequence, minlength=4)
    assert counts.min() > 200  # ~256 each
