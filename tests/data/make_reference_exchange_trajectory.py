"""Write the reference exchange trajectory (REFERENCE nmmo 2.1.2): market, Give, GiveGold, Comm.

    .reference/venv/bin/python tests/data/make_reference_exchange_trajectory.py  # in the repo root

Runs a subclass of the reference Default config (128 players, 160 x 160, HORIZON 1024) with the
randomness the exchange does not need switched off, as make_reference_items_trajectory.py does:
NPC_N = 0 (no NPCs, hence no combat: nobody is ever "in combat"), every regrowth probability 0
and WEAPON_DROP_PROB = 0 (every harvest yields exactly one item; checked below). Env seed SEED.
The one draw from the env RNG that matters is the shuffle of the Buy bucket (SPEC 8, 13.1); the
policy makes it irrelevant: in every tick each listing is named by at most one Buy action, and
an agent that sends a Buy owns no listing that any Buy names (and vice versa), so that no buy
changes what another buy of the tick finds (the listing, the buyer's gold, slots and stacks);
and at most one Buy per tick names ammunition matching a stack the buyer holds (a merged buy
frees the bought item's id, and the freed ids join the allocator's free list in the order of
the buys).
Every buy's outcome is then independent of the order (checked below from the events: no agent
logs both BUY_ITEM and EARN_GOLD in a step, and no item is bought twice).

Initial inventories and gold: right after env.reset(seed=SEED), every agent in increasing id
order gets gold (`player.gold.update(g)`) and the items of `initial_items` (a numpy rng seeded
ITEM_SEED, 16 uniform draws per agent), built as `nmmo.systems.item.<Class>(realm, level)`
(ammunition: then `quantity.update(q)`) and given with `player.inventory.receive(item)` in the
order listed (item ids 1, 2, 3, ... by the FIFO allocator; acquisition order == id order):
  60 %: a level-1 harvesting tool; 40 %: a Hat, Top or Bottom of level 1 (80 %) or 2
  1-3 level-1 Rations; 40 %: a level-1 Potion
  60 %: ammunition (Whetstone, Arrow or Runes) of level 1 (85 %) or 2, quantity 1..4;
  25 %: a second, level-1 ammunition of another type
  20 % ("hoarders"): then filled up to 12 items (a full inventory; every fourth hoarder to 11)
        with the level-1 Whetstone, Arrow and Runes it lacks (quantity 2) and level-1 Rations,
        so that Give and Buy meet full inventories, with and without a matching stack
  gold: 25 % 0..2 (the GiveGold mask shows them no target, SPEC 12.3), else 3..42.
The reset observations are stale (computed before the gifts), so step 1 sends only Move and Comm.

Policy: a numpy rng seeded ACTION_SEED draws u = random((128, 32)) at every step (for every agent,
dead or alive); for each live agent a, in increasing id order, from its previous observation o
(own row = the Entity row whose id == AgentId; "players" = the other rows with npc_type 0):
* Move: if min(food, water) < NEED (and u[0] >= EXPLORE_P): the first step of a shortest path
  (breadth-first over the habitable tiles of the 15 x 15 Tile window) to the nearest tile next
  to Water (if water <= food) or Foilage tile (else), Stay on it; if none is reachable, toward
  the reachable tile nearest to the map centre. Otherwise with u[2] < CLUSTER_P toward the
  nearest player (Stay if one is within Chebyshev distance 2), with u[2] < CLUSTER_P + CENTRE_P
  toward the map centre, each by a mask-valid N S E W direction that reduces the Manhattan
  distance (choice int(u[1] * count)); else (or if none does) a random mask-valid direction
  including Stay.
* Use: a valid Ration row if food or water < 35, a valid Potion row if health < 60; else with
  USE_P a random valid Use row; with 0.03 a row regardless of the mask (int(u * 12)).
* Destroy: with DESTROY_P a random valid Destroy row; with 0.01 any row.
* Sell: with SELL_P a random valid Sell row (0.03: any row: equipped, listed, empty), price index
  int(u * 12) (80 %) or int(u * 99).
* Give: with GIVE_P a valid Give item (ammunition first, with 0.5, when it has some) and a valid
  Give Target row (for ammunition, with u[24] < 0.5, a player whose inventory is full, if any in
  view: the policy reads how many items each agent holds from the engine); now and then invalid:
  the own row (0.05), a row past the listed entities (0.03, dropped by the decoder), an item
  row regardless of the mask (0.06). With 0.01 instead, any row (int(u * 12)) to a player.
* GiveGold: gold > 2: with GOLD_P a valid Target row, amount index int(u * min(gold, 10)), or
  (0.15) gold + int(u * 3) (more than it had at the observation: fails unless it earned gold
  earlier in the tick); gold <= 2: with POOR_P a player row (the mask forbids all) and amount
  index int(u * 3). The own row with 0.04.
* Buy (decided after the other heads; agents with a full inventory first, each group in a
  random order by u[., 31]): with BUY_P a valid Buy row (ActionTargets Buy) that obeys the
  independence rules above, else with 0.06 any listed row obeying them (own listing, too
  expensive, full inventory).
* Comm: with COMM_P a token int(u * 127), else none.
* Fixed arguments out of range now and then (SPEC 12.2: too large is clipped to the last
  choice, negative drops the action): Move Direction -1 or 5..13, Comm Token 127..226, Sell
  Price 99..148 or -1, GiveGold Price 99..148 or -1.
Actions are Python ints; all heads are always sent ({"Move": ..., "Use": ..., "Destroy": ...,
"Give": ..., "GiveGold": ..., "Sell": ..., "Buy": ..., "Comm": ...}): the no-op indices (12 for an
InventoryItem, 100 for a Target, 384 for a MarketItem) lie past the listed rows, so the reference
drops those actions, and Comm token -1 (none) is dropped as negative (SPEC 12.2).

Writes reference_exchange_trajectory.npz next to this file (T = STEPS, N = 128, agent a at index
a - 1; "after step t" = index t - 1):
  seed, item_seed, action_seed, steps, horizon  int64 scalars
  tiles, row0, col0, inv0, next_item_id0, item_free0, item_max_id0  as in the items recording
  gold0            int64 [N]             initial gold
  actions          int16 [T, N, 11]      sent in step t (as sent: out-of-range fixed arguments
                                         included), columns ACTIONS: Move.Direction,
                                         Use/Destroy.InventoryItem, Give.InventoryItem,
                                         Give.Target, GiveGold.Price, GiveGold.Target,
                                         Sell.InventoryItem, Sell.Price, Buy.MarketItem,
                                         Comm.Token (-1 = none); dead agents: all no-ops
  entity           int16 [T, N, 31]      EntityState row after the step (last row if dead)
  alive, obs_present  bool [T, N]
  inventory        int16 [T, N, 12, 16]  Inventory obs after the step (zeros if absent / dead)
  inv_order        int16 [T, N, 12]      item ids in acquisition order (`inventory.items`)
  give_to, gold_to int16 [T, N]          the entity id the Give / GiveGold Target row named (0:
                                         no-op or past the listed rows)
  market           int16 [T, 384, 16]    the listed items (Item.Query.for_sale, first 384 rows):
                                         every live agent's Market obs (checked)
  item_free        int16 [T, F], item_max_id int64 [T]   the item allocator after the step
  events           int32 [M, 9]          (step, ent_id, event, type, level, number, gold,
                                         target_ent, tick) of every event row, in log order
  sample_steps     int64 [S]             the steps after which full observations are kept (1,
                                         4, 8, ..., 120):
  obs_tick         int16 [S, N]          CurrentTick
  obs_entity       int16 [S, N, 100, 31] Entity
  obs_comm         int16 [S, N, 32, 4]   Communication
  mask_<Action>_<Argument>  int8 [S, N, k]  every ActionTargets mask (Move Direction, Attack
                                         Style / Target, Use, Destroy, Give InventoryItem /
                                         Target, GiveGold Price / Target, Sell InventoryItem /
                                         Price, Buy MarketItem, Comm Token)
(Tile is not kept: the movement replay checks it.) The reference reuses its observation
buffers, so everything is copied. Map files go to a temporary directory.

Checked here: the datastore rows equal the cached attributes; every live agent's Market obs is
the world's listings; the Buy actions obeyed the independence rules and the events show it; the
episode has Buy and Give merges into the stack of a full inventory, GiveGold by agents with
gold <= 2 that succeeded, and listings that expired unsold. A summary of the counts is printed.
"""

