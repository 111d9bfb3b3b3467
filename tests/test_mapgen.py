"""Map generation against the reference nmmo 2.1.2 (SPEC 2.2-2.4).

Reference data come from tests/data/make_reference_terrain.py (run with the reference venv).
"""

import functools
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nmmo_jax import material as m
from nmmo_jax.config import Config
from nmmo_jax.mapgen import apply_border, fractal, map_pool, place_resources, ring_map, terrain

DATA = pathlib.Path(__file__).parent / "data"
DEFAULT = Config()
SMALL = Config.small()
N_KEYS = 32


@functools.cache
def _jit_batch(cfg):
    return jax.jit(jax.vmap(lambda k, t: place_resources(k, t, cfg), in_axes=(0, None)))


@functools.cache
def _batch(cfg, seed=0, n=N_KEYS):
    keys = jax.random.split(jax.random.key(seed), n)
    return np.asarray(_jit_batch(cfg)(keys, map_pool(cfg)[0]))


def _base(cfg):
    """The map without resources: terrain + border (SPEC 2.2, 2.3)."""
    return np.asarray(apply_border(map_pool(cfg)[0], cfg))


# --- terrain: bit-exact against the reference


def test_fractal_matches_reference_bitwise():
    ours = fractal(DEFAULT, 0)
    ref = np.load(DATA / "reference_map1_fractal.npy")
    assert ours.dtype == np.float16 and ours.shape == (160, 160)
    np.testing.assert_array_equal(ours.view(np.uint16), ref.view(np.uint16))
    # Small preset: sigma = 1, so every entry of the normal pdf matters.
    small = np.load(DATA / "reference_small_map1_fractal.npy")
    np.testing.assert_array_equal(fractal(SMALL, 0).view(np.uint16), small.view(np.uint16))


def test_terrain_matches_reference():
    ref = np.load(DATA / "reference_map1_terrain.npy")
    np.testing.assert_array_equal(_base(DEFAULT), ref)
    # With placement and scatter off, place_resources is just the border processing.
    bare = DEFAULT.replace(profession_system_enabled=False, terrain_scatter_extra_resources=False)
    np.testing.assert_array_equal(np.asarray(place_resources(jax.random.key(3), ref, bare)), ref)


def test_map_pool_cached_and_typed():
    pool = map_pool(DEFAULT)
    assert pool.shape == (1, 160, 160) and pool.dtype == np.int8
    assert map_pool(DEFAULT.replace(player_n=7)) is pool  # only terrain fields matter
    two = map_pool(SMALL.replace(map_n=2))
    assert two.shape == (2, 64, 64)
    np.testing.assert_array_equal(two[1], terrain(SMALL.replace(map_n=2), 1))
    assert not np.array_equal(two[0], two[1])
    assert set(np.unique(pool)) <= {m.WATER, m.GRASS, m.FOILAGE, m.STONE}


def test_reset_to_grass_and_disable_stone():
    grass = terrain(SMALL.replace(terrain_reset_to_grass=True), 0)
    assert (grass == m.GRASS).all()
    cfg = SMALL.replace(terrain_disable_stone=True)
    assert (map_pool(cfg)[0] == m.STONE).any()
    out = np.asarray(place_resources(jax.random.key(0), map_pool(cfg)[0], cfg))
    assert not (out == m.STONE).any()


# --- border (SPEC 2.2)


def test_border_facts():
    out = _batch(DEFAULT)[0]
    ring = ring_map(160)
    walk = np.zeros((160, 160), bool)
    walk[16:145, 16:145] = True  # rows/cols 16..144 inclusive
    np.testing.assert_array_equal(out != m.VOID, walk)
    np.testing.assert_array_equal(ring <= 64, walk)
    assert (out[ring == 64] == m.GRASS).all()
    assert np.isin(out[ring == 63], [m.STONE, m.WATER], invert=True).all()


# --- resource counts (SPEC 2.4)


