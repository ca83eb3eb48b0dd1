import PlugCore
import PlugProtocol

/// A request from the control socket: an optional input (a command; `nil` only asks for the
/// status) and where to send the reply.
public struct ControlRequest: Sendable {
    public var input: PlugMachine.Input?
    public var reply: @Sendable (ControlReply) -> Void

    public init(input: PlugMachine.Input?, reply: @escaping @Sendable (ControlReply) -> Void) {
        self.input = input
        self.reply = reply
    }
}

/// Something for a run loop: a machine input (a button edge, an MQTT command), a control
/// request, or a journal entry from another thread (the MQTT client's), recorded in order with
/// the plug's own.
public enum LoopEvent: Sendable {
    case input(PlugMachine.Input)
    case request(ControlRequest)
    case log(PlugEvent)
}

/// What wakes the async run loop: an event, or its timer.
private enum Wake: Sendable { case event(LoopEvent), tick }

extension PlugRuntime {
    /// Runs the plug until the task is cancelled: button edges and control `requests` are handled
    /// as they arrive, and a timer is armed only for the next deadline (none when idle). On
    /// cancellation a pending state write is flushed and the lines are released.
    ///
    /// This is the driver for any `Clock` (the simulator, and tests on `ManualClock`). The daemon
    /// uses `runPolling`: Swift's task pool on Linux (libdispatch) wakes once a second for good
    /// once it has run a task, and the daemon must not wake at all when idle.
    public func run<C: Clock>(
        clock: C, requests: AsyncStream<ControlRequest>? = nil,
        onUpdate: ((PlugRuntime) -> Void)? = nil
    ) async
    where C.Instant == MonotonicInstant, C.Duration == Duration {
        let (events, continuation) = AsyncStream<Wake>.makeStream()
        let edges = lines.button.edgeStream()
        let reader = Task {
            for await edge in edges {
                continuation.yield(.event(.input(.button(pressed: edge.pressed, at: edge.timestamp))))
            }
        }
        let forwarder = Task {
            guard let requests else { return }
            for await request in requests { continuation.yield(.event(.request(request))) }
        }
        var timer: Task<Void, Never>?
        var armed: MonotonicInstant?
        func arm() {
            let deadline = nextWake(after: clock.now)
            guard deadline != armed else { return }
            timer?.cancel()
            armed = deadline
            timer = deadline.map { d in
                Task {
                    do { try await clock.sleep(until: d, tolerance: nil) } catch { return }
                    continuation.yield(.tick)
                }
            }
        }
        arm()
        onUpdate?(self)
        await withTaskCancellationHandler {
            for await event in events {
                switch event {
                case .event(let event): process(event, at: clock.now)
                case .tick: armed = nil; handle(.tick, at: clock.now)
                }
                onUpdate?(self)
                arm()
            }
        } onCancel: {
            continuation.finish()
        }
        timer?.cancel()
        reader.cancel()
        forwarder.cancel()
        flush(at: clock.now)
        lines.release()
    }

    /// Carries out one event from a run loop.
    func process(_ event: LoopEvent, at now: MonotonicInstant) {
        switch event {
        case .input(let input): handle(input, at: now)
        case .request(let request): answer(request, at: now)
        case .log(let event): log(event, at: now)
        }
    }

    /// Carries out a control request and replies with the status after it. During a factory
    /// reset the machine itself refuses the command (and logs `command_rejected`); the reply says
    /// so. A factory reset that could not wipe the state is a failure reply too.
    func answer(_ request: ControlRequest, at now: MonotonicInstant) {
        if let input = request.input {
            handle(.tick, at: now) // bring the machine up to now before asking
            let accepted = machine.acceptsCommands
            resetFailure = nil
            handle(input, at: now)
            flushIfDue(at: now) // acknowledged means written, when writes are not delayed
            guard accepted else {
                request.reply(.failure("a factory reset is in progress; try again in a few seconds"))
                return
            }
            if let failure = resetFailure {
                // The machine logged factory_reset_failed with what happens next.
                request.reply(.failure("factory reset failed: \(failure) (journalctl -u plugd PLUG_EVENT=factory_reset_failed)"))
                return
            }
        }
        request.reply(.success(status(at: now)))
    }
}
