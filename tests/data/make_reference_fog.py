"""Write the reference death-fog recordings of tests/systems/test_fog.py (REFERENCE nmmo 2.1.2).

    .reference/venv/bin/python tests/data/make_reference_fog.py   # from the repository root

Two parts (SPEC 10, 3.3, 3.4):

1. The fog map's arithmetic, by the reference's own `Realm.update_fog_map` run on a stand-in
   realm (it reads only `config`, `tick` and `fog_map`), for the cases of CASES: reset, then
   `tick += 1; update_fog_map()` as `Realm.step` does. Per case, every EVERY-th tick (0 = the
   reset map) up to TICKS: the middle row `fog_map[S // 2]` (float16 [K, S]; every ring index
   and the safe square lie on it), Python's `round(v) if v > 0.5 else 0` of it (the damage a
   player standing there would take, Player.update) and `np.round(fog).astype(int16)` (the Tile
   observation's fog column, Env._compute_observations); the whole map at the last tick.
   Keys `<case>_row`, `<case>_damage`, `<case>_obs`, `<case>_map`, `<case>_ticks`.

2. An episode (`ep_*` keys): the reference Small config with every game system, 16 players,
   the fog on (ONSET 3, SPEED 0.3 = float16 0.2998, FINAL_SIZE 5, PROVIDE_DEATH_FOG_OBS),
   and the randomness our rules do not model off (NPC_N 0, no regrowth, no weapon drops; as
   make_reference_trajectory.py), random Move directions (numpy seed ACTION_SEED, all 5, the
   mask ignored), env seed SEED. Recorded: the tile map after reset and the spawn positions;
   per step the actions and, per agent (dead agents: their values in the step they died, then
   unchanged), row, col, health, damage, food, water, items held, alive; the fog's middle row;
   the Tile observations (4 columns) of every agent in the obs dict after the steps OBS_STEPS.

The reference writes map files under PATH_CWD, so everything runs in a temporary directory.
"""

import os
import tempfile
import types

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
# name: (map_size, map_border, onset, speed, final_size, ticks, every)
CASES = {
    "small": (64, 16, 3, 1 / 16, 8, 200, 1),  # King-of-the-hill speed: exact in float16
    "tenth": (24, 8, 1, 0.1, 5, 300, 1),  # Sandwich speed 1/10: float16 0.09998, sums round
    "coarse": (160, 16, 32, 0.3, 5, 1024, 8),  # values above 256: float16 steps of 0.25
    "wide": (24, 8, 0, 1, 20, 4, 1),  # final size > S // 2: numpy's negative slice start
}
SEED = 3
ACTION_SEED = 11
STEPS = 60
PLAYERS = 16
OBS_STEPS = (0, 10, 30)
STAY = 4


