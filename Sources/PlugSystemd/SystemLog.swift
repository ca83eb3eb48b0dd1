#if canImport(Glibc)
import Glibc
#endif
import CSystemd
import PlugCore

/// plugd's journal: each `PlugEvent` becomes one entry. Under journald (stderr connected to the
/// journal, `$JOURNAL_STREAM`) as a native entry (`sd_journal_sendv`): MESSAGE, PRIORITY,
/// SYSLOG_IDENTIFIER, PLUG_EVENT, MESSAGE_ID for catalogued events, and every field of the event,
/// so `journalctl PLUG_EVENT=relay` filters by event. Otherwise as one line on stderr with the
/// `<N>` priority prefix systemd and syslog understand, then the message, then `KEY=value`
/// fields: `<6>Relay on (button) PLUG_EVENT=relay PLUG_RELAY=on PLUG_SOURCE=button`.
///
/// A thin layer of plugd's own: it replaced swift-log, whose current releases do not build with
/// Swift 6.0.3 (Debian 13's), and plugd never needed more than these two destinations.
public final class SystemLog: EventSink, Sendable {
    /// Where the entries go.
    public enum Destination: Sendable { case journal, stderr }

    public let destination: Destination
    private let identifier: String
    private let messageIDs: [String: String]
    /// Entries of a lower priority (a higher number: debug) are not written.
    private let threshold: LogPriority

    /// - Parameters:
    ///   - messageIDs: event name → `MESSAGE_ID` for key events (the catalog's).
    ///   - destination: the journal when stderr is connected to it, else stderr.
    public init(
        identifier: String, messageIDs: [String: String] = [:],
        destination: Destination = SystemLog.stderrIsJournal ? .journal : .stderr, threshold: LogPriority = .info
    ) {
        self.identifier = identifier
        self.messageIDs = messageIDs
        self.destination = destination
        self.threshold = threshold
    }

    /// The most bytes of a message, and of a field's value, written: whatever an event carries
    /// (a payload, a peer's text), one entry stays a few KB.
    public static let messageLimit = 2048
    public static let fieldLimit = 512

    public func record(_ event: PlugEvent) {
        guard event.priority <= threshold else { return }
        let event = Self.bounded(event)
        switch destination {
        case .journal:
            Self.send(
                ["MESSAGE=\(event.message)", "PRIORITY=\(event.priority.rawValue)", "SYSLOG_IDENTIFIER=\(identifier)"]
                    + fields(of: event).map { "\($0.name)=\($0.value)" })
        case .stderr:
            var bytes = Array(line(for: event).utf8)
            _ = write(STDERR_FILENO, &bytes, bytes.count)
        }
    }

    /// `event` with its message and field values cut to `messageLimit` and `fieldLimit` bytes.
    static func bounded(_ event: PlugEvent) -> PlugEvent {
        var event = event
        event.message = PlugSystemd.bounded(event.message, messageLimit)
        for (key, value) in event.fields where value.utf8.count > fieldLimit {
            event.fields[key] = PlugSystemd.bounded(value, fieldLimit)
        }
        return event
    }

    /// The entry's own fields: the event's, PLUG_EVENT, and MESSAGE_ID for catalogued events.
    func fields(of event: PlugEvent) -> [(name: String, value: String)] {
        var fields = event.fields.map { (name: $0.key.rawValue, value: $0.value) }
        fields.append(("PLUG_EVENT", event.name))
        if let id = messageIDs[event.name] { fields.append(("MESSAGE_ID", id)) }
        return fields
    }

    /// The stderr line for `event`: priority prefix, message, fields sorted by name.
    func line(for event: PlugEvent) -> String {
        Self.format(
            priority: event.priority.rawValue, message: event.message,
            fields: fields(of: event).sorted { $0.name < $1.name }.map { " \($0.name)=\($0.value)" }.joined())
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

    /// One `<N>`-prefixed line; newlines in the message are folded so an entry stays one line.
    static func format(priority: Int, message: String, fields: String) -> String {
        // (A scan of the scalars: Foundation's replacingOccurrences cost more than the rest of an
        // event's handling put together.)
        let line = "<\(priority)>\(message)\(fields)"
        guard line.utf8.contains(UInt8(ascii: "\n")) else { return line + "\n" }
        return String(String.UnicodeScalarView(line.unicodeScalars.map { $0 == "\n" ? " " : $0 })) + "\n"
    }

    /// Whether stderr is connected to the journal (systemd sets `$JOURNAL_STREAM` to its
    /// device:inode), so native fields should be used instead of text on stderr.
    public static var stderrIsJournal: Bool {
        guard let value = getenv("JOURNAL_STREAM") else { return false }
        var st = stat()
        guard fstat(STDERR_FILENO, &st) == 0 else { return false }
        return String(cString: value) == "\(st.st_dev):\(st.st_ino)"
    }
}

/// `text` cut to at most `limit` bytes of UTF-8, at a character boundary, with "…" when cut.
func bounded(_ text: String, _ limit: Int) -> String {
    guard text.utf8.count > limit else { return text }
    var out = ""
    var bytes = 0
    for scalar in text.unicodeScalars {
        bytes += scalar.utf8.count
        if bytes > limit - 3 { break }
        out.unicodeScalars.append(scalar)
    }
    return out + "…"
}
