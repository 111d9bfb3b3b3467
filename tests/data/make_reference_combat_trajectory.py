"""Write the reference combat trajectory (REFERENCE nmmo 2.1.2): player-versus-player combat.

    .reference/venv/bin/python tests/data/make_reference_combat_trajectory.py   # from the repo root

Runs a subclass of the reference Default config (128 players, 160 x 160, HORIZON 1024; Combat,
Exchange, Item, Equipment, Profession and Progression on) with every source of randomness that the
combat rules do not need switched off, exactly as make_reference_items_trajectory.py does:

* NPC_N = 0: no NPCs (the only combat is player versus player).
* RESOURCE_FOILAGE_RESPAWN = 0 and PROFESSION_{TREE,ORE,CRYSTAL,HERB,FISH}_RESPAWN = 0: a
  harvested tile never regrows, without an RNG draw (checked below for every tile).
* WEAPON_DROP_PROB = 0: every harvest yields exactly one item (checked below).
Env seed SEED (map resources and spawn positions). The one draw from the env RNG left is the loot
shuffle of SPEC 3.4: a player killed by a player hands its items to the killer in an order
shuffled with the env RNG. The loadouts are kept small (<= MAX_ITEMS items per agent) and agents
only attack agents whose items fit in their free slots (the "room" rule of the policy), so that
the killer has a free slot for every item that does not merge into one of its ammunition stacks;
then the looted inventory (which items, their ids, rows and quantities) does not depend on the
shuffle. Three things still do, and a re-implementation cannot reproduce them: the order of the
LOOT_ITEM rows of one kill in `events`, the order in which the killer's `inventory.items`
(`inv_order`) lists the looted items, and the order in which the ids of victim stacks merged into
the killer's stacks (destroyed) and of a later starved killer's items join the item allocator's
free list (`item_free`; harmless here: no recycled id is ever handed out, checked). A loot that
overflowed (an item destroyed for lack of space, which would make the inventories themselves
depend on the shuffle) is counted in the summary and must not happen (asserted).

Initial inventories: right after env.reset(seed=SEED), every agent in increasing id order receives
the items of `initial_items` (a numpy rng seeded ITEM_SEED, 16 uniform draws per agent), built as
`nmmo.systems.item.<Class>(realm, level)` (ammunition: then `quantity.update(q)`) and given with
`player.inventory.receive(item)`, in the order listed there (item ids 1, 2, 3, ... by the FIFO id
allocator, which doubles the table after id 99, 199, 399; acquisition order == id order):
  85 %: a weapon (Spear, Bow or Wand, uniformly), level 1, or level 2 / 3 (10 % each: gated by
        the combat level of its style until that reaches it)
  75 %: ammunition of level 1 (Whetstone, Arrow or Runes: 70 % that of the weapon's style, else
        uniformly), quantity 2..6 (uniformly), so that stacks run out during fights
  40 % each: a level-1 Hat, Top, Bottom
  25 %: a level-1 harvesting tool (flat 15 defense; it shares the held slot with the weapon)
  20 %: a level-1 Ration or Potion
  cut to the first MAX_ITEMS = 5 of these.
The reset observations are stale (computed before the items were given: Entity rows and the
Attack mask are unaffected, the Inventory and Use masks are), so step 1 sends no Use/Destroy.

Policy: a numpy rng seeded ACTION_SEED draws u = random((128, 16)) at every step (for every agent,
dead or alive); for each live agent a, in increasing id order, from its previous observation o
(own row = the Entity obs row whose id == AgentId; "other agents" = rows with id > 0, id != a):
* Move: if min(food, water) < NEED and u[0] >= 0.2: toward the nearest habitable tile next to
  Water (if water <= food) or Foilage tile (else) in the 15 x 15 Tile window, as in the items
  script (Stay on it; else a random mask-valid N S E W direction reducing the Manhattan distance,
  choice int(u[1] * count)); otherwise, if u[2] < CHASE_P and another agent is visible, toward
  the nearest one (Manhattan distance, ties: first obs row): Stay if at Chebyshev distance <= 1,
  else likewise a mask-valid direction reducing the Manhattan distance; otherwise (or if no
  direction reduces it) a uniformly random mask-valid direction including Stay:
  valid[int(u[1] * len(valid))] (Move mask = ActionTargets Move Direction).
* Attack: "room" = the rows that are the agent itself or list an agent holding at most
  free - LOOT_MARGIN items, free = 12 - the number of items the agent holds (both counts read from
  the engine at decision time, `len(inventory.items)`: the policy knows how much a victim carries,
  so that a kill's loot fits even after a harvest by either in the update; a target that loots
  earlier in the same tick could still overflow, counted below). valid = the rows < 100 whose
  ActionTargets Attack Target bit is 1, restricted to room. If valid is non-empty
  and u[3] < ATTACK_P: with u[15] < 0.7 the agent's previous target (entity id) if it is in valid
  ("sticky"), else the entity in its own row's attacker_id if in valid ("retaliate"), else
  valid[int(u[4] * len(valid))]. Unmasked: if u[7] < UNMASKED_P the target row is replaced by a
  row regardless of the mask: with u[8] < 0.5 one of the other agents' rows within Chebyshev
  distance 3 of the agent's own observed position (spawn-immune ones included: the first hits
  come in step 20, one tick before the mask allows them) in room, else the listed row
  int((u[8] * 2 - 1) * n_rows) (self, too far, immune) if in room. Style: with u[5] < 0.6 the
  style of the agent's equipped ammunition, else of its equipped weapon, if any (from the
  previous Inventory obs); otherwise int(u[6] * 3).
* Use (from step 2 on): in steps 2..EQUIP_STEPS, the valid Use rows (ActionTargets Use) holding an
  unequipped weapon, ammunition, armour or tool, valid[int(u[10] * len(valid))] (if any); later, if
  the own row shows health < 60 and a Potion row is valid, with u[9] < 0.5 that row; else with
  u[9] < USE_P a uniformly random valid row int(u[10] * len(valid)). Unmasked: with u[13] < 0.02 a
  row int(u[14] * 12) regardless of the mask (in combat, empty, gated).
* Destroy (from step 2 on): with u[11] < DESTROY_P a random valid row of ActionTargets Destroy.
Actions are Python ints: {"Move": {"Direction": d}, "Attack": {"Style": s, "Target": r},
"Use": {"InventoryItem": i}, "Destroy": {"InventoryItem": j}} (Attack/Use/Destroy omitted when
none), dict built in increasing id (= execution order).

Writes reference_combat_trajectory.npz next to this file (T = STEPS, N = 128, agent a at index
a - 1; "after step t" = index t - 1):
  seed, item_seed, action_seed, steps, horizon  int64 scalars
  tiles            int8  [160, 160]      material of every tile after reset (and giving items)
  row0, col0       int16 [N]             spawn positions
  entity0          int16 [N, 31]         the EntityState rows after reset
  inv0             int16 [N, 12, 16]     initial inventory: rows with owner_id == a, datastore
                                         row order, zero padded (= the Inventory obs it would get)
  next_item_id0    int64                 first id the item allocator hands out after the gifts
  item_free0       int64 [F0]            the allocator's free list after the gifts (FIFO order)
  item_max_id0     int64                 its max_id (table size; ids < max_id exist)
  obs0_entity_ids  int16 [N, 100]        the id column of the Entity obs returned by reset (the
                                         rows step 1's Attack Target indices refer to)
  obs0_attack_target int8 [N, 101]       ActionTargets Attack Target of the reset obs
  actions          int16 [T, N, 6]       sent in step t: (move direction, attack style 0/1/2
                                         (3 = no Attack), attack target entity id (the id in that
                                         row of the agent's previous Entity obs; 0 = no Attack),
                                         attack target obs row index (100 = no Attack), use
                                         index, destroy index (12 = none)); (4, 3, 0, 100, 12, 12)
                                         for the dead
  entity           int16 [T, N, 31]      the agent's EntityState row after the step (SPEC 3.2);
                                         for a dead agent its last row before death (the row in
                                         the datastore when it was culled)
  alive            bool  [T, N]          alive after the step
  rewards          float64 [T, N]        reward returned by the step (0 for absent agents)
  terminated       bool  [T, N]          terminated returned by the step (False if absent)
  inv_order        int16 [T, N, 12]      item ids of the agent's inventory in acquisition order
                                         (`inventory.items`), zero padded; 0 if dead (the order of
                                         looted items within one kill follows the loot shuffle)
  item_free        int16 [T, F]          the item allocator's free list after the step, zero
                                         padded (ids are >= 1), F = its longest length
  item_max_id      int64 [T]             the allocator's max_id after the step
  obs_present      bool  [T, N]          agent in the returned obs dict (alive before the step)
  obs_inventory    int16 [T, N, 12, 16]  Inventory obs (zeros for absent agents and for the
                                         empty observation of an agent that died in the step)
  obs_entity_ids   int16 [T, N, 100]     the id column of the Entity obs (the rows the next
                                         step's Attack Target indices refer to)
  obs_attack_target int8 [T, N, 101]     ActionTargets Attack Target
  obs_entity_self  int16 [T, N, 31]      the Entity obs row whose id == AgentId (zeros if none)
  events           int32 [M, 9]          every event row logged during the steps, in log order:
                                         (step, ent_id, event, type, level, number, gold,
                                         target_ent, tick); step = the step that logged it
Step 0 (the reset observation) is represented by entity0, inv0 and obs0_*. The reference reuses
its observation buffers, so everything is copied. The reference writes map files under PATH_CWD,
so everything runs in a temporary directory.

Checked here: the datastore row equals the cached attributes and the own Entity obs row; the
Attack Target mask equals (row listed, not self, npc_type >= 0, Chebyshev distance <= 3 from the
agent, and for players observed time_alive >= 20; no-op bit iff no row is valid) on every
observation; and a step-by-step re-derivation of the combat from the recorded arrays alone (the
previous rows and inventories, this step's actions and its Use/Harvest events): the per-tick
health update (regeneration / starvation from the previous food and water, potions), then the
attacks in dict order with the engine's checks (attacker alive, not self, target alive, Chebyshev
distance <= 3 at the start of the step, spawn immunity by the target's time_alive < 20), the
damage of SPEC 5.3 (offense and defense from the levels and the items equipped at that moment,
the triangle by the target's dominant style with its exp at that moment), ammunition fired, kills
and gold loot; the predicted SCORE_HIT, FIRE_AMMO, PLAYER_KILL and LOOT_GOLD rows must equal the
logged ones in order, and the predicted health, gold, combat exp and levels, damage, attacker_id
and latest_combat_tick the rows after the step; the equipped items then equal those at the attack
phase less the emptied ammunition stacks. The loot is checked against the victims' inventories at
death (recorded through a read-only wrapper of Player.receive_damage): no overflow, every item
not merged into a killer's stack logged as LOOT_ITEM with its id, type, level and quantity. The
item allocator never hands out a recycled id (its head stays in the fresh range), so the order in
which ids were freed never matters here. Rewards: -1 in the step of death, 1/HORIZON otherwise.
A summary of the counts is printed.
"""

