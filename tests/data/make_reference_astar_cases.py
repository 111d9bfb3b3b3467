"""Write the reference A* cases (REFERENCE nmmo 2.1.2): NPC first steps toward nearby goals.

    .reference/venv/bin/python tests/data/make_reference_astar_cases.py   # from the repo root

An NPC that charges a target (SPEC 6.3) moves by the first step of `nmmo.lib.astar.aStar(map,
start, goal)` (SPEC 6.4). This script records that first step on real reference maps, for
(start, goal) pairs sampled the way NPCs meet them, so that a cheap vectorised rule can be measured
against it (tests/test_reference_astar.py), and it prints the agreement of a few candidate rules.

Maps: for each env seed in SEEDS, `nmmo.Env(Default-with-NPC_N=0, seed=s)` (the maps are generated
from the env seed in the constructor) and `env.reset(seed=s)`; the map is `realm.map` and the
habitable mask `realm.map.habitable_tiles` (160 x 160). The reference writes map files under its
PATH_CWD, so everything runs in a temporary directory.

Cases (about N_CASES per seed, rng = numpy default_rng(SAMPLE_SEED + seed)): every ordered pair
(start, goal) with start habitable in the walkable square [16, 144)^2 and goal in bounds at
Chebyshev distance 1..7 from start (NPC vision; a charging NPC's target is within 7) is a
candidate. Sampled without replacement, by stratum (`kind`):
  0 random       (45 %): goal habitable, uniform over those pairs (the natural mix)
  1 obstructed   (50 %): goal habitable and the bounding rectangle of start and goal holds at least
                         one non-habitable tile (open rectangles are the easy case)
  2 blocked goal (2.5 %): the goal tile is not habitable (never discovered, so the search ends
                         with the heap empty or the budget spent)
  3 unreachable  (2.5 %): the goal is habitable but in another 4-connected habitable component
                         than the start (e.g. a patch enclosed by water or stone)
A pair drawn by two strata is kept once, with the first kind in this order 1, 2, 3, 0 (so a
kind-0 case may also be obstructed; tell them apart with the rectangle, not the kind).
For each case `realm.map.pathfinding_cache` is cleared and `aStar(realm.map, start, goal)` called
(a fresh cache: the search itself is measured; the cache across calls is the separate documented
deviation). The same search is also run by `astar_trace` below (a line-by-line copy of the
reference, instrumented) for the pop count and the way it ended; its delta is checked equal.

Writes reference_astar_cases.npz next to this file (compressed; S seeds, M cases):
  seed       int64 [S]            env seed of each map
  habitable  bool  [S, 160, 160]  realm.map.habitable_tiles after reset
  case_map   int16 [M]            index into seed / habitable of the case's map
  start      int16 [M, 2]         (row, col) of the searcher
  goal       int16 [M, 2]         (row, col) of the goal
  delta      int16 [M, 2]         aStar's return value: the first step (a unit vector), or for an
                                  unreachable goal (heap emptied) the raw vector goal - start
                                  (non-unit unless goal is adjacent), (0, 0) if start == goal
  kind       int8  [M]            sampling stratum (0 random, 1 obstructed, 2 blocked goal,
                                  3 unreachable habitable goal), see above
  pops       int16 [M]            heap pops the search made (budget: at most 99)
  status     int8  [M]            how it ended: 0 goal popped, 1 budget exhausted with the goal
                                  discovered (first step of the goal's backtrace), 2 heap emptied
                                  (goal unreachable: raw vector), 3 budget exhausted, goal never
                                  discovered (first step toward the "closest" discovered node)

Also writes astar_mazes.md next to this file: the hand-drawn mazes of MAZES (at most 9 x 9) with
the reference aStar's first step on a fake map object (it needs only `.tiles.shape`,
`.habitable_tiles` and a `pathfinding_cache` dict), and whether greedy and bfs_closest_pocket
agree. Note aStar's `in_bounds` excludes row 0 and column 0 (r > 0, c > 0); `astar_trace` copies
that. The mazes are padded so that this never matters.

Rules measured (numpy, below; "no move" = (0, 0)):
  greedy      among the habitable 4-neighbours, tie order N (-1, 0), W (0, -1), E (0, 1), S (1, 0),
              the one with the smallest Manhattan distance to the goal; no move on the goal or
              with no habitable neighbour (= nmmo_jax.systems.npc.greedy_step).
  bfs_goal    BFS distance to the goal over habitable tiles of the 15 x 15 window centred on the
              start, at most 15 relaxation sweeps; the neighbour with the smallest finite distance,
              ties N, W, E, S; no move if the goal is not reached within the window/sweeps.
  bfs_astar   BFS distance from the start in the same window (15 sweeps); then walk back from the
              goal, each time to the neighbour one step nearer the start that A* would have popped
              first: smallest (Manhattan distance to the goal, row, col); the first step is the
              last node of that walk. No move if the goal is not reached.
  bfs_closest as bfs_astar, but the walk starts from the reached window node that A*'s budget
              fallback would pick: smallest (Manhattan distance to the goal, BFS distance + that,
              row, col), which is the goal whenever the goal is reached.
  bfs_closest_pocket  as bfs_closest, but when the goal is not reached and the reached region
              touches no edge of the window (a closed pocket, where the reference's heap
              empties), the reference's own answer: goal - start if that is a unit step, else no
              move.
The BFS rules cost 15 sweeps of a 15 x 15 min-plus stencil, an argmin over the window and
at most 14 walk-back steps of 4 gathers; see `bfs_walk`.
A case agrees when the reference delta equals the rule's delta, a non-unit reference delta
counting as no move; "effective" agreement also counts a unit step (either side's) into a
non-habitable tile as no move (the engine's Move then fails).
"""