import os
import tempfile

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
SEED = 3  # env seed: map resources and spawn positions
ITEM_SEED = 7  # numpy seed of the initial inventories and gold
ACTION_SEED = 2112  # numpy seed of the policy
STEPS = 120
SAMPLE_EVERY = 4  # full observations after steps 1, 4, 8, ..., 120
NOOP_ITEM, NOOP_TARGET, NOOP_MARKET = 12, 100, 384
STAY = 4
DELTAS = ((-1, 0), (1, 0), (0, 1), (0, -1))  # N S E W
WATER, FOILAGE = 1, 4
HABITABLE = (2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13)
NEED = 60
CENTRE = 80
CLUSTER_P, CENTRE_P, EXPLORE_P = 0.35, 0.35, 0.15
USE_P, DESTROY_P, SELL_P, GIVE_P, GOLD_P, POOR_P, BUY_P, COMM_P = (
    0.1,
    0.03,
    0.3,
    0.3,
    0.3,
    0.3,
    0.5,
    0.3,
)
ACTIONS = (
    ("Move", "Direction"),
    ("Use", "InventoryItem"),
    ("Destroy", "InventoryItem"),
    ("Give", "InventoryItem"),
    ("Give", "Target"),
    ("GiveGold", "Price"),
    ("GiveGold", "Target"),
    ("Sell", "InventoryItem"),
    ("Sell", "Price"),
    ("Buy", "MarketItem"),
    ("Comm", "Token"),
)
NOOP_ACTION = (STAY, NOOP_ITEM, NOOP_ITEM, NOOP_ITEM, NOOP_TARGET, 0, NOOP_TARGET, NOOP_ITEM, 0)
NOOP_ACTION += (NOOP_MARKET, -1)
MASKS = (
    ("Move", "Direction"),
    ("Attack", "Style"),
    ("Attack", "Target"),
    ("Use", "InventoryItem"),
    ("Destroy", "InventoryItem"),
    ("Give", "InventoryItem"),
    ("Give", "Target"),
    ("GiveGold", "Price"),
    ("GiveGold", "Target"),
    ("Sell", "InventoryItem"),
    ("Sell", "Price"),
    ("Buy", "MarketItem"),
    ("Comm", "Token"),
)
TOOLS = ("Rod", "Gloves", "Pickaxe", "Axe", "Chisel")
ARMOUR = ("Hat", "Top", "Bottom")
AMMO = ("Whetstone", "Arrow", "Runes")
AMMO_TYPES = (13, 14, 15)
RATION, POTION = 16, 17
# EntityState columns
E_ID, E_NPC_TYPE, E_ROW, E_COL, E_GOLD, E_HEALTH, E_FOOD, E_WATER = 0, 1, 2, 3, 11, 12, 13, 14
# ItemState columns
I_ID, I_TYPE, I_OWNER, I_LEVEL, I_QUANTITY, I_EQUIPPED, I_PRICE = 0, 1, 2, 3, 5, 14, 15
EV = dict(GIVE_ITEM=22, DESTROY_ITEM=23, GIVE_GOLD=31, LIST_ITEM=32, EARN_GOLD=33, BUY_ITEM=34)


