""".env.example documents every environment variable the code reads, in a form every loader reads alike."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / ".env.example"
SOURCES = [*sorted((ROOT / "matcher").rglob("*.py")), *sorted((ROOT / "web").rglob("*.py")), ROOT / "gunicorn.conf.py"]
#: ``NAME=value``, or the same commented out: the documented names
ASSIGNMENT = re.compile(r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$", re.MULTILINE)


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def environ_names(source: str) -> set[str]:
    """The names in ``os.environ[...]``, ``os.environ.get/setdefault/pop(...)`` and ``os.getenv(...)``."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        key = None
        if isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            key = node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            environ_call = _is_os_environ(node.func.value) and node.func.attr in ("get", "setdefault", "pop")
            getenv = node.func.attr == "getenv" and isinstance(node.func.value, ast.Name) and node.func.value.id == "os"
            key = node.args[0] if environ_call or getenv else None
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def test_the_scanner_finds_every_form():
    source = (
        "import os\nos.environ['A']\nos.environ.get('B')\nos.getenv('C', 'x')\n"
        "os.environ.setdefault('D', '1')\nos.environ.pop('E', None)\nd.get('F')\n"
    )
    assert environ_names(source) == {"A", "B", "C", "D", "E"}


def documented() -> set[str]:
    """The names .env.example sets or shows commented out."""
    return {name for name, _value in ASSIGNMENT.findall(EXAMPLE.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_variable_read_is_in_env_example(path):
    missing = environ_names(path.read_text(encoding="utf-8")) - documented()
    assert not missing, f"{path.relative_to(ROOT)} reads {sorted(missing)}: document them in .env.example"


def test_the_app_and_cli_variables_are_all_documented():
    read = set().union(*(environ_names(p.read_text(encoding="utf-8")) for p in SOURCES))
    assert (
        {
            "SECRET_KEY",
            "DATABASE_URL",
            "REDIS_URL",
            "LOG_LEVEL",
            "MATCHER_SECTORS",
            "MATCHER_CACHE_DIR",
            "MATCHER_ADMIN_PASSWORD",
            "WEB_CONCURRENCY",
        }
        <= read
        <= documented()
    )
    # settings read through app.config.from_prefixed_env("MATCHER"), which no os.environ call shows
    assert {
        "MATCHER_TRUSTED_PROXIES",
        "MATCHER_LOGIN_RATE_LIMIT",
        "MATCHER_ASSESS_RATE_LIMIT",
        "MATCHER_RATELIMIT_ENABLED",
        "MATCHER_SESSION_COOKIE_SECURE",
        "MATCHER_BATCH_DIR",
        "MATCHER_DB_CONNECT_TIMEOUT",
        "MATCHER_DB_STATEMENT_TIMEOUT",
        "MATCHER_DB_POOL_TIMEOUT",
        "MATCHER_REDIS_TIMEOUT",
    } <= documented()


def test_every_line_is_a_comment_or_a_plain_assignment():
    """Shell, systemd's EnvironmentFile and docker's --env-file read it alike: no quotes, no spaces in values."""
    for number, line in enumerate(EXAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*=[^\s\"'#$`]*", line), f".env.example:{number}: {line}"
    for name, value in ASSIGNMENT.findall(EXAMPLE.read_text(encoding="utf-8")):
        assert re.fullmatch(r"[^\s\"'#$`]*", value), f"{name}={value}"
    names = [name for name, _value in ASSIGNMENT.findall(EXAMPLE.read_text(encoding="utf-8"))]
    assert len(names) == len(set(names)), "a variable is listed twice"
