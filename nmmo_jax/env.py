"""The public functional API: reset, step, random valid actions, auto-reset (gymnax 1.0)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

from nmmo_jax import items as it
from nmmo_jax import mapgen, ops
from nmmo_jax.config import Config
from nmmo_jax.events import empty_events
from nmmo_jax.observe import Observation, observe
from nmmo_jax.state import (
    SKILLS,
    TileMap,
    WorldState,
    empty_entities,
    empty_inventory,
    empty_npcs,
)
from nmmo_jax.step import action_heads, noop_action, step_world
from nmmo_jax.systems import fog, npc, seize, teams
from nmmo_jax.task import engine
from nmmo_jax.task import predicates as preds
from nmmo_jax.task.spec import P, TaskSpec, TaskTable, check_table, encode, table_fingerprint

(
    RESET_MAP_KEY,
    RESET_RESOURCE_KEY,
    RESET_SPAWN_KEY,
    RESET_RESILIENT_KEY,
    RESET_NPC_KEY,
    RESET_TASK_KEY,
) = range(6)


class Env:
    """Neural MMO as pure functions of (key, state, actions), for one environment.

    `reset(key) -> (obs, state)` and `step(key, state, actions) -> (obs, state, reward,
    terminated, truncated, info)` are jittable and vmappable (`jax.jit(jax.vmap(env.step))`).
    Shapes, with N = cfg.player_n and H = len(env.action_heads):
      actions     int32 [N, H]    column h chooses among env.action_heads[h]: move (N S E W
                                  Stay), use and destroy (an Inventory row, or C = no-op)
      obs         Observation     (nmmo_jax.observe)
      reward      float32 [N]     1/horizon per tick alive until the horizon, -1 on death,
                                  0 while frozen
      terminated  bool [N]        the agent died in this step
      truncated   bool [N]        the agent is alive and the horizon was reached
      info        dict            "alive" bool [N] after the step, "active" bool [N] alive
                                  before it (agents whose transition counts), "episode_over"
                                  bool [] (horizon reached or every player dead)
    """

    def __init__(self, cfg: Config | None = None, tasks=None):
        if cfg is None:
            cfg = Config()
        if not isinstance(cfg, Config):
            raise ValueError(f"cfg must be an nmmo_jax.Config (got {type(cfg).__name__})")
        self.cfg = cfg
        if tasks is None:
            tasks = [TaskSpec(P.TickGE())]  # the default game's task (SPEC 13.4)
        if not isinstance(tasks, TaskTable):
            tasks = list(tasks)
            if not tasks:
                raise ValueError("tasks must hold at least one TaskSpec")
            tasks = encode(tasks, cfg)
        self.curriculum = check_table(tasks, cfg)
        # what the compiled step evaluates: these predicates, leaves per task, subject members
        self.task_plan = engine.plan(self.curriculum, cfg)
        self.task_predicates = self.task_plan.used
        self._key = (cfg, table_fingerprint(self.curriculum))

    def __hash__(self):
        return hash((Env, self._key))

    def __eq__(self, other):
        return isinstance(other, Env) and other._key == self._key

    # --- spaces
    @property
    def num_agents(self) -> int:
        return self.cfg.player_n

    @property
    def action_heads(self) -> tuple[tuple[str, int], ...]:
        """(name, number of choices) of every column of the action array."""
        return action_heads(self.cfg)

    @property
    def action_nvec(self) -> tuple[int, ...]:
        """Choices per action column: the `nvec` of a MultiDiscrete space."""
        return tuple(size for _, size in self.action_heads)

    @property
    def noop_actions(self) -> jax.Array:
        """int32 [N, H]: every agent does nothing."""
        noop = noop_action(self.cfg)
        return jnp.broadcast_to(jnp.asarray(noop, jnp.int32), (self.num_agents, len(noop)))

    def actions(self, **heads) -> jax.Array:
        """int32 [..., N, H]: an action array with the given heads (by name, e.g.
        `move=jnp.array([...])`, each broadcast to [..., N]) and every other head at its no-op.
        """
        names = [name for name, _ in self.action_heads]
        unknown = sorted(set(heads) - set(names))
        if unknown:
            raise ValueError(f"unknown action heads {unknown}; the heads are {names}")
        shape = jnp.broadcast_shapes((self.num_agents,), *(jnp.shape(v) for v in heads.values()))
        columns = [
            jnp.broadcast_to(jnp.asarray(heads.get(name, noop), jnp.int32), shape)
            for name, noop in zip(names, noop_action(self.cfg), strict=True)
        ]
        return jnp.stack(columns, axis=-1)

    @functools.cached_property
    def map_pool(self) -> np.ndarray:
        """int8 [map_n, S, S]: the terrain of every map index (float64 fractal, computed once)."""
        return mapgen.map_pool(self.cfg)

    # --- the API
    def reset(self, key: jax.Array) -> tuple[Observation, WorldState]:
        state = self.init_state(key)
        return observe(state, self.cfg), state

    def init_state(self, key: jax.Array) -> WorldState:
        """A fresh episode: a map index, its resources, players on the edge (SPEC 3.1)."""
        cfg = self.cfg
        pool = jnp.asarray(self.map_pool)
        map_index = jax.random.randint(jax.random.fold_in(key, RESET_MAP_KEY), (), 0, cfg.map_n)
        base = mapgen.place_resources(
            jax.random.fold_in(key, RESET_RESOURCE_KEY), pool[map_index], cfg
        )
        state = spawn_players(key, base, map_index, cfg)
        return self.assign_tasks(jax.random.fold_in(key, RESET_TASK_KEY), state)

    def assign_tasks(self, key: jax.Array, state: WorldState) -> WorldState:
        """`state` with a task for every player drawn from the curriculum (SPEC 14.5) and bound
        to the players' teams (`state.entities.team`)."""
        table = engine.sample(
            key, self.curriculum, state.entities.team[: self.cfg.player_n], self.cfg
        )
        return self.set_tasks(state, table)

    def set_tasks(self, state: WorldState, tasks) -> WorldState:
        """`state` with player i given task i of `tasks` (a list of player_n TaskSpecs, or an
        encoded TaskTable [player_n]), bound to the teams, progress from zero: the reference's
        `make_task_fn`. Its predicates must be among the curriculum's (`task_predicates`),
        which are the only ones the compiled step evaluates."""
        cfg = self.cfg
        if isinstance(tasks, (list, tuple)):
            tasks = check_table(encode(tasks, cfg), cfg)
        if not isinstance(tasks.kind, jax.core.Tracer):
            if len(tasks.kind) != cfg.player_n:
                raise ValueError(
                    f"tasks must hold player_n={cfg.player_n} rows (got {len(tasks.kind)})"
                )
            need = engine.plan(tasks, cfg)
            missing = set(need.used) - set(self.task_predicates)
            if missing:
                names = sorted(preds.definition(p).name for p in missing)
                raise ValueError(
                    f"tasks use predicates {names} that the Env's curriculum does not contain; "
                    f"build the Env with tasks= including them"
                )
            plan = self.task_plan
            if need.leaves > plan.leaves or need.group > plan.group or need.nodes > plan.nodes:
                raise ValueError(
                    f"tasks need {need.nodes} nodes, {need.leaves} predicates per task and "
                    f"subjects of {need.group} players; the Env's curriculum has at most "
                    f"{plan.nodes}, {plan.leaves} and {plan.group}: build the Env with tasks= "
                    f"including such tasks"
                )
        table = engine.bind(
            jax.tree.map(jnp.asarray, tasks), state.entities.team[: cfg.player_n], cfg
        )
        views = engine.uses_views(self.task_predicates)
        return state.replace(tasks=engine.new_state(table, cfg, views, self.task_plan))

    def step(self, key, state: WorldState, actions):
        cfg = self.cfg
        actions = self.check_actions(actions)
        alive_before = state.entities.alive[: cfg.player_n]
        state = step_world(key, state, actions, cfg)
        alive = state.entities.alive[: cfg.player_n]
        died = alive_before & ~alive
        horizon_reached = state.tick >= cfg.horizon
        info = {
            "alive": alive,
            "active": alive_before,
            "episode_over": horizon_reached | ~alive.any(),
        }
        if state.tasks is None:
            # a hand-built state without tasks: the default task's reward, TickGE(horizon)
            task_reward = jnp.where(state.tick <= cfg.horizon, 1.0 / cfg.horizon, 0.0)
        else:
            tasks, task_reward, info["task"] = engine.evaluate(
                state, state.tasks, alive_before, cfg, self.task_plan
            )
            state = state.replace(tasks=tasks)
        # Frozen players get 0 (they cannot act); the dead get -1 (SPEC 13.4).
        frozen = state.entities.freeze[: cfg.player_n] > 0
        reward = jnp.where(alive & ~frozen, task_reward, 0.0)
        reward = jnp.where(died, -1.0, reward).astype(jnp.float32)
        truncated = alive & horizon_reached
        return observe(state, cfg), state, reward, died, truncated, info

    def check_actions(self, actions) -> jax.Array:
        """Shape and dtype are checked always (also while tracing); values when concrete."""
        n, heads = self.num_agents, len(self.action_heads)
        shape = getattr(actions, "shape", None)
        if shape is None:
            actions = np.asarray(actions)
            shape = actions.shape
        if tuple(shape) != (n, heads):
            raise ValueError(
                f"actions must have shape (player_n={n}, heads={heads}) (got {tuple(shape)})"
            )
        if not jnp.issubdtype(actions.dtype, jnp.integer):
            raise ValueError(f"actions must have an integer dtype (got {actions.dtype})")
        if not isinstance(actions, jax.core.Tracer):
            values = np.asarray(actions)
            for h, (name, size) in enumerate(self.action_heads):
                bad = (values[:, h] < 0) | (values[:, h] >= size)
                if bad.any():
                    agent = int(np.flatnonzero(bad)[0])
                    raise ValueError(
                        f"actions[:, {h}] ({name}) must be in [0, {size}) "
                        f"(got {int(values[agent, h])} for agent index {agent})"
                    )
        return jnp.asarray(actions, jnp.int32)

    def checked_step(self, key, state: WorldState, actions):
        """`step` in checked mode: (error, outputs) with a `jax.experimental.checkify` error that
        reports out-of-range actions, which `step` silently treats as no-ops. Jittable and
        vmappable; `error.throw()` raises a JaxRuntimeError naming the head."""

        def step(key, state, actions):
            for h, (name, size) in enumerate(self.action_heads):
                column = actions[..., h]
                checkify.check(
                    jnp.all((column >= 0) & (column < size)),
                    f"actions[:, {h}] ({name}) must be in [0, {size})",
                )
            return self.step(key, state, actions)

        return checkify.checkify(step)(key, state, actions)

    def sample_actions(self, key: jax.Array, obs: Observation) -> jax.Array:
        """int32 [N, H]: for every head, a choice drawn uniformly among those its mask allows."""
        masks = [getattr(obs.action_mask, name) for name, _ in self.action_heads]
        # the row's bits in a buffer of their own: fused into the per-lane hash, their two
        # hashes were redone for every lane of the row
        (bits,) = ops.materialize(
            ops.random_bits(key, (self.num_agents, len(masks))), token=obs.tick
        )
        return jnp.stack([sample_choice(bits[:, h], m) for h, m in enumerate(masks)], axis=-1)


