"""Map generation: the reference's float64 terrain fractal (numpy, offline) and the per-episode
resource placement and border processing (jax, jittable); SPEC 2.2-2.4.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from nmmo_jax import material as mat

# --- simplex noise, a verbatim float64 port of nmmo/lib/vec_noise.py (SPEC 2.3 step 4)

_GRAD3 = np.array(
    [
        [1, 1, 0], [-1, 1, 0], [1, -1, 0], [-1, -1, 0],
        [1, 0, 1], [-1, 0, 1], [1, 0, -1], [-1, 0, -1],
        [0, 1, 1], [0, -1, 1], [0, 1, -1], [0, -1, -1],
        [1, 0, -1], [-1, 0, -1], [0, -1, 1], [0, 1, 1],
    ]
)  # fmt: skip

# Ken Perlin's reference permutation, doubled to 512 entries.
_PERM = np.array(
    [
        151, 160, 137, 91, 90, 15, 131, 13, 201, 95, 96, 53, 194, 233, 7, 225, 140,
        36, 103, 30, 69, 142, 8, 99, 37, 240, 21, 10, 23, 190, 6, 148, 247, 120,
        234, 75, 0, 26, 197, 62, 94, 252, 219, 203, 117, 35, 11, 32, 57, 177, 33,
        88, 237, 149, 56, 87, 174, 20, 125, 136, 171, 168, 68, 175, 74, 165, 71,
        134, 139, 48, 27, 166, 77, 146, 158, 231, 83, 111, 229, 122, 60, 211, 133,
        230, 220, 105, 92, 41, 55, 46, 245, 40, 244, 102, 143, 54, 65, 25, 63, 161,
        1, 216, 80, 73, 209, 76, 132, 187, 208, 89, 18, 169, 200, 196, 135, 130,
        116, 188, 159, 86, 164, 100, 109, 198, 173, 186, 3, 64, 52, 217, 226, 250,
        124, 123, 5, 202, 38, 147, 118, 126, 255, 82, 85, 212, 207, 206, 59, 227,
        47, 16, 58, 17, 182, 189, 28, 42, 223, 183, 170, 213, 119, 248, 152, 2, 44,
        154, 163, 70, 221, 153, 101, 155, 167, 43, 172, 9, 129, 22, 39, 253, 19, 98,
        108, 110, 79, 113, 224, 232, 178, 185, 112, 104, 218, 246, 97, 228, 251, 34,
        242, 193, 238, 210, 144, 12, 191, 179, 162, 241, 81, 51, 145, 235, 249, 14,
        239, 107, 49, 192, 214, 31, 181, 199, 106, 157, 184, 84, 204, 176, 115, 121,
        50, 45, 127, 4, 150, 254, 138, 236, 205, 93, 222, 114, 67, 29, 24, 72, 243,
        141, 128, 195, 78, 66, 215, 61, 156, 180,
    ],
    dtype=np.int32,
)  # fmt: skip
_PERM = np.concatenate((_PERM, _PERM))

_F2 = 0.5 * (np.sqrt(3.0) - 1.0)
_G2 = (3.0 - np.sqrt(3.0)) / 6.0


def snoise2(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """2-D simplex noise in [-1, 1], float64, same shape as ``x`` and ``y`` (SPEC 2.3 step 4).

    Every operation mirrors the reference in order and dtype so the result is bit-identical.
    """
    s = (x + y) * _F2
    i = np.floor(x + s).astype(int)
    j = np.floor(y + s).astype(int)
    t = (i + j) * _G2
    x0 = x - (i - t)
    y0 = y - (j - t)
    i1 = (x0 > y0).astype(int)
    j1 = 1 - i1
    x1 = x0 - i1 + _G2
    y1 = y0 - j1 + _G2
    x2 = x0 - 1 + 2 * _G2
    y2 = y0 - 1 + 2 * _G2
    ii = i & 255
    jj = j & 255
    gi0 = _PERM[ii + _PERM[jj]] % 12
    gi1 = _PERM[ii + i1 + _PERM[jj + j1]] % 12
    gi2 = _PERM[ii + 1 + _PERM[jj + 1]] % 12
    t0 = 0.5 - x0**2 - y0**2
    t1 = 0.5 - x1**2 - y1**2
    t2 = 0.5 - x2**2 - y2**2
    mask0 = (t0 >= 0).astype(float)
    mask1 = (t1 >= 0).astype(float)
    mask2 = (t2 >= 0).astype(float)
    n0 = mask0 * t0**4 * (_GRAD3[gi0, 0] * x0 + _GRAD3[gi0, 1] * y0)
    n1 = mask1 * t1**4 * (_GRAD3[gi1, 0] * x1 + _GRAD3[gi1, 1] * y1)
    n2 = mask2 * t2**4 * (_GRAD3[gi2, 0] * x2 + _GRAD3[gi2, 1] * y2)
    return 70 * (n0 + n1 + n2)


def ring_map(size: int) -> np.ndarray:
    """int [S,S]: Chebyshev distance of each tile from (S//2, S//2) (reference ``l1_map``)."""
    x = np.abs(np.arange(size) - size // 2)
    return np.maximum(x[:, None], x[None, :])


def _normal_pdf(x: np.ndarray, sigma: float) -> np.ndarray:
    # scipy.stats.norm.pdf(x, 0, sigma) as scipy 1.10 computes it (bit-identical, checked in
    # tests/data/make_reference_terrain.py): exp(-y**2/2) / sqrt(2 pi) / sigma with y = x / sigma.
    y = (x - 0.0) / sigma
    return np.exp(-(y**2) / 2.0) / np.sqrt(2 * np.pi) / sigma


def fractal(cfg, map_index: int) -> np.ndarray:
    """float16 [S,S]: the terrain fractal of map ``map_index`` (0-based; reference file
    ``map{map_index+1}/fractal.npy``), a float64 port of ``Terrain.generate_terrain`` (SPEC 2.3
    steps 1-10). Shapes and operation order follow the reference so that sums round alike."""
    center, border, size = cfg.map_center, cfg.map_border, cfg.map_size
    frequency, offset = cfg.terrain_frequency, cfg.terrain_frequency_offset
    octaves = center // cfg.terrain_tiles_per_octave

    seed = map_index + 1
    if cfg.terrain_flip_seed:
        seed = -seed
    interpolate = np.logspace(
        cfg.terrain_log_interpolate_min, cfg.terrain_log_interpolate_max, cfg.map_n
    )[map_index]

    val = np.zeros((size, size, octaves))
    scale = np.zeros((size, size, octaves))
    s = np.arange(size)
    x_grid, y_grid = np.meshgrid(s, s)

    start = frequency
    end = min(start, start - np.log2(center) + offset)
    for idx, freq in enumerate(np.logspace(start, end, octaves, base=2)):
        val[:, :, idx] = snoise2(seed * size + freq * x_grid, idx * size + freq * y_grid)

    l1 = ring_map(size)
    rrange = np.linspace(-1, 1, 2 * octaves - 1)
    pdf = _normal_pdf(rrange, interpolate)
    pdf = pdf / max(pdf)
    high = center / 2
    delta = high / octaves

    noise = np.zeros((size, size))
    expand = int(np.log2(center)) - 2
    for idx, octave in enumerate(range(expand, 1, -1)):
        freq, mag = 1 / 2**octave, 1 / 2**idx
        noise += mag * snoise2(seed * size + freq * x_grid, idx * size + freq * y_grid)
    noise -= np.min(noise)
    noise = octaves * noise / np.max(noise) - 1e-12
    noise = noise.astype(int)

    for i in range(octaves):
        first = octaves - i - 1
        scale[l1 <= high] = np.arange(first, first + octaves)
        high -= delta

    first = noise - 1
    l1_scale = np.clip(l1, 0, size // 2 - border - 2)
    l1_scale = l1_scale / np.max(l1_scale)
    for i in range(octaves):
        idxs = l1_scale * scale[:, :, i] + (1 - l1_scale) * (first + i)
        scale[:, :, i] = pdf[idxs.astype(int)]  # truncation; an index of -1 wraps (SPEC 2.3 9)

    std = np.std(val)
    val = val / std
    val = scale * val
    val = np.sum(scale * val, -1)
    val = std * val / np.std(val)
    val = 0.5 + np.clip(val, -1, 1) / 2
    return val.astype(np.float16)


def terrain(cfg, map_index: int) -> np.ndarray:
    """int8 [S,S]: base materials of map ``map_index`` before resource placement and before border
    processing (SPEC 2.3 step 11): the float16 fractal widened to float64 against the thresholds."""
    size = cfg.map_size
    if cfg.terrain_reset_to_grass:
        return np.full((size, size), mat.GRASS, np.int8)
    v = fractal(cfg, map_index).astype(np.float64)
    out = np.full((size, size), mat.STONE, np.int8)
    out[v <= cfg.terrain_foilage] = mat.FOILAGE
    out[v <= cfg.terrain_grass] = mat.GRASS
    out[v <= cfg.terrain_water] = mat.WATER
    return out


_TERRAIN_FIELDS = (
    "map_size", "map_center", "map_n", "terrain_flip_seed", "terrain_frequency",
    "terrain_frequency_offset", "terrain_log_interpolate_min", "terrain_log_interpolate_max",
    "terrain_tiles_per_octave", "terrain_water", "terrain_grass", "terrain_foilage",
    "terrain_reset_to_grass",
)  # fmt: skip


@functools.lru_cache(maxsize=16)
def _map_pool(terrain_cfg: tuple) -> np.ndarray:
    cfg = _TerrainCfg(**dict(zip(_TERRAIN_FIELDS, terrain_cfg, strict=True)))
    pool = np.stack([terrain(cfg, i) for i in range(cfg.map_n)])
    pool.setflags(write=False)
    return pool


class _TerrainCfg:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def map_border(self) -> int:
        return (self.map_size - self.map_center) // 2


def map_pool(cfg) -> np.ndarray:
    """int8 [map_n, S, S] (read-only): ``terrain(cfg, i)`` for every map index, cached on the
    terrain fields of ``cfg`` so configs that differ elsewhere share one pool."""
    return _map_pool(tuple(getattr(cfg, f) for f in _TERRAIN_FIELDS))


# --- per-episode placement (jax)


def apply_border(tiles, cfg):
    """int8 [S,S] -> int8 [S,S]: SPEC 2.2 border processing (ring > S/2 - B -> Void, ring ==
    S//2 - B -> Grass, ring == S//2 - B - 1: Stone and Water -> Foilage). Works on numpy or jax
    arrays (returns jax)."""
    size, border = cfg.map_size, cfg.map_border
    ring = jnp.asarray(ring_map(size))
    tiles = jnp.asarray(tiles, jnp.int8)
    tiles = jnp.where(ring > size / 2 - border, jnp.int8(mat.VOID), tiles)
    tiles = jnp.where(ring == size // 2 - border, jnp.int8(mat.GRASS), tiles)
    edge = ring == size // 2 - border - 1
    hard = (tiles == mat.STONE) | (tiles == mat.WATER)
    return jnp.where(edge & hard, jnp.int8(mat.FOILAGE), tiles)


def _box(size: int, lo: int, hi: int) -> np.ndarray:
    """bool [S,S]: rows and cols both in [lo, hi)."""
    a = (np.arange(size) >= lo) & (np.arange(size) < hi)
    return a[:, None] & a[None, :]


def _priority(key, n: int):
    """int32 [n]: i.i.d. uniform 31-bit priorities. A random order of any tile set is the order of
    decreasing priority (ties, about n^2 / 2^32 pairs per map, fall to the lower index)."""
    return (jax.random.bits(key, (n,), jnp.uint32) >> 1).astype(jnp.int32)


def _top(eligible, priority, k: int):
    """The k eligible tiles of highest ``priority``, best first: (idx [k], valid [k]); ``valid``
    is False past the number of eligible tiles. eligible, priority: [S*S]."""
    top, idx = jax.lax.top_k(jnp.where(eligible, priority, -1), k)
    return idx, top >= 0


def _put(flat, idx, valid, value):
    """flat [S*S] with ``flat[idx[n]] = value`` where ``valid[n]``."""
    return flat.at[idx].set(jnp.where(valid, jnp.int8(value), flat[idx]))


_BATCH = 32  # cluster-centre candidates drawn at once


def _clusters(key, flat, cfg):
    """SPEC 2.4 step 1 on flat [S*S]: for each of 3 * clusters (Ore, Tree, Crystal, Ore, ...) a
    centre drawn uniformly from [mmin+1, mmax-1)^2 and redrawn until Grass, then the centre and
    its Grass 4-neighbours take the material. The redraw loop is run as is (candidates in batches
    of _BATCH, the first Grass one wins), so it is the reference's distribution exactly; the number
    of Grass tiles left in the box is tracked so that an exhausted box skips instead of hanging."""
    size = cfg.map_size
    lo, hi = cfg.map_border + 2, size - cfg.map_border - 2
    box = jnp.asarray(_box(size, lo, hi).reshape(size * size))
    kinds = jnp.array([mat.ORE, mat.TREE, mat.CRYSTAL], jnp.int8)
    n_cl = 3 * cfg.progression_spawn_clusters
    k_first, k_more = jax.random.split(key)

    def draw(k, shape):
        rc = jax.random.randint(k, (*shape, 2), lo, hi)
        return rc[..., 0] * size + rc[..., 1]

    first = draw(k_first, (n_cl, _BATCH))

    def cluster(t, carry):
        flat, left = carry

        def pick(idx):
            grass = flat[idx] == mat.GRASS
            return idx[jnp.argmax(grass)], jnp.any(grass)

        def redraw(s):
            _, _, j = s
            return (
                *pick(draw(jax.random.fold_in(jax.random.fold_in(k_more, t), j), (_BATCH,))),
                j + 1,
            )

        centre, found = pick(first[t])
        centre, found, _ = jax.lax.while_loop(
            lambda s: ~s[1] & (left > 0), redraw, (centre, found, 0)
        )
        kind = kinds[t % 3]
        for d in (0, -size, size, -1, 1):  # the centre, then its 4 neighbours if Grass
            i = centre + d
            hit = found & (flat[i] == mat.GRASS)
            flat = flat.at[i].set(jnp.where(hit, kind, flat[i]))
            left = left - (hit & box[i])
        return flat, left

    left = jnp.sum(box & (flat == mat.GRASS))
    flat, _ = jax.lax.fori_loop(0, n_cl, cluster, (flat, left))
    return flat


def place_resources(key, terrain, cfg) -> jax.Array:
    """int8 [S,S] -> int8 [S,S]: one episode's map from a base ``terrain`` [S,S] (SPEC 2.4 steps
    1-4, then terrain_disable_stone, then the border of SPEC 2.2). Pure jnp: jit with ``cfg``
    static, vmap over ``key``/``terrain``.

    Same distribution as the reference's rejection-sampling loops (not the same stream); the
    equivalences are given at each step. If too few tiles qualify, the reference loops forever or
    raises; here the placement just stops short.
    """
    size, border = cfg.map_size, cfg.map_border
    n = size * size
    mmin, mmax = border + 1, size - border - 1
    flat = jnp.asarray(terrain, jnp.int8).reshape(n)
    k_cluster, k_grass, k_fish = jax.random.split(key, 3)
    u = cfg.progression_spawn_uniforms
    q = (cfg.map_center // 6) ** 2 if cfg.terrain_scatter_extra_resources else 0

    if cfg.profession_system_enabled and cfg.progression_spawn_clusters > 0:
        flat = _clusters(k_cluster, flat, cfg)

    # 2 + 4. Herbs and scatter (SPEC 2.4 steps 2 and 4) share one random order of the Grass
    # tiles of [mmin, mmax)^2 after the clusters. Herbs: each is uniform over the remaining Grass
    # tiles (redraw until Grass), so the U herbs are the first U tiles of a uniformly random
    # order. Scatter: each draw (with replacement) that hits a Grass tile converts it (to Water
    # while the water quota is open, then to Foilage); hits on converted tiles change nothing. So
    # the converted tiles, in order, are the first-visit order of the Grass tiles, a uniformly
    # random order: the first Q become Water, the next Q Foilage (Q = (C//6)^2; with fewer Grass
    # tiles the reference never terminates). Fish (step 3) only turn Water into Fish and touch no
    # Grass, and the order of the tiles left after the herbs is again uniform, so the scatter
    # simply takes the next 2Q tiles of the same order.
    n_herb = u if cfg.profession_system_enabled else 0
    k = min(n_herb + 2 * q, n)
    if k > 0:
        box = jnp.asarray(_box(size, mmin, mmax).reshape(n))
        order, valid = _top(box & (flat == mat.GRASS), _priority(k_grass, n), k)
        pos = np.arange(k)
        flat = _put(flat, order, valid & (pos < n_herb), mat.HERB)

    if cfg.profession_system_enabled and u > 0:
        # 3. Fish (SPEC 2.4 step 3): the Water tiles with mmin < r, c < mmax are shuffled and
        # walked, and one becomes Fish when it has a Grass 4-neighbour, until U fish. Turning
        # Water into Fish changes no Grass tile, so eligibility is fixed during the walk: the fish
        # are U tiles drawn uniformly without replacement from the eligible ones (fewer if too few
        # are eligible; the reference raises RuntimeError then).
        grid = flat.reshape(size, size)
        g = grid == mat.GRASS
        near_grass = jnp.roll(g, 1, 0) | jnp.roll(g, -1, 0) | jnp.roll(g, 1, 1) | jnp.roll(g, -1, 1)
        inner = jnp.asarray(_box(size, mmin + 1, mmax))  # strict mmin < r < mmax: no wrap-around
        eligible = ((grid == mat.WATER) & near_grass & inner).reshape(n)
        fish, fish_valid = _top(eligible, _priority(k_fish, n), min(u, n))
        flat = _put(flat, fish, fish_valid, mat.FISH)

    if k > 0 and q > 0:
        flat = _put(flat, order, valid & (pos >= n_herb) & (pos < n_herb + q), mat.WATER)
        flat = _put(flat, order, valid & (pos >= n_herb + q), mat.FOILAGE)

    if cfg.terrain_disable_stone:  # after placement, before the border (SPEC 2.3 end)
        flat = jnp.where(flat == mat.STONE, jnp.int8(mat.GRASS), flat)
    return apply_border(flat.reshape(size, size), cfg)


@functools.cache
def edge_tiles(cfg) -> tuple[np.ndarray, np.ndarray]:
    """The reference's spawn candidates: 4 sides of map_center tiles each, (B, B) listed twice
    and (B + C, B + C) never (SPEC 3.1). int32 arrays [4 * map_center]."""
    b, c = cfg.map_border, cfg.map_center
    inc = np.arange(b, b + c)
    lows, highs = np.full(c, b), np.full(c, b + c)
    rows = np.concatenate([lows, inc, highs, inc[::-1]])
    cols = np.concatenate([inc, highs, inc[::-1], lows])
    return rows.astype(np.int32), cols.astype(np.int32)


def spawn_positions(key, cfg) -> tuple[jax.Array, jax.Array]:
    """(row, col) int32 [player_n]: player i takes the i-th of distinct random draws from the
    edge list, as the reference pops the end of the shuffled list (SPEC 3.1). Both copies of
    (B, B) can be drawn, so two players may share that corner, as in the reference."""
    rows, cols = edge_tiles(cfg)
    picks = jax.random.permutation(key, rows.shape[0])[: cfg.player_n]
    return jnp.asarray(rows)[picks], jnp.asarray(cols)[picks]
