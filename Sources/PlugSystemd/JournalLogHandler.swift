#if canImport(Glibc)
import Glibc
#endif
import CSystemd
import Foundation
import Logging

/// The syslog priority (journald `PRIORITY=`) for a swift-log level.
func syslogPriority(_ level: Logger.Level) -> Int {
    switch level {
    case .trace, .debug: 7
    case .info: 6
    case .notice: 5
    case .warning: 4
    case .error: 3
    case .critical: 2
    }
}

/// Metadata keys become journal field names: upper case, `[A-Z0-9_]` only, not starting with `_`.
func journalFieldName(_ key: String) -> String {
    var name = String(key.uppercased().unicodeScalars.map { ("A"..."Z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "_" })
    while name.hasPrefix("_") { name.removeFirst() }
    return name.isEmpty ? "FIELD" : name
}

/// A swift-log handler that writes native journal entries (`sd_journal_sendv`): MESSAGE,
/// PRIORITY, SYSLOG_IDENTIFIER and every metadata entry as its own field (PLUG_EVENT,
/// PLUG_RELAY, PLUG_HOLD_MS, MESSAGE_ID …), so `journalctl PLUG_EVENT=relay` filters by event.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let identifier: String

    public init(identifier: String) { self.identifier = identifier }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = ["MESSAGE=\(event.message)", "PRIORITY=\(syslogPriority(event.level))", "SYSLOG_IDENTIFIER=\(identifier)"]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields.append("\(journalFieldName(key))=\(value)")
        }
        Self.send(fields)
    }

    /// Sends one entry made of `FIELD=value` strings (values may contain newlines).
    static func send(_ fields: [String]) {
        let buffers = fields.map { Array($0.utf8) }
        var pointers: [UnsafeMutableRawPointer] = []
        defer { pointers.forEach { $0.deallocate() } }
        var iov: [iovec] = buffers.map { bytes in
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            pointers.append(p)
            return iovec(iov_base: p, iov_len: bytes.count)
        }
        _ = sd_journal_sendv(&iov, Int32(iov.count))
    }

    /// Whether stderr is connected to the journal (systemd sets `$JOURNAL_STREAM` to its
    /// device:inode), so native fields should be used instead of text on stderr.
    public static var stderrIsJournal: Bool {
        guard let stream = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] else { return false }
        var st = stat()
        guard fstat(STDERR_FILENO, &st) == 0 else { return false }
        return stream == "\(st.st_dev):\(st.st_ino)"
    }
}

/// A swift-log handler for stderr when not under journald: each entry is one line with the
/// `<N>` priority prefix systemd and syslog understand, then the message, then `KEY=value`
/// fields, e.g. `<6>Relay on (button) PLUG_EVENT=relay PLUG_RELAY=on PLUG_SOURCE=button`.
public struct SyslogStderrLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info

    public init() {}

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 })
        let fields = all.sorted { $0.key < $1.key }.map { " \(journalFieldName($0.key))=\($0.value)" }.joined()
        let text = Self.format(priority: syslogPriority(event.level), message: "\(event.message)", fields: fields)
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// One `<N>`-prefixed line; newlines in the message are folded so an entry stays one line.
    static func format(priority: Int, message: String, fields: String) -> String {
        // (A scan of the scalars: Foundation's replacingOccurrences cost more than the rest of an
        // event's handling put together.)
        let line = "<\(priority)>\(message)\(fields)"
        guard line.unicodeScalars.contains("\n") else { return line + "\n" }
        return String(String.UnicodeScalarView(line.unicodeScalars.map { $0 == "\n" ? " " : $0 })) + "\n"
    }
}
