"""The command registry: one line registers a command module; cli builds --help from it."""

from __future__ import annotations

import sys
import types

import pytest
from fakeworld import make_world, out
from labhost import cli, commands


@pytest.mark.parametrize("name", list(commands.COMMANDS))
def test_every_registered_command_loads_from_its_own_module(name: str) -> None:
    command = commands.load(name)

    assert isinstance(command, commands.Command)
    assert commands.COMMANDS[name].startswith("labhost.commands.")
    assert command.help


def test_a_module_registered_with_one_line_is_a_command(tmp_path, monkeypatch, capsys) -> None:
    module = types.ModuleType("labhost.commands.hello")

    def run(args, world) -> int:
        world.say(f"hello {args.who}")
        return 7

    module.COMMAND = commands.Command(
        help="say hello", run=run, arguments=lambda parser: parser.add_argument("--who", default="class")
    )
    monkeypatch.setitem(sys.modules, "labhost.commands.hello", module)
    monkeypatch.setitem(commands.COMMANDS, "hello", "labhost.commands.hello:COMMAND")
    world = make_world(tmp_path, "no-gpu")

    assert cli.main(["hello", "--who", "Lan"], world) == 7
    assert out(world) == "hello Lan\n"
    with pytest.raises(SystemExit):
        cli.main(["--help"], world)
    assert "say hello" in capsys.readouterr().out


def test_passthrough_commands_hand_their_options_to_compose() -> None:
    loaded = {name: commands.load(name) for name in commands.COMMANDS}

    assert cli.split_passthrough(["logs", "--flavour", "cpu", "-f", "lab"], loaded) == (
        ["logs", "--flavour", "cpu"],
        ["-f", "lab"],
    )
    assert cli.split_passthrough(["doctor", "--json"], loaded) == (["doctor", "--json"], [])


def test_release_reads_the_json_the_gate_prints_after_its_own_lines():
    from labhost.commands import release

    text = '[lab] Checking TensorFlow\n{\n "verdict": {\n  "status": "cpu"\n }\n}\n'
    assert release.last_json(text) == {"verdict": {"status": "cpu"}}
    assert release.last_json('[lab] x\n{"a": 1}\n') == {"a": 1}
