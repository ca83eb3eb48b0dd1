/* skip-fsync.so: an LD_PRELOAD library that makes plugd's state store unsafe in one chosen way,
 * so that the power-cut campaign (integration/power-cut.py --skip-fsync) can show it catches a
 * store that is not crash-safe. No plugd is rebuilt; plugd's own code is untouched.
 *
 *   PLUGD_SKIP_FSYNC=file       fsync() of the store's temp file (.state.json.tmp), the one made
 *                               before it is renamed over state.json, does nothing
 *   PLUGD_SKIP_FSYNC=directory  the fsync() of a directory that follows a rename of the temp
 *                               file over state.json does nothing (the save's directory fsync)
 *
 * The first time it skips one it says so on stderr (in plugd's log), so that a run that finds
 * nothing can be told apart from a run where the library was not loaded. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char temp_suffix[] = "/.state.json.tmp";
static int renamed_temp;   /* a rename of the temp file is waiting for its directory fsync */
static int said;

static int ends_with_temp(const char *path) {
    size_t n = strlen(path), m = sizeof temp_suffix - 1;
    return n >= m && strcmp(path + n - m, temp_suffix) == 0;
}

static int skip(const char *what) {
    if (!__atomic_exchange_n(&said, 1, __ATOMIC_SEQ_CST))
        fprintf(stderr, "skip-fsync: skipping the fsync of %s (PLUGD_SKIP_FSYNC)\n", what);
    return 0;
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    const char *mode = getenv("PLUGD_SKIP_FSYNC");
    if (mode) {
        char link[64], path[4096];
        struct stat st;
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, path, sizeof path - 1);
        path[n > 0 ? n : 0] = 0;
        if (strcmp(mode, "file") == 0 && ends_with_temp(path)) return skip("the temp file");
        if (strcmp(mode, "directory") == 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) &&
            __atomic_exchange_n(&renamed_temp, 0, __ATOMIC_SEQ_CST))
            return skip("the directory after the rename");
    }
    return real(fd);
}

int rename(const char *from, const char *to) {
    static int (*real)(const char *, const char *);
    if (!real) real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    int r = real(from, to);
    if (r == 0 && ends_with_temp(from)) __atomic_store_n(&renamed_temp, 1, __ATOMIC_SEQ_CST);
    return r;
}