@pytest.mark.parametrize("name, cfg", [("default", DEFAULT), ("small", SMALL)])
def test_resource_counts_match_reference(name, cfg):
    # Reference example (SPEC 2.4, seed 1, map 1): water 4490, grass 5695, foilage 3441,
    # stone 1883, ore 215, tree 208, crystal 197, herb 256, fish 256, void 8959.
    ref = json.loads((DATA / "reference_resource_counts.json").read_text())[name]
    ref_mean, ref_std = np.array(ref["mean"]), np.array(ref["std"])
    n_ref = len(ref["counts"])
    counts = np.stack([np.bincount(x.ravel(), minlength=m.N_MATERIALS) for x in _batch(cfg)])
    u = cfg.progression_spawn_uniforms
    assert (counts[:, m.HERB] == u).all() and (counts[:, m.FISH] == u).all()
    # Stone is never a placement target: the count is the base map's.
    assert (counts[:, m.STONE] == (_base(cfg) == m.STONE).sum()).all()
    mean, std = counts.mean(0), counts.std(0, ddof=1)
    # 4 standard errors of the difference of two independent sample means.
    se = np.sqrt(ref_std**2 / n_ref + std**2 / len(counts))
    exact = se == 0
    np.testing.assert_array_equal(mean[exact], ref_mean[exact])
    z = (mean - ref_mean)[~exact] / se[~exact]
    names = np.array(m.NAMES)[~exact]
    assert (np.abs(z) < 4).all(), dict(zip(names, np.round(z, 2), strict=True))


# --- placement properties


def _neighbours(mask):
    p = np.pad(mask, 1)
    return p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]


def test_placement_properties():
    cfg = DEFAULT
    base = _base(cfg)
    lo, hi = cfg.map_border + 1, cfg.map_size - cfg.map_border - 1  # mmin, mmax = 17, 143
    box = np.zeros_like(base, bool)
    box[lo:hi, lo:hi] = True
    placed = (m.ORE, m.TREE, m.CRYSTAL, m.HERB, m.WATER, m.FOILAGE)
    for out in _batch(cfg)[:8]:
        changed = out != base
        assert box[changed].all()
        from_grass = changed & (base == m.GRASS)
        assert np.isin(out[from_grass], placed).all()
        fish = out == m.FISH
        assert (changed == from_grass | fish).all()
        # Fish: base Water, strictly inside (mmin, mmax), next to a tile that was still Grass
        # when the fish were placed (Grass now, or later scattered Water / Foilage).
        assert (base[fish] == m.WATER).all()
        assert fish[: lo + 1].sum() == 0 and fish[:, : lo + 1].sum() == 0
        grass_then = (base == m.GRASS) & np.isin(out, [m.GRASS, m.WATER, m.FOILAGE])
        assert _neighbours(grass_then)[fish].all()
        # Cluster tiles: centres in [mmin+1, mmax-1), so every tile is within [mmin, mmax).
        for kind in (m.ORE, m.TREE, m.CRYSTAL):
            assert box[out == kind].all() and (out == kind).sum() >= cfg.progression_spawn_clusters


def test_exhausted_terrain_terminates():
    cfg = SMALL
    water = np.full((64, 64), m.WATER, np.int8)
    out = np.asarray(jax.jit(place_resources, static_argnums=2)(jax.random.key(0), water, cfg))
    np.testing.assert_array_equal(out, np.asarray(apply_border(water, cfg)))
    grass = np.full((64, 64), m.GRASS, np.int8)
    out = np.asarray(place_resources(jax.random.key(1), grass, cfg))
    counts = np.bincount(out.ravel(), minlength=m.N_MATERIALS)
    q = (cfg.map_center // 6) ** 2
    assert counts[m.HERB] == cfg.progression_spawn_uniforms and counts[m.FISH] == 0
    # Scattered Water on ring S/2 - B - 1 becomes Foilage, so Water + Foilage = 2Q exactly.
    assert counts[m.WATER] + counts[m.FOILAGE] == 2 * q


def test_determinism_and_jit():
    cfg = SMALL
    t = map_pool(cfg)[0]
    a = place_resources(jax.random.key(5), t, cfg)
    b = place_resources(jax.random.key(5), t, cfg)
    c = place_resources(jax.random.key(6), t, cfg)
    j = jax.jit(place_resources, static_argnums=2)(jax.random.key(5), jnp.asarray(t), cfg)
    assert a.dtype == jnp.int8 and a.shape == (64, 64)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, j)
    assert not np.array_equal(a, c)
    maps = _batch(DEFAULT)
    assert len({x.tobytes() for x in maps}) == len(maps)
