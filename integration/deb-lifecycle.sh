#!/usr/bin/env bash
# The Debian package as an admin meets it, in a VM that boots Debian 13 with systemd as PID 1
# (run by `./scripts/test deb`): install, configure and run; upgrade to a second version over it
# (the edited config kept, a running plugd restarted on the new files, the state kept); remove
# (stopped, state and config kept); purge (state and config gone).
#   PLUGD_DEB=dist/plugd_<v1>_amd64.deb PLUGD_DEB_NEXT=dist/plugd_<v2>_amd64.deb
# Prints PASS/FAIL per check and "N passed, N failed" last.
set -u
cd "$(dirname "$0")/.."   # the repository
[ "$(cat /proc/1/comm)" = systemd ] || { echo "needs systemd as PID 1 (VM_INIT=systemd vm/run-in-vm ...)"; exit 2; }
. integration/lib.sh
release
v1=$(dpkg-deb -f "$PLUGD_DEB" Version) v2=$(dpkg-deb -f "$PLUGD_DEB_NEXT" Version)
identity() { plugctl status | sed -n 's/^identity *//p'; }

echo "== install $v1 ($(. /etc/os-release; echo "$PRETTY_NAME"), systemd $(systemctl --version | sed -n '1s/systemd \([0-9]*\).*/\1/p'))"
out=$(dpkg -i "$PLUGD_DEB" 2>&1)
check "dpkg -i succeeds, its dependencies already met" [ $? = 0 ] || echo "$out"
check "installed: $(dpkg-query -W -f '${Package} ${Version} ${Status}' plugd)" [ "$(dpkg-query -W -f '${Version} ${Status}' plugd)" = "$v1 install ok installed" ]
check "it says how to use plugctl without sudo" grep -q "usermod -aG plugd" <<<"$out"
check "not started on first install (the wiring comes first)" bash -c "! systemctl is-active --quiet plugd && ! systemctl is-enabled --quiet plugd"
check "user and group plugd" bash -c "getent passwd plugd && getent group plugd > /dev/null"
udevadm settle
check "udev rule: the gpio-sim chip is group plugd, 0660 ($(stat -c '%G %a' /dev/$GPIOSIM_CHIP))" [ "$(stat -c '%G %a' "/dev/$GPIOSIM_CHIP")" = "plugd 660" ]
check "journal catalog installed" grep -q "plugd factory reset failed" <<<"$(journalctl --list-catalog 2>/dev/null)"
check "/etc/plugd/plugd.toml is a conffile" grep -q "^ /etc/plugd/plugd.toml" <<<"$(dpkg-query -W -f '${Conffiles}\n' plugd)"
write_vm_config /etc/plugd/plugd.toml
echo "# this plug: the kitchen" >> /etc/plugd/plugd.toml
check "the admin's config checks out" plugd --check-config /etc/plugd/plugd.toml
check "systemctl enable --now plugd" systemctl enable --now plugd
press; sleep 0.3; release
check "a press switches the relay line on" until_true 5 relay_is 1
id=$(identity) pid=$(main_pid)
check "plugctl status shows the plug ($id)" [ -n "$id" ]

echo "== upgrade to $v2"
out=$(dpkg -i "$PLUGD_DEB_NEXT" 2>&1)
check "dpkg -i of the new version succeeds, without a question about the config" [ $? = 0 ] || echo "$out"
check "installed: $(dpkg-query -W -f '${Version}' plugd)" [ "$(dpkg-query -W -f '${Version}' plugd)" = "$v2" ]
check "the edited config is kept" grep -q "^# this plug: the kitchen" /etc/plugd/plugd.toml
check "no .dpkg-new or .dpkg-dist beside it" bash -c "! ls /etc/plugd/*.dpkg-* 2>/dev/null"
check "plugd was restarted (MainPID $pid → $(main_pid))" bash -c "systemctl is-active --quiet plugd && [ '$(main_pid)' != '$pid' ]"
check "it runs the installed files, not the replaced ones ($(readlink /proc/$(main_pid)/exe))" [ "$(readlink "/proc/$(main_pid)/exe")" = /usr/bin/plugd ]
check "still enabled" systemctl is-enabled --quiet plugd
check "state kept: the same identity" [ "$(identity)" = "$id" ]
check "state kept: the relay restored on" until_true 5 relay_is 1

echo "== remove"
out=$(dpkg -r plugd 2>&1)
check "dpkg -r succeeds" [ $? = 0 ] || echo "$out"
check "plugd stopped" bash -c "! systemctl is-active --quiet plugd"
check "binaries gone" bash -c "! [ -e /usr/bin/plugd ] && ! [ -e /usr/bin/plugctl ]"
check "state kept (a reinstall is the same plug)" grep -q "$id" /var/lib/plugd/state.json
check "config kept" grep -q "^# this plug: the kitchen" /etc/plugd/plugd.toml

echo "== purge"
out=$(dpkg -P plugd 2>&1)
check "dpkg -P succeeds" [ $? = 0 ] || echo "$out"
check "state gone" bash -c "! [ -e /var/lib/plugd ]"
check "config gone" bash -c "! [ -e /etc/plugd ]"
check "no unit left enabled" bash -c "! ls /etc/systemd/system/*/plugd.service 2>/dev/null"
check "nothing of plugd left in dpkg" bash -c "! dpkg-query -W plugd 2>/dev/null | grep -q ."
finish
