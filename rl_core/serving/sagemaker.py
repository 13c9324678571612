"""The serving image's `serve` command: SageMaker's inference container contract.

SageMaker starts the container as `docker run IMAGE serve`, unpacks the model's
`model.tar.gz` into /opt/ml/model, expects `GET /ping` and `POST /invocations` on port
8080, and gives the container no network (terraform/modules/serving). This module runs the
same FastAPI app as `forecourt serve` (rl_core.serving.app) on 0.0.0.0 with the champion
read from that folder, in either layout:

    one bundle          <dir>/bundle.json + <dir>/policy.pt2 (rl_core.training.bundle;
                        `tar -C <bundle> -czf model.tar.gz .`); its version is a hash of
                        its two files, its agent the one in bundle.json
    a champion folder   <dir>/<agent>/<version>/ bundles + <dir>/<agent>/CHAMPION
                        (rl_core.serving.sources.DirectorySource)

Environment (all optional):

    SM_MODEL_DIR, then FORECOURT_SERVING_SOURCE    the model folder (default /opt/ml/model)
    FORECOURT_AGENT                 agents to serve, comma-separated (default: every agent
                                    the folder holds); Terraform sets it per endpoint
    SAGEMAKER_BIND_TO_PORT, then PORT               the port (default 8080)

The folder never changes while the container runs, so there is no polling for new
champions: a new champion is a new model.tar.gz, which SageMaker rolls out as a new
container. A folder that holds nothing servable stops the container at once with a
message, instead of answering /ping with 503 until SageMaker gives up.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from rl_core.errors import ForecourtError
from rl_core.market.model import OBJECTIVES, check_objective
from rl_core.serving.sources import CHAMPION_FILE, DirectorySource, ModelSource
from rl_core.training.bundle import BUNDLE_FILE, POLICY_FILE, PolicyBundle, read_bundle

DEFAULT_MODEL_DIR = "/opt/ml/model"
DEFAULT_PORT = 8080


class ModelDirError(ForecourtError):
    """A model folder the container cannot serve from."""


class BundleSource:
    """One bundle folder as a model source: it is the champion of its own agent."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.bundle = read_bundle(path)
        digest = hashlib.sha256()
        for name in (BUNDLE_FILE, POLICY_FILE):
            digest.update((self.bundle.path / name).read_bytes())
        self._version = f"sha256-{digest.hexdigest()[:12]}"

    def __repr__(self) -> str:
        return f"BundleSource({str(self.bundle.path)!r})"

    @property
    def agent(self) -> str:
        return self.bundle.agent

    def version(self, agent: str) -> str | None:
        return self._version if agent == self.bundle.agent else None

    def load(self, agent: str) -> tuple[PolicyBundle, str] | None:
        if agent != self.bundle.agent:
            return None
        return read_bundle(self.bundle.path), self._version


def model_dir(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("SM_MODEL_DIR") or env.get("FORECOURT_SERVING_SOURCE") or DEFAULT_MODEL_DIR)


def port(env: Mapping[str, str] = os.environ) -> int:
    raw = env.get("SAGEMAKER_BIND_TO_PORT") or env.get("PORT") or str(DEFAULT_PORT)
    try:
        value = int(raw)
    except ValueError:
        raise ModelDirError(f"port {raw!r} is not a number") from None
    if not 0 < value < 65536:
        raise ModelDirError(f"port {value} is outside 1..65535")
    return value


def _agents_from(spec: str | None) -> list[str]:
    if not spec:
        return []
    return [check_objective(a.strip()) for a in spec.split(",") if a.strip()]


def source_for(
    directory: str | os.PathLike, agents: Sequence[str] = ()
) -> tuple[ModelSource, list[str]]:
    """The source for a model folder in either layout, and the agents to serve from it."""
    root = Path(directory)
    if not root.is_dir():
        raise ModelDirError(
            f"model folder {root} does not exist (SageMaker unpacks model.tar.gz there; "
            "locally, point SM_MODEL_DIR at a bundle folder)"
        )
    wanted = list(agents)
    if (root / BUNDLE_FILE).is_file() or (root / POLICY_FILE).is_file():
        source = BundleSource(root)  # BundleError (a ForecourtError) names a broken bundle
        if wanted and wanted != [source.agent]:
            raise ModelDirError(
                f"{root} holds one {source.agent!r} bundle, but {', '.join(wanted)} "
                "should be served (FORECOURT_AGENT)"
            )
        return source, [source.agent]
    if not wanted:
        wanted = [a for a in OBJECTIVES if (root / a / CHAMPION_FILE).is_file()]
    if not wanted:
        found = sorted(p.name for p in root.iterdir())[:10]
        raise ModelDirError(
            f"{root} holds no model: expected a bundle ({BUNDLE_FILE} + {POLICY_FILE}) or "
            f"<agent>/<version>/ bundles with <agent>/{CHAMPION_FILE}; found {found or 'nothing'}"
        )
    return DirectorySource(root), wanted


def build_app(directory: str | os.PathLike, agents: Sequence[str] = ()):
    """The app, its champions already loaded; raises ModelDirError when one cannot be."""
    from rl_core.serving.app import create_app

    source, served = source_for(directory, agents)
    app = create_app(source, served, refresh_interval=None)
    holder = app.state.holder
    holder.refresh()  # load now: the app's own start-up refresh then finds nothing new
    problems = holder.problems()
    if problems:
        raise ModelDirError(
            "cannot serve: " + "; ".join(f"{a}: {why}" for a, why in sorted(problems.items()))
        )
    return app


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="serve",
        description="Forecourt's SageMaker inference server (GET /ping, POST /invocations).",
    )
    p.add_argument(
        "--model-dir",
        default=None,
        help=f"default $SM_MODEL_DIR, $FORECOURT_SERVING_SOURCE or {DEFAULT_MODEL_DIR}",
    )
    p.add_argument("--host", default="0.0.0.0", help="interface to bind (default: all)")
    p.add_argument(
        "--port", type=int, default=None, help="default $SAGEMAKER_BIND_TO_PORT, $PORT or 8080"
    )
    p.add_argument(
        "--agents", default=None, help="comma-separated (default: $FORECOURT_AGENT or all found)"
    )
    p.add_argument("--log-level", default="info", help="uvicorn log level")
    return p


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s"
    )
    try:
        directory = Path(args.model_dir) if args.model_dir else model_dir(env)
        bind_port = args.port if args.port is not None else port(env)
        app = build_app(directory, _agents_from(args.agents or env.get("FORECOURT_AGENT")))
    except ForecourtError as exc:
        print(f"serve: error: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    versions = app.state.holder.versions()
    print(
        f"serve: http://{args.host}:{bind_port} from {directory} "
        f"({', '.join(f'{a} {v}' for a, v in versions.items())})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=bind_port, log_level=args.log_level, workers=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
