"""Write the reference items trajectory (REFERENCE nmmo 2.1.2): harvesting, professions, items.

    .reference/venv/bin/python tests/data/make_reference_items_trajectory.py   # from the repo root

Runs a subclass of the reference Default config (128 players, 160 x 160, HORIZON 1024) with every
source of randomness that the item rules do not need switched off, so that the whole trajectory is
a deterministic function of the initial world, the initial inventories and the recorded actions:

* NPC_N = 0: no NPCs, hence no combat (no one is ever "in combat", no loot, no kills).
* RESOURCE_FOILAGE_RESPAWN = 0 and PROFESSION_{TREE,ORE,CRYSTAL,HERB,FISH}_RESPAWN = 0: the
  materials copy these into `material.respawn`, and Tile.step returns before drawing a random
  number when `respawn == 0`, so a harvested tile never regrows (checked below for every tile).
* WEAPON_DROP_PROB = 0: the Ore/Tree/Crystal drop tables (class attributes built once per process,
  by the first config that constructs those materials: only this config is constructed here) get
  weapon entries [Wand, Spear, Bow] with prob 0 (checked below). Every entry of a drop table still
  draws one uniform number per harvest, but the drops never depend on it: each harvest yields
  exactly one item (Ration, Potion, Whetstone, Arrow or Runes).
Env seed SEED (map resources and spawn positions). Nothing else draws from the env RNG (no Buy
actions, no NPCs, no loot shuffles, no respawns).

Initial inventories: right after env.reset(seed=SEED), every agent in increasing id order receives
the items of `initial_items` (a numpy rng seeded ITEM_SEED, 12 uniform draws per agent), built as
`nmmo.systems.item.<Class>(realm, level)` and given with `player.inventory.receive(item)`, in the
order listed there (so item ids are allocated 1, 2, 3, ... by the FIFO id allocator, which doubles
the table after id 99, then after id 199, and each agent's acquisition order == id order):
  85 %: a level-1 harvesting tool (Rod, Gloves, Pickaxe, Axe or Chisel, uniformly)
  25 %: a second level-1 tool of another type
  20 %: a level-2 or level-3 tool of a third type (Use gated by that profession's level)
  35 %: a Hat, Top or Bottom of level 1 or 2 (level 2 gated by the player level = max skill)
  30 %: a level-1 Ration or Potion
  10 %: a level-1 Whetstone, Arrow or Runes (gated by the combat level: level 1 is always usable;
        harvested ammunition of the same (type, level) merges into it)
  8 % ("hoarders"): then filled up to HOARD = 11 items with the level-1 Whetstone, Arrow and
        Runes they lack and level-3 armour (gated), so that harvests soon find a full inventory
        (the drop is destroyed, the XP is still granted; an ammunition drop is destroyed even
        when it matches a held stack, because the free-slot check comes first)
The reset observations are stale (computed before the items were given), so step 1 sends only
Move actions, and the initial inventory is read from the datastore (`Item.Query.owned_by`, the
query the env builds the Inventory observation with).

Policy: a numpy rng seeded ACTION_SEED draws u = random((128, 8)) at every step (for every agent,
dead or alive); for each live agent a, in increasing id order, from its previous observation o:
* Move: goal tiles in o["Tile"] (15 x 15 window; habitable = materials 2 3 4 6-13): with the
  agent's own Entity obs row (id == AgentId) showing min(water, food) < 50, the habitable tiles
  4-adjacent to Water 1 if water <= food, else the Foilage 4 tiles; otherwise Herb 13, Ore 7,
  Tree 9, Crystal 11 (to stand on) and the habitable tiles 4-adjacent to k >= 1 Fish 15 tiles (to
  fish from), those scoring 4 (k - 1) (only fish tiles score). If there is a goal and
  u[a, 0] >= 0.2: the goal minimising Manhattan distance - score (ties: first in window row-major
  order; neighbour counts only see inside the window); Stay (4) if the agent is on it, else the
  mask-valid directions among N S E W (0 1 2 3) that reduce the Manhattan distance to it, choice
  int(u[a, 1] * count); if none reduces it, fall through. Otherwise a uniformly random mask-valid
  direction including Stay: valid[int(u[a, 1] * len(valid))], valid in increasing index order
  (Move mask = ActionTargets Move Direction).
* Use (from step 2 on): if u[a, 2] < 0.35 and some non-no-op entry of ActionTargets Use
  InventoryItem is 1, valid[int(u[a, 3] * len(valid))]; else none.
* Destroy (from step 2 on): likewise with u[a, 4] < 0.04 and u[a, 5] on ActionTargets Destroy.
* Unmasked (from step 2 on): if u[a, 6] < UNMASKED_P the Use index is replaced by
  int(u[a, 7] * 12), a row regardless of the mask (gated, equipped or empty: the engine's own
  checks at execution time decide); if u[a, 6] > 1 - UNMASKED_P / 4 the Destroy index likewise.
Actions are Python ints, {"Move": {"Direction": d}, "Use": {"InventoryItem": i},
"Destroy": {"InventoryItem": j}} (Use/Destroy omitted when none), dict built in increasing id.

Writes reference_items_trajectory.npz next to this file (T = STEPS, N = 128, agent a at index
a - 1; "after step t" = index t - 1):
  seed, item_seed, action_seed, steps, horizon  int64 scalars
  tiles            int8  [160, 160]      material of every tile after reset (and giving items)
  row0, col0       int16 [N]             spawn positions
  inv0             int16 [N, 12, 16]     initial inventory: rows with owner_id == a, datastore
                                         row order, zero padded (= the Inventory obs it would get)
  next_item_id0    int64                 first id the item allocator hands out after the gifts
  item_free0       int64 [F0]            the allocator's free list after the gifts (FIFO order)
  item_max_id0     int64                 its max_id (table size; ids < max_id exist)
  actions          int16 [T, N, 3]       (move direction, use index, destroy index) sent in step
                                         t; 12 = no Use/Destroy sent; (4, 12, 12) for the dead
  entity           int16 [T, N, 31]      the agent's EntityState row after the step (SPEC 3.2);
                                         for a dead agent its last row before death (the row in
                                         the datastore when it was culled)
  alive            bool  [T, N]          alive after the step
  inv_order        int16 [T, N, 12]      item ids of the agent's inventory in acquisition order
                                         (`inventory.items`, the order in which a death destroys
                                         them and so frees their ids), zero padded; 0 if dead
  item_free        int16 [T, F]          the item allocator's free list after the step, zero
                                         padded (ids are >= 1), F = its longest length
  item_max_id      int64 [T]             the allocator's max_id after the step
  obs_present      bool  [T, N]          agent in the returned obs dict (alive before the step)
  obs_inventory    int16 [T, N, 12, 16]  Inventory obs (zeros for absent agents and for the
                                         empty observation of an agent that died in the step)
  obs_use          int8  [T, N, 13]      ActionTargets Use InventoryItem
  obs_destroy      int8  [T, N, 13]      ActionTargets Destroy InventoryItem
  obs_entity_self  int16 [T, N, 31]      the Entity obs row whose id == AgentId (zeros if none)
  events           int32 [M, 9]          every event row logged during the steps, in log order:
                                         (step, ent_id, event, type, level, number, gold,
                                         target_ent, tick); step = the step that logged it
  material_counts  int32 [T, 16]         number of tiles showing each material after the step
Step 0 (the reset observation) is represented by inv0 only. The reference reuses its observation
buffers, so everything is copied. The reference writes map files under PATH_CWD, so everything
runs in a temporary directory.

Checked here: the datastore row equals the cached attributes and the own Entity obs row; the Use
mask equals "owned and level <= requirement" (SPEC 7.1) and the Destroy mask "owned and not
equipped"; harvest XP comes in single harvests and levels follow the thresholds; and the episode
contains a full-inventory harvest (also one whose ammunition matched a held stack), an ammunition
stack of 2+, a fish harvest depleting 2 tiles, level gates, and a level-2 Ration that was gated and
later usable. A summary of the counts is printed.
"""

