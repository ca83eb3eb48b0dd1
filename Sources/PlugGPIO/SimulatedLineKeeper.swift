import Synchronization

/// A `LineKeeper` for the simulated chip that behaves as systemd's file-descriptor store: it
/// holds its own handle on each kept request (the same request kept twice is kept once; names
/// need not be unique, as in systemd), hands each to the next run (`restart()`), lets go of a
/// name's requests when told to forget it, and drops them all when the service stops (`stop()`).
public final class SimulatedLineKeeper: LineKeeper, Sendable {
    private struct State {
        var kept: [(name: String, request: KeptRequest)] = []
        var handedBack: Set<String> = []
    }
    private let gpio: SimulatedGPIO
    private let state = Mutex(State())

    public init(gpio: SimulatedGPIO) { self.gpio = gpio }

    public func takeBack(_ name: String) -> KeptRequest? {
        state.withLock { s in
            guard let r = s.kept.last(where: { $0.name == name })?.request, !s.handedBack.contains(name),
                gpio.openHandle(r.fd)
            else { return nil }
            s.handedBack.insert(name)
            return r
        }
    }

    @discardableResult public func keep(_ request: KeptRequest, as name: String) -> Bool {
        state.withLock { s in
            guard !s.kept.contains(where: { $0.request == request }) else { return true }
            guard gpio.openHandle(request.fd) else { return false }
            s.kept.append((name, request))
            return true
        }
    }

    public func forget(_ name: String) {
        let gone = state.withLock { s in
            defer { s.kept.removeAll { $0.name == name } }
            return s.kept.filter { $0.name == name }.map(\.request)
        }
        gone.forEach { gpio.closeHandle($0.fd) }
    }

    /// What is kept, by name (the newest request of each).
    public var kept: [String: KeptRequest] {
        state.withLock { s in Dictionary(s.kept.map { ($0.name, $0.request) }, uniquingKeysWith: { _, new in new }) }
    }

    /// A new run of the service starts: the kept requests can be taken back again.
    public func restart() { state.withLock { $0.handedBack = [] } }

    /// The service stopped: the store is emptied, releasing what only it held.
    public func stop() {
        let all = state.withLock { s in
            defer { s.kept = []; s.handedBack = [] }; return s.kept.map(\.request)
        }
        all.forEach { gpio.closeHandle($0.fd) }
    }
}
