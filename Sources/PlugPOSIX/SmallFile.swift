#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a small regular file (a config, a password, a CA certificate) whole, refusing what
/// cannot be one: a directory, a FIFO (whose `open` would block), a device such as `/dev/zero`
/// (which never ends), or a file larger than the caller allows. The type is taken from the open
/// descriptor (`fstat`), so what is checked is what is read.
public enum SmallFile {
    /// Why a file could not be read, worded for an error message after its path.
    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case missing
        case notRegular(FileSystem.FileType)
        case tooLarge(size: Int, limit: Int)
        case unreadable(Errno)

        public var description: String {
            switch self {
            case .missing: "does not exist"
            case .notRegular(let type): "is \(type.described), not a regular file"
            case .tooLarge(let size, let limit): "is \(size) bytes; more than the \(limit) bytes such a file can need"
            case .unreadable(let e) where e == .permissionDenied: "cannot be read (permission denied)"
            case .unreadable(let e): "cannot be read (\(e))"
            }
        }
    }

    /// The bytes of the regular file at `path`, at most `limit` of them.
    public static func read(_ path: String, limit: Int) throws(Problem) -> [UInt8] {
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw errno == ENOENT ? .missing : .unreadable(.current) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .unreadable(.current) }
        let type = FileSystem.FileType(mode: st.st_mode)
        guard type == .regular else { throw .notRegular(type) }
        guard Int(st.st_size) <= limit else { throw .tooLarge(size: Int(st.st_size), limit: limit) }
        do {
            let bytes = try FileDescriptor(rawValue: fd).readAll()
            guard bytes.count <= limit else { throw Problem.tooLarge(size: bytes.count, limit: limit) }
            return bytes
        } catch let problem as Problem {
            throw problem
        } catch {
            throw .unreadable(error as? Errno ?? .current)
        }
    }
}
