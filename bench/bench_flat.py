#!/usr/bin/env python
"""Is the step time flat over a whole episode? (issue 12's bar; the reference slows by ~80 %.)

    python bench/bench_flat.py                  # Default config, IMMORTAL, 4 envs, random actions
    python bench/bench_flat.py --envs 16 --chunk 128

One compiled call steps `--chunk` ticks (bench_env.py's Rollout: random valid actions of every
head, every observation leaf read); the episode's 1024 ticks run as consecutive calls, each
timed, so early and late ticks are compared within one process. Prints us per env-step per
chunk and the ratio of the last chunk to the first.
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=128)
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    import jax

    import nmmo_jax as nj
    from nmmo_jax.rollout import Rollout

    cfg = nj.Config.preset(args.preset, immortal=True)
    rollout = Rollout(nj.Env(cfg), args.envs, args.chunk, "random")
    carry = rollout.init(jax.random.key(0))
    # compile on a throwaway copy, then start a fresh episode for the timed run
    warm, _ = rollout.run(rollout.init(jax.random.key(1)), jax.random.key(2))
    jax.block_until_ready(warm)
    chunks = cfg.horizon // args.chunk
    times = []
    for i in range(chunks):
        start = time.perf_counter()
        carry, stats = rollout.run(carry, jax.random.key(10 + i))
        jax.block_until_ready(stats)
        times.append((time.perf_counter() - start) / (args.chunk * args.envs) * 1e6)
        npcs = int(carry[1].entities.alive[0, cfg.player_n :].sum())
        note = " (includes the auto-resets at the horizon)" if i == chunks - 1 else ""
        print(
            f"ticks {i * args.chunk:5d}-{(i + 1) * args.chunk:5d}: {times[-1]:7.1f} "
            f"us/env-step, NPCs alive in env 0 after: {npcs}{note}",
            flush=True,
        )
    within = times[:-1]
    print(
        f"ticks 0-{(chunks - 1) * args.chunk}: max / min chunk {max(within) / min(within):.2f}; "
        f"last / first chunk {times[-1] / times[0]:.2f}"
    )
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"envs": args.envs, "chunk": args.chunk, "us_per_env_step": times}, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
