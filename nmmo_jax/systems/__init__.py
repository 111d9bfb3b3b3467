"""Game systems: one module per mechanic, each a pure function of (state, config, ...) -> state."""