def uniform_choice(u: jax.Array, mask: jax.Array) -> jax.Array:
    """int32 [...]: the k-th allowed index of `mask` [..., C] with k = floor(u * allowed count),
    i.e. uniform among the allowed choices from one uniform draw `u` [...] in [0, 1) (a
    categorical over C logits would draw C Gumbel numbers). An all-false mask gives C - 1.

    A cumsum over C costs O(C^2) on XLA CPU (a reduce-window), so a wide mask (the attack
    targets: one per entity) is searched in two levels: blocks of 16, then within the block."""
    size = mask.shape[-1]
    if size <= 32:
        # the running count by a triangular compare (one fused reduce; a cumsum is a slow
        # reduce-window on XLA CPU even this short)
        upto = jnp.arange(size)[:, None] <= jnp.arange(size)[None, :]
        allowed = jnp.sum(mask[..., :, None] & upto, axis=-2, dtype=jnp.int32)
        k = jnp.floor(u * allowed[..., -1]).astype(jnp.int32)
        choice = jnp.sum(allowed <= k[..., None], axis=-1, dtype=jnp.int32)
        return jnp.minimum(choice, size - 1)
    block = 16
    full = size // block  # whole blocks; the rest (< 16) is one more, padded block
    grid = mask[..., : full * block].reshape(mask.shape[:-1] + (full, block))
    rest = mask[..., full * block :]
    rest = jnp.pad(rest, [(0, 0)] * (mask.ndim - 1) + [(0, block - rest.shape[-1])])
    per_block = jnp.concatenate(
        [grid.sum(axis=-1, dtype=jnp.int32), rest.sum(axis=-1, dtype=jnp.int32)[..., None]],
        axis=-1,
    )
    upto = jnp.arange(full + 1)[:, None] <= jnp.arange(full + 1)[None, :]
    through = jnp.sum(per_block[..., :, None] * upto, axis=-2, dtype=jnp.int32)
    k = jnp.floor(u * through[..., -1]).astype(jnp.int32)
    b = jnp.sum(through <= k[..., None], axis=-1, dtype=jnp.int32)
    at = jnp.minimum(b, full)[..., None]
    start = jnp.take_along_axis(through - per_block, at, axis=-1)[..., 0]
    row = jnp.take_along_axis(grid, jnp.minimum(at, full - 1)[..., None], axis=-2)[..., 0, :]
    row = jnp.where((at < full), row, rest)
    within_upto = jnp.arange(block)[:, None] <= jnp.arange(block)[None, :]
    running = jnp.sum(row[..., :, None] & within_upto, axis=-2, dtype=jnp.int32)
    within = jnp.sum(running <= (k - start)[..., None], axis=-1)
    return jnp.minimum(b * block + within, size - 1).astype(jnp.int32)


