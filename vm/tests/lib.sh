# The VM suites' shared helpers (source it): PASS/FAIL counting, waiting, and the gpio-sim lines
# (GPIOSIM_* come from vm/run-in-vm). A suite prints "N passed, N failed" last with `finish`.
passed=0 failed=0
ok()  { echo "PASS $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
# until_true SECONDS CMD...: CMD succeeds within SECONDS.
until_true() { local limit=$1; shift; local t0; t0=$(date +%s%N)
  while ! "$@"; do (( ($(date +%s%N) - t0) / 1000000 > limit * 1000 )) && return 1; sleep 0.05; done; }
# The gpio-sim offset of a line name.
offset() { local i=0 n; for n in ${GPIOSIM_LINES//,/ }; do [ "$n" = "$1" ] && { echo $i; return; }; i=$((i+1)); done; }
relay_is() { [ "$(cat "$GPIOSIM_SYSFS/sim_gpio$(offset relay)/value")" = "$1" ]; }
press()   { echo pull-down > "$GPIOSIM_SYSFS/sim_gpio$(offset button)/pull"; }
release() { echo pull-up > "$GPIOSIM_SYSFS/sim_gpio$(offset button)/pull"; }
journal_has() { journalctl -u plugd --no-pager -o export "$@" 2>/dev/null | grep -q .; }
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
finish() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; }
