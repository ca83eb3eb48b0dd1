#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Per thread: the write end of the wake pipe of the `StopSignals` this thread is waiting in
/// (plus one, so that fd 0 is not a null pointer). The handler runs in that thread, the only one
/// with the signals unblocked, and writes there.
private let waitingPipe: pthread_key_t = {
    var key = pthread_key_t()
    precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create")
    return key
}()

/// SIGTERM and SIGINT for a loop that sleeps in `poll()`. They are blocked in every thread (make
/// this before any other thread starts: threads inherit the mask), and let through only while
/// the loop waits in `poll(_:timeout:)`, which is `ppoll()` with them unblocked for the wait. A
/// signal that arrives then runs a handler that wakes `fd`; one that arrives while the loop is
/// busy stays pending until its next wait. No thread waits for signals, and no other thread's
/// system call is ever interrupted. The handler wakes the instance that the signalled thread is
/// waiting in, so loops on different threads (tests) do not stop each other.
/// (plugd used to take them in a thread of its own blocked in `sigwait()`: one thread more,
/// that did nothing else.)
public final class StopSignals: @unchecked Sendable {
    private let pipe = WakePipe()
    /// The calling thread's signal mask less SIGTERM and SIGINT: in force during the wait only.
    private let waitMask: sigset_t

    public init() {
        var stop = sigset_t(), previous = sigset_t()
        sigemptyset(&stop)
        sigaddset(&stop, SIGTERM)
        sigaddset(&stop, SIGINT)
        pthread_sigmask(SIG_BLOCK, &stop, &previous)
        sigdelset(&previous, SIGTERM)
        sigdelset(&previous, SIGINT)
        waitMask = previous
        _ = waitingPipe // made now, not first in the handler
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            guard let slot = pthread_getspecific(waitingPipe) else { return }
            var byte: UInt8 = 1
            _ = write(Int32(Int(bitPattern: slot) - 1), &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
    }

    /// Readable once a stop was asked for (a signal, or `request()`).
    public var fd: Int32 { pipe.fd }

    /// Asks the loop to stop, as SIGTERM would.
    public func request() { pipe.wake() }

    /// `Poll.wait` with SIGTERM and SIGINT let through for the wait. A signal ends the wait
    /// (0 ready, as a timeout) with `fd` readable from then on.
    public func wait(_ fds: inout [pollfd], timeout: Duration?) throws(Errno) -> Int {
        pthread_setspecific(waitingPipe, UnsafeRawPointer(bitPattern: Int(pipe.writeFD) + 1))
        return try Poll.wait(&fds, timeout: timeout, signalMask: waitMask)
    }
}
