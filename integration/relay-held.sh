#!/usr/bin/env bash
# The relay keeps its level while plugd restarts, crashes, is killed by the watchdog or is
# upgraded (systemd's fd store keeps the relay's line request), and a stop releases it. Run by
# `./scripts/test vm` with VM_INIT=systemd. A sampler (relay-sampler.c) reads the relay's
# gpio-sim value every 200 us through each event and watches the line's info on the chip (the
# kernel reports every release and request of the line, however short); every event must show
# 0 transitions and 0 releases.
# RELAY_HELD_ROUNDS (default 20) events of each kind with the relay on, as many with it off.
# Prints PASS/FAIL per check and "N passed, N failed" last.
set -u
cd "$(dirname "$0")/.."   # the repository
[ "$(cat /proc/1/comm)" = systemd ] || { echo "needs systemd as PID 1 (VM_INIT=systemd vm/run-in-vm ...)"; exit 2; }
. integration/lib.sh
release
rounds=${RELAY_HELD_ROUNDS:-20}

echo "== install (systemd $(systemctl --version | sed -n 's/^systemd \([0-9]*\).*/\1/p'))"
if [ -n "${PLUGD_DEB:-}" ]; then
  install_plugd() { dpkg -i "$PLUGD_DEB" > /tmp/install.log 2>&1; }
else
  install_plugd() { BIN_DIR=${PLUGD_BIN_DIR:-$PWD/.build/debug} ./scripts/install > /tmp/install.log 2>&1; }
