"""Every metric Forecourt emits: name -> unit, dimensions, meaning.

The one list that CloudWatch dashboards and alarms (terraform/modules/monitoring) may
read from: `emit` refuses a name that is not here, and a test checks that every metric a
dashboard widget names is here with the same dimensions, so no widget stays empty.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "Forecourt"


@dataclass(frozen=True)
class MetricSpec:
    unit: str  # a CloudWatch unit
    dimensions: tuple[str, ...]  # besides Environment, which every metric carries
    description: str


METRICS: dict[str, MetricSpec] = {
    # validation
    "DeliveryRows": MetricSpec("Count", (), "rows in the day's delivered pricing file"),
    "DeliveryAccepted": MetricSpec("Count", (), "1 when the day's delivery passed validation"),
    "DeliveryQuarantined": MetricSpec("Count", (), "1 when the day's delivery was quarantined"),
    "ValidationFailedChecks": MetricSpec("Count", (), "failed checks in the day's validation"),
    # calibration
    "CalibratedStations": MetricSpec("Count", (), "stations in the calibration window"),
    # training (one data point per hyperparameter trial)
    "TrialTotalReward": MetricSpec("None", ("Agent",), "a trial's exact expected total reward"),
    "TrialFractionOfOptimum": MetricSpec(
        "None", ("Agent",), "a trial's total reward / the exact DP optimum"
    ),
    "TrialTrainSeconds": MetricSpec("Seconds", ("Agent",), "a trial's training wall time"),
    # champion vs challenger
    "ChallengerFractionOfOptimum": MetricSpec(
        "None", ("Agent",), "the best trial's fraction of the optimum on today's scenarios"
    ),
    "ChallengerImprovement": MetricSpec(
        "None", ("Agent",), "challenger / incumbent total reward - 1 on today's scenarios"
    ),
    "Promotions": MetricSpec("Count", ("Agent",), "1 when a challenger became champion"),
    "Deployments": MetricSpec(
        "Count", ("Agent",), "1 when a new champion version went into service on SageMaker"
    ),
    "DeployFailures": MetricSpec(
        "Count", ("Agent",), "1 when the champion could not be deployed (failed, refused, busy)"
    ),
    # serving
    "RecommendationsWritten": MetricSpec(
        "Count", ("Agent",), "stations given a price for tomorrow"
    ),
    "RecommendedPriceMedian": MetricSpec("None", ("Agent",), "median price for tomorrow ($/L)"),
    # the run as a whole
    "RunFailedTasks": MetricSpec("Count", (), "tasks that failed in a daily run"),
    "TaskFailures": MetricSpec("Count", ("Task",), "a task failed (from the failure callback)"),
}
