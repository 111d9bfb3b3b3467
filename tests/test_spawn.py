"""Spawning on the edge (SPEC 3.1)."""

import collections
import functools

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

import nmmo_jax as nj
from nmmo_jax import mapgen
from nmmo_jax import material as mat
from nmmo_jax.env import spawn_players


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


def test_512_players_take_every_entry_of_the_edge_list_once():
    # 512 players on a Default-size edge take every entry of the list once: all tiles appear
    # and (16, 16) twice.
    cfg = nj.Config(player_n=512)
    row, col = jax.jit(mapgen.spawn_positions, static_argnums=1)(jax.random.key(0), cfg)
    counts = collections.Counter(
        zip(np.asarray(row).tolist(), np.asarray(col).tolist(), strict=True)
    )
    assert counts[(16, 16)] == 2 and len(counts) == 511


# --- the draw is a uniformly shuffled list (SPEC 3.1), checked over many keys

SPAWN_KEYS = 4096  # independent episodes (keys)
SPAWN_PLAYERS = 64  # players per episode, fewer than the 512 edge entries
FALSE_ALARM = 1e-6  # probability that a correct draw fails any one of the checks below


def hand_edge_list(b: int = 16, c: int = 128) -> list[tuple[int, int]]:
    """The 4 * 128 spawn candidates of SPEC 3.1, written out from the SPEC."""
    top = [(b, j) for j in range(b, b + c)]  # (16, 16..143)
    right = [(i, b + c) for i in range(b, b + c)]  # (16..143, 144)
    bottom = [(b + c, j) for j in range(b + c - 1, b - 1, -1)]  # (144, 143..16)
    left = [(i, b) for i in range(b + c - 1, b - 1, -1)]  # (143..16, 16)
    return top + right + bottom + left


@functools.cache
def many_draws() -> tuple[np.ndarray, np.ndarray]:
    """(row, col) int [SPAWN_KEYS, SPAWN_PLAYERS]: the spawn positions of many episodes."""
    cfg = nj.Config(player_n=SPAWN_PLAYERS)
    keys = jax.random.split(jax.random.key(2024), SPAWN_KEYS)
    row, col = jax.jit(jax.vmap(lambda key: mapgen.spawn_positions(key, cfg)))(keys)
    return np.asarray(row), np.asarray(col)


def test_every_edge_tile_is_drawn_uniformly():
    entries = hand_edge_list()
    n = len(entries)
    assert n == 512
    tiles = sorted(set(entries))  # 511 distinct tiles; (16, 16) is listed twice
    index = {tile: i for i, tile in enumerate(tiles)}
    row, col = many_draws()
    drawn = np.vectorize(lambda r, c: index.get((int(r), int(c)), -1))(row, col)
    assert (drawn >= 0).all()  # only edge tiles

    # Within an episode the entries are distinct (draws without replacement): every tile but
    # (16, 16) holds at most one player.
    corner = index[(16, 16)]
    per_episode = np.stack([np.bincount(d, minlength=len(tiles)) for d in drawn])
    assert per_episode[:, np.arange(len(tiles)) != corner].max() == 1
    assert per_episode[:, corner].max() <= 2

    # Each entry is among the 64 drawn with probability p = 64/512 = 1/8 in every episode, so a
    # singly listed tile's count over K episodes is Binomial(K, p): mean K/8 = 512, sd 21.2.
    # Statistic: sum of squared standardized counts over the 510 singly listed tiles. The counts
    # are slightly anticorrelated (correlation -1/511, a fixed total per episode), so the sum is
    # (512/511) chi2(509) plus a negligible term; (512/511) chi2(510) bounds it from above.
    p = SPAWN_PLAYERS / n
    counts = per_episode.sum(axis=0)
    single = np.arange(len(tiles)) != corner
    z = (counts[single] - SPAWN_KEYS * p) / np.sqrt(SPAWN_KEYS * p * (1 - p))
    chi2 = float(np.sum(z**2))
    limit = n / (n - 1) * stats.chi2.isf(FALSE_ALARM, single.sum())
    assert chi2 < limit, (chi2, limit)
    # An unshuffled list would give 64 tiles all K draws: z = sqrt(K * 7) = 169 each.
    assert np.abs(z).max() < stats.norm.isf(FALSE_ALARM / (2 * single.sum()))
    # (16, 16): the number of its 2 copies among the 64 drawn is hypergeometric, mean 2p and
    # variance 64 (2/512) (510/512) (448/511) per episode.
    var = SPAWN_PLAYERS * (2 / n) * (1 - 2 / n) * (n - SPAWN_PLAYERS) / (n - 1)
    z_corner = (counts[corner] - SPAWN_KEYS * 2 * p) / np.sqrt(SPAWN_KEYS * var)
    assert abs(z_corner) < stats.norm.isf(FALSE_ALARM / 2), z_corner