def initial_items(u):
    """(class name, level, quantity) of the items one agent gets, from its 16 draws u."""
    items = []
    if u[0] < 0.6:
        items.append((TOOLS[int(u[1] * 5)], 1, 1))
    if u[2] < 0.4:
        items.append((ARMOUR[int(u[3] * 3)], 1 + int(u[4] >= 0.8), 1))
    items += [("Ration", 1, 1)] * (1 + int(u[5] * 3))
    if u[6] < 0.4:
        items.append(("Potion", 1, 1))
    first = int(u[8] * 3)
    if u[7] < 0.6:
        items.append((AMMO[first], 1 + int(u[9] >= 0.85), 1 + int(u[10] * 4)))
    if u[11] < 0.25:
        items.append((AMMO[(first + 1 + int(u[12] * 2)) % 3], 1, 1 + int(u[10] * 3)))
    if u[13] < 0.2:
        size = 11 if u[14] < 0.25 else 12
        for name in AMMO:
            if (name, 1) not in [(i[0], i[1]) for i in items] and len(items) < size:
                items.append((name, 1, 2))
        items += [("Ration", 1, 1)] * (size - len(items))
    return items


def initial_gold(u):
    return int(u[15] * 12) % 3 if u[15] < 0.25 else 3 + int(u[15] * 40)


def toward(valid, gr, gc):
    """The mask-valid N S E W directions that reduce the Manhattan distance to offset (gr, gc)."""
    dist = abs(gr) + abs(gc)
    return [k for k in valid if k < STAY and abs(gr - DELTAS[k][0]) + abs(gc - DELTAS[k][1]) < dist]


def adjacent_count(mask):
    m = mask.astype(np.int64)
    k = np.zeros_like(m)
    k[1:] += m[:-1]
    k[:-1] += m[1:]
    k[:, 1:] += m[:, :-1]
    k[:, :-1] += m[:, 1:]
    return k


def reachable(habitable, valid):
    """{window tile: first move} of the habitable window tiles reachable from the centre, in
    breadth-first order (first moves tried in the order N S E W)."""
    first = {}
    frontier = []
    for k in valid:
        if k < STAY:
            q = (7 + DELTAS[k][0], 7 + DELTAS[k][1])
            if q not in first:
                first[q] = k
                frontier.append(q)
    while frontier:
        nxt = []
        for r, c in frontier:
            for dr, dc in DELTAS:
                q = (r + dr, c + dc)
                if 0 <= q[0] < 15 and 0 <= q[1] < 15 and habitable[q] and q not in first:
                    first[q] = first[(r, c)]
                    nxt.append(q)
        frontier = nxt
    return first


def first_step(habitable, goal, valid, me):
    """The first move of a shortest path (over habitable window tiles) to the nearest goal tile;
    Stay if the agent is on one; if none is reachable inside the window, toward the reachable
    tile nearest to the map centre (exploring)."""
    if goal[7, 7]:
        return STAY
    first = reachable(habitable, valid)
    for q, k in first.items():
        if goal[q]:
            return k
    if not first:
        return None
    centre = [abs(me[E_ROW] + r - 7 - CENTRE) + abs(me[E_COL] + c - 7 - CENTRE) for r, c in first]
    return list(first.values())[int(np.argmin(centre))]


def own_row(o):
    return o["Entity"][o["Entity"][:, E_ID] == o["AgentId"]][0]


def player_rows(o):
    """Entity rows (indices) of the other players in view."""
    ent = o["Entity"]
    ids = ent[:, E_ID]
    return np.flatnonzero((ids > 0) & (ids != o["AgentId"]) & (ent[:, E_NPC_TYPE] == 0))


