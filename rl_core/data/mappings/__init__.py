"""Column mappings shipped with Forecourt: one JSON file per source (see rl_core.data.mapping)."""
