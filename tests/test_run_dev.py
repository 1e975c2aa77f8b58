"""`make run`: the port comes from PORT, Ctrl-C ends it quietly with status 0 (no "signal 15", no make "Error 130"),
and the filesystem broker's connections name a host (kombu warned "No hostname was supplied" at each of them)."""

import contextlib
import logging
import os
import pty
import select
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

from django.conf import settings
from kombu import Connection

ROOT = Path(__file__).resolve().parent.parent


def test_the_filesystem_broker_connects_without_a_warning(caplog, tmp_path):
    connection = Connection(
        settings.FILESYSTEM_BROKER_URL,
        transport_options={"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)},
    )

    with caplog.at_level(logging.WARNING):
        connection.connect()
        connection.release()

    assert connection.hostname == "localhost"
    assert not [record for record in caplog.records if "hostname" in record.getMessage()]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _read(fd: int, seconds: float, until: bytes | None = None) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the terminal's other end closed: everything has exited
            break
        if not chunk:
            break
        out += chunk
        if until is not None and until in out:
            break
    return out


def test_ctrl_c_ends_make_run_s_processes_quietly(tmp_path):
    """The run target's last line, under make, in a terminal: Ctrl-C (typed as ^C, so the terminal signals the
        foreground process group as it does for a person) stops the three processes with status 0. The database is left
    empty: what the processes do meanwhile does not matter here."""
    assert shutil.which("make"), "make is needed"
    port = _free_port()
    makefile = tmp_path / "Makefile"
    makefile.write_text(f"run:\n\t{sys.executable} -m hiboo_connect.run_dev Procfile.dev\n")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PORT": str(port),
        "DEBUG": "true",
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: make, in its own terminal
        os.chdir(ROOT)
        os.execvpe("make", ["make", "-s", "-f", str(makefile), "run"], env)
    try:
        started = _read(fd, 60, until=b"beat: Starting")
        started += _read(fd, 3)
        assert f"127.0.0.1:{port}".encode() in started, started.decode(errors="replace")[-3000:]
        os.write(fd, b"\x03")
        stopping = _read(fd, 40)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # only if it did not end by itself
    _, status = os.waitpid(pid, 0)
    output = (started + stopping).decode(errors="replace")

    assert os.waitstatus_to_exitcode(status) == 0, output[-3000:]
    assert "Stopped." in stopping.decode(errors="replace")
    for stopped in ("web.1 stopped (rc=0)", "worker.1 stopped (rc=0)", "beat.1 stopped (rc=0)"):
        assert stopped in output
    for alarming in ("signal 15", "Error 130", "Interrupt", "No hostname was supplied", "killing it"):
        assert alarming not in output
