"""Masks never allow an action that then fails for a reason the mask knows (SPEC 5.5, 7.3, 8, 9,
12.3, 13.1, 13.2).

Each example is one jitted rollout (compiled once for the module) of Config.small with NPCs off,
immortal players (nobody dies, nobody starves) and combat on (so that Attack is exercised: the
attacks of a tick run after every item and market action but Sell, so only Sell can meet an
in-combat status the mask did not see), starting from a reset whose players were given
hypothesis-drawn gold and items (and, in some examples, gathered on one tile so that gifts and
attacks happen at once). Every step each agent picks ONE action (Move, Use, Destroy, Attack,
Give, GiveGold, Sell, Buy or Comm) at random (WEIGHTS) among those its masks allow with a
non-no-op choice, takes a mask-valid choice of that action's heads (Env.sample_actions, the no-op
bit of the chosen heads cleared) and the no-op of every other head, so an agent's own actions
cannot interfere with each other.

After every step, per agent, the chosen action succeeded, by its event or its effect:

* Move: the position moved by the direction; Comm: message == token + 1; Attack: SCORE_HIT (the
  mask reads the target's time_alive of the previous tick and positions are those of the mask:
  attacks run before moves); GiveGold: GIVE_GOLD (the giver's gold can only grow before its turn);
  Use: CONSUME_ITEM for a consumable, EQUIP_ITEM for equipment that was off, the item's
  `equipped` flag 1 -> 0 for equipment that was on (levels only grow; Use runs first).
* where the mask cannot know everything, a failure has one of the reasons it cannot know:
  Destroy of a listed item: another agent bought it first (Buy 20 runs before Destroy 40);
  Sell: the seller was hit by an attack earlier in the tick (Attack 50 runs before Sell 70,
  SPEC 5.5); Give: the receiver had no free slot at the giver's turn, which needs its free slots
  at the start of the step <= what it harvested (the entity update, SPEC 3.3), bought
  and received from earlier givers (id order) in that step; Buy: the listing was taken by another
  buyer this tick, or the harvest of the entity update filled the buyer's free slots.

And after every reset and step the masks are well formed: every no-op is allowed (Attack.Target's
iff no target is); no row beyond the agent's items (Inventory heads); no row beyond the listed
items, owned by the agent or priced above its gold (Buy); no entity slot that is not another live
player in view (Give and GiveGold targets; within reach for Attack); no amount above the gold.
"""

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nmmo_jax as nj
from nmmo_jax import items as it
from nmmo_jax import material as m
from nmmo_jax.observe import observe
from nmmo_jax.step import noop_action

RULES = dict(
    {field: 1.0 for field in m.PROFESSION_RESPAWN_FIELDS},
    progression_spawn_clusters=16,
    progression_spawn_uniforms=256,
    weapon_drop_prob=0.3,
    npc_n=0,
    immortal=True,
    combat_spawn_immunity=4,  # attacks from step 4 on (the rollouts are short)
)
CFG = nj.Config.small(**RULES)
ENV = nj.Env(CFG)
N, C, E = CFG.player_n, CFG.item_inventory_capacity, CFG.n_entities
M, T = CFG.market_n_obs, CFG.communication_num_tokens
STEPS = 40

HEADS = tuple(name for name, _ in ENV.action_heads)
H = {name: h for h, name in enumerate(HEADS)}
NOOP = noop_action(CFG)
# The nine actions and their heads; every head belongs to one action.
ACTIONS = {
    "move": ("move",),
    "use": ("use",),
    "destroy": ("destroy",),
    "attack": ("attack_style", "attack_target"),
    "give": ("give_item", "give_target"),
    "give_gold": ("give_gold_amount", "give_gold_target"),
    "sell": ("sell_item", "sell_price"),
    "buy": ("buy",),
    "comm": ("comm",),
}
NAMES = tuple(ACTIONS)
# How often each action is picked, relative to the others, when it has a non-no-op choice:
# Move and Comm are always possible, the market rarely; an attack puts both sides in combat
# (no item or market action for three ticks).
WEIGHTS = dict(move=1, use=2, destroy=1, attack=0.25, give=2, give_gold=2, sell=3, buy=6, comm=1)
ACTION_OF_HEAD = np.array([NAMES.index(a) for h in HEADS for a in NAMES if h in ACTIONS[a]])
# Heads whose last choice is the no-op (Stay for Move); the others (Style, Price, amount) have
# none: they are read only with their action's target or item.
WITH_NOOP = tuple(h for h in HEADS if h not in ("attack_style", "give_gold_amount", "sell_price"))
ITEM_HEADS = ("use", "destroy", "give_item", "sell_item")
TARGET_HEADS = ("attack_target", "give_target", "give_gold_target")
EVENTS = (
    "EQUIP_ITEM",
    "CONSUME_ITEM",
    "DESTROY_ITEM",
    "LIST_ITEM",
    "GIVE_ITEM",
    "GIVE_GOLD",
    "BUY_ITEM",
    "EARN_GOLD",
    "SCORE_HIT",
    "HARVEST_ITEM",
)
DELTA = {0: (-1, 0), 1: (1, 0), 2: (0, 1), 3: (0, -1), 4: (0, 0)}  # N S E W Stay
CONSUMABLES = (it.RATION, it.POTION)
ID, TYPE, LEVEL = it.COL["id"], it.COL["type_id"], it.COL["level"]
EQUIPPED, LISTED, OWNER = it.COL["equipped"], it.COL["listed_price"], it.COL["owner_id"]

