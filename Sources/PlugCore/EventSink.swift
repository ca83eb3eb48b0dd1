/// Where journal entries go: the system log in the daemon (PlugSystemd's `SystemLog`), the
/// `plugctl watch` clients (PlugDaemon's `EventBroadcaster`), memory in tests.
public protocol EventSink: AnyObject {
    /// Records one event (one journal entry).
    func record(_ event: PlugEvent)
}
