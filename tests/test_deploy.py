"""The documented deploy path: the image's Dockerfile agrees with pyproject, and the package runs
from a regular (non-editable) wheel install, templates included."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _installed_packages() -> set[str]:
    """The top-level packages pyproject's setuptools configuration installs."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    include = config["packages"]["find"]["include"]
    return {name.split(".")[0] for name in include if "*" not in name}


def test_the_dockerfile_copies_every_package_pyproject_installs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) \./\1$", dockerfile, re.MULTILINE))
    assert _installed_packages() <= copied
    readme = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["readme"]
    assert re.search(rf"^COPY pyproject\.toml {re.escape(readme)} \./$", dockerfile, re.MULTILINE)
    assert all((ROOT / name / "__init__.py").exists() for name in _installed_packages())
    # The dependency layer installs the project from stubs: one per package, or `pip install .`
    # fails (or installs less than the image later expects).
    stubs = set(re.findall(r"(\w+)/__init__\.py", dockerfile.split("COPY app ./app")[0]))
    assert _installed_packages() <= stubs


def test_the_entry_point_runs_from_a_wheel_in_a_fresh_venv(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("idealdiff-*.whl")
    env_dir = tmp_path / "venv"
    # The dependencies come from this interpreter's site-packages; idealdiff itself only from
    # the wheel (the checkout's editable install is not visible: a fresh venv, run elsewhere).
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--force-reinstall",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    where = subprocess.run(
        [str(python), "-c", "import app, prompts; print(app.__file__, prompts.__file__)"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert str(ROOT) not in where  # the wheel's copy, not the checkout
    demo = subprocess.run(
        [str(env_dir / "bin" / "idealdiff"), "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "IDEALDIFF_DATA_DIR": str(tmp_path)},
    )
    assert demo.returncode in (0, 1), demo.stderr
    assert "Redundant implementations" in demo.stdout
