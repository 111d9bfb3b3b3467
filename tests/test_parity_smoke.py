"""bench/parity.py's own side on a small world (1 env, 20 ticks): the statistics are well formed
and consistent with each other, the comparison of two identical runs finds no difference, and
bench/parity_reference.py's fast helpers equal bench/scripted_reference.py's. No reference
engine needed."""

import numpy as np

import nmmo_jax as nj
from agents import scripted
from bench import parity, parity_reference
from bench import scripted_reference as ref

TICKS = 20
CFG = nj.Config.small()


def test_our_statistics_are_well_formed():
    (row,) = parity.ours("mixed", 1, TICKS, 3, None, batch=1, cfg=CFG, quiet=True)
    n = CFG.player_n
    policy = np.asarray(row["policy"])
    assert policy.tolist() == np.asarray(scripted.policy_ids(n)).tolist()
    assert row["steps"] == TICKS  # small world: nobody starves within 20 ticks
    death = np.asarray(row["death_tick"])
    assert death.shape == (n,) and ((death >= 0) & (death <= TICKS)).all()
    alive = np.asarray(row["alive_by_policy"])
    assert alive.shape == (4, TICKS) and (np.diff(alive, axis=1) <= 0).all()
    for p in range(4):
        assert alive[p, -1] == ((policy == p) & (death == 0)).sum()
    npc = np.asarray(row["npc_count"])
    assert npc.shape == (TICKS,) and ((npc >= 0) & (npc <= CFG.npc_n)).all() and npc.max() > 0
    counts = {k: np.asarray(v) for k, v in row["counts"].items()}
    assert set(counts) == set(parity.COUNT_CODES)
    assert all(v.shape == (n,) and (v >= 0).all() for v in counts.values())
    assert counts["DRINK_WATER"].sum() > 0 and counts["HARVEST_ITEM"].sum() > 0
    hits = np.asarray(row["hits"])
    assert (hits.sum(1) == counts["SCORE_HIT"]).all()
    kills = np.asarray(row["kills_player"]) + np.asarray(row["kills_npc"])
    assert (kills == counts["PLAYER_KILL"]).all()
    assert (np.asarray(row["kill_style"]).sum(1) == kills).all()  # every kill has its hit
    harvest = np.asarray(row["items"]["HARVEST_ITEM"])
    assert harvest.shape == (n, parity.N_TYPES, 10)
    assert (harvest.sum((1, 2)) >= counts["HARVEST_ITEM"]).all()
    level = np.asarray(row["level_up"])
    assert level.shape == (n, 8) and ((level >= 0) & (level <= 10)).all()
    assert (np.asarray(row["npc_damage_proxy"]) >= 0).all()

    # the map is recorded, and recomputed from the seed for lines written before it was
    assert 1 <= row["map_id"] <= CFG.map_n
    assert parity.map_ids([dict(row, map_id=0)], ours=True, map_n=CFG.map_n) == [row["map_id"]]
    # the reference's reset(seed=2000) loads map 8 (recorded by its own _load_map_file)
    assert parity.reference_map_id(2000, 8) == 8

    stats = parity.per_episode(row, TICKS)
    assert ("fighter", "lifetime") in stats and ("episode", "deaths") in stats
    assert all(np.isfinite(v) for v in stats.values())
    table = parity.compare([row], [row], TICKS, resamples=50)
    assert table and all(r[-1] == "within noise" and r[4] == 0 for r in table)


def test_reference_driver_helpers():
    assert parity_reference.policy_ids(128, (1, 1, 1, 1)).tolist() == (
        np.asarray(scripted.policy_ids(128)).tolist()
    )
    assert parity_reference.MIXES == parity.MIXES
    rng = np.random.default_rng(0)
    mats = np.array([0, 1, 2, 3, 4, 5, 7, 9, 11, 13, 14, 15])
    for i in range(100):
        tile = rng.choice(mats, (15, 15))
        goal = rng.random((15, 15)) < (0.01, 0.05, 0.2)[i % 3]
        fast, slow = parity_reference.distance_to(goal, tile), ref.distance_to(goal, tile)
        np.testing.assert_array_equal(fast, slow)
        for dr, dc in ref.DIRECTIONS:
            for grid, fill in ((tile, 7), (goal, False)):
                a, b = parity_reference.shift(grid, dr, dc, fill), ref.shift(grid, dr, dc, fill)
                assert a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)
