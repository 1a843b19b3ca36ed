"""The ``pictograph-fake`` command: ``serve`` the fake over HTTP, or run the ``demo``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

DEFAULT_SPEED = 10.0
"""Virtual seconds per real second when serving: a typical run ends in about a minute."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pictograph-fake",
        description="A deterministic, in-memory fake of the Pictograph API.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the fake over HTTP for offline work")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default: loopback)")
    serve.add_argument("--port", type=int, default=8765, help="port (0: any free one)")
    serve.add_argument("--profile", default="classic", choices=("classic", "current"))
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument(
        "--speed",
        type=float,
        default=DEFAULT_SPEED,
        help="virtual seconds per real second; 0 moves time only by hand",
    )
    serve.add_argument("--balance-usd", type=float, default=100.0)
    serve.add_argument("--api-key", default=None, help="the key to accept (default: generated)")
    serve.add_argument("--scenario", default=None, help="a scenario name or JSON file to load")

    demo = commands.add_parser("demo", help="train a model on an in-memory fake and show it")
    demo.add_argument("--seed", type=int, default=1)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from pictograph_testing.demo import run_demo

        run_demo(seed=args.seed, out=sys.stdout)
        return 0
    return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    import socket

    try:
        import uvicorn
    except ImportError:
        print(
            "pictograph-fake serve needs uvicorn: pip install 'pictograph-testing[server]'",
            file=sys.stderr,
        )
        return 2

    from pictograph_testing.fake import FakePictograph
    from pictograph_testing.server import FakeAsgiApp

    # Bind first, so the printed base URL carries the real port even for --port 0.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    host, port = sock.getsockname()[:2]
    base_url = f"http://{host}:{port}"

    def make_fake() -> FakePictograph:
        return FakePictograph(
            seed=args.seed,
            profile=args.profile,
            balance_usd=args.balance_usd,
            base_url=base_url,
            speed=args.speed,
            api_key=args.api_key,
            scenario=args.scenario,
        )

    app = FakeAsgiApp(make_fake)
    print(f"pictograph-fake serving {base_url}", flush=True)
    print(f"  PICTOGRAPH_BASE_URL={base_url}", flush=True)
    print(f"  PICTOGRAPH_API_KEY={app.fake.api_key}", flush=True)
    print(
        f"  profile {args.profile}, seed {args.seed}, {args.speed:g}x real time; "
        f"control routes under {base_url}/_fake/",
        flush=True,
    )
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
