#if canImport(Glibc)
import Glibc
#endif
import Testing
import PlugPOSIX

@Suite struct WakePipeTests {
    func readable(_ pipe: WakePipe) -> Bool {
        var p = pollfd(fd: pipe.fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) == 1
    }

    @Test func wakeMakesItReadableUntilDrained() {
        let pipe = WakePipe()
        #expect(!readable(pipe))
        pipe.wake()
        pipe.wake()
        #expect(readable(pipe))
        pipe.drain()
        #expect(!readable(pipe))
        pipe.drain() // an empty pipe does not block
    }

    @Test func neverBlocksWhenFull() {
        let pipe = WakePipe()
        for _ in 0..<100_000 { pipe.wake() } // more than a pipe holds (64 KiB)
        #expect(readable(pipe))
        pipe.drain()
        #expect(!readable(pipe))
    }

    @Test func bothEndsCloseOnExec() {
        let pipe = WakePipe()
        #expect(fcntl(pipe.fd, F_GETFD) & FD_CLOEXEC != 0)
    }
}

@Suite struct PollTimeoutTests {
    @Test(arguments: [
        (Duration?.none, Int32(-1)),
        (.zero, 0), (.seconds(-3), 0), (.nanoseconds(-1), 0),
        (.nanoseconds(1), 1), (.microseconds(999), 1), (.milliseconds(1), 1), (.nanoseconds(1_000_001), 2),
        (.milliseconds(1500), 1500), (.seconds(60), 60_000),
        (.seconds(Int64.max / 2), Int32.max),
    ])
    func roundsUpToWholeMilliseconds(remaining: Duration?, expected: Int32) {
        #expect(pollTimeout(remaining) == expected)
    }
}
