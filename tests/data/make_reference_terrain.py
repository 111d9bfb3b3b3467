"""Write the reference map data used by tests/test_mapgen.py (run with the REFERENCE nmmo 2.1.2).

    .reference/venv/bin/python tests/data/make_reference_terrain.py   # from the repository root

Writes, next to this file: reference_map1_fractal.npy (float16 [160,160], Default map1 fractal),
reference_map1_terrain.npy (int8 [160,160], Default map1 base terrain + border, no resources),
reference_small_map1_fractal.npy (float16 [64,64], Small map1 fractal) and
reference_resource_counts.json (per-material tile counts of full maps after env.reset(seed)).
The reference writes its maps under PATH_CWD, so everything runs in a temporary directory.
"""

import json
import os
import sys
import tempfile

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
SEEDS = list(range(1, 101))


def main():
    tmp = tempfile.TemporaryDirectory()
    os.chdir(tmp.name)  # nmmo reads PATH_CWD = os.getcwd() at import time
    import nmmo
    from nmmo.core import config as nc
    from nmmo.core.terrain import fractal_to_material, process_map_border
    from nmmo.lib import material
    from scipy import stats

    n_mat = len(material.All.materials)
    names = {m.index: m.__name__ for m in material.All}

    def tiles_of(env):
        return np.array([[t.material.index for t in row] for row in env.realm.map.tiles], np.int8)

    # 1. Base terrain of map1 (Default), resources disabled.
    cfg = nc.Default()
    cfg.set("PATH_CWD", tmp.name)
    cfg.set("PROFESSION_SYSTEM_ENABLED", False)
    cfg.set("TERRAIN_SCATTER_EXTRA_RESOURCES", False)
    env = nmmo.Env(cfg, seed=0)
    env.reset(seed=0, map_id=1)
    base = tiles_of(env)
    frac = np.load(os.path.join(tmp.name, "maps/medium/map1/fractal.npy"))
    assert frac.dtype == np.float16 and frac.shape == (160, 160)
    # The same map from the reference functions directly (what Map.reset does).
    direct = process_map_border(cfg, fractal_to_material(cfg, frac.astype(float)).astype(int))
    assert (direct == base).all(), "env tiles differ from fractal_to_material + border"
    np.save(os.path.join(OUT, "reference_map1_fractal.npy"), frac)
    np.save(os.path.join(OUT, "reference_map1_terrain.npy"), base)

    # Our numpy normal pdf must equal scipy's bit for bit (nmmo_jax.mapgen._normal_pdf).
    for sigma in (0.01, 1.0, 10**-1.5):
        x = np.linspace(-1, 1, 31)
        ours = np.exp(-(((x - 0.0) / sigma) ** 2) / 2.0) / np.sqrt(2 * np.pi) / sigma
        assert (ours == stats.norm.pdf(x, 0, sigma)).all(), sigma

    # 2. Resource counts of full maps (all systems) over SEEDS.
    result = {"materials": [names[i] for i in range(n_mat)], "seeds": SEEDS}

    class SmallFull(nc.Small, nc.AllGameSystems):
        pass

    for label, cls in (("default", nc.Default), ("small", SmallFull)):
        cfg = cls()
        cfg.set("PATH_CWD", tmp.name)
        env = nmmo.Env(cfg, seed=0)
        if label == "small":
            small = np.load(os.path.join(tmp.name, "maps/small/map1/fractal.npy"))
            np.save(os.path.join(OUT, "reference_small_map1_fractal.npy"), small)
        counts = []
        for seed in SEEDS:
            env.reset(seed=seed, map_id=1)
            counts.append(np.bincount(tiles_of(env).ravel(), minlength=n_mat).tolist())
            print(label, seed, counts[-1], file=sys.stderr)
        arr = np.array(counts, np.float64)
        result[label] = {
            "counts": counts,
            "mean": arr.mean(0).tolist(),
            "std": arr.std(0, ddof=1).tolist(),
        }

    with open(os.path.join(OUT, "reference_resource_counts.json"), "w") as f:
        json.dump(result, f, indent=1)
    os.chdir(OUT)
    tmp.cleanup()


if __name__ == "__main__":
    main()
