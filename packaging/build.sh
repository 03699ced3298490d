#!/bin/bash
# Builds dist/storeventd_<ver>_amd64.deb and dist/storeventd-<ver>-1.x86_64.rpm from the compiled
# dist/storeventd (run by `npm run package` after the binary build). Versions come from
# package.json. The binary is copied byte for byte: stripping it would cut off Bun's payload.
#
# Environment:
#   PKG_FORMATS   "deb rpm" (default) or one of them
#   PKG_COMPRESS  xz (default: ~40 MiB each, ~40 s each on 2 cores) | gzip (~52 MiB, ~12 s)
#                 | none (tests)
#   PKG_MAINTAINER, PKG_HOMEPAGE   package metadata
#   PKG_VERSION   override package.json's version (tests build an "upgrade")
#   PKG_OUTDIR    where the packages go (default dist/)
#   SOURCE_DATE_EPOCH  timestamps (default: the last commit's time), for reproducible packages
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PKG="$ROOT/packaging"
DIST="$ROOT/dist"
BIN="$DIST/storeventd"
OUT=${PKG_OUTDIR:-$DIST}
FORMATS=${PKG_FORMATS:-deb rpm}
COMPRESS=${PKG_COMPRESS:-xz}
MAINTAINER=${PKG_MAINTAINER:-storeventd maintainers <storeventd@lists.example.org>}
HOMEPAGE=${PKG_HOMEPAGE:-https://github.com/storeventd/storeventd}

die() { echo "packaging: $*" >&2; exit 1; }
[ -x "$BIN" ] || die "$BIN is missing: run 'npm run build' first"
VERSION=${PKG_VERSION:-$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$ROOT/package.json" | head -n1)}
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+([.~+][0-9A-Za-z.]+)?$ ]] || die "bad version '$VERSION' in package.json"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}
export TZ=UTC LC_ALL=C.UTF-8
MAN_DATE=$(date -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)

mkdir -p "$OUT"
WORK=$(mktemp -d "$DIST/pkgwork.XXXXXX")
STAGE="$WORK/stage"
ADDON_NODE="$ROOT/build/Release/storeventd.node"   # embedded in the binary; its libraries are ours to declare
[ -f "$ADDON_NODE" ] || die "$ADDON_NODE is missing: run npm install (node-gyp) first"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$STAGE"

subst() { # subst FILE: fill in the @NAME@ placeholders
  sed -e "s|@VERSION@|$VERSION|g" -e "s|@DATE@|$MAN_DATE|g" -e "s|@HOMEPAGE@|$HOMEPAGE|g" \
    -e "s|@MAINTAINER@|$MAINTAINER|g" "$1"
}

# ---- the installed tree, shared by both formats --------------------------------------------
install -D -m 0755 "$BIN" "$STAGE/usr/bin/storeventd"
install -D -m 0644 "$PKG/storeventd.service" "$STAGE/usr/lib/systemd/system/storeventd.service"
install -D -m 0644 "$PKG/storeventd.toml" "$STAGE/etc/storeventd/storeventd.toml"
install -d -m 0755 "$STAGE/etc/storeventd/conf.d"
# storeventd.toml(5) gets each plugin's options from its schema (packaging/gen-man.ts).
BUN=${BUN:-$ROOT/node_modules/.bin/bun}
gen=()
for part in main filter queue plugins; do
  "$BUN" "$PKG/gen-man.ts" "$part" >"$WORK/$part.roff" || die "gen-man.ts $part failed"
  gen+=(-e "/^@${part^^}_OPTIONS@\$/{r $WORK/$part.roff" -e "d}")
