"""Scripted baselines: four policies as pure `jnp` functions of the compact observation.

Every policy maps (`obs`, `u`) to an action array int32 [N, H] for one environment: `obs` is the
`nmmo_jax.observe.Observation` of that environment and `u` float32 [N, H] uniforms in [0, 1),
column h consumed by head h (only the random agent and exploring moves read them). They jit and
vmap over environments (`jax.vmap(forager)(obs, u)` with a leading [B] axis on both).

    random_agent   uniform among each head's valid choices
    forager        drinks, eats, harvests, uses rations and potions, explores
    fighter        equips its best weapon and ammunition, attacks the weakest target in reach,
                   flees at low health, otherwise forages
    merchant       sells what it does not keep, buys the rations and potions it lacks, forages

`mixed(policy_ids, obs, u)` runs a different policy per agent (`policy_ids(n, weights)` builds
the assignment). Each rule is a deterministic function of one agent's view: ties go to the
lowest index (inventory row, market row, direction), entities are ranked by their id (never by
their slot, so the rule reads the same from the reference's Entity rows), and randomness comes
only from `u` through `nmmo_jax.env.uniform_choice`. `bench/scripted_reference.py` states the
same rules in numpy over the reference's observation dict; tests/agents/test_scripted.py checks
that both choose the same actions.

Every choice is allowed by its head's mask, with one exception: the forager and the merchant
never attack, and so leave Attack at its no-op even where the reference's mask asks for a
target (SPEC 12.3: the mask clears the no-op bit when a target is in reach; an absent Attack
action is valid all the same). Dead agents choose only no-ops.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nmmo_jax import items as it
from nmmo_jax import material as mat
from nmmo_jax.env import uniform_choice
from nmmo_jax.observe import Observation
from nmmo_jax.state import ENTITY_COLUMNS
from nmmo_jax.step import ACTION_HEADS, HEAD_INDEX

ECOL = {name: i for i, name in enumerate(ENTITY_COLUMNS)}  # entity columns (SPEC 3.2)
ICOL = {name: i for i, name in enumerate(it.ITEM_COLUMNS)}  # item columns (SPEC 7.2)

# The thresholds of the rules, in the units of the entity columns (SPEC 3.3: food, water and
# health run from 0 to 100; health regenerates while food and water are above 50).
NEED = 60  # seek water / food, eat a ration, below this
HEALTH_LOW = 60  # drink a potion below this
FLEE_HEALTH = 40  # the fighter flees a threat below this
PRICE_PER_LEVEL = 5  # the merchant lists an item of level L at 5 L gold
HOSTILE = 3  # npc_type of hostile NPCs (SPEC 6.1)

# Move directions (SPEC 12.1, 13.2): N, S, E, W, Stay, as (row, col) offsets.
STAY = 4
DIRECTIONS = ((-1, 0), (1, 0), (0, 1), (0, -1), (0, 0))

# Harvested standing on the tile (SPEC 4.2); Fish is harvested from a neighbour.
STAND_ON = (mat.HERB, mat.ORE, mat.TREE, mat.CRYSTAL)

POLICY_NAMES = ("random", "forager", "fighter", "merchant")
RANDOM, FORAGER, FIGHTER, MERCHANT = range(4)

# Target heads whose choices are entity slots, ranked by entity id for the random agent.
TARGET_HEADS = ("attack_target", "give_target", "give_gold_target")
HEAD_NAMES = tuple(name for name, _ in ACTION_HEADS)


class View(NamedTuple):
    """One agent's observation (all int32 / bool): `me` [31] its entity row, `tile` [D, D]
    materials, `entities` [E + 1, 31] the table of the environment (row s + 1 = slot s),
    `inventory` [C, 16], `market` [M, 16], `masks` {head: bool [choices]}, `u` float32 [H]."""

    me: jax.Array
    tile: jax.Array
    entities: jax.Array
    inventory: jax.Array
    market: jax.Array
    masks: dict
    u: jax.Array


def policy_ids(n: int, weights=(1, 1, 1, 1)) -> jax.Array:
    """int32 [n]: a policy per agent (RANDOM, FORAGER, FIGHTER, MERCHANT) in blocks whose sizes
    are proportional to `weights` (rounded at the cumulative boundaries), e.g. 25/25/25/25."""
    share = np.cumsum(np.asarray(weights, np.float64))
    if share[-1] <= 0 or len(weights) != len(POLICY_NAMES):
        raise ValueError(f"weights must be {len(POLICY_NAMES)} non-negative numbers, not all 0")
    bounds = np.round(share / share[-1] * n).astype(np.int32)
    return jnp.asarray(np.searchsorted(bounds, np.arange(n), side="right"), jnp.int32)


def random_agent(obs: Observation, u: jax.Array) -> jax.Array:
    """int32 [N, H]: every head uniform among its valid choices (as `Env.sample_actions`, from
    the given uniforms; target heads count the valid entities in id order)."""
    return _per_agent(_random, obs, u)


def forager(obs: Observation, u: jax.Array) -> jax.Array:
    """int32 [N, H]: the forager's actions (see `_forager`)."""
    return _per_agent(_forager, obs, u)