import os
import tempfile

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
SEED = 3  # env seed: map resources and spawn positions
ITEM_SEED = 5  # numpy seed of the initial inventories
ACTION_SEED = 2025  # numpy seed of the policy
STEPS = 150
NOOP = 12  # the InventoryItem no-op index
STAY = 4
HOARD = 11  # hoarders' initial inventory size
DELTAS = ((-1, 0), (1, 0), (0, 1), (0, -1))  # N S E W
STAND_ON = (7, 9, 11, 13)  # Ore, Tree, Crystal, Herb
WATER, FOILAGE, FISH, OCEAN = 1, 4, 15, 14
E_FOOD, E_WATER = 13, 14  # EntityState columns
NEED = 50  # below this, seek water or foilage (whichever is lower)
FISH_BONUS = 4  # a tile next to k fish tiles counts as 4 (k - 1) tiles nearer
HABITABLE = (2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13)
EXPLORE_P, USE_P, DESTROY_P = 0.2, 0.35, 0.04
UNMASKED_P = 0.12  # Use (and a quarter as often Destroy) of a row the masks may forbid
TOOLS = ("Rod", "Gloves", "Pickaxe", "Axe", "Chisel")
ARMOUR = ("Hat", "Top", "Bottom")
# harvest skill: (EntityState exp column, XP per harvest, type id of the drop, skill id, tool)
HARVEST = {
    "fishing": (22, 30, 16, 4, 8),
    "herbalism": (24, 30, 17, 5, 9),
    "prospecting": (26, 15, 13, 6, 10),
    "carving": (28, 15, 14, 7, 11),
    "alchemy": (30, 15, 15, 8, 12),
}
ITEM_NAMES = {2: "Hat", 3: "Top", 4: "Bottom", 5: "Spear", 6: "Bow", 7: "Wand", 8: "Rod"}
ITEM_NAMES.update({9: "Gloves", 10: "Pickaxe", 11: "Axe", 12: "Chisel", 13: "Whetstone"})
ITEM_NAMES.update({14: "Arrow", 15: "Runes", 16: "Ration", 17: "Potion"})
SKILL_NAMES = {1: "melee", 2: "range", 3: "mage", 4: "fishing", 5: "herbalism"}
SKILL_NAMES.update({6: "prospecting", 7: "carving", 8: "alchemy"})
HARVEST_ITEM, LEVEL_UP, EQUIP_ITEM, CONSUME_ITEM, DESTROY_ITEM = 24, 41, 25, 21, 23
# ItemState columns
I_ID, I_TYPE, I_OWNER, I_LEVEL, I_QUANTITY, I_EQUIPPED = 0, 1, 2, 3, 5, 14


