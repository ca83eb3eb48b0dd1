// Linux interfaces that Swift's Glibc module does not export.
#include <poll.h>
#include <signal.h>
#include <time.h>

// ppoll(2): <poll.h> declares it only under _GNU_SOURCE, which Swift's Glibc module is built
// without. The C library has it on every Linux plugd runs on.
int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask);