def fighter(obs: Observation, u: jax.Array) -> jax.Array:
    """int32 [N, H]: the fighter's actions (see `_fighter`)."""
    return _per_agent(_fighter, obs, u)


def merchant(obs: Observation, u: jax.Array) -> jax.Array:
    """int32 [N, H]: the merchant's actions (see `_merchant`)."""
    return _per_agent(_merchant, obs, u)


def mixed(ids: jax.Array, obs: Observation, u: jax.Array) -> jax.Array:
    """int32 [N, H]: agent i acts as policy `ids[i]` (RANDOM, FORAGER, FIGHTER, MERCHANT);
    all four are computed and each agent's is selected."""

    def one(policy, view):
        return jnp.stack([rule(view) for rule in RULES])[policy]

    return _per_agent(one, obs, u, jnp.asarray(ids, jnp.int32))


def _per_agent(rule, obs: Observation, u: jax.Array, *per_agent) -> jax.Array:
    """`rule(*per_agent, view)` for every agent (vmapped), dead agents set to the no-ops."""
    masks = {name: getattr(obs.action_mask, name) for name in HEAD_NAMES}
    view = View(
        me=obs.agent.astype(jnp.int32),
        tile=obs.tile.astype(jnp.int32),
        entities=obs.entities.astype(jnp.int32),
        inventory=obs.inventory.astype(jnp.int32),
        market=obs.market.astype(jnp.int32),
        masks=masks,
        u=jnp.asarray(u, jnp.float32),
    )
    axes = View(me=0, tile=0, entities=None, inventory=0, market=None, masks=0, u=0)
    actions = jax.vmap(rule, in_axes=(0,) * len(per_agent) + (axes,))(*per_agent, view)
    noop = jnp.asarray(_noops(view), jnp.int32)
    alive = obs.agent[:, ECOL["id"]] != 0
    return jnp.where(alive[:, None], actions, noop[None, :])


def _noops(view: View) -> tuple[int, ...]:
    """The no-op of every head, from the shapes of the view (nmmo_jax.step.noop_action)."""
    c, size = view.inventory.shape[-2], view.entities.shape[-2] - 1
    noop = {name: c for name in ("use", "destroy", "give_item", "sell_item")}
    noop.update({name: size for name in TARGET_HEADS})
    noop.update(move=STAY, attack_style=0, give_gold_amount=0, sell_price=0)
    noop.update(buy=view.market.shape[-2], comm=view.masks["comm"].shape[-1] - 1)
    return tuple(noop[name] for name in HEAD_NAMES)


def _action(view: View, **heads) -> jax.Array:
    """int32 [H]: the given heads, the others at their no-op, companion arguments at their
    no-op where the action they belong to is one (a style without a target, a price without an
    item, a Give with either part missing), so equal decisions give equal arrays."""
    noop = dict(zip(HEAD_NAMES, _noops(view), strict=True))
    out = {name: jnp.asarray(heads.get(name, noop[name]), jnp.int32) for name in HEAD_NAMES}
    no_target = out["attack_target"] == noop["attack_target"]
    out["attack_style"] = jnp.where(no_target, 0, out["attack_style"])
    no_give = (out["give_item"] == noop["give_item"]) | (out["give_target"] == noop["give_target"])
    out["give_item"] = jnp.where(no_give, noop["give_item"], out["give_item"])
    out["give_target"] = jnp.where(no_give, noop["give_target"], out["give_target"])
    no_gold = out["give_gold_target"] == noop["give_gold_target"]
    out["give_gold_amount"] = jnp.where(no_gold, 0, out["give_gold_amount"])
    out["sell_price"] = jnp.where(out["sell_item"] == noop["sell_item"], 0, out["sell_price"])
    return jnp.stack([out[name] for name in HEAD_NAMES])


