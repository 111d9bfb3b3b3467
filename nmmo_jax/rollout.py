"""Compiled rollouts: many environments stepped with random valid (or no-op) actions in one scan.

Shared by the `nmmo-jax rollout` command and bench/bench_env.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from nmmo_jax.env import Env, VmapAutoReset

MODES = ("random", "move", "noop")


def checksum(tree) -> jax.Array:
    """int32 []: a sum over every leaf, so that XLA must compute every observed value."""
    leaves = jax.tree.leaves(tree)
    return sum(jnp.sum(leaf.astype(jnp.int32)) for leaf in leaves)


def make_rollout(env: Env, num_envs: int, num_steps: int, mode: str = "random"):
    """Returns `run(key) -> stats`, jittable: resets `num_envs` environments and steps them
    `num_steps` times with auto-reset. Actions: "random"/"move" = uniform among the valid choices
    of the masks (only Move exists so far, so both are the same), "noop" = Stay.

    stats: "agent_steps" (agents alive at the start of each step, summed, as the reference
    counts), "deaths", "episodes" (finished), "final_alive" [num_envs], "checksum" (of every
    observation leaf of every step).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES} (got {mode!r})")
    venv = VmapAutoReset(env)

    def policy(key, obs):
        if mode == "noop":
            return jnp.broadcast_to(env.noop_actions, (num_envs,) + env.noop_actions.shape)
        keys = jax.random.split(key, num_envs)
        return jax.vmap(env.sample_actions)(keys, obs)

    def run(key):
        obs, states = venv.reset(jax.random.split(jax.random.fold_in(key, 0), num_envs))

        def body(carry, step_key):
            obs, states, totals = carry
            act_key, env_key = jax.random.split(step_key)
            actions = policy(act_key, obs)
            obs, states, reward, terminated, truncated, info = venv.step(
                jax.random.split(env_key, num_envs), states, actions
            )
            totals = {
                "agent_steps": totals["agent_steps"] + info["active"].sum(),
                "deaths": totals["deaths"] + terminated.sum(),
                "episodes": totals["episodes"] + info["episode_over"].sum(),
                "reward": totals["reward"] + reward.sum(),
                "checksum": totals["checksum"] + checksum(obs),
            }
            return (obs, states, totals), None

        zero = jnp.int32(0)
        totals = {"agent_steps": zero, "deaths": zero, "episodes": zero,
                  "reward": jnp.float32(0), "checksum": zero}
        step_keys = jax.random.split(jax.random.fold_in(key, 1), num_steps)
        (obs, states, totals), _ = jax.lax.scan(body, (obs, states, totals), step_keys)
        totals["final_alive"] = states.entities.alive[:, : env.cfg.player_n].sum(axis=1)
        totals["final_tick"] = states.tick
        return totals

    return run
