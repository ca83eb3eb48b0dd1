#if canImport(Glibc)
import Glibc
#endif
import Testing
import PlugPOSIX

@Suite struct StopSignalsTests {
    @Test func sigtermIsHeldUntilTheWaitThenEndsItAndMakesTheFDReadable() throws {
        let stop = StopSignals() // blocks SIGTERM and SIGINT in this thread
        var fds = [pollfd(fd: stop.fd, events: Int16(POLLIN), revents: 0)]
        #expect(try stop.wait(&fds, timeout: .zero) == 0)
        pthread_kill(pthread_self(), SIGTERM) // blocked: pending, not delivered; nothing killed
        var p = pollfd(fd: stop.fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&p, 1, 0) == 0) // an ordinary poll() does not let it through
        // The wait lets it through at once: interrupted (0, as a timeout), or the fd already ready.
        let clock = ContinuousClock(), start = clock.now
        let ready = try stop.wait(&fds, timeout: .seconds(5))
        #expect(ready <= 1)
        #expect(start.duration(to: clock.now) < .seconds(4))
        #expect(try stop.wait(&fds, timeout: .zero) == 1) // and the stop fd is readable from then on
    }

    @Test func aRequestStopsLikeASignal() throws {
        let stop = StopSignals()
        var fds = [pollfd(fd: stop.fd, events: Int16(POLLIN), revents: 0)]
        stop.request()
        #expect(try stop.wait(&fds, timeout: .seconds(1)) == 1)
    }
}

@Suite struct PollTests {
    @Test func aTimeoutIsZeroReadyAndAReadyDescriptorIsCounted() throws {
        let pipe = WakePipe()
        var fds = [pollfd(fd: pipe.fd, events: Int16(POLLIN), revents: 0)]
        #expect(try Poll.wait(&fds, timeout: .milliseconds(1)) == 0)
        pipe.wake()
        #expect(try Poll.wait(&fds, timeout: nil) == 1)
        #expect(fds[0].revents & Int16(POLLIN) != 0)
    }

    @Test func aFailureOtherThanASignalThrowsItsErrno() {
        // One descriptor more than RLIMIT_NOFILE allows: EINVAL, never retried, never mistaken for
        // a timeout. (Just one more: qemu-user, which runs the arm64 tests, copies the array onto
        // its own stack, and two million entries crashed it.)
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        var many = [pollfd](repeating: pollfd(fd: -1, events: 0, revents: 0), count: Int(limit.rlim_cur) + 1)
        #expect(throws: Errno(rawValue: EINVAL)) { try Poll.wait(&many, timeout: .zero) }
    }
}