PROPERTY_SETTINGS = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def start(key, gold, types, levels, quantity, gather):
    """A reset with the players' gold set to `gold` [N], items of `types`/`levels`/`quantity`
    [N, C] (type 0: none) in their inventories (fresh ids in row-major order) and, if `gather`,
    every player on player 1's tile."""
    _, state = ENV.reset(key)
    inv = state.inventory
    wants = types > 0
    ids, new = it.allocate(inv.ids, wants.reshape(-1))
    owner = jnp.broadcast_to(jnp.arange(1, N + 1)[:, None], (N, C))
    rows = it.new_item(types, levels, CFG, item_id=new.reshape(N, C), owner_id=owner)
    rows = rows.at[..., it.COL["quantity"]].set(quantity.astype(jnp.int16))
    rows = rows.at[..., it.COL["acquired"]].set(jnp.arange(C, dtype=jnp.int16)[None, :])
    slots = jnp.where(wants[..., None], rows, jnp.int16(0))
    inv = inv.replace(slots=slots, ids=ids, received=wants.sum(axis=1).astype(jnp.int32))
    ent = state.entities
    row = jnp.where(gather, ent.row[0], ent.row[:N])
    col = jnp.where(gather, ent.col[0], ent.col[:N])
    ent = ent.replace(
        gold=ent.gold.at[:N].set(gold),
        row=ent.row.at[:N].set(row),
        col=ent.col.at[:N].set(col),
    )
    return state.replace(inventory=inv, entities=ent)


def choose(key, obs):
    """(action index [N], actions int32 [N, H]): one action per agent, drawn by WEIGHTS among
    those with a non-no-op choice allowed, its heads sampled from the masks without their no-op
    bit, every other head at its no-op."""
    masks = {h: getattr(obs.action_mask, h) for h in HEADS}
    real = {h: masks[h][:, :-1].any(axis=-1) for h in WITH_NOOP}
    available = jnp.stack(
        [jnp.stack([real[h] for h in ACTIONS[a] if h in real]).all(axis=0) for a in NAMES],
        axis=-1,
    )
    logits = jnp.log(jnp.asarray([WEIGHTS[a] for a in NAMES], jnp.float32))
    logits = jnp.where(available, logits[None, :], -jnp.inf)
    action = jax.random.categorical(jax.random.fold_in(key, 0), logits)
    cleared = {}
    for h in WITH_NOOP:
        mine = action == ACTION_OF_HEAD[H[h]]
        cleared[h] = masks[h].at[:, -1].set(masks[h][:, -1] & ~mine)
    sample_obs = obs.replace(action_mask=obs.action_mask.replace(**cleared))
    sampled = ENV.sample_actions(jax.random.fold_in(key, 1), sample_obs)
    mine = jnp.asarray(ACTION_OF_HEAD)[None, :] == action[:, None]
    actions = jnp.where(mine, sampled, jnp.asarray(NOOP, jnp.int32)[None, :])
    return action, actions


def record(obs, state):
    ent = state.entities
    return dict(
        inventory=obs.inventory,
        market=obs.market,
        masks={h: getattr(obs.action_mask, h) for h in HEADS},
        gold=ent.gold[:N],
        row=ent.row[:N],
        col=ent.col[:N],
        message=ent.message[:N],
        combat_tick=ent.latest_combat_tick[:N],
        alive=ent.alive[:N],
        tick=state.tick,
    )


