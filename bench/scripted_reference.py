"""The scripted policies of agents/scripted.py in numpy, for the reference nmmo 2.1.2.

Each policy maps one agent's reference observation (the dict `nmmo.Env` returns per agent, and
`nmmo_jax.observe.reference_observation` per agent: "AgentId", "Tile" [225, 3] absolute row,
col, material, "Entity" [100, 31], "Inventory" [12, 16], "Market" [384, 16], "ActionTargets")
and the agent's uniforms `u` (float32 [H], in [0, 1), column h for head h of HEADS) to the
reference's action dict: {"Move": {"Direction": d}, "Attack": {"Style": s, "Target": row}, "Use":
{"InventoryItem": i}, "Sell": {"InventoryItem": i, "Price": p}, "Buy": {"MarketItem": m}, ...},
indices into the rows of that observation, Python ints, no-op actions left out. The rules,
thresholds and tie breaks are those of agents/scripted.py, so from the same observation and
uniforms both choose the same actions (tests/agents/test_scripted.py checks it); read the rules
there. This file imports only numpy: it runs inside the reference's virtualenv.
"""

from __future__ import annotations

import numpy as np

# our action heads, in column order (nmmo_jax.step.ACTION_HEADS), and the reference's
# (action, argument) each one is
HEADS = (
    ("move", "Move", "Direction"),
    ("use", "Use", "InventoryItem"),
    ("destroy", "Destroy", "InventoryItem"),
    ("attack_style", "Attack", "Style"),
    ("attack_target", "Attack", "Target"),
    ("give_item", "Give", "InventoryItem"),
    ("give_target", "Give", "Target"),
    ("give_gold_amount", "GiveGold", "Price"),
    ("give_gold_target", "GiveGold", "Target"),
    ("sell_item", "Sell", "InventoryItem"),
    ("sell_price", "Sell", "Price"),
    ("buy", "Buy", "MarketItem"),
    ("comm", "Comm", "Token"),
)
COLUMN = {head: h for h, (head, _, _) in enumerate(HEADS)}
TARGET_HEADS = ("attack_target", "give_target", "give_gold_target")

# EntityState and ItemState columns (SPEC 3.2, 7.2)
ID, NPC_TYPE, ROW, COL, ATTACKER_ID, HEALTH, FOOD, WATER = 0, 1, 2, 3, 8, 12, 13, 14
MELEE_LEVEL, RANGE_LEVEL, MAGE_LEVEL = 15, 17, 19
TYPE_ID, LEVEL, EQUIPPED, LISTED_PRICE = 1, 3, 14, 15
# item types (SPEC 7.1) and materials (SPEC 2.1)
SPEAR, WAND, WHETSTONE, RATION, POTION = 5, 7, 13, 16, 17
WATER_TILE, FOILAGE, ORE, TREE, CRYSTAL, HERB, FISH = 1, 4, 7, 9, 11, 13, 15
IMPASSABLE = (0, 1, 5, 14, 15)  # Void, Water, Stone, Ocean, Fish
STAND_ON = (HERB, ORE, TREE, CRYSTAL)

# agents/scripted.py's thresholds
NEED, HEALTH_LOW, FLEE_HEALTH, PRICE_PER_LEVEL, HOSTILE = 60, 60, 40, 5, 3
STAY = 4
DIRECTIONS = ((-1, 0), (1, 0), (0, 1), (0, -1), (0, 0))  # N, S, E, W, Stay

RANDOM, FORAGER, FIGHTER, MERCHANT = range(4)


def uniform_choice(u, mask) -> int:
    """The k-th allowed index of `mask`, k = floor(u * allowed) in float32 (as
    nmmo_jax.env.uniform_choice); the last index when none is or k reaches the count."""
    allowed = np.flatnonzero(mask)
    k = int(np.floor(np.float32(u) * np.float32(allowed.size)))
    return int(allowed[k]) if k < allowed.size else len(mask) - 1


