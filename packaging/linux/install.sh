#!/usr/bin/env bash
# Install a built Magic Brush bundle for the current user (no root needed):
#
#   install.sh [--prefix DIR] [BUNDLE]       install (DIR defaults to ~/.local)
#   install.sh [--prefix DIR] --uninstall    remove it again
#
# BUNDLE is the one-folder build (the folder holding the `magicbrush` executable) or the archive build.sh
# packs it into (MagicBrush-<version>-linux-<arch>-cpu.tar.xz: unpacked straight into place); default: the
# folder this script is in when it sits in a bundle (build.sh copies it there), else dist/MagicBrush of the
# checkout. So either `tar xf MagicBrush-*.tar.xz && MagicBrush/install.sh`, or, with this script at hand,
# `install.sh MagicBrush-*.tar.xz`.
#
# Puts the bundle in DIR/lib/magicbrush, a `magicbrush` link in DIR/bin, the menu entry in
# DIR/share/applications (so image files offer "Open with Magic Brush") and the icon in
# DIR/share/icons/hicolor.
set -euo pipefail

PREFIX="${HOME}/.local"
BUNDLE=""
UNINSTALL=0
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX="${2:?--prefix needs a folder}"; shift 2 ;;
        --uninstall) UNINSTALL=1; shift ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "install.sh: unknown option '$1'" >&2; exit 2 ;;
        *) BUNDLE="$1"; shift ;;
    esac
done

APP_DIR="$PREFIX/lib/magicbrush"
BIN="$PREFIX/bin/magicbrush"
DESKTOP="$PREFIX/share/applications/magicbrush.desktop"
ICONS="$PREFIX/share/icons/hicolor"

refresh_caches() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$PREFIX/share/applications" || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$ICONS/index.theme" ]; then
        gtk-update-icon-cache -q -t "$ICONS" || true
    fi
}

if [ "$UNINSTALL" = 1 ]; then
    rm -rf "$APP_DIR"
    rm -f "$BIN" "$DESKTOP"
    find "$ICONS" -path '*/apps/magicbrush.*' -delete 2>/dev/null || true
    refresh_caches
    echo "Magic Brush removed from $PREFIX"
    exit 0
fi

UNPACKED=""
if [ -n "$BUNDLE" ] && [ -f "$BUNDLE" ]; then
    # An archive: unpack it next to the install folder (same file system: moved, not copied, into place).
    mkdir -p "$PREFIX/lib"
    UNPACKED="$(mktemp -d "$PREFIX/lib/.magicbrush-unpack.XXXXXX")"
    trap 'rm -rf "$UNPACKED"' EXIT
    echo "Unpacking $BUNDLE ..."
    tar -xf "$BUNDLE" -C "$UNPACKED"  # tar recognises xz, zstd and gzip by itself
    BUNDLE="$UNPACKED/MagicBrush"
    if [ ! -x "$BUNDLE/magicbrush" ]; then
        echo "install.sh: the archive holds no MagicBrush/magicbrush: not a Magic Brush archive?" >&2
        exit 2
    fi
fi
if [ -z "$BUNDLE" ]; then
    if [ -x "$HERE/magicbrush" ]; then
        BUNDLE="$HERE"
    else
        BUNDLE="$HERE/../../dist/MagicBrush"
    fi
fi
if [ ! -x "$BUNDLE/magicbrush" ]; then
    echo "install.sh: no Magic Brush bundle at $BUNDLE (build one with packaging/build.sh)" >&2
    exit 2
fi
BUNDLE="$(cd "$BUNDLE" && pwd)"

mkdir -p "$PREFIX/lib" "$PREFIX/bin" "$(dirname "$DESKTOP")"
if [ "$BUNDLE" != "$APP_DIR" ]; then
    rm -rf "$APP_DIR.new"
    if [ -n "$UNPACKED" ]; then
        mv "$BUNDLE" "$APP_DIR.new"
    else
        cp -a "$BUNDLE" "$APP_DIR.new"
    fi
    rm -rf "$APP_DIR"
    mv "$APP_DIR.new" "$APP_DIR"
fi
ln -sfn "$APP_DIR/magicbrush" "$BIN"
DESKTOP_SRC="$APP_DIR/magicbrush.desktop"
[ -f "$DESKTOP_SRC" ] || DESKTOP_SRC="$HERE/magicbrush.desktop"
RESOURCES="$APP_DIR/_internal/resources"

# The menu entry runs the installed executable by its full path (~/.local/bin is not always on the PATH
# of a desktop session).
sed -e "s|^Exec=.*|Exec=\"$APP_DIR/magicbrush\" %F|" -e "s|^TryExec=.*|TryExec=$APP_DIR/magicbrush|" \
    "$DESKTOP_SRC" > "$DESKTOP"
chmod 644 "$DESKTOP"

installed_icons=0
for png in "$RESOURCES"/magicbrush-*.png; do
    [ -f "$png" ] || continue
    size="${png##*-}"; size="${size%.png}"
    mkdir -p "$ICONS/${size}x${size}/apps"
    cp "$png" "$ICONS/${size}x${size}/apps/magicbrush.png"
    installed_icons=$((installed_icons + 1))
done
if [ -f "$RESOURCES/magicbrush.svg" ]; then
    mkdir -p "$ICONS/scalable/apps"
    cp "$RESOURCES/magicbrush.svg" "$ICONS/scalable/apps/magicbrush.svg"
fi
refresh_caches

echo "Magic Brush installed in $APP_DIR ($installed_icons icon sizes); menu entry $DESKTOP"
case ":$PATH:" in
    *":$PREFIX/bin:"*) ;;
    *) echo "Note: $PREFIX/bin is not on your PATH; the menu entry works anyway." ;;
esac