fi
install_plugd
check "installed" [ $? = 0 ] || cat /tmp/install.log
lib=$(ldd "$(command -v plugd)" | sed -n 's/.*libgpiod[^ ]* => \(\/[^ ]*\) .*/\1/p')
case $lib in /lib/*|/usr/lib/*|"") ;; *) cp -L "$lib" /usr/local/lib/ && ldconfig ;; esac
write_vm_config /etc/plugd/plugd.toml
install -d -o plugd -g plugd -m 0700 /var/lib/plugd
printf '{"identity":"11111111-2222-3333-4444-555555555555","name":"vm","registered":true,"relayOn":false,"version":1}\n' \
  > /var/lib/plugd/state.json
chown plugd:plugd /var/lib/plugd/state.json; chmod 0600 /var/lib/plugd/state.json
cc -O2 -o /tmp/relay-sampler integration/relay-sampler.c || { bad "relay-sampler builds"; finish; exit 1; }
value=$GPIOSIM_SYSFS/sim_gpio$(offset relay)/value
check "the unit keeps one descriptor ($(systemctl show -p FileDescriptorStoreMax --value plugd))" \
  [ "$(systemctl show -p FileDescriptorStoreMax --value plugd)" = 1 ]
systemctl start plugd
check "started" systemctl is-active --quiet plugd

# up OLD_PID: a new plugd is running, READY=1 sent (active) and answering plugctl.
up() { local p; p=$(main_pid); [ "$p" != 0 ] && [ "$p" != "$1" ] && systemctl is-active --quiet plugd && plugctl status > /dev/null 2>&1; }
# The LED of a registered plug in normal mode: solid blue with the relay on, off with it off.
led_matches() { [ "$(led)" = "00$(cat "$value")" ]; }

ev_restart()  { systemctl restart plugd; }
ev_kill()     { kill -9 "$(main_pid)"; }
# A stopped plugd: systemd's watchdog must be what ends it (Result=watchdog while it restarts).
wd_kills=0
result_is_watchdog() { [ "$(systemctl show -p Result --value plugd)" = watchdog ]; }
ev_watchdog() { kill -STOP "$(main_pid)"; until_true 30 result_is_watchdog && wd_kills=$((wd_kills + 1)); }
# An upgrade: the package's own (dpkg -i: prerm upgrade, unpack, postinst try-restart), or as
# dpkg does it for a source install (new files over the old, daemon-reload, try-restart).
bindir=${PLUGD_BIN_DIR:-$PWD/.build/debug}
if [ -n "${PLUGD_DEB:-}" ]; then
  ups=0   # alternately to the next version and back
  ev_upgrade() {
    ups=$((ups + 1)); local deb=$PLUGD_DEB; (( ups % 2 )) && deb=${PLUGD_DEB_NEXT:-$PLUGD_DEB}
    dpkg -i "$deb" > /tmp/upgrade.log 2>&1
  }
else
  ev_upgrade() {
    install -m 0755 "$bindir/plugd" "$bindir/plugctl" /usr/local/bin/ && systemctl daemon-reload && systemctl try-restart plugd
  }
fi
limit=${EVENT_LIMIT:-90}
summary=()
# campaign NAME: $rounds events with the relay on and as many off, alternating (a short press
# after each event toggles the relay, which checks the button; the LED is checked with it).
campaign() {
  local name=$1 bad_events=() max_gap=0 total=0 slow=0 took=() t0
  for ((i = 0; i < 2 * rounds; i++)); do
    systemctl reset-failed plugd 2>/dev/null   # 40 starts in minutes would hit StartLimitBurst
    local level old; level=$(cat "$value"); old=$(main_pid)
    /tmp/relay-sampler "$value" "/dev/$GPIOSIM_CHIP" "$(offset relay)" > /tmp/sample.out & local sampler=$!
    sleep 0.05
    t0=$(date +%s%N)
    "ev_$name"
    if ! until_true "$limit" up "$old"; then bad_events+=("#$i: plugd not back within ${limit}s"); kill $sampler; wait $sampler; continue; fi
    took+=($(( ($(date +%s%N) - t0) / 1000000 )))
    kill -TERM $sampler; wait $sampler
    local out; out=$(cat /tmp/sample.out)
    eval "local $out"   # samples= transitions= max_gap_us= gaps_over_1ms= released= requested= first= last= duration_ms=
    (( max_gap_us > max_gap )) && max_gap=$max_gap_us
    total=$((total + samples)); slow=$((slow + gaps_over_1ms))
    [ "$transitions" = 0 ] && [ "$released" = 0 ] && [ "$first" = "$level" ] && [ "$last" = "$level" ] ||
      bad_events+=("#$i relay $level: $out")
    # (a start shows 3 red flashes first: the LED must settle to the relay's colour)
    until_true 5 led_matches || bad_events+=("#$i relay $level: LED $(led) after the event")
    press; sleep 0.2; release
    until_true 5 bash -c "[ \"\$(cat '$value')\" != '$level' ]" || bad_events+=("#$i: the button did not toggle the relay after the event")
    until_true 2 led_matches || bad_events+=("#$i: LED $(led) after the press, relay $(cat "$value")")
  done
  local sorted; sorted=$(printf '%s\n' "${took[@]}" | sort -n | tr '\n' ' ')
  local what="$name x$((2 * rounds)) (relay on $rounds, off $rounds): 0 transitions of the relay line and 0 releases of it in every one; the LED and button work after each (sampler: longest gap ${max_gap} us; plugd back in $(echo $sorted | cut -d' ' -f1)-$(echo $sorted | awk '{print $NF}') ms)"
  if [ ${#bad_events[@]} = 0 ]; then ok "$what"; else bad "$what"; printf '    %s\n' "${bad_events[@]}"; fi
  summary+=("$name: ${#bad_events[@]} bad of $((2 * rounds)); $total samples, $slow gaps over 1 ms, longest ${max_gap} us; plugd back in ms: $sorted")
}

echo "== systemctl restart"
campaign restart
echo "== kill -9 (Restart=on-failure)"
campaign kill
# A stopped process takes systemd's SIGABRT only when continued, so the SIGKILL that follows
# after TimeoutAbortSec= ends it: 1 s here instead of the unit's 10.
echo "== watchdog timeout (a stopped plugd; WatchdogSec=2, TimeoutAbortSec=1 for this test)"
mkdir -p /run/systemd/system/plugd.service.d
printf '[Service]\nWatchdogSec=2\nTimeoutAbortSec=1\n' > /run/systemd/system/plugd.service.d/watchdog.conf
systemctl daemon-reload; systemctl restart plugd
campaign watchdog
rm /run/systemd/system/plugd.service.d/watchdog.conf; systemctl daemon-reload
check "each was a watchdog kill ($wd_kills of $((2 * rounds)) with Result=watchdog)" [ "$wd_kills" = $((2 * rounds)) ]
echo "== upgrade ($([ -n "${PLUGD_DEB:-}" ] && echo "dpkg -i, alternately the next version and back" || echo "new binaries installed, daemon-reload, try-restart"))"
campaign upgrade

echo "== journal"
check "relay_adopted logged at each start ($(journalctl -u plugd -o cat PLUG_EVENT=relay_adopted | wc -l))" \
  [ "$(journalctl -u plugd -o cat PLUG_EVENT=relay_adopted | wc -l)" -ge $((8 * rounds)) ]
check "no relay_not_adopted" [ -z "$(journalctl -u plugd -o cat PLUG_EVENT=relay_not_adopted)" ]
check "relay_adopted has its catalog entry" grep -q "Subject: plugd kept the relay" <<<"$(journalctl -u plugd -x --no-pager PLUG_EVENT=relay_adopted -n 1)"

echo "== the state file changed while plugd was down: the relay follows it"
level=$(cat "$value"); want=$((1 - level))
systemctl reset-failed plugd
old=$(main_pid)
/tmp/relay-sampler "$value" "/dev/$GPIOSIM_CHIP" "$(offset relay)" > /tmp/sample.out & sampler=$!
sleep 0.05
kill -9 "$old"
json=$([ $want = 1 ] && echo true || echo false)
sed -i "s/\"relayOn\" *: *[a-z]*/\"relayOn\" : $json/" /var/lib/plugd/state.json
until_true 30 up "$old"
kill -TERM $sampler; wait $sampler
eval "$(cat /tmp/sample.out)"
check "one transition, to the state file's level $want, the line never released ($(cat /tmp/sample.out))" \
  [ "$transitions" = 1 -a "$last" = "$want" -a "$released" = 0 ]
