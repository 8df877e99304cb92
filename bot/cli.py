"""The ``figurebot`` command: render a figure, list themes, chat in the terminal, serve chat platforms."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.config import Settings

EXIT_OK, EXIT_USAGE, EXIT_REFUSED = 0, 2, 3


def _render(args: argparse.Namespace) -> int:
    from bot.config import get_settings
    from bot.generators.local import LocalGenerator
    from bot.intake import IntakeLimits, accept_photo
    from bot.output import encode_figure
    from bot.spec import make_spec

    settings = get_settings()
    fmt = args.format or settings.figure_format
    source = Path(args.photo)
    try:
        data = source.read_bytes()
    except OSError as exc:
        print(f"figurebot: cannot read {source}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        spec = make_spec(
            name=args.name,
            theme=args.theme,
            costume=args.costume,
            accessories=args.accessories,
            tagline=args.tagline,
            style=args.style or settings.figure_style,
        )
        photo = accept_photo(data, IntakeLimits.from_settings(settings))
    except UserFacingError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_REFUSED
    generator = LocalGenerator((settings.figure_width, settings.figure_height))
    output = (
        Path(args.output) if args.output else Path(f"{source.stem}-figure.{'jpg' if fmt == 'jpeg' else fmt}")
    )
    try:
        output.write_bytes(encode_figure(generator.render(photo, spec), fmt))
    except OSError as exc:
        print(f"figurebot: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    print(output)
    return EXIT_OK


def _themes(args: argparse.Namespace) -> int:
    from bot.themes import catalog

    for theme in catalog().values():
        items = ", ".join(f"{item.icon} {item.label}" for item in theme.accessories)
        print(f"{theme.key:<14} {theme.name:<14} {theme.title_line:<28} {items}")
    print("\nAny other theme works too: it gets its own colours and pattern.")
    return EXIT_OK


def _logging(settings: Settings, quiet: bool) -> None:
    from bot.app import secrets_of
    from bot.logs import setup_logging

    level = settings.log_level if (not quiet or "log_level" in settings.model_fields_set) else "WARNING"
    setup_logging(level, secrets_of(settings))


def _chat(args: argparse.Namespace) -> int:
    from adapters.console import ConsoleAdapter, print_pending, run_terminal
    from bot.app import running_engine, serve_until_signal
    from bot.config import get_settings

    settings = get_settings()
    _logging(settings, quiet=True)

    async def main() -> None:
        async with running_engine(settings) as engine:
            adapter = ConsoleAdapter(engine, settings.figurebot_data_dir / "figures", user=args.user)
            await engine.start()
            try:
                await serve_until_signal(lambda: run_terminal(adapter))
            finally:
                await engine.stop()  # running jobs may still finish and be told within the grace period
                print_pending(adapter)

    asyncio.run(main())
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from bot.app import platform_adapters, running_engine, serve_until_signal
    from bot.config import get_settings

    settings = get_settings()
    _logging(settings, quiet=False)
    factories = platform_adapters(settings)
    if not factories:
        print(
            "figurebot run: no chat platform is configured, so there is nothing to serve.\n"
            "Chat platforms start here once their token setting is set (see README, Settings).\n"
            "To try figurebot without any token, run: figurebot chat",
            file=sys.stderr,
        )
        return EXIT_USAGE

    async def main() -> None:
        async with running_engine(settings) as engine:
            adapters = [factory(engine) for factory in factories]
            await engine.start()
            await serve_until_signal(lambda: asyncio.gather(*(adapter.serve() for adapter in adapters)))

    asyncio.run(main())
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``figurebot`` subcommand."""
    parser = argparse.ArgumentParser(prog="figurebot", description="Turn a photo into a boxed action figure.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    render = commands.add_parser("render", help="render a figure from a photo, offline")
    render.add_argument("photo", help="photo file (JPEG, PNG, WebP, HEIC, AVIF, GIF or TIFF)")
    render.add_argument("-o", "--output", help="where to write the figure (default: PHOTO-figure.png here)")
    render.add_argument("--name", help="name printed on the box")
    render.add_argument("--theme", help="theme from `figurebot themes`, or any words")
    render.add_argument("--costume", help="what the figure wears")
    render.add_argument("--accessories", help='up to 4, comma-separated: "helmet, cat"')
    render.add_argument("--tagline", help="slogan under the name")
    render.add_argument("--style", help="box style: blister or window")
    render.add_argument("--format", choices=["png", "jpeg", "webp"], help="output format (default: png)")
    render.set_defaults(handler=_render)

    themes = commands.add_parser("themes", help="list the theme catalog")
    themes.set_defaults(handler=_themes)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal, no token needed")
    chat.add_argument("--user", default="you", help="who you are in the chat (default: you)")
    chat.set_defaults(handler=_chat)

    run = commands.add_parser("run", help="serve every chat platform whose token is configured")
    run.set_defaults(handler=_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``figurebot`` console script."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
