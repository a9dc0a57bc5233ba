"""Serve PyPI's httpbin with waitress on a loopback port.

Run this file as a script with the Python of .venv-httpbin/, never of .venv/, because
httpbin 0.10.4 pins greenlet<3.0 on Python < 3.12 while Playwright needs greenlet>=3.1.1.
So it imports only the standard library, httpbin and waitress, never webvi.
webvi.httpbin, which starts it, imports this module for its constants only.

Once the socket listens, the script prints one line to stdout, `LISTENING http://HOST:PORT/`,
and writes nothing else there. Logs go to stderr. When the socket cannot bind (for
example because the port is in use), it writes `cannot listen on HOST:PORT: REASON` to
stderr and exits with status EXIT_CANNOT_LISTEN.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    # Python puts this script's directory first on sys.path. There, webvi's httpbin.py
    # would shadow the httpbin package and webvi's types.py the standard library's
    # types module, so drop the directory before importing anything else.
    _script_dir = os.path.dirname(os.path.realpath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.realpath(entry or ".") != _script_dir]

import argparse  # noqa: E402 (the sys.path fix above must run first)
import socket  # noqa: E402

LISTENING_PREFIX = "LISTENING "
EXIT_CANNOT_LISTEN = 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="IP address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port to listen on, 0 for any free port (default: 0)")
    options = parser.parse_args()

    # Import before listening, so that the server starts serving right after the
    # LISTENING line.
    import waitress
    from httpbin import app

    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    url_host = f"[{options.host}]" if family == socket.AF_INET6 else options.host
    sock = socket.socket(family, socket.SOCK_STREAM)
    if os.name == "posix":
        # Lets a fixed port be reused while connections of an earlier run are in
        # TIME_WAIT. On Linux it does not let two servers listen on one port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((options.host, options.port))
        # waitress calls listen() again when it starts. Listening here already means
        # that a client connecting right after the LISTENING line waits in the backlog
        # instead of being refused.
        sock.listen()
    except OSError as error:
        sock.close()
        print(f"cannot listen on {url_host}:{options.port}: {error.strerror or error}", file=sys.stderr, flush=True)
        return EXIT_CANNOT_LISTEN

    port = sock.getsockname()[1]
    print(f"{LISTENING_PREFIX}http://{url_host}:{port}/", flush=True)

    waitress.serve(app, sockets=[sock], threads=16)
    return 0


if __name__ == "__main__":
    sys.exit(main())