def sample_choice(bits: jax.Array, mask: jax.Array) -> jax.Array:
    """int32 [...]: an index drawn uniformly among the allowed ones of `mask` [..., C] (C - 1
    where none is), from 32 random bits per row `bits` uint32 [...]: the allowed lane with the
    largest hash of (bits, lane). One max over C per row, where `uniform_choice` needs the
    running count of the allowed lanes (XLA:CPU's reductions over short rows are slow: the
    random policy cost ~12 % of a rollout's kernel time that way). The hash's top 31 - b bits
    decide (b = the bits of a lane index, 9 for the widest head, so 22 bits), and a tie of
    those at the maximum (chance about C / 2**22 on the widest heads) goes to the higher
    lane."""
    size = mask.shape[-1]
    index_bits = max(1, (size - 1).bit_length())
    lane = jnp.arange(size, dtype=jnp.uint32)
    # lowbias32 without its first and last xor-shift: the row's bits are random already, and
    # the last step leaves the top 16 bits (which decide) unchanged (9 ops a lane down to 5)
    h = (bits[..., None] ^ (lane * jnp.uint32(0x9E3779B9))) * jnp.uint32(0x7FEB352D)
    h = (h ^ (h >> 15)) * jnp.uint32(0x846CA68B)
    top = (h >> (index_bits + 1)) << index_bits
    score = jnp.where(mask, jnp.uint32(0x80000000) | top | lane, jnp.uint32(0))
    best = score.max(axis=-1)
    lane_of_best = (best & jnp.uint32((1 << index_bits) - 1)).astype(jnp.int32)
    return jnp.where(best > 0, lane_of_best, size - 1)


