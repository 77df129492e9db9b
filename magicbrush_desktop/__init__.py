"""Magic Brush: colorize old black-and-white photos and repaint photos in the style of a painting."""

__version__ = "0.1.0"
