"""The `webvi` command: serve a built site (more subcommands arrive with their features)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from webvi.server import STRICT_CSP, make_site_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SITE = PROJECT_ROOT / "dist"


def serve(args: argparse.Namespace) -> int:
    try:
        server = make_site_server(args.directory, port=args.port, csp=STRICT_CSP if args.csp else None)
    except (FileNotFoundError, OSError) as error:
        print(f"webvi serve: {error}", file=sys.stderr)
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
    parser = argparse.ArgumentParser(prog="webvi", description="Run WebVIs in the browser with Pyodide.")
    parser.add_argument("--verbose", action="store_true", help="log every request and step")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="serve a built site on 127.0.0.1")
    serve_parser.add_argument(
        "directory", nargs="?", type=Path, default=DEFAULT_SITE, help=f"site directory (default: {DEFAULT_SITE})"
    )
    serve_parser.add_argument("--port", type=int, default=8000, help="TCP port, 0 for any free port (default: 8000)")
    serve_parser.add_argument(
        "--csp", action="store_true", help=f'send the header "Content-Security-Policy: {STRICT_CSP}"'
    )
    serve_parser.set_defaults(handler=serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return args.handler(args)
