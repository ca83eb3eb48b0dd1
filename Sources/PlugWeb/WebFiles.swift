#if canImport(Glibc)
import Glibc
#endif
import PlugPOSIX

/// The two files plugd-web reads: the password's hash (`/etc/plugd/web-password`, written by
/// `plugctl web-password`, root:plugd 0640) and its session secret (in its state directory,
/// 0600, made on first start).
public enum WebFiles {
    public static let defaultPasswordFile = "/etc/plugd/web-password"

    /// The hash in the password file; `nil` when there is none (changes are then refused).
    public static func passwordHash(_ path: String) throws(SmallFile.Problem) -> String? {
        let bytes: [UInt8]
        do { bytes = try SmallFile.read(path, limit: 1024) } catch .missing { return nil }
        let text = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return text.isEmpty ? nil : text
    }

    /// Writes `bytes` to `path` whole or not at all (a temporary file, fsync'ed, renamed over it,
    /// the directory fsync'ed), with `mode`, and group `group` when that group exists: the state
    /// store's steps, through the same PlugPOSIX calls.
    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t, group: String?) throws(Errno) {
        let temporary = path + ".new"
        do {
            let fd = try FileDescriptor.open(temporary, .writeOnly, create: true, truncate: true, noFollow: true, mode: mode)
            try fd.closeAfter {
                try fd.writeAll(bytes)
                if fchmod(fd.rawValue, mode) != 0 { throw Errno.current }
                if let group, let g = getgrnam(group), fchown(fd.rawValue, getuid() == 0 ? 0 : uid_t.max, g.pointee.gr_gid) != 0 {
                    throw Errno.current
                }
                try fd.sync()
            }
            try FileSystem.rename(temporary, to: path)
        } catch {
            try? FileSystem.remove(temporary)
            throw error as? Errno ?? Errno(rawValue: EIO)
        }
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if let dfd = try? FileDescriptor.open(directory.isEmpty ? "." : directory, .readOnly, directory: true) {
            _ = try? dfd.closeAfter { try dfd.sync() }
        }
    }

    /// The session secret in `directory` (32 random bytes), made there if it has none. `nil`
    /// when it can be neither read nor made: plugd-web then uses a secret of its own for as long
    /// as it runs (sessions end when it exits).
    public static func sessionSecret(in directory: String) -> [UInt8]? {
        let path = directory + "/session-secret"
        try? FileSystem.makeDirectory(directory, mode: 0o700) // StateDirectory= makes it; a run by hand may not
        if let bytes = try? SmallFile.read(path, limit: 64), bytes.count == 32 { return bytes }
        let secret = SessionSigner.randomBytes(32)
        do { try replace(path, with: secret, mode: 0o600, group: nil) } catch { return nil }
        return (try? SmallFile.read(path, limit: 64)).flatMap { $0.count == 32 ? $0 : nil }
    }

    /// The sessions logged out before they expired (`logged-out` in the state directory: one
    /// `nonce expiry` line each); empty when there is no such file.
    public static func loggedOut(in directory: String) -> [String: Int64] {
        guard let bytes = try? SmallFile.read(directory + "/logged-out", limit: 256 * 1024) else { return [:] }
        var out: [String: Int64] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0].utf8.count == 32, let expiry = Int64(parts[1]) { out[String(parts[0])] = expiry }
        }
        return out
    }

    /// Writes the logged-out sessions (whole or not at all).
    public static func keepLoggedOut(_ sessions: [String: Int64], in directory: String) throws(Errno) {
        let text = sessions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined()
        try replace(directory + "/logged-out", with: Array(text.utf8), mode: 0o600, group: nil)
    }
}