def own_row(obs):
    """The agent's Entity row (None for a dead agent: its observation lists nobody)."""
    rows = np.flatnonzero(obs["Entity"][:, ID] == obs["AgentId"])
    return obs["Entity"][rows[0]].astype(np.int64) if rows.size else None


def masks(obs) -> dict:
    """{our head: bool mask} from ActionTargets; Comm gets our trailing no-op."""
    targets = obs["ActionTargets"]
    out = {head: targets[a][b].astype(bool) for head, a, b in HEADS}
    out["comm"] = np.concatenate([out["comm"], [True]])
    return out


def noops(obs) -> dict:
    """The no-op index of every head in this observation's index space."""
    m = masks(obs)
    out = {head: len(m[head]) - 1 for head, _, _ in HEADS}
    out.update(move=STAY, attack_style=0, give_gold_amount=0, sell_price=0)
    return out


def action_dict(obs, **heads) -> dict:
    """The reference's action dict of the given heads: an action whose item or target is the
    no-op is left out (with its companion arguments), as agents/scripted.py's `_action` does."""
    noop = noops(obs)
    value = {head: int(heads.get(head, noop[head])) for head in noop}
    out = {}
    if value["move"] != STAY:
        out["Move"] = {"Direction": value["move"]}
    if value["attack_target"] != noop["attack_target"]:
        out["Attack"] = {"Style": value["attack_style"], "Target": value["attack_target"]}
    for head, action in (("use", "Use"), ("destroy", "Destroy")):
        if value[head] != noop[head]:
            out[action] = {"InventoryItem": value[head]}
    if value["give_item"] != noop["give_item"] and value["give_target"] != noop["give_target"]:
        out["Give"] = {"InventoryItem": value["give_item"], "Target": value["give_target"]}
    if value["give_gold_target"] != noop["give_gold_target"]:
        gold = {"Price": value["give_gold_amount"], "Target": value["give_gold_target"]}
        out["GiveGold"] = gold
    if value["sell_item"] != noop["sell_item"]:
        out["Sell"] = {"InventoryItem": value["sell_item"], "Price": value["sell_price"]}
    if value["buy"] != noop["buy"]:
        out["Buy"] = {"MarketItem": value["buy"]}
    if value["comm"] != noop["comm"]:
        out["Comm"] = {"Token": value["comm"]}
    return out


def lowest(valid, key, ids):
    """The valid index with the lowest `key`, ties to the lowest entity id; None if none."""
    if not valid.any():
        return None
    best = key[valid].min()
    tied = valid & (key == best)
    return int(np.flatnonzero(tied & (ids == ids[tied].min()))[0])


def first(mask, none):
    """The first True index of `mask`, `none` when there is none."""
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else none


# --- the random agent
def random_agent(obs, u) -> dict:
    """Each head uniform among its valid choices; targets counted in ascending entity id."""
    if own_row(obs) is None:
        return {}
    m = masks(obs)
    order = np.argsort(obs["Entity"][:, ID], kind="stable")
    heads = {}
    for head, _, _ in HEADS:
        if head in TARGET_HEADS:
            ranked = np.concatenate([m[head][:-1][order], m[head][-1:]])
            k = uniform_choice(u[COLUMN[head]], ranked)
            heads[head] = order[k] if k < order.size else k
        else:
            heads[head] = uniform_choice(u[COLUMN[head]], m[head])
    return action_dict(obs, **heads)


# --- foraging
def tile_window(obs):
    """int [D, D] materials of the window (Tile rows are row-major from offset -7, -7)."""
    d = int(round(np.sqrt(len(obs["Tile"]))))
    return obs["Tile"][:, 2].astype(np.int64).reshape(d, d)


def shift(grid, dr, dc, fill):
    """grid[r + dr, c + dc] at every cell, `fill` outside the window."""
    d = grid.shape[0]
    padded = np.pad(grid, 1, constant_values=fill)
    return padded[1 + dr : 1 + dr + d, 1 + dc : 1 + dc + d]


