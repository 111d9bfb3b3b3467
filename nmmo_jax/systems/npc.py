"""NPCs: spawning by danger, their stats, their decisions and moves, their bookkeeping at death
(SPEC 6).

NPC rows are the entity table's slots [player_n, n_entities). A dead NPC's slot is reused by a
later spawn; the reference's ids (-1, -2, ..., never reused) and its action order (spawn order)
are kept in `id` and `order`, and the datastore row (the Entity observation order) in `ds_row`.

Pathing (SPEC 6.4). The reference charges along the first step of an A* search (Manhattan
heuristic, 99 pops, ties to the smaller (row, col)), with a path cache that persists across
episodes. A* is a sequential heap search; we take `path_step`, a vectorised rule measured against
the reference's own A* (docs/DEVIATIONS.md #21, tests/test_reference_astar.py): a breadth-first
distance field from the NPC over its (2 vision + 1)^2 window, then the walk back from the goal
(or, when the goal is not reached, from the node A*'s budget fallback would pick), at each step
to the neighbour A* pops first; in a closed pocket (where the reference's heap empties) the
reference's raw-vector answer. It is computed for at most `cfg.npc_path_batch` charging NPCs per
tick (compacted; the rest, and goals outside the window, take the greedy step: the habitable
neighbour nearest the goal, ties N, W, E, S). On open ground both rules are exactly A*'s step
(every node of f = h lies in the rectangle between NPC and goal and A* expands them in
(row, col) order).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from nmmo_jax import items as it
from nmmo_jax import material as mat
from nmmo_jax import ops
from nmmo_jax.config import Config
from nmmo_jax.state import DIRECTION_SEQUENCE, WorldState
from nmmo_jax.systems import combat

PASSIVE, NEUTRAL, HOSTILE = 1, 2, 3
# the greedy step's candidates in A*'s tie order (smaller row, then smaller column)
STEPS = ((-1, 0), (0, -1), (0, 1), (1, 0))  # N, W, E, S
# meander: the reference's DIRECTIONS order, tried cyclically from a random start (SPEC 6.3)
MEANDER = ((-1, 0), (1, 0), (0, -1), (0, 1))  # N, S, W, E
SPAWN_UNIFORMS = 6  # per attempt: 2 position, style, level noise, armour, tool
STREAM_SPAWN, STREAM_DIRECTIONS = 12, 13


def ring_tables(cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """(npc_type, level) int32 [C // 2 + 1] by distance from the edge of the walkable square
    (SPEC 6.1-6.2), computed in float64 as the reference does: danger = 2 * dist / C."""
    dist = np.arange(cfg.map_center // 2 + 1)
    danger = 2 * dist / cfg.map_center
    kind = np.where(
        danger >= cfg.npc_spawn_aggressive,
        HOSTILE,
        np.where(
            danger >= cfg.npc_spawn_neutral,
            NEUTRAL,
            np.where(danger >= cfg.npc_spawn_passive, PASSIVE, 0),
        ),
    )
    level = (danger * (cfg.npc_level_max - cfg.npc_level_min) + cfg.npc_level_min).astype(int)
    if not cfg.progression_system_enabled:
        level = np.zeros_like(level)
    return kind.astype(np.int32), level.astype(np.int32)


def edge_distance(row, col, cfg: Config):
    """int32: distance of (row, col) from the edge of the walkable square (0 on it)."""
    b, c = cfg.map_border, cfg.map_center
    return jnp.minimum(jnp.minimum(row - b, b + c - 1 - row), jnp.minimum(col - b, b + c - 1 - col))


def equipment(lvl, cfg: Config) -> dict:
    """int32 npc_damage, npc_defense, npc_item_level of an NPC of (noisy, float) level `lvl`
    (SPEC 6.2): int(base + lvl * level_damage * multiplier), likewise the defense, int(5 lvl)."""
    lvl = jnp.asarray(lvl, jnp.float32)
    multiplier = cfg.npc_level_multiplier
    return dict(
        npc_damage=(cfg.npc_base_damage + lvl * (cfg.npc_level_damage * multiplier)).astype(
            jnp.int32
        ),
        npc_defense=(cfg.npc_base_defense + lvl * (cfg.npc_level_defense * multiplier)).astype(
            jnp.int32
        ),
        npc_item_level=(5 * lvl).astype(jnp.int32),
    )


def stats(level, noise, style_u, armor_u, tool_u, cfg: Config) -> dict:
    """The rolls of a spawned NPC (SPEC 6.2) from its level and uniforms: style, offense =
    defense = int(base + lvl * 8), item level int(5 * lvl) with lvl = level - noise, the drop
    table's armour and tool types."""
    out = dict(style=jnp.minimum((style_u * 3).astype(jnp.int32), 2))
    if cfg.equipment_system_enabled and cfg.item_system_enabled:
        out.update(
            equipment(level.astype(jnp.float32) - noise, cfg),
            drop_armor=jnp.asarray(it.ARMOR, jnp.int32)[
                jnp.minimum((armor_u * 3).astype(jnp.int32), 2)
            ],
        )
    else:
        zeros = jnp.zeros_like(level)
        out.update(npc_damage=zeros, npc_defense=zeros, npc_item_level=zeros, drop_armor=zeros)
    if cfg.profession_system_enabled and cfg.item_system_enabled:
        out["drop_tool"] = jnp.asarray(it.TOOLS, jnp.int32)[
            jnp.minimum((tool_u * 5).astype(jnp.int32), 4)
        ]
    else:
        out["drop_tool"] = jnp.zeros_like(level)
    return out


def spawn(state: WorldState, key: jax.Array, cfg: Config) -> WorldState:
    """NPC_SPAWN_ATTEMPTS attempts, stopping once NPC_N are alive (SPEC 6.1). Each attempt pops
    the respawn-danger queue if it is not empty (a random tile on that ring) or draws a tile in
    the walkable square; an impassable tile wastes it. Attempts are independent given their
    draws, so they run at once: attempt i happens iff the alive count plus the passable attempts
    before it is below NPC_N. New NPCs take the free NPC slots in order."""
    n, npc_n, attempts = cfg.player_n, cfg.npc_n, cfg.npc_spawn_attempts
    if not cfg.npc_system_enabled or npc_n == 0 or attempts == 0:
        return state
    b, c = cfg.map_border, cfg.map_center
    ent, npcs = state.entities, state.npcs
    u = ops.uniforms(key, (attempts, SPAWN_UNIFORMS), stream=STREAM_SPAWN)
    i = jnp.arange(attempts)
    queued = i < npcs.tail - npcs.head
    capacity = npcs.dangers.shape[0]
    ring = npcs.dangers[(npcs.head + i) % capacity]
    # a queued ring: integers(-max_off, max_off) around the middle, then one of 4 sides
    max_off = c // 2 - ring
    offset = (
        c // 2
        + b
        - max_off
        + jnp.minimum((u[:, 0] * 2 * max_off).astype(jnp.int32), 2 * max_off - 1)
    )
    side = jnp.minimum((u[:, 1] * 4).astype(jnp.int32), 3)
    near, far = b + ring, b + c - ring - 1
    ring_row = jnp.where(side == 0, near, jnp.where(side == 1, far, offset))
    ring_col = jnp.where(side == 2, near, jnp.where(side == 3, far, offset))
    free_row = b + jnp.minimum((u[:, 0] * c).astype(jnp.int32), c - 1)
    free_col = b + jnp.minimum((u[:, 1] * c).astype(jnp.int32), c - 1)
    row = jnp.where(queued, ring_row, free_row)
    col = jnp.where(queued, ring_col, free_col)
    passable = mat.is_passable(ops.gather(state.tiles.base, row, col)).astype(bool)
    alive0 = ent.alive[n:].sum()
    happens = alive0 + jnp.cumsum(passable) - passable < npc_n
    spawned = happens & passable
    popped = (happens & queued).sum()

    dist = edge_distance(row, col, cfg)
    kind_table, level_table = ring_tables(cfg)
    kind = jnp.asarray(kind_table)[dist]
    level = jnp.asarray(level_table)[dist]
    spawned &= kind > 0
    rolled = stats(level, u[:, 3], u[:, 2], u[:, 4], u[:, 5], cfg)

    k = jnp.cumsum(spawned) - spawned  # this spawn's rank
    free = ~ent.alive[n:]
    free_rank = ops.exclusive_cumsum(free)
    slot_of_rank = (
        jnp.zeros((npc_n,), jnp.int32)
        .at[jnp.where(free, free_rank, npc_n)]
        .set(jnp.arange(npc_n, dtype=jnp.int32), mode="drop")
    )
    slot = jnp.where(spawned, n + slot_of_rank[jnp.minimum(k, npc_n - 1)], cfg.n_entities)
    serial = npcs.next_serial + k
    rows, ds_row = it.allocate(npcs.rows, spawned)

    style = rolled["style"]
    zeros = jnp.zeros((attempts,), jnp.int32)
    values = dict(
        id=-serial,
        npc_type=kind,
        row=row,
        col=col,
        damage=zeros,
        time_alive=zeros,
        freeze=zeros,
        item_level=zeros,
        attacker_id=zeros,
        latest_combat_tick=zeros,
        message=zeros,
        gold=level if cfg.exchange_system_enabled else zeros,
        health=zeros + cfg.player_base_health,
        food=zeros + cfg.resource_base,
        water=zeros + cfg.resource_base,
        alive=spawned,
        order=n + serial,
        ds_row=ds_row,
        target=zeros - 1,
        spawn_row=row,
        spawn_col=col,
        spawn_ring=dist,
        **{name: rolled[name] for name in ("style", "npc_damage", "npc_defense")},
        **{name: rolled[name] for name in ("npc_item_level", "drop_armor", "drop_tool")},
    )
    for s, name in enumerate(("melee", "range", "mage")):
        mine = style == s
        values[f"{name}_level"] = jnp.where(mine, level, 0)
        # the level is stored as exp through the exp -> level function: exp 1 (SPEC 6.2, 18.3)
        values[f"{name}_exp"] = jnp.where(mine & cfg.progression_system_enabled, 1, 0)
    ent = ent.replace(
        **{
            name: getattr(ent, name)
            .at[slot]
            .set(value.astype(getattr(ent, name).dtype), mode="drop")
            for name, value in values.items()
        }
    )
    npcs = npcs.replace(
        next_serial=npcs.next_serial + spawned.sum(dtype=jnp.int32),
        head=npcs.head + popped,
        rows=rows,
    )
    return state.replace(entities=ent, npcs=npcs)


def refill(state: WorldState, key: jax.Array, cfg: Config) -> WorldState:
    """`spawn` at the end of a step, only if fewer than NPC_N are alive. A loop of at most one
    trip: batched over environments it runs when any of them needs it, and carries only the
    entity table and the NPC manager (a cond would compute the spawn every step under vmap)."""

    def spawn_into(carry):
        out = spawn(state.replace(entities=carry[0], npcs=carry[1]), key, cfg)
        return out.entities, out.npcs

    needed = state.entities.alive[cfg.player_n :].sum() < cfg.npc_n
    ent, npcs = ops.when(needed, spawn_into, (state.entities, state.npcs))
    return state.replace(entities=ent, npcs=npcs)


def decide(state: WorldState, cfg: Config):
    """Every NPC's decision from the start-of-step state (SPEC 6.3), before any update.

    Returns (state with the NPCs' `target`, move (dr, dc) int32 [npc_n] x 2, attack bool
    [npc_n]): a kept target must be alive, visible (Chebyshev <= vision) and mortal; neutral and
    hostile NPCs without one adopt their attacker unchecked (SPEC 18.3's quirk: even a dead or
    distant one); hostile ones then take the closest mortal... player in their window (ties by
    datastore row; IMMORTAL players have npc_type 0 and are found, then dropped next tick as
    not visible). With a target: `charge_step` toward it and an attack if within reach;
    without: meander."""
    n, size = cfg.player_n, cfg.n_entities
    ent = state.entities
    nr = slice(n, size)
    alive = ent.alive[nr]
    row, col = ent.row[nr], ent.col[nr]
    kind = ent.npc_type[nr]
    vision = cfg.player_vision_radius
    immortal = (jnp.arange(size) < n) & cfg.immortal

    target = ent.target[nr]
    tc = jnp.clip(target, 0, size - 1)
    distance = jnp.maximum(jnp.abs(ent.row[tc] - row), jnp.abs(ent.col[tc] - col))
    keep = (target >= 0) & ent.alive[tc] & ~immortal[tc] & (distance <= vision)
    target = jnp.where(keep, target, -1)
    attacker = ent.attacker_id[nr]
    aggressive = (kind == NEUTRAL) | (kind == HOSTILE)
    adopt = aggressive & (target < 0) & (attacker > 0)
    target = jnp.where(adopt, attacker - 1, target)

    # hostile search: the closest player in the window, ties by datastore row
    p_dist = jnp.maximum(
        jnp.abs(ent.row[None, :n] - row[:, None]), jnp.abs(ent.col[None, :n] - col[:, None])
    )
    seen = ent.alive[None, :n] & (ent.npc_type[None, :n] >= 0) & (p_dist <= vision)
    # one min over packed (distance, datastore row, slot) keys: a variadic argmin reduce is
    # several times slower on XLA CPU
    rank = (p_dist << 27) | (jnp.minimum(ent.ds_row[None, :n], (1 << 15) - 1) << 12)
    rank = jnp.where(seen, rank | jnp.arange(n)[None, :], jnp.iinfo(jnp.int32).max)
    best = rank.min(axis=1)
    closest = best & ((1 << 12) - 1)
    search = (kind == HOSTILE) & (target < 0) & (best < jnp.iinfo(jnp.int32).max)
    target = jnp.where(search, closest, target)
    target = jnp.where(alive & (kind > PASSIVE), target, -1)

    tc = jnp.clip(target, 0, size - 1)
    goal_row, goal_col = ent.row[tc], ent.col[tc]
    charge = target >= 0
    # passable neighbours N, S, W, E (the meander order), read once for both moves
    ok = neighbour_passable(state.tiles.base, row, col)
    step_row, step_col = charge_step(
        state.tiles.base, ok, charge, row, col, goal_row, goal_col, cfg
    )
    # meander starts: the direction sequence, read in spawn order by the meandering NPCs
    # (materialized: fused into the [npc_n, npc_n] count, the target search behind `charge`
    # was recomputed for every pair)
    wanders, order = ops.materialize(alive & ~charge, ent.order[nr], token=state.tick)
    before = (wanders[None, :] & (order[None, :] < order[:, None])).sum(axis=-1, dtype=jnp.int32)
    npcs = state.npcs
    length = npcs.directions.shape[0]
    start = npcs.directions[(npcs.direction_index + 1 + before) % length].astype(jnp.int32)
    wander_row, wander_col = meander(ok, start)
    npcs = npcs.replace(
        direction_index=(npcs.direction_index + wanders.sum(dtype=jnp.int32)) % length
    )
    d_row = jnp.where(charge, step_row, wander_row)
    d_col = jnp.where(charge, step_col, wander_col)
    # both rules only pick habitable neighbours, except meander's North when none is: no move
    d_row = jnp.where(ok.any(axis=-1), d_row, 0)

    reach = jnp.asarray(combat.reach(cfg), jnp.int32)[jnp.clip(ent.style[nr], 0, 2)]
    to_goal = jnp.maximum(jnp.abs(goal_row - row), jnp.abs(goal_col - col))
    attack = charge & (target < n) & ~immortal[tc] & (to_goal <= reach)
    ent = ent.replace(target=ent.target.at[nr].set(target))
    return state.replace(entities=ent, npcs=npcs), (d_row, d_col), attack


def neighbour_passable(base, row, col) -> jax.Array:
    """bool [..., 4]: whether the neighbours N, S, W, E (MEANDER order) are habitable."""
    return jnp.stack(
        [mat.is_passable(ops.gather(base, row + dr, col + dc)).astype(bool) for dr, dc in MEANDER],
        axis=-1,
    )


def charge_step(base, ok, charge, row, col, goal_row, goal_col, cfg: Config):
    """(dr, dc) int32 [npc_n]: `path_step` for the first `cfg.npc_path_batch` charging NPCs
    (`charge`, in slot order) whose goal lies in their window, `greedy_step` for the others.

    Charging NPCs are rare (0.04 per env-tick in a mixed scripted episode), so the path rule runs
    in a loop over them, one NPC per round: no round runs in a tick without one, and under vmap
    the rounds are those of the env with the most."""
    radius = cfg.player_vision_radius
    step_row, step_col = greedy_step(ok, row, col, goal_row, goal_col)
    size = row.shape[0]
    batch = min(cfg.npc_path_batch, size)
    if batch == 0:
        return step_row, step_col
    inside = (jnp.abs(goal_row - row) <= radius) & (jnp.abs(goal_col - col) <= radius)
    want = charge & inside
    # compaction: the k-th wanting NPC goes to place k (places past the batch are dropped)
    place = jnp.where(want, ops.exclusive_cumsum(want), batch)
    slot = (
        jnp.zeros((batch,), jnp.int32).at[place].set(jnp.arange(size, dtype=jnp.int32), mode="drop")
    )

    def one(i, steps):
        s = jax.lax.dynamic_slice(slot, (i,), (1,))  # the loop's bound is traced: so is i
        d_row, d_col = path_step(base, row[s], col[s], goal_row[s], goal_col[s], radius)
        return steps[0].at[s].set(d_row), steps[1].at[s].set(d_col)

    count = jnp.minimum(want.sum(dtype=jnp.int32), batch)
    return jax.lax.fori_loop(0, count, one, (step_row, step_col))


def path_step(base, row, col, goal_row, goal_col, radius: int):
    """(dr, dc) int32 [K]: the vectorised stand-in for the first step of the reference's A*
    (SPEC 6.4; its agreement with the reference: DEVIATIONS #21), for K NPCs at (row, col) with
    goals inside their n x n window, n = 2 radius + 1.

    1. Breadth-first layers from the NPC over the window's habitable tiles, n of them (farther
       tiles count as not reached).
    2. The walk's start: the goal when reached; else the reached tile A*'s budget fallback would
       pick, the smallest (Manhattan distance to the goal h, distance + h, row, col).
    3. The walk back toward the NPC, each time to the neighbour one layer nearer with the
       smallest (h, row, col), the node A* pops first; the first step is where the walk ends.
    4. When the goal is not reached and the reached region touches no edge of the window (a
       closed pocket: the reference's heap empties), the reference's answer, the raw vector
       goal - start, moves only when it is a unit step (into a habitable tile).
    (0, 0) on the goal.

    Everything runs on bit rows (bit c of a [K, n] int32 row r = window tile (r, c); n <= 31):
    a layer is a few shifts, and instead of walking back from one tile, every tile of a layer
    inherits the first step of the neighbour its walk goes to (that neighbour's (h, row, col)
    order is N, W, E, S among the neighbours nearer the goal, then the same among the others)."""
    n = 2 * radius + 1
    k = row.shape[0]
    off = jnp.arange(-radius, radius + 1, dtype=jnp.int32)
    w_row = row[:, None, None] + off[:, None]
    w_col = col[:, None, None] + off[None, :]
    inside = (w_row >= 0) & (w_row < base.shape[0]) & (w_col >= 0) & (w_col < base.shape[1])
    win = inside & mat.is_passable(ops.gather(base, w_row, w_col)).astype(bool)
    bit = jnp.left_shift(1, jnp.arange(n, dtype=jnp.int32))
    habitable = (win * bit).sum(axis=-1, dtype=jnp.int32)  # [K, n] bit rows
    lines = jnp.arange(n, dtype=jnp.int32)[None, :]
    g_row = (goal_row - row + radius)[:, None]  # window coordinates, [K, 1]
    g_col = (goal_col - col + radius)[:, None]
    full = (1 << n) - 1
    zero = jnp.zeros((k, 1), jnp.int32)

    def north(x):  # at row r: row r - 1 of x (the tiles' northern neighbours)
        return jnp.concatenate([zero, x[:, :-1]], axis=1)

    def south(x):
        return jnp.concatenate([x[:, 1:], zero], axis=1)

    def west(x):  # at column c: column c - 1
        return (x << 1) & full

    def east(x):
        return x >> 1

    # the tiles whose N (W, ...) neighbour is nearer the goal: rows below the goal's row, ...
    nearer = dict(
        N=jnp.where(lines > g_row, full, 0),
        S=jnp.where(lines < g_row, full, 0),
        W=jnp.broadcast_to((full << (g_col + 1)) & full, (k, n)),
        E=jnp.broadcast_to((1 << g_col) - 1, (k, n)),
    )
    reached = jnp.where(lines == radius, 1 << radius, 0) & habitable
    # depth 1, the NPC's neighbours: the tile north of it is the step N, ...
    layer = (north(reached) | south(reached) | west(reached) | east(reached)) & habitable
    layer &= ~reached
    first = (layer & south(reached), layer & east(reached), layer & west(reached))
    first += (layer & north(reached),)  # N, W, E, S: the tiles whose walk ends with that step
    # layers[d] [K, n + 1, n]: the tiles reached within d steps (d = 0..n)
    layers = jnp.zeros((k, n + 1, n), jnp.int32).at[:, 0].set(reached)
    reached = reached | layer
    layers = layers.at[:, 1].set(reached)

    def grow(depth, carry):  # depths 2..n, as a loop: one compiled body instead of n - 1
        reached, prev, first, layers = carry
        grown = reached | north(reached) | south(reached) | west(reached) | east(reached)
        layer = grown & habitable & ~reached
        via = dict(N=north(prev), W=west(prev), E=east(prev), S=south(prev))
        taken = jnp.zeros_like(layer)
        goes = {}
        for toward in (True, False):
            for d in ("N", "W", "E", "S"):
                side = nearer[d] if toward else ~nearer[d]
                pick = layer & via[d] & side & ~taken
                goes[d] = goes.get(d, 0) | pick
                taken = taken | pick
        first = tuple(
            f
            | (goes["N"] & north(f))
            | (goes["W"] & west(f))
            | (goes["E"] & east(f))
            | (goes["S"] & south(f))
            for f in first
        )
        reached = reached | layer
        layers = jax.lax.dynamic_update_slice_in_dim(layers, reached[:, None], depth, axis=1)
        return reached, layer, first, layers

    reached, _, first, layers = jax.lax.fori_loop(2, n + 1, grow, (reached, layer, first, layers))
    first = dict(zip(("N", "W", "E", "S"), first, strict=True))
    # the walk's start: min h among the reached tiles, then the first layer holding such a tile,
    # then the smallest row, then the lowest bit (column)
    tiles = (reached[:, :, None] >> jnp.arange(n, dtype=jnp.int32)) & 1  # [K, n, n]
    h = jnp.abs(lines[:, :, None] - g_row[:, :, None]) + jnp.abs(
        jnp.arange(n, dtype=jnp.int32)[None, None, :] - g_col[:, :, None]
    )
    big = jnp.int32(4 * n)
    h_min = jnp.where(tiles == 1, h, big).min(axis=(1, 2), keepdims=True)
    ring = ((tiles == 1) & (h == h_min)).astype(jnp.int32)
    ring = (ring * bit).sum(axis=-1, dtype=jnp.int32)  # [K, n]
    hit = ((layers & ring[:, None, :]) != 0).any(axis=-1)  # [K, n + 1]
    depth = ops.first_true(hit)
    at_depth = jnp.arange(n + 1, dtype=jnp.int32)[None, :, None] == depth[:, None, None]
    cells = jnp.where(at_depth, layers, 0).max(axis=1) & ring  # [K, n]
    s_row = ops.first_true(cells != 0)
    on_row = lines == s_row[:, None]
    x = jnp.where(on_row, cells, 0).max(axis=1)
    s_col = jax.lax.population_count((x & -x) - 1)
    d_row = jnp.zeros((k,), jnp.int32)
    d_col = jnp.zeros((k,), jnp.int32)
    for step, (dr, dc) in zip(("N", "W", "E", "S"), STEPS, strict=True):
        there = (jnp.where(on_row, first[step], 0).max(axis=1) >> s_col) & 1
        d_row = jnp.where(there == 1, dr, d_row)
        d_col = jnp.where(there == 1, dc, d_col)

    # a closed pocket: the reference's raw vector, a move only if it is a unit step
    def goal_bit(rows):
        return (jnp.where(lines == g_row, rows, 0).max(axis=1) >> g_col[:, 0]) & 1

    edge = (reached[:, 0] != 0) | (reached[:, -1] != 0)
    edge |= ((reached & (1 | (1 << (n - 1)))) != 0).any(axis=1)
    raw_row, raw_col = goal_row - row, goal_col - col
    unit = ((jnp.abs(raw_row) + jnp.abs(raw_col)) == 1) & (goal_bit(habitable) == 1)
    pocket = (goal_bit(reached) == 0) & ~edge
    d_row = jnp.where(pocket, jnp.where(unit, raw_row, 0), d_row)
    d_col = jnp.where(pocket, jnp.where(unit, raw_col, 0), d_col)
    on_goal = (row == goal_row) & (col == goal_col)
    return jnp.where(on_goal, 0, d_row), jnp.where(on_goal, 0, d_col)


def greedy_step(ok, row, col, goal_row, goal_col):
    """(dr, dc) int32: the habitable neighbour (`ok`: neighbour_passable) nearest the goal in
    Manhattan distance, ties in the order N, W, E, S; (0, 0) on the goal or with no habitable
    neighbour."""
    best = jnp.full(row.shape, jnp.iinfo(jnp.int32).max, jnp.int32)
    best_r = jnp.zeros_like(row)
    best_c = jnp.zeros_like(row)
    for dr, dc in STEPS:
        passable = ok[..., MEANDER.index((dr, dc))]
        r, c = row + dr, col + dc
        d = jnp.abs(goal_row - r) + jnp.abs(goal_col - c)
        better = passable & (d < best)
        best = jnp.where(better, d, best)
        best_r = jnp.where(better, dr, best_r)
        best_c = jnp.where(better, dc, best_c)
    there = (row == goal_row) & (col == goal_col)
    return jnp.where(there, 0, best_r), jnp.where(there, 0, best_c)


def direction_sequence(key: jax.Array) -> jax.Array:
    """int8 [1024]: the reference RNG's direction sequence, uniform in 0..3 (N, S, W, E), drawn
    once per episode (SPEC 16: `integers(0, 4, 1024)` when the reset's generator is made)."""
    u = ops.uniforms(key, (DIRECTION_SEQUENCE,), stream=STREAM_DIRECTIONS)
    return jnp.minimum((u * 4).astype(jnp.int32), 3).astype(jnp.int8)


def meander(ok, start):
    """(dr, dc) int32: from the start direction `start` (0..3: N, S, W, E), the first habitable
    direction (`ok`: neighbour_passable), tried cyclically; North if none (that move then
    fails)."""
    pick_r = jnp.full(start.shape, -1, jnp.int32)
    pick_c = jnp.zeros_like(start)
    found = jnp.zeros(start.shape, bool)
    for i in range(4):
        for j, (dr, dc) in enumerate(MEANDER):
            hit = ~found & ((start + i) % 4 == j) & ok[..., j]
            pick_r = jnp.where(hit, dr, pick_r)
            pick_c = jnp.where(hit, dc, pick_c)
        found |= (ok & (((start[..., None] + i) % 4) == jnp.arange(4))).any(axis=-1)
    return pick_r, pick_c


def update(state: WorldState, cfg: Config) -> WorldState:
    """The NPC part of the per-tick update (SPEC 3.3): item_level from the spawn roll (so it reads
    0 until the first update), health + 1 up to the maximum."""
    n = cfg.player_n
    ent = state.entities
    nr = slice(n, cfg.n_entities)
    alive = ent.alive[nr]
    health = jnp.where(
        alive, jnp.minimum(ent.health[nr] + 1, cfg.player_base_health), ent.health[nr]
    )
    item_level = jnp.where(alive, ent.npc_item_level[nr], ent.item_level[nr])
    ent = ent.replace(
        health=ent.health.at[nr].set(health), item_level=ent.item_level.at[nr].set(item_level)
    )
    return state.replace(entities=ent)


def move(state: WorldState, delta, cfg: Config) -> WorldState:
    """NPC moves (priority 60): onto habitable tiles, ignoring occupancy; only NPCs alive after
    the attacks and not frozen move."""
    n = cfg.player_n
    ent = state.entities
    nr = slice(n, cfg.n_entities)
    d_row, d_col = delta
    row, col = ent.row[nr] + d_row, ent.col[nr] + d_col
    ok = ent.alive[nr] & (ent.health[nr] > 0) & (ent.freeze[nr] == 0)
    # the decision only names habitable neighbours (decide), so no passability test here
    ok &= (jnp.abs(d_row) + jnp.abs(d_col)) == 1
    ent = ent.replace(
        row=ent.row.at[nr].set(jnp.where(ok, row, ent.row[nr])),
        col=ent.col.at[nr].set(jnp.where(ok, col, ent.col[nr])),
    )
    return state.replace(entities=ent)


def bury(state: WorldState, died: jax.Array, cfg: Config) -> WorldState:
    """Bookkeeping of this step's dead `died` [E] (SPEC 3.4, 6.1): their datastore rows are
    freed, players in id order then NPCs in spawn order (the reference's cull); the spawn rings
    of dead NPCs off the edge are queued for the refill, in spawn order."""
    n = cfg.player_n
    ent, npcs = state.entities, state.npcs
    # release order: players by slot, NPCs by `order` (rank among the dead NPCs)
    dead_npc = died[n:]
    order = ent.order[n:]
    earlier = order[None, :] < order[:, None]  # [i, j]: NPC j spawned before NPC i
    rank = (dead_npc[None, :] & earlier).sum(axis=-1)
    n_dead_players = died[:n].sum()
    position = jnp.concatenate([ops.exclusive_cumsum(died[:n]), n_dead_players + rank])
    size = cfg.n_entities
    in_order = (
        jnp.zeros((size,), jnp.int32)
        .at[jnp.where(died, position, size)]
        .set(ent.ds_row, mode="drop")
    )
    rows = it.release_first(npcs.rows, in_order, died.sum(dtype=jnp.int32))
    if cfg.npc_n == 0:
        return state.replace(npcs=npcs.replace(rows=rows))
    queued = dead_npc & (ent.spawn_ring[n:] > 0) & cfg.npc_default_refill_dead_npcs
    q_rank = (queued[None, :] & earlier).sum(axis=-1)
    capacity = npcs.dangers.shape[0]
    at = jnp.where(queued, (npcs.tail + q_rank) % capacity, capacity)
    dangers = npcs.dangers.at[at].set(ent.spawn_ring[n:], mode="drop")
    npcs = npcs.replace(rows=rows, dangers=dangers, tail=npcs.tail + queued.sum(dtype=jnp.int32))
    return state.replace(npcs=npcs)
