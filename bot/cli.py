"""The ``figurebot`` command: render a figure, list themes, chat in the terminal, serve chat platforms."""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ConfigurationError, UserFacingError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.generators.base import Generator, Painted
    from bot.generators.local import LocalGenerator
    from bot.intake import Photo
    from bot.spec import FigureSpec

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3


SUFFIX_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}


def _output(args: argparse.Namespace, default_format: str) -> tuple[Path, str]:
    """Where to write and in which format: ``--format``, else the ``-o`` suffix, else the setting."""
    if not args.output:
        fmt = args.format or default_format
        return Path(f"{Path(args.photo).stem}-figure.{'jpg' if fmt == 'jpeg' else fmt}"), fmt
    output = Path(args.output)
    implied = SUFFIX_FORMATS.get(output.suffix.lower())
    if args.format and implied and args.format != implied:
        raise UsageError(
            f"-o {output} means {implied.upper()} but --format {args.format} was asked; pick one."
        )
    if not args.format and not implied:
        raise UsageError(f"-o {output}: end the name in .png, .jpg or .webp, or give --format.")
    return output, args.format or implied


class UsageError(Exception):
    """The command line asks for something impossible; exit 2 with the message."""


def _variant(text: str) -> int:
    """The value of ``--variant``: a whole number from 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number from 1 (1: a fresh figure; 2, 3…: its re-rolls)"
        )
    return value


def _render(args: argparse.Namespace) -> int:
    from bot.config import get_settings
    from bot.generators.base import Misconfigured, as_painted
    from bot.generators.local import LocalGenerator
    from bot.intake import IntakeLimits, PhotoRejected, accept_photo
    from bot.output import encode_figure
    from bot.spec import SpecError, make_spec
    from bot.uploads import read_photo_file

    settings = get_settings()
    limits = IntakeLimits.from_settings(settings)
    try:
        output, fmt = _output(args, settings.figure_format)
        data = read_photo_file(Path(args.photo), limits)
        spec = make_spec(
            name=args.name,
            theme=args.theme,
            costume=args.costume,
            accessories=args.accessories,
            tagline=args.tagline,
            style=args.style or settings.figure_style,
            variant=args.variant,
        )
        photo = accept_photo(data, limits)
    except UsageError as error:
        print(f"figurebot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except UserFacingError as error:
        print(error.message, file=sys.stderr)
        return EXIT_REFUSED if isinstance(error, PhotoRejected | SpecError) else EXIT_USAGE
    local = LocalGenerator((settings.figure_width, settings.figure_height))
    try:
        if args.generator == "local":
            painted = as_painted(asyncio.run(local.generate(photo, spec)))
        else:
            painted = asyncio.run(_paint_remotely(args.generator, settings, local, photo, spec))
    except ConfigurationError as error:
        print(f"figurebot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Misconfigured as error:
        print(f"figurebot: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    except UserFacingError as error:
        print(f"figurebot: {error.message}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        output.write_bytes(encode_figure(painted.image, fmt))
    except OSError as error:
        print(f"figurebot: cannot write {output}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    for note in painted.notes:  # what the generator could not do as asked, or chose for the user
        print(note, file=sys.stderr)
    print(output)
    return EXIT_OK


async def _paint_remotely(
    name: str, settings: Settings, local: LocalGenerator, photo: Photo, spec: FigureSpec
) -> Painted:
    """Paint with a generator that works elsewhere (``openai``, ``gemini``, ``comfyui``), with a progress
    bar on stderr, trying passing failures (rate limits, timeouts, a GPU server out of memory) again as the
    engine does: after the service's retry-after or the backoff, at most ``MAX_ATTEMPTS`` times, each wait
    said on stderr.
    Refusals, bad input and the operator's problems (keys, billing, a workflow) are final."""
    from bot.generators.base import Progress, Transient, as_painted
    from bot.retries import retry_delay

    generator = _remote_generator(name, settings, local)

    async def show(progress: Progress) -> None:
        stage = progress.stage[:32]
        print(f"\r{progress_bar(progress.fraction)} {stage:<32}", end="", file=sys.stderr, flush=True)

    attempt = 1
    while True:
        await show(Progress(0.0, "waiting"))
        failure: Transient | None = None
        try:
            painted = as_painted(await generator.generate(photo, spec, show))
        except Transient as error:
            failure = error
        finally:
            print(file=sys.stderr)  # ends the progress bar's line
        if failure is None:
            break
        delay = retry_delay(failure, attempt, settings)
        if delay is None:
            raise failure
        attempt += 1
        print(
            f"{failure.message.rstrip('.')}; trying again in {_wait_words(delay)} "
            f"(attempt {attempt} of {settings.max_attempts})",
            file=sys.stderr,
        )
        await asyncio.sleep(delay)
    if painted.stand_in:
        print(f"{name} could not paint; painted by the {painted.stand_in} generator.", file=sys.stderr)
    if painted.cost_usd:
        print(f"Estimated cost: ${painted.cost_usd:.3f}", file=sys.stderr)
    return painted


