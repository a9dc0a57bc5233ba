"""The `webvi` command: serve a built site, run the demo, run a VI headless."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

from webvi.server import STRICT_CSP, make_site_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A source checkout (editable install) serves its own dist/; an installed webvi serves ./dist.
DEFAULT_SITE = PROJECT_ROOT / "dist" if (PROJECT_ROOT / "build.py").is_file() else Path("dist")


def port_number(text: str) -> int:
    """Parse a TCP port for argparse: 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range; use 0 to 65535 (0 picks a free port)")
    return port


def serve(args: argparse.Namespace) -> int:
    try:
        server = make_site_server(args.directory, port=args.port, csp=STRICT_CSP if args.csp else None)
    except FileNotFoundError as error:
        print(f"webvi serve: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(
            f"webvi serve: cannot listen on 127.0.0.1:{args.port}: {error.strerror or error}. "
            "Choose another port with --port, or --port 0 for any free port.",
            file=sys.stderr,
        )
        return 2
    print(f"Serving {args.directory} at {server.url} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS keeps a subcommand's parser from resetting a --verbose given before it.
    common.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help="log the site server's requests and the page's console messages")
    parser = argparse.ArgumentParser(
        prog="webvi", description="Run WebVIs in the browser with Pyodide.", parents=[common]
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="serve a built site on 127.0.0.1", parents=[common])
    serve_parser.add_argument(
        "directory", nargs="?", type=Path, default=DEFAULT_SITE, help=f"site directory (default: {DEFAULT_SITE})"
    )
    serve_parser.add_argument(
        "--port", type=port_number, default=8000, help="TCP port, 0 for any free port (default: 8000)"
    )
    serve_parser.add_argument(
        "--csp", action="store_true", help=f'send the header "Content-Security-Policy: {STRICT_CSP}"'
    )
    serve_parser.set_defaults(handler=serve)

    # `demo` and `run` live in modules of their own; they import them only when used.
    for name, help_text in (
        ("demo", "build if needed, then serve the example with a local httpbin and print its URL"),
        ("run", "run a VI once in headless Chromium and print its indicators as JSON"),
    ):
        module = importlib.import_module(f"webvi.commands.{name}")
        command_parser = commands.add_parser(name, help=help_text, description=module.__doc__, parents=[common])
        module.add_arguments(command_parser)
        command_parser.set_defaults(handler=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    verbose = getattr(args, "verbose", False)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return args.handler(args)