def choose_move(o, u):
    mask = o["ActionTargets"]["Move"]["Direction"]
    valid = [k for k in range(5) if mask[k]]
    me = own_row(o)
    if min(me[E_WATER], me[E_FOOD]) < NEED and u[0] >= EXPLORE_P:
        mat = o["Tile"][:, 2].reshape(15, 15)
        habitable = np.isin(mat, HABITABLE)
        if me[E_WATER] <= me[E_FOOD]:
            goal = habitable & (adjacent_count(mat == WATER) > 0)
        else:
            goal = mat == FOILAGE
        step = first_step(habitable, goal, valid, me)
        if step is not None:
            return step
    elif u[2] < CLUSTER_P:
        rows = player_rows(o)
        if len(rows):
            ent = o["Entity"][rows]
            dr, dc = ent[:, E_ROW] - me[E_ROW], ent[:, E_COL] - me[E_COL]
            cheb = np.maximum(np.abs(dr), np.abs(dc))
            if cheb.min() <= 2:
                return STAY
            i = int(np.argmin(np.abs(dr) + np.abs(dc)))
            closer = toward(valid, dr[i], dc[i])
            if closer:
                return closer[int(u[1] * len(closer))]
    elif u[2] < CLUSTER_P + CENTRE_P:
        closer = toward(valid, CENTRE - me[E_ROW], CENTRE - me[E_COL])
        if closer:
            return closer[int(u[1] * len(closer))]
    return valid[int(u[1] * len(valid))]


def pick(valid, u):
    return int(valid[int(u * len(valid))])


def choose_heads(o, u, step, held):
    """Every head but Buy and Move for one agent (see the module docstring); `held` maps each
    live agent to the number of items it holds (read from the engine)."""
    act = dict(zip(ACTIONS, NOOP_ACTION, strict=True))
    if u[30] < COMM_P:
        act[("Comm", "Token")] = int(u[29] * 127)
        if u[25] < 0.03:  # past the last token: clipped to it (message 127)
            act[("Comm", "Token")] = 127 + int(u[29] * 100)
    if step == 0:  # the reset observation's inventory and masks are stale
        return act
    me, targets, inv = own_row(o), o["ActionTargets"], o["Inventory"]
    n_items = int((inv[:, I_ID] != 0).sum())
    valid_use = np.flatnonzero(targets["Use"]["InventoryItem"][:NOOP_ITEM])
    use = NOOP_ITEM
    rations = [k for k in valid_use if inv[k, I_TYPE] == RATION]
    potions = [k for k in valid_use if inv[k, I_TYPE] == POTION]
    if min(me[E_FOOD], me[E_WATER]) < 35 and rations:
        use = int(rations[0])
    elif me[E_HEALTH] < 60 and potions:
        use = int(potions[0])
    elif u[3] < USE_P and len(valid_use):
        use = pick(valid_use, u[4])
    elif u[3] > 0.97:
        use = int(u[4] * 12)
    act[("Use", "InventoryItem")] = use

    valid_destroy = np.flatnonzero(targets["Destroy"]["InventoryItem"][:NOOP_ITEM])
    if u[5] < DESTROY_P and len(valid_destroy):
        act[("Destroy", "InventoryItem")] = pick(valid_destroy, u[6])
    elif u[5] > 0.99:
        act[("Destroy", "InventoryItem")] = int(u[6] * 12)

    valid_sell = np.flatnonzero(targets["Sell"]["InventoryItem"][:NOOP_ITEM])
    if u[7] < SELL_P and len(valid_sell):
        act[("Sell", "InventoryItem")] = pick(valid_sell, u[8])
    elif u[7] > 0.97:
        act[("Sell", "InventoryItem")] = int(u[8] * 12)
    act[("Sell", "Price")] = int(u[9] * 12) if u[10] < 0.8 else int(u[9] * 99)
    if 0.03 <= u[25] < 0.05:  # past the last price: clipped to it (99 gold)
        act[("Sell", "Price")] = 99 + int(u[9] * 50)
    elif 0.05 <= u[25] < 0.06:  # negative: the Sell is dropped
        act[("Sell", "Price")] = -1

    n_rows = int((o["Entity"][:, E_ID] != 0).sum())
    self_row = int(np.flatnonzero(o["Entity"][:, E_ID] == o["AgentId"])[0])
    valid_give = np.flatnonzero(targets["Give"]["InventoryItem"][:NOOP_ITEM])
    give_targets = np.flatnonzero(targets["Give"]["Target"][:NOOP_TARGET])
    if u[11] < GIVE_P and len(valid_give) and len(give_targets):
        ammo = [k for k in valid_give if inv[k, I_TYPE] in AMMO_TYPES]
        item = pick(ammo, u[12]) if ammo and u[13] < 0.5 else pick(valid_give, u[12])
        target = pick(give_targets, u[14])
        full = [k for k in give_targets if held.get(int(o["Entity"][k, E_ID])) == 12]
        if full and inv[item, I_TYPE] in AMMO_TYPES and u[24] < 0.5:
            target = pick(full, u[14])
        if u[15] < 0.05:
            target = self_row
        elif u[15] < 0.08:
            target = n_rows + int(u[16] * (NOOP_TARGET - n_rows))
        elif u[15] < 0.14:
            item = int(u[16] * 12)
        act[("Give", "InventoryItem")], act[("Give", "Target")] = item, target
    elif u[11] > 0.99 and n_items:  # a row the mask forbids to a player, if any in view
        players = player_rows(o)
        if len(players):
            act[("Give", "InventoryItem")] = int(u[12] * 12)
            act[("Give", "Target")] = pick(players, u[14])

    gold = int(me[E_GOLD])
    gold_targets = np.flatnonzero(targets["GiveGold"]["Target"][:NOOP_TARGET])
    players = player_rows(o)
    if gold > 2 and u[17] < GOLD_P and len(gold_targets):
        target = pick(gold_targets, u[18])
        amount = int(u[19] * min(gold, 10))
        if u[20] < 0.15:
            amount = min(gold + int(u[19] * 3), 98)
        if u[21] < 0.04:
            target = self_row
        if u[26] < 0.03:  # negative: the GiveGold is dropped
            amount = -1
        elif u[26] < 0.05:  # past the last amount: clipped to it (99 gold)
            amount = 99 + int(u[19] * 50)
        act[("GiveGold", "Price")], act[("GiveGold", "Target")] = amount, target
    elif gold <= 2 and u[17] < POOR_P and len(players):
        act[("GiveGold", "Price")] = int(u[19] * 3)
        act[("GiveGold", "Target")] = pick(players, u[18])
    return act