import heapq
import os
import pathlib
import tempfile

import numpy as np

SEEDS = (1, 2, 3, 4)
SAMPLE_SEED = 20250
N_CASES = 5000
SHARE = {1: 0.50, 2: 0.025, 3: 0.025, 0: 0.45}  # drawn in this order
VISION = 7
LO, HI = 16, 144  # walkable square of the 160 x 160 Default map
STEPS = ((-1, 0), (0, -1), (0, 1), (1, 0))  # N, W, E, S: the greedy tie order
OUT = pathlib.Path(__file__).resolve().parent
PAD = VISION + 1  # blocked border around the drawn mazes (room for the 15 x 15 window)
OPEN_PAD = 20  # open border around a maze drawn in open ground


def astar_trace(hab, start, goal, cutoff=100):
    """The reference aStar (nmmo/lib/astar.py) on a bool grid, with a fresh cache.

    Returns (delta, pops, status): status 0 goal popped, 1 budget exhausted with the goal
    discovered, 2 heap emptied, 3 budget exhausted with the goal never discovered."""
    if start == goal:
        return (0, 0), 0, 0
    shape = hab.shape
    pq = [(0, start)]
    backtrace = {}
    cost = {start: 0}
    closest_pos = start
    closest_h = abs(goal[0] - start[0]) + abs(goal[1] - start[1])
    closest_f = closest_h
    pops = 0
    status = 2
    while pq:
        cutoff -= 1
        if cutoff <= 0:
            status = 1
            if goal not in backtrace:
                goal = closest_pos
                status = 3
            break
        _, cur = heapq.heappop(pq)
        pops += 1
        if cur == goal:
            status = 0
            break
        r, c = cur
        for nxt in ((r - 1, c), (r, c - 1), (r + 1, c), (r, c + 1)):
            if not (0 < nxt[0] < shape[0] and 0 < nxt[1] < shape[1]) or not hab[nxt]:  # in_bounds
                continue
            new_cost = cost[cur] + 1
            if nxt not in cost or new_cost < cost[nxt]:
                cost[nxt] = new_cost
                h = abs(goal[0] - nxt[0]) + abs(goal[1] - nxt[1])
                f = new_cost + h
                if h < closest_h or (h == closest_h and f < closest_f):
                    closest_pos, closest_h, closest_f = nxt, h, f
                heapq.heappush(pq, (f, nxt))
                backtrace[nxt] = cur
    while goal in backtrace and backtrace[goal] != start:
        goal = backtrace[goal]
    return (goal[0] - start[0], goal[1] - start[1]), pops, status


