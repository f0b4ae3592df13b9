"""The command line starts without loading what only the services need: every `talkoot`
command (and the tests' many) would pay for Litestar and NATS's client before doing anything."""

from __future__ import annotations

import subprocess
import sys


def test_the_command_line_loads_neither_the_web_framework_nor_the_nats_client():
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            # its commands parsed, as `talkoot --help` and every command does first
            "import sys, services.cli; services.cli.parser(); print(' '.join(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    heavy = [name for name in loaded if name.split(".")[0] in {"litestar", "nats", "aiohttp"}]
    assert not heavy, f"the command line's parser loads {heavy[:5]}"
