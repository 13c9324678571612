"""The one place that imports Great Expectations, offline and without touching $HOME.

GX 1.x sends usage analytics unless GX_ANALYTICS_ENABLED is false when it is imported, so it
is forced off here before the import. Contexts are ephemeral (in memory: no `gx/` folder, no
`~/.great_expectations`), with progress bars off (GX draws a tqdm bar per validation).
"""

from __future__ import annotations

import os

os.environ["GX_ANALYTICS_ENABLED"] = "False"

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
from great_expectations.core.run_identifier import RunIdentifier  # noqa: E402
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

__all__ = ["RunIdentifier", "ephemeral_context", "gx", "gxe"]


def ephemeral_context(data_docs_sites: dict | None = None):
    """A fresh in-memory GX data context: no analytics, no progress bars, and no Data Docs
    site but the ones given (GX's default ephemeral context adds one in a temp folder)."""
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites=data_docs_sites or {},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)
