"""Write the reference NPC statistics (REFERENCE nmmo 2.1.2) for tests/test_npc_statistics.py.

    .reference/venv/bin/python tests/data/make_reference_npc_stats.py   # from the repo root

NPCs draw randomness (spawn positions, types, levels, wandering, combat rolls), so our engine is
compared with the reference by statistics over episodes (SPEC 6). The config is the reference
`nmmo.config.Default` (128 players, NPC_N = 128, 160 x 160), in two sets:

* immortal: IMMORTAL = True, env seeds 0..E_IMM-1 (12 episodes);
* mortal:   IMMORTAL = False, env seeds 100..100+E_MORT-1 (8 episodes);

STEPS = 60 steps each, every agent sending no actions (an empty action dict: players stand).
The reference writes map files under PATH_CWD, so everything runs in a temporary directory.

Writes reference_npc_stats.npz next to this file; for each prefix p in ("imm", "mort"),
E episodes, T = STEPS, step index t = 0 is after reset and t = k after step k:
  p_seeds          int64 [E]          env seeds
  p_npc_alive      int16 [E, T + 1]   live NPCs
  p_type_hist      int16 [E, 4, 4]    at SNAP_STEPS = (0, 10, 30, 60): live NPCs of npc_type
                                      0..3 (0 never occurs; kept so index == type)
  p_level_hist     int16 [E, 4, 11]   at SNAP_STEPS: live NPCs of attack level 0..10 (max of the
                                      melee, range and mage levels)
  p_damage         int32 [E, T + 1]   sum over live players of the Entity `damage` column (the
                                      last hit received in the tick) after the step
  p_hit            int16 [E, T + 1]   live players with damage > 0 after the step
  p_npc_kills      int16 [E, T + 1]   PLAYER_KILL events logged in the step by NPCs (ent_id < 0)
                                      whose target is a player (target_ent > 0)
  p_players_alive  int16 [E, T + 1]   live players after the step
  snap_steps       int64 [4]
"""

import os
import tempfile

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
STEPS = 60
SNAP_STEPS = (0, 10, 30, 60)
SETS = (("imm", True, tuple(range(12))), ("mort", False, tuple(range(100, 108))))


def main():
    tmp = tempfile.TemporaryDirectory()
    os.chdir(tmp.name)  # nmmo reads PATH_CWD = os.getcwd() at import time
    import nmmo
    from nmmo.core import config as nc
    from nmmo.lib.event_code import EventCode
    from nmmo.lib.event_log import EventAttr, EventState

    out = {"snap_steps": np.array(SNAP_STEPS, np.int64)}
    for prefix, immortal, seeds in SETS:

        class Cfg(nc.Default):
            IMMORTAL = immortal

        cfg = Cfg()
        cfg.set("PATH_CWD", tmp.name)
        e, t1 = len(seeds), STEPS + 1
        npc_alive = np.zeros((e, t1), np.int16)
        type_hist = np.zeros((e, len(SNAP_STEPS), 4), np.int16)
        level_hist = np.zeros((e, len(SNAP_STEPS), 11), np.int16)
        damage = np.zeros((e, t1), np.int32)
        hit = np.zeros((e, t1), np.int16)
        kills = np.zeros((e, t1), np.int16)
        players_alive = np.zeros((e, t1), np.int16)
        for i, seed in enumerate(seeds):
            env = nmmo.Env(cfg, seed=seed)
            env.reset(seed=seed)
            realm = env.realm
            ds = realm.datastore
            for t in range(t1):
                if t > 0:
                    env.step({})
                    ev = EventState.Query.by_tick(ds, realm.tick)
                    if len(ev):
                        k = (
                            (ev[:, EventAttr["event"]] == EventCode.PLAYER_KILL)
                            & (ev[:, EventAttr["ent_id"]] < 0)
                            & (ev[:, EventAttr["target_ent"]] > 0)
                        )
                        kills[i, t] = int(k.sum())
                npcs = list(realm.npcs.values())
                npc_alive[i, t] = len(npcs)
                d = np.array([p.damage.val for p in realm.players.values()], np.int64)
                damage[i, t] = int(d.sum())
                hit[i, t] = int((d > 0).sum())
                players_alive[i, t] = len(realm.players)
                if t in SNAP_STEPS:
                    s = SNAP_STEPS.index(t)
                    for npc in npcs:
                        type_hist[i, s, int(npc.npc_type.val)] += 1
                        level_hist[i, s, int(npc.attack_level)] += 1
            print(
                prefix,
                seed,
                "npcs",
                npc_alive[i, [1, 5, 10, 30, 60]],
                "dmg",
                int(damage[i].sum()),
                "hits",
                int(hit[i].sum()),
                "kills",
                int(kills[i].sum()),
                "players",
                int(players_alive[i, -1]),
                flush=True,
            )
        out.update(
            {
                f"{prefix}_seeds": np.array(seeds, np.int64),
                f"{prefix}_npc_alive": npc_alive,
                f"{prefix}_type_hist": type_hist,
                f"{prefix}_level_hist": level_hist,
                f"{prefix}_damage": damage,
                f"{prefix}_hit": hit,
                f"{prefix}_npc_kills": kills,
                f"{prefix}_players_alive": players_alive,
            }
        )
        if immortal:
            assert damage.sum() == 0 and kills.sum() == 0, "immortal players were hit"
    os.chdir(OUT)
    np.savez_compressed(os.path.join(OUT, "reference_npc_stats.npz"), **out)


if __name__ == "__main__":
    main()