done
for page in storeventd.8 storeventd.toml.5; do
  sec=${page##*.}
  install -d -m 0755 "$STAGE/usr/share/man/man$sec"
  subst "$PKG/man/$page" | sed "${gen[@]}" | gzip -9n >"$STAGE/usr/share/man/man$sec/$page.gz"
done
install -D -m 0644 "$PKG/completion/storeventd" "$STAGE/usr/share/bash-completion/completions/storeventd"

DOC="$STAGE/usr/share/doc/storeventd"
install -d -m 0755 "$DOC/examples"
if [ -f "$ROOT/README.md" ]; then
  install -m 0644 "$ROOT/README.md" "$DOC/README.md"
fi
install -m 0644 "$PKG/README.md" "$DOC/README.packaging.md"
install -m 0644 "$PKG/examples/promoter.conf" "$DOC/examples/promoter.conf"
install -m 0644 "$PKG/storeventd.toml" "$DOC/examples/storeventd.toml"
shopt -s nullglob
for sample in "$ROOT"/plugins/*/*/sample.toml; do
  dir=${sample%/sample.toml}
  name=${dir##*/}
  kind=${dir%/*}; kind=${kind##*/}
  install -m 0644 "$sample" "$DOC/examples/$kind-$name.toml"
done
# MIB modules a plugin serves (the agentx receiver's LINBIT-DRBD-MIB), where net-snmp looks.
for mib in "$ROOT"/plugins/*/*/*-MIB.txt; do
  install -D -m 0644 "$mib" "$STAGE/usr/share/snmp/mibs/${mib##*/}"
done
shopt -u nullglob
find "$STAGE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# ---- .deb --------------------------------------------------------------------------------------
build_deb() {
  local deb="$OUT/storeventd_${VERSION}_amd64.deb" root="$WORK/deb"
  cp -a "$STAGE" "$root"
  # Debian only: copyright, changelog, lintian overrides.
  local ddoc="$root/usr/share/doc/storeventd"
  subst "$PKG/debian/copyright" >"$ddoc/copyright"
  printf 'storeventd (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n' \
    "$VERSION" "$VERSION" "$MAINTAINER" "$(date -R -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$ddoc/changelog.gz"
  install -D -m 0644 "$PKG/debian/lintian-overrides" "$root/usr/share/lintian/overrides/storeventd"
  find "$ddoc" "$root/usr/share/lintian" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

  install -d -m 0755 "$root/DEBIAN"
  local depends
  depends=$(shlib_depends)
  local size
  size=$(du -sk --apparent-size --exclude=DEBIAN "$root" | cut -f1)
  subst "$PKG/debian/control.in" | sed -e "s|@DEPENDS@|$depends|" -e "s|@INSTALLED_SIZE@|$size|" >"$root/DEBIAN/control"
  for s in postinst prerm postrm; do install -m 0755 "$PKG/debian/$s" "$root/DEBIAN/$s"; done
  (cd "$root" && find etc -type f -printf '/%p\n' | sort) >"$root/DEBIAN/conffiles"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
  chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
  local z=(-Zgzip -z9)
  [ "$COMPRESS" = xz ] && z=(-Zxz -z6)
  [ "$COMPRESS" = none ] && z=(-Znone)
  dpkg-deb --root-owner-group "${z[@]}" --build "$root" "$deb" >/dev/null
  echo "built $deb ($(( $(stat -c %s "$deb") / 1048576 )) MiB)"
}

# Depends: as dpkg-shlibdeps computes it from the binary and from the addon embedded in it (which
# the binary extracts and loads at start; it links only glibc: libstdc++ is static, and libsystemd
# is opened by the journal sender when it starts, hence Recommends: libsystemd0).
shlib_depends() {
  local tmp="$WORK/shlibdeps"
  mkdir -p "$tmp/debian"
  printf 'Source: storeventd\n\nPackage: storeventd\nArchitecture: amd64\n' >"$tmp/debian/control"
  local out
  if out=$(cd "$tmp" && dpkg-shlibdeps -O "$STAGE/usr/bin/storeventd" "$ADDON_NODE" 2>/dev/null); then
    echo "${out#shlibs:Depends=}"
  else
    echo "libc6 (>= 2.17)"
  fi
}

# ---- .rpm --------------------------------------------------------------------------------------
build_rpm() {
  command -v rpmbuild >/dev/null || die "rpmbuild is missing: apt-get install -y rpm"
  local top="$WORK/rpm" payload="w9.gzdio"
  [ "$COMPRESS" = xz ] && payload="w6T.xzdio" # T: one xz thread per core, as dpkg-deb does
  [ "$COMPRESS" = none ] && payload="w0.ufdio"
  mkdir -p "$top"/{BUILD,BUILDROOT,RPMS,SOURCES,SPECS,SRPMS}
  subst "$PKG/rpm/storeventd.spec.in" | sed -e "s|@PAYLOAD@|$payload|" \
    -e "s|^\(\* \)$MAN_DATE|\1$(date -d "@$SOURCE_DATE_EPOCH" '+%a %b %d %Y')|" >"$top/SPECS/storeventd.spec"
  HOME="$top" rpmbuild -bb --quiet --target x86_64 \
    --define "_topdir $top" --define "stage $STAGE" \
    --define "use_source_date_epoch_as_buildtime 1" --define "clamp_mtime_to_source_date_epoch 1" \
    --define "_buildhost storeventd-build" \
    "$top/SPECS/storeventd.spec" >"$top/rpmbuild.log" 2>&1 || { cat "$top/rpmbuild.log" >&2; die "rpmbuild failed"; }
  local rpm="$OUT/storeventd-$VERSION-1.x86_64.rpm"
  mv "$top/RPMS/x86_64/storeventd-$VERSION-1.x86_64.rpm" "$rpm"
  echo "built $rpm ($(( $(stat -c %s "$rpm") / 1048576 )) MiB)"
}

for f in $FORMATS; do
  case $f in
  deb) build_deb ;;
  rpm) build_rpm ;;
  *) die "unknown format '$f'" ;;
  esac
done
