#if canImport(Glibc)
import Glibc
#endif
import Testing
import PlugPoll

@Suite struct StopSignalsTests {
    @Test func sigtermIsHeldUntilTheWaitThenEndsItAndMakesTheFDReadable() {
        let stop = StopSignals() // blocks SIGTERM and SIGINT in this thread
        var fds = [pollfd(fd: stop.fd, events: Int16(POLLIN), revents: 0)]
        #expect(stop.poll(&fds, timeout: 0) == 0)
        pthread_kill(pthread_self(), SIGTERM) // blocked: pending, not delivered; nothing killed
        var p = pollfd(fd: stop.fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&p, 1, 0) == 0) // an ordinary poll() does not let it through
        fds[0].revents = 0
        let ready = stop.poll(&fds, timeout: 5_000) // the wait lets it through at once
        #expect(ready == 1 || (ready == -1 && errno == EINTR))
        fds[0].revents = 0
        #expect(stop.poll(&fds, timeout: 0) == 1) // and the stop fd is readable from then on
    }

    @Test func aRequestStopsLikeASignal() {
        let stop = StopSignals()
        var fds = [pollfd(fd: stop.fd, events: Int16(POLLIN), revents: 0)]
        stop.request()
        #expect(stop.poll(&fds, timeout: 1_000) == 1)
    }
}
