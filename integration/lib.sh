# The shared helpers of the bash suites in this folder (source it: `. integration/lib.sh` from the
# repository): PASS/FAIL counting, waiting, the gpio-sim lines (GPIOSIM_* come from vm/run-in-vm)
# and the service. A suite prints "N passed, N failed" last with `finish`.
passed=0 failed=0
ok()  { echo "PASS $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; }

# Waiting forks nothing (under emulation a fork can take longer than an LED phase): the clock is
# bash's $EPOCHREALTIME and the sleep a read with a timeout on a FIFO nobody writes to.
NAP=$(mktemp -u); mkfifo "$NAP"; exec 9<>"$NAP"; rm "$NAP"
nap() { read -r -t "$1" -u 9; }
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $(( t / 1000 )); }
# until_true SECONDS CMD...: CMD succeeds within SECONDS, tried every $until_step seconds (a suite
# that watches LED phases sets it shorter; checks that fork keep the VM calmer at 50 ms).
until_step=0.05
until_true() {
  local limit=$1; shift; local t0; t0=$(now_ms)
  while ! "$@"; do
    (( $(now_ms) - t0 > limit * 1000 )) && return 1
    nap "$until_step"
  done
  return 0   # (a while loop returns its body's last status: the nap's timeout)
}

# The gpio-sim lines by name: the offset of a line, and its files, read with bash builtins (no
# process per read). The three LED lines are three files, read one after another: a colour change
# between two reads would mix the old colour with the new one (off -> orange read as green).
# plugd sets the three lines in one ioctl, so a reading is taken only when two reads in a row agree.
offset() { local i=0 n; for n in ${GPIOSIM_LINES//,/ }; do [ "$n" = "$1" ] && { echo $i; return; }; i=$((i+1)); done; }
if [ -n "${GPIOSIM_SYSFS:-}" ]; then
  V_RELAY=$GPIOSIM_SYSFS/sim_gpio$(offset relay)/value
  V_R=$GPIOSIM_SYSFS/sim_gpio$(offset led_r)/value
  V_G=$GPIOSIM_SYSFS/sim_gpio$(offset led_g)/value
  V_B=$GPIOSIM_SYSFS/sim_gpio$(offset led_b)/value
  PULL=$GPIOSIM_SYSFS/sim_gpio$(offset button)/pull
fi
relay() { local v; read -r v < "$V_RELAY"; echo "$v"; }
relay_is() { [ "$(relay)" = "$1" ]; }
led_into() { local r g b prev=x
  while :; do
    read -r r < "$V_R"; read -r g < "$V_G"; read -r b < "$V_B"
    [ "$r$g$b" = "$prev" ] && break
    prev=$r$g$b
  done
  printf -v "$1" '%s' "$prev"; }
led() { local v; led_into v; echo "$v"; }
led_is() { [ "$(led)" = "$1" ]; }
# The button is active-low: gpio-sim's pull-down is a finger on it.
press()   { echo pull-down > "$PULL"; }
release() { echo pull-up > "$PULL"; }

# A config for the VM's gpio-sim chip (its line names), written to $1; $2 = the chip setting
# (default the chip's name; "auto" when the chip is labelled like a Pi's header).
write_vm_config() { cat > "$1" <<TOML
[gpio]
chip = "${2:-$GPIOSIM_CHIP}"
[relay]
line = "relay"
[button]
line = "button"
[led]
red = "led_r"
green = "led_g"
blue = "led_b"
[state]
write_delay_ms = 200
TOML
}

# The service (VM_INIT=systemd suites).
journal_has() { journalctl -u plugd --no-pager -o export "$@" 2>/dev/null | grep -q .; }
main_pid() { systemctl show -p MainPID --value plugd; }
mqtt_connected() { grep -q "^mqtt *connected" <<<"$(plugctl status)"; }