def spawn_players(
    key: jax.Array, base: jax.Array, map_index, cfg: Config, npcs: bool = True
) -> WorldState:
    """Players on draws from the reference's edge list (SPEC 3.1). The NPCs spawn first (their
    datastore rows come before the players'), unless `npcs` is False (then NPC rows are empty
    and the players' datastore rows are 1..N)."""
    n = cfg.player_n
    if cfg.team_n:
        row, col = teams.team_spawn_positions(jax.random.fold_in(key, RESET_SPAWN_KEY), cfg)
    else:
        row, col = mapgen.spawn_positions(jax.random.fold_in(key, RESET_SPAWN_KEY), cfg)

    n_resilient = (
        round(cfg.resource_resilient_population * n) if cfg.resource_damage_reduction > 0 else 0
    )
    resilient = jax.random.permutation(
        jax.random.fold_in(key, RESET_RESILIENT_KEY), jnp.arange(n) < n_resilient
    )

    pad = cfg.npc_n
    ent = empty_entities(cfg.n_entities)

    def players(values, dtype=jnp.int32):
        return jnp.concatenate([jnp.asarray(values, dtype), jnp.zeros((pad,), dtype)])

    full = jnp.ones((n,), jnp.int32)
    skills = {f"{skill}_level": players(full) for skill in SKILLS}
    ent = ent.replace(
        id=players(jnp.arange(1, n + 1)),
        row=players(row),
        col=players(col),
        gold=players(full * cfg.exchange_base_gold),
        health=players(full * cfg.player_base_health),
        food=players(full * cfg.resource_base),
        water=players(full * cfg.resource_base),
        alive=players(jnp.ones((n,), bool), bool),
        resilient=players(resilient, bool),
        spawn_row=players(row),
        spawn_col=players(col),
        team=ent.team.at[:n].set(jnp.asarray(teams.team_of(cfg))),
        **skills,
    )
    size = cfg.map_size
    state = WorldState(
        tick=jnp.int32(0),
        map_index=jnp.asarray(map_index, jnp.int32),
        tiles=TileMap(
            base=jnp.asarray(base, jnp.int8), regrow_at=jnp.zeros((size, size), jnp.int16)
        ),
        entities=ent,
        inventory=empty_inventory(cfg),
        events=empty_events(cfg.n_entities, n, cfg.progression_level_max, kill_levels(cfg)),
        npcs=empty_npcs(cfg).replace(
            directions=npc.direction_sequence(jax.random.fold_in(key, RESET_NPC_KEY))
        ),
        fog=fog.initial(cfg),
        seize=seize.initial(cfg),
    )
    if npcs:
        state = npc.spawn(state, jax.random.fold_in(key, RESET_NPC_KEY), cfg)
    return add_player_rows(state, cfg)


