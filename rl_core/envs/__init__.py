"""Gymnasium environments; importing this package registers them.

gymnasium.make("GasStationProfit-v0", market=Market(...))
"""

import gymnasium as gym

from rl_core.envs.gas_station import GasStationDemandEnv, GasStationEnv, GasStationProfitEnv

ENV_IDS = {"demand": "GasStationDemand-v0", "profit": "GasStationProfit-v0"}

for _objective, _env_id in ENV_IDS.items():
    if _env_id not in gym.registry:
        gym.register(
            id=_env_id,
            entry_point=f"rl_core.envs.gas_station:GasStation{_objective.title()}Env",
        )

__all__ = ["ENV_IDS", "GasStationDemandEnv", "GasStationEnv", "GasStationProfitEnv"]
