#!/bin/sh
# The second stage of the HIL systemd root (scripts/hil/systemd-root.sh), run by busybox in the
# arm64 VM's initramfs with the root's image at /mnt/disk: debootstrap's second stage, then what
# the scenario needs on top. Lean on purpose: only what the scenario uses starts at boot.
set -e
r=/mnt/disk
# debootstrap mounts (and unmounts) proc and sys in the root itself; /dev is the VM's.
mount -o bind /dev "$r/dev"
t0=$(cut -d' ' -f1 /proc/uptime)
if ! chroot "$r" /debootstrap/debootstrap --second-stage >/tmp/stage2.log 2>&1; then
  tail -n 40 "$r/debootstrap/debootstrap.log" /tmp/stage2.log
  exit 1
fi
echo "stage2: debootstrap --second-stage took $(cut -d' ' -f1 /proc/uptime) s (from $t0)"

chroot "$r" /bin/sh -es <<'SETUP'
rm -f /etc/dpkg/dpkg.cfg.d/hil-unsafe-io
echo picket-hil >/etc/hostname
printf '127.0.0.1 localhost\n127.0.1.1 picket-hil\n' >/etc/hosts
: >/etc/fstab
ln -sf /lib/systemd/system/multi-user.target /etc/systemd/system/default.target
# Nothing the scenario does not use: no getty on the console it prints to, no timers.
for u in getty.target serial-getty@ttyAMA0.service getty@tty1.service console-getty.service \
  apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
  e2scrub_reap.service fstrim.timer systemd-timesyncd.service systemd-networkd.service \
  systemd-resolved.service systemd-pstore.service systemd-binfmt.service \
  sys-kernel-debug.mount sys-kernel-tracing.mount; do
  ln -sf /dev/null "/etc/systemd/system/$u"
done
mkdir -p /etc/systemd/system/multi-user.target.wants /var/log/journal
ln -sf /etc/systemd/system/hil-scenario.service \
  /etc/systemd/system/multi-user.target.wants/hil-scenario.service
cat >/usr/local/sbin/hil-scenario <<'RUN'
#!/bin/sh
# Runs the packed command under systemd and powers off (see hil-scenario.service).
set -a
. /hil/env
set +a
echo "@@HIL ready uptime=$(cut -d' ' -f1 /proc/uptime)@@"
sh /hil/cmd.sh
rc=$?
sync
echo "@@HIL exit=$rc uptime=$(cut -d' ' -f1 /proc/uptime)@@"
systemctl poweroff --force --force
RUN
chmod 0755 /usr/local/sbin/hil-scenario
# The box's admin, who installs the package, and a user outside group picket.
adduser --quiet --disabled-password --gecos "" admin
adduser --quiet --disabled-password --gecos "" guest
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/lib/dpkg/*-old
SETUP
umount "$r/dev"
echo "stage2: done at $(cut -d' ' -f1 /proc/uptime) s"