def _remote_generator(name: str, settings: Settings, local: LocalGenerator) -> Generator:
    """The ``openai``, ``gemini`` or ``comfyui`` generator, saying on stderr where the photo goes;
    ``ConfigurationError`` when its settings are missing."""
    if name == "openai":
        from bot.generators.openai import OpenAIGenerator

        if settings.openai_api_key is None:
            raise ConfigurationError("--generator openai needs OPENAI_API_KEY (see .env.example).")
        print(f"Sending the photo to OpenAI ({settings.openai_image_model})…", file=sys.stderr)
        return OpenAIGenerator(settings, local)
    if name == "gemini":
        from bot.generators.gemini import GeminiGenerator

        if settings.gemini_api_key is None:
            raise ConfigurationError("--generator gemini needs GEMINI_API_KEY (see .env.example).")
        print(f"Sending the photo to Google's Gemini ({settings.gemini_image_model})…", file=sys.stderr)
        return GeminiGenerator(settings, local)
    from bot.generators.comfyui.generator import ComfyUIGenerator

    if not settings.comfyui_servers:
        raise ConfigurationError("--generator comfyui needs COMFYUI_URLS (see .env.example).")
    generator = ComfyUIGenerator(settings, local)
    servers = ", ".join(server.label for server in generator.servers.all)
    print(f"Painting on ComfyUI ({generator.workflow.name}) at {servers}…", file=sys.stderr)
    return generator


def _wait_words(seconds: float) -> str:
    """A wait as the terminal says it: whole seconds under a minute (at least 1), else ``duration_words``."""
    from bot.durations import duration_words

    return f"{max(1, math.ceil(seconds))} s" if seconds < 60 else duration_words(seconds)


def progress_bar(fraction: float, width: int = 24) -> str:
    """``[#########---------]  50%``"""
    done = round(max(0.0, min(1.0, fraction)) * width)
    return f"[{'#' * done}{'-' * (width - done)}] {round(fraction * 100):3d}%"


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

    level = "WARNING" if quiet and settings.log_level == "INFO" else settings.log_level
    setup_logging(level, secrets_of(settings))


def _chat(args: argparse.Namespace) -> int:
    from adapters.console import ConsoleAdapter, print_pending, run_terminal
    from bot.app import running_core, serve_until_signal
    from bot.config import get_settings

    settings = get_settings()
    _logging(settings, quiet=True)

    async def main() -> None:
        async with running_core(settings) as (engine, _):
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
    from bot.app import (
        PlatformsFailed,
        platform_adapters,
        running_core,
        serve_platforms,
        serve_until_signal,
    )
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
        async with running_core(settings) as (engine, challenges):
            adapters = {name: factory(engine, challenges) for name, factory in factories.items()}
            await engine.start()
            await challenges.start()

            async def finish_work() -> None:  # while the platforms are still there to hear of it
                await challenges.stop()
                await engine.stop()

            try:
                await serve_until_signal(lambda: serve_platforms(adapters), finish_work)
            finally:
                await challenges.stop()

    try:
        asyncio.run(main())
    except PlatformsFailed:
        print("figurebot run: every chat platform stopped with an error; see the log above.", file=sys.stderr)
        return EXIT_FAILED
    except Exception:  # logged through the redacting formatter, never printed raw
        logging.getLogger("figurebot").exception("figurebot run stopped")
        return EXIT_FAILED
    return EXIT_OK