def test_each_player_draws_a_uniform_edge_position():
    """The order is shuffled too: player i's position, not only the set of positions, is
    uniform. A sorted or rotated draw of a uniform subset would fail here."""
    entries = hand_edge_list()
    n = len(entries)
    bins = 16  # 16 stretches of 32 consecutive entries along the edge
    first = {}
    for i, tile in enumerate(entries):
        first.setdefault(tile, i)
    # Probability of each stretch: its entries over 512, with (16, 16) (entries 0 and 511) shown
    # in stretch 0.
    expected = np.zeros(bins)
    for tile in entries:
        expected[first[tile] * bins // n] += 1 / n
    assert expected[0] == 33 / 512 and expected[-1] == 31 / 512
    row, col = many_draws()
    stretch = np.vectorize(lambda r, c: first[(int(r), int(c))] * bins // n)(row, col)
    limit = stats.chi2.isf(FALSE_ALARM / SPAWN_PLAYERS, bins - 1)  # Bonferroni over players
    for player in range(SPAWN_PLAYERS):
        observed = np.bincount(stretch[:, player], minlength=bins)
        chi2 = float(np.sum((observed - SPAWN_KEYS * expected) ** 2 / (SPAWN_KEYS * expected)))
        assert chi2 < limit, (player + 1, chi2, limit)
    # Players 1 and 2 are independent draws without replacement: P(stretch a, stretch b) =
    # (n_a n_b - [a == b] n_a) / (512 * 511) with n_a entries in stretch a. A draw of a random
    # run of consecutive entries (uniform per tile and per player) would fail here.
    sizes = expected * n
    pair = (np.outer(sizes, sizes) - np.diag(sizes)) / (n * (n - 1))
    observed = np.zeros((bins, bins))
    np.add.at(observed, (stretch[:, 0], stretch[:, 1]), 1)
    chi2 = float(np.sum((observed - SPAWN_KEYS * pair) ** 2 / (SPAWN_KEYS * pair)))
    assert chi2 < stats.chi2.isf(FALSE_ALARM, bins * bins - 1), chi2
    # Different keys give different draws: player 1 lands on most of the 511 tiles (for a
    # uniform draw the expected number of tiles hit in 4096 draws is about 511 (1 - e^-8)), and
    # no two episodes share the same ordered list of positions.
    assert len(set(zip(row[:, 0].tolist(), col[:, 0].tolist(), strict=True))) > 500
    episodes = {tuple(r) + tuple(c) for r, c in zip(row.tolist(), col.tolist(), strict=True)}
    assert len(episodes) == SPAWN_KEYS


# --- RESOURCE_RESILIENT_POPULATION (SPEC 3.1)

RESILIENT_PLAYERS = 64


@functools.cache
def resilient_flags(fraction: float, keys: int = 1, reduction: float = 0.5) -> np.ndarray:
    """bool [keys, 64]: which players spawn resilient, for `keys` different episode keys."""
    cfg = nj.Config(
        player_n=RESILIENT_PLAYERS,
        resource_resilient_population=fraction,
        resource_damage_reduction=reduction,
    )
    base = jnp.full((cfg.map_size, cfg.map_size), mat.GRASS, jnp.int8)

    def flags(key):
        return spawn_players(key, base, 0, cfg).entities.resilient[: cfg.player_n]

    split = jax.random.split(jax.random.key(7), keys)
    return np.asarray(jax.vmap(flags)(split))  # eager: one compile per config costs more


def test_resilient_count_is_the_rounded_fraction_of_players():
    # round(fraction * 64): 0.01 * 64 = 0.64 -> 1 (rounds, not truncates), 0.1 * 64 = 6.4 -> 6,
    # 0.3 * 64 = 19.2 -> 19 (not 20), 0.5 -> 32, 0.77 * 64 = 49.28 -> 49, 1 -> all, 0 -> none.
    for fraction, count in [
        (0.0, 0),
        (0.01, 1),
        (0.1, 6),
        (0.3, 19),
        (0.5, 32),
        (0.77, 49),
        (1.0, 64),
    ]:
        flags = resilient_flags(fraction, keys=8)
        np.testing.assert_array_equal(flags.sum(axis=1), [count] * 8, err_msg=str(fraction))
    # No damage reduction: nobody is flagged (the reference's PlayerManager.spawn).
    assert not resilient_flags(1.0, keys=8, reduction=0.0).any()


def test_resilient_players_are_a_uniform_random_set():
    keys = 2000
    flags = resilient_flags(0.25, keys=keys)  # 16 of 64 per episode
    assert (flags.sum(axis=1) == 16).all()
    # Different keys choose different sets.
    assert len({tuple(np.flatnonzero(f)) for f in flags}) == keys
    # Each player is resilient with probability 16/64 = 1/4 in every episode: its count over the
    # episodes is Binomial(2000, 1/4), mean 500, sd 19.4; every player within the Bonferroni
    # bound at false-alarm probability FALSE_ALARM (an unshuffled flag list, players 1-16 always,
    # is 25 sd away).
    z = (flags.sum(axis=0) - keys / 4) / np.sqrt(keys * (1 / 4) * (3 / 4))
    assert np.abs(z).max() < stats.norm.isf(FALSE_ALARM / (2 * RESILIENT_PLAYERS)), z


def test_reset_flags_the_resilient_population():
    cfg = nj.Config.small(player_n=64, resource_resilient_population=0.25)
    counts = set()
    sets = set()
    reset = jax.jit(nj.Env(cfg).reset)
    for seed in range(3):
        _, state = reset(jax.random.key(seed))
        flags = np.asarray(state.entities.resilient[: cfg.player_n])
        counts.add(int(flags.sum()))
        sets.add(tuple(np.flatnonzero(flags)))
        assert not np.asarray(state.entities.resilient[cfg.player_n :]).any()  # NPC rows
    assert counts == {16} and len(sets) == 3  # round(0.25 * 64) = 16, a new set per episode
