"""Generators turn an accepted photo and a FigureSpec into a boxed action figure image."""
