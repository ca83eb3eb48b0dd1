import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// plugd's own threads (the MQTT client, control clients, the simulator's keyboard): POSIX threads,
/// detached, so nothing but the C library is needed to run them (no Foundation `Thread`, no
/// Dispatch). Each sleeps in `poll()` or on a `Semaphore`; none wakes on a timer of its own.
public enum PlugThread {
    /// Starts `body` on a new detached thread named `name` (shown by `top -H` and in
    /// `/proc/PID/task/*/comm`; at most 15 bytes are kept).
    /// - Precondition: the thread can be made (it fails only when the system is out of threads).
    public static func detach(name: String? = nil, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(body: body, name: name.map(threadName))).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, &attributes,
            { raw in
                let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
                if let name = body.name { pthread_setname_np(pthread_self(), name) }
                body.body()
                return nil
            }, box)
        precondition(rc == 0, "pthread_create: \(Errno(rawValue: rc).description)")
    }

    /// `name` cut to the kernel's 15 bytes, at a character's end.
    static func threadName(_ name: String) -> String {
        var cut = ""
        for c in name {
            guard cut.utf8.count + c.utf8.count <= 15 else { break }
            cut.append(c)
        }
        return cut
    }

    private final class Body {
        let body: @Sendable () -> Void
        let name: String?
        init(body: @escaping @Sendable () -> Void, name: String?) { (self.body, self.name) = (body, name) }
    }
}

/// A counting semaphore (POSIX `sem_t`): one thread waits, with or without a time limit, until
/// another signals.
public final class Semaphore: @unchecked Sendable {
    private let sem = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

    public init(value: UInt32 = 0) { sem_init(sem, 0, value) }

    deinit {
        sem_destroy(sem)
        sem.deallocate()
    }

    public func signal() { sem_post(sem) }

    /// Waits until signalled.
    public func wait() { while sem_wait(sem) != 0 && errno == EINTR {} }

    /// Waits until signalled or `timeout` has passed (on the monotonic clock, so a wall-clock
    /// step changes nothing); returns whether it was signalled.
    public func wait(timeout: Duration) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = Int(deadline.tv_nsec) + Int(attoseconds / 1_000_000_000)
        deadline.tv_sec += Int(seconds) + nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        while true {
            if sem_clockwait(sem, CLOCK_MONOTONIC, &deadline) == 0 { return true }
            if errno != EINTR { return false }
        }
    }
}
