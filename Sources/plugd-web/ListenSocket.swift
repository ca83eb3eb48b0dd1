#if canImport(Glibc)
import Glibc
#endif
import CSystemd
import PlugPOSIX

/// Where plugd-web takes its connections from: the socket systemd passes it (plugd-web.socket,
/// socket activation), or one it listens on itself (`--listen`, for a run by hand or a test).
enum ListenSocket {
    /// The descriptor systemd passed, if it passed one.
    static func fromSystemd() -> Int32? {
        sd_listen_fds(1) >= 1 ? SD_LISTEN_FDS_START : nil
    }

    /// A TCP socket listening on `address` (`127.0.0.1:8080`, `[::]:80`, `0.0.0.0:80`).
    static func listen(on address: String) throws(ListenError) -> Int32 {
        var host = address
        var port = ""
        if let colon = address.lastIndex(of: ":") {
            host = String(address[..<colon])
            port = String(address[address.index(after: colon)...])
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let p = UInt16(port), p > 0, !host.isEmpty else {
            throw ListenError("--listen takes ADDRESS:PORT, e.g. 127.0.0.1:8080 or [::]:80, not \(address)")
        }
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, port, &hints, &info) == 0, let a = info else {
            throw ListenError("--listen: \(host) is not an IPv4 or IPv6 address")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(a.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenError("cannot make a socket: \(Errno.current)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0, Glibc.listen(fd, 64) == 0 else {
            let e = Errno.current
            close(fd)
            throw ListenError("cannot listen on \(address): \(e)")
        }
        return fd
    }
}

/// The listening socket could not be made.
struct ListenError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
