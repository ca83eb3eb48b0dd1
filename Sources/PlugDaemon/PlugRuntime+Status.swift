import PlugCore
import PlugProtocol

extension PlugRuntime {
    /// The plug's status at `now`, as `plugctl status` shows it.
    public func status(at now: MonotonicInstant) -> PlugStatus {
        let m = machine
        let mode: String
        switch m.mode {
        case .normal: mode = "normal"
        case .setup: mode = "setup"
        case .factoryResetting: mode = "factory-reset"
        case .resetComplete: mode = "reset-complete"
        }
        return PlugStatus(relay: m.relayOn ? "on" : "off", led: (shownColor ?? .off).rawValue,
                          ledPattern: m.led(at: now).description, mode: mode, name: m.state.name,
                          identity: m.state.identity.uuidString, registered: m.state.registered,
                          fault: m.fault == nil ? nil : "state cannot be written", buttonHeld: m.hold != nil)
    }
}
