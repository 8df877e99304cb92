"""Text on the box art in any script: font fallback, right-to-left runs, colour emoji and fit-to-box.

Pillow draws with one font at a time and has no fallback, so text is cut into grapheme clusters and each
cluster goes to the first font of the role's chain that has all of its characters. In dependency order:

- ``fonts``: the font chain of a role (the extra font folders are a parameter, defaulting to the
  settings), what each font covers, loading;
- ``runs``: grapheme clusters, runs of one font, bidi direction and visual order;
- ``layout``: runs shaped and measured on a line, lines stacked into a block;
- ``wrapping``: line breaking, the largest fitting size, the ellipsis;
- ``drawing``: ``draw_fitted_text``, ``draw_emoji`` and compositing.
"""

from bot.boxart.typography import drawing, fonts, layout, runs
from bot.boxart.typography.drawing import DrawnText, composite, draw_emoji, draw_fitted_text
from bot.boxart.typography.fonts import missing_system_fonts
from bot.boxart.typography.runs import TextRun, grapheme_clusters

__all__ = [
    "DrawnText",
    "TextRun",
    "clear_caches",
    "composite",
    "draw_emoji",
    "draw_fitted_text",
    "grapheme_clusters",
    "missing_system_fonts",
]


def clear_caches() -> None:
    """Forget discovered fonts, loaded fonts and layouts (after installing fonts or changing
    ``fonts.LAYOUT``)."""
    for module in (fonts, runs, layout, drawing):
        module.clear_caches()