check "journal says why" grep -q "switched .*: the state file says" <<<"$(journalctl -u plugd -o cat PLUG_EVENT=relay_adopted | tail -1)"

echo "== another line in the config: the kept request is not taken over"
plugctl on > /dev/null; until_true 5 relay_is 1
sed -i 's/^line = "relay"/line = "led_g"/; s/^green = "led_g"/green = "relay"/' /etc/plugd/plugd.toml
old=$(main_pid); systemctl reset-failed plugd; systemctl restart plugd; until_true 30 up "$old"
check "relay_not_adopted names both lines" grep -q "config says" <<<"$(journalctl -u plugd -o cat PLUG_EVENT=relay_not_adopted | tail -1)"
check "the new relay line is on (the state)" [ "$(cat "$GPIOSIM_SYSFS/sim_gpio$(offset led_g)/value")" = 1 ]
sed -i 's/^line = "led_g"/line = "relay"/; s/^green = "relay"/green = "led_g"/' /etc/plugd/plugd.toml
old=$(main_pid); systemctl reset-failed plugd; systemctl restart plugd; until_true 30 up "$old"

echo "== an MQTT command flood: 200 commands, alternating ON and OFF, the last OFF (relay flood guard)"
printf 'listener 1883 127.0.0.1\nallow_anonymous true\n' > /tmp/mosquitto.conf
mosquitto -c /tmp/mosquitto.conf -d
printf '[mqtt]\nhost = "127.0.0.1"\n' >> /etc/plugd/plugd.toml
old=$(main_pid); systemctl reset-failed plugd; systemctl restart plugd; until_true 30 up "$old"
until_true 30 mqtt_connected
state_topic=$(mosquitto_sub -h 127.0.0.1 -t 'plugd/+/state' -v -C 1 -W 10 | cut -d' ' -f1)
sleep 3.1   # an empty window
/tmp/relay-sampler "$value" "/dev/$GPIOSIM_CHIP" "$(offset relay)" > /tmp/sample.out & sampler=$!
sleep 0.05
# All 200 at once from one mosquitto_pub (a fork per command would take longer than the window
# under emulation): as fast as the broker takes them.
for ((i = 0; i < 200; i++)); do (( i % 2 )) && echo OFF || echo ON; done > /tmp/commands
changes() { journalctl -u plugd -o cat PLUG_EVENT=relay | wc -l; }
before=$(changes)
t0=$(date +%s%N)
mosquitto_pub -h 127.0.0.1 -t "${state_topic%/state}/set" -l < /tmp/commands
sent_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
pending=$(plugctl status | sed -n 's/^pending *//p')
sleep 8
kill -TERM $sampler; wait $sampler
eval "$(cat /tmp/sample.out)"
made=$(( $(changes) - before ))
# Each relay entry is one set of the line: the exact count. The sampler cannot count changes
# closer together than its longest gap (tens of ms under emulation): it checks the end level,
# that the line was never released, and that it saw no more changes than that.
check "200 commands in $sent_ms ms: $made relay changes (5 at once, then the last command if it differs), the line ending off ($(cat /tmp/sample.out))" \
  [ "$made" -ge 5 -a "$made" -le 6 -a "$transitions" -le "$made" -a "$last" = 0 -a "$released" = 0 ]
check "plugctl status showed the pending change during the flood ($pending)" grep -q "flood guard" <<<"$pending"
flood=$(journalctl -u plugd -o export PLUG_EVENT=relay_flood | sed -n 's/^PLUG_COLLAPSED=//p')
check "relay_flood logged with the number collapsed ($(echo $flood))" [ -n "$flood" ]
check "relay_flood has its catalog entry" grep -q "Subject: plugd held back relay changes" <<<"$(journalctl -u plugd -x --no-pager PLUG_EVENT=relay_flood -n 1)"

echo "== systemctl stop releases the line"
plugctl on > /dev/null; until_true 5 relay_is 1
systemctl stop plugd
check "relay line released at stop: back to its pull-down (0)" until_true 5 relay_is 0
systemctl start plugd
check "started again: the relay restored (policy last: on)" until_true 10 relay_is 1
systemctl stop plugd

printf '    %s\n' "${summary[@]}"
finish
