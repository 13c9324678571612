"""Gymnasium environments; importing this package registers them.

gymnasium.make("GasStationProfit-v0", market=Market(...))
gymnasium.make_vec("GasStationProfit-v0", num_envs=64, vectorization_mode="vector_entry_point")

The serving image has no gymnasium: it needs only `rl_core.envs.observation` (the
observation spec), so without gymnasium this package registers nothing and exports only
`ENV_IDS`.
"""

try:
    import gymnasium as gym
except ModuleNotFoundError:  # the serving image: observation.py is all it imports from here
    gym = None

ENV_IDS = {"demand": "GasStationDemand-v0", "profit": "GasStationProfit-v0"}

if gym is not None:
    from rl_core.envs.gas_station import GasStationDemandEnv, GasStationEnv, GasStationProfitEnv

    for _objective, _env_id in ENV_IDS.items():
        if _env_id not in gym.registry:
            gym.register(
                id=_env_id,
                entry_point=f"rl_core.envs.gas_station:GasStation{_objective.title()}Env",
                # gymnasium.make_vec(..., vectorization_mode="vector_entry_point"): the
                # batched twin (rl_core.envs.gym_vector), not N copies of the single env
                vector_entry_point=(
                    f"rl_core.envs.gym_vector:GasStation{_objective.title()}VectorEnv"
                ),
            )

__all__ = ["ENV_IDS", "GasStationDemandEnv", "GasStationEnv", "GasStationProfitEnv"]
