#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor: the few calls the state store makes on files and directories, each
/// throwing an `Errno`.
public struct FileDescriptor: Sendable {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// How to open.
    public enum Access: Sendable { case readOnly, writeOnly }

    /// `open(2)`: `create` and `truncate` for a file written anew, `directory` for a directory
    /// (to fsync its entries), `noFollow` to refuse a symbolic link at `path`. Close-on-exec
    /// always.
    public static func open(
        _ path: String, _ access: Access, create: Bool = false, truncate: Bool = false,
        directory: Bool = false, noFollow: Bool = false, mode: mode_t = 0o600
    ) throws -> FileDescriptor {
        var flags = O_CLOEXEC | (access == .readOnly ? O_RDONLY : O_WRONLY)
        if create { flags |= O_CREAT }
        if truncate { flags |= O_TRUNC }
        if directory { flags |= O_DIRECTORY }
        if noFollow { flags |= O_NOFOLLOW }
        return FileDescriptor(rawValue: try retryingEINTR { Glibc.open(path, flags, mode) })
    }

    /// `read(2)` into `buffer`; 0 at the end of the file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try retryingEINTR { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// The whole rest of the file.
    public func readAll() throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return out }
            out += buffer[0..<n]
        }
    }

    /// `write(2)` until every byte is written.
    public func writeAll(_ bytes: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            done += try bytes.withUnsafeBytes { b in
                try retryingEINTR { Glibc.write(rawValue, b.baseAddress! + done, b.count - done) }
            }
        }
    }

    /// Standard output and standard error.
    public static let standardOutput = FileDescriptor(rawValue: STDOUT_FILENO)
    public static let standardError = FileDescriptor(rawValue: STDERR_FILENO)

    /// Writes `text` whole, or as much as the reader takes: for messages to a terminal or a log,
    /// where a closed or full output is nothing to act on.
    public func write(_ text: String) {
        try? writeAll(Array(text.utf8))
    }

    /// `fsync(2)`: the file's data (or the directory's entries) on stable storage.
    public func sync() throws {
        _ = try retryingEINTR { fsync(rawValue) }
    }

    /// `close(2)`.
    public func close() throws {
        if Glibc.close(rawValue) != 0 { throw Errno.current }
    }

    /// Runs `body`, then closes the descriptor whatever happened.
    public func closeAfter<R>(_ body: () throws -> R) throws -> R {
        let result: R
        do { result = try body() } catch { try? close(); throw error }
        try close()
        return result
    }
}
