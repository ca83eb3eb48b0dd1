/// The syslog priority of a log entry (journald `PRIORITY=`).
public enum LogPriority: Int, Sendable, Comparable {
    case error = 3, warning = 4, notice = 5, info = 6, debug = 7

    public static func < (a: LogPriority, b: LogPriority) -> Bool { a.rawValue < b.rawValue }
}

/// Who asked for something: the physical button, the control socket, an MQTT command, the
/// daemon itself, a countdown, the config (`[relay] auto_off`), or a schedule.
public enum EventSource: String, Sendable, Equatable {
    case button, control, mqtt, startup, system, timer, config, schedule
}

/// One thing that happened to the plug, ready to become one journal entry: `name` is the
/// `PLUG_EVENT=` field, `fields` the other `PLUG_*` fields.
public struct PlugEvent: Equatable, Sendable, CustomStringConvertible {
    /// The `PLUG_EVENT` value (an `EventName`'s), e.g. `relay`, `simple_reset`, `factory_reset_started`.
    public var name: String
    /// The human-readable message.
    public var message: String
    /// The entry's priority.
    public var priority: LogPriority
    /// Extra structured fields (`PLUG_RELAY`, `PLUG_HOLD_MS`, `PLUG_SOURCE`, …).
    public var fields: [EventField: String]

    public init(
        _ event: EventName, _ message: String, priority: LogPriority = .info,
        fields: [EventField: String] = [:]
    ) {
        self.name = event.rawValue
        self.message = message
        self.priority = priority
        self.fields = fields
    }

    public var description: String { "\(name): \(message)" }
}