@jax.jit
def rollout(key, gold, types, levels, quantity, gather):
    """STEPS steps from `start`: the records of the reset and of every step (observation and
    state columns), and per step the chosen actions and the events of the step."""
    state = start(jax.random.fold_in(key, 0), gold, types, levels, quantity, gather)
    obs = observe(state, CFG)

    def body(carry, t):
        obs, state = carry
        action, actions = choose(jax.random.fold_in(key, 2 * t + 1), obs)
        obs, state, *_ = ENV.step(jax.random.fold_in(key, 2 * t + 2), state, actions)
        events = {name: state.events.count(name, episode=False)[:N] for name in EVENTS}
        return (obs, state), (record(obs, state), dict(action=action, actions=actions, **events))

    first = record(obs, state)
    _, (records, steps) = jax.lax.scan(body, (obs, state), jnp.arange(STEPS))
    records = jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), first, records)
    return records, steps


def run(seed, gold, items, gather):
    """The rollout for hypothesis-style inputs: `items` per player a list of (type, level,
    quantity)."""
    types = np.zeros((N, C), np.int32)
    levels = np.zeros((N, C), np.int32)
    quantity = np.zeros((N, C), np.int32)
    for i, own in enumerate(items):
        for k, (t, lv, q) in enumerate(own):
            types[i, k], levels[i, k] = t, lv
            quantity[i, k] = q if t in it.AMMUNITION else 1
    out = rollout(
        jax.random.key(seed),
        jnp.asarray(np.array(gold, np.int32)),
        jnp.asarray(types),
        jnp.asarray(levels),
        jnp.asarray(quantity),
        jnp.bool_(gather),
    )
    return jax.device_get(out)


def check_masks(r, t):
    """The masks of record t are well formed (module docstring)."""
    masks = {h: np.asarray(v[t]) for h, v in r["masks"].items()}
    inv, market, gold = r["inventory"][t], r["market"][t], r["gold"][t]
    row, col = r["row"][t].astype(np.int64), r["col"][t].astype(np.int64)
    for h in WITH_NOOP:
        if h == "attack_target":
            assert (masks[h][:, -1] == ~masks[h][:, :-1].any(axis=1)).all(), t
        else:
            assert masks[h][:, -1].all(), (t, h, "the no-op must always be allowed")
    assert masks["attack_style"].all() and masks["sell_price"].all()
    assert masks["give_gold_amount"].any(axis=1).all()
    listed = int((market[:, TYPE] > 0).sum())
    assert not market[listed:].any(), (t, "market rows: listed items first")
    dist = np.maximum(abs(row[:, None] - row[None, :]), abs(col[:, None] - col[None, :]))
    alive = r["alive"][t]
    for i in range(N):
        held = int((inv[i][:, TYPE] > 0).sum())
        assert not inv[i][held:].any(), (t, i, "inventory rows: items first")
        for h in ITEM_HEADS:
            assert not masks[h][i, held:C].any(), (t, i, h, "a row beyond the items", held)
        buy = masks["buy"][i, :M]
        assert not buy[listed:].any(), (t, i, "a market row beyond the listings")
        assert not (buy[:listed] & (market[:listed, OWNER] == i + 1)).any(), (t, i, "own listing")
        assert not (buy[:listed] & (market[:listed, LISTED] > gold[i])).any(), (t, i, "price")
        player = np.arange(N) != i
        player &= alive
        for h, reach in zip(
            TARGET_HEADS,
            (
                max(CFG.combat_melee_reach, CFG.combat_range_reach, CFG.combat_mage_reach),
                CFG.player_vision_radius,
                CFG.player_vision_radius,
            ),
            strict=True,
        ):
            allowed = masks[h][i, :E]
            assert not allowed[N:].any(), (t, i, h, "an empty entity slot")
            valid = player & (dist[i] <= reach)
            assert not (allowed[:N] & ~valid).any(), (t, i, h, allowed, dist[i])
        if masks["give_gold_target"][i, :E].any():
            assert not masks["give_gold_amount"][i, gold[i] :].any(), (t, i, "amount > gold")