import os
import tempfile

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
SEED = 11  # env seed: map resources and spawn positions
ITEM_SEED = 7  # numpy seed of the initial inventories
ACTION_SEED = 2026  # numpy seed of the policy
STEPS = 150
NOOP = 12  # the InventoryItem no-op index
TARGET_NOOP = 100  # the Attack Target no-op index
NO_STYLE = 3  # recorded style when no Attack is sent
STAY = 4
MAX_ITEMS = 5
CAPACITY = 12  # ITEM_INVENTORY_CAPACITY
LOOT_MARGIN = 2  # attack only agents holding <= free slots - 2 items (harvests in the update)
EQUIP_STEPS = 6  # steps 2..EQUIP_STEPS equip gear
DELTAS = ((-1, 0), (1, 0), (0, 1), (0, -1))  # N S E W
WATER, FOILAGE = 1, 4
HABITABLE = (2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13)
NEED = 40  # below this, seek water or foilage (whichever is lower)
EXPLORE_P, CHASE_P, ATTACK_P, STICKY_P = 0.2, 0.7, 0.8, 0.7
UNMASKED_P = 0.1  # Attack a row the mask may forbid
USE_P, DESTROY_P, UNMASKED_USE_P = 0.05, 0.01, 0.02
IMMUNITY = 20
REACH = 3
# EntityState columns
E_ID, E_NPC, E_ROW, E_COL, E_DAMAGE, E_TIME = 0, 1, 2, 3, 4, 5
E_ATTACKER, E_COMBAT_TICK, E_GOLD, E_HEALTH, E_FOOD, E_WATER = 8, 9, 11, 12, 13, 14
LEVEL_COLS = (15, 17, 19, 21, 23, 25, 27, 29)  # melee range mage fishing herb prosp carv alch
COMBAT_EXP = (16, 18, 20)
# ItemState columns
I_ID, I_TYPE, I_OWNER, I_LEVEL, I_QUANTITY, I_EQUIPPED = 0, 1, 2, 3, 5, 14
WEAPONS = ("Spear", "Bow", "Wand")  # style 0 1 2, type ids 5 6 7
AMMO = ("Whetstone", "Arrow", "Runes")  # style 0 1 2, type ids 13 14 15
ARMOUR = ("Hat", "Top", "Bottom")
TOOLS = ("Rod", "Gloves", "Pickaxe", "Axe", "Chisel")
ITEM_NAMES = {2: "Hat", 3: "Top", 4: "Bottom", 5: "Spear", 6: "Bow", 7: "Wand", 8: "Rod"}
ITEM_NAMES.update({9: "Gloves", 10: "Pickaxe", 11: "Axe", 12: "Chisel", 13: "Whetstone"})
ITEM_NAMES.update({14: "Arrow", 15: "Runes", 16: "Ration", 17: "Potion"})
SCORE_HIT, PLAYER_KILL, FIRE_AMMO, CONSUME_ITEM, HARVEST_ITEM = 11, 12, 13, 21, 24
EQUIP_ITEM, LOOT_ITEM, LOOT_GOLD, LEVEL_UP, AGENT_CULLED = 25, 26, 35, 41, 91
POTION = 17
BEATS = {(0, 1), (1, 2), (2, 0)}  # (attacker style, target's dominant style): Melee > Range ...


