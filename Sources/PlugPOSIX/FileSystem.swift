#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Path-level calls: `mkdir`, `rename`, `unlink`, and a directory's names.
public enum FileSystem {
    /// `mkdir(2)`; an existing directory (or file) at `path` is not an error.
    public static func makeDirectory(_ path: String, mode: mode_t) throws {
        if mkdir(path, mode) != 0 && errno != EEXIST { throw Errno.current }
    }

    /// `rename(2)`: atomically replaces `to` with `from`.
    public static func rename(_ from: String, to: String) throws {
        if Glibc.rename(from, to) != 0 { throw Errno.current }
    }

    /// `unlink(2)`; a missing file is not an error.
    public static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw Errno.current }
    }

    /// What a directory entry is, for the checks that must not treat one kind as another.
    public enum FileType: Sendable, Equatable {
        case regular, directory, socket, fifo, characterDevice, blockDevice, symbolicLink

        /// "a directory", "a FIFO", ...: for error messages.
        public var described: String {
            switch self {
            case .regular: "a regular file"
            case .directory: "a directory"
            case .socket: "a socket"
            case .fifo: "a FIFO (named pipe)"
            case .characterDevice: "a character device"
            case .blockDevice: "a block device"
            case .symbolicLink: "a symbolic link"
            }
        }

        /// The type in a `stat` result's `st_mode`.
        public init(mode: mode_t) {
            switch mode & S_IFMT {
            case S_IFREG: self = .regular
            case S_IFDIR: self = .directory
            case S_IFSOCK: self = .socket
            case S_IFIFO: self = .fifo
            case S_IFCHR: self = .characterDevice
            case S_IFBLK: self = .blockDevice
            default: self = .symbolicLink
            }
        }
    }

    /// The type of what is at `path` (`stat(2)`; `lstat(2)` with `followLinks: false`), `nil` if
    /// nothing is there.
    public static func type(of path: String, followLinks: Bool = true) -> FileType? {
        var st = stat()
        guard (followLinks ? stat(path, &st) : lstat(path, &st)) == 0 else { return nil }
        return FileType(mode: st.st_mode)
    }

    /// The names in a directory, sorted, without `.` and `..`.
    public static func names(in directory: String) throws -> [String] {
        guard let dir = opendir(directory) else { throw Errno.current }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