def outcomes(r, s, t):
    """Per agent of step t: (action name, succeeded, failure explained by a reason the mask
    cannot know (module docstring), the action's row)."""
    ev = {name: s[name][t] for name in EVENTS}
    inv0, inv1 = r["inventory"][t], r["inventory"][t + 1]
    market = r["market"][t]
    acts, chosen = s["actions"][t], s["action"][t]
    out = []

    def took(j, name):
        return NAMES[chosen[j]] == name

    for i in range(N):
        name, a = NAMES[chosen[i]], acts[i]
        excused = False
        if name == "move":
            dr, dc = DELTA[int(a[H["move"]])]
            before = (int(r["row"][t][i]) + dr, int(r["col"][t][i]) + dc)
            ok = (int(r["row"][t + 1][i]), int(r["col"][t + 1][i])) == before
        elif name == "comm":
            ok = int(r["message"][t + 1][i]) == int(a[H["comm"]]) + 1
        elif name == "attack":
            ok = ev["SCORE_HIT"][i] == 1
        elif name == "give_gold":
            ok = ev["GIVE_GOLD"][i] == 1
        elif name == "use":
            item = inv0[i][a[H["use"]]]
            if item[TYPE] in CONSUMABLES:
                ok = ev["CONSUME_ITEM"][i] == 1
            elif item[EQUIPPED]:
                after = inv1[i][inv1[i][:, ID] == item[ID]]
                ok = len(after) == 1 and after[0][EQUIPPED] == 0
            else:
                ok = ev["EQUIP_ITEM"][i] == 1
        elif name == "destroy":
            item = inv0[i][a[H["destroy"]]]
            ok = ev["DESTROY_ITEM"][i] == 1
            excused = item[LISTED] > 0 and any(
                took(j, "buy") and market[acts[j][H["buy"]], ID] == item[ID] and ev["BUY_ITEM"][j]
                for j in range(N)
            )
        elif name == "sell":
            ok = ev["LIST_ITEM"][i] == 1
            excused = r["combat_tick"][t + 1][i] == r["tick"][t + 1]  # hit in this step
        elif name == "give":
            ok = ev["GIVE_ITEM"][i] == 1
            to = int(a[H["give_target"]])
            free = C - int((inv0[to][:, TYPE] > 0).sum())
            earlier = sum(
                int(ev["GIVE_ITEM"][j])
                for j in range(i)
                if took(j, "give") and acts[j][H["give_target"]] == to
            )
            excused = free <= ev["HARVEST_ITEM"][to] + ev["BUY_ITEM"][to] + earlier
        elif name == "buy":
            ok = ev["BUY_ITEM"][i] == 1
            taken = any(
                j != i and took(j, "buy") and acts[j][H["buy"]] == a[H["buy"]] and ev["BUY_ITEM"][j]
                for j in range(N)
            )
            free = C - int((inv0[i][:, TYPE] > 0).sum())
            excused = taken or free <= ev["HARVEST_ITEM"][i]
        out.append((name, bool(ok), bool(excused), a))
    return out


def check_actions_were_valid(r, s, t):
    """The harness: the chosen heads are allowed by the masks, the others are no-ops."""
    for i in range(N):
        name = NAMES[s["action"][t][i]]
        for h in HEADS:
            value = int(s["actions"][t][i][H[h]])
            if h in ACTIONS[name]:
                assert r["masks"][h][t][i, value], (t, i, h, value)
            else:
                assert value == NOOP[H[h]], (t, i, h, value)


SEEDS = st.integers(0, 2**32 - 1)
GOLD = st.lists(st.integers(0, 99), min_size=N, max_size=N)
ITEM = st.tuples(st.sampled_from(it.ITEM_TYPES), st.integers(1, 3), st.integers(1, 5))
ITEMS = st.lists(st.lists(ITEM, max_size=C), min_size=N, max_size=N)


@PROPERTY_SETTINGS
@given(seed=SEEDS, gold=GOLD, items=ITEMS, gather=st.booleans())
def test_masked_actions_fail_only_for_reasons_the_mask_cannot_know(seed, gold, items, gather):
    r, s = run(seed, gold, items, gather)
    assert r["alive"].all()  # immortal: the masks of every agent are live ones
    for t in range(STEPS + 1):
        check_masks(r, t)
    for t in range(STEPS):
        check_actions_were_valid(r, s, t)
        for i, (name, ok, excused, a) in enumerate(outcomes(r, s, t)):
            if name in ("destroy", "sell", "give", "buy"):
                assert ok or excused, (t, i, name, a, "failed for a reason the mask knows")
            else:
                assert ok, (t, i, name, a, "a mask-valid action failed")


def test_the_rollouts_exercise_every_head():
    """Over a fixed example every head is taken with a non-no-op value (for Style, Price and
    the amount: not index 0) in an action that succeeded, several times."""
    gold = [5, 20, 40, 60, 80, 99, 30, 10]
    kinds = (it.RATION, it.POTION, it.HAT, it.SPEAR, it.ARROW, it.ROD, it.TOP, it.WHETSTONE)
    items = [[(kinds[(i + k) % len(kinds)], 1, 3) for k in range(2 + i)] for i in range(N)]
    r, s = run(3, gold, items, True)
    succeeded = {h: 0 for h in HEADS}
    for t in range(STEPS):
        check_actions_were_valid(r, s, t)
        for name, ok, _, a in outcomes(r, s, t):
            for h in ACTIONS[name]:
                succeeded[h] += ok and int(a[H[h]]) != NOOP[H[h]]
    assert all(n >= 3 for n in succeeded.values()), succeeded
