import PlugCore

/// What wakes the run loop.
private enum LoopEvent: Sendable { case input(PlugMachine.Input), tick }

extension PlugRuntime {
    /// An input from outside the button: a control command.
    public typealias ExternalInput = PlugMachine.Input

    /// Runs the plug until the task is cancelled: button edges and `inputs` are handled as they
    /// arrive, and a timer is armed only for the next deadline (none when idle: zero wake-ups).
    /// On cancellation a pending state write is flushed and the lines are released.
    public func run<C: Clock>(clock: C, inputs: AsyncStream<ExternalInput>? = nil,
                              onUpdate: ((PlugRuntime) -> Void)? = nil) async
    where C.Instant == MonotonicInstant, C.Duration == Duration {
        let (events, continuation) = AsyncStream<LoopEvent>.makeStream()
        let button = lines.button
        let reader = Task {
            for await edge in button.edges {
                continuation.yield(.input(.button(pressed: edge.pressed, at: edge.timestamp)))
            }
        }
        let forwarder = Task {
            guard let inputs else { return }
            for await input in inputs { continuation.yield(.input(input)) }
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
                case .input(let input): handle(input, at: clock.now)
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
}
