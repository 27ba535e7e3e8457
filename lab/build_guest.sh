#!/bin/sh
# Builds what the headnode VM tests boot, from Debian packages only (apt-get download, no
# installs): QEMU unpacked into OUT/qemu with a wrapper (the packaged qemu-system-x86 conflicts
# with this image's qemu-utils backport), and a tiny guest: Debian's cloud kernel plus a
# busybox initramfs whose init brings eth0 up with the address given on the kernel command
# line (hil_ip=A/N) and reports what it did on the serial console (see its init below).
#
# usage: build_guest.sh OUT_DIR     (re-running is cheap: finished parts are kept)
set -eu
export PATH="$PATH:/sbin:/usr/sbin" # modinfo
# The guest's virtio NIC needs these kernel modules and whatever they depend on.
MODULES="virtio_pci virtio_net"
OUT=${1:?usage: build_guest.sh OUT_DIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

fetch() { # fetch DIR PACKAGE... : download and unpack packages into DIR/root
  apt-cache show busybox-static >/dev/null 2>&1 || apt-get update -qq
  mkdir -p "$1/debs"
  # As root, apt would drop to its _apt user, which cannot write here, and warn about it.
  sandbox=""; [ "$(id -u)" = 0 ] && sandbox="-o APT::Sandbox::User=root"
  (cd "$1/debs" && shift && apt-get download -q $sandbox "$@" >/dev/null)
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

# G and I are set before anything below removes files under them.
G=$OUT/guest
I=$G/initramfs

# add_module NAME: copies kernel module NAME into the initramfs and appends it to ORDER after
# every module it depends on (modinfo's list). Loaded in any other order, a module fails with
# unknown symbols, and the guest then has no eth0.
ORDER=""
add_module() {
  local file dep
  case " $ORDER " in *" $1 "*) return 0 ;; esac
  if grep -q "/$1\.ko" "$G"/root/lib/modules/*/modules.builtin; then return 0; fi
  file=$(find "$G/root/lib/modules" -name "$1.ko*" | head -n 1)
  if [ -z "$file" ]; then
    echo "build_guest.sh: the guest kernel has no module $1" >&2
    exit 1
  fi
  case $file in
    *.xz) xz -dc "$file" > "$I/modules/$1.ko" ;;
    *.zst) zstd -qdc "$file" > "$I/modules/$1.ko" ;;
    *) cp "$file" "$I/modules/$1.ko" ;;
  esac
  for dep in $(modinfo -F depends "$I/modules/$1.ko" | tr , ' '); do add_module "$dep"; done
  ORDER="$ORDER $1"
}

# The guest is rebuilt whenever this script changes, so a fix here reaches every machine that
# kept a guest built by an older version.
RECIPE=$(sha256sum "$0" | cut -c1-16)
if [ ! -f "$G/initrd.gz" ] || [ "$(cat "$G/recipe" 2>/dev/null)" != "$RECIPE" ]; then
  rm -rf "$G"
  kernel=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
  fetch "$G" "$kernel" busybox-static
  cp "$G"/root/boot/vmlinuz-* "$G/vmlinuz"
  mkdir -p "$I/bin" "$I/proc" "$I/sys" "$I/dev" "$I/modules"
  cp "$G/root/bin/busybox" "$I/bin/busybox"
  for m in $MODULES; do add_module "$m"; done
  echo "$ORDER" > "$I/modules/order"
  # The init reports on the serial console: each module that failed to load, then
  # HIL-HEADNODE-NET-UP once eth0 carries its address (or HIL-HEADNODE-NET-FAILED followed by
  # the interfaces it has and the kernel's last words), then HIL-HEADNODE-BOOTED.
  cat > "$I/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do
  insmod "/modules/$m.ko" || echo "HIL-HEADNODE-MODULE-FAILED $m"
done
addr=$(sed -n 's/.*hil_ip=\([^ ]*\).*/\1/p' /proc/cmdline)
ip link set lo up
tries=0
while [ ! -e /sys/class/net/eth0 ] && [ $tries -lt 30 ]; do
  sleep 1
  tries=$((tries + 1))
done
if [ -n "$addr" ] && ip link set eth0 up && ip addr add "$addr" dev eth0; then
  echo "HIL-HEADNODE-NET-UP address=$addr"
else
  echo "HIL-HEADNODE-NET-FAILED address=$addr"
  ip addr
  dmesg | tail -n 20
fi
echo "HIL-HEADNODE-BOOTED address=$addr"
while true; do sleep 3600; done
INIT
  chmod 755 "$I/init"
  (cd "$I" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -9 > "$G/initrd.gz")
  rm -rf "$G/root" "$G/debs"
  echo "$RECIPE" > "$G/recipe"
fi
chmod -R a+rX "$OUT"
echo "$OUT"
