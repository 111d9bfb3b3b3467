"""Tiny hand-made worlds for tests and notebooks: a WorldState from an ASCII map.

    cfg, state = scenario.build('''
        ~ . .
        . 1 f
        . . 2
    ''', players={1: dict(food=0)})

Each cell is one character (spaces between cells are ignored); digits 1-9 place that player on a
grass tile. The map is placed inside a void border wide enough for the vision window, so map
coordinates (row, col) of the drawing are at (row + border, col + border) in the state;
`scenario.position(cfg, row, col)` converts.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from nmmo_jax import items
from nmmo_jax import material as mat
from nmmo_jax.config import Config
from nmmo_jax.env import spawn_players
from nmmo_jax.state import ENTITY_COLUMNS

LEGEND = {
    "_": mat.VOID,
    "~": mat.WATER,
    ".": mat.GRASS,
    ",": mat.SCRUB,
    "f": mat.FOILAGE,
    "#": mat.STONE,
    "s": mat.SLAG,
    "o": mat.ORE,
    "u": mat.STUMP,
    "t": mat.TREE,
    "r": mat.FRAGMENT,
    "c": mat.CRYSTAL,
    "w": mat.WEEDS,
    "h": mat.HERB,
    "=": mat.OCEAN,
    "x": mat.FISH,
}


def parse(ascii_map: str) -> tuple[np.ndarray, dict[int, tuple[int, int]]]:
    """(materials int8 [h, w], {player id: (row, col)}) of a drawing; players stand on grass."""
    lines = [line.replace(" ", "") for line in ascii_map.strip("\n").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError("ascii_map must contain at least one row of tiles")
    width = len(lines[0])
    if any(len(line) != width for line in lines):
        raise ValueError(
            f"ascii_map rows must all have {width} cells (got {[len(x) for x in lines]})"
        )
    tiles = np.zeros((len(lines), width), np.int8)
    players = {}
    for r, line in enumerate(lines):
        for c, char in enumerate(line):
            if char.isdigit() and char != "0":
                if int(char) in players:
                    raise ValueError(f"ascii_map places player {char} twice")
                players[int(char)] = (r, c)
                tiles[r, c] = mat.GRASS
            elif char in LEGEND:
                tiles[r, c] = LEGEND[char]
            else:
                raise ValueError(
                    f"ascii_map cell {char!r} at ({r}, {c}) is not in the legend {sorted(LEGEND)} "
                    "or a player digit 1-9"
                )
    return tiles, players


def config_for(tiles: np.ndarray, n_players: int, **overrides) -> Config:
    """The smallest Config whose walkable square holds the drawing (border = vision + 1)."""
    radius = overrides.get("player_vision_radius", 7)
    border = radius + 1
    centre = max(tiles.shape)
    base = dict(
        player_n=max(n_players, 1),
        npc_n=0,
        map_center=centre,
        map_size=centre + 2 * border,
        map_n=1,
        progression_spawn_clusters=0,
        progression_spawn_uniforms=0,
    )
    base.update(overrides)
    return Config(**base)


def position(cfg: Config, row: int, col: int) -> tuple[int, int]:
    """State coordinates of cell (row, col) of the drawing."""
    return row + cfg.map_border, col + cfg.map_border


def build(ascii_map: str, players: dict | None = None, tick: int = 0, **config_overrides):
    """(cfg, state): the drawing as a WorldState at `tick`.

    `players` maps a player id to attribute overrides of its entity row (any column of
    ENTITY_COLUMNS or `alive`, `resilient`, `exploration`), e.g. {1: dict(food=0, water=3)};
    players absent from the drawing must give `row` and `col` in drawing coordinates.
    Players start as the reference spawns them (SPEC 3.1): health 100, food 100, water 100.
    """
    tiles, placed = parse(ascii_map)
    players = dict(players or {})
    ids = sorted(set(placed) | set(players))
    n = max(ids) if ids else 1
    cfg = config_for(tiles, n, **config_overrides)
    grid = np.zeros((cfg.map_size, cfg.map_size), np.int8)
    b = cfg.map_border
    grid[b : b + tiles.shape[0], b : b + tiles.shape[1]] = tiles

    state = spawn_players(jnp.zeros((2,), jnp.uint32), jnp.asarray(grid), 0, cfg)
    ent = state.entities
    columns = {name: np.array(getattr(ent, name)) for name in _EDITABLE}
    for pid in range(1, cfg.player_n + 1):
        i = pid - 1
        overrides = dict(players.get(pid, {}))
        if pid in placed:
            r, c = placed[pid]
        elif "row" in overrides and "col" in overrides:
            r, c = overrides.pop("row"), overrides.pop("col")
        else:
            # ids missing from the drawing are dead placeholders so that ids stay contiguous
            r, c = 0, 0
            overrides.setdefault("alive", False)
            overrides.setdefault("health", 0)
        overrides.pop("row", None), overrides.pop("col", None)
        columns["row"][i], columns["col"][i] = r + b, c + b
        columns["spawn_row"][i], columns["spawn_col"][i] = r + b, c + b
        for name, value in overrides.items():
            if name not in columns:
                raise ValueError(
                    f"players[{pid}] sets unknown attribute {name!r}; allowed: {sorted(columns)}"
                )
            columns[name][i] = value
    ent = ent.replace(**{name: jnp.asarray(value) for name, value in columns.items()})
    return cfg, state.replace(entities=ent, tick=jnp.int32(tick))


_EDITABLE = ENTITY_COLUMNS + ("alive", "resilient", "spawn_row", "spawn_col", "exploration")


def depleted(state, row: int, col: int, cfg: Config, until: int):
    """`state` with tile (row, col) of the drawing depleted until tick `until`."""
    r, c = position(cfg, row, col)
    return state.replace(
        tiles=state.tiles.replace(regrow_at=state.tiles.regrow_at.at[r, c].set(until))
    )


def give(
    state,
    cfg: Config,
    player: int,
    item_type: int,
    level: int = 1,
    quantity: int = 1,
    equipped: bool = False,
    listed_price: int = 0,
):
    """`state` with a new item in player `player`'s inventory, as the reference makes one (SPEC
    7.2): the next id of the FIFO allocator, the stats of its type and level (items.new_item),
    in the first free slot (its Inventory row follows from its id). Items given one after
    another get increasing ids, so tests can name rows by the order they were given. Raises
    ValueError if the inventory is full."""
    if item_type not in items.ITEM_TYPES:
        raise ValueError(f"item_type must be one of {items.ITEM_TYPES} (got {item_type!r})")
    if not 1 <= player <= cfg.player_n:
        raise ValueError(f"player must be in [1, {cfg.player_n}] (got {player})")
    inv = state.inventory
    i = player - 1
    if int(items.space(inv.slots)[i]) == 0:
        raise ValueError(f"player {player}'s inventory is full")
    ids, new_id = items.allocate(inv.ids, jnp.ones((1,), bool))
    row = items.new_item(item_type, level, cfg, item_id=new_id[0], owner_id=player)
    row = row.at[items.COL["quantity"]].set(quantity)
    row = row.at[items.COL["equipped"]].set(int(equipped))
    row = row.at[items.COL["listed_price"]].set(listed_price)
    row = row.at[items.COL["acquired"]].set(inv.received[i].astype(jnp.int16))
    wants = jnp.arange(cfg.player_n) == i
    rows = jnp.broadcast_to(row, (cfg.player_n, row.shape[-1]))
    slots = items.put(inv.slots, items.first_free(inv.slots), rows, wants)
    inv = inv.replace(slots=slots, received=inv.received + wants, ids=ids)
    return state.replace(inventory=inv)