def merges(inv, listing):
    """Whether a buy of `listing` merges into a stack of the buyer's inventory `inv` (ammunition
    of the same type and level: the bought instance is destroyed and its id freed)."""
    same = (inv[:, I_TYPE] == listing[I_TYPE]) & (inv[:, I_LEVEL] == listing[I_LEVEL])
    return bool(listing[I_TYPE] in AMMO_TYPES and (same & (inv[:, I_ID] != 0)).any())


def choose_buys(obs, agents, u, actions):
    """The Buy row of every live agent (agents in a random order), obeying independence: each
    listing named at most once; a buyer owns no named listing, an owner of a named listing
    does not buy, and at most one Buy per tick that would merge into a stack of the buyer (the
    ids freed by merged buys join the allocator's free list in the order of the buys)."""
    full = {a: (obs[a]["Inventory"][:, I_ID] != 0).all() for a in agents}
    order = sorted(agents, key=lambda a: (not full[a], u[a - 1, 31]))
    named, buyers, owners = set(), set(), set()
    merging = False
    for a in order:
        if a in owners:
            continue
        o, ua = obs[a], u[a - 1]
        market = o["Market"]
        listed = np.flatnonzero(market[:, I_ID] != 0)
        mask = o["ActionTargets"]["Buy"]["MarketItem"][:NOOP_MARKET]

        inv = o["Inventory"]

        def ok(k, a=a, market=market, inv=inv, merging=merging):
            return (
                market[k, I_ID] not in named
                and market[k, I_OWNER] not in buyers
                and (market[k, I_OWNER] == a or a not in owners)
                and not (merging and merges(inv, market[k]))
            )

        if ua[22] < BUY_P:
            rows = [k for k in np.flatnonzero(mask) if ok(k)]
        elif ua[22] > 0.94:
            rows = [k for k in listed if ok(k)]
        else:
            rows = []
        if not rows:
            continue
        k = pick(rows, ua[23])
        actions[a] = k
        named.add(int(market[k, I_ID]))
        buyers.add(a)
        merging |= merges(inv, market[k])
        if market[k, I_OWNER] != a:
            owners.add(int(market[k, I_OWNER]))


