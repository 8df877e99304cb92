"""The ``figurebot`` command: render a figure from a photo, list themes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.errors import UserFacingError

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``figurebot`` console script."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