def initial_items(u):
    """(class name, level, quantity) of the items one agent receives, from its 16 draws u."""
    items = []
    weapon = None
    if u[0] < 0.85:
        weapon = int(u[1] * 3)
        level = 1 if u[2] >= 0.2 else 2 + int(u[2] < 0.1)
        items.append((WEAPONS[weapon], level, 1))
    if u[3] < 0.75:
        style = weapon if weapon is not None and u[4] < 0.7 else int(u[5] * 3)
        items.append((AMMO[style], 1, 2 + int(u[6] * 5)))
    for k in range(3):
        if u[7 + k] < 0.4:
            items.append((ARMOUR[k], 1, 1))
    if u[10] < 0.25:
        items.append((TOOLS[int(u[11] * 5)], 1, 1))
    if u[12] < 0.2:
        items.append((("Ration", "Potion")[int(u[13] * 2)], 1, 1))
    return items[:MAX_ITEMS]


def adjacent_count(mask):
    """Number of 4-neighbours (inside the window) of every window tile where mask holds."""
    m = mask.astype(np.int64)
    k = np.zeros_like(m)
    k[1:] += m[:-1]
    k[:-1] += m[1:]
    k[:, 1:] += m[:, :-1]
    k[:, :-1] += m[:, 1:]
    return k


def step_toward(valid, dr, dc, u1):
    """A mask-valid N S E W direction reducing the Manhattan distance to offset (dr, dc)."""
    dist = abs(dr) + abs(dc)
    closer = [
        k for k in valid if k < STAY and abs(dr - DELTAS[k][0]) + abs(dc - DELTAS[k][1]) < dist
    ]
    return closer[int(u1 * len(closer))] if closer else None


def choose_move(o, me, u):
    """Move direction from one observation, the own Entity row and the draws u (docstring)."""
    mask = o["ActionTargets"]["Move"]["Direction"]
    valid = [k for k in range(5) if mask[k]]
    if min(me[E_WATER], me[E_FOOD]) < NEED and u[0] >= EXPLORE_P:
        mat = o["Tile"][:, 2].reshape(15, 15)
        if me[E_WATER] <= me[E_FOOD]:
            goal = np.isin(mat, HABITABLE) & (adjacent_count(mat == WATER) > 0)
        else:
            goal = mat == FOILAGE
        if goal.any():
            gr, gc = np.nonzero(goal)  # row-major window order
            gr, gc = gr - 7, gc - 7
            i = int(np.argmin(np.abs(gr) + np.abs(gc)))
            if gr[i] == 0 and gc[i] == 0:
                return STAY
            d = step_toward(valid, gr[i], gc[i], u[1])
            if d is not None:
                return d
    elif u[2] < CHASE_P:
        ent = o["Entity"]
        others = (ent[:, E_ID] > 0) & (ent[:, E_ID] != o["AgentId"])
        if others.any():
            dr = ent[others, E_ROW].astype(np.int64) - me[E_ROW]
            dc = ent[others, E_COL].astype(np.int64) - me[E_COL]
            i = int(np.argmin(np.abs(dr) + np.abs(dc)))
            if max(abs(dr[i]), abs(dc[i])) <= 1:
                return STAY
            d = step_toward(valid, dr[i], dc[i], u[1])
            if d is not None:
                return d
    return valid[int(u[1] * len(valid))]


def gear_style(inv):
    """Style of the equipped ammunition, and of the equipped weapon (None if none)."""
    eq = inv[(inv[:, I_ID] != 0) & (inv[:, I_EQUIPPED] == 1), I_TYPE]
    ammo = [int(t) - 13 for t in eq if 13 <= t <= 15]
    weapon = [int(t) - 5 for t in eq if 5 <= t <= 7]
    return (ammo[0] if ammo else None), (weapon[0] if weapon else None)


