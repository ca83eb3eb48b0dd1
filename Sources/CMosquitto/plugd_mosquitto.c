// libmosquitto through dlopen (see include/plugd_mosquitto.h). Each function plugd calls is
// listed once below; its forwarder is checked by the compiler against <mosquitto.h>'s
// declaration, so a signature cannot drift from the library's.
#include "plugd_mosquitto.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The functions plugd calls: X(return type, name, parameters, arguments) for those that return
// a value, V(name, parameters, arguments) for those that do not.
#define PLUGD_MOSQUITTO_CALLS(X, V)                                                                     \
    X(int, mosquitto_lib_init, (void), ())                                                              \
    X(struct mosquitto *, mosquitto_new, (const char *id, bool clean, void *obj), (id, clean, obj))     \
    V(mosquitto_destroy, (struct mosquitto * m), (m))                                                   \
    X(int, mosquitto_socket, (struct mosquitto * m), (m))                                               \
    X(bool, mosquitto_want_write, (struct mosquitto * m), (m))                                          \
    X(int, mosquitto_loop_read, (struct mosquitto * m, int max), (m, max))                              \
    X(int, mosquitto_loop_write, (struct mosquitto * m, int max), (m, max))                             \
    X(int, mosquitto_loop_misc, (struct mosquitto * m), (m))                                            \
    V(mosquitto_connect_v5_callback_set,                                                                \
      (struct mosquitto * m, void (*f)(struct mosquitto *, void *, int, int, const mosquitto_property *)), \
      (m, f))                                                                                           \
    V(mosquitto_disconnect_v5_callback_set,                                                             \
      (struct mosquitto * m, void (*f)(struct mosquitto *, void *, int, const mosquitto_property *)), (m, f)) \
    V(mosquitto_message_callback_set,                                                                   \
      (struct mosquitto * m, void (*f)(struct mosquitto *, void *, const struct mosquitto_message *)), (m, f)) \
    V(mosquitto_publish_v5_callback_set,                                                                \
      (struct mosquitto * m, void (*f)(struct mosquitto *, void *, int, int, const mosquitto_property *)), \
      (m, f))                                                                                           \
    V(mosquitto_subscribe_callback_set,                                                                 \
      (struct mosquitto * m, void (*f)(struct mosquitto *, void *, int, int, const int *)), (m, f))       \
    X(int, mosquitto_int_option, (struct mosquitto * m, enum mosq_opt_t option, int value), (m, option, value)) \
    X(int, mosquitto_will_set,                                                                          \
      (struct mosquitto * m, const char *topic, int length, const void *payload, int qos, bool retain),   \
      (m, topic, length, payload, qos, retain))                                                         \
    X(int, mosquitto_username_pw_set, (struct mosquitto * m, const char *user, const char *password),    \
      (m, user, password))                                                                              \
    X(int, mosquitto_tls_set,                                                                           \
      (struct mosquitto * m, const char *cafile, const char *capath, const char *certfile,              \
       const char *keyfile, int (*pw)(char *, int, int, void *)),                                        \
      (m, cafile, capath, certfile, keyfile, pw))                                                       \
    X(int, mosquitto_property_add_int32, (mosquitto_property * *list, int id, uint32_t value), (list, id, value)) \
    V(mosquitto_property_free_all, (mosquitto_property * *list), (list))                                \
    X(int, mosquitto_connect_bind_v5,                                                                   \
      (struct mosquitto * m, const char *host, int port, int keepalive, const char *bind,               \
       const mosquitto_property *properties),                                                           \
      (m, host, port, keepalive, bind, properties))                                                     \
    X(int, mosquitto_subscribe, (struct mosquitto * m, int *mid, const char *topic, int qos), (m, mid, topic, qos)) \
    X(int, mosquitto_publish,                                                                           \
      (struct mosquitto * m, int *mid, const char *topic, int length, const void *payload, int qos,      \
       bool retain),                                                                                    \
      (m, mid, topic, length, payload, qos, retain))                                                    \
    X(int, mosquitto_disconnect, (struct mosquitto * m), (m))                                           \
    X(const char *, mosquitto_strerror, (int code), (code))                                             \
    X(const char *, mosquitto_connack_string, (int code), (code))                                       \
    X(const char *, mosquitto_reason_string, (int code), (code))

// One pointer per function, set by the load.
#define POINTER(ret, name, params, args) static __typeof__(name) *p_##name;
#define POINTER_V(name, params, args) POINTER(void, name, params, args)
PLUGD_MOSQUITTO_CALLS(POINTER, POINTER_V)

// Called before a successful load: a bug in plugd, stopped loudly rather than by a null call.
static void not_loaded(const char *name) {
    fprintf(stderr, "plugd: %s called before libmosquitto was loaded\n", name);
    abort();
}

#define FORWARD(ret, name, params, args)            \
    ret name params {                               \
        if (!p_##name) not_loaded(#name);           \
        return p_##name args;                       \
    }
#define FORWARD_V(name, params, args)               \
    void name params {                              \
        if (!p_##name) not_loaded(#name);           \
        p_##name args;                              \
    }
PLUGD_MOSQUITTO_CALLS(FORWARD, FORWARD_V)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool loaded;

// Opens the library and fills every pointer, or fills none and says why in `error`.
static bool load(const char *soname, char *error, size_t size) {
    void *library = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(error, size, "%s", dlerror());
        return false;
    }
    struct { const char *name; void **pointer; } table[] = {
#define ENTRY(ret, name, params, args) {#name, (void **)&p_##name},
#define ENTRY_V(name, params, args) ENTRY(void, name, params, args)
        PLUGD_MOSQUITTO_CALLS(ENTRY, ENTRY_V)
    };
    size_t count = sizeof table / sizeof table[0];
    for (size_t i = 0; i < count; i++) {
        void *found = dlsym(library, table[i].name);
        if (!found) {
            snprintf(error, size, "%s has no %s (plugd needs libmosquitto 2.0 or later)", soname, table[i].name);
            for (size_t j = 0; j < count; j++) *table[j].pointer = NULL;
            dlclose(library);
            return false;
        }
        *table[i].pointer = found;
    }
    return true;
}

bool plugd_mosquitto_load(const char *soname, char *error, size_t size) {
    pthread_mutex_lock(&lock);
    if (!loaded) loaded = load(soname, error, size);
    bool ok = loaded;
    pthread_mutex_unlock(&lock);
    return ok;
}
