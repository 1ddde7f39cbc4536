#!/usr/bin/env bash
# Builds the assets of the real-pppd interop VM (test/interop): a Debian 12 kernel
# with the PPP modules and a tiny initramfs holding busybox, stock pppd 2.4.9 (with
# its shared libraries) and an /init that runs pppd on /dev/ttyS0.
#
# Idempotent: does nothing when the cache already holds assets built by this very
# script (the stamp is a hash of this file and of init.sh). Nothing is installed
# into the host system except the qemu-system-x86 package when it is missing: the
# Debian packages are fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` into a scratch directory.
#
#   scripts/pppd-vm/build.sh [--force]
#   PPPD_VM_CACHE=/path   cache directory (default /var/cache/ts-vpn-pppd-vm)
#
# Output: $PPPD_VM_CACHE/{vmlinux,initramfs.gz,accel,versions.txt,stamp}
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${PPPD_VM_CACHE:-/var/cache/ts-vpn-pppd-vm}"
force=0
[ "${1:-}" = "--force" ] && force=1

log() { echo "pppd-vm: $*" >&2; }

stamp="$(cat "$here/build.sh" "$here/init.sh" | sha256sum | cut -c1-16)"
if [ "$force" = 0 ] && [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$stamp" ] \
  && [ -s "$cache/vmlinux" ] && [ -s "$cache/initramfs.gz" ] && command -v qemu-system-x86_64 >/dev/null; then
  log "assets up to date in $cache"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (apt-get)"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_update() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
}

if ! command -v qemu-system-x86_64 >/dev/null; then
  log "installing qemu-system-x86"
  apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null 2>&1 || {
    apt_update
    apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null
  }
fi

# The exact kernel package behind the linux-image-amd64 metapackage.
kpkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
if [ -z "$kpkg" ]; then
  apt_update
  kpkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
fi
[ -n "$kpkg" ] || { log "cannot resolve the kernel package of linux-image-amd64"; exit 1; }
kver="${kpkg#linux-image-}"

work="$(mktemp -d /tmp/ts-vpn-pppd-vm-build.XXXXXX)"
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
cd "$work"

pkgs=("$kpkg" ppp busybox-static libpcap0.8)
log "downloading ${pkgs[*]}"
if ! apt-get download "${pkgs[@]}" >/dev/null 2>&1; then
  apt_update
  apt-get download "${pkgs[@]}" >/dev/null