def choose_attack(o, me, u, prev_target, held):
    """(style, target row) or None, from one observation and the number of items every live
    agent holds now (held: id -> count; see the docstring)."""
    ent = o["Entity"]
    ids = ent[:, E_ID]
    n_rows = int((ids != 0).sum())
    me_id = o["AgentId"]
    free = CAPACITY - held[me_id]
    room = np.array([i == me_id or held.get(i, 0) + LOOT_MARGIN <= free for i in ids])
    mask = o["ActionTargets"]["Attack"]["Target"]
    valid = np.flatnonzero(mask[:TARGET_NOOP] & room)
    row = None
    if len(valid) and u[3] < ATTACK_P:
        valid_ids = list(ids[valid])
        if u[15] < STICKY_P and prev_target in valid_ids:
            row = int(valid[valid_ids.index(prev_target)])
        elif u[15] < STICKY_P and me[E_ATTACKER] > 0 and me[E_ATTACKER] in valid_ids:
            row = int(valid[valid_ids.index(me[E_ATTACKER])])
        else:
            row = int(valid[int(u[4] * len(valid))])
    if u[7] < UNMASKED_P and n_rows:
        cheb = np.maximum(np.abs(ent[:, E_ROW] - me[E_ROW]), np.abs(ent[:, E_COL] - me[E_COL]))
        near = np.flatnonzero((ids > 0) & (ids != me_id) & (cheb <= REACH) & room)
        if u[8] < 0.5:
            if len(near):
                row = int(near[int(u[8] * 2 * len(near))])
        elif room[int((u[8] * 2 - 1) * n_rows)]:
            row = int((u[8] * 2 - 1) * n_rows)
    if row is None:
        return None
    ammo, weapon = gear_style(o["Inventory"])
    if u[5] < 0.6 and (ammo is not None or weapon is not None):
        style = ammo if ammo is not None else weapon
    else:
        style = int(u[6] * 3)
    return style, row


def choose_use(o, me, u, t):
    """Use index (NOOP = none) from one observation (see the docstring); t = step - 1."""
    mask = o["ActionTargets"]["Use"]["InventoryItem"]
    inv = o["Inventory"]
    valid = np.flatnonzero(mask[:NOOP])
    use = NOOP
    if t + 1 <= EQUIP_STEPS:
        gear = [k for k in valid if 2 <= inv[k, I_TYPE] <= 15 and inv[k, I_EQUIPPED] == 0]
        if gear:
            use = int(gear[int(u[10] * len(gear))])
    else:
        potions = [k for k in valid if inv[k, I_TYPE] == POTION]
        if me[E_HEALTH] < 60 and potions and u[9] < 0.5:
            use = int(potions[0])
        elif u[9] < USE_P and len(valid):
            use = int(valid[int(u[10] * len(valid))])
    if u[13] < UNMASKED_USE_P:
        use = int(u[14] * 12)
    return use


def combat_config(path_cwd):
    """The recording's config: Default without NPCs, regrowth and weapon drops (docstring);
    imports nmmo, so call it from the temporary working directory."""
    from nmmo.core import config as nc

    class Combat(nc.Default):
        NPC_N = 0
        RESOURCE_FOILAGE_RESPAWN = 0.0
        PROFESSION_TREE_RESPAWN = 0.0
        PROFESSION_ORE_RESPAWN = 0.0
        PROFESSION_CRYSTAL_RESPAWN = 0.0
        PROFESSION_HERB_RESPAWN = 0.0
        PROFESSION_FISH_RESPAWN = 0.0
        WEAPON_DROP_PROB = 0.0

    cfg = Combat()
    cfg.set("PATH_CWD", path_cwd)
    return cfg


def give_initial_items(realm, n):
    """Gives every agent, in increasing id, its `initial_items`; returns how many were given."""
    from nmmo.systems import item as nitem

    item_rng = np.random.default_rng(ITEM_SEED)
    given = 0
    for a in range(1, n + 1):
        player = realm.players[a]
        for name, level, quantity in initial_items(item_rng.random(16)):
            it = getattr(nitem, name)(realm, level)
            if quantity > 1:
                it.quantity.update(quantity)
            assert player.inventory.receive(it)
            given += 1
    return given


def choose_actions(obs, realm, u, t, prev_target, rows):
    """The policy for step t + 1 (docstring): the action dict of the live agents in increasing
    id, from their observations `obs` and the draws u [N, 16]; writes the recorded action rows
    into `rows` [N, 6] and the targets into `prev_target`. Returns (action dict, the number of
    Attack rows sent outside the mask)."""
    n = len(rows)
    action_dict = {}
    unmasked = 0
    held = {b: len(p.inventory.items) for b, p in realm.players.items()}
    for a in range(1, n + 1):  # increasing agent id
        if a not in realm.players:
            continue
        o, ua = obs[a], u[a - 1]
        me = o["Entity"][o["Entity"][:, 0] == o["AgentId"]][0].astype(np.int64)
        move = choose_move(o, me, ua)
        act = {"Move": {"Direction": move}}
        rows[a - 1, 0] = move
        attack = choose_attack(o, me, ua, prev_target.get(a), held)
        if attack is not None:
            style, row = attack
            target_id = int(o["Entity"][row, 0])
            assert target_id != 0
            act["Attack"] = {"Style": style, "Target": row}
            rows[a - 1, 1:4] = style, target_id, row
            prev_target[a] = target_id
            if o["ActionTargets"]["Attack"]["Target"][row] == 0:
                unmasked += 1
        if t > 0:  # the reset observation's inventory and masks are stale
            use = choose_use(o, me, ua, t)
            destroy = NOOP
            valid = np.flatnonzero(o["ActionTargets"]["Destroy"]["InventoryItem"][:NOOP])
            if ua[11] < DESTROY_P and len(valid):
                destroy = int(valid[int(ua[12] * len(valid))])
            if use != NOOP:
                act["Use"] = {"InventoryItem": use}
            if destroy != NOOP:
                act["Destroy"] = {"InventoryItem": destroy}
            rows[a - 1, 4:] = use, destroy
        action_dict[a] = act
    return action_dict, unmasked