# ---------------------------------------------------------------------------------------------
# Candidate rules (vectorised over cases)


def windows(hab, start, goal):
    """bool [M, 15, 15] habitable window centred on each start; goal (row, col) in the window."""
    off = np.arange(-VISION, VISION + 1)
    rows = start[:, 0, None, None] + off[None, :, None]
    cols = start[:, 1, None, None] + off[None, None, :]
    return hab[rows, cols], goal - start + VISION


def sweep(dist, win, sweeps):
    """At most `sweeps` Bellman relaxations of a 4-neighbour distance field on habitable tiles."""
    big = np.iinfo(np.int32).max // 2
    for _ in range(sweeps):
        pad = np.pad(dist, ((0, 0), (1, 1), (1, 1)), constant_values=big)
        best = np.minimum.reduce(
            [pad[:, :-2, 1:-1], pad[:, 2:, 1:-1], pad[:, 1:-1, :-2], pad[:, 1:-1, 2:]]
        )
        new = np.where(win, np.minimum(dist, best + 1), big)
        if (new == dist).all():
            break
        dist = new
    return dist


def pick_min(score, valid):
    """[M, 2] delta of the neighbour (STEPS order) with the smallest valid score; (0, 0) if none."""
    big = np.iinfo(np.int64).max
    s = np.where(valid, score, big)
    k = np.argmin(s, axis=1)
    delta = np.asarray(STEPS)[k]
    delta[~valid.any(axis=1)] = 0
    return delta


def rule_greedy(hab, start, goal):
    nb = start[:, None, :] + np.asarray(STEPS)[None]
    ok = hab[nb[..., 0], nb[..., 1]]
    d = np.abs(goal[:, None, :] - nb).sum(-1)
    delta = pick_min(d, ok)
    delta[(start == goal).all(-1)] = 0
    return delta


def rule_bfs_goal(hab, start, goal, sweeps=2 * VISION + 1):
    win, g = windows(hab, start, goal)
    m = len(start)
    big = np.iinfo(np.int32).max // 2
    dist = np.full(win.shape, big, np.int64)
    ok_goal = win[np.arange(m), g[:, 0], g[:, 1]]
    dist[np.arange(m), g[:, 0], g[:, 1]] = np.where(ok_goal, 0, big)
    dist = sweep(dist, win, sweeps)
    nb = VISION + np.asarray(STEPS)
    score = dist[:, nb[:, 0], nb[:, 1]]
    delta = pick_min(score, score < big)
    delta[(start == goal).all(-1)] = 0
    return delta


