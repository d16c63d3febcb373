# Runs one command on a real pseudo-terminal for the simulator's `exec -t` and relays it over plain pipes, so that
# Node needs no native addon.
#
# Usage: pty-helper.py <executable> <argv0> [args...]
#   fd 0  keystrokes for the terminal (EOF = the client went away: hang up)
#   fd 1  everything the terminal prints (stdout and stderr are one stream on a tty)
#   fd 3  resize requests, one "<cols> <rows>\n" per line, applied with TIOCSWINSZ
# Exit status: the command's, or 128+signal when it was killed. SIGTERM kills the command's whole session.
import errno
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios

RESIZE_FD = 3


def set_size(fd, cols, rows):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def write_all(fd, data):
    while data:
        n = os.write(fd, data)
        data = data[n:]


def status_of(raw):
    if os.WIFSIGNALED(raw):
        return 128 + os.WTERMSIG(raw)
    return os.WEXITSTATUS(raw)


def main():
    path, argv = sys.argv[1], sys.argv[2:]
    pid, master = pty.fork()
    if pid == 0:
        try:
            os.execvp(path, argv)
        except OSError as err:
            os.write(2, ("exec: %s: %s\r\n" % (argv[0], err.strerror)).encode())
        os._exit(127)

    def terminate(_sig, _frame):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        os._exit(137)

    signal.signal(signal.SIGTERM, terminate)
    set_size(master, 80, 24)
    readers = [0, master, RESIZE_FD]
    pending = b""
    status = None
    while True:
        try:
            ready, _, _ = select.select(readers, [], [], 0.2)
        except InterruptedError:
            continue
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError as err:
                if err.errno != errno.EIO:
                    raise
                data = b""
            if not data:
                break  # every holder of the terminal is gone
            write_all(1, data)
        if 0 in ready:
            data = os.read(0, 65536)
            if not data:
                os.killpg(pid, signal.SIGHUP)  # the client went away: hang up, as a terminal would
                readers.remove(0)
            else:
                write_all(master, data)
        if RESIZE_FD in ready:
            data = os.read(RESIZE_FD, 4096)
            if not data:
                readers.remove(RESIZE_FD)
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                parts = line.split()
                if len(parts) == 2:
                    set_size(master, int(parts[0]), int(parts[1]))
        if status is None:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = status_of(raw)
                # The command is gone; background children may hold the terminal open. Drain what is there.
                readers = [master]
                fcntl.fcntl(master, fcntl.F_SETFL, fcntl.fcntl(master, fcntl.F_GETFL) | os.O_NONBLOCK)
                try:
                    while True:
                        data = os.read(master, 65536)
                        if not data:
                            break
                        write_all(1, data)
                except OSError:
                    pass
                break
    if status is None:
        _, raw = os.waitpid(pid, 0)
        status = status_of(raw)
    sys.exit(status)


main()
