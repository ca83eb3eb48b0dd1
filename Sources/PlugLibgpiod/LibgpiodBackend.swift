#if canImport(Glibc)
import Glibc
#endif
import CGPIOD
import Foundation
import PlugCore
import PlugGPIO
import Synchronization

/// `GPIOBackend` on real GPIO through libgpiod (v1 API, Debian 12's 1.6).
///
/// Chips are found by path, name, label or number (`gpiod_chip_open_lookup`); lines by offset or
/// by name (`gpiod_chip_find_line`). Outputs are requested with their initial value in the request
/// and active-low applied by the kernel. The button is requested with its bias and both edges;
/// a thread blocks in `poll()` on the line's event fd, so there is no busy polling and no
/// periodic wake-up, and each edge carries the kernel's `CLOCK_MONOTONIC` timestamp.
public final class LibgpiodBackend: GPIOBackend {
    public init() {}

    public func requestOutput(_ spec: LineSpec, initial: Bool, consumer: String) throws -> any OutputLine {
        let handle = try LineHandle(spec)
        var flags = Int32(0)
        if spec.activeLow { flags |= Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) }
        if gpiod_line_request_output_flags(handle.line, consumer, flags, initial ? 1 : 0) != 0 {
            let e = errno
            handle.close()
            throw Self.requestError(e, spec)
        }
        return LibgpiodOutput(handle: handle, spec: spec)
    }

    public func requestButton(_ spec: LineSpec, bias: Bias, consumer: String) throws -> any ButtonLine {
        let handle = try LineHandle(spec)
        var flags = Int32(0)
        if spec.activeLow { flags |= Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) }
        switch bias {
        case .pullUp: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        case .disabled: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
        case .asIs: break
        }
        if gpiod_line_request_both_edges_events_flags(handle.line, consumer, flags) != 0 {
            let e = errno
            handle.close()
            throw Self.requestError(e, spec)
        }
        return try LibgpiodButton(handle: handle, spec: spec)
    }

    static func requestError(_ e: Int32, _ spec: LineSpec) -> GPIOError {
        switch e {
        case EBUSY: .lineBusy(spec.description)
        case EACCES, EPERM: .permissionDenied(spec.description)
        default: .io("requesting \(spec): \(String(cString: strerror(e)))")
        }
    }
}

/// An open chip and one of its lines; closing the chip releases the line.
final class LineHandle: @unchecked Sendable {
    let chip: OpaquePointer
    let line: OpaquePointer
    private let closed = Atomic<Bool>(false)

    init(_ spec: LineSpec) throws {
        guard let chip = gpiod_chip_open_lookup(spec.chip) else {
            switch errno {
            case EACCES, EPERM: throw GPIOError.permissionDenied("GPIO chip \(spec.chip)")
            default: throw GPIOError.chipNotFound(spec.chip)
            }
        }
        let found: OpaquePointer?
        switch spec.line {
        case .offset(let o): found = gpiod_chip_get_line(chip, o)
        case .name(let n): found = gpiod_chip_find_line(chip, n)
        }
        guard let found else {
            gpiod_chip_close(chip)
            throw GPIOError.lineNotFound(chip: spec.chip, line: spec.line.description)
        }
        self.chip = chip
        line = found
    }

    func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        gpiod_line_release(line)
        gpiod_chip_close(chip)
    }

    var isClosed: Bool { closed.load(ordering: .acquiring) }
}

final class LibgpiodOutput: OutputLine {
    let handle: LineHandle
    let spec: LineSpec

    init(handle: LineHandle, spec: LineSpec) {
        self.handle = handle
        self.spec = spec
    }

    func set(_ active: Bool) throws {
        guard !handle.isClosed else { throw GPIOError.io("\(spec) was released") }
        if gpiod_line_set_value(handle.line, active ? 1 : 0) != 0 {
            throw GPIOError.io("setting \(spec): \(String(cString: strerror(errno)))")
        }
    }

    func release() { handle.close() }
}

final class LibgpiodButton: ButtonLine, @unchecked Sendable {
    let handle: LineHandle
    let spec: LineSpec
    let edges: AsyncStream<ButtonEdge>
    private let eventFD: Int32
    /// Written to wake the reader thread for shutdown.
    private let stopPipe: (read: Int32, write: Int32)
    private let stopped = DispatchSemaphore(value: 0)
    private let released = Atomic<Bool>(false)

    init(handle: LineHandle, spec: LineSpec) throws {
        self.handle = handle
        self.spec = spec
        eventFD = gpiod_line_event_get_fd(handle.line)
        var fds: [Int32] = [0, 0]
        guard eventFD >= 0, pipe(&fds) == 0 else {
            handle.close()
            throw GPIOError.io("watching \(spec): \(String(cString: strerror(errno)))")
        }
        stopPipe = (fds[0], fds[1])
        let (stream, continuation) = AsyncStream<ButtonEdge>.makeStream()
        edges = stream
        let eventFD = self.eventFD, stopRead = stopPipe.read, stopped = self.stopped
        Thread.detachNewThread {
            Self.readEvents(eventFD: eventFD, stopFD: stopRead, continuation: continuation)
            continuation.finish()
            stopped.signal()
        }
    }

    /// Blocks in poll() until an edge or a stop request; never wakes otherwise.
    private static func readEvents(eventFD: Int32, stopFD: Int32, continuation: AsyncStream<ButtonEdge>.Continuation) {
        var fds = [pollfd(fd: eventFD, events: Int16(POLLIN), revents: 0), pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
        while true {
            fds[0].revents = 0
            fds[1].revents = 0
            let n = poll(&fds, 2, -1)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 { return }
            if fds[0].revents & Int16(POLLIN) != 0 {
                var event = gpiod_line_event()
                guard gpiod_line_event_read_fd(eventFD, &event) == 0 else { return }
                let ns = Int64(event.ts.tv_sec) * 1_000_000_000 + Int64(event.ts.tv_nsec)
                continuation.yield(ButtonEdge(pressed: event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE),
                                              timestamp: MonotonicInstant(nanoseconds: ns)))
            } else if fds[0].revents != 0 {
                return  // POLLERR/POLLHUP: the line is gone
            }
        }
    }

    func isPressed() throws -> Bool {
        let v = gpiod_line_get_value(handle.line)
        guard v >= 0 else { throw GPIOError.io("reading \(spec): \(String(cString: strerror(errno)))") }
        return v == 1
    }

    func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
        stopped.wait()
        Glibc.close(stopPipe.read)
        Glibc.close(stopPipe.write)
        handle.close()
    }
}