def bfs_walk(hab, start, goal, closest, enclosed, sweeps=2 * VISION + 1):
    """BFS distance from the start over the habitable tiles of the 15 x 15 window (at most
    `sweeps` relaxations); target = the goal, or with `closest` the reached node with the smallest
    (Manhattan distance to the goal, distance from start + that, row, col) (the goal itself when
    reached); then walk back from the target, each time to the neighbour one step nearer the start
    with the smallest (Manhattan distance to the goal, row, col) (the one A* pops first); the
    first step is the last node of the walk. No move if the target is not reached (or is the
    start). With `enclosed`: if the goal is not reached and the reached region touches no edge of
    the window (a closed pocket: the reference's heap empties), the reference's raw vector
    goal - start when that is a unit step (into a blocked tile: the move fails), else no move."""
    win, g = windows(hab, start, goal)
    m = len(start)
    idx = np.arange(m)
    big = np.iinfo(np.int32).max // 2
    top = np.iinfo(np.int64).max
    n = 2 * VISION + 1
    dist = np.full(win.shape, big, np.int64)
    dist[:, VISION, VISION] = 0
    dist = sweep(dist, win, sweeps)
    reached = dist < big
    reach = reached[idx, g[:, 0], g[:, 1]]
    if closest:
        rr = np.arange(n)
        h = np.abs(rr[None, :, None] - g[:, 0, None, None])
        h = h + np.abs(rr[None, None, :] - g[:, 1, None, None])
        key = ((h * 256 + dist + h) * 16 + rr[None, :, None]) * 16 + rr[None, None, :]
        t = np.argmin(np.where(reached, key, top).reshape(m, -1), axis=1)
        target = np.stack([t // n, t % n], axis=1)
    else:
        target = np.where(reach[:, None], g, VISION)
    pad = np.pad(dist, ((0, 0), (1, 1), (1, 1)), constant_values=big)
    cur = target.copy()
    steps = np.array([(-1, 0), (0, -1), (1, 0), (0, 1)])  # any order: the key decides
    for _ in range(sweeps):
        dcur = dist[idx, cur[:, 0], cur[:, 1]]
        go = dcur >= 2
        if not go.any():
            break
        nb = cur[:, None, :] + steps[None]  # window coordinates
        dn = pad[idx[:, None], nb[..., 0] + 1, nb[..., 1] + 1]
        ok = dn == (dcur - 1)[:, None]
        h = np.abs(nb - g[:, None, :]).sum(-1)
        key = (h * 64 + nb[..., 0] + 1) * 64 + nb[..., 1] + 1
        k = np.argmin(np.where(ok, key, top), axis=1)
        cur = np.where(go[:, None], nb[idx, k], cur)
    delta = cur - VISION
    if enclosed:
        edge = reached[:, 0].any(1) | reached[:, -1].any(1)
        edge |= reached[:, :, 0].any(1) | reached[:, :, -1].any(1)
        raw = goal - start
        raw[np.abs(raw).sum(-1) != 1] = 0
        pocket = ~reach & ~edge
        delta[pocket] = raw[pocket]
    delta[(start == goal).all(-1)] = 0
    return delta


RULES = {
    "greedy": rule_greedy,
    "bfs_goal": rule_bfs_goal,
    "bfs_astar": lambda *a: bfs_walk(*a, closest=False, enclosed=False),
    "bfs_closest": lambda *a: bfs_walk(*a, closest=True, enclosed=False),
    "bfs_closest_pocket": lambda *a: bfs_walk(*a, closest=True, enclosed=True),
}


# ---------------------------------------------------------------------------------------------
# Sampling


def components(hab):
    """int32 [H, W] label of the 4-connected habitable component (0 = not habitable)."""
    from scipy import ndimage

    lab, _ = ndimage.label(hab, structure=[[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    return lab


def candidate_pairs(hab):
    """All (start, goal, kind flags) pairs: starts habitable in [LO, HI)^2, Chebyshev 1..7."""
    lab = components(hab)
    blocked = np.pad((~hab).astype(np.int32), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    sr, sc = np.nonzero(hab[LO:HI, LO:HI])
    sr, sc = sr + LO, sc + LO
    out = []
    for dr in range(-VISION, VISION + 1):
        for dc in range(-VISION, VISION + 1):
            if dr == 0 and dc == 0:
                continue
            gr, gc = sr + dr, sc + dc
            r0, r1 = np.minimum(sr, gr), np.maximum(sr, gr) + 1
            c0, c1 = np.minimum(sc, gc), np.maximum(sc, gc) + 1
            nblk = blocked[r1, c1] - blocked[r0, c1] - blocked[r1, c0] + blocked[r0, c0]
            ghab = hab[gr, gc]
            same = lab[gr, gc] == lab[sr, sc]
            out.append(np.stack([sr, sc, gr, gc, nblk > 0, ghab, ghab & ~same], axis=1))
    return np.concatenate(out).astype(np.int16)


def sample(hab, rng):
    pairs = candidate_pairs(hab)
    obstructed, ghab, unreach = pairs[:, 4] == 1, pairs[:, 5] == 1, pairs[:, 6] == 1
    pools = {1: ghab & obstructed, 2: ~ghab, 3: unreach, 0: ghab}
    chosen, kinds = [], []
    for kind, share in SHARE.items():
        pool = np.flatnonzero(pools[kind])
        k = min(len(pool), round(share * N_CASES))
        chosen.append(rng.choice(pool, k, replace=False))
        kinds.append(np.full(k, kind, np.int8))
    chosen, kinds = np.concatenate(chosen), np.concatenate(kinds)
    _, first = np.unique(chosen, return_index=True)
    first = np.sort(first)
    chosen, kinds = chosen[first], kinds[first]
    return pairs[chosen, 0:2], pairs[chosen, 2:4], kinds


# ---------------------------------------------------------------------------------------------
# Hand-drawn mazes


class FakeMap:
    """What aStar reads from realm.map."""

    def __init__(self, hab):
        self.tiles = np.empty(hab.shape, dtype=object)
        self.habitable_tiles = hab.astype(np.int8)
        self.pathfinding_cache = {}


MAZES = [  # (title, note, drawing, what surrounds the drawing: "blocked" or "open")
    (
        "Open field, ties (several goals, one search each)",
        "Goals a..j around S = (4, 4) on open ground: a SE, b NE, c SW, d NW (diagonals), "
        "e N, f S, g W, h E (straight lines), i and j off-diagonal. The heap's (f, row, col) "
        "order makes A* leave along a row first toward a goal below (E/W) and along a column "
        "first toward a goal above (N): the greedy tie order N, W, E, S gives the same step.",
        [
            "d...e...b",
            ".........",
            ".........",
            "....j....",
            "g...S...h",
            ".......i.",
            ".........",
            "c.......a",
            "....f....",
        ],
        "blocked",
    ),
    (
        "Wall forcing a detour",
        "S stands against a wall whose only gap is at the bottom. Greedy: East is blocked, North "
        "and South tie at distance 5, so North (tie order) - away from the gap. A* goes South.",
        [
            "...#.....",
            "...#.....",
            "...#.....",
            "..S#..G..",
            "...#.....",
            "...#.....",
            "...#.....",
            ".........",
        ],
        "blocked",
    ),
    (
        "U-shaped trap",
        "G straight east behind a cup that opens toward S: greedy walks East into the cup, A* "
        "goes around (North, the smaller row first).",
        [
            ".........",
            ".........",
            "..####...",
            ".....#...",
            ".S...#.G.",
            ".....#...",
            "..####...",
            ".........",
            ".........",
        ],
        "blocked",
    ),
    (
        "Unreachable goal",
        "G is on a tile enclosed by water, and the drawing is all there is: the heap empties "
        "and aStar returns the raw vector goal - start (not a unit step: the NPC does not move). "
        "Greedy steps East. bfs_closest_pocket also moves: the region S reaches touches the edge "
        "of its 15 x 15 window (column 8 is 7 from S), so the rule cannot tell this pocket "
        "from open ground and heads for the closest tile.",
        [
            ".........",
            ".........",
            "....###..",
            ".S..#G#..",
            "....###..",
            ".........",
            ".........",
        ],
        "blocked",
    ),
    (
        "Goal at distance 1",
        "G adjacent to S (west, with an obstacle north).",
        [
            ".....",
            "..#..",
            ".GS..",
            ".....",
            ".....",
        ],
        "blocked",
    ),
    (
        "Budget of 99 pops runs out",
        f"Here the drawing sits in **open ground** ({OPEN_PAD} habitable tiles on every side). "
        "G is enclosed, so it is never discovered; the search floods the open ground and stops "
        "after 99 pops, then follows the backtrace of the closest discovered node (smallest "
        "Manhattan distance to G, ties smaller f), here (2, 6) just east of the pocket, reached "
        "through the gap at the east end of the wall, so A* steps East. Greedy: North is "
        "blocked, West and East tie at distance 4, so West.",
        [
            ".........",
            "...###...",
            "...#G#...",
            "...###...",
            ".........",
            "#######..",
            "....S....",
            ".........",
            ".........",
        ],
        "open",
    ),
]


def parse(lines):
    grid = np.array([list(x) for x in lines])
    hab = grid != "#"
    goals = {}
    for ch in "GSabcdefghij":
        for r, c in zip(*np.nonzero(grid == ch), strict=True):
            goals[ch] = (int(r), int(c))
    return hab, goals


DIRS = {(-1, 0): "N", (0, -1): "W", (0, 1): "E", (1, 0): "S", (0, 0): "none"}


def name(d):
    return DIRS.get(tuple(int(x) for x in d), f"raw vector {tuple(int(x) for x in d)}")


def write_mazes(reference_astar):
    lines = [
        "# Reference A* first steps on small mazes",
        "",
        "Written by `make_reference_astar_cases.py`: the reference nmmo 2.1.2 "
        "`nmmo.lib.astar.aStar` on a fake map object (`.tiles.shape`, `.habitable_tiles`, and an "
        "empty `pathfinding_cache` dict per search). Unless said otherwise the drawing sits in "
        f"a map padded with {PAD} blocked tiles on every side (aStar's `in_bounds` also excludes "
        "row 0 and column 0), so outside the drawing is blocked. '.' habitable, '#' blocked, "
        "'S' start, 'G' (or a letter) goal; (row, col) in the drawing, row 0 at the top, "
        "N = (-1, 0), W = (0, -1). "
        "*greedy* = nmmo_jax's rule (the habitable neighbour with the smallest Manhattan distance "
        "to the goal, ties N, W, E, S; no move on the goal or with no habitable neighbour); "
        "*bfs_closest_pocket* = the best cheap rule measured by the script (see its docstring). "
        "A rule agrees when its step equals aStar's, a non-unit aStar result (unreachable goal: "
        "the raw vector goal - start) counting as no move. *pops* = heap pops of the search "
        "(budget 99).",
        "",
    ]
    best = RULES["bfs_closest_pocket"]
    for title, note, drawing, surround in MAZES:
        hab, marks = parse(drawing)
        pad = PAD if surround == "blocked" else OPEN_PAD
        hab = np.pad(hab, pad, constant_values=surround == "open")
        s = marks.pop("S")
        sp = (s[0] + pad, s[1] + pad)
        lines += [f"## {title}", "", note, "", "```", *drawing, "```", ""]
        lines += ["| goal | (row, col) | pops | aStar | greedy | agrees | bfs_closest_pocket |"]
        lines += ["|---|---|---|---|---|---|---|"]
        for ch, g in marks.items():
            gp = (g[0] + pad, g[1] + pad)
            ref = reference_astar(FakeMap(hab), sp, gp)
            d, pops, status = astar_trace(hab, sp, gp)
            assert tuple(ref) == d, (title, ch, ref, d)
            theirs = np.array(ref) if np.abs(ref).sum() == 1 else np.zeros(2, int)
            end = {0: "", 1: ", budget out", 2: ", heap empty", 3: ", budget out, to closest"}
            greedy = rule_greedy(hab, np.array([sp]), np.array([gp]))[0]
            other = best(hab, np.array([sp]), np.array([gp]))[0]
            row = [ch, str(g), f"{pops}{end[status]}", name(ref), name(greedy)]
            row.append("yes" if (greedy == theirs).all() else "**no**")
            row.append("yes" if (other == theirs).all() else f"**no** ({name(other)})")
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    (OUT / "astar_mazes.md").write_text("\n".join(lines))


# ---------------------------------------------------------------------------------------------


def report(hab_all, case_map, start, goal, delta, kind, status):
    m = len(start)
    theirs = delta.astype(np.int64).copy()
    theirs[np.abs(theirs).sum(-1) != 1] = 0

    def effective(delta):  # a unit step into a blocked tile fails: no move
        nxt = start + delta
        out = delta.copy()
        out[~hab_all[case_map, nxt[:, 0], nxt[:, 1]]] = 0
        return out

    eff = effective(theirs)
    open_box = np.array(
        [
            hab_all[i][
                min(a[0], b[0]) : max(a[0], b[0]) + 1, min(a[1], b[1]) : max(a[1], b[1]) + 1
            ].all()
            for i, a, b in zip(case_map, start, goal, strict=True)
        ]
    )
    print(f"{m} cases: {open_box.sum()} open box, {(~open_box).sum()} obstructed")
    counts = np.bincount(status, minlength=4)
    print(f"  status counts (goal popped, budget+goal seen, heap empty, budget+closest): {counts}")
    ours = {}
    for rule_name, rule in RULES.items():
        out = np.zeros((m, 2), np.int64)
        for i in range(len(hab_all)):
            pick = case_map == i
            out[pick] = rule(hab_all[i], start[pick].astype(np.int64), goal[pick].astype(np.int64))
        ours[rule_name] = out
    greedy_bad = (ours["greedy"] != theirs).any(-1) & ~open_box
    for rule_name, out in ours.items():
        agree = (out == theirs).all(-1)
        agree_eff = (effective(out) == eff).all(-1)
        parts = [
            f"overall {agree.mean():.4f} (effective {agree_eff.mean():.4f})",
            f"open {agree[open_box].mean():.4f}",
            f"obstructed {agree[~open_box].mean():.4f} (eff {agree_eff[~open_box].mean():.4f})",
            f"random-kind {agree[kind == 0].mean():.4f}",
        ]
        print(f"  {rule_name:10s} " + ", ".join(parts))
        per_kind = ", ".join(f"kind {k}: {agree[kind == k].mean():.4f}" for k in range(4))
        print(f"             {per_kind}")
        for st in (0, 1, 2, 3):
            sel = ~open_box & (status == st)
            if sel.any():
                print(
                    f"             obstructed, status {st}: {agree[sel].mean():.4f} of {sel.sum()}"
                )
        if rule_name != "greedy":
            fixed = greedy_bad & agree
            broke = ~greedy_bad & ~open_box & ~agree
            print(
                f"             fixes {fixed.sum()} / {greedy_bad.sum()} "
                f"({fixed.sum() / max(greedy_bad.sum(), 1):.3f}) of greedy's obstructed "
                f"disagreements, breaks {broke.sum()} obstructed cases greedy got right"
            )
        if rule_name == "greedy":
            bad = open_box & ~agree
            for i in np.flatnonzero(bad)[:10]:
                print("    open-box disagreement", start[i], goal[i], delta[i], out[i])


def main():
    tmp = tempfile.TemporaryDirectory()
    os.chdir(tmp.name)  # nmmo reads PATH_CWD = os.getcwd() at import time
    import nmmo
    from nmmo.core import config as nc
    from nmmo.lib.astar import aStar

    class NoNpc(nc.Default):
        NPC_N = 0

    habs, case_map, starts, goals, deltas, kinds, popss, statuses = [], [], [], [], [], [], [], []
    for i, seed in enumerate(SEEDS):
        cfg = NoNpc()
        cfg.set("PATH_CWD", tmp.name)
        env = nmmo.Env(cfg, seed=seed)
        env.reset(seed=seed)
        rmap = env.realm.map
        hab = np.asarray(rmap.habitable_tiles).astype(bool)
        assert hab.shape == (160, 160)
        rng = np.random.default_rng(SAMPLE_SEED + seed)
        start, goal, kind = sample(hab, rng)
        delta = np.zeros_like(start)
        pops = np.zeros(len(start), np.int16)
        status = np.zeros(len(start), np.int8)
        for j, (s, g) in enumerate(zip(start, goal, strict=True)):
            s, g = (int(s[0]), int(s[1])), (int(g[0]), int(g[1]))
            rmap.pathfinding_cache.clear()
            ref = aStar(rmap, s, g)
            d, pops[j], status[j] = astar_trace(hab, s, g)
            assert tuple(ref) == d, (s, g, ref, d)
            delta[j] = ref
        print(f"seed {seed}: {len(start)} cases, kinds {np.bincount(kind, minlength=4)}")
        habs.append(hab)
        case_map.append(np.full(len(start), i, np.int16))
        starts.append(start)
        goals.append(goal)
        deltas.append(delta)
        kinds.append(kind)
        popss.append(pops)
        statuses.append(status)
        env.close()
    data = dict(
        seed=np.asarray(SEEDS, np.int64),
        habitable=np.stack(habs),
        case_map=np.concatenate(case_map),
        start=np.concatenate(starts).astype(np.int16),
        goal=np.concatenate(goals).astype(np.int16),
        delta=np.concatenate(deltas).astype(np.int16),
        kind=np.concatenate(kinds),
        pops=np.concatenate(popss),
        status=np.concatenate(statuses),
    )
    np.savez_compressed(OUT / "reference_astar_cases.npz", **data)
    report(
        data["habitable"],
        data["case_map"].astype(np.int64),
        data["start"].astype(np.int64),
        data["goal"].astype(np.int64),
        data["delta"].astype(np.int64),
        data["kind"],
        data["status"],
    )
    write_mazes(aStar)


if __name__ == "__main__":
    main()
