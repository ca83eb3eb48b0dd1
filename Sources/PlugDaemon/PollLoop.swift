#if canImport(Glibc)
import Glibc
#endif
import PlugCore
import PlugProtocol
import PlugPOSIX

extension PlugRuntime {
    /// The one run loop (the daemon's, the terminal simulator's, the tests'). Runs the plug on
    /// the calling thread until `stop` is asked for (SIGTERM, SIGINT, or
    /// `stop.request()`). The thread sleeps in one `poll()` on the button's event descriptor, the
    /// inbox, the stop descriptor and the schedules' wall-clock timer, with SIGTERM and SIGINT let through only for that wait, and
    /// with a timeout only when something is due: the machine's next deadline, the LED's next
    /// change, a coalesced write, or the watchdog's next ping. The button's edges are read here,
    /// on this thread, as they come: no reader thread, no hand-over. With a steady LED and no
    /// watchdog it never wakes by itself, and no thread pool exists to wake either.
    /// On stop it writes the pending state and releases the lines.
    ///
    /// `watchdog` pings from this loop, so systemd's watchdog sees the loop itself alive.
    /// `onUpdate` runs after every pass with the instant the pass worked at. The clock is read
    /// twice a pass: after `poll` returns (for everything the pass does) and before the next
    /// `poll` (for its timeout, so a deadline is never slept past by the pass's own work).
    public func run(
        inbox: LoopInbox, stop: StopSignals, clock: MonotonicClock = MonotonicClock(),
        watchdog: (interval: Duration, ping: () -> Void)? = nil,
        onUpdate: ((PlugRuntime, MonotonicInstant) -> Void)? = nil
    ) {
        let button = lines.button
        var nextPing = clock.now
        var fds = [
            pollfd(fd: button.eventFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: inbox.fd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stop.fd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: schedules?.fd ?? -1, events: Int16(POLLIN), revents: 0),
        ]
        updateSchedules(at: clock.now)
        onUpdate?(self, clock.now)
        while true {
            let now = clock.now
            if let watchdog, nextPing <= now {
                watchdog.ping()
                nextPing = now.advanced(by: watchdog.interval)
            }
            let wake = earliest(nextWake(after: now), watchdog == nil ? nil : nextPing)
            // A signal ends the wait as a timeout would, with the stop fd readable from then on.
            guard (try? stop.wait(&fds, timeout: wake.map { now.duration(to: $0) })) != nil else { break }
            if fds[2].revents != 0 { break }
            var events: [LoopEvent] = []
            if fds[0].revents != 0 {
                if fds[0].revents & Int16(POLLIN) != 0, let edges = button.readEdges() {
                    events = edges.map { .input(.button(pressed: $0.pressed, at: $0.timestamp)) }
                } else {
                    fds[0].fd = -1 // the line is gone: poll() skips a negative descriptor
                }
            }
            // The inbox is read only when its pipe says so: a timeout costs no system call.
            if fds[1].revents != 0 { events += inbox.take() }
            let woke = clock.now
            if fds[3].revents != 0 { updateSchedules(at: woke, woke: true) }
            if events.isEmpty { handle(.tick, at: woke) }
            process(events, at: woke)
            onUpdate?(self, woke)
        }
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
