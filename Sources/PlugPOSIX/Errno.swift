#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A POSIX error number, as a Swift error whose description is the system's text
/// (`strerror`): "No such file or directory", not "2".
///
/// plugd's own thin layer in the style of apple/swift-system, which it used before: swift-system
/// 1.8 does not build with Swift 6.0.3, the Swift that Debian 13 (and so Raspberry Pi OS)
/// ships, and the state store needs only a handful of calls.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's `errno`, right after a call that failed.
    public static var current: Errno { Errno(rawValue: errno) }

    public static let noSuchFileOrDirectory = Errno(rawValue: ENOENT)
    public static let fileExists = Errno(rawValue: EEXIST)
    public static let interrupted = Errno(rawValue: EINTR)
    public static let permissionDenied = Errno(rawValue: EACCES)
    public static let readOnlyFileSystem = Errno(rawValue: EROFS)

    public var description: String { String(cString: strerror(rawValue)) }
}

/// Retries `call` while it fails with EINTR; returns its result or throws its errno.
@inline(__always)
func retryingEINTR<T: BinaryInteger>(_ call: () -> T) throws -> T {
    while true {
        let result = call()
        if result >= 0 { return result }
        if errno != EINTR { throw Errno.current }
    }
}
