"""Where and how a champion is deployed to SageMaker: one JSON setting, FORECOURT_SAGEMAKER.

Terraform (modules/serving, output `deploy_config`; the account stack's output
`sagemaker_deploy_config`) writes the object; rl_core.serving.deploy reads it. No AWS SDK
and no torch here, so a torch-free process (an MWAA worker) can ask "is deployment on?":
`DeployConfig.from_env()` is None when the variable is unset or empty, and local runs deploy
nothing.

    {
      "endpoint_prefix":     "forecourt-dev",               endpoint <prefix>-<agent>
      "execution_role_arn":  "arn:aws:iam::<acct>:role/...", SageMaker's execution role
      "image_uri":           "<acct>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>",
      "model_artifacts_uri": "s3://<bucket>/models/serving", tarballs go under it
      "instance_type":       "ml.g4dn.xlarge",
      "instance_count":      1,
      "subnet_ids":          ["subnet-..."],
      "security_group_ids":  ["sg-..."],
      "kms_key_arn":         "arn:aws:kms:...",             tarballs and data capture
      "data_capture_uri":    "s3://<bucket>/data-capture",
      "rollback_alarm_names": {"demand": ["..."], "profit": ["..."]},
      "region":              "eu-west-1",
      -- optional, with defaults --
      "instance_has_local_storage": null | true | false,    NVMe instance storage: then the
                                                            endpoint volume gets no KMS key
                                                            (null: from the instance family)
      "variant_name":        "champion",
      "data_capture_sampling_percentage": 100,
      "container_startup_health_check_timeout_seconds": 600,
      "container_environment": {"NAME": "value"},
      "traffic_routing":     "ALL_AT_ONCE" | "CANARY",
      "canary_percent":      50,                            CANARY only
      "wait_interval_seconds": 300,                         between traffic shifts
      "termination_wait_seconds": 600,                      old fleet kept (baking)
      "maximum_execution_timeout_seconds": 3600,            SageMaker aborts the update after
      "tags":                {"Project": "forecourt"}
    }

Unknown keys are refused (a typo would otherwise be silently ignored).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from rl_core.errors import ForecourtError

ENV_VAR = "FORECOURT_SAGEMAKER"
AGENTS = ("demand", "profit")  # rl_core.market.model.OBJECTIVES (no numpy import here)
TRAFFIC_ROUTINGS = ("ALL_AT_ONCE", "CANARY")

# Nitro instance families with NVMe instance storage: SageMaker refuses a volume KMS key for
# them (CreateEndpointConfig fails). The same list as terraform/modules/serving/main.tf.
LOCAL_STORAGE_FAMILIES = frozenset(
    {
        "g4dn", "g5", "g6", "g6e", "p4d", "p4de", "p5",
        "m5d", "c5d", "r5d", "m6gd", "c6gd", "r6gd", "m6id", "c6id", "r6id", "trn1", "trn1n",
    }
)  # fmt: skip


class DeployError(ForecourtError):
    """A champion could not be (or was not) deployed; the message says why."""


class DeployConfigError(DeployError, ValueError):
    """FORECOURT_SAGEMAKER is not valid JSON or a field is missing or invalid."""


class DeployRefusedError(DeployError):
    """The bundle or its tarball was refused (corrupt, wrong agent, a policy that does not
    load): found before any AWS call, so nothing was touched and the old model serves on."""


class DeploymentInProgressError(DeployError):
    """The endpoint is being created, updated or rolled back: nothing was touched."""

    def __init__(self, endpoint: str, status: str) -> None:
        super().__init__(
            f"endpoint {endpoint} is {status}: another deployment (or SageMaker) is changing "
            "it; nothing was uploaded or created, try again once it is InService"
        )
        self.endpoint = endpoint
        self.status = status


class DeployFailedError(DeployError):
    """SageMaker could not bring the new model into service (Failed, or rolled back)."""

    def __init__(
        self, endpoint: str, reason: str, *, status: str, rolled_back: bool = False
    ) -> None:
        what = "rolled back to its previous configuration" if rolled_back else f"ended {status}"
        super().__init__(f"deployment to {endpoint} failed: the endpoint {what}: {reason}")
        self.endpoint = endpoint
        self.reason = reason
        self.status = status
        self.rolled_back = rolled_back


class DeployTimeoutError(DeployError):
    """The endpoint did not reach InService within the wait's time limit."""


