import PlugCore
import Synchronization

/// An `EventSink` that passes every event on to `inner`, and those named `name` also to a
/// listener set later (the MQTT client, for `button_press`: Home Assistant's device triggers).
public final class EventTap: EventSink, Sendable {
    let inner: any EventSink & Sendable
    let name: EventName
    private let listener = Mutex<(@Sendable (PlugEvent) -> Void)?>(nil)

    public init(inner: any EventSink & Sendable, name: EventName) {
        self.inner = inner
        self.name = name
    }

    /// From now on, events named `name` also go to `listen` (on the thread that records them).
    public func listen(_ listen: @escaping @Sendable (PlugEvent) -> Void) {
        listener.withLock { $0 = listen }
    }

    public func record(_ event: PlugEvent) {
        inner.record(event)
        if event.name == name.rawValue, let listen = listener.withLock({ $0 }) { listen(event) }
    }
}