def main():
    tmp = tempfile.TemporaryDirectory()
    os.chdir(tmp.name)  # nmmo reads PATH_CWD = os.getcwd() at import time
    import nmmo
    from nmmo.core import config as nc
    from nmmo.entity.entity import EntityState
    from nmmo.lib import material
    from nmmo.lib.event_log import EventState
    from nmmo.systems import item as nitem
    from nmmo.systems.item import ItemState

    class Exchange(nc.Default):
        NPC_N = 0
        RESOURCE_FOILAGE_RESPAWN = 0.0
        PROFESSION_TREE_RESPAWN = 0.0
        PROFESSION_ORE_RESPAWN = 0.0
        PROFESSION_CRYSTAL_RESPAWN = 0.0
        PROFESSION_HERB_RESPAWN = 0.0
        PROFESSION_FISH_RESPAWN = 0.0
        WEAPON_DROP_PROB = 0.0

    cfg = Exchange()
    cfg.set("PATH_CWD", tmp.name)
    n = cfg.PLAYER_N
    assert cfg.EXCHANGE_LISTING_DURATION == 3 and cfg.PRICE_N_OBS == 99
    assert cfg.MARKET_N_OBS == NOOP_MARKET and cfg.PLAYER_N_OBS == NOOP_TARGET
    env = nmmo.Env(cfg, seed=SEED)
    obs, _ = env.reset(seed=SEED)
    realm = env.realm
    ds = realm.datastore
    assert len(realm.npcs.entities) == 0
    resource = (4, 7, 9, 11, 13, 15)
    res_tiles = [t for t in realm.map.tiles.ravel() if t.material.index in resource]
    assert res_tiles and all(t.material.respawn == 0 for t in res_tiles)
    for mat, ammo, weapon in (
        (material.Ore, nitem.Whetstone, nitem.Wand),
        (material.Tree, nitem.Arrow, nitem.Spear),
        (material.Crystal, nitem.Runes, nitem.Bow),
    ):
        assert [(d.item, d.prob) for d in mat.table.drops] == [(ammo, 1.0), (weapon, 0.0)]

    ent_cols = list(EntityState.State.attr_name_to_col)
    item_table = ds.table("Item")
    ent_table = ds.table("Entity")
    tiles = np.array(ds.table("Tile")._data[1 : 160 * 160 + 1, 2].reshape(160, 160), np.int8)
    row0 = np.array([realm.players[a].pos[0] for a in range(1, n + 1)], np.int16)
    col0 = np.array([realm.players[a].pos[1] for a in range(1, n + 1)], np.int16)

    # Initial gold and inventories, in increasing agent id.
    assert len(realm.items) == 0 and list(item_table._id_allocator.free) == list(range(1, 100))
    item_rng = np.random.default_rng(ITEM_SEED)
    gold0 = np.zeros(n, np.int64)
    for a in range(1, n + 1):
        player = realm.players[a]
        ua = item_rng.random(16)
        gold0[a - 1] = initial_gold(ua)
        player.gold.update(int(gold0[a - 1]))
        for name, level, quantity in initial_items(ua):
            item = getattr(nitem, name)(realm, level)
            if quantity > 1:
                item.quantity.update(quantity)
            assert player.inventory.receive(item)
    assert len(EventState.Query.table(ds)) == 0
    inv0 = np.zeros((n, 12, 16), np.int16)
    for a in range(1, n + 1):
        rows = ItemState.Query.owned_by(ds, a)
        inv0[a - 1, : len(rows)] = rows
        ids = [it.id.val for it in realm.players[a].inventory.items]
        assert ids == sorted(ids) == list(rows[:, I_ID]), (a, ids)
    alloc = item_table._id_allocator
    item_free0 = np.array(list(alloc.free), np.int64)
    item_max_id0 = alloc.max_id
    next_item_id0 = int(item_free0[0])

    rng = np.random.default_rng(ACTION_SEED)
    T = STEPS
    sample_steps = np.array(sorted({1} | set(range(SAMPLE_EVERY, T + 1, SAMPLE_EVERY))), np.int64)
    S = len(sample_steps)
    actions = np.zeros((T, n, len(ACTIONS)), np.int16)
    actions[:] = NOOP_ACTION
    entity = np.zeros((T, n, 31), np.int16)
    alive = np.zeros((T, n), bool)
    obs_present = np.zeros((T, n), bool)
    inventory = np.zeros((T, n, 12, 16), np.int16)
    inv_order = np.zeros((T, n, 12), np.int16)
    market = np.zeros((T, NOOP_MARKET, 16), np.int16)
    give_to = np.zeros((T, n), np.int16)
    gold_to = np.zeros((T, n), np.int16)
    free_lists, item_max_id = [], np.zeros(T, np.int64)
    obs_tick = np.zeros((S, n), np.int16)
    obs_entity = np.zeros((S, n, 100, 31), np.int16)
    obs_comm = np.zeros((S, n, 32, 4), np.int16)
    masks = {}
    events = []
    n_events = 0
    last_row = {}
    # bookkeeping for the summary: (step, giver, item id, receiver id, receiver items at obs)
    give_tries, buy_tries, poor_gold = [], [], []

    for t in range(T):
        u = rng.random((n, 32))
        action_dict, buy = {}, {}
        live = [a for a in range(1, n + 1) if a in realm.players]
        chosen = {}
        held = {a: len(realm.players[a].inventory.items) for a in live}
        for a in live:
            o = obs[a]
            act = choose_heads(o, u[a - 1], t, held)
            act[("Move", "Direction")] = choose_move(o, u[a - 1])
            if u[a - 1, 27] < 0.01:  # negative: dropped; past Stay: clipped to Stay
                act[("Move", "Direction")] = -1 if u[a - 1, 28] < 0.5 else 5 + int(u[a - 1, 28] * 9)
            chosen[a] = act
        if t > 0:
            choose_buys(obs, live, u, buy)
        for a in live:
            act = chosen[a]
            act[("Buy", "MarketItem")] = buy.get(a, NOOP_MARKET)
            actions[t, a - 1] = [act[k] for k in ACTIONS]
            sent = {}
            for (name, arg), value in act.items():
                sent.setdefault(name, {})[arg] = int(value)
            action_dict[a] = sent
            o = obs[a]
            for col, arr in ((4, give_to), (6, gold_to)):
                row = actions[t, a - 1, col]
                arr[t, a - 1] = o["Entity"][row, E_ID] if row < NOOP_TARGET else 0
            gi, gt = act[("Give", "InventoryItem")], act[("Give", "Target")]
            if gi < NOOP_ITEM and gt < NOOP_TARGET and o["Entity"][gt, E_ID] > 0:
                receiver = int(o["Entity"][gt, E_ID])
                held = len(realm.players[receiver].inventory.items)
                give_tries.append((t + 1, a, int(o["Inventory"][gi, I_ID]), receiver, held))
            if act[("Buy", "MarketItem")] < NOOP_MARKET:
                row = o["Market"][act[("Buy", "MarketItem")]]
                held = int((o["Inventory"][:, I_ID] != 0).sum())
                buy_tries.append((t + 1, a, int(row[I_ID]), held))
            if act[("GiveGold", "Target")] < NOOP_TARGET and own_row(o)[E_GOLD] <= 2:
                poor_gold.append((t + 1, a))
        if t == 0:
            for a in live:  # the stale reset observation: only Move and Comm
                action_dict[a] = {k: v for k, v in action_dict[a].items() if k in ("Move", "Comm")}
                actions[t, a - 1, 1:10] = NOOP_ACTION[1:10]
        obs, _, _, _, _ = env.step(action_dict)
        assert realm.tick == t + 1

        for a in range(1, n + 1):
            ent = realm.players.get(a) or env.dead_this_tick.get(a)
            if ent is not None:
                row = np.array([getattr(ent, c).val for c in ent_cols], np.float64)
                assert (row == np.trunc(row)).all(), (t, a, row)
                row = row.astype(np.int16)
                if a in realm.players:
                    assert (ent_table._data[ent.datastore_record.id] == row).all(), (t, a)
                    ids = [it.id.val for it in ent.inventory.items]
                    inv_order[t, a - 1, : len(ids)] = ids
                last_row[a] = row
            entity[t, a - 1] = last_row[a]
            alive[t, a - 1] = a in realm.players
        listed = ItemState.Query.for_sale(ds)
        assert len(listed) < NOOP_MARKET
        market[t, : len(listed)] = listed
        s = int(np.searchsorted(sample_steps, t + 1))
        sampled = s < S and sample_steps[s] == t + 1
        for a, o in obs.items():
            obs_present[t, a - 1] = True
            inventory[t, a - 1] = o["Inventory"]
            assert (o["Entity"][:, E_ID] != 0).sum() < NOOP_TARGET
            if a in realm.players:
                assert (o["Market"] == market[t]).all(), (t, a)
            else:
                assert not o["Market"].any()
            if sampled:
                obs_tick[s, a - 1] = o["CurrentTick"]
                obs_entity[s, a - 1] = o["Entity"]
                obs_comm[s, a - 1] = o["Communication"]
                for name, arg in MASKS:
                    m = o["ActionTargets"][name][arg]
                    key = f"mask_{name}_{arg}"
                    if key not in masks:
                        masks[key] = np.zeros((S, n, len(m)), np.int8)
                    masks[key][s, a - 1] = m
        free_lists.append(list(item_table._id_allocator.free))
        item_max_id[t] = item_table._id_allocator.max_id

        rows = EventState.Query.table(ds)
        new = rows[n_events:]
        n_events = len(rows)
        for r in new:
            events.append((t + 1, r[1], r[3], r[4], r[5], r[6], r[7], r[8], r[2]))

    events = np.array(events, np.int32).reshape(-1, 9)
    width = max(len(f) for f in free_lists)
    item_free = np.zeros((T, width), np.int16)
    for t, f in enumerate(free_lists):
        item_free[t, : len(f)] = f

    # ---- sanity checks -------------------------------------------------------------------------
    was_alive = np.concatenate([np.ones((1, n), bool), alive[:-1]])
    assert (obs_present == was_alive).all()
    assert (alive == (entity[..., E_HEALTH] > 0)).all()
    assert not inventory[~alive].any()
    code, ev_step = events[:, 2], events[:, 0]
    assert (events[:, 8] == ev_step).all()
    # The Buy order did not matter: no agent both bought and sold in a step; no item bought twice.
    bought = events[code == EV["BUY_ITEM"]]
    earned = events[code == EV["EARN_GOLD"]]
    for t in range(1, T + 1):
        buyers = set(bought[bought[:, 0] == t, 1].tolist())
        sellers = set(earned[earned[:, 0] == t, 1].tolist())
        assert not buyers & sellers, (t, buyers & sellers)
        ids = bought[bought[:, 0] == t, 7]
        assert len(set(ids.tolist())) == len(ids), t
    # and the policy's rule held for the Buy actions sent
    for t in range(T):
        rows = [(a, k) for a in range(n) if (k := actions[t, a, 9]) < NOOP_MARKET]
        named = [int(market[t - 1, k, I_ID]) for _, k in rows]
        assert len(set(named)) == len(named), t
        buyers = {a + 1 for a, _ in rows}
        owners = {o for a, k in rows if (o := int(market[t - 1, k, I_OWNER])) != a + 1}
        assert not owners & buyers, t

    merged_buys = [t for t, a, i in bought[:, [0, 1, 7]] if i not in inv_order[t - 1, a - 1]]
    assert len(merged_buys) == len(set(merged_buys)), "two merged buys in one step"

    # ---- summary -------------------------------------------------------------------------------
    def histogram(values):
        vals, counts = np.unique(values, return_counts=True)
        return {int(v): int(c) for v, c in zip(vals, counts, strict=True)}

    def owned_after(step, item_id, who):
        return item_id in inv_order[step - 1, who - 1]

    gave = {(int(s), int(e)) for s, e in events[code == EV["GIVE_ITEM"], :2]}
    give_merges = [
        g for g in give_tries if (g[0], g[1]) in gave and not owned_after(g[0], g[2], g[3])
    ]
    give_full = [g for g in give_tries if g[4] == 12]
    give_full_merges = [g for g in give_merges if g[4] == 12]
    buy_ok = {(int(s), int(e)): int(i) for s, e, i in bought[:, [0, 1, 7]]}
    buy_merges = [
        b for b in buy_tries if (b[0], b[1]) in buy_ok and not owned_after(b[0], b[2], b[1])
    ]
    buy_full_merges = [b for b in buy_merges if b[3] == 12]
    gold_given = {(int(s), int(e)) for s, e in events[code == EV["GIVE_GOLD"], :2]}
    poor_ok = [p for p in poor_gold if p in gold_given]
    # listings that expired: an item listed in step k still owned by the seller, unlisted after k+3
    expired = 0
    for s_, e_, i_ in events[code == EV["LIST_ITEM"]][:, [0, 1, 7]]:
        if s_ + 3 <= T and i_ in inv_order[s_ + 2, e_ - 1]:
            row = inventory[s_ + 2, e_ - 1]
            hit = row[row[:, I_ID] == i_]
            if len(hit) and hit[0, I_PRICE] == 0:
                expired += 1
    sent = actions != np.array(NOOP_ACTION, np.int16)
    print(f"seed {SEED}, item seed {ITEM_SEED}, action seed {ACTION_SEED}, {T} steps, {n} agents")
    print(
        f"items given {int((inv0[..., I_ID] != 0).sum())}, full inventories at reset "
        f"{int(((inv0[..., I_ID] != 0).sum(-1) == 12).sum())}, gold <= 2 at reset "
        f"{int((gold0 <= 2).sum())}"
    )
    print("events per code:", histogram(code))
    print(
        "actions sent (not the no-op):",
        {a: int(sent[..., i].sum()) for i, (a, b) in enumerate(ACTIONS) if b != "Price"},
    )
    print(
        f"buys tried {len(buy_tries)}, bought {len(bought)}, merged into a stack "
        f"{len(buy_merges)} (buyer full at the obs: {len(buy_full_merges)})"
    )
    print(
        f"gives tried {len(give_tries)}, given {len(gave)}, to a full inventory "
        f"{len(give_full)}, merged {len(give_merges)} (receiver full: {len(give_full_merges)})"
    )
    print(f"GiveGold with gold <= 2 (mask forbids): tried {len(poor_gold)}, done {len(poor_ok)}")
    print(f"listings expired unsold {expired}; deaths {int((~alive[-1]).sum())}")
    print(
        f"max gold {int(entity[..., E_GOLD].max())}, market rows max "
        f"{int((market[..., I_ID] != 0).sum(-1).max())}"
    )
    print(f"item max_id at the end {item_max_id[-1]}, longest free list {width}")
    assert len(buy_merges) and len(buy_full_merges), "no Buy merge with a full inventory"
    assert len(give_merges) and len(give_full_merges), "no Give merge with a full inventory"
    assert len(poor_ok), "no GiveGold by an agent with gold <= 2"
    assert expired, "no listing expired"

    np.savez_compressed(
        os.path.join(OUT, "reference_exchange_trajectory.npz"),
        seed=np.int64(SEED),
        item_seed=np.int64(ITEM_SEED),
        action_seed=np.int64(ACTION_SEED),
        steps=np.int64(STEPS),
        horizon=np.int64(cfg.HORIZON),
        tiles=tiles,
        row0=row0,
        col0=col0,
        inv0=inv0,
        gold0=gold0,
        next_item_id0=np.int64(next_item_id0),
        item_free0=item_free0,
        item_max_id0=np.int64(item_max_id0),
        actions=actions,
        entity=entity,
        alive=alive,
        obs_present=obs_present,
        inventory=inventory,
        inv_order=inv_order,
        market=market,
        give_to=give_to,
        gold_to=gold_to,
        item_free=item_free,
        item_max_id=item_max_id,
        events=events,
        sample_steps=sample_steps,
        obs_tick=obs_tick,
        obs_entity=obs_entity,
        obs_comm=obs_comm,
        **masks,
    )
    os.chdir(OUT)
    tmp.cleanup()
    size = os.path.getsize(os.path.join(OUT, "reference_exchange_trajectory.npz"))
    print(f"npz size {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
