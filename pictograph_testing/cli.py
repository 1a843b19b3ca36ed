"""The ``pictograph-fake`` command: ``serve`` the fake over HTTP, or run the ``demo``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TYPE_CHECKING
from urllib.parse import quote

from pictograph_testing.bounds import MAX_SEED
from pictograph_testing.journal import JOURNAL_LIMIT
from pictograph_testing.server import CONTROL_KEY_HEADER

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["CONTROL_KEY_ENV", "DEFAULT_SPEED", "main"]

CONTROL_KEY_ENV = "PICTOGRAPH_FAKE_CONTROL_KEY"
"""The environment variable ``serve`` reads its control key from, and prints it as."""

DEFAULT_SPEED = 10.0
"""Virtual seconds per real second when serving: a typical run (about 12 virtual minutes
for YOLOX on a hundred images) ends in about a minute."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pictograph-fake",
        description="A deterministic, in-memory fake of the Pictograph API.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="serve the fake over HTTP for offline work",
        description="Serve a fake over HTTP. Point the SDK (or its CLI) at it with "
        "PICTOGRAPH_BASE_URL and PICTOGRAPH_API_KEY, as printed at start.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface (default: loopback)")
    serve.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0: any free)")
    serve.add_argument("--profile", default=None, choices=("classic", "current"))
    serve.add_argument("--seed", type=int, default=None, help="the world's seed (default 0)")
    serve.add_argument(
        "--speed",
        type=float,
        default=DEFAULT_SPEED,
        help=f"virtual seconds per real second (default {DEFAULT_SPEED:g}); 0 moves time "
        "only through POST /_fake/clock/advance",
    )
    serve.add_argument("--balance-usd", type=float, default=None, help="allowance (default 100)")
    serve.add_argument("--api-key", default=None, help="the key to accept (default: generated)")
    serve.add_argument(
        "--sdk-version",
        default=None,
        metavar="X.Y.Z",
        help="answer in this SDK release's wire dialect whatever the User-Agent says "
        "(default: the caller's release from its User-Agent, else the newest)",
    )
    serve.add_argument(
        "--scenario", default=None, help="a scenario name (see `scenarios`) or a JSON file"
    )
    _scenario_dir_option(serve)
    serve.add_argument(
        "--control-key",
        default=None,
        metavar="KEY",
        help=f"the key control routes need in {CONTROL_KEY_HEADER} (default: "
        f"${CONTROL_KEY_ENV}, else a new random one, printed at start)",
    )
    serve.add_argument(
        "--no-control-auth",
        action="store_true",
        help="let control routes answer without a key (anyone who can reach the port "
        "can reset the world and read its API keys)",
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="answer to this Host name too (repeatable); by default only the bound "
        "address and localhost, against DNS rebinding",
    )
    serve.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="the address clients reach the server at, when not the bound one "
        "(http://fake:8765 from another container): written into signed upload and "
        "download URLs and answered to as a Host (default: the bound address)",
    )
    serve.add_argument(
        "--journal-limit",
        type=int,
        default=JOURNAL_LIMIT,
        metavar="N",
        help=f"calls the journal keeps, the newest (default {JOURNAL_LIMIT:,})",
    )

    demo = commands.add_parser(
        "demo", help="train a model on an in-memory fake through the real SDK and show it"
    )
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument(
        "--report",
        default=None,
        metavar="FILE",
        help="end by writing the world as a self-contained HTML report to FILE",
    )

    listing = commands.add_parser("scenarios", help="list the scenario names --scenario takes")
    _scenario_dir_option(listing)
    return parser


def _scenario_dir_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--scenario-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of scenario files (NAME.json), loaded by name, also over HTTP "
        "(repeatable; searched before the package's own)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from pictograph_testing.demo import run_demo

        # Progress bars and arrows are not ASCII: never fail on a terminal that cannot
        # show them, show a stand-in instead.
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(errors="replace")
        # Checked before the demo runs, as `serve` checks its own: usage errors, exit 2.
        if not 0 <= args.seed <= MAX_SEED:
            print(
                f"pictograph-fake: --seed must be from 0 to 2**53, got {args.seed}", file=sys.stderr
            )
            return 2
        if args.report is not None and (not args.report or os.path.isdir(args.report)):
            print(
                f"pictograph-fake: --report: {args.report!r} is no file to write", file=sys.stderr
            )
            return 2
        try:
            run_demo(seed=args.seed, out=sys.stdout, report=args.report)
        except BrokenPipeError:
            # `demo | head`: the reader has what it wanted; nothing more to flush at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except OSError as exc:  # the report could not be written
            print(f"pictograph-fake: --report: {exc}", file=sys.stderr)
            return 1
        return 0
    from pictograph_testing.scenarios import available_scenarios, scenario_folder

    try:
        # Before anything else (for `serve`, before the port is bound): a folder that is
        # not there would be searched in silence and its scenarios never found.
        args.scenario_dir = [scenario_folder(folder) for folder in args.scenario_dir]
    except ValueError as exc:
        print(f"pictograph-fake: --scenario-dir: {exc}", file=sys.stderr)
        return 2
    if args.command == "scenarios":
        for name in available_scenarios(args.scenario_dir):
            print(name)
        return 0
    return _serve(args)


