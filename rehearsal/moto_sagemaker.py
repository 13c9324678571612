"""SageMaker's UpdateEndpoint on moto 5.2.5, which does not implement it (a stand-in).

moto serves CreateModel, CreateEndpointConfig, CreateEndpoint, DescribeEndpoint, the List
and Delete calls and tags for real; the deploy step also needs UpdateEndpoint once an
endpoint exists (the second promotion onwards). This adds it to moto's SageMaker API: the
endpoint switches to the new config at once and stays InService, which is how a
successful blue/green deployment ends. The DeploymentConfig (traffic shifting, the
rollback alarms) is accepted and ignored: only a real account proves those
(docs/serving.md); tests/test_deploy.py covers our side of them with botocore's Stubber.
"""

from __future__ import annotations

from collections.abc import Callable

MOTO_WRITTEN_FOR = "5.2.5"


def patch_update_endpoint() -> Callable[[], None]:
    """Give moto's SageMaker API an UpdateEndpoint; returns the undo."""
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig
    from moto.sagemaker.responses import SageMakerResponse

    if hasattr(SageMakerResponse, "update_endpoint"):
        return lambda: None  # a moto that has it: use moto's own

    def update_endpoint(self: SageMakerResponse) -> ActionResult:
        backend = self.sagemaker_backend
        name = self._get_param("EndpointName")
        config_name = self._get_param("EndpointConfigName")
        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            arn = FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)
            raise ValidationError(message=f"Could not find endpoint '{arn}'.")
        config = backend.endpoint_configs.get(config_name)
        if config is None:
            arn = FakeEndpointConfig.arn_formatter(
                config_name, backend.account_id, backend.region_name
            )
            raise ValidationError(message=f"Could not find endpoint_config '{arn}'.")
        endpoint.endpoint_config_name = config_name
        endpoint.production_variants = endpoint._process_production_variants(
            config.production_variants
        )
        endpoint.last_modified_time = utcnow()
        return ActionResult({"EndpointArn": endpoint.arn})

    SageMakerResponse.update_endpoint = update_endpoint

    def undo() -> None:
        del SageMakerResponse.update_endpoint

    return undo
