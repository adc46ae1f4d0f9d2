"""`archived tui`: its options, the socket it connects to, and `--list-keys`."""

from __future__ import annotations

from pathlib import Path

import pytest

from archived.cli.common import socket_path
from archived.cli.main import build_parser, main
from archived_tui.keymap import binding_catalogue


@pytest.mark.parametrize(
    "argv",
    [["tui", "--socket", "/run/archived-test/x.sock"], ["--socket", "/run/archived-test/x.sock", "tui"]],
)
def test_socket_option_before_or_after_the_command(argv: list[str], monkeypatch) -> None:
    monkeypatch.delenv("ARCHIVED_SOCKET", raising=False)
    args = build_parser().parse_args(argv)
    assert args.command == "tui" and socket_path(args) == Path("/run/archived-test/x.sock")


def test_list_keys_prints_every_binding_id(capsys) -> None:
    assert main(["tui", "--list-keys"]) == 0
    out = capsys.readouterr().out
    for info in binding_catalogue():
        assert info.binding_id in out
