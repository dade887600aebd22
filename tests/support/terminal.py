"""Run a command in a pseudo-terminal and type answers at its prompts, as a user would.

`python -m tests.support.terminal ANSWERS_JSON -- COMMAND...` prints the terminal's transcript and
exits with the command's status. It runs in a process of its own: forking the (threaded) test
process to make the terminal would be unsafe.
"""

import json
import os
import pty
import select
import sys
import time

PROMPT_END = b": "
TIMEOUT_SECONDS = 120.0


def run(command: list[str], answers: list[str]) -> tuple[int, bytes]:
    """Run `command` with a terminal; each time it waits at a prompt, type the next answer."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: its stdin, stdout and controlling terminal are the pty
        os.execvp(command[0], command)  # noqa: S606 - the caller's command, by design
    pending, transcript = list(answers), b""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([terminal], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # EIO: the command ended and closed the terminal
            break
        if not chunk:
            break
        transcript += chunk
        if pending and transcript.endswith(PROMPT_END):  # e.g. getpass's "Password: "
            os.write(terminal, pending.pop(0).encode() + b"\n")
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), transcript


def main() -> None:
    answers = json.loads(sys.argv[1])
    command = sys.argv[sys.argv.index("--") + 1 :]
    code, transcript = run(command, answers)
    sys.stdout.write(transcript.decode(errors="replace"))
    sys.exit(code)


if __name__ == "__main__":
    main()
