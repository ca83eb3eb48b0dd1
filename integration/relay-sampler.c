/* relay-sampler VALUE_FILE CHIP OFFSET: reads a gpio-sim line's value file (sim_gpioN/value)
 * every 200 us until SIGTERM or SIGINT, then prints one line: how many samples, how many
 * transitions of the line, the longest gap between two samples and how many gaps were over 1 ms,
 * and the first and last level. It runs at real-time priority, memory locked, so that plugd
 * starting beside it does not push it aside.
 *
 * It also watches the line's info on the chip (GPIO_V2_GET_LINEINFO_WATCH_IOCTL): the kernel
 * queues an event each time the line is requested or released, so a release is seen however
 * short, whatever the sampling gaps. The relay-held suite runs it around each restart, crash,
 * watchdog kill and upgrade of plugd. */
#include <fcntl.h>
#include <linux/gpio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/mman.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static long long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: relay-sampler VALUE_FILE CHIP OFFSET\n"); return 2; }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { perror(argv[1]); return 1; }
    int chip = open(argv[2], O_RDONLY | O_NONBLOCK);
    if (chip < 0) { perror(argv[2]); return 1; }
    struct gpio_v2_line_info watch;
    memset(&watch, 0, sizeof watch);
    watch.offset = (unsigned)atoi(argv[3]);
    if (ioctl(chip, GPIO_V2_GET_LINEINFO_WATCH_IOCTL, &watch) != 0) { perror("GPIO_V2_GET_LINEINFO_WATCH_IOCTL"); return 1; }
    long released = 0, requested = 0;
    struct sched_param rt = {.sched_priority = 50};
    if (sched_setscheduler(0, SCHED_FIFO, &rt) != 0) perror("sched_setscheduler (sampling at normal priority)");
    mlockall(MCL_CURRENT | MCL_FUTURE);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    char first = 0, last = 0, buf[4];
    long samples = 0, transitions = 0, slow = 0;
    long long start = now_us(), prev = start, max_gap = 0;
    struct timespec pause = {0, 200000};
    while (!stop) {
        if (pread(fd, buf, sizeof buf, 0) < 1) { perror("read"); return 1; }
        struct gpio_v2_line_info_changed change;
        while (read(chip, &change, sizeof change) == (ssize_t)sizeof change) {
            if (change.event_type == GPIO_V2_LINE_CHANGED_RELEASED) released++;
            if (change.event_type == GPIO_V2_LINE_CHANGED_REQUESTED) requested++;
        }
        long long t = now_us();
        if (samples > 0 && t - prev > max_gap) max_gap = t - prev;
        if (samples > 0 && t - prev > 1000) slow++;
        prev = t;
        if (samples == 0) first = buf[0];
        else if (buf[0] != last) transitions++;
        last = buf[0];
        samples++;
        nanosleep(&pause, NULL);
    }
    struct gpio_v2_line_info_changed change;
    while (read(chip, &change, sizeof change) == (ssize_t)sizeof change) {
        if (change.event_type == GPIO_V2_LINE_CHANGED_RELEASED) released++;
        if (change.event_type == GPIO_V2_LINE_CHANGED_REQUESTED) requested++;
    }
    printf("samples=%ld transitions=%ld max_gap_us=%lld gaps_over_1ms=%ld released=%ld requested=%ld first=%c last=%c duration_ms=%lld\n",
           samples, transitions, max_gap, slow, released, requested, first, last, (now_us() - start) / 1000);
    return 0;
}