def initial_items(u):
    """(class name, level) of the items one agent receives, from its 12 uniform draws u."""
    tools = np.argsort(u[:5])  # a random permutation of the 5 tools
    items = []
    if u[5] < 0.85:
        items.append((TOOLS[tools[0]], 1))
    if u[6] < 0.25:
        items.append((TOOLS[tools[1]], 1))
    if u[7] < 0.2:
        items.append((TOOLS[tools[2]], 2 + int(u[8] < 0.5)))
    if u[9] < 0.35:
        items.append((ARMOUR[int(u[8] * 3)], 1 + int(u[10] < 0.5)))
    if u[10] < 0.3:
        items.append((("Ration", "Potion")[int(u[9] * 2)], 1))
    if u[11] < 0.1:
        items.append((("Whetstone", "Arrow", "Runes")[int(u[9] * 3)], 1))
    if u[11] > 0.92:
        ammo = [(name, 1) for name in ("Whetstone", "Arrow", "Runes") if (name, 1) not in items]
        items += ammo + [(ARMOUR[k % 3], 3) for k in range(HOARD - len(items) - len(ammo))]
    return items


def adjacent_count(mask):
    """Number of 4-neighbours (inside the window) of every window tile where mask holds."""
    m = mask.astype(np.int64)
    k = np.zeros_like(m)
    k[1:] += m[:-1]
    k[:-1] += m[1:]
    k[:, 1:] += m[:, :-1]
    k[:, :-1] += m[:, 1:]
    return k