def _stats(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from bot.config import get_settings
    from bot.privacy import Vault, load_key
    from bot.stats import chat_label, spend_report
    from bot.store.repository import Store

    settings = get_settings()
    store_file = settings.figurebot_data_dir / "figurebot.db"
    if not settings.database_url and not store_file.exists():
        print(f"figurebot: no store at {store_file}; set FIGUREBOT_DATA_DIR to the bot's.", file=sys.stderr)
        return EXIT_USAGE
    vault = Vault(load_key(settings))
    if args.chat:
        platform, _, chat = args.chat.partition(":")
        if not platform or not chat:
            print("figurebot: --chat takes PLATFORM:ID, e.g. telegram:-1001234", file=sys.stderr)
            return EXIT_USAGE
        print(f"{args.chat} is shown as {chat_label(platform, vault.pseudonym(f'chat:{chat}'))}")
        return EXIT_OK
    since = (datetime.now(UTC) - timedelta(days=args.days - 1)).date().isoformat()

    async def report() -> str:
        store = await Store.open(settings.database, vault)
        try:
            return spend_report(await store.usage.since(since), args.days)
        finally:
            await store.close()

    print(asyncio.run(report()))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``figurebot`` subcommand."""
    parser = argparse.ArgumentParser(prog="figurebot", description="Turn a photo into a boxed action figure.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    render = commands.add_parser("render", help="render a figure from a photo (offline by default)")
    render.add_argument("photo", help="photo file (JPEG, PNG, WebP, HEIC, AVIF, GIF or TIFF)")
    render.add_argument("-o", "--output", help="where to write the figure (default: PHOTO-figure.png here)")
    render.add_argument("--name", help="name printed on the box")
    render.add_argument("--theme", help="theme from `figurebot themes`, or any words")
    render.add_argument("--costume", help="what the figure wears")
    render.add_argument("--accessories", help='up to 4, comma-separated: "helmet, cat"')
    render.add_argument("--tagline", help="slogan under the name")
    render.add_argument("--style", help="box style: blister or window")
    render.add_argument(
        "--variant",
        type=_variant,
        default=1,
        metavar="N",
        help="which take of the figure: 1 (default) is a fresh one, 2, 3… what Re-roll gives in chats",
    )
    render.add_argument(
        "--format", choices=["png", "jpeg", "webp"], help="output format (default: FIGURE_FORMAT, png)"
    )
    render.add_argument(
        "--generator",
        choices=["local", "openai", "gemini", "comfyui"],
        default="local",
        help=(
            "local: offline on this machine (default); openai: OpenAI's image API (needs OPENAI_API_KEY); "
            "gemini: Google's Gemini image model (needs GEMINI_API_KEY); "
            "comfyui: your own ComfyUI GPU servers (needs COMFYUI_URLS)"
        ),
    )
    render.set_defaults(handler=_render)

    themes = commands.add_parser("themes", help="list the theme catalog")
    themes.set_defaults(handler=_themes)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal, no token needed")
    chat.add_argument("--user", default="you", help="who you are in the chat (default: you)")
    chat.set_defaults(handler=_chat)

    stats = commands.add_parser("stats", help="figures and estimated spend per day, chat and generator")
    stats.add_argument("--days", type=int, default=7, choices=range(1, 367), metavar="N", help="days (7)")
    stats.add_argument("--chat", metavar="PLATFORM:ID", help="show how one chat or server is labelled")
    stats.set_defaults(handler=_stats)

    run = commands.add_parser("run", help="serve every chat platform whose token is configured")
    run.set_defaults(handler=_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``figurebot`` console script."""
    from pydantic import ValidationError

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigurationError as error:
        print(f"figurebot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])).upper() or 'settings'}: {e['msg']}" for e in error.errors()
        )
        print(f"figurebot: a setting is wrong ({problems}). See .env.example.", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
