"""Box art: the toy packaging drawn around a figure (card, blister, typography, icons)."""
