// Linux interfaces that Swift's Glibc module does not export.
#include <linux/gpio.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <sys/timex.h>
#include <time.h>

// ppoll(2): <poll.h> declares it only under _GNU_SOURCE, which Swift's Glibc module is built
// without. The C library has it on every Linux plugd runs on.
int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask);

// pthread_setname_np(3) and sem_clockwait(3) (glibc 2.30 and later): also _GNU_SOURCE only.
int pthread_setname_np(pthread_t thread, const char *name);
int sem_clockwait(sem_t *sem, clockid_t clock, const struct timespec *abstime);

// The GPIO character device's v2 ioctls (Linux 5.10 and later). ioctl(2) is variadic, which
// Swift cannot call, and its request numbers are function-like macros, which Swift cannot import.
static inline int plug_gpio_v2_get_line(int chip_fd, struct gpio_v2_line_request *request) {
    return ioctl(chip_fd, GPIO_V2_GET_LINE_IOCTL, request);
}
static inline int plug_gpio_v2_get_lineinfo(int chip_fd, struct gpio_v2_line_info *info) {
    return ioctl(chip_fd, GPIO_V2_GET_LINEINFO_IOCTL, info);
}
static inline int plug_gpio_v2_get_values(int request_fd, struct gpio_v2_line_values *values) {
    return ioctl(request_fd, GPIO_V2_LINE_GET_VALUES_IOCTL, values);
}
static inline int plug_gpio_v2_set_values(int request_fd, struct gpio_v2_line_values *values) {
    return ioctl(request_fd, GPIO_V2_LINE_SET_VALUES_IOCTL, values);
}
