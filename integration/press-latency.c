// SPDX-License-Identifier: MIT
/*
 * press-latency - press a gpio-sim button and time how long the relay line takes to follow.
 *
 *   press-latency PULL_FILE RELAY_VALUE_FILE COUNT
 *
 * PULL_FILE is the button's gpio-sim attribute (.../sim_gpioN/pull; "pull-down" = pressed, the
 * button being active-low) and RELAY_VALUE_FILE the relay's (.../sim_gpioM/value). For each of
 * COUNT presses: write "pull-down", then read the relay's value in a tight loop until it
 * changes, and print the time from the write to the change in microseconds, one per line. The
 * button is then released and left alone for 250 ms, well past any debounce, before the next
 * press. The daemon under test toggles the relay on each debounced press, so the printed time
 * includes its debounce window; the caller subtracts it.
 *
 * Exit status: 0, or 1 with a message if a file cannot be used or the relay does not follow a
 * press within 5 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int put(int fd, const char *s)
{
	return pwrite(fd, s, strlen(s), 0) == (ssize_t)strlen(s) ? 0 : -1;
}

static int value(int fd)
{
	char c;

	return pread(fd, &c, 1, 0) == 1 ? c : -1;
}

int main(int argc, char **argv)
{
	int pull, relay, count, i, before;
	long long t0, deadline;

	if (argc != 4 || (count = atoi(argv[3])) <= 0) {
		fprintf(stderr, "usage: %s PULL_FILE RELAY_VALUE_FILE COUNT\n", argv[0]);
		return 1;
	}
	pull = open(argv[1], O_WRONLY);
	relay = open(argv[2], O_RDONLY);
	if (pull < 0 || relay < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", argv[0], pull < 0 ? argv[1] : argv[2], strerror(errno));
		return 1;
	}
	for (i = 0; i < count; i++) {
		before = value(relay);
		t0 = now_ns();
		if (put(pull, "pull-down") < 0) {
			fprintf(stderr, "%s: cannot write %s: %s\n", argv[0], argv[1], strerror(errno));
			return 1;
		}
		deadline = t0 + 5000000000LL;
		while (value(relay) == before) {
			if (now_ns() > deadline) {
				fprintf(stderr, "%s: press %d: the relay did not change within 5 s\n", argv[0], i + 1);
				return 1;
			}
		}
		printf("%lld\n", (now_ns() - t0) / 1000);
		fflush(stdout);
		nap_ms(100);
		put(pull, "pull-up");
		nap_ms(250);
	}
	return 0;
}
