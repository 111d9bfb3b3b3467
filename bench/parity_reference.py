#!/usr/bin/env python
"""The reference side of bench/parity.py: scripted agents on nmmo 2.1.2, statistics per episode.

Runs under the reference's virtualenv and imports only nmmo, numpy and
bench/scripted_reference.py:

  .reference/venv/bin/python bench/parity_reference.py --mix mixed --episodes 20 --ticks 384 \
      --seed 1000 --out /tmp/parity/ref_mixed.jsonl

Each episode: `nmmo.Env(nmmo.config.Default())` with MAP_N maps (the map index is drawn by the
reference's reset from the episode seed), every alive agent acting through
`scripted_reference.act(policy, obs, u)` with uniforms u from a numpy RNG, for `--ticks` steps
(or until every player is dead; HORIZON stays 1024, so only the number of steps is shortened).
The statistics (see `episode_stats`) are those of bench/parity.py's `ours` side, measured the
same way: one JSON line per episode, appended as soon as it ends (a killed run keeps the
episodes it finished).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

N_TYPES = 18  # item type ids 0..17 (SPEC 7.1)
LEVELS = 10
N_SKILLS = 8
# item event codes whose `number` we sum by (type, level), as nmmo_jax.events' `items` aggregate
ITEM_CODES = {
    "HARVEST_ITEM": 24,
    "CONSUME_ITEM": 21,
    "EQUIP_ITEM": 25,
    "LIST_ITEM": 32,
    "BUY_ITEM": 34,
    "LOOT_ITEM": 26,
    "FIRE_AMMO": 13,
}
COUNT_CODES = {
    "EAT_FOOD": 1,
    "DRINK_WATER": 2,
    "SCORE_HIT": 11,
    "PLAYER_KILL": 12,
    "FIRE_AMMO": 13,
    "CONSUME_ITEM": 21,
    "GIVE_ITEM": 22,
    "DESTROY_ITEM": 23,
    "HARVEST_ITEM": 24,
    "EQUIP_ITEM": 25,
    "LOOT_ITEM": 26,
    "GIVE_GOLD": 31,
    "LIST_ITEM": 32,
    "EARN_GOLD": 33,
    "BUY_ITEM": 34,
    "LOOT_GOLD": 35,
    "LEVEL_UP": 41,
}
MIXES = {"forager": (0, 1, 0, 0), "mixed": (1, 1, 1, 1), "fighter": (0, 0, 1, 0)}


def shift(grid, dr, dc, fill):
    """scripted_reference.shift without np.pad (the same values, ~10x faster)."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    d = grid.shape[0]
    out = np.full(grid.shape, fill, dtype=grid.dtype)
    r0, r1, c0, c1 = max(0, -dr), min(d, d - dr), max(0, -dc), min(d, d - dc)
    out[r0:r1, c0:c1] = grid[r0 + dr : r1 + dr, c0 + dc : c1 + dc]
    return out


def distance_to(goal, tile, impassable=(0, 1, 5, 14, 15)):
    """scripted_reference.distance_to, stopped at its fixed point (the relaxation is monotone and
    deterministic, so later rounds change nothing: the same values, fewer rounds)."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    d = tile.shape[0]
    far = d * d
    walk = ~np.isin(tile, impassable)
    dist = np.where(goal & walk, 0, far)
    buf = np.full((d + 2, d + 2), far, dtype=dist.dtype)
    for _ in range(2 * (d - 1)):
        buf[1:-1, 1:-1] = dist
        step = np.minimum(
            np.minimum(buf[:-2, 1:-1], buf[2:, 1:-1]), np.minimum(buf[1:-1, 2:], buf[1:-1, :-2])
        )
        new = np.where(walk, np.minimum(dist, step + 1), far)
        if np.array_equal(new, dist):
            break
        dist = new
    return dist


def speed_up(ref):
    """Replaces scripted_reference's two hot helpers by the equal ones above
    (tests/test_parity_smoke.py checks they are equal)."""
    assert tuple(ref.IMPASSABLE) == (0, 1, 5, 14, 15)
    ref.shift = shift
    ref.distance_to = distance_to


def policy_ids(n, weights):
    """agents.scripted.policy_ids in numpy: contiguous blocks by weight (checked in the test)."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    share = np.cumsum(np.asarray(weights, np.float64))
    bounds = np.round(share / share[-1] * n).astype(np.int64)
    return np.searchsorted(bounds, np.arange(n), side="right").astype(np.int64)


