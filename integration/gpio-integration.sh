#!/usr/bin/env bash
# GPIO integration tests: the real plugd binary on the kernel's gpio-sim chip, inside the VM
# (run by `./scripts/test vm` through vm/run-in-vm). The button is driven through gpio-sim's
# `pull` attribute (pull-down = pressed: the button is active-low), and the relay and LED lines
# are read from `sim_gpioK/value`. Prints PASS/FAIL per check and "N passed, N failed" last.
set -u
PLUGD=${PLUGD:-$PWD/.build/debug/plugd}
[ -n "${GPIOSIM_CHIP:-}" ] || { echo "no gpio-sim chip (run me through vm/run-in-vm)"; exit 2; }
[ -x "$PLUGD" ] || { echo "no plugd binary at $PLUGD"; exit 2; }
. "$(dirname "$0")/lib.sh"   # (this suite runs from wherever it is started)

until_step=0.02   # LED phases are watched: poll every 20 ms
# click: a finger's short press — 300 ms down, then up, then the 50 ms debounce allowed to pass
# (a release and a new press closer than the debounce are one bouncing press, rightly)
click() { press; nap 0.3; release; nap 0.15; }
# sample_led MILLISECONDS: the distinct LED values seen, sorted, space-separated
sample_led() { local t0 n=0 v; t0=$(now_ms); local -A seen=()
  while (( $(now_ms) - t0 < $1 )); do led_into v; seen[$v]=1; n=$((n + 1)); nap 0.01; done
  echo "${!seen[@]}" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//'; }
PLUGCTL=${PLUGCTL:-$(dirname "$PLUGD")/plugctl}
RUN=$(mktemp -d)
SOCK=$RUN/control.sock
# config [CHIP [RELAY_LINE [BIAS [BUTTON_LINES [MORE]]]]]: a config file for the gpio-sim chip,
# with more [button] keys and more tables at the end if given; prints its path
config() {
  local f; f=$(mktemp --suffix=.toml)
  cat > "$f" <<TOML
${5:-}
[gpio]
chip = "${1:-$GPIOSIM_CHIP}"
[relay]
line = "${2:-relay}"
[button]
line = "button"
bias = "${3:-pull-up}"
${4:-}
[led]
red = "led_r"
green = "led_g"
blue = "led_b"
[state]
write_delay_ms = 0
[control]
socket = "$SOCK"
TOML
  echo "$f"
}

STATE= PID= LOG=
# start_plugd REGISTERED RELAY_ON [BIAS [BUTTON_LINES [MORE]]]: a plug with that saved state, started
start_plugd() {
  local registered=$1 relay_on=$2 bias=${3:-pull-up} button=${4:-} more=${5:-}
  STATE=$(mktemp -d); LOG=$(mktemp)
  printf '{"identity":"11111111-2222-3333-4444-555555555555","name":"vm","registered":%s,"relayOn":%s,"version":1}\n' \
    "$registered" "$relay_on" > "$STATE/state.json"
  "$PLUGD" --config "$(config "" "" "$bias" "$button" "$more")" --state-dir "$STATE" > "$LOG" 2>&1 &
  PID=$!
  if until_true 20 grep -q "PLUG_EVENT=started" "$LOG"; then ok "plugd started"
  else bad "plugd did not start: $(cat "$LOG")"; return 1; fi
}
stop_plugd() {
  [ -n "$PID" ] || return 0
  kill -TERM "$PID" 2>/dev/null; wait "$PID"; local rc=$?; PID=
  return $rc
}
identity() { sed -n 's/.*"identity" *: *"\([^"]*\)".*/\1/p' "$STATE/state.json"; }

echo "== chip $GPIOSIM_CHIP ($GPIOSIM_LINES), kernel $(uname -r)"
release   # the button starts released

echo "== short press toggles the relay"
start_plugd true false
api=${EXPECT_GPIOD_API:-v1}
backend() { grep -q "PLUG_EVENT=gpio_backend" "$LOG" && grep -q "($api API)" "$LOG"; }
check "built on the libgpiod $api API ($(sed -n 's/^<6>GPIO through \([^;]*\);.*/\1/p' "$LOG"))" until_true 5 backend
if [ "$api" = v2 ]; then check "the kernel debounces the button" grep -q "PLUG_DEBOUNCE=by the kernel" "$LOG"; fi
sleep 1   # the three start-up flashes
check "relay starts off (restored)" relay_is 0
check "LED off with relay off" until_true 3 led_is 000   # the flashes end (slower when emulated)
click
check "press turns the relay on" until_true 2 relay_is 1
check "LED solid blue with relay on" until_true 1 led_is 001
click
check "second press turns it off" until_true 2 relay_is 0
# two builtin writes apart: low for microseconds, far below the 50 ms debounce
for _ in 1 2 3 4 5; do press; release; done; sleep 0.5
check "glitches shorter than the debounce are not presses" relay_is 0
out=$("$PLUGCTL" on --socket "$SOCK"); rc=$?
check "plugctl on: relay on (rc $rc)" until_true 1 relay_is 1
check "plugctl status says on" grep -q "^relay *on" <<<"$("$PLUGCTL" status --socket "$SOCK")"
check "plugctl status --json" grep -q '"relay":"on"' <<<"$("$PLUGCTL" status --json --socket "$SOCK")"
"$PLUGCTL" off --socket "$SOCK" >/dev/null
check "plugctl off: relay off" relay_is 0
check "events carry structured fields (<N> prefix on stderr)" grep -q '^<6>Relay off (control).*PLUG_EVENT=relay.*PLUG_RELAY=off' "$LOG"
check "stops cleanly on SIGTERM" stop_plugd
check "relay state written at stop" grep -Eq '"relayOn" *: *false' "$STATE/state.json"

echo "== relay restored at start (power-on policy last)"
start_plugd true true
check "relay on from the first instant" relay_is 1
stop_plugd

echo "== hold 5 s: red, then setup mode"
start_plugd true false
sleep 1
press; sleep 5.6
check "LED solid red after 5 s" led_is 100
release; nap 0.15   # the release is debounced first
seen=$(sample_led 2500)
check "setup mode blinks blue (saw: $seen)" [ "$seen" = "000 001" ]
check "identity kept" [ "$(identity)" = 11111111-2222-3333-4444-555555555555 ]
stop_plugd

echo "== hold 12 s: orange, factory reset wipes the state, ends blue"
start_plugd true true
sleep 1
echo junk > "$STATE/state.json.corrupt-1"
press; sleep 12.6
check "LED solid orange after 12 s" led_is 110
release
seen=$(sample_led 700)   # from the release: 50 ms debounce, then at least 1 s of flashing
check "orange flashing while resetting (saw: $seen)" [ "$seen" = "000 110" ]
check "relay off for the reset" relay_is 0
check "reset complete: solid blue" until_true 2 led_is 001
sleep 1.5
check "still solid blue" led_is 001
check "state directory wiped (left: $(ls "$STATE" | tr '\n' ' '))" [ "$(ls "$STATE")" = state.json ]
check "new identity" [ "$(identity)" != 11111111-2222-3333-4444-555555555555 ]
check "registration gone" grep -Eq '"registered" *: *false' "$STATE/state.json"
check "event logged with its field" grep -q "PLUG_EVENT=factory_reset_complete" "$LOG"
seen=$(sample_led 2500)
check "then setup mode blinks blue (saw: $seen)" [ "$seen" = "000 001" ]
stop_plugd

echo "== start-up hold: no toggle, LED off at 12 s, release = factory reset"
# as-is bias: a pull-up request would make gpio-sim release the simulated button
press
start_plugd true true as-is
sleep 6
check "no toggle at start (relay still on)" relay_is 1
check "no red stage for a start-up hold (blue)" led_is 001
sleep 6.5
check "LED completely off after 12 s" led_is 000
release
check "release factory-resets" until_true 3 grep -q "PLUG_EVENT=factory_reset_started" "$LOG"
check "relay off" relay_is 0
check "new identity" until_true 2 bash -c "! grep -q 11111111-2222 '$STATE/state.json'"
stop_plugd

echo "== stuck at start-up for 60 s: never resets"
press
start_plugd true true as-is
sleep 13
check "LED off after 12 s" led_is 000
sleep 18.5   # 31.5 s held: past the 30 s stuck limit
check "stuck button logged at 30 s" grep -q "PLUG_EVENT=stuck_button " "$LOG"
check "LED back to normal after the cancel (relay on: blue)" led_is 001
sleep 29     # 60 s held
check "relay still on after 60 s held" relay_is 1
# (the file start_plugd wrote was rewritten once at start, to bind it to this board)
check "identity kept after 60 s held" grep -q '"identity" *: *"11111111-2222-3333-4444-555555555555"' "$STATE/state.json"
release
check "release after the cancel is logged" until_true 2 grep -q "PLUG_EVENT=stuck_button_released" "$LOG"
sleep 1
check "no factory reset at any point" bash -c "! grep -q 'PLUG_EVENT=factory_reset' '$LOG'"
check "identity and registration kept" bash -c "grep -q '\"identity\" *: *\"11111111-2222-3333-4444-555555555555\"' '$STATE/state.json' && grep -q '\"registered\" *: *true' '$STATE/state.json'"
check "relay still on" relay_is 1
stop_plugd

echo "== countdown and detached button"
start_plugd true false
sleep 1
"$PLUGCTL" on --for 2s --socket "$SOCK" >/dev/null
check "plugctl on --for 2s: relay on" relay_is 1
check "... off again when the 2 s are up" until_true 4 relay_is 0
check "... by the countdown" grep -q "PLUG_EVENT=timer_fired" "$LOG"
stop_plugd
start_plugd true false pull-up 'mode = "detached"'
sleep 1
click
check "detached: a press is reported" until_true 2 grep -q "PLUG_EVENT=button_press.*PLUG_PRESSES=single" "$LOG"
check "detached: and does not move the relay" relay_is 0
stop_plugd

echo "== schedules by the wall clock: the clock set back wakes plugd at once"
# The schedules wait for a synchronised clock (here a flag file of this suite's own); plugd
# checks again in a minute, on a wall-clock timer. The clock is then set an hour back with the
# flag in place: that timer's instant is now an hour and a minute away, and plugd learns of the
# step only because its timerfd is armed with TFD_TIMER_CANCEL_ON_SET; it then runs the entry
# 5 s after the step. The clock is set forward again afterwards.
synced=$RUN/synchronized; rm -f "$synced"
target=$(( $(date +%s) - 3600 ))
at=$(TZ=UTC date -d "@$(( target + 5 ))" +%H:%M:%S)
export TZ=UTC PLUGD_TIMESYNC_FILE=$synced
start_plugd true false pull-up "" "$(printf '[[schedule]]\nat = "%s"\naction = "on"\n' "$at")"
check "clock not synchronised: the schedule waits" until_true 3 grep -q "PLUG_EVENT=schedule_waiting" "$LOG"
touch "$synced"
stepped=$(date +%s); date -s "@$target" >/dev/null
check "the clock set an hour back is noticed at once: synchronised" until_true 3 grep -q "PLUG_EVENT=schedule_clock_synchronized" "$LOG"
check "the entry ($at UTC) runs 5 s after the step" until_true 8 relay_is 1
check "... logged as the schedule's" grep -q "PLUG_EVENT=schedule_fired.*PLUG_SOURCE=schedule" "$LOG"
date -s "@$(( stepped + $(date +%s) - target ))" >/dev/null   # back to the real time
stop_plugd
unset TZ PLUGD_TIMESYNC_FILE

echo "== errors"
# Another program holding a line, and setting lines once: libgpiod's tools changed their options
# between v1 (Debian 12) and v2 (Debian 13, the arm64 VM's root).
if gpioset --help 2>&1 | grep -q -- '--mode'; then
  hold_line() { exec gpioset --mode=signal "$1" "$2"; }
  set_lines_once() { local chip=$1; shift; gpioset "$chip" "$@"; }
else
  hold_line() { exec gpioset -c "$1" "$2"; }
  set_lines_once() { local chip=$1; shift; gpioset -t 0 -c "$chip" "$@"; }
fi
hold_line "$GPIOSIM_CHIP" "$(offset relay)=0" & HOLDER=$!
sleep 0.3
out=$("$PLUGD" --config "$(config)" --state-dir "$(mktemp -d)" 2>&1); rc=$?
check "line busy: exit 69 ($out)" [ $rc = 69 ]
check "line busy: says busy" grep -q "busy" <<<"$out"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null
out=$("$PLUGD" --config "$(config gpiochip99)" --state-dir "$(mktemp -d)" 2>&1); rc=$?
check "chip missing: exit 69 ($out)" [ $rc = 69 ]
check "chip missing: names the chip" grep -q "gpiochip99 not found" <<<"$out"
out=$("$PLUGD" --config "$(config "" no_such_line)" --state-dir "$(mktemp -d)" 2>&1); rc=$?
check "unknown line name: exit 69 ($out)" [ $rc = 69 ]
check "unknown line name: names it" grep -q '"no_such_line" not found' <<<"$out"
d=$(mktemp -d); chmod 777 "$d"
cfg=$(config); chmod 644 "$cfg"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$PLUGD" --config "$cfg" --state-dir "$d" 2>&1); rc=$?
check "permission denied: exit 69 ($out)" [ $rc = 69 ]
check "permission denied: says so" grep -q "permission denied" <<<"$out"
bad_cfg=$(config); sed -i 's/^line = "relay"/line = "relay"\nactive_low = "yes"/' "$bad_cfg"
# The relay line is held elsewhere: were any line requested before the config is checked,
# plugd would fail with 69 (busy) instead of 78.
hold_line "$GPIOSIM_CHIP" "$(offset relay)=0" & HOLDER=$!
sleep 0.3
out=$("$PLUGD" --config "$bad_cfg" --state-dir "$(mktemp -d)" 2>&1); rc=$?
check "bad config: exit 78 before any line is requested ($out)" [ $rc = 78 ]
check "bad config: names file and key" grep -q "$bad_cfg: relay.active_low: must be true or false" <<<"$out"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null
check "no line left held after the failures" set_lines_once "$GPIOSIM_CHIP" 0=0 1=1 2=0 3=0 4=0

echo "== chip = \"auto\": the Raspberry Pi header's chip, found by its label"
# sim_chip NAME LABEL: another gpio-sim chip (the VM's line names), labelled like a Pi's header
# controller or a HAT's expander; prints its chip name. unsim NAME takes it away.
sim_chip() { local c=/sys/kernel/config/gpio-sim/$1 n=0 name
  mkdir "$c" "$c/bank0" || return 1
  for name in ${GPIOSIM_LINES//,/ }; do mkdir "$c/bank0/line$n"; echo "$name" > "$c/bank0/line$n/name"; n=$((n+1)); done
  echo "$n" > "$c/bank0/num_lines"; echo "$2" > "$c/bank0/label"; echo 1 > "$c/live" && cat "$c/bank0/chip_name"; }
sim_value() { local c=/sys/kernel/config/gpio-sim/$1  # sim_value NAME LINE: the line's level
  cat "/sys/devices/platform/$(cat "$c/dev_name")/$(cat "$c/bank0/chip_name")/sim_gpio$(offset "$2")/value"; }
unsim() { local c=/sys/kernel/config/gpio-sim/$1 l
  echo 0 > "$c/live"; for l in "$c"/bank0/line*; do rmdir "$l"; done; rmdir "$c/bank0" "$c"; }
on_state() { local d; d=$(mktemp -d)
  printf '{"identity":"11111111-2222-3333-4444-555555555555","name":"vm","registered":true,"relayOn":true,"version":1}\n' > "$d/state.json"
  echo "$d"; }
out=$("$PLUGD" --config "$(config auto)" --state-dir "$(mktemp -d)" 2>&1); rc=$?
check "no header chip: exit 69 ($out)" [ $rc = 69 ]
check "no header chip: names the chips seen" grep -q "chips present: .*$GPIOSIM_CHIP \[gpio-sim-vm\]" <<<"$out"
hat=$(sim_chip hat pca9555)
check "a HAT's expander chip beside it ($hat)" [ -n "$hat" ]
for label in pinctrl-rp1 pinctrl-bcm2711 pinctrl-bcm2835; do
  hdr=$(sim_chip header "$label")
  link=
  if [ "$label" = pinctrl-rp1 ]; then   # Raspberry Pi OS's 60-gpiochip4.rules: a second name, one chip
    link=/dev/gpiochip40; ln -s "$hdr" "$link"
  fi
  LOG=$(mktemp)
  "$PLUGD" --config "$(config auto)" --state-dir "$(on_state)" > "$LOG" 2>&1 & PID=$!
  until_true 20 grep -q "PLUG_EVENT=started" "$LOG"
  check "$label: chose $hdr among $GPIOSIM_CHIP, $hat${link:+ and the symlink $link} ($(sed -n 's/^<6>\(GPIO header chip: [^,]*\).*/\1/p' "$LOG"))" \
    grep -qw "PLUG_CHIP=$hdr" "$LOG"
  check "$label: its relay line is driven (on), the other chips' are not" \
    [ "$(sim_value header relay)$(sim_value hat relay)$(relay)" = 100 ]
  stop_plugd
  [ -n "$link" ] && rm "$link"
  unsim header
done
LOG=$(mktemp)   # an explicit chip given by its label, among the header-like chips' neighbours
"$PLUGD" --config "$(config gpio-sim-vm)" --state-dir "$(on_state)" > "$LOG" 2>&1 & PID=$!
check "chip = \"gpio-sim-vm\" (a label): plugd drives that chip's relay" until_true 20 relay_is 1
stop_plugd
a=$(sim_chip pi4 pinctrl-bcm2711); b=$(sim_chip pi3 pinctrl-bcm2835)
out=$("$PLUGD" --config "$(config auto)" --state-dir "$(mktemp -d)" 2>&1); rc=$?
check "two header chips: exit 69 ($out)" [ $rc = 69 ]
check "two header chips: both named" grep -q "several.*$a \[pinctrl-bcm2711\].*$b \[pinctrl-bcm2835\]" <<<"$out"
unsim pi3
d=$(mktemp -d); chmod 777 "$d"; cfg=$(config auto); chmod 644 "$cfg"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$PLUGD" --config "$cfg" --state-dir "$d" 2>&1); rc=$?
check "auto without access to the chips: exit 69 ($out)" [ $rc = 69 ]
check "auto without access to the chips: says permission denied" grep -q "permission denied opening GPIO chips" <<<"$out"
unsim pi4; unsim hat

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