def add_player_rows(state: WorldState, cfg: Config) -> WorldState:
    """Datastore rows for the players, in id order, after whatever was allocated before."""
    n = cfg.player_n
    rows, ds_row = it.allocate(state.npcs.rows, jnp.ones((n,), bool))
    ent = state.entities.replace(ds_row=state.entities.ds_row.at[:n].set(ds_row))
    return state.replace(entities=ent, npcs=state.npcs.replace(rows=rows))


def kill_levels(cfg: Config) -> int:
    """Victim attack levels the kill counts distinguish: 0 .. the highest level there is."""
    return max(cfg.progression_level_max, cfg.npc_level_max) + 1


class AutoReset:
    """Resets one environment when its episode is over; the last observation of the finished
    episode is in info["final_observation"] (gymnax 1.0). The reset runs under `lax.cond`, so it
    costs nothing on other steps unless this wrapper is vmapped (then use VmapAutoReset)."""

    def __init__(self, env: Env):
        self.env = env

    def __getattr__(self, name):
        return getattr(self.env, name)

    def reset(self, key):
        return self.env.reset(key)

    def step(self, key, state, actions):
        step_key, reset_key = jax.random.split(key)
        obs, state, reward, terminated, truncated, info = self.env.step(step_key, state, actions)
        info = dict(info, final_observation=obs)
        obs, state = jax.lax.cond(
            info["episode_over"], lambda: self.env.reset(reset_key), lambda: (obs, state)
        )
        return obs, state, reward, terminated, truncated, info


class VmapAutoReset:
    """A batch of environments with auto-reset: `reset(keys)` and `step(keys, states, actions)`
    take a leading [B] axis. Finished environments are reset and info["final_observation"] holds
    their last observation.

    The resets run in a `lax.while_loop` over the finished environments only, writing each new
    episode into the batch in place. A `lax.cond` (or a select inside vmap) would copy or rebuild
    the whole batch of states every step, which costs more than the step itself on CPU.
    """

    def __init__(self, env: Env):
        self.env = env

    def __getattr__(self, name):
        return getattr(self.env, name)

    def reset(self, keys):
        return jax.vmap(self.env.reset)(keys)

    def step(self, keys, states, actions):
        split = jax.vmap(jax.random.split)(keys)
        step_keys, reset_keys = split[:, 0], split[:, 1]
        obs, states, reward, terminated, truncated, info = jax.vmap(self.env.step)(
            step_keys, states, actions
        )
        over = info["episode_over"]
        info = dict(info, final_observation=obs)
        batch = over.shape[0]
        (finished,) = jnp.nonzero(over, size=batch, fill_value=0)

        def reset_one(carry):
            j, obs, states = carry
            i = finished[j]
            new_obs, new_state = self.env.reset(reset_keys[i])
            put = functools.partial(_put_index, i)
            return j + 1, jax.tree.map(put, obs, new_obs), jax.tree.map(put, states, new_state)

        carry = (jnp.int32(0), obs, states)
        if batch == 1:
            # XLA turns a while loop of at most one trip into code that runs its body every step
            # (measured: the reset cost on every step), so one env takes an explicit cond.
            carry = jax.lax.cond(over[0], reset_one, lambda carry: carry, carry)
        else:
            carry = jax.lax.while_loop(lambda carry: carry[0] < over.sum(), reset_one, carry)
        _, obs, states = carry
        return obs, states, reward, terminated, truncated, info


def _put_index(i, batch, item):
    return jax.lax.dynamic_update_index_in_dim(batch, item, i, axis=0)
