#if canImport(Glibc)
import Glibc
#endif
import CSystemd
import PlugPOSIX
import Synchronization

/// The service manager's notification socket (`Type=notify`): READY=1, STATUS=, WATCHDOG=1,
/// STOPPING=1. Every call is a no-op when not started by systemd (`$NOTIFY_SOCKET` unset).
///
/// The socket is opened once and each message is one `send`. libsystemd's `sd_notify` opens,
/// configures and closes a socket for every message (nine system calls, where a status line
/// changes with every press); the protocol is a datagram of `KEY=VALUE` lines to a Unix socket,
/// which systemd documents as stable for daemons to speak themselves (sd_notify(3)). Addresses
/// other than a path or an abstract name (`vsock:` in a VM) are left to `sd_notify`.
public final class SystemdNotifier: Sendable {
    /// A path or an abstract name (`@…`); nil when there is no socket or libsystemd sends.
    private let address: String?
    private let useLibsystemd: Bool
    private let socket: Mutex<(fd: Int32, connects: Int)>

    /// - Parameter notifySocket: the socket's address, `$NOTIFY_SOCKET` by default.
    public init(notifySocket: String? = getenv("NOTIFY_SOCKET").map { String(cString: $0) }) {
        address = notifySocket.flatMap { $0.hasPrefix("/") || $0.hasPrefix("@") ? $0 : nil }
        useLibsystemd = notifySocket != nil && address == nil
        socket = Mutex((-1, 0))
    }

    deinit { socket.withLock { if $0.fd >= 0 { close($0.fd) } } }

    /// How many times the socket has been connected (for tests: once while the receiver stays).
    var connects: Int { socket.withLock { $0.connects } }

    /// Tells systemd start-up is finished, with a status line.
    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }

    /// Updates the status line shown by `systemctl status`.
    public func status(_ status: String) { send("STATUS=\(status)") }

    /// Tells systemd the daemon is stopping.
    public func stopping() { send("STOPPING=1\nSTATUS=stopping") }

    /// Pings the watchdog.
    public func watchdog() { send("WATCHDOG=1") }

    /// How often to ping the watchdog (half of `WatchdogSec=`), or `nil` if it is not enabled.
    public var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec / 2))
    }

    /// Sends `state`; if the socket is not connected, or the send fails (the receiver's socket
    /// was made anew), connects once more and sends again. A message that cannot be sent is
    /// dropped, as `sd_notify` drops it: the daemon goes on.
    private func send(_ state: String) {
        if useLibsystemd {
            _ = sd_notify(0, state)
            return
        }
        guard let address else { return }
        var message = state
        socket.withLock { s in
            for attempt in 0..<2 {
                if s.fd < 0 {
                    s.fd = Self.connect(address)
                    s.connects += 1
                }
                let fd = s.fd
                guard fd >= 0 else { return }
                let sent = message.withUTF8 { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent >= 0 || attempt == 1 { return }
                close(fd)
                s.fd = -1
            }
        }
    }

    /// A datagram socket connected to `address`, or -1.
    private static func connect(_ address: String) -> Int32 {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return -1 }
        guard UnixSocket.withAddress(address, { Glibc.connect(fd, $0, $1) }) == 0 else {
            close(fd)
            return -1
        }
        return fd
    }
}