def _first(mask: jax.Array) -> jax.Array:
    """int32: the first True index of `mask`, its length when none."""
    return jnp.where(mask.any(), jnp.argmax(mask), mask.shape[-1]).astype(jnp.int32)


def _lowest(valid: jax.Array, key: jax.Array, ids: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(index, found): the valid entry with the lowest `key`, ties to the lowest entity id."""
    big = jnp.iinfo(jnp.int32).max
    best = jnp.where(valid, key, big).min()
    tied = valid & (key == best)
    pick = tied & (ids == jnp.where(tied, ids, big).min())
    return jnp.argmax(pick).astype(jnp.int32), valid.any()


# --- the random agent
def _random(view: View) -> jax.Array:
    """Each head uniform among its valid choices from its own uniform (`uniform_choice`);
    entity targets are counted in ascending entity id, then the no-op."""
    ids = view.entities[1:, ECOL["id"]]
    order = jnp.argsort(ids, stable=True).astype(jnp.int32)
    heads = {}
    for name in HEAD_NAMES:
        mask, u = view.masks[name], view.u[HEAD_INDEX[name]]
        if name in TARGET_HEADS:
            ranked = jnp.concatenate([mask[:-1][order], mask[-1:]])
            k = uniform_choice(u, ranked)
            slot = order[jnp.minimum(k, order.shape[0] - 1)]
            heads[name] = jnp.where(k < order.shape[0], slot, k)
        else:
            heads[name] = uniform_choice(u, mask)
    return _action(view, **heads)


# --- foraging (SPEC 3.3, 4.2)
def _shift(grid: jax.Array, dr: int, dc: int, fill) -> jax.Array:
    """grid[r + dr, c + dc] at every cell (r, c), `fill` outside the window."""
    d = grid.shape[0]
    padded = jnp.pad(grid, 1, constant_values=fill)
    return padded[1 + dr : 1 + dr + d, 1 + dc : 1 + dc + d]


def _beside(grid: jax.Array) -> jax.Array:
    """bool [D, D]: some 4-neighbour inside the window is True."""
    return jnp.stack([_shift(grid, dr, dc, False) for dr, dc in DIRECTIONS[:4]]).any(axis=0)


def goals(tile: jax.Array) -> dict[str, jax.Array]:
    """bool [D, D] goal tiles of the window by need: "water" a walkable tile beside Water (it is
    drunk from a neighbour), "food" Foilage (eaten standing on it), "resource" a tile harvested
    standing on it (Herb, Ore, Tree, Crystal) or a walkable tile beside Fish (SPEC 3.3, 4.2)."""
    walk = mat.is_passable(tile).astype(bool)
    stand_on = jnp.isin(tile, jnp.asarray(STAND_ON))
    return {
        "water": walk & _beside(tile == mat.WATER),
        "food": tile == mat.FOILAGE,
        "resource": stand_on | (walk & _beside(tile == mat.FISH)),
    }


def distance_to(goal: jax.Array, tile: jax.Array) -> jax.Array:
    """int32 [D, D]: steps from each walkable tile of the window to the nearest goal tile,
    walking through walkable tiles of the window (breadth-first, 2 (D - 1) rounds); D * D where
    no goal is that near or the tile is not walkable."""
    d = tile.shape[0]
    far = d * d
    walk = mat.is_passable(tile).astype(bool)
    start = jnp.where(goal & walk, 0, far)

    def relax(_, dist):
        step = jnp.stack([_shift(dist, dr, dc, far) for dr, dc in DIRECTIONS[:4]]).min(axis=0)
        return jnp.where(walk, jnp.minimum(dist, step + 1), far)

    return jax.lax.fori_loop(0, 2 * (d - 1), relax, start)


def need(me: jax.Array) -> jax.Array:
    """int32: 0 water, 1 food, 2 neither: thirsty (water < NEED) before hungry unless food is
    the lower of the two (SPEC 3.3)."""
    food, water = me[ECOL["food"]], me[ECOL["water"]]
    thirsty, hungry = water < NEED, food < NEED
    return jnp.where(thirsty & (~hungry | (water <= food)), 0, jnp.where(hungry, 1, 2))


def forage_move(view: View) -> jax.Array:
    """int32 direction: the first step of a shortest walk (N, S, E, W first on ties) to the
    nearest tile of the goal `need` picks (water, food, else a resource); Stay on it; a random
    valid move (Stay included) when no such tile is reachable in the window."""
    goal = goals(view.tile)
    wanted = jnp.stack([goal["water"], goal["food"], goal["resource"]])[need(view.me)]
    dist = distance_to(wanted, view.tile)
    c = view.tile.shape[0] // 2
    here = dist[c, c]
    around = jnp.stack([dist[c + dr, c + dc] for dr, dc in DIRECTIONS[:4]])
    closer = view.masks["move"][:4] & (around < here)
    explore = uniform_choice(view.u[HEAD_INDEX["move"]], view.masks["move"])
    return jnp.where(here == 0, STAY, jnp.where(closer.any(), jnp.argmax(closer), explore))


def consume(view: View) -> jax.Array:
    """int32 Use row: the first usable Potion below HEALTH_LOW health, else the first usable
    Ration below NEED food or water (SPEC 7.3), else the no-op (C)."""
    usable = view.masks["use"][:-1]
    kind = view.inventory[:, ICOL["type_id"]]
    potion = usable & (kind == it.POTION)
    ration = usable & (kind == it.RATION)
    me = view.me
    hurt = (me[ECOL["health"]] < HEALTH_LOW) & potion.any()
    low = ((me[ECOL["food"]] < NEED) | (me[ECOL["water"]] < NEED)) & ration.any()
    return jnp.where(hurt, _first(potion), jnp.where(low, _first(ration), usable.shape[0]))


def _forager(view: View) -> jax.Array:
    """Moves toward water, food or resources (`forage_move`) and eats or drinks from the
    inventory when low (`consume`)."""
    return _action(view, move=forage_move(view), use=consume(view))


# --- fighting (SPEC 5, 7.3)
def style(view: View) -> jax.Array:
    """int32 combat style: that of the equipped weapon (Spear melee, Bow range, Wand mage), else
    the highest of the melee, range and mage levels (first on ties)."""
    inv = view.inventory
    kind = inv[:, ICOL["type_id"]]
    weapon = (inv[:, ICOL["equipped"]] > 0) & (kind >= it.SPEAR) & (kind <= it.WAND)
    levels = jnp.stack([view.me[ECOL[f"{s}_level"]] for s in ("melee", "range", "mage")])
    return jnp.where(weapon.any(), kind[jnp.argmax(weapon)] - it.SPEAR, jnp.argmax(levels))


def equip(view: View) -> jax.Array:
    """int32 Use row: the usable, unequipped weapon of the highest level (first row on ties)
    above the level of the equipped one; else likewise the ammunition of the fighter's `style`
    above the equipped stack of that type; else the no-op (C)."""
    inv = view.inventory
    kind, level = inv[:, ICOL["type_id"]], inv[:, ICOL["level"]]
    equipped = inv[:, ICOL["equipped"]] > 0
    free = view.masks["use"][:-1] & ~equipped
    weapon = (kind >= it.SPEAR) & (kind <= it.WAND)
    ammo = kind == it.WHETSTONE + style(view)

    def upgrade(kind_mask):
        held = jnp.where(equipped & kind_mask, level, 0).max()
        better = free & kind_mask & (level > held)
        return jnp.where(better, level, -1).argmax(), better.any()

    weapon_row, has_weapon = upgrade(weapon)
    ammo_row, has_ammo = upgrade(ammo)
    none = inv.shape[0]
    return jnp.where(has_weapon, weapon_row, jnp.where(has_ammo, ammo_row, none))


def threat(view: View) -> tuple[jax.Array, jax.Array]:
    """(row of `entities`, found): the nearest (Chebyshev, then lowest id) entity in view that
    is a hostile NPC or the agent's last attacker (SPEC 5.6, 6.1)."""
    ent, me = view.entities, view.me
    dr = ent[:, ECOL["row"]] - me[ECOL["row"]]
    dist = jnp.maximum(jnp.abs(dr), jnp.abs(ent[:, ECOL["col"]] - me[ECOL["col"]]))
    ids = ent[:, ECOL["id"]]
    attacker = me[ECOL["attacker_id"]]
    seen = (ids != 0) & (ids != me[ECOL["id"]]) & (dist <= view.tile.shape[0] // 2)
    hostile = (ent[:, ECOL["npc_type"]] == HOSTILE) | ((ids == attacker) & (attacker != 0))
    return _lowest(seen & hostile, dist, ids)


def flee_move(view: View, row: jax.Array) -> jax.Array:
    """int32 direction: the valid move (Stay included) that ends farthest, in Manhattan
    distance, from entity `row` (first direction on ties)."""
    ent, me = view.entities, view.me
    dr = ent[row, ECOL["row"]] - me[ECOL["row"]]
    dc = ent[row, ECOL["col"]] - me[ECOL["col"]]
    away = jnp.stack([jnp.abs(dr - r) + jnp.abs(dc - c) for r, c in DIRECTIONS])
    return jnp.argmax(jnp.where(view.masks["move"], away, -1)).astype(jnp.int32)


def _fighter(view: View) -> jax.Array:
    """Attacks the weakest target in reach (lowest health among the Attack mask's targets, then
    lowest id) in its `style`; below FLEE_HEALTH moves away from the nearest `threat`, otherwise
    forages; uses a potion or ration when low (`consume`), else equips an upgrade (`equip`)."""
    targets = view.masks["attack_target"][:-1]
    health = view.entities[1:, ECOL["health"]]
    target, found = _lowest(targets, health, view.entities[1:, ECOL["id"]])
    danger, seen = threat(view)
    fleeing = (view.me[ECOL["health"]] < FLEE_HEALTH) & seen
    move = jnp.where(fleeing, flee_move(view, danger), forage_move(view))
    use = consume(view)
    use = jnp.where(use == view.inventory.shape[0], equip(view), use)
    return _action(
        view,
        move=move,
        use=use,
        attack_style=style(view),
        attack_target=jnp.where(found, target, targets.shape[0]),
    )


# --- trading (SPEC 8)
def sell(view: View, use: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(Sell row, price index): the first sellable row (the Sell mask) other than the first
    Ration, the first Potion (kept) and the row used this tick, listed at PRICE_PER_LEVEL gold
    per level (index = price - 1, within the price choices); the no-op (C, 0) if none."""
    kind, level = view.inventory[:, ICOL["type_id"]], view.inventory[:, ICOL["level"]]
    rows = jnp.arange(kind.shape[0])
    kept = (rows == _first(kind == it.RATION)) | (rows == _first(kind == it.POTION))
    row = _first(view.masks["sell_item"][:-1] & ~kept & (rows != use))
    prices = view.masks["sell_price"].shape[-1]
    price = jnp.clip(PRICE_PER_LEVEL * level[jnp.minimum(row, kind.shape[0] - 1)], 1, prices) - 1
    return row, price


def buy(view: View) -> jax.Array:
    """int32 Buy row: the cheapest listing (first row on ties) the Buy mask allows of a Ration or
    Potion when the agent holds no item of that type; else the no-op (M)."""
    kind = view.inventory[:, ICOL["type_id"]]
    listed = view.market[:, ICOL["type_id"]]
    wanted = ((listed == it.RATION) & ~(kind == it.RATION).any()) | (
        (listed == it.POTION) & ~(kind == it.POTION).any()
    )
    valid = view.masks["buy"][:-1] & wanted
    price = jnp.where(valid, view.market[:, ICOL["listed_price"]], jnp.iinfo(jnp.int32).max)
    return jnp.where(valid.any(), jnp.argmin(price), valid.shape[0])


def _merchant(view: View) -> jax.Array:
    """Forages (`forage_move`, `consume`), lists one item a tick (`sell`) and buys the
    consumables it lacks (`buy`)."""
    use = consume(view)
    row, price = sell(view, use)
    return _action(
        view, move=forage_move(view), use=use, sell_item=row, sell_price=price, buy=buy(view)
    )


RULES = (_random, _forager, _fighter, _merchant)  # by policy id