def choose_move(o, u):
    """Move direction from one observation and the agent's draws u (see the docstring)."""
    mask = o["ActionTargets"]["Move"]["Direction"]
    valid = [k for k in range(5) if mask[k]]
    mat = o["Tile"][:, 2].reshape(15, 15)
    habitable = np.isin(mat, HABITABLE)
    me = o["Entity"][o["Entity"][:, 0] == o["AgentId"]][0]
    bonus = np.zeros(mat.shape, np.int64)
    if min(me[E_WATER], me[E_FOOD]) < NEED:
        if me[E_WATER] <= me[E_FOOD]:
            goal = habitable & (adjacent_count(mat == WATER) > 0)
        else:
            goal = mat == FOILAGE
    else:
        fish = adjacent_count(mat == FISH)
        goal = np.isin(mat, STAND_ON) | (habitable & (fish > 0))
        bonus = FISH_BONUS * np.maximum(fish - 1, 0)
    if goal.any() and u[0] >= EXPLORE_P:
        gr, gc = np.nonzero(goal)  # row-major window order
        score = bonus[gr, gc]
        gr, gc = gr - 7, gc - 7  # offsets from the agent
        dist = np.abs(gr) + np.abs(gc)
        i = int(np.argmin(dist - score))
        if dist[i] == 0:
            return STAY
        closer = [
            k
            for k in valid
            if k < STAY and abs(gr[i] - DELTAS[k][0]) + abs(gc[i] - DELTAS[k][1]) < dist[i]
        ]
        if closer:
            return closer[int(u[1] * len(closer))]
    return valid[int(u[1] * len(valid))]