_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_ROLE = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$")
_KMS = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$")
_IMAGE = re.compile(
    r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$"
)
_S3 = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
_INSTANCE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
_SUBNET = re.compile(r"^subnet-[0-9a-f]+$")
_SG = re.compile(r"^sg-[0-9a-f]+$")
_ENV_KEY = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@dataclass(frozen=True)
class DeployConfig:
    endpoint_prefix: str
    execution_role_arn: str
    image_uri: str
    model_artifacts_uri: str
    instance_type: str
    instance_count: int
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    kms_key_arn: str
    data_capture_uri: str
    rollback_alarm_names: Mapping[str, tuple[str, ...]]
    region: str
    instance_has_local_storage: bool | None = None
    variant_name: str = "champion"
    data_capture_sampling_percentage: int = 100
    container_startup_health_check_timeout_seconds: int = 600
    container_environment: Mapping[str, str] = field(default_factory=dict)
    traffic_routing: str = "ALL_AT_ONCE"
    canary_percent: int = 50
    wait_interval_seconds: int = 300
    termination_wait_seconds: int = 600
    maximum_execution_timeout_seconds: int = 3600
    tags: Mapping[str, str] = field(default_factory=dict)

    # ---- names -------------------------------------------------------------------------

    def endpoint_name(self, agent: str) -> str:
        return f"{self.endpoint_prefix}-{agent}"

    def alarms_for(self, agent: str) -> tuple[str, ...]:
        return tuple(self.rollback_alarm_names.get(agent, ()))

    @property
    def local_storage(self) -> bool:
        """Whether the instance type has NVMe instance storage (given, or by its family)."""
        if self.instance_has_local_storage is not None:
            return self.instance_has_local_storage
        return self.instance_type.split(".")[1] in LOCAL_STORAGE_FAMILIES

    @property
    def endpoint_volume_kms_key(self) -> str | None:
        """The KmsKeyId of the endpoint configuration: SageMaker refuses one on NVMe
        instance types (their storage is encrypted by the Nitro hardware)."""
        return None if self.local_storage else self.kms_key_arn

    # ---- parsing -----------------------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeployConfig | None:
        """The config in $FORECOURT_SAGEMAKER; None when it is unset or empty (deploy nothing)."""
        raw = (os.environ if env is None else env).get(ENV_VAR, "")
        if not raw.strip():
            return None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DeployConfigError(f"{ENV_VAR} is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> DeployConfig:
        if not isinstance(data, Mapping):
            raise DeployConfigError(f"{ENV_VAR} must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DeployConfigError(
                f"{ENV_VAR} has unknown field(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
        required = [
            f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
        ]
        missing = [k for k in required if data.get(k) in (None, "", [])]
        if missing:
            raise DeployConfigError(f"{ENV_VAR} is missing {', '.join(missing)}")
        # JSON nulls for optional fields mean "the default"
        values = {k: v for k, v in data.items() if v is not None}
        cfg = cls(**{k: _freeze(v) for k, v in values.items()})
        cfg.validate()
        return cfg

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple):
                v = list(v)
            elif isinstance(v, Mapping):
                v = {k: list(x) if isinstance(x, tuple) else x for k, x in v.items()}
            out[f.name] = v
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def validate(self) -> None:
        """Raise DeployConfigError naming the first invalid field."""

        def bad(name: str, why: str) -> None:
            raise DeployConfigError(
                f"{ENV_VAR}.{name} is invalid: {why} (got {getattr(self, name)!r})"
            )

        def whole(name: str, lo: int, hi: int) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                bad(name, f"must be a whole number between {lo} and {hi}")

        def text(name: str, pattern: re.Pattern, why: str) -> None:
            v = getattr(self, name)
            if not isinstance(v, str) or not pattern.match(v):
                bad(name, why)

        def ids(name: str, pattern: re.Pattern, why: str) -> None:
            v = getattr(self, name)
            if (
                not isinstance(v, tuple)
                or not v
                or not all(isinstance(s, str) and pattern.match(s) for s in v)
            ):
                bad(name, why)

        text("endpoint_prefix", _NAME, "lowercase letters, digits and single hyphens")
        if not 3 <= len(self.endpoint_prefix) <= 31:
            bad("endpoint_prefix", "must be 3 to 31 characters (SageMaker names are <= 63)")
        text("execution_role_arn", _ROLE, "must be an IAM role ARN")
        text("image_uri", _IMAGE, "must be an ECR image URI with a tag or a sha256 digest")
        if self.image_uri.endswith(":latest"):
            bad("image_uri", 'must not use the "latest" tag (pin a release)')
        text("model_artifacts_uri", _S3, "must be an s3://bucket[/prefix] URI")
        text("instance_type", _INSTANCE, "must be a SageMaker instance type (ml.family.size)")
        whole("instance_count", 1, 100)
        ids("subnet_ids", _SUBNET, "needs at least one subnet id (subnet-...)")
        ids("security_group_ids", _SG, "needs at least one security group id (sg-...)")
        text("kms_key_arn", _KMS, "must be a KMS key ARN")
        if self.instance_has_local_storage not in (None, True, False):
            bad("instance_has_local_storage", "must be true, false or null")
        text("data_capture_uri", _S3, "must be an s3://bucket[/prefix] URI")
        text("region", _REGION, "must be an AWS region such as eu-west-1")
        alarms = self.rollback_alarm_names
        if not isinstance(alarms, Mapping):
            bad("rollback_alarm_names", "must be an object {agent: [alarm names]}")
        for agent, names in alarms.items():
            if agent not in AGENTS:
                bad("rollback_alarm_names", f"unknown agent {agent!r} (known: {AGENTS})")
            if not isinstance(names, tuple) or not all(
                isinstance(n, str) and 1 <= len(n) <= 255 for n in names
            ):
                bad("rollback_alarm_names", f"{agent}: must be a list of alarm names")
            if len(names) > 10:
                bad("rollback_alarm_names", f"{agent}: SageMaker watches at most 10 alarms")
        text("variant_name", re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"), "a variant name")
        whole("data_capture_sampling_percentage", 1, 100)
        whole("container_startup_health_check_timeout_seconds", 60, 3600)
        env = self.container_environment
        if not isinstance(env, Mapping) or not all(
            isinstance(k, str) and _ENV_KEY.match(k) and isinstance(v, str) for k, v in env.items()
        ):
            bad("container_environment", "must map UPPER_SNAKE_CASE names to strings")
        if self.traffic_routing not in TRAFFIC_ROUTINGS:
            bad("traffic_routing", f"must be one of {', '.join(TRAFFIC_ROUTINGS)}")
        whole("canary_percent", 1, 99)
        whole("wait_interval_seconds", 0, 3600)
        whole("termination_wait_seconds", 0, 3600)
        whole("maximum_execution_timeout_seconds", 600, 14400)
        tags = self.tags
        if not isinstance(tags, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
        ):
            bad("tags", "must map names to strings")


def _freeze(value: Any) -> Any:
    """Lists become tuples (also inside objects) so a frozen config stays unchanged."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _freeze(v) for k, v in value.items()}
    return value
