#if canImport(Glibc)
import Glibc
#endif

/// Unix-domain socket addressing, shared by the daemon's server, plugctl, the service manager's
/// notification socket and the tests.
public enum UnixSocket {
    /// Calls `body` with `path` as a `sockaddr` for `bind`/`connect`; `nil` if the path is too
    /// long for a socket address (ENAMETOOLONG is set in `errno`). A path that starts with `@` is
    /// in the abstract namespace (as `$NOTIFY_SOCKET` may be): `@` stands for the leading NUL
    /// byte, and the address is exactly as long as the name.
    public static func withAddress<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            errno = ENAMETOOLONG
            return nil
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        let length = abstract ? pathOffset + bytes.count : MemoryLayout<sockaddr_un>.size
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(length)) }
        }
    }

    /// Connects a new stream socket to `path`; the descriptor, or -1 with `errno` set.
    public static func connect(to path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        let result = withAddress(path) { Glibc.connect(fd, $0, $1) } ?? -1
        guard result == 0 else {
            let e = errno
            close(fd)
            errno = e
            return -1
        }
        return fd
    }
}
