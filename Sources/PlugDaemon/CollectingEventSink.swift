import PlugCore

/// An `EventSink` that keeps events in memory (tests, the terminal simulator's event line).
public final class CollectingEventSink: EventSink {
    /// Every event recorded, oldest first.
    public private(set) var events: [PlugEvent] = []

    public init() {}

    public func record(_ event: PlugEvent) { events.append(event) }

    /// The names of the recorded events.
    public var names: [String] { events.map(\.name) }
}