def main():
    tmp = tempfile.TemporaryDirectory()
    os.chdir(tmp.name)  # nmmo reads PATH_CWD = os.getcwd() at import time
    import nmmo
    from nmmo.entity.entity import EntityState
    from nmmo.entity.player import Player
    from nmmo.lib import material
    from nmmo.lib.event_log import EventState
    from nmmo.systems import item as nitem
    from nmmo.systems.item import ItemState

    cfg = combat_config(tmp.name)
    for system in ("COMBAT", "EXCHANGE", "ITEM", "EQUIPMENT", "PROFESSION", "PROGRESSION"):
        assert getattr(cfg, f"{system}_SYSTEM_ENABLED"), system
    assert cfg.COMBAT_SPAWN_IMMUNITY == IMMUNITY
    assert cfg.COMBAT_MELEE_REACH == cfg.COMBAT_RANGE_REACH == cfg.COMBAT_MAGE_REACH == REACH
    n = cfg.PLAYER_N
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
        drops = [(d.item, d.prob) for d in mat.table.drops]
        assert drops == [(ammo, 1.0), (weapon, 0.0)], (mat, drops)
    for mat, food in ((material.Fish, nitem.Ration), (material.Herb, nitem.Potion)):
        assert [(d.item, d.prob) for d in mat.table.drops] == [(food, 1.0)]

    ent_cols = list(EntityState.State.attr_name_to_col)
    item_table = ds.table("Item")
    ent_table = ds.table("Entity")

    def entity_row(ent):
        row = np.array([getattr(ent, c).val for c in ent_cols], np.float64)
        assert (row == np.trunc(row)).all(), row
        return row.astype(np.int16)

    tiles = np.array(ds.table("Tile")._data[1 : 160 * 160 + 1, 2].reshape(160, 160), np.int8)
    slow = np.array([[t.state.index for t in row] for row in realm.map.tiles], np.int8)
    assert (tiles == slow).all()
    row0 = np.array([realm.players[a].pos[0] for a in range(1, n + 1)], np.int16)
    col0 = np.array([realm.players[a].pos[1] for a in range(1, n + 1)], np.int16)
    entity0 = np.stack([entity_row(realm.players[a]) for a in range(1, n + 1)])

    def attack_mask_expected(o, a, me_row, me_col):
        """The Attack Target mask rule (SPEC 12.3) on the observed Entity rows."""
        ent = o["Entity"].astype(np.int64)
        ids = ent[:, E_ID]
        cheb = np.maximum(np.abs(ent[:, E_ROW] - me_row), np.abs(ent[:, E_COL] - me_col))
        ok = (ids != 0) & (ids != a) & (ent[:, E_NPC] >= 0) & (cheb <= REACH)
        ok &= ~((ids > 0) & (ent[:, E_TIME] < IMMUNITY))
        return np.concatenate([ok, [not ok.any()]]).astype(np.int8)

    obs0_entity_ids = np.zeros((n, 100), np.int16)
    obs0_attack_target = np.zeros((n, 101), np.int8)
    for a in range(1, n + 1):
        o = obs[a]
        obs0_entity_ids[a - 1] = o["Entity"][:, 0]
        obs0_attack_target[a - 1] = o["ActionTargets"]["Attack"]["Target"]
        assert (
            obs0_attack_target[a - 1] == attack_mask_expected(o, a, row0[a - 1], col0[a - 1])
        ).all()
        assert len(env.obs[a].entities.ids) == (obs0_entity_ids[a - 1] != 0).sum()

    # Initial inventories, in increasing agent id.
    assert len(EventState.Query.table(ds)) == 0
    assert len(realm.items) == 0 and list(item_table._id_allocator.free) == list(range(1, 100))
    given = give_initial_items(realm, n)
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
    assert (item_free0 == np.arange(next_item_id0, item_max_id0)).all()

    # A read-only wrapper: the victim's inventory and the killer's stacks at each player kill.
    deaths_log = []  # (step, victim, killer, victim items [(id, type, level, qty)], killer
    #                   item count before, killer stack signatures before)
    receive_damage = Player.receive_damage

    def logged_receive_damage(self, source, dmg):
        items = [
            (it.id.val, it.type_id.val, it.level.val, it.quantity.val)
            for it in self.inventory.items
        ]
        killer = None
        if source is not None and source.is_player:
            killer = (len(source.inventory.items), set(source.inventory._item_stacks))
        alive = receive_damage(self, source, dmg)
        if not self.alive and killer is not None:
            deaths_log.append((realm.tick + 1, self.ent_id, source.ent_id, items, *killer))
        return alive

    Player.receive_damage = logged_receive_damage

    rng = np.random.default_rng(ACTION_SEED)
    T = STEPS
    actions = np.zeros((T, n, 6), np.int16)
    actions[:] = (STAY, NO_STYLE, 0, TARGET_NOOP, NOOP, NOOP)
    entity = np.zeros((T, n, 31), np.int16)
    alive = np.zeros((T, n), bool)
    rewards = np.zeros((T, n), np.float64)
    terminated = np.zeros((T, n), bool)
    inv_order = np.zeros((T, n, 12), np.int16)
    free_lists, item_max_id = [], np.zeros(T, np.int64)
    obs_present = np.zeros((T, n), bool)
    obs_inventory = np.zeros((T, n, 12, 16), np.int16)
    obs_entity_ids = np.zeros((T, n, 100), np.int16)
    obs_attack_target = np.zeros((T, n, 101), np.int8)
    obs_entity_self = np.zeros((T, n, 31), np.int16)
    events = []
    n_events = 0
    last_row = {}
    prev_target = {}
    mask_zero_hits = 0  # Attack mask said 0 for the row (unmasked choice)
    empty_mask = np.zeros(101, np.int8)
    empty_mask[-1] = 1

    for t in range(T):
        u = rng.random((n, 16))  # every agent, dead or alive
        action_dict, unmasked = choose_actions(obs, realm, u, t, prev_target, actions[t])
        mask_zero_hits += unmasked
        obs, rew, term, _, _ = env.step(action_dict)
        assert realm.tick == t + 1

        for a in range(1, n + 1):
            ent = realm.players.get(a) or env.dead_this_tick.get(a)
            if ent is not None:
                row = entity_row(ent)
                if a in realm.players:
                    assert (ent_table._data[ent.datastore_record.id] == row).all(), (t, a)
                    ids = [it.id.val for it in ent.inventory.items]
                    inv_order[t, a - 1, : len(ids)] = ids
                last_row[a] = row
            entity[t, a - 1] = last_row[a]
            alive[t, a - 1] = a in realm.players
        for a, r in rew.items():
            rewards[t, a - 1] = r
        for a, d in term.items():
            terminated[t, a - 1] = d
        for a, o in obs.items():
            obs_present[t, a - 1] = True
            obs_inventory[t, a - 1] = o["Inventory"]
            obs_entity_ids[t, a - 1] = o["Entity"][:, 0]
            mask = o["ActionTargets"]["Attack"]["Target"]
            obs_attack_target[t, a - 1] = mask
            mine = o["Entity"][o["Entity"][:, 0] == o["AgentId"]]
            if len(mine):
                obs_entity_self[t, a - 1] = mine[0]
                expected = attack_mask_expected(o, a, mine[0][E_ROW], mine[0][E_COL])
                assert (mask == expected).all(), (t, a)
                assert len(env.obs[a].entities.ids) == (o["Entity"][:, 0] != 0).sum()
            else:
                assert (mask == empty_mask).all() and not o["Entity"].any(), (t, a)
        free_lists.append(list(item_table._id_allocator.free))
        item_max_id[t] = item_table._id_allocator.max_id

        rows = EventState.Query.table(ds)
        new = rows[n_events:]
        n_events = len(rows)
        for r in new:
            # (recorded, ent_id, tick, event, type, level, number, gold, target_ent)
            events.append((t + 1, r[1], r[3], r[4], r[5], r[6], r[7], r[8], r[2]))

    Player.receive_damage = receive_damage
    events = np.array(events, np.int32).reshape(-1, 9)
    width = max(len(f) for f in free_lists)
    item_free = np.zeros((T, width), np.int16)
    for t, f in enumerate(free_lists):
        item_free[t, : len(f)] = f

    # ---- sanity checks -------------------------------------------------------------------------
    was_alive = np.concatenate([np.ones((1, n), bool), alive[:-1]])
    assert (obs_present == was_alive).all()
    assert (alive == (entity[..., E_HEALTH] > 0)).all()
    assert (obs_entity_self[alive] == entity[alive]).all()  # own row in the obs = datastore row
    assert not obs_entity_self[~alive].any() and not obs_inventory[~alive].any()
    died = obs_present & ~alive
    assert (terminated == died).all()
    assert (rewards[died] == -1).all() and (rewards[alive] == 1 / cfg.HORIZON).all()
    assert (rewards[~obs_present] == 0).all()
    code, ev_step, ev_ent = events[:, 2], events[:, 0], events[:, 1]
    assert (events[:, 8] == ev_step).all()  # tick = step for every event logged here
    assert (ev_ent > 0).all()

    thresholds = np.array(cfg.PROGRESSION_EXP_THRESHOLD)[:10]

    def level_of(exp):
        return int((exp >= thresholds).sum())

    def slot_of(type_id):
        return {2: 0, 3: 1, 4: 2}.get(type_id, 3 if type_id <= 12 else 4)

    def attack_stat(type_id, level, style):
        if type_id == 5 + style:  # weapon of the style
            return 5 + 5 * level
        if type_id == 13 + style:  # ammunition of the style
            return min(5 + 10 * level, 100)
        return 0

    def defense_stat(type_id, level):
        if type_id in (2, 3, 4):
            return 3 * level
        if 8 <= type_id <= 12:
            return 15
        return 0

    # Replays every step from the recorded arrays only (see the docstring).
    by_step = {s: events[ev_step == s] for s in range(1, T + 1)}
    stats = dict(hits=0, kills=0, mutual=0, mutual_killed=0, mutual_both=0, fire=0, emptied=0)
    stats.update(rej_self=0, rej_range=0, rej_immune=0, rej_dead_target=0, rej_dead_attacker=0)
    stats.update(first_step_hits=0, starved=0, immune_checked=0)
    mutual_examples = []
    kills_in_log = []
    for t in range(T):
        s = t + 1
        ev = by_step[s]
        prev = entity0 if t == 0 else entity[t - 1]
        prev_inv = inv0 if t == 0 else obs_inventory[t - 1]
        after = entity[t]
        present = [a for a in range(1, n + 1) if obs_present[t, a - 1]]
        health, gold, exp = {}, {}, {}
        equipped, quantity = {}, {}
        for a in present:
            p = prev[a - 1].astype(np.int64)
            h = p[E_HEALTH]
            if p[E_FOOD] > 50 and p[E_WATER] > 50:
                h = min(h + 10, 100)
            h -= 10 * (p[E_FOOD] == 0) + 10 * (p[E_WATER] == 0)
            h = max(h, 0)
            mine = ev[ev[:, 1] == a]
            for r in mine[(mine[:, 2] == CONSUME_ITEM) & (mine[:, 3] == POTION)]:
                assert h > 0
                h = min(h + 50 + 5 * r[4], 100)
            health[a], gold[a] = h, p[E_GOLD]
            exp[a] = [p[c] for c in COMBAT_EXP]
            # equipment at the attack phase: the previous inventory, then this step's Use
            inv = prev_inv[a - 1]
            eq = {int(r[I_ID]): (int(r[I_TYPE]), int(r[I_LEVEL])) for r in inv if r[I_EQUIPPED]}
            use = actions[t, a - 1, 4]
            if use != NOOP and inv[use, I_ID] != 0:
                iid, typ = int(inv[use, I_ID]), int(inv[use, I_TYPE])
                equip = mine[(mine[:, 2] == EQUIP_ITEM) & (mine[:, 7] == iid)]
                in_combat = p[E_COMBAT_TICK] != 0 and t - p[E_COMBAT_TICK] < 3
                if len(equip):
                    eq = {k: v for k, v in eq.items() if slot_of(v[0]) != slot_of(typ)}
                    eq[iid] = (typ, int(inv[use, I_LEVEL]))
                elif iid in eq and h > 0 and not in_combat:
                    del eq[iid]
            equipped[a] = eq
            # ammunition quantities: + this step's harvests merged into a held stack
            for r in inv[(inv[:, I_ID] != 0) & (inv[:, I_TYPE] >= 13) & (inv[:, I_TYPE] <= 15)]:
                got = mine[(mine[:, 2] == HARVEST_ITEM) & (mine[:, 3] == r[I_TYPE])]
                got = got[got[:, 4] == r[I_LEVEL]]
                quantity[int(r[I_ID])] = int(r[I_QUANTITY]) + len(got)
        if t == 0:
            assert not (ev[:, 2] == EQUIP_ITEM).any()
        starved = {a for a in present if health[a] <= 0}
        stats["starved"] += len(starved)
        # the attacks, in dict order (= increasing id)
        predicted = []
        last_hit = {}  # target -> (attacker, damage) of its latest hit in this step
        fought = set()  # attackers and targets of the executed attacks
        sent_at = {}
        for a in present:
            style, target = int(actions[t, a - 1, 1]), int(actions[t, a - 1, 2])
            if target == 0:
                continue
            sent_at[a] = target
            if health[a] <= 0:
                stats["rej_dead_attacker"] += 1
                continue
            if target == a:
                stats["rej_self"] += 1
                continue
            if health.get(target, 0) <= 0:
                stats["rej_dead_target"] += 1
                continue
            pa, pt = prev[a - 1].astype(np.int64), prev[target - 1].astype(np.int64)
            if max(abs(pa[E_ROW] - pt[E_ROW]), abs(pa[E_COL] - pt[E_COL])) > REACH:
                stats["rej_range"] += 1
                continue
            if after[target - 1, E_TIME] < IMMUNITY:  # time_alive at execution (= s)
                assert s < IMMUNITY
                stats["rej_immune"] += 1
                continue
            # offense: the attacker's style level and the items it has equipped now
            offense = 10 + 5 * pa[LEVEL_COLS[style]]
            offense += sum(attack_stat(ty, lv, style) for ty, lv in equipped[a].values())
            ammo = [k for k, (ty, _) in equipped[a].items() if ty >= 13]
            if ammo and attack_stat(*equipped[a][ammo[0]], style) > 0:
                quantity[ammo[0]] -= 1
                ty, lv = equipped[a][ammo[0]]
                predicted.append((FIRE_AMMO, a, ty, lv, quantity[ammo[0]], 0, ammo[0]))
                if quantity[ammo[0]] == 0:
                    del equipped[a][ammo[0]]
            # defense: the target's player level now (harvest levels after the update, combat
            # levels from its exp now) and its equipped items
            tex = exp[target]
            levels = [level_of(x) for x in tex] + [after[target - 1, c] for c in LEVEL_COLS[3:]]
            defense = 5 * max(max(levels), 1)
            defense += sum(defense_stat(ty, lv) for ty, lv in equipped[target].values())
            mult = 1.0
            if max(tex) != min(tex) and (style, int(np.argmax(tex))) in BEATS:
                mult = 1.5
            damage = max(0, int(max(mult * offense - defense, 0.25 * offense)))
            predicted.append((SCORE_HIT, a, style + 1, 0, damage, 0, target))
            exp[a][style] += 6
            health[target] = max(health[target] - damage, 0)
            last_hit[target] = (a, damage)
            fought.update((a, target))
            stats["hits"] += 1
            if s == IMMUNITY:
                stats["first_step_hits"] += 1
            if health[target] <= 0:
                victim_level = max(level_of(x) for x in tex)
                predicted.append((PLAYER_KILL, a, 0, victim_level, 0, 0, target))
                if gold[target] > 0:
                    predicted.append((LOOT_GOLD, a, 0, 0, 0, gold[target], target))
                    gold[a] += gold[target]
                    gold[target] = 0
                kills_in_log.append((s, a, target))
        logged = ev[np.isin(ev[:, 2], (SCORE_HIT, FIRE_AMMO, PLAYER_KILL, LOOT_GOLD))]
        logged = [tuple(int(x) for x in r[[2, 1, 3, 4, 5, 6, 7]]) for r in logged]
        # FIRE_AMMO's level/target: the item's; SCORE_HIT, PLAYER_KILL, LOOT_GOLD as predicted
        assert logged == predicted, (s, logged, predicted)
        for a in present:
            r = after[a - 1]
            assert r[E_HEALTH] == health[a], (s, a, r[E_HEALTH], health[a])
            assert r[E_GOLD] == gold[a], (s, a)
            assert [r[c] for c in COMBAT_EXP] == exp[a], (s, a)
            assert [r[c] for c in LEVEL_COLS[:3]] == [level_of(x) for x in exp[a]], (s, a)
            # damage, attacker_id (SPEC 5.6) and latest_combat_tick (5.4)
            p = prev[a - 1]
            kept = p[E_ATTACKER] if p[E_DAMAGE] != 0 else 0
            attacker, damage = last_hit.get(a, (kept, 0))
            assert (r[E_DAMAGE], r[E_ATTACKER]) == (damage, attacker), (s, a)
            assert r[E_COMBAT_TICK] == (s if a in fought else p[E_COMBAT_TICK]), (s, a)
            if alive[t, a - 1]:  # the equipped items now = at the attack phase, less emptied ammo
                inv = obs_inventory[t, a - 1]
                now = {int(x[I_ID]) for x in inv if x[I_EQUIPPED]}
                assert now == set(equipped[a]), (s, a, now, equipped[a])
        # mutual fights: a < b sent an Attack at each other and a's hit landed (a acts first)
        hit_pairs = {(p[1], p[6]) for p in predicted if p[0] == SCORE_HIT}
        killed = {v for s_, _, v in kills_in_log if s_ == s}
        for a, b in sent_at.items():
            if a < b and sent_at.get(b) == a and (a, b) in hit_pairs:
                stats["mutual"] += 1
                if (b, a) in hit_pairs:
                    stats["mutual_both"] += 1
                elif b in killed:
                    stats["mutual_killed"] += 1
                    mutual_examples.append((s, a, b))
        stats["fire"] += sum(p[0] == FIRE_AMMO for p in predicted)
        stats["emptied"] += sum(p[0] == FIRE_AMMO and p[4] == 0 for p in predicted)
    stats["kills"] = len(kills_in_log)

    # Loot: every victim's items went to its killer (LOOT_ITEM) or merged into its stacks.
    assert [(s, k, v) for s, v, k, *_ in deaths_log] == kills_in_log
    overflow = merged = looted = 0
    loot_rows = events[code == LOOT_ITEM]
    for s, victim, killer, items, count, stacks in deaths_log:
        got = loot_rows[(loot_rows[:, 0] == s) & (loot_rows[:, 1] == killer)]
        mergeable = [it for it in items if (it[1], it[2]) in stacks]
        others = [it for it in items if (it[1], it[2]) not in stacks]
        free = cfg.ITEM_INVENTORY_CAPACITY - count
        if len(others) > free:
            overflow += len(others) - free
        else:
            assert sorted(got[:, 7].tolist()) == sorted(it[0] for it in others), (s, victim)
            for it in others:
                r = got[got[:, 7] == it[0]][0]
                assert (r[3], r[4], r[5]) == it[1:], (s, victim, it)
        merged += len(mergeable)
        looted += len(got)
    # No recycled id was handed out: the allocator's head stayed in the fresh range.
    assert (item_max_id == item_max_id0).all()
    for f in free_lists:
        fresh = item_max_id0 - f[0]
        assert f[:fresh] == list(range(f[0], item_max_id0)), f[:5]
    starved_deaths = int(died.sum()) - len(kills_in_log)
    assert starved_deaths == stats["starved"]

    # Spawn immunity: no hit before step 20; hits in step 20 (the mask lags by one tick).
    hits = events[code == SCORE_HIT]
    assert hits[:, 0].min() == IMMUNITY
    early = (obs_attack_target[IMMUNITY - 2, :, :TARGET_NOOP] == 1) & (
        obs_entity_ids[IMMUNITY - 2] > 0
    )
    assert not early.any()  # the mask after step 19 still forbids every player

    # ---- summary -------------------------------------------------------------------------------
    def histogram(values, name=int):
        vals, counts = np.unique(values, return_counts=True)
        return {name(int(v)): int(c) for v, c in zip(vals, counts, strict=True)}

    print(f"seed {SEED}, item seed {ITEM_SEED}, action seed {ACTION_SEED}, {T} steps, {n} agents")
    print(
        f"{given} items given: "
        + str(histogram(inv0[..., I_TYPE][inv0[..., I_ID] != 0], ITEM_NAMES.get))
        + f"; next item id {next_item_id0}, max_id {item_max_id0}"
    )
    print("events per code:", histogram(code))
    sent = actions[..., 2] > 0
    print(
        f"Attacks sent {int(sent.sum())} (outside the mask: {mask_zero_hits}); hits {stats['hits']}"
        f" (in step 20: {stats['first_step_hits']}); rejected: self {stats['rej_self']}, out of "
        f"range {stats['rej_range']}, spawn immune {stats['rej_immune']}, target dead "
        f"{stats['rej_dead_target']}, attacker dead {stats['rej_dead_attacker']}"
    )
    print("SCORE_HIT per style:", histogram(hits[:, 3]), "damage:", histogram(hits[:, 5]))
    print(
        f"kills {stats['kills']}; mutual fights {stats['mutual']} (both hit {stats['mutual_both']},"
        f" the first killed the second {stats['mutual_killed']}: (step, a, b) "
        f"{mutual_examples[:5]})"
    )
    print(f"FIRE_AMMO {stats['fire']}, stacks emptied {stats['emptied']}")
    print(
        f"LOOT_GOLD {int((code == LOOT_GOLD).sum())} "
        f"(gold {int(events[code == LOOT_GOLD, 6].sum())})"
        f", LOOT_ITEM {looted}, merged into the killer's stacks {merged}, overflowed {overflow}"
    )
    print(
        f"deaths {int(died.sum())}: killed {len(kills_in_log)}, starved {starved_deaths}; "
        f"alive at the end {int(alive[-1].sum())}"
    )
    print("EQUIP_ITEM per item:", histogram(events[code == EQUIP_ITEM, 3], ITEM_NAMES.get))
    print("CONSUME_ITEM per item:", histogram(events[code == CONSUME_ITEM, 3], ITEM_NAMES.get))
    print("LEVEL_UP per skill:", histogram(events[code == LEVEL_UP, 3]))
    print(f"max entity rows in one obs {int((obs_entity_ids != 0).sum(-1).max())}")
    print(f"item max_id at the end {item_max_id[-1]}, longest free list {width}")
    print(f"events {len(events)}")
    # The trajectory exercises what it is for.
    assert overflow == 0, "a loot overflowed: the inventories depend on the loot shuffle"
    assert stats["kills"] >= 5 and stats["mutual_killed"] >= 1 and stats["emptied"] >= 1
    assert looted >= 3 and (code == LOOT_GOLD).sum() >= 5 and stats["fire"] >= 20
    assert stats["rej_self"] and stats["rej_range"] and stats["rej_immune"]

    np.savez_compressed(
        os.path.join(OUT, "reference_combat_trajectory.npz"),
        seed=np.int64(SEED),
        item_seed=np.int64(ITEM_SEED),
        action_seed=np.int64(ACTION_SEED),
        steps=np.int64(STEPS),
        horizon=np.int64(cfg.HORIZON),
        tiles=tiles,
        row0=row0,
        col0=col0,
        entity0=entity0,
        inv0=inv0,
        next_item_id0=np.int64(next_item_id0),
        item_free0=item_free0,
        item_max_id0=np.int64(item_max_id0),
        obs0_entity_ids=obs0_entity_ids,
        obs0_attack_target=obs0_attack_target,
        actions=actions,
        entity=entity,
        alive=alive,
        rewards=rewards,
        terminated=terminated,
        inv_order=inv_order,
        item_free=item_free,
        item_max_id=item_max_id,
        obs_present=obs_present,
        obs_inventory=obs_inventory,
        obs_entity_ids=obs_entity_ids,
        obs_attack_target=obs_attack_target,
        obs_entity_self=obs_entity_self,
        events=events,
    )

    os.chdir(OUT)
    tmp.cleanup()
    size = os.path.getsize(os.path.join(OUT, "reference_combat_trajectory.npz"))
    print(f"npz size {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
