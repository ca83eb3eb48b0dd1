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
