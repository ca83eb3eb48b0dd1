// GNU libmicrohttpd (Debian libmicrohttpd-dev): the HTTP/1.1 server under plugd-web.
// MHD_start_daemon and MHD_get_connection_info are variadic, which Swift cannot call: these
// wrappers call them with plugd-web's fixed set of options.
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

// One thread per connection (a Server-Sent Events stream blocks its own thread, nobody else's),
// on a listening socket plugd-web made or systemd passed. Connections beyond `limit` are
// refused; one idle for `timeout_s` is closed; each may use `memory` bytes for its headers.
static inline struct MHD_Daemon *plugd_mhd_start(
    int listen_fd, MHD_AccessHandlerCallback handler, void *cls, MHD_RequestCompletedCallback completed,
    MHD_NotifyConnectionCallback notify, unsigned limit, unsigned per_ip_limit, unsigned timeout_s, size_t memory) {
    return MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC, 0, NULL, NULL,
        handler, cls, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip_limit, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory, MHD_OPTION_NOTIFY_COMPLETED, completed, cls,
        MHD_OPTION_NOTIFY_CONNECTION, notify, cls, MHD_OPTION_END);
}

// The client's address as text ("192.168.1.20", "::1"), or "" if unknown.
static inline void plugd_mhd_client_address(struct MHD_Connection *connection, char *out, size_t size) {
    out[0] = 0;
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr) return;
    const struct sockaddr *a = info->client_addr;
    if (a->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, out, size);
    if (a->sa_family == AF_INET6) {
        // An IPv4 client of a dual-stack socket (systemd's BindIPv6Only=both) as plain IPv4.
        const struct in6_addr *v6 = &((const struct sockaddr_in6 *)a)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(v6)) inet_ntop(AF_INET, &v6->s6_addr[12], out, size);
        else inet_ntop(AF_INET6, v6, out, size);
    }
}

static const uint64_t plugd_mhd_size_unknown = MHD_SIZE_UNKNOWN;

// The connection's socket (an event stream watches it for the client hanging up).
static inline int plugd_mhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? info->connect_fd : -1;
}

// poll(2)'s POLLRDHUP (the peer shut its side down): defined by <poll.h> only under _GNU_SOURCE.
static const short plugd_pollrdhup = 0x2000;
