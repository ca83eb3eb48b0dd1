import Logging
import PlugCore

/// Where the runtime sends journal entries. The daemon logs through swift-log; tests collect.
public protocol EventSink: AnyObject {
    /// Records one event (one journal entry).
    func record(_ event: PlugEvent)
}

/// An `EventSink` writing through a swift-log `Logger`: the event name and fields become metadata
/// (journal fields, with the journal handler), plus a `MESSAGE_ID` for catalogued events.
public final class LoggerEventSink: EventSink, Sendable {
    private let logger: Logger
    private let messageIDs: [String: String]

    /// - Parameter messageIDs: event name → journal `MESSAGE_ID` for key events.
    public init(logger: Logger, messageIDs: [String: String] = [:]) {
        self.logger = logger
        self.messageIDs = messageIDs
    }

    public func record(_ event: PlugEvent) {
        var metadata: Logger.Metadata = ["PLUG_EVENT": .string(event.name)]
        if let id = messageIDs[event.name] { metadata["MESSAGE_ID"] = .string(id) }
        for (key, value) in event.fields { metadata[key] = .string(value) }
        logger.log(level: Self.level(event.priority), "\(event.message)", metadata: metadata)
    }

    /// The swift-log level for a syslog priority.
    public static func level(_ priority: LogPriority) -> Logger.Level {
        switch priority {
        case .error: .error
        case .warning: .warning
        case .notice: .notice
        case .info: .info
        case .debug: .debug
        }
    }
}

/// An `EventSink` that keeps events in memory (tests, the terminal simulator's event line).
public final class CollectingEventSink: EventSink {
    /// Every event recorded, oldest first.
    public private(set) var events: [PlugEvent] = []

    public init() {}

    public func record(_ event: PlugEvent) { events.append(event) }

    /// The names of the recorded events.
    public var names: [String] { events.map(\.name) }
}
