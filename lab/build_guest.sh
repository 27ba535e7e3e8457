#!/bin/sh
# Builds what the headnode VM tests boot, from Debian packages only (apt-get download, no
# installs): QEMU unpacked into OUT/qemu with a wrapper (the packaged qemu-system-x86 conflicts
# with this image's qemu-utils backport), and a tiny guest: Debian's cloud kernel plus a
# busybox initramfs whose init brings eth0 up with the address given on the kernel command
# line (hil_ip=A/N) and prints HIL-HEADNODE-BOOTED on the serial console.
#
# usage: build_guest.sh OUT_DIR     (re-running is cheap: finished parts are kept)
set -eu
MODULES="virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"
OUT=${1:?usage: build_guest.sh OUT_DIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

fetch() { # fetch DIR PACKAGE... : download and unpack packages into DIR/root
  apt-cache show busybox-static >/dev/null 2>&1 || apt-get update -qq
  mkdir -p "$1/debs"
  (cd "$1/debs" && shift && apt-get download -q "$@" >/dev/null)
  for deb in "$1"/debs/*.deb; do dpkg -x "$deb" "$1/root"; done
}

if [ ! -x "$OUT/qemu/qemu-wrap.sh" ]; then
  rm -rf "$OUT/qemu"
  fetch "$OUT/qemu" qemu-system-x86 qemu-system-common qemu-system-data seabios ipxe-qemu \
    libcapstone4 libfdt1 libpmem1 librdmacm1 libibverbs1 libslirp0 libvdeplug2 libndctl6 \
    libdaxctl1 libnl-route-3-200
  Q=$OUT/qemu/root
  cat > "$OUT/qemu/qemu-wrap.sh" <<EOF
#!/bin/sh
export LD_LIBRARY_PATH=$Q/usr/lib/x86_64-linux-gnu:$Q/lib/x86_64-linux-gnu
exec $Q/usr/bin/qemu-system-x86_64 -L $Q/usr/share/qemu -L $Q/usr/share/seabios "\$@"
EOF
  chmod 755 "$OUT/qemu/qemu-wrap.sh"
fi

if [ ! -f "$OUT/guest/initrd.gz" ]; then
  rm -rf "$OUT/guest"
  kernel=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
  fetch "$OUT/guest" "$kernel" busybox-static
  G=$OUT/guest
  cp "$G"/root/boot/vmlinuz-* "$G/vmlinuz"
  I=$G/initramfs
  mkdir -p "$I/bin" "$I/proc" "$I/sys" "$I/dev" "$I/modules"
  cp "$G/root/bin/busybox" "$I/bin/busybox"
  # virtio-net is a module in Debian's kernels; load it and what it needs, in this order.
  for m in $MODULES; do
    f=$(find "$G/root/lib/modules" -name "$m.ko*" | head -n 1)
    [ -n "$f" ] || continue
    case $f in
      *.xz) xz -dc "$f" > "$I/modules/$m.ko" ;;
      *.zst) zstd -qdc "$f" > "$I/modules/$m.ko" ;;
      *) cp "$f" "$I/modules/$m.ko" ;;
    esac
  done
  cat > "$I/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do
  [ -f /modules/$m.ko ] && insmod /modules/$m.ko
done
addr=$(sed -n 's/.*hil_ip=\([^ ]*\).*/\1/p' /proc/cmdline)
ip link set lo up
ip link set eth0 up
[ -n "$addr" ] && ip addr add "$addr" dev eth0
echo "HIL-HEADNODE-BOOTED address=$addr"
while true; do sleep 3600; done
EOF
  chmod 755 "$I/init"
  echo "$MODULES" > "$I/modules/order"
  (cd "$I" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -9 > "$G/initrd.gz")
  rm -rf "$G/root" "$G/debs"
fi
chmod -R a+rX "$OUT"
echo "$OUT"
