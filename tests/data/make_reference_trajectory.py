"""Write the reference trajectory used by tests/test_reference_parity.py (REFERENCE nmmo 2.1.2).

    .reference/venv/bin/python tests/data/make_reference_trajectory.py   # from the repository root

Runs the reference Default config (128 players, 160 x 160, HORIZON 1024) with the randomness that
our movement + survival rules do not model switched off, so that the whole trajectory is a
deterministic function of the initial world and the Move actions:

* RESOURCE_FOILAGE_RESPAWN = 0: Foilage.__init__ copies it into `material.respawn`, and
  Tile.step returns early when `respawn == 0` (no RNG draw), so eaten foilage stays Scrub.
* NPC_N = 0: NPCManager.default_spawn stops at `len(entities) >= NPC_N` before any draw, at reset
  and at every refill (DefaultGame._process_dead_npcs), so there are no NPCs and no combat.
* Only Move actions are sent, with directions drawn uniformly among all 5 (N S E W Stay, the
  reference's Direction.edges order) without looking at the mask, so blocked moves occur too.
  Actions are built in increasing agent-id order (the reference executes moves in dict order).

* PROFESSION_*_RESPAWN = 0 and WEAPON_DROP_PROB = 0: the profession skills harvest (Herb/Ore/
  Tree/Crystal underfoot, Fish next to the agent) and their drop tables draw from the RNG, but
  every entry then has probability 1 or 0, and harvested tiles never regrow, so skills, items and
  tiles are deterministic as well.

Writes reference_trajectory.npz next to this file:
  seed, steps, horizon       int64 scalars
  tiles                      int8  [160, 160]  material of every tile after reset
  row0, col0                 int16 [128]       spawn positions of agents 1..128
  actions                    int8  [T, 128]    Move direction per step (4 = Stay for the dead)
  row, col, food, water, health  int16 [T, 128]  after each step (dead agents: last values)
  alive, terminated          bool  [T, 128]    after each step
  reward                     float64 [T, 128]  0 for agents absent from the reward dict
  foilage                    int32 [T]         number of Foilage tiles after each step
and, for the K steps OBS_STEPS (0 = the observations returned by reset), the reference's
observation of every agent in the returned obs dict (live agents and those that died in that step,
which get the reference's empty observation, SPEC 11), copied because the reference reuses its
observation buffers:
  obs_steps                  int64 [K]
  obs_present                bool  [K, 128]    agent in the obs dict
  obs_tick, obs_agent_id     int16 [K, 128]    CurrentTick, AgentId
  obs_tile                   int16 [K, 128, 225, 3]  Tile
  obs_entity                 int16 [K, 128, R, 31]   the first R rows of Entity, R = the most rows
                                                     any recorded observation uses (the other
                                                     100 - R rows are all zero, checked here)
  obs_move                   int8  [K, 128, 5] ActionTargets Move Direction
Absent agents have all-zero entries.
The reference writes map files under PATH_CWD, so everything runs in a temporary directory.
"""

import os
import tempfile

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
SEED = 7  # env seed: map resources and spawn positions
ACTION_SEED = 2024  # numpy seed of the random Move directions
STEPS = 120
FOILAGE = 4
STAY = 4
# Observations recorded after these steps (0 = reset): spawn, early moves, the first starvation
# deaths (25), the largest death wave (30), mid-episode deaths (45, 66) and the last step.
OBS_STEPS = (0, 1, 5, 20, 25, 30, 45, 66, 120)
N_OBS = 100  # PLAYER_N_OBS


