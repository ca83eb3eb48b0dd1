#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import PlugPOSIX

@Suite struct PlugThreadTests {
    @Test func aThreadRunsItsBodyUnderItsNameAndASemaphoreWaitsForIt() {
        let done = Semaphore()
        nonisolated(unsafe) var seen = ""
        PlugThread.detach(name: "plugd-test") {
            var name = [CChar](repeating: 0, count: 32)
            let f = fopen("/proc/thread-self/comm", "r")
            if let f { _ = fgets(&name, 32, f); fclose(f) }
            seen = String(cString: name).filter { $0 != "\n" }
            done.signal()
        }
        #expect(done.wait(timeout: .seconds(5)))
        #expect(seen == "plugd-test")
        #expect(!done.wait(timeout: .milliseconds(10))) // signalled once, taken once
    }

    @Test func longNamesAreCutToTheKernelsFifteenBytesAtACharactersEnd() {
        #expect(PlugThread.threadName("control client") == "control client")
        #expect(PlugThread.threadName("a-very-long-thread-name") == "a-very-long-thr")
        #expect(PlugThread.threadName("relais-schalteé-x") == "relais-schalte") // é would end at byte 16
    }
}
