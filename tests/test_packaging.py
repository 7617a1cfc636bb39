"""The wheel: it carries everything the code reads at run time, and runs from any folder.

The wheel is built from a copy of the sources (so the build leaves nothing in the working
tree), unpacked into a folder of its own and put first on ``PYTHONPATH``; every command then
runs in another empty folder, as after ``pip install hanoi-matcher-*.whl``. The third-party
packages come from this interpreter. ``.ci/wheel_smoke.sh`` does the same in fresh venvs.
"""

from __future__ import annotations

import email
import os
import re
import secrets
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from matcher_testlib import ROOT, read_csv

#: The wheel is built once (a module fixture): its tests stay on one pytest-xdist process.
pytestmark = pytest.mark.xdist_group("wheel")

#: What the wheel is built from: setup.cfg's packages and the files it names.
SOURCES = ("setup.cfg", "pyproject.toml", "MANIFEST.in", "README.md", "LICENSE", "matcher", "web")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from a copy of its sources."""
    base = tmp_path_factory.mktemp("wheel")
    (base / "src").mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, base / "src" / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, base / "src" / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(base / "dist"), str(base / "src")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next((base / "dist").glob("hanoi_matcher-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel) -> Path:
    """The wheel unpacked, as pip would install it: the folder to put on ``PYTHONPATH``."""
    site = wheel.parent.parent / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


@pytest.fixture
def elsewhere(tmp_path, installed):
    """Run ``python ARGS...`` with only the unpacked wheel on the path, in an empty folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATCHER_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        PYTHONPATH=str(installed),
        MATCHER_CACHE_DIR=str(tmp_path / "cache"),
        SECRET_KEY=secrets.token_hex(32),
        PYTHONDONTWRITEBYTECODE="1",
    )
    folder = tmp_path / "elsewhere"
    folder.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=180)

    run.folder = folder
    return run


def _names(requires: list[str], extra: str | None) -> set[str]:
    """The distributions among ``Requires-Dist`` lines needed always (``extra=None``) or by ``extra``."""
    marker = f'extra == "{extra}"' if extra else None
    return {re.match(r"[\w.-]+", r).group().lower() for r in requires if (marker in r if marker else ";" not in r)}


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(archive.read(name))


def test_the_wheel_carries_the_data_files_and_the_licence(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for name in (
        "matcher/data/sectors.yaml",
        "matcher/data/sample_profiles.csv",
        "matcher/data/sector_model.json",
        "matcher/data/sector_phrases.csv",
        "web/migrations/env.py",
        "web/migrations/script.py.mako",
        "web/migrations/alembic.ini",
    ):
        assert name in names
    assert any(n.startswith("web/migrations/versions/") and n.endswith(".py") for n in names)
    assert any(n.endswith(".dist-info/LICENSE") or "/licenses/LICENSE" in n for n in names)
    assert not any(n.startswith(("tests/", "bench/", "migrations/", "profiles/")) or "__pycache__" in n for n in names)


def test_the_metadata_states_python_311_and_the_web_extra(wheel):
    meta = _metadata(wheel)
    assert meta["Requires-Python"] == ">=3.11"
    requires = meta.get_all("Requires-Dist")
    library = _names(requires, None)
    assert {"numpy", "scipy", "scikit-learn", "pyarrow", "pyyaml", "pystemmer", "tqdm", "threadpoolctl"} <= library
    assert not library & {"flask", "sqlalchemy", "alembic", "psycopg", "redis", "rq", "gunicorn"}
    web = _names(requires, "web")
    assert {"flask", "flask-sqlalchemy", "sqlalchemy", "alembic", "psycopg", "redis", "rq", "gunicorn"} <= web
    assert any(r.startswith("hanoi-matcher[web]") and 'extra == "test"' in r for r in requires)
    assert set(meta.get_all("Provides-Extra")) == {"web", "test"}


def test_the_web_commands_plug_into_matcher_through_entry_points(wheel):
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
        text = archive.read(name).decode()
    assert "[console_scripts]\nmatcher = matcher.cli:entry" in text
    group = text.split("[matcher.commands]\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert sorted(group) == ["db = web.cli:add_db", "serve = web.cli:add_serve", "worker = web.cli:add_worker"]


def test_matcher_score_and_assess_run_from_another_folder(elsewhere, installed):
    sample = shutil.copy(installed / "matcher" / "data" / "sample_profiles.csv", elsewhere.folder / "in.csv")
    done = elsewhere("-m", "matcher.cli", "score", sample, "-o", "out.csv")
    assert done.returncode == 0, done.stderr
    assert "48 rows: 48 scored" in done.stderr
    assert len(read_csv(elsewhere.folder / "out.csv")) == 49
    done = elsewhere(
        "-c",
        "import matcher; print(matcher.__file__); "
        "print(matcher.assess({'name': 'A', 'description': 'software', 'training': 'yes'}).score)",
    )
    assert done.returncode == 0, done.stderr
    where, score = done.stdout.split()
    assert where == str(installed / "matcher" / "__init__.py")
    assert 0 < float(score) <= 100


def test_the_web_app_starts_from_another_folder(elsewhere, installed, tmp_path):
    script = (
        "import sys, web\n"
        "from web import create_app\n"
        "from web.commands import bootstrap\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    loaded, _ = bootstrap()\n"
        "status = app.test_client().get('/assess').status_code\n"
        "print(web.__file__, loaded, status)\n"
    )
    env_db = f"sqlite:///{tmp_path / 'app.sqlite'}"
    done = elsewhere("-c", f"import os; os.environ['DATABASE_URL'] = {env_db!r}\n" + script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(installed / "web" / "__init__.py"), "48", "200"]