def main():
    tmp = tempfile.TemporaryDirectory()
    os.chdir(tmp.name)  # nmmo reads PATH_CWD = os.getcwd() at import time
    import nmmo
    from nmmo.core import config as nc

    class Parity(nc.Default):
        NPC_N = 0
        RESOURCE_FOILAGE_RESPAWN = 0.0
        # The professions harvest too; with these at 0 their tiles never regrow (no RNG draw)
        # and the 2.5 % weapon entries never drop, so skills and tiles are deterministic too.
        PROFESSION_TREE_RESPAWN = 0.0
        PROFESSION_ORE_RESPAWN = 0.0
        PROFESSION_CRYSTAL_RESPAWN = 0.0
        PROFESSION_HERB_RESPAWN = 0.0
        PROFESSION_FISH_RESPAWN = 0.0
        WEAPON_DROP_PROB = 0.0

    cfg = Parity()
    cfg.set("PATH_CWD", tmp.name)
    n = cfg.PLAYER_N
    env = nmmo.Env(cfg, seed=SEED)
    obs, _ = env.reset(seed=SEED)
    realm = env.realm
    assert len(realm.npcs.entities) == 0
    # Depleted foilage never regrows: its material's respawn probability is 0.
    foil = [t for t in realm.map.tiles.ravel() if t.material.index == FOILAGE]
    assert foil and all(t.material.respawn == 0 for t in foil)

    def materials():
        return np.array([[t.state.index for t in row] for row in realm.map.tiles], np.int8)

    tiles = materials()
    row0 = np.array([realm.players[a].pos[0] for a in range(1, n + 1)], np.int16)
    col0 = np.array([realm.players[a].pos[1] for a in range(1, n + 1)], np.int16)

    rng = np.random.default_rng(ACTION_SEED)
    shape = (STEPS, n)
    actions = np.full(shape, STAY, np.int8)
    out = {k: np.zeros(shape, np.int16) for k in ("row", "col", "food", "water", "health")}
    alive = np.zeros(shape, bool)
    terminated = np.zeros(shape, bool)
    reward = np.zeros(shape, np.float64)
    foilage = np.zeros(STEPS, np.int32)
    last = {a: realm.players[a] for a in range(1, n + 1)}

    k = len(OBS_STEPS)
    rec = {
        "present": np.zeros((k, n), bool),
        "tick": np.zeros((k, n), np.int16),
        "agent_id": np.zeros((k, n), np.int16),
        "tile": np.zeros((k, n, 225, 3), np.int16),
        "entity": np.zeros((k, n, N_OBS, 31), np.int16),
        "move": np.zeros((k, n, 5), np.int8),
    }

    def record(i, obs):
        for a, o in obs.items():
            rec["present"][i, a - 1] = True
            rec["tick"][i, a - 1] = o["CurrentTick"]
            rec["agent_id"][i, a - 1] = o["AgentId"]
            rec["tile"][i, a - 1] = o["Tile"]  # copies: the reference reuses these buffers
            rec["entity"][i, a - 1] = o["Entity"]
            rec["move"][i, a - 1] = o["ActionTargets"]["Move"]["Direction"]

    record(0, obs)
    for t in range(STEPS):
        draws = rng.integers(0, 5, n)  # one draw per agent every step, dead or alive
        action_dict = {}
        for a in range(1, n + 1):  # increasing agent id
            if a in realm.players:
                actions[t, a - 1] = draws[a - 1]
                action_dict[a] = {"Move": {"Direction": int(draws[a - 1])}}
        obs, rewards, terms, _, _ = env.step(action_dict)
        if t + 1 in OBS_STEPS:
            record(OBS_STEPS.index(t + 1), obs)
        for a in range(1, n + 1):
            ent = realm.players.get(a) or env.dead_this_tick.get(a) or last[a]
            last[a] = ent
            out["row"][t, a - 1], out["col"][t, a - 1] = ent.pos
            out["food"][t, a - 1] = ent.resources.food.val
            out["water"][t, a - 1] = ent.resources.water.val
            health = ent.resources.health.val
            assert health == int(health), (t, a, health)  # whole numbers (+10 / -10 steps)
            out["health"][t, a - 1] = int(health)
            alive[t, a - 1] = a in realm.players
            terminated[t, a - 1] = bool(terms.get(a, False))
            reward[t, a - 1] = rewards.get(a, 0.0)
        foilage[t] = int((materials() == FOILAGE).sum())

    # Sanity: the alive flag agrees with health; deaths are terminated exactly once.
    assert (alive == (out["health"] > 0)).all()
    died = np.concatenate([np.ones((1, n), bool), alive[:-1]]) & ~alive
    assert (died == terminated).all()

    # The obs dict holds the agents alive before the step: the live ones and those that died in it.
    steps = np.array(OBS_STEPS)
    was_alive = np.concatenate([np.ones((2, n), bool), alive])[steps]
    assert (rec["present"] == was_alive).all()
    assert (rec["agent_id"][rec["present"]] == np.nonzero(rec["present"])[1] + 1).all()
    used = int((rec["entity"][..., 0] != 0).sum(-1).max())  # column 0 = id, never 0 for a row
    assert not rec["entity"][:, :, used:].any()
    rec["entity"] = rec["entity"][:, :, :used]

    np.savez_compressed(
        os.path.join(OUT, "reference_trajectory.npz"),
        seed=np.int64(SEED),
        action_seed=np.int64(ACTION_SEED),
        steps=np.int64(STEPS),
        horizon=np.int64(cfg.HORIZON),
        tiles=tiles,
        row0=row0,
        col0=col0,
        actions=actions,
        alive=alive,
        terminated=terminated,
        reward=reward,
        foilage=foilage,
        **out,
        obs_steps=steps.astype(np.int64),
        **{f"obs_{key}": value for key, value in rec.items()},
    )

    deaths = terminated.sum(1)
    print(f"seed {SEED}, {STEPS} steps, {n} agents, map foilage at reset {(tiles == 4).sum()}")
    print("deaths per step:", {t + 1: int(d) for t, d in enumerate(deaths) if d})
    print(f"total deaths {int(deaths.sum())}, alive at the end {int(alive[-1].sum())}")
    print("foilage eaten:", int((tiles == FOILAGE).sum() - foilage[-1]))
    moved = (out["row"][0] != row0) | (out["col"][0] != col0)
    blocked = (actions[0] < STAY) & ~moved
    print(f"step 1: {int(moved.sum())} moved, {int(blocked.sum())} blocked moves")
    health_up = (np.diff(out["health"], axis=0) > 0) & alive[1:]
    print("ticks with health regeneration:", int(health_up.sum()))
    print(
        "min water/food seen alive:", int(out["water"][alive].min()), int(out["food"][alive].min())
    )
    print(
        f"observations after steps {OBS_STEPS}: {int(rec['present'].sum())} agent-observations, "
        f"at most {used} entities in view"
    )
    os.chdir(OUT)
    tmp.cleanup()


if __name__ == "__main__":
    main()