def beside(grid):
    """Some 4-neighbour inside the window is True."""
    return np.any([shift(grid, dr, dc, False) for dr, dc in DIRECTIONS[:4]], axis=0)


def goals(tile) -> dict:
    """Goal tiles by need: water, food, resource (scripted.goals; SPEC 3.3, 4.2)."""
    walk = ~np.isin(tile, IMPASSABLE)
    return {
        "water": walk & beside(tile == WATER_TILE),
        "food": tile == FOILAGE,
        "resource": np.isin(tile, STAND_ON) | (walk & beside(tile == FISH)),
    }


def distance_to(goal, tile):
    """Breadth-first steps to the nearest goal tile, D * D if none (scripted.distance_to)."""
    d = tile.shape[0]
    far = d * d
    walk = ~np.isin(tile, IMPASSABLE)
    dist = np.where(goal & walk, 0, far)
    for _ in range(2 * (d - 1)):
        step = np.min([shift(dist, dr, dc, far) for dr, dc in DIRECTIONS[:4]], axis=0)
        dist = np.where(walk, np.minimum(dist, step + 1), far)
    return dist


def need(me) -> str:
    """ "water", "food" or "resource": the walking goal (scripted.need; SPEC 3.3)."""
    food, water = me[FOOD], me[WATER]
    thirsty, hungry = water < NEED, food < NEED
    if thirsty and (not hungry or water <= food):
        return "water"
    return "food" if hungry else "resource"


def forage_move(obs, me, u) -> int:
    """The first step toward the goal, Stay on it, else a random move (scripted.forage_move)."""
    tile = tile_window(obs)
    dist = distance_to(goals(tile)[need(me)], tile)
    c = tile.shape[0] // 2
    move = masks(obs)["move"]
    if dist[c, c] == 0:
        return STAY
    closer = [
        move[k] and dist[c + dr, c + dc] < dist[c, c] for k, (dr, dc) in enumerate(DIRECTIONS[:4])
    ]
    return first(closer, None) if any(closer) else uniform_choice(u[COLUMN["move"]], move)


def consume(obs, me) -> int:
    """A Potion when hurt, a Ration when low, else the no-op (scripted.consume; SPEC 7.3)."""
    usable = masks(obs)["use"][:-1]
    kind = obs["Inventory"][:, TYPE_ID]
    potion, ration = usable & (kind == POTION), usable & (kind == RATION)
    if me[HEALTH] < HEALTH_LOW and potion.any():
        return first(potion, None)
    if (me[FOOD] < NEED or me[WATER] < NEED) and ration.any():
        return first(ration, None)
    return len(usable)


def forager(obs, u) -> dict:
    """Forages and consumes (scripted._forager)."""
    me = own_row(obs)
    if me is None:
        return {}
    return action_dict(obs, move=forage_move(obs, me, u), use=consume(obs, me))


# --- fighting
def style(obs, me) -> int:
    """The equipped weapon's style, else the best combat level's (scripted.style)."""
    inv = obs["Inventory"]
    kind = inv[:, TYPE_ID]
    weapon = (inv[:, EQUIPPED] > 0) & (kind >= SPEAR) & (kind <= WAND)
    if weapon.any():
        return int(kind[np.argmax(weapon)]) - SPEAR
    return int(np.argmax([me[MELEE_LEVEL], me[RANGE_LEVEL], me[MAGE_LEVEL]]))


def equip(obs, me) -> int:
    """The best weapon, then ammunition, upgrade to Use (scripted.equip; SPEC 7.3)."""
    inv = obs["Inventory"].astype(np.int64)
    kind, level = inv[:, TYPE_ID], inv[:, LEVEL]
    equipped = inv[:, EQUIPPED] > 0
    free = masks(obs)["use"][:-1] & ~equipped
    for kind_mask in ((kind >= SPEAR) & (kind <= WAND), kind == WHETSTONE + style(obs, me)):
        held = level[equipped & kind_mask].max(initial=0)
        better = free & kind_mask & (level > held)
        if better.any():
            return int(np.argmax(np.where(better, level, -1)))
    return len(inv)


