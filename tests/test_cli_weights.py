"""Tests for matcher/cli_weights.py: ``matcher weights show | validate | diff | export``."""

from __future__ import annotations

import argparse

import pytest
from matcher_testlib import SECTORS_YAML

from matcher import load_sectors
from matcher.cli_weights import main, register
from matcher.weights import fingerprint


@pytest.fixture
def edited(tmp_path):
    """Write a copy of sectors.yaml with ``old`` replaced by ``new`` (once) -> its path."""

    def write(old, new, name="edited.yaml"):
        text = SECTORS_YAML.read_text(encoding="utf-8")
        assert old in text
        path = tmp_path / name
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path

    return write


def test_show_lists_criteria_points_and_tiers(capsys):
    assert main(["show"]) == 0
    out = capsys.readouterr().out
    assert "criterion" in out and "tier" in out
    assert any(line.split()[:3] == ["sector_fit", "30", "30.0"] for line in out.splitlines())
    assert any(line.split()[:2] == ["bilateral", "0.55"] for line in out.splitlines())
    assert fingerprint(load_sectors(SECTORS_YAML)) in out


def test_show_another_file_gives_points_of_100(edited, capsys):
    path = edited("    weight: 30\n", "    weight: 130\n")  # total 200: sector_fit = 65 points
    assert main(["weights", "show", "--sectors", str(path)]) == 0
    assert any(line.split()[:3] == ["sector_fit", "130", "65.0"] for line in capsys.readouterr().out.splitlines())


def test_validate_ok(capsys):
    assert main(["validate", str(SECTORS_YAML)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and ": ok (7 criteria, 26 sectors" in out


def test_validate_error_is_one_line_and_exit_2(edited, capsys):
    path = edited("weight: 0.7", "weight: 7")
    assert main(["validate", str(path)]) == 3  # invalid input
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert (
        captured.err.startswith("matcher: error: ")
        and "tiers.connectivity.weight: must be between 0 and 1" in captured.err
    )


def test_validate_missing_file(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 3
    assert "cannot read the file" in capsys.readouterr().err


def test_diff(edited, capsys):
    path = edited("    weight: 14\n", "    weight: 20\n")
    assert main(["diff", str(SECTORS_YAML), str(path)]) == 0
    assert capsys.readouterr().out == "criteria.green: 14 -> 20\n"
    assert main(["diff", str(SECTORS_YAML), str(SECTORS_YAML)]) == 0
    assert capsys.readouterr().out == "no differences in the weights\n"


def test_export_writes_a_file_that_validates(tmp_path, capsys):
    out = tmp_path / "out.yaml"
    assert main(["export", "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().err
    config = load_sectors(out)
    assert config.replace(path="") == load_sectors(SECTORS_YAML).replace(path="")
    assert main(["validate", str(out)]) == 0


def test_register_adds_the_group_to_a_parser():
    parser = argparse.ArgumentParser(prog="matcher")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["weights", "diff", "a.yaml", "b.yaml"])
    assert (args.command, args.weights_command, args.a, args.b) == ("weights", "diff", "a.yaml", "b.yaml")
    with pytest.raises(SystemExit):
        parser.parse_args(["weights"])


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("weight: 30", "weight: 1.0e+308", "criteria.sector_fit.weight: must be between 0 and 1000, not 1e+308"),
        ("weight: 30", "weight: .inf", "criteria.sector_fit.weight: must be a finite number, not inf"),
        ("weight: 0.7", "weight: .nan", "tiers.connectivity.weight: must be a finite number, not nan"),
    ],
)
def test_validate_refuses_weights_that_would_zero_every_score(edited, capsys, old, new, message):
    assert main(["validate", str(edited(old, new))]) == 3  # invalid input (matcher --help lists the codes)
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err