def _port(text: str) -> int:
    """A TCP port for ``--port``: 0 (any free one) to 65535, or argparse's usage error."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 (any free one) to 65535, got {port}")
    return port


def _serve(args: argparse.Namespace) -> int:
    from pictograph_testing.server import require_uvicorn

    # The banner names URLs and keys as given: a terminal that cannot show a character
    # gets an escape for it, not a traceback after the port was bound.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")

    try:
        require_uvicorn()
    except ModuleNotFoundError as missing:
        print(missing, file=sys.stderr)
        return 2

    from pictograph_testing.server import (
        FakeAsgiApp,
        base_url_of,
        bind,
        fake_factory,
        new_control_key,
        public_base_url,
        served_hosts,
        uvicorn_server,
    )

    if args.speed < 0:
        print("--speed must be 0 (time moves by hand) or positive", file=sys.stderr)
        return 2
    if args.journal_limit < 1:
        print("--journal-limit must be 1 or more", file=sys.stderr)
        return 2
    if args.no_control_auth and args.control_key:
        print("give --control-key or --no-control-auth, not both", file=sys.stderr)
        return 2
    # The flag wins over the environment: the variable may be left over from the
    # `export` line an earlier `serve` printed.
    control_key = (
        None
        if args.no_control_auth
        else args.control_key or os.environ.get(CONTROL_KEY_ENV) or new_control_key()
    )
    try:
        public_url = None if args.public_url is None else public_base_url(args.public_url)
    except ValueError as exc:
        print(f"--public-url: {exc}", file=sys.stderr)
        return 2
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    bound = base_url_of(sock)
    base_url = public_url or bound
    make_fake = fake_factory(
        base_url,
        seed=args.seed,
        profile=args.profile,
        balance_usd=args.balance_usd,
        scenario=args.scenario,
        speed=args.speed,
        api_key=args.api_key,
        sdk_version=args.sdk_version,
        journal_limit=args.journal_limit,
        scenario_dirs=args.scenario_dir,
    )
    try:
        app = FakeAsgiApp(
            make_fake,
            control_key=control_key,
            hosts=served_hosts(bound, args.allow_host, public_url),
            scenario_dirs=args.scenario_dir,
        )
    except ValueError as exc:  # an unknown scenario or profile, a bad key
        sock.close()
        print(f"pictograph-fake: {exc}", file=sys.stderr)
        return 2
    fake = app.fake
    pace = "time moves only by hand" if args.speed == 0 else f"{args.speed:g}x real time"
    reached = "" if public_url is None else f" (bound to {bound})"
    print(f"pictograph-fake serving {base_url}{reached}", flush=True)
    print(f"  export PICTOGRAPH_BASE_URL={base_url}", flush=True)
    print(f"  export PICTOGRAPH_API_KEY={fake.api_key}", flush=True)
    if control_key is not None:
        print(f"  export {CONTROL_KEY_ENV}={control_key}", flush=True)
        lock = f"send it as {CONTROL_KEY_HEADER}"
    else:
        print("  # control routes open to anyone who can reach the port", flush=True)
        lock = "no key needed (--no-control-auth)"
    print(
        f"  profile {fake.profile}, seed {fake.seed}, {pace}; "
        f"control routes under {base_url}/_fake/, {lock} (Ctrl-C stops)",
        flush=True,
    )
    # The key rides in the fragment, which a browser never sends to the server.
    # Percent-encoded: the page decodes it, and a '%' or '&' of the key stays the key's.
    fragment = f"#key={quote(control_key, safe='')}" if control_key is not None else ""
    print(f"  dashboard: {base_url}/_fake/ui{fragment}", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            "  warning: not loopback; anyone who can reach this port can use the API key "
            "printed above",
            file=sys.stderr,
        )
    # uvicorn shuts down gracefully on Ctrl-C, then raises it again: the way `serve` is
    # stopped, not a failure to show a traceback for.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn_server(app).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