fi
mkdir -p x
for deb in ./*.deb; do dpkg-deb -x "$deb" x; done

root="$work/root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,run,tmp,var/run,var/lock,etc/ppp,lib/modules,usr/sbin}
cp x/bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp x/usr/sbin/pppd "$root/usr/sbin/pppd"

# pppd's shared libraries: the host is Debian 12 too, so its /lib matches; libpcap
# (not on the host) comes from the downloaded package.
pcapdir="$(dirname "$(find x -name 'libpcap.so.0.8' | head -1)")"
ldd_out="$(LD_LIBRARY_PATH="$work/$pcapdir" ldd "$root/usr/sbin/pppd")"
if grep -q 'not found' <<<"$ldd_out"; then
  log "unresolved pppd libraries:"; echo "$ldd_out" >&2; exit 1
fi
while read -r lib; do
  [ -n "$lib" ] || continue
  dest="$root$lib"
  case "$lib" in "$work"/*) dest="$root/lib/x86_64-linux-gnu/$(basename "$lib")" ;; esac
  mkdir -p "$(dirname "$dest")"
  cp -L "$lib" "$dest"
done < <(awk '/=> \// {print $3} /^\t\/lib/ {print $1}' <<<"$ldd_out")

# PPP kernel modules (uncompressed .ko in Debian 12; decompress here if ever .xz/.zst).
kmods="x/lib/modules/$kver/kernel"
for m in net/slip/slhc net/ppp/ppp_generic net/ppp/ppp_async net/ppp/ppp_deflate net/ppp/bsd_comp; do
  f="$(ls "$kmods/drivers/$m".ko* 2>/dev/null | head -1)"
  [ -n "$f" ] || { log "module $m not found in $kpkg"; exit 1; }
  case "$f" in
    *.ko) cp "$f" "$root/lib/modules/" ;;
    *.ko.xz) xz -dc "$f" >"$root/lib/modules/$(basename "$f" .xz)" ;;
    *.ko.zst) zstd -qdc "$f" >"$root/lib/modules/$(basename "$f" .zst)" ;;
    *) log "unknown module format $f"; exit 1 ;;
  esac
done

cp "$here/init.sh" "$root/init"
chmod 0755 "$root/init"
# An empty /etc/ppp/options: pppd runs with its compiled-in defaults (Debian's
# options file adds auth/crtscts/modem/lock, which make no sense on this line).
: >"$root/etc/ppp/options"
echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
echo 'tv-pppd-vm' >"$root/etc/hostname"

# busybox's cpio (from the package just unpacked): the host may have no cpio.
(cd "$root" && find . | LC_ALL=C sort | "$work/x/bin/busybox" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -9n >"$work/initramfs.gz"

# The uncompressed kernel (ELF): qemu boots it directly through its PVH entry
# point, skipping the BIOS's linuxboot and the xz decompressor, which take ~10 s
# under TCG (vmlinux boots to /init in ~3 s).
bz="x/boot/vmlinuz-$kver"
off="$(LC_ALL=C grep -aboP '\xfd7zXZ\x00' "$bz" | head -1 | cut -d: -f1 || true)"
[ -n "$off" ] || { log "no xz payload in $bz"; exit 1; }
unxz_cmd=(xz -dc)
command -v xz >/dev/null || unxz_cmd=("$work/x/bin/busybox" unxz -c)
tail -c +"$((off + 1))" "$bz" | "${unxz_cmd[@]}" >"$work/vmlinux" 2>/dev/null || true
[ "$(head -c 4 "$work/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || { log "could not extract vmlinux from $bz"; exit 1; }

mkdir -p "$cache"
cp "$work/vmlinux" "$cache/vmlinux.new"
cp "$work/initramfs.gz" "$cache/initramfs.gz.new"
mv -f "$cache/vmlinux.new" "$cache/vmlinux"
rm -f "$cache/vmlinuz"
mv -f "$cache/initramfs.gz.new" "$cache/initramfs.gz"
{
  echo "kernel: $kpkg $(dpkg-deb -f ./"$kpkg"_*.deb Version)"
  for p in ppp busybox-static libpcap0.8; do echo "$p: $(dpkg-deb -f ./"$p"_*.deb Version)"; done
  echo "qemu: $(qemu-system-x86_64 --version | head -1)"
} >"$cache/versions.txt"

# Which accelerator boots this kernel here: nested KVM (e.g. inside a Firecracker
# VM) may hang the guest before its first console line; then TCG is used.
accel=tcg
if [ -w /dev/kvm ]; then
  log "probing a KVM boot"
  out="$(timeout 20 qemu-system-x86_64 -accel kvm -M pc,acpi=off -m 256 -smp 1 -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$cache/vmlinux" -initrd "$cache/initramfs.gz" -chardev stdio,id=con,signal=off -serial null -serial chardev:con \
    -append "console=ttyS1 quiet loglevel=3 panic=-1 tv_probe=1" </dev/null 2>/dev/null || true)"
  if grep -q TV-BOOT <<<"$out"; then accel=kvm; else log "KVM did not boot the guest within 20 s: using TCG"; fi
fi
echo "$accel" >"$cache/accel"
echo "accel: $accel" >>"$cache/versions.txt"
echo "$stamp" >"$cache/stamp"
log "built $cache ($(du -h "$cache/initramfs.gz" | cut -f1) initramfs); $(tr '\n' ';' <"$cache/versions.txt")"
