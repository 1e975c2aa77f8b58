"""`make run`'s process manager: honcho's, on Procfile.dev, with a quiet stop.

Plain `honcho start` answered Ctrl-C with SIGTERM to every process group, which runserver dies of ("web.1 stopped
(rc=-15)") and which killed Celery's pool processes ("exited with signal 15"), then exited 130, which make reported as
"Error 130": a normal stop read like a failure. Here each process is asked to stop the way it ends cleanly, and the run
ends with status 0 once they all have. A
process that stops by itself still stops the others and its status is the run's, as with honcho."""

import contextlib
import os
import signal
import sys
from pathlib import Path

import honcho.manager
from honcho import environ
from honcho.manager import Manager
from honcho.printer import Printer

INTERRUPTED = 130  # honcho's return code after it received SIGINT


# How each process of Procfile.dev (which `exec`s them, so the pid honcho knows is theirs) asks to be stopped, sent to
# it alone: runserver ends cleanly on SIGINT and dies of SIGTERM; Celery's worker and beat end cleanly on SIGTERM,
# and the worker stops its own pool (a signal to its whole process group killed the pool's children, which it then
# logged as errors: "exited with signal 15").
STOP_SIGNALS = {"web": signal.SIGINT}
# Celery's worker takes about 7 s to end on the filesystem broker; honcho's 5 s would kill it.
STOP_WAIT_SECONDS = 20


class _QuietManager(Manager):
    def _killall(self, force=False):
        for name, process in self._processes.items():
            if "returncode" in process:
                continue
            if force:
                self._system_print(f"{name} did not stop in time: killing it\n")
                self._procmgr.kill(process["pid"])
                continue
            self._system_print(f"stopping {name}\n")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(process["pid"], STOP_SIGNALS.get(name.split(".")[0], signal.SIGTERM))


def _own_the_terminal():
    """Make this process group the terminal's foreground one, so that Ctrl-C reaches this manager alone: make, left
    outside, no longer prints "Interrupt" nor exits 130 on a normal stop. Returns what gives the terminal back."""
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        return lambda: None
    previous = os.tcgetpgrp(tty)
    if previous != os.getpgrp():  # started in the background: leave the terminal alone
        os.close(tty)
        return lambda: None

    def hand_over(group):
        ignored = signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group may not take the terminal
        try:
            os.tcsetpgrp(tty, group)
        finally:
            signal.signal(signal.SIGTTOU, ignored)

    try:
        os.setpgid(0, 0)
        hand_over(os.getpgrp())
    except OSError:
        os.close(tty)
        return lambda: None

    def give_back():
        with contextlib.suppress(OSError):
            hand_over(previous)
        os.close(tty)

    return give_back


def main(procfile: str = "Procfile.dev") -> int:
    port = int(os.environ.get("PORT") or 8000)
    processes = environ.parse_procfile(Path(procfile).read_text()).processes
    manager = _QuietManager(Printer(sys.stdout))
    for process in environ.expand_processes(processes, port=port):
        manager.add_process(process.name, process.cmd, quiet=process.quiet, env={**os.environ, **process.env})
    honcho.manager.KILL_WAIT = STOP_WAIT_SECONDS
    give_back = _own_the_terminal()
    try:
        manager.loop()
    finally:
        give_back()
    if manager.returncode == INTERRUPTED:
        print("Stopped.")
        return 0
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
