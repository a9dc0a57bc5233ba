"""Serve httpbin with waitress on a free loopback port.

Run it with the Python of .venv-httpbin/, never of .venv/, because httpbin 0.10.4 pins
greenlet<3.0 on Python < 3.12 while Playwright needs greenlet>=3.1.1. It must not import
webvi. Once the socket listens, the script prints one line to stdout,
`LISTENING http://HOST:PORT/`, and writes nothing else there. Logs go to stderr.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="IP address to listen on (default: 127.0.0.1)")
    options = parser.parse_args()

    # Python puts this script's directory first on sys.path, and tests/support/httpbin.py
    # there would shadow the httpbin package.
    script_dir = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != script_dir]

    # Import before listening, so that the server starts serving right after the
    # LISTENING line.
    import waitress
    from httpbin import app

    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((options.host, 0))
    # waitress calls listen() again when it starts. Listening here already means that
    # a client connecting right after the LISTENING line waits in the backlog instead
    # of being refused.
    sock.listen()
    port = sock.getsockname()[1]
    url_host = f"[{options.host}]" if family == socket.AF_INET6 else options.host
    print(f"LISTENING http://{url_host}:{port}/", flush=True)

    waitress.serve(app, sockets=[sock], threads=16)


if __name__ == "__main__":
    sys.exit(main())
