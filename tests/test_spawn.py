"""Spawning on the edge (SPEC 3.1)."""

import collections

import jax
import numpy as np

import nmmo_jax as nj
from nmmo_jax import mapgen
from nmmo_jax import material as mat


def test_edge_list_is_the_reference_one():
    cfg = nj.Config()  # B = 16, C = 128
    rows, cols = mapgen.edge_tiles(cfg)
    assert len(rows) == 4 * 128
    counts = collections.Counter(zip(rows.tolist(), cols.tolist(), strict=True))
    # The four sides (16, 16..143), (16..143, 144), (144, 143..16), (143..16, 16):
    # (16, 16) is listed twice (first and last side), (144, 144) never.
    assert counts[(16, 16)] == 2
    assert (144, 144) not in counts
    assert set(counts.values()) == {1, 2}
    assert [(int(r), int(c)) for r, c in zip(rows[:2], cols[:2], strict=True)] == [
        (16, 16),
        (16, 17),
    ]
    assert (int(rows[128]), int(cols[128])) == (16, 144)
    assert (int(rows[256]), int(cols[256])) == (144, 143)
    assert (int(rows[-1]), int(cols[-1])) == (16, 16)
    for r, c in counts:
        assert r in (16, 144) or c in (16, 144)


def test_players_spawn_on_distinct_draws_of_edge_grass():
    cfg = nj.Config.small()
    env = nj.Env(cfg)
    for seed in range(3):
        obs, state = jax.jit(env.reset)(jax.random.key(seed))
        row = np.asarray(state.entities.row[: cfg.player_n])
        col = np.asarray(state.entities.col[: cfg.player_n])
        b, c = cfg.map_border, cfg.map_center
        assert np.all((row == b) | (row == b + c) | (col == b) | (col == b + c))
        # The outermost walkable ring is forced to grass (SPEC 2.2).
        assert np.all(np.asarray(state.tiles.base)[row, col] == mat.GRASS)
        # Distinct draws: only the doubly listed corner (B, B) can hold two players.
        cells = collections.Counter(zip(row.tolist(), col.tolist(), strict=True))
        assert all(n == 1 or cell == (b, b) for cell, n in cells.items())
        np.testing.assert_array_equal(np.asarray(state.entities.spawn_row[: cfg.player_n]), row)


def test_every_edge_tile_is_drawn_uniformly():
    # 512 players on a Default-size edge take every entry of the list once: all tiles appear
    # and (16, 16) twice.
    cfg = nj.Config(player_n=512)
    row, col = jax.jit(mapgen.spawn_positions, static_argnums=1)(jax.random.key(0), cfg)
    counts = collections.Counter(
        zip(np.asarray(row).tolist(), np.asarray(col).tolist(), strict=True)
    )
    assert counts[(16, 16)] == 2 and len(counts) == 511