def choose_item(mask, u_p, u_i, p):
    """A uniformly random valid non-no-op InventoryItem index with probability p, else NOOP."""
    valid = np.flatnonzero(mask[:NOOP])
    if u_p < p and len(valid):
        return int(valid[int(u_i * len(valid))])
    return NOOP


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

    class Items(nc.Default):
        NPC_N = 0
        RESOURCE_FOILAGE_RESPAWN = 0.0
        PROFESSION_TREE_RESPAWN = 0.0
        PROFESSION_ORE_RESPAWN = 0.0
        PROFESSION_CRYSTAL_RESPAWN = 0.0
        PROFESSION_HERB_RESPAWN = 0.0
        PROFESSION_FISH_RESPAWN = 0.0
        WEAPON_DROP_PROB = 0.0

    cfg = Items()
    cfg.set("PATH_CWD", tmp.name)
    n = cfg.PLAYER_N
    env = nmmo.Env(cfg, seed=SEED)
    obs, _ = env.reset(seed=SEED)
    realm = env.realm
    ds = realm.datastore
    assert len(realm.npcs.entities) == 0
    # Harvested tiles never regrow: every harvestable material but Water (never depleted) has
    # respawn 0, and Tile.step returns before its RNG draw when respawn == 0.
    resource = (4, 7, 9, 11, 13, 15)
    res_tiles = [t for t in realm.map.tiles.ravel() if t.material.index in resource]
    assert res_tiles and all(t.material.respawn == 0 for t in res_tiles)
    # The weapon drops of the (per-process) Ore/Tree/Crystal tables have probability 0.
    for mat, ammo, weapon in (
        (material.Ore, nitem.Whetstone, nitem.Wand),
        (material.Tree, nitem.Arrow, nitem.Spear),
        (material.Crystal, nitem.Runes, nitem.Bow),
    ):
        drops = [(d.item, d.prob) for d in mat.table.drops]
        assert drops == [(ammo, 1.0), (weapon, 0.0)], (mat, drops)
    for mat, food in ((material.Fish, nitem.Ration), (material.Herb, nitem.Potion)):
        assert [(d.item, d.prob) for d in mat.table.drops] == [(food, 1.0)]

    ent_cols = list(EntityState.State.attr_name_to_col)
    item_table = ds.table("Item")
    ent_table = ds.table("Entity")

    def tile_materials():
        return np.array(ds.table("Tile")._data[1 : 160 * 160 + 1, 2].reshape(160, 160))

    tiles = tile_materials().astype(np.int8)
    slow = np.array([[t.state.index for t in row] for row in realm.map.tiles], np.int8)
    assert (tiles == slow).all()
    row0 = np.array([realm.players[a].pos[0] for a in range(1, n + 1)], np.int16)
    col0 = np.array([realm.players[a].pos[1] for a in range(1, n + 1)], np.int16)

    # Initial inventories, in increasing agent id.
    assert len(EventState.Query.table(ds)) == 0
    assert len(realm.items) == 0 and list(item_table._id_allocator.free) == list(range(1, 100))
    item_rng = np.random.default_rng(ITEM_SEED)
    given = 0
    for a in range(1, n + 1):
        player = realm.players[a]
        for name, level in initial_items(item_rng.random(12)):
            it = getattr(nitem, name)(realm, level)
            assert player.inventory.receive(it)
            given += 1
    assert len(EventState.Query.table(ds)) == 0  # receive() logs nothing
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
    actions = np.zeros((T, n, 3), np.int16)
    actions[..., 0], actions[..., 1:] = STAY, NOOP
    entity = np.zeros((T, n, 31), np.int16)
    alive = np.zeros((T, n), bool)
    inv_order = np.zeros((T, n, 12), np.int16)
    free_lists, item_max_id = [], np.zeros(T, np.int64)
    obs_present = np.zeros((T, n), bool)
    obs_inventory = np.zeros((T, n, 12, 16), np.int16)
    obs_use = np.zeros((T, n, 13), np.int8)
    obs_destroy = np.zeros((T, n, 13), np.int8)
    obs_entity_self = np.zeros((T, n, 31), np.int16)
    material_counts = np.zeros((T, 16), np.int32)
    events = []
    n_events = 0
    last_row = {}
    fish_multi = []  # (step, agent, fish tiles depleted) of harvests that depleted 2+ tiles
    fish_single = 0

    prev_map = tiles.astype(np.int16)
    prev_pos = {a: (int(row0[a - 1]), int(col0[a - 1])) for a in range(1, n + 1)}
    for t in range(T):
        u = rng.random((n, 8))  # every agent, dead or alive
        action_dict = {}
        for a in range(1, n + 1):  # increasing agent id
            if a not in realm.players:
                continue
            o, ua = obs[a], u[a - 1]
            move = choose_move(o, ua)
            use = destroy = NOOP
            if t > 0:  # the reset observation's inventory and masks are stale
                targets = o["ActionTargets"]
                use = choose_item(targets["Use"]["InventoryItem"], ua[2], ua[3], USE_P)
                destroy = choose_item(targets["Destroy"]["InventoryItem"], ua[4], ua[5], DESTROY_P)
                # Now and then a row regardless of the masks (gated, equipped or empty rows), so
                # that the engine's own checks at execution are exercised too.
                if ua[6] < UNMASKED_P:
                    use = int(ua[7] * 12)
                elif ua[6] > 1 - UNMASKED_P / 4:
                    destroy = int(ua[7] * 12)
            actions[t, a - 1] = move, use, destroy
            act = {"Move": {"Direction": move}}
            if use != NOOP:
                act["Use"] = {"InventoryItem": use}
            if destroy != NOOP:
                act["Destroy"] = {"InventoryItem": destroy}
            action_dict[a] = act
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
        for a, o in obs.items():
            obs_present[t, a - 1] = True
            obs_inventory[t, a - 1] = o["Inventory"]
            obs_use[t, a - 1] = o["ActionTargets"]["Use"]["InventoryItem"]
            obs_destroy[t, a - 1] = o["ActionTargets"]["Destroy"]["InventoryItem"]
            mine = o["Entity"][o["Entity"][:, 0] == o["AgentId"]]
            if len(mine):
                obs_entity_self[t, a - 1] = mine[0]
        free_lists.append(list(item_table._id_allocator.free))
        item_max_id[t] = item_table._id_allocator.max_id

        rows = EventState.Query.table(ds)
        new = rows[n_events:]
        n_events = len(rows)
        for r in new:
            # (recorded, ent_id, tick, event, type, level, number, gold, target_ent)
            events.append((t + 1, r[1], r[3], r[4], r[5], r[6], r[7], r[8], r[2]))
        cur_map = tile_materials()
        material_counts[t] = np.bincount(cur_map.ravel(), minlength=16)

        # Fishing harvests of this step: the fish tiles next to the agent's position during the
        # update (its position before the step's move) that were Fish and now are Ocean, in id
        # order (an earlier agent of the same tick takes the shared tiles).
        taken = set()
        prev_ent = entity[t - 1] if t else None
        for a in range(1, n + 1):
            before = 0 if t == 0 else prev_ent[a - 1, 22]
            if not obs_present[t, a - 1] or entity[t, a - 1, 22] == before:
                continue
            r, c = prev_pos[a]
            cells = [
                (r + dr, c + dc)
                for dr, dc in DELTAS
                if prev_map[r + dr, c + dc] == FISH
                and cur_map[r + dr, c + dc] == OCEAN
                and (r + dr, c + dc) not in taken
            ]
            assert cells, (t, a)
            taken.update(cells)
            if len(cells) >= 2:
                fish_multi.append((t + 1, a, len(cells)))
            else:
                fish_single += 1
        prev_map = cur_map
        for a in range(1, n + 1):
            prev_pos[a] = (int(entity[t, a - 1, 2]), int(entity[t, a - 1, 3]))

    events = np.array(events, np.int32).reshape(-1, 9)
    width = max(len(f) for f in free_lists)
    item_free = np.zeros((T, width), np.int16)
    for t, f in enumerate(free_lists):
        item_free[t, : len(f)] = f

    # ---- sanity checks -------------------------------------------------------------------------
    was_alive = np.concatenate([np.ones((1, n), bool), alive[:-1]])
    assert (obs_present == was_alive).all()
    assert (alive == (entity[..., 12] > 0)).all()
    assert (obs_entity_self[alive] == entity[alive]).all()  # own row in the obs = datastore row
    assert not obs_entity_self[~alive].any() and not obs_inventory[~alive].any()
    agent_ids = np.arange(1, n + 1)[None, :, None]
    held_rows = obs_inventory[..., I_ID] != 0
    assert (
        obs_inventory[..., I_OWNER][held_rows]
        == np.broadcast_to(agent_ids, held_rows.shape)[held_rows]
    ).all()
    code, ev_step, ev_ent = events[:, 2], events[:, 0], events[:, 1]
    assert (events[:, 8] == ev_step).all()  # tick = step for every event logged here
    # Every XP gain in a harvest skill is one harvest; count those without a HARVEST_ITEM event.
    exp_before = np.concatenate([np.zeros((1, n, 31), np.int16), entity[:-1]])
    lost = {}
    harvests = {}
    lost_mergeable = []  # (step, agent, type, level): dropped although a matching stack was held
    inv_before = np.concatenate([inv0[None], obs_inventory[:-1]])
    for skill, (col, xp, type_id, _, tool) in HARVEST.items():
        gain = (entity[..., col] - exp_before[..., col]) * obs_present
        assert np.isin(gain, (0, xp)).all(), skill
        got = np.zeros((T, n), int)
        sel = (code == HARVEST_ITEM) & (events[:, 3] == type_id)
        np.add.at(got, (ev_step[sel] - 1, ev_ent[sel] - 1), 1)
        assert (got <= gain // xp).all()
        lost[skill] = int((gain // xp - got).sum())
        for t_, a in np.argwhere(gain // xp > got):
            held = inv_before[t_, a]  # equipped at the update = after the previous step
            held = held[(held[:, I_TYPE] == tool) & (held[:, I_EQUIPPED] == 1), I_LEVEL]
            level = min(1 + int(held[0]), 10) if len(held) else 1
            stack = (inv_before[t_, a, :, I_TYPE] == type_id) & (
                inv_before[t_, a, :, I_LEVEL] == level
            )
            if type_id in (13, 14, 15) and stack.any():
                lost_mergeable.append((int(t_) + 1, int(a) + 1, type_id, level))
        harvests[skill] = int((gain // xp).sum())
    # Levels follow the thresholds, LEVEL_UP events match the level columns.
    thresholds = np.array(cfg.PROGRESSION_EXP_THRESHOLD)
    for skill, (col, _, _, skill_id, _) in HARVEST.items():
        level = (entity[..., col, None] >= thresholds[:10]).sum(-1)
        assert (level == entity[..., col - 1]).all(), skill
        sel = (code == LEVEL_UP) & (events[:, 3] == skill_id)
        assert sel.sum() == (entity[-1, :, col - 1] - 1).sum()
    # Ammunition stacks grown by harvesting.
    inv = obs_inventory
    ammo = np.isin(inv[..., I_TYPE], (13, 14, 15))
    # Level gates: an owned item whose Use mask bit is 0 (nothing is ever listed, no combat).
    owned = inv[..., I_ID] != 0
    gated = owned & (obs_use[..., :12] == 0)
    # The Use mask rule (SPEC 7.1, 12.3), from the agent's own row after the step: armour and
    # consumables need the player level (max skill level, min 1), tools their profession level,
    # weapons and ammunition their combat skill level.
    me = obs_entity_self
    player_level = np.maximum(me[..., 15:31:2].max(-1), 1)
    need = np.zeros((T, n, 18), np.int64)
    need[..., [2, 3, 4, 16, 17]] = player_level[..., None]
    need[..., [5, 6, 7]] = me[..., [15, 17, 19]]  # Spear Bow Wand: melee range mage
    need[..., [13, 14, 15]] = me[..., [15, 17, 19]]  # Whetstone Arrow Runes
    need[..., 8:13] = me[..., [21, 23, 25, 27, 29]]  # Rod Gloves Pickaxe Axe Chisel
    required = np.take_along_axis(need, inv[..., I_TYPE].astype(np.int64), -1)
    assert (obs_use[..., :12].astype(bool) == (owned & (inv[..., I_LEVEL] <= required))).all()
    assert (obs_use[..., 12] == obs_present).all() and (obs_destroy[..., 12] == obs_present).all()
    assert (obs_destroy[..., :12].astype(bool) == (owned & (inv[..., I_EQUIPPED] == 0))).all()
    # A level-2 ration that became usable: gated at some step, usable later (same owner, id).
    ration2 = owned & (inv[..., I_TYPE] == 16) & (inv[..., I_LEVEL] == 2)
    unlocked = set()
    gated_r2 = {(a, inv[t_, a, k, I_ID]) for t_, a, k in np.argwhere(ration2 & gated)}
    for t_, a, k in np.argwhere(ration2 & ~gated):
        if (a, inv[t_, a, k, 0]) in gated_r2:
            unlocked.add((int(a) + 1, int(inv[t_, a, k, 0])))

    # ---- summary -------------------------------------------------------------------------------
    def histogram(values, name=int):
        vals, counts = np.unique(values, return_counts=True)
        return {name(int(v)): int(c) for v, c in zip(vals, counts, strict=True)}

    def count_by(sel, col, names):
        return histogram(events[sel, col], lambda v: names.get(v, v))

    print(f"seed {SEED}, item seed {ITEM_SEED}, action seed {ACTION_SEED}, {T} steps, {n} agents")
    print(
        f"{given} items given: "
        + str(histogram(inv0[..., I_TYPE][inv0[..., I_ID] != 0], ITEM_NAMES.get))
        + f"; next item id {next_item_id0}, free list {len(item_free0)} ids, max_id {item_max_id0}"
    )
    print(f"free list head after the gifts: {item_free0[:5].tolist()} ... {item_free0[-3:]}")
    print("events per code:", histogram(code))
    print("HARVEST_ITEM per item:", count_by(code == HARVEST_ITEM, 3, ITEM_NAMES))
    print("harvests per skill (XP gains):", harvests)
    print("harvests with a full inventory (XP, no drop):", lost)
    print(
        "  of which ammunition matching a held stack (destroyed, not merged): "
        f"{len(lost_mergeable)} (step, agent, type, level) {lost_mergeable[:5]}"
    )
    print(
        f"fish harvests depleting 1 tile: {fish_single}; depleting 2+: {len(fish_multi)} "
        f"(step, agent, tiles) {fish_multi[:5]}"
    )
    print("LEVEL_UP per skill:", count_by(code == LEVEL_UP, 3, SKILL_NAMES))
    top = {}
    for skill, (col, _, _, _, _) in HARVEST.items():
        top[skill] = int(entity[..., col - 1].max())
    print("highest level per skill:", top)
    print("EQUIP_ITEM per item:", count_by(code == EQUIP_ITEM, 3, ITEM_NAMES))
    consumed = events[code == CONSUME_ITEM]
    print(
        "CONSUME_ITEM per (item, level):",
        histogram(consumed[:, 3] * 100 + consumed[:, 4], lambda k: (ITEM_NAMES[k // 100], k % 100)),
    )
    print("DESTROY_ITEM:", int((code == DESTROY_ITEM).sum()))
    sent = actions[..., 1:] != NOOP
    print(f"Use sent {int(sent[..., 0].sum())}, Destroy sent {int(sent[..., 1].sum())}")
    destroyed = np.zeros((T, n), bool)
    sel = code == DESTROY_ITEM
    destroyed[ev_step[sel] - 1, ev_ent[sel] - 1] = True
    assert np.bincount((ev_step[sel] - 1) * n + ev_ent[sel] - 1).max() == 1
    dropped = sent[..., 1] & ~destroyed
    same = dropped & (actions[..., 1] == actions[..., 2])
    print(
        f"Destroy without effect: {int(dropped.sum())} ({int(same.sum())} on the item Use took "
        f"in the same step, consumed or equipped; {int((dropped & ~alive).sum())} by agents that "
        "died in the step's update)"
    )
    deaths = ~alive[-1]
    print(f"deaths {int(deaths.sum())}, alive at the end {int(alive[-1].sum())}")
    print(
        f"agent-steps with a level-gated item: {int(gated.any(-1).sum())} "
        f"(gated rows per item: " + str(histogram(inv[..., I_TYPE][gated], ITEM_NAMES.get)) + ")"
    )
    print(f"max ammunition stack: {int(inv[..., I_QUANTITY][ammo].max())}")
    full = (inv[..., I_ID] != 0).sum(-1) == 12
    print(f"agent-steps with a full inventory: {int(full.sum())}")
    print(f"level-2 rations gated then usable (agent, item id): {sorted(unlocked)[:10]}")
    print(f"item max_id at the end {item_max_id[-1]}, longest free list {width}")
    print(f"events {len(events)}")
    # The trajectory exercises what it is for.
    assert sum(lost.values()) >= 1, "no harvest with a full inventory"
    assert (inv[..., I_QUANTITY][ammo] >= 2).any(), "no ammunition stack of 2+"
    assert fish_multi, "no fish harvest depleting 2+ tiles"
    assert gated.any(), "no level-gated item"
    assert unlocked, "no level-2 ration unlocked by a level-up"
    assert lost_mergeable, "no full-inventory ammunition harvest with a matching stack"
    assert max(top[s] for s in ("fishing", "herbalism")) >= 2

    np.savez_compressed(
        os.path.join(OUT, "reference_items_trajectory.npz"),
        seed=np.int64(SEED),
        item_seed=np.int64(ITEM_SEED),
        action_seed=np.int64(ACTION_SEED),
        steps=np.int64(STEPS),
        horizon=np.int64(cfg.HORIZON),
        tiles=tiles,
        row0=row0,
        col0=col0,
        inv0=inv0,
        next_item_id0=np.int64(next_item_id0),
        item_free0=item_free0,
        item_max_id0=np.int64(item_max_id0),
        actions=actions,
        entity=entity,
        alive=alive,
        inv_order=inv_order,
        item_free=item_free,
        item_max_id=item_max_id,
        obs_present=obs_present,
        obs_inventory=obs_inventory,
        obs_use=obs_use,
        obs_destroy=obs_destroy,
        obs_entity_self=obs_entity_self,
        events=events,
        material_counts=material_counts,
    )

    os.chdir(OUT)
    tmp.cleanup()
    size = os.path.getsize(os.path.join(OUT, "reference_items_trajectory.npz"))
    print(f"npz size {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