def episode_stats(env, nmmo, np, policy, ticks, seed, rng, ref, damage_exact):
    """Runs one episode and returns its statistics (lists, JSON-ready)."""
    n = len(policy)
    # the map reset(seed) loads (the realm does not keep it): the generator's first draws are
    # the 1024 meander directions, then integers(MAP_N) + 1 (nmmo.core.env._load_map_file)
    map_rng = nmmo.lib.seeding.np_random(seed)[0]
    map_id = int(map_rng.integers(env.config.MAP_N)) + 1
    obs, _ = env.reset(seed=seed)
    death_tick = np.zeros(n, np.int64)  # 0: alive at the end
    alive = np.zeros((ticks, n), bool)
    npc_count = np.zeros(ticks, np.int64)
    npc_proxy = np.zeros(n, np.int64)  # the last hit of the tick, if an NPC dealt it
    damage_exact.clear()
    steps = 0
    for t in range(ticks):
        agents = list(env.agents)
        if not agents:
            break
        steps += 1
        u = rng.random((n, 13), dtype=np.float32)
        actions = {a: ref.act(int(policy[a - 1]), obs[a], u[a - 1]) for a in agents}
        obs, _, _, _, _ = env.step(actions)
        for aid in env.dead_this_tick:
            if aid > 0:
                death_tick[aid - 1] = env.realm.tick
        ents = list(env.realm.players.values()) + list(env.dead_this_tick.values())
        for ent in ents:
            if ent.ent_id in agents and ent.history.damage.val > 0 and ent.attacker_id.val < 0:
                npc_proxy[ent.ent_id - 1] += ent.history.damage.val
        for aid in env.realm.players:
            alive[t, aid - 1] = True
        npc_count[t] = len(env.realm.npcs)
    alive[steps:] = False

    log = env.realm.event_log.get_data()
    col = nmmo.lib.event_log.EventAttr
    ent, code = log[:, col["ent_id"]].astype(np.int64), log[:, col["event"]].astype(np.int64)
    typ, lvl = log[:, col["type"]].astype(np.int64), log[:, col["level"]].astype(np.int64)
    num, gold = log[:, col["number"]].astype(np.int64), log[:, col["gold"]].astype(np.int64)
    tick, target = log[:, col["tick"]].astype(np.int64), log[:, col["target_ent"]].astype(np.int64)
    player = ent > 0
    row = np.where(player, ent - 1, 0)

    counts = {}
    for name, c in COUNT_CODES.items():
        m = player & (code == c)
        counts[name] = np.bincount(row[m], minlength=n).tolist()
    items = {}
    for name, c in ITEM_CODES.items():
        m = player & (code == c)
        a = np.zeros((n, N_TYPES, LEVELS), np.int64)
        np.add.at(
            a, (row[m], np.clip(typ[m], 0, N_TYPES - 1), np.clip(lvl[m], 1, LEVELS) - 1), num[m]
        )
        items[name] = a.tolist()
    hits = np.zeros((n, 3), np.int64)
    m = player & (code == 11)
    np.add.at(hits, (row[m], typ[m] - 1), 1)
    # gold by code, as nmmo_jax.events' `gold` aggregate (LOOT_GOLD, EARN_GOLD, BUY_ITEM price)
    gold_by = {
        name: np.bincount(row[player & (code == c)], gold[player & (code == c)], minlength=n)
        .astype(np.int64)
        .tolist()
        for name, c in (("LOOT_GOLD", 35), ("EARN_GOLD", 33), ("BUY_ITEM", 34))
    }
    level_up = np.zeros((n, N_SKILLS), np.int64)
    m = player & (code == 41)
    np.maximum.at(level_up, (row[m], typ[m] - 1), lvl[m])
    # kills: by players of players / NPCs, by NPCs of players; a player's kill takes the style of
    # its one hit of that tick (a player attacks at most once per tick)
    kills = code == 12
    kills_pp = np.bincount(row[kills & player & (target > 0)], minlength=n)
    kills_pn = np.bincount(row[kills & player & (target < 0)], minlength=n)
    npc_kills_of_players = int((kills & (ent < 0) & (target > 0)).sum())
    kill_style = np.zeros((n, 3), np.int64)
    hit_style = {
        (int(e), int(k)): int(s)
        for e, k, s in zip(ent[code == 11], tick[code == 11], typ[code == 11], strict=True)
    }
    for e, k in zip(ent[kills & player], tick[kills & player], strict=True):
        s = hit_style.get((int(e), int(k)))
        if s is not None:
            kill_style[e - 1, s - 1] += 1
    exact = np.zeros(n, np.int64)
    for aid, dmg in damage_exact.items():
        exact[aid - 1] += dmg
    return {
        "seed": seed,
        "map_id": map_id,
        "steps": steps,
        "policy": policy.tolist(),
        "death_tick": death_tick.tolist(),
        "alive_by_policy": [alive[:, policy == p].sum(1).tolist() for p in range(4)],
        "npc_count": npc_count.tolist(),
        "counts": counts,
        "items": items,
        "hits": hits.tolist(),
        "gold": gold_by,
        "level_up": level_up.tolist(),
        "kills_player": kills_pp.tolist(),
        "kills_npc": kills_pn.tolist(),
        "kill_style": kill_style.tolist(),
        "npc_kills_of_players": npc_kills_of_players,
        "npc_damage_proxy": npc_proxy.tolist(),
        "npc_damage_exact": exact.tolist(),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mix", choices=sorted(MIXES), required=True)
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--ticks", type=int, default=384)
    p.add_argument("--seed", type=int, default=1000)
    p.add_argument("--map-n", type=int, default=8)
    p.add_argument("--out", required=True)
    p.add_argument("--workdir", default="/tmp/parity_reference_maps")
    args = p.parse_args()

    out = os.path.abspath(args.out)
    sys.path.insert(0, HERE)
    import scripted_reference as ref  # pylint: disable=import-outside-toplevel

    speed_up(ref)

    os.makedirs(args.workdir, exist_ok=True)
    os.chdir(args.workdir)  # nmmo writes its maps under the cwd
    import nmmo  # pylint: disable=import-outside-toplevel
    import nmmo.lib.event_log  # pylint: disable=import-outside-toplevel
    import nmmo.lib.seeding  # pylint: disable=import-outside-toplevel
    import numpy as np  # pylint: disable=import-outside-toplevel
    from nmmo.entity.player import Player  # pylint: disable=import-outside-toplevel

    damage_exact = {}
    receive = Player.receive_damage

    def receive_damage(self, source, dmg):  # the damage NPCs deal to players, exactly
        if source is not None and source.is_npc:
            damage_exact[self.ent_id] = damage_exact.get(self.ent_id, 0) + int(dmg)
        return receive(self, source, dmg)

    Player.receive_damage = receive_damage

    config = nmmo.config.Default()
    config.set("MAP_N", args.map_n)
    env = nmmo.Env(config, seed=args.seed)
    policy = policy_ids(config.PLAYER_N, MIXES[args.mix])
    rng = np.random.default_rng(args.seed)
    for e in range(args.episodes):
        t0 = time.perf_counter()
        stats = episode_stats(
            env, nmmo, np, policy, args.ticks, args.seed + e, rng, ref, damage_exact
        )
        stats["wall_s"] = time.perf_counter() - t0
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(stats) + "\n")
        print(
            f"episode {e} seed {args.seed + e} steps {stats['steps']} {stats['wall_s']:.1f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
