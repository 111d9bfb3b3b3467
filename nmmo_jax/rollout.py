"""Compiled rollouts: many environments stepped with random valid (or no-op) actions in one scan.

Shared by the `nmmo-jax rollout` command and bench/bench_env.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax.compile import jit
from nmmo_jax.env import Env, VmapAutoReset

MODES = ("random", "noop")
STAT_KEYS = ("agent_steps", "deaths", "episodes", "lifetime_of_dead", "reward", "checksum")


def checksum(tree) -> jax.Array:
    """int32 []: a sum over every leaf, so that XLA must compute every observed value (an
    unread output is dropped by the compiler and its cost vanishes from a benchmark). Each
    leaf is summed in its own width, wrapping: booleans as uint8, floats by their bits
    (bitcast to the integer of their width). A float16 sum is emulated on CPU: read that way,
    the task embedding alone cost ~30 us per env-step, the reader's cost, not the game's
    (widening every leaf to int32 before summing cost 7 % more instead)."""
    total = jnp.int32(0)
    for leaf in jax.tree.leaves(tree):
        if leaf.dtype == jnp.bool_:
            leaf = leaf.astype(jnp.uint8)
        elif jnp.issubdtype(leaf.dtype, jnp.floating):
            leaf = jax.lax.bitcast_convert_type(leaf, jnp.dtype(f"int{leaf.dtype.itemsize * 8}"))
        total = total + jnp.sum(leaf, dtype=leaf.dtype).astype(jnp.int32)
    return total


class Rollout:
    """`num_envs` auto-resetting environments stepped `chunk` ticks per compiled call.

    mode "random": every head uniform among the choices its mask allows (Env.sample_actions);
    "noop": every agent stays. Statistics (int32/float32 scalars, summed over the chunk):
    agent_steps (agents alive at the start of each step, as the reference counts), deaths,
    episodes (finished), lifetime_of_dead (ticks lived by the agents that died), reward, and
    checksum (of every observation leaf of every step, but for the action masks in "random" mode,
    which the policy reads lane by lane: a second read of them cost ~6 % of the rollout).
    """

    def __init__(self, env: Env, num_envs: int, chunk: int, mode: str = "random"):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES} (got {mode!r})")
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1 (got {num_envs})")
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1 (got {chunk})")
        self.env, self.num_envs, self.chunk, self.mode = env, num_envs, chunk, mode
        self.venv = VmapAutoReset(env)
        self.init = jit(self.reset_batch, once=True)  # runs once
        self.run = jit(self.run_chunk, donate_argnums=0)  # compile.py: CPU options

    def reset_batch(self, key):
        """(obs, states) of `num_envs` new episodes (not jitted; `init` is the jitted one)."""
        return self.venv.reset(jax.random.split(key, self.num_envs))

    def _policy(self, key, obs):
        if self.mode == "noop":
            return jnp.broadcast_to(
                self.env.noop_actions, (self.num_envs,) + self.env.noop_actions.shape
            )
        return jax.vmap(self.env.sample_actions)(jax.random.split(key, self.num_envs), obs)

    def run_chunk(self, carry, key):
        """(carry, key) -> (carry, stats): `chunk` steps from carry = (obs, states)."""

        def body(inner, step_key):
            (obs, states), totals = inner
            act_key, env_key = jax.random.split(step_key)
            actions = self._policy(act_key, obs)
            obs, states, reward, terminated, _, info = self.venv.step(
                jax.random.split(env_key, self.num_envs), states, actions
            )
            ticks = info["final_observation"].tick
            # the random policy reads every mask lane (each one can decide a head's draw), so
            # the checksum reads the rest; with no-op actions nothing else reads the masks
            read = obs if self.mode == "noop" else obs.replace(action_mask=None)
            totals = {
                "agent_steps": totals["agent_steps"] + info["active"].sum(),
                "deaths": totals["deaths"] + terminated.sum(),
                "episodes": totals["episodes"] + info["episode_over"].sum(),
                "lifetime_of_dead": totals["lifetime_of_dead"]
                + (terminated * ticks[:, None]).sum(),
                "reward": totals["reward"] + reward.sum(),
                "checksum": totals["checksum"] + checksum(read),
            }
            return ((obs, states), totals), None

        zeros = {k: jnp.int32(0) for k in STAT_KEYS}
        zeros["reward"] = jnp.float32(0)
        (carry, totals), _ = jax.lax.scan(body, (carry, zeros), jax.random.split(key, self.chunk))
        return carry, totals


def alive_counts(carry) -> jax.Array:
    """int32 [num_envs]: players alive in each environment of a rollout carry."""
    _, states = carry
    n = states.n_players
    return states.entities.alive[:, :n].sum(axis=1)