def fog_cases():
    from nmmo.core.realm import Realm

    out = {}
    for name, (size, border, onset, speed, final, ticks, every) in CASES.items():
        config = types.SimpleNamespace(
            MAP_SIZE=size,
            MAP_BORDER=border,
            DEATH_FOG_ONSET=onset,
            DEATH_FOG_SPEED=speed,
            DEATH_FOG_FINAL_SIZE=final,
        )
        realm = types.SimpleNamespace(
            config=config, tick=0, fog_map=np.zeros((size, size), np.float16)
        )
        Realm.update_fog_map(realm, reset=True)
        rows, damage, obs, recorded = [], [], [], []
        for tick in range(ticks + 1):
            if tick:
                realm.tick = tick
                Realm.update_fog_map(realm)
            if tick % every == 0 or tick == ticks:
                row = realm.fog_map[size // 2].copy()
                rows.append(row)
                damage.append([int(round(v)) if v > 0.5 else 0 for v in row])
                obs.append(np.round(row).astype(np.int16))
                recorded.append(tick)
        assert realm.fog_map.dtype == np.float16
        out[f"{name}_row"] = np.array(rows, np.float16)
        out[f"{name}_damage"] = np.array(damage, np.int32)
        out[f"{name}_obs"] = np.array(obs, np.int16)
        out[f"{name}_map"] = realm.fog_map.copy()
        out[f"{name}_ticks"] = np.array(recorded, np.int32)
    return out


def episode():
    import nmmo
    from nmmo.core import config as nc

    class FogParity(nc.Small, nc.AllGameSystems):
        PLAYER_N = PLAYERS
        NPC_N = 0
        RESOURCE_FOILAGE_RESPAWN = 0.0
        PROFESSION_TREE_RESPAWN = 0.0
        PROFESSION_ORE_RESPAWN = 0.0
        PROFESSION_CRYSTAL_RESPAWN = 0.0
        PROFESSION_HERB_RESPAWN = 0.0
        PROFESSION_FISH_RESPAWN = 0.0
        WEAPON_DROP_PROB = 0.0
        DEATH_FOG_ONSET = 3
        DEATH_FOG_SPEED = 0.3
        DEATH_FOG_FINAL_SIZE = 5
        PROVIDE_DEATH_FOG_OBS = True

    cfg = FogParity()
    cfg.set("PATH_CWD", os.getcwd())
    n, size = cfg.PLAYER_N, cfg.MAP_SIZE
    env = nmmo.Env(cfg, seed=SEED)
    obs, _ = env.reset(seed=SEED)
    realm = env.realm
    assert len(realm.npcs.entities) == 0
    tiles = np.array([[t.state.index for t in row] for row in realm.map.tiles], np.int8)
    row0 = np.array([realm.players[a].pos[0] for a in range(1, n + 1)], np.int16)
    col0 = np.array([realm.players[a].pos[1] for a in range(1, n + 1)], np.int16)

    rng = np.random.default_rng(ACTION_SEED)
    shape = (STEPS, n)
    actions = np.full(shape, STAY, np.int8)
    names = ("row", "col", "health", "damage", "food", "water", "items")
    out = {k: np.zeros(shape, np.int16) for k in names}
    alive = np.zeros(shape, bool)
    fog_row = np.zeros((STEPS + 1, size), np.float16)
    fog_row[0] = realm.fog_map[size // 2]
    tile = np.zeros((len(OBS_STEPS), n, 225, 4), np.int16)
    present = np.zeros((len(OBS_STEPS), n), bool)
    last = {a: realm.players[a] for a in range(1, n + 1)}

    def record(i, obs):
        for a, o in obs.items():
            present[i, a - 1] = True
            tile[i, a - 1] = o["Tile"]  # a copy: the reference reuses its buffers

    record(0, obs)
    for t in range(STEPS):
        draws = rng.integers(0, 5, n)
        action_dict = {}
        for a in range(1, n + 1):
            if a in realm.players:
                actions[t, a - 1] = draws[a - 1]
                action_dict[a] = {"Move": {"Direction": int(draws[a - 1])}}
        obs, _, _, _, _ = env.step(action_dict)
        if t + 1 in OBS_STEPS:
            record(OBS_STEPS.index(t + 1), obs)
        fog_row[t + 1] = realm.fog_map[size // 2]
        for a in range(1, n + 1):
            if a in realm.players or a in env.dead_this_tick:
                ent = realm.players.get(a) or env.dead_this_tick[a]
                health = ent.resources.health.val
                assert health == int(health), (t, a, health)
                values = dict(
                    row=ent.pos[0],
                    col=ent.pos[1],
                    health=int(health),
                    damage=int(ent.history.damage.val),
                    food=ent.resources.food.val,
                    water=ent.resources.water.val,
                    items=len(ent.inventory.items),
                )
                last[a] = values
            for k in names:
                out[k][t, a - 1] = last[a][k]
            alive[t, a - 1] = a in realm.players

    return dict(
        ep_seed=np.int64(SEED),
        ep_action_seed=np.int64(ACTION_SEED),
        ep_horizon=np.int64(cfg.HORIZON),
        ep_onset=np.int64(cfg.DEATH_FOG_ONSET),
        ep_speed=np.float64(cfg.DEATH_FOG_SPEED),
        ep_final_size=np.int64(cfg.DEATH_FOG_FINAL_SIZE),
        ep_tiles=tiles,
        ep_row0=row0,
        ep_col0=col0,
        ep_actions=actions,
        ep_alive=alive,
        ep_fog_row=fog_row,
        ep_obs_steps=np.array(OBS_STEPS, np.int64),
        ep_obs_present=present,
        ep_obs_tile=tile,
        **{f"ep_{k}": v for k, v in out.items()},
    )


def main():
    tmp = tempfile.TemporaryDirectory()
    os.chdir(tmp.name)  # nmmo reads PATH_CWD = os.getcwd() at import time
    data = fog_cases()
    data.update(episode())
    np.savez_compressed(os.path.join(OUT, "reference_fog.npz"), **data)

    alive = data["ep_alive"]
    died = np.concatenate([np.ones((1, PLAYERS), bool), alive[:-1]]) & ~alive
    fog_hit = data["ep_damage"] > 0
    print("deaths per step:", {t + 1: int(d) for t, d in enumerate(died.sum(1)) if d})
    print("agent-steps with damage:", int(fog_hit.sum()), "max", int(data["ep_damage"].max()))
    print("deaths with damage in the death step:", int((died & fog_hit).sum()))
    print("items held at some point:", int(data["ep_items"].max()))
    for name in CASES:
        print(name, "last row", data[f"{name}_row"][-1][:8], "...")


if __name__ == "__main__":
    main()
