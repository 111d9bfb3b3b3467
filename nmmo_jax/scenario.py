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
from nmmo_jax.systems import npc

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


def build(
    ascii_map: str,
    players: dict | None = None,
    tick: int = 0,
    npcs: list | None = None,
    **config_overrides,
):
    """(cfg, state): the drawing as a WorldState at `tick`.

    `players` maps a player id to attribute overrides of its entity row (any column of
    ENTITY_COLUMNS or `alive`, `resilient`, `exploration`), e.g. {1: dict(food=0, water=3)};
    players absent from the drawing must give `row` and `col` in drawing coordinates.
    Players start as the reference spawns them (SPEC 3.1): health 100, food 100, water 100.

    `npcs`: a list of dicts, NPC k with id -(k + 1) in entity slot player_n + k: `row`, `col`
    (drawing coordinates), `npc_type` (1 passive, 2 neutral, 3 hostile; default 1), `style`
    (0 melee, 1 range, 2 mage; default 0), `level` (default 1: that style's level, exp 1, gold
    = level), `lvl` (float, default `level`: offense = defense = int(8 lvl), item level
    int(5 lvl), SPEC 6.2), `drop_armor` / `drop_tool` (item types, default Hat / Rod) and any
    entity column. With NPCs, npc_n defaults to their number.
    """
    tiles, placed = parse(ascii_map)
    players = dict(players or {})
    npcs = list(npcs or [])
    ids = sorted(set(placed) | set(players))
    n = max(ids) if ids else 1
    if npcs:
        config_overrides.setdefault("npc_n", len(npcs))
    cfg = config_for(tiles, n, **config_overrides)
    if len(npcs) > cfg.npc_n:
        raise ValueError(f"npcs lists {len(npcs)} NPCs but npc_n is {cfg.npc_n}")
    grid = np.zeros((cfg.map_size, cfg.map_size), np.int8)
    b = cfg.map_border
    grid[b : b + tiles.shape[0], b : b + tiles.shape[1]] = tiles

    state = spawn_players(jnp.zeros((2,), jnp.uint32), jnp.asarray(grid), 0, cfg, npcs=False)
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
    for k, spec in enumerate(npcs):
        _place_npc(columns, cfg, cfg.player_n + k, k + 1, dict(spec))
    ent = ent.replace(**{name: jnp.asarray(value) for name, value in columns.items()})
    state = state.replace(entities=ent, tick=jnp.int32(tick))
    if npcs:
        rows, ds_row = items.allocate(state.npcs.rows, jnp.arange(cfg.npc_n) < len(npcs))
        ent = state.entities
        n = cfg.player_n
        ent = ent.replace(ds_row=ent.ds_row.at[n:].set(jnp.where(ds_row > 0, ds_row, 0)))
        npc_state = state.npcs.replace(rows=rows, next_serial=jnp.int32(len(npcs) + 1))
        state = state.replace(entities=ent, npcs=npc_state)
    return cfg, state


def _place_npc(columns: dict, cfg: Config, i: int, serial: int, spec: dict) -> None:
    b = cfg.map_border
    try:
        r, c = spec.pop("row"), spec.pop("col")
    except KeyError:
        raise ValueError(f"npcs[{serial - 1}] needs `row` and `col`") from None
    kind = spec.pop("npc_type", 1)
    style = spec.pop("style", 0)
    level = spec.pop("level", 1)
    lvl = spec.pop("lvl", float(level))
    if kind not in (1, 2, 3) or style not in (0, 1, 2):
        raise ValueError(f"npcs[{serial - 1}]: npc_type must be 1..3 and style 0..2")
    values = dict(
        id=-serial,
        npc_type=kind,
        row=r + b,
        col=c + b,
        spawn_row=r + b,
        spawn_col=c + b,
        health=cfg.player_base_health,
        food=cfg.resource_base,
        water=cfg.resource_base,
        gold=level,
        alive=True,
        order=cfg.player_n + serial,
        target=-1,
        style=style,
        drop_armor=spec.pop("drop_armor", items.HAT),
        drop_tool=spec.pop("drop_tool", items.ROD),
        spawn_ring=max(0, min(r, c, cfg.map_center - 1 - r, cfg.map_center - 1 - c)),
    )
    values.update({name: int(v) for name, v in npc.equipment(lvl, cfg).items()})
    for s, name in enumerate(("melee", "range", "mage")):
        values[f"{name}_level"] = level if s == style else 0
        values[f"{name}_exp"] = 1 if s == style else 0
    for name in ("fishing", "herbalism", "prospecting", "carving", "alchemy"):
        values[f"{name}_level"] = 0
    values.update(spec)
    for name, value in values.items():
        if name not in columns:
            raise ValueError(f"npcs[{serial - 1}] sets unknown attribute {name!r}")
        columns[name][i] = value


_EDITABLE = ENTITY_COLUMNS + (
    "alive",
    "resilient",
    "spawn_row",
    "spawn_col",
    "exploration",
    "order",
    "target",
    "style",
    "npc_damage",
    "npc_defense",
    "npc_item_level",
    "drop_armor",
    "drop_tool",
    "spawn_ring",
)


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
    listing_tick: int | None = None,
):
    """`state` with a new item in player `player`'s inventory, as the reference makes one (SPEC
    7.2): the next id of the FIFO allocator, the stats of its type and level (items.new_item),
    in the first free slot (its Inventory row follows from its id). A listed item
    (`listed_price` > 0) was listed in the step of tick `listing_tick` (default: the state's
    tick, as if listed in the step that follows; SPEC 8: it expires when the tick exceeds it
    by EXCHANGE_LISTING_DURATION). Items given one after
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
    if listing_tick is None:
        listing_tick = int(state.tick)
    row = row.at[items.COL["listing_tick"]].set(listing_tick)
    row = row.at[items.COL["acquired"]].set(inv.received[i].astype(jnp.int16))
    wants = jnp.arange(cfg.player_n) == i
    rows = jnp.broadcast_to(row, (cfg.player_n, row.shape[-1]))
    slots = items.put(inv.slots, items.first_free(inv.slots), rows, wants)
    inv = inv.replace(slots=slots, received=inv.received + wants, ids=ids)
    return state.replace(inventory=inv)
