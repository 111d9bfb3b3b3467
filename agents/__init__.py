"""Baselines that act in nmmo-jax: scripted policies (agents.scripted)."""