def threat(obs, me):
    """The Entity row of the nearest hostile NPC or attacker, None if none (scripted.threat)."""
    ent = obs["Entity"].astype(np.int64)
    dist = np.maximum(np.abs(ent[:, ROW] - me[ROW]), np.abs(ent[:, COL] - me[COL]))
    ids = ent[:, ID]
    radius = tile_window(obs).shape[0] // 2
    seen = (ids != 0) & (ids != me[ID]) & (dist <= radius)
    hostile = (ent[:, NPC_TYPE] == HOSTILE) | ((ids == me[ATTACKER_ID]) & (me[ATTACKER_ID] != 0))
    return lowest(seen & hostile, dist, ids)


def flee_move(obs, me, row) -> int:
    """The valid move ending farthest from Entity row `row` (scripted.flee_move)."""
    dr = int(obs["Entity"][row, ROW]) - me[ROW]
    dc = int(obs["Entity"][row, COL]) - me[COL]
    away = [abs(dr - r) + abs(dc - c) for r, c in DIRECTIONS]
    return int(np.argmax(np.where(masks(obs)["move"], away, -1)))


def fighter(obs, u) -> dict:
    """Attacks the weakest target in reach, flees or forages, equips (scripted._fighter)."""
    me = own_row(obs)
    if me is None:
        return {}
    m = masks(obs)
    ent = obs["Entity"].astype(np.int64)
    target = lowest(m["attack_target"][:-1], ent[:, HEALTH], ent[:, ID])
    danger = threat(obs, me)
    if me[HEALTH] < FLEE_HEALTH and danger is not None:
        move = flee_move(obs, me, danger)
    else:
        move = forage_move(obs, me, u)
    use = consume(obs, me)
    if use == len(m["use"]) - 1:
        use = equip(obs, me)
    heads = dict(move=move, use=use)
    if target is not None:
        heads.update(attack_style=style(obs, me), attack_target=target)
    return action_dict(obs, **heads)


# --- trading
def sell(obs, use):
    """(row, price index) of the item to list (scripted.sell; SPEC 8)."""
    kind, level = obs["Inventory"][:, TYPE_ID], obs["Inventory"][:, LEVEL]
    rows = np.arange(len(kind))
    kept = (rows == first(kind == RATION, len(kind))) | (rows == first(kind == POTION, len(kind)))
    m = masks(obs)
    row = first(m["sell_item"][:-1] & ~kept & (rows != use), len(kind))
    if row == len(kind):
        return row, 0
    return row, int(np.clip(PRICE_PER_LEVEL * int(level[row]), 1, len(m["sell_price"]))) - 1


def buy(obs) -> int:
    """The cheapest Ration or Potion listing it lacks (scripted.buy; SPEC 8)."""
    kind = obs["Inventory"][:, TYPE_ID]
    listed = obs["Market"][:, TYPE_ID]
    wanted = ((listed == RATION) & ~(kind == RATION).any()) | (
        (listed == POTION) & ~(kind == POTION).any()
    )
    valid = masks(obs)["buy"][:-1] & wanted
    if not valid.any():
        return len(valid)
    price = obs["Market"][:, LISTED_PRICE].astype(np.int64)
    return int(np.argmin(np.where(valid, price, np.iinfo(np.int32).max)))


def merchant(obs, u) -> dict:
    """Forages, consumes, sells and buys (scripted._merchant)."""
    me = own_row(obs)
    if me is None:
        return {}
    use = consume(obs, me)
    row, price = sell(obs, use)
    heads = dict(move=forage_move(obs, me, u), use=use, sell_item=row, sell_price=price)
    return action_dict(obs, buy=buy(obs), **heads)


POLICIES = (random_agent, forager, fighter, merchant)  # by policy id


def act(policy_id: int, obs, u) -> dict:
    """The action dict of policy `policy_id` (RANDOM, FORAGER, FIGHTER, MERCHANT)."""
    return POLICIES[policy_id](obs, u)
