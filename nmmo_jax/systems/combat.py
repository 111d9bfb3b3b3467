"""Combat: the Attack action (priority 50), its mask, death by a hit and loot (SPEC 3.4, 5,
6.5, 12.3).

The Attack head is two columns: `attack_style` (0 melee, 1 range, 2 mage) and `attack_target`,
an entity slot (player id i is slot i - 1, NPCs follow the players; `obs.entities` row s + 1) or
E = n_entities, the no-op. A slot is cheap to mask (one distance test per pair) and to sample,
and a policy reads the target's row from the entity table it already embeds.

Order. The reference executes the attacks one entity after another: players in id order, then
NPCs in spawn order (`EntityTable.order`). An attack runs only if its attacker and its target are
still alive at its turn, and the damage it deals reads the target's combat exp and level at that
moment (an earlier attack of the target itself may have raised them). `attack` reproduces that
order exactly without a loop over entities: the attacks that execute are the fixed point of
"executes iff nobody killed the attacker or the target before its turn", found by iterating
from "every valid attack executes". Each round fixes at least the next attack in order, so the
loop ends; it takes two rounds unless a kill cancels an attack (then three, rarely more).
Deaths then hand over gold and items in the order they happened (a killer killed later in the
tick passes its loot on), in a loop over this tick's kills.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax import items as it
from nmmo_jax import ops, skills
from nmmo_jax.config import Config
from nmmo_jax.events import GOLD_KEYS
from nmmo_jax.state import WorldState

MELEE, RANGE, MAGE = range(3)
N_STYLES = 3
STYLE_SKILLS = skills.COMBAT_SKILLS  # melee, range, mage
AMMO_OF_STYLE = (it.WHETSTONE, it.ARROW, it.RUNES)
STREAM_LOOT = 13  # ops.uniforms stream of the loot shuffles
GOLD_LOOT = GOLD_KEYS.index("LOOT_GOLD")


def n_targets(cfg: Config) -> int:
    """attack_target choices: every entity slot, then the no-op."""
    return cfg.n_entities + 1


def reach(cfg: Config) -> tuple[int, int, int]:
    return cfg.combat_melee_reach, cfg.combat_range_reach, cfg.combat_mage_reach


def chebyshev(ent, i: jax.Array, j: jax.Array) -> jax.Array:
    return jnp.maximum(jnp.abs(ent.row[i] - ent.row[j]), jnp.abs(ent.col[i] - ent.col[j]))


def attack_mask(state: WorldState, cfg: Config) -> tuple[jax.Array, jax.Array]:
    """(style bool [N, 3], target bool [N, E + 1]) from the state after a step (SPEC 12.3).

    A target slot is valid when it holds a live entity other than the agent, with npc_type >= 0,
    within reach, and (players) with time_alive >= COMBAT_SPAWN_IMMUNITY in this state. That is
    the reference's Cython mask, which reads the target's observed time_alive: one tick behind
    the check at execution, so in step 20 the mask still forbids what the engine accepts (SPEC
    18.2). The no-op is valid iff no slot is. Dead agents: only the no-op; styles all allowed.
    """
    n, size = cfg.player_n, cfg.n_entities
    ent = state.entities
    style = jnp.ones((n, N_STYLES), bool)
    if not cfg.combat_system_enabled:
        target = jnp.zeros((n, size), bool)
    else:
        dist = jnp.maximum(
            jnp.abs(ent.row[:n, None] - ent.row[None, :]),
            jnp.abs(ent.col[:n, None] - ent.col[None, :]),
        )
        grown = (jnp.arange(size) >= n) | (ent.time_alive >= cfg.combat_spawn_immunity)
        (targetable,) = ops.materialize(ent.alive & (ent.npc_type >= 0) & grown, token=state.tick)
        target = (
            ent.alive[:n, None]
            & targetable[None, :]
            & (dist <= max(reach(cfg)))
            & (jnp.arange(n)[:, None] != jnp.arange(size)[None, :])
        )
    noop = ~target.any(axis=-1, keepdims=True)
    return style, jnp.concatenate([target, noop], axis=-1)


def _dominant(exp: jax.Array) -> jax.Array:
    """int32 [...]: the combat style with the most exp (first on ties), -1 if all are equal."""
    # the first maximum by one max over (exp, reversed index) packed keys
    packed = exp * 4 + (3 - jnp.arange(3, dtype=exp.dtype))
    best = 3 - (packed.max(axis=-1) & 3)
    return jnp.where(exp.max(axis=-1) == exp.min(axis=-1), -1, best)


def _offense_defense(state: WorldState, cfg: Config):
    """(offense [E, 3], defense [E, 3], fires [E, 3]): per entity and style, what it hits with,
    what it resists with (without its skill defense, which depends on its level), and whether
    its equipped ammunition is fired by an attack of that style (SPEC 5.3)."""
    n, size = cfg.player_n, cfg.n_entities
    ent = state.entities
    is_npc = jnp.arange(size) >= n
    progression = cfg.progression_system_enabled
    base = (
        (
            cfg.progression_melee_base_damage,
            cfg.progression_range_base_damage,
            cfg.progression_mage_base_damage,
        )
        if progression
        else (cfg.combat_melee_damage, cfg.combat_range_damage, cfg.combat_mage_damage)
    )
    per_level = (
        cfg.progression_melee_level_damage,
        cfg.progression_range_level_damage,
        cfg.progression_mage_level_damage,
    )
    offense, defense, fires = [], [], []
    if cfg.item_system_enabled and cfg.equipment_system_enabled:
        slots = state.inventory.slots
        totals = it.equipment_totals(slots)
        ammo = it.occupied(slots) & (slots[..., it.COL["equipped"]] > 0)
        ammo &= it.is_ammunition(it.column(slots, "type_id"))
    pad = jnp.zeros((size - n,), jnp.int32)
    for s, name in enumerate(STYLE_SKILLS):
        skill = jnp.full((size,), base[s], jnp.int32)
        if progression:
            skill = skill + jnp.where(is_npc, 0, per_level[s] * getattr(ent, f"{name}_level"))
        if cfg.item_system_enabled and cfg.equipment_system_enabled:
            skill = jnp.where(is_npc, 0, skill)
            equip_off = jnp.concatenate([totals[f"{name}_attack"], pad])
            equip_def = jnp.concatenate([totals[f"{name}_defense"], pad])
            equip_off = jnp.where(is_npc, ent.npc_damage, equip_off)
            equip_def = jnp.where(is_npc, ent.npc_defense, equip_def)
            stat = jnp.where(ammo, it.column(slots, f"{name}_attack"), 0).max(axis=-1)
            fires.append(jnp.concatenate([stat > 0, pad > 0]))
        else:
            equip_off = equip_def = jnp.zeros((size,), jnp.int32)
            fires.append(jnp.zeros((size,), bool))
        offense.append(skill + equip_off)
        defense.append(equip_def)
    return jnp.stack(offense, -1), jnp.stack(defense, -1), jnp.stack(fires, -1)


def _skill_defense(level: jax.Array, is_player: jax.Array, cfg: Config) -> jax.Array:
    if not cfg.progression_system_enabled:
        return jnp.zeros_like(level)
    return jnp.where(
        is_player, cfg.progression_base_defense + cfg.progression_level_defense * level, 0
    )


def attack(
    state: WorldState,
    key: jax.Array,
    wants: jax.Array,
    target: jax.Array,
    style: jax.Array,
    can_act: jax.Array,
    cfg: Config,
) -> WorldState:
    """Executes this tick's attacks of every entity, in the reference's order (module docstring).

    `wants`, `target` (entity slot), `style` (0..2), `can_act` (alive after its update and not
    frozen): [E], players' from their actions, NPCs' from their decisions. An attack executes if
    the attacker and the target are alive at its turn, the target is another entity within reach
    (Chebyshev, positions of the start of the tick), and, player on player, the target's
    time_alive >= COMBAT_SPAWN_IMMUNITY. Its effects (SPEC 5.4): SCORE_HIT (players), 6 XP in
    the style, one unit of matching ammunition fired (FIRE_AMMO), the damage, `attacker_id`,
    `damage` (the last hit of the tick) and `latest_combat_tick` = tick + 1 for both. Immortal
    targets take no damage (and keep `damage` 0). Kills: PLAYER_KILL, then loot (`_loot`).
    """
    n, size = cfg.player_n, cfg.n_entities
    ent = state.entities
    slot = jnp.arange(size)
    is_player = slot < n
    # (materialized: the decoding of the targets is read by [E, E] orderings below)
    t, s = ops.materialize(
        jnp.clip(target, 0, size - 1), jnp.clip(style, 0, N_STYLES - 1), token=state.tick
    )
    reach_of = jnp.asarray(reach(cfg), jnp.int32)[s]
    t_player = t < n
    immune = is_player & t_player & (ent.time_alive[t] < cfg.combat_spawn_immunity)
    valid = (target >= 0) & (target < size) & (style >= 0) & (style < N_STYLES)
    base = (
        wants
        & valid
        & can_act
        & (t != slot)
        & ent.alive[t]
        & (ent.health[t] > 0)
        & (chebyshev(ent, slot, t) <= reach_of)
        & ~immune
    )
    if not cfg.combat_system_enabled:
        base &= ~is_player

    offense_table, defense_table, fires_table = _offense_defense(state, cfg)
    offense = jnp.take_along_axis(offense_table, s[:, None], axis=1)[:, 0]
    equip_defense = defense_table[t, s]

    # The target's exp, level and player level before and after its own attack of this tick.
    exp = jnp.stack([getattr(ent, f"{name}_exp") for name in STYLE_SKILLS], axis=-1)
    level = jnp.stack([getattr(ent, f"{name}_level") for name in STYLE_SKILLS], axis=-1)
    own = jax.nn.one_hot(s, N_STYLES, dtype=jnp.int32) * is_player[:, None]
    xp = cfg.progression_combat_xp_scale if cfg.progression_system_enabled else 0
    exp_post = exp + xp * own
    level_post = jnp.where(own > 0, jnp.maximum(level, skills.level_at_exp(exp_post, cfg)), level)
    player_level = skills.player_level(ent, size)
    player_level_post = jnp.maximum(player_level, level_post.max(axis=-1))

    def damage(dominant, p_level):
        beats = dominant[t] == (s + 1) % N_STYLES
        mult = jnp.where(beats, jnp.float32(cfg.combat_weakness_multiplier), jnp.float32(1.0))
        defense = _skill_defense(p_level[t], t_player, cfg) + equip_defense
        off = offense.astype(jnp.float32)
        raw = jnp.maximum(
            mult * off - defense.astype(jnp.float32),
            jnp.float32(cfg.combat_minimum_damage_proportion) * off,
        )
        return jnp.maximum(jnp.floor(raw), 0).astype(jnp.int32)

    damage_pre = damage(_dominant(exp), player_level)
    damage_post = damage(_dominant(exp_post), player_level_post)
    order = ent.order
    # the target attacked before this attacker, so its own XP of this tick counts
    after_target = t_player & (order[t] < order)
    immortal = t_player & cfg.immortal
    health0 = ent.health[t]
    no_death = jnp.iinfo(jnp.int32).max

    def resolve(executed):
        dealt = jnp.where(after_target & executed[t], damage_post, damage_pre)
        effective = jnp.where(immortal | ~executed, 0, dealt)
        # the damage of the attackers b that hit the same target before a: the [E, E] test
        # fused into the sum (a float32 matrix-vector product over a materialized [E, E]
        # matrix cost ~3 % of the step on XLA:CPU)
        earlier_same = (t[:, None] == t[None, :]) & (order[None, :] < order[:, None])
        taken = jnp.sum(jnp.where(earlier_same, effective[None, :], 0), axis=1)
        before = health0 - taken
        kills = executed & (before > 0) & (before - effective <= 0) & ~immortal
        death = (
            jnp.full((size,), no_death, jnp.int32)
            .at[jnp.where(kills, t, size)]
            .min(order, mode="drop")
        )
        new = base & (before > 0) & (death > order)
        return new, (dealt, effective, kills, death)

    # Round 1 assumes every valid attack executes; most ticks it is the answer (nothing was
    # cancelled), and the loop makes no trip.
    executed, (dealt, effective, kills, death) = ops.fixed_point(resolve, base, size)

    # --- effects on the targets: health, the last hit's damage and attacker, combat ticks
    tick_after = state.tick + 1
    hit_t = jnp.where(executed, t, size)
    health = jnp.maximum(
        ent.health - jnp.zeros((size,), jnp.int32).at[hit_t].add(effective, mode="drop"), 0
    )
    last = jnp.full((size,), -1, jnp.int32).at[hit_t].max(order, mode="drop")
    is_last = executed & (order == last[t])
    last_t = jnp.where(is_last, t, size)
    attacker_id = ent.attacker_id.at[last_t].set(ent.id, mode="drop")
    damage_col = ent.damage.at[jnp.where(is_last & ~immortal, t, size)].set(dealt, mode="drop")
    combat_tick = jnp.where(executed, tick_after, ent.latest_combat_tick)
    combat_tick = combat_tick.at[hit_t].set(tick_after, mode="drop")
    ent = ent.replace(
        health=health, attacker_id=attacker_id, damage=damage_col, latest_combat_tick=combat_tick
    )

    # --- the attackers: XP (players), SCORE_HIT, ammunition
    events = state.events
    p_exec = executed[:n]
    for k, name in enumerate(STYLE_SKILLS):
        ent, leveled, new_level = skills.add_xp(ent, name, xp, p_exec & (s[:n] == k), cfg)
        events = events.record_level_up(skills.SKILL_ID[name], leveled, new_level)
    events = events.record("SCORE_HIT", p_exec)
    events = events.replace(hits=events.hits.at[jnp.arange(n), s[:n]].add(p_exec.astype(jnp.int32)))
    state = state.replace(entities=ent, events=events)
    fires = p_exec & fires_table[:n][jnp.arange(n), s[:n]]
    state = _fire_ammunition(state, fires, cfg)

    # --- kills, in the order they happened
    killed = death < no_death
    state = _record_kills(state, kills, t, cfg)
    return _loot(state, key, killed, death, kills, t, cfg)


def _fire_ammunition(state: WorldState, fires: jax.Array, cfg: Config) -> WorldState:
    """One unit of each firing player's equipped ammunition is used; an emptied stack is
    destroyed (its id freed); FIRE_AMMO carries the quantity left (SPEC 5.3, 14.6)."""
    if not (cfg.item_system_enabled and cfg.equipment_system_enabled):
        return state
    inv = state.inventory
    slots = inv.slots
    type_id = it.column(slots, "type_id")
    ammo = (slots[..., it.COL["equipped"]] > 0) & it.is_ammunition(type_id)
    k = ops.first_true(ammo)
    quantity = it.pick(it.column(slots, "quantity"), k) - 1
    item_type, level = it.pick(type_id, k), it.pick(it.column(slots, "level"), k)
    item_id = it.pick(it.column(slots, "id"), k)
    emptied = fires & (quantity <= 0)
    slots = it.add_field(slots, "quantity", k, -1, fires)
    slots = it.clear(slots, k, emptied)
    ids = it.release(inv.ids, item_id, emptied)
    events = state.events.record_item("FIRE_AMMO", fires, item_type, level, quantity)
    return state.replace(inventory=inv.replace(slots=slots, ids=ids), events=events)


def _record_kills(state: WorldState, kills, t, cfg: Config) -> WorldState:
    """PLAYER_KILL for each killer (players and NPCs), keyed by the victim's kind and attack
    level (DefeatEntity reads them)."""
    ent = state.entities
    size = cfg.n_entities
    victim_npc = (t >= cfg.player_n).astype(jnp.int32)
    levels = state.events.kills.shape[-1]
    victim_level = jnp.clip(skills.attack_level(ent, size)[t], 0, levels - 1)
    killer = jnp.where(kills, jnp.arange(size), size)
    events = state.events.replace(
        kills=state.events.kills.at[killer, victim_npc, victim_level].add(1, mode="drop")
    )
    return state.replace(events=events.record("PLAYER_KILL", kills))


def _loot(state: WorldState, key, killed, death, kills, t, cfg: Config) -> WorldState:
    """Gold and items of this tick's victims go to their killers, victim by victim in the order
    of death (SPEC 3.4, 6.5). A player killed by a player: its gold (LOOT_GOLD) and its items in
    a random order, unequipped and unlisted, each merged into a matching ammunition stack,
    received (LOOT_ITEM) while there is space, else destroyed. Killed by an NPC: the NPC takes
    the gold, the items are destroyed. An NPC killed by a player: its gold, then its two drops
    (armour and tool at its attack level) while there is space.

    The loop carries only what a later victim's loot reads (gold, inventories, the id
    allocator); the events of each trip go to a small log, added to the event log after it."""
    n, size = cfg.player_n, cfg.n_entities
    capacity = cfg.item_inventory_capacity
    killer_of = (
        jnp.zeros((size,), jnp.int32)
        .at[jnp.where(kills, t, size)]
        .set(jnp.arange(size, dtype=jnp.int32), mode="drop")
    )
    order_of_death = jnp.where(killed, death, jnp.iinfo(jnp.int32).max)
    n_killed = killed.sum()
    u = ops.uniforms(key, (size, max(capacity, 1)), stream=STREAM_LOOT)
    inv = state.inventory
    items_on = cfg.item_system_enabled
    log = dict(
        looter=jnp.full((size,), size, jnp.int32),
        gold=jnp.zeros((size,), jnp.int32),
        # the items a player killer received, by killer: an entity attacks once per tick, so
        # it kills at most once (half the rows of a log by victim, for the LOOT_ITEM scatter)
        rows=jnp.zeros((n, capacity, 3), jnp.int32),
        received=jnp.zeros((n, capacity), bool),
        drops=jnp.zeros((n, 2, 2), jnp.int32),
        dropped=jnp.zeros((n, 2), bool),
    )

    def body(carry):
        i, gold, slots, received, ids, done, log = carry
        v = jnp.argmin(jnp.where(done, jnp.iinfo(jnp.int32).max, order_of_death))
        v = v.astype(jnp.int32)
        k = killer_of[v]
        v_player, k_player = v < n, k < n
        # gold: a player's goes to any killer (the reference needs the exchange system for
        # it); an NPC's to its (player) killer
        amount = gold[v] * jnp.where(v_player, cfg.exchange_system_enabled, True)
        gold = gold.at[k].add(amount).at[v].add(-amount)
        log = dict(log, looter=log["looter"].at[i].set(jnp.where(amount > 0, k, size)))
        log["gold"] = log["gold"].at[i].set(amount)
        if items_on:
            vv, kk = jnp.minimum(v, n - 1), jnp.minimum(k, n - 1)
            victim, mine = slots[vv], slots[kk]
            looted, gone, n_gone, got, rows = _loot_items(
                victim, mine, received[kk], k_player, kk + 1, u[v], cfg
            )
            ids = it.release(ids, gone, (jnp.arange(gone.shape[0]) < n_gone) & v_player)
            dropped, ids, types, level, got_drop = _drop_items(
                state.entities, v, kk, k_player & ~v_player, mine, received[kk], ids, cfg
            )
            mine = jnp.where(v_player, looted, dropped)
            slots = slots.at[kk].set(jnp.where(k_player, mine, slots[kk]))
            slots = slots.at[vv].set(jnp.where(v_player, jnp.zeros_like(victim), slots[vv]))
            got, got_drop = got & v_player, got_drop & ~v_player
            count = got.sum(dtype=jnp.int32) + got_drop.sum(dtype=jnp.int32)
            received = received.at[kk].add(count)
            fields = jnp.asarray([it.COL["type_id"], it.COL["level"], it.COL["quantity"]])
            at = jnp.where(k_player, k, n)  # NPC killers receive nothing
            log["rows"] = log["rows"].at[at].set(rows[:, fields].astype(jnp.int32), mode="drop")
            log["received"] = log["received"].at[at].set(got, mode="drop")
            drops = jnp.stack([types, level], axis=-1)
            log["drops"] = log["drops"].at[at].set(drops, mode="drop")
            log["dropped"] = log["dropped"].at[at].set(got_drop, mode="drop")
        return i + 1, gold, slots, received, ids, done.at[v].set(True), log

    carry = (jnp.int32(0), state.entities.gold, inv.slots, inv.received, inv.ids, ~killed, log)
    _, gold, slots, received, ids, _, log = jax.lax.while_loop(
        lambda c: c[0] < n_killed, body, carry
    )
    looters = jnp.zeros((size,), jnp.int32).at[log["looter"]].add(1, mode="drop")
    events = state.events
    events = events.replace(
        gold=events.gold.at[log["looter"], GOLD_LOOT].add(log["gold"], mode="drop")
    ).record("LOOT_GOLD", looters)
    if items_on:
        players = jnp.arange(n, dtype=jnp.int32)
        player = jnp.broadcast_to(players[:, None], (n, capacity + 2)).reshape(-1)
        types = jnp.concatenate([log["rows"][..., 0], log["drops"][..., 0]], axis=1)
        levels = jnp.concatenate([log["rows"][..., 1], log["drops"][..., 1]], axis=1)
        numbers = jnp.concatenate([log["rows"][..., 2], jnp.ones((n, 2), jnp.int32)], axis=1)
        got = jnp.concatenate([log["received"], log["dropped"]], axis=1)
        events = events.record_items(
            "LOOT_ITEM",
            player,
            types.reshape(-1),
            levels.reshape(-1),
            numbers.reshape(-1),
            got.reshape(-1),
            counts=(players, got.sum(axis=1, dtype=jnp.int32)),
        )
        state = state.replace(inventory=inv.replace(slots=slots, received=received, ids=ids))
    return state.replace(entities=state.entities.replace(gold=gold), events=events)


def _loot_items(victim, mine, received_so_far, k_player, owner, u, cfg: Config):
    """A player victim's items into the killer's inventory `mine` [C, W] (see _loot): shuffled
    by `u` (killed by an NPC: all destroyed, in the order received). Returns (the killer's new
    slots, the ids freed in order [C] and their number, the items received [C], the victim's
    rows)."""
    capacity = cfg.item_inventory_capacity
    occ = victim[:, it.COL["type_id"]] > 0
    key = jnp.where(k_player, u[:capacity], victim[:, it.COL["acquired"]].astype(jnp.float32))
    key = jnp.where(occ, key, jnp.inf)
    idx = jnp.arange(capacity)
    before = (key[None, :] < key[:, None]) | (
        (key[None, :] == key[:, None]) & (idx[None, :] < idx[:, None])
    )
    v_type = victim[:, it.COL["type_id"]].astype(jnp.int32)
    v_level = victim[:, it.COL["level"]].astype(jnp.int32)
    k_type = mine[:, it.COL["type_id"]].astype(jnp.int32)
    k_level = mine[:, it.COL["level"]].astype(jnp.int32)
    is_stack = it.is_ammunition(v_type)
    match = (v_type[:, None] == k_type[None, :]) & (v_level[:, None] == k_level[None, :])
    match &= (k_type > 0)[None, :] & is_stack[:, None]
    merge = occ & k_player & match.any(axis=-1)
    stack_at = jnp.argmax(match, axis=-1)
    whole = occ & k_player & ~merge
    rank_whole = (before & whole[None, :]).sum(axis=-1)
    free = k_type == 0
    received = whole & (rank_whole < free.sum())
    destroyed = occ & ~merge & ~received
    # the killer's free slots in order; the j-th received item takes the j-th
    free_rank = jnp.where(free, jnp.cumsum(free) - 1, capacity)
    dest = jnp.argmax(free_rank[None, :] == rank_whole[:, None], axis=-1)
    dest = jnp.where(received, dest, capacity)
    rows = victim.at[:, it.COL["owner_id"]].set(owner.astype(victim.dtype))
    rows = rows.at[:, it.COL["equipped"]].set(0).at[:, it.COL["listed_price"]].set(0)
    rows = rows.at[:, it.COL["acquired"]].set((received_so_far + rank_whole).astype(rows.dtype))
    out = mine.at[dest].set(rows, mode="drop")
    merged = (
        jnp.zeros((capacity,), jnp.int32)
        .at[jnp.where(merge, stack_at, capacity)]
        .add(victim[:, it.COL["quantity"]].astype(jnp.int32), mode="drop")
    )
    out = out.at[:, it.COL["quantity"]].add(merged.astype(out.dtype))
    # ids of merged and destroyed items are freed in shuffle order
    gone = merge | destroyed
    gone_rank = (before & gone[None, :]).sum(axis=-1)
    in_order = (
        jnp.zeros((capacity,), jnp.int32)
        .at[jnp.where(gone, gone_rank, capacity)]
        .set(victim[:, it.COL["id"]].astype(jnp.int32), mode="drop")
    )
    return out, in_order, gone.sum(), received, victim


def _drop_items(ent, v, kk, to_player, mine, received_so_far, ids, cfg: Config):
    """An NPC victim's drop table (SPEC 6.5): its armour (Equipment) and tool (Profession) at
    its attack level, made (ids allocated) then received in that order while the player killer
    has space, else destroyed. Returns (the killer's slots, ids, types [2], level, received)."""
    level = skills.attack_level(ent, cfg.n_entities)[v]
    types = jnp.stack([ent.drop_armor[v], ent.drop_tool[v]])
    if not cfg.equipment_system_enabled:
        types = types.at[0].set(0)
    if not cfg.profession_system_enabled:
        types = types.at[1].set(0)
    made = (types > 0) & to_player
    ids, new_ids = it.allocate(ids, made)
    free = mine[:, it.COL["type_id"]] == 0
    room = free.sum() - jnp.cumsum(made) + 1  # space left when each item comes
    received = made & (room > 0)
    ids = it.release(ids, new_ids, made & ~received)
    free_rank = jnp.where(free, jnp.cumsum(free) - 1, mine.shape[0])
    order = jnp.cumsum(received) - 1
    for j in range(2):
        row = it.new_item(types[j], level, cfg, item_id=new_ids[j], owner_id=kk + 1)
        row = row.at[it.COL["acquired"]].set((received_so_far + order[j]).astype(jnp.int16))
        dest = jnp.where(received[j], jnp.argmax(free_rank == order[j]), mine.shape[0])
        mine = mine.at[dest].set(row, mode="drop")
    return mine, ids, types, jnp.stack([level, level]), received
