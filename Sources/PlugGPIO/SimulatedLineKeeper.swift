import Synchronization

/// A `LineKeeper` for the simulated chip that behaves as systemd's file-descriptor store: it
/// holds its own handle on each kept request (the same request kept twice is kept once), hands
/// each to the next run (`restart()`) and drops them all when the service stops (`stop()`).
public final class SimulatedLineKeeper: LineKeeper, Sendable {
    private struct State {
        var kept: [String: KeptRequest] = [:]
        var handedBack: Set<String> = []
    }
    private let gpio: SimulatedGPIO
    private let state = Mutex(State())

    public init(gpio: SimulatedGPIO) { self.gpio = gpio }

    public func takeBack(_ name: String) -> KeptRequest? {
        state.withLock { s in
            guard let r = s.kept[name], !s.handedBack.contains(name), gpio.openHandle(r.fd) else { return nil }
            s.handedBack.insert(name)
            return r
        }
    }

    @discardableResult public func keep(_ request: KeptRequest, as name: String) -> Bool {
        state.withLock { s in
            guard s.kept[name] != request else { return true }
            guard gpio.openHandle(request.fd) else { return false }
            if let old = s.kept[name] { gpio.closeHandle(old.fd) }
            s.kept[name] = request
            return true
        }
    }

    public func forget(_ name: String) {
        state.withLock { s in if let old = s.kept.removeValue(forKey: name) { gpio.closeHandle(old.fd) } }
    }

    /// What is kept, by name.
    public var kept: [String: KeptRequest] { state.withLock { $0.kept } }

    /// A new run of the service starts: the kept requests can be taken back again.
    public func restart() { state.withLock { $0.handedBack = [] } }

    /// The service stopped: the store is emptied, releasing what only it held.
    public func stop() {
        let all = state.withLock { s in defer { s.kept = [:]; s.handedBack = [] }; return Array(s.kept.values) }
        all.forEach { gpio.closeHandle($0.fd) }
    }
}
