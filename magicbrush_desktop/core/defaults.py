"""Defaults and choices the front ends need before any work starts: plain Python, no torch/numpy.

``magicbrush --help``, ``--version``, every usage error and the desktop window's first paint read
these, so they import in milliseconds (``import torch`` alone takes seconds). The heavy modules that
use them (:mod:`.colorize`, :mod:`.devices`, :mod:`.imageio`, :mod:`.networks`) import them from here.
A test keeps it so: building the CLI parser imports neither torch nor numpy.
"""

from __future__ import annotations

import re

DEVICE_CHOICES = ("auto", "cpu", "cuda")
# The arithmetic of style transfer and training (devices.resolve_precision / resolve_training_precision).
PRECISION_CHOICES = ("auto", "float32", "bfloat16")
# A numbered GPU, "cuda:N", besides the choices above (the group is N).
CUDA_INDEX = re.compile(r"^cuda:(\d+)$")

# Colorizer render size (longest side, px); chosen by measurement on the held-out benchmark.
DEFAULT_RENDER_SIZE = 256
MIN_RENDER_SIZE, MAX_RENDER_SIZE = 64, 2048

# Output formats: CLI name -> Pillow format.
SAVE_FORMATS = {"jpg": "JPEG", "png": "PNG", "tiff": "TIFF", "webp": "WEBP"}

# Network architectures by name (the classes are in :mod:`.networks`).
GENERATOR_NAMES = ("vgg_resunet", "resunet", "unet")
DISCRIMINATOR_NAMES = ("patchgan", "global")
