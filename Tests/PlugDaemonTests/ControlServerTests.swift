#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PlugCore
import PlugGPIO
import PlugPOSIX
import PlugProtocol
import PlugStore
import Synchronization
import Testing
@testable import PlugDaemon

/// A running plug on the simulated chip (real clock), serving a control socket in a temp dir.
/// Its run loop is the daemon's own (`PlugRuntime.run`) on a thread of its own, so tests that keep
/// Swift's few cooperative threads busy meanwhile cannot starve it.
final class ServedPlug: @unchecked Sendable {
    let gpio: SimulatedGPIO
    let dir: String
    let runDir: String
    let socketPath: String
    let server: ControlServer
    private let stopSignals = Mutex<StopSignals?>(nil)
    private let started = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(timeout: Duration = .seconds(1)) throws {
        let clock = MonotonicClock()
        gpio = SimulatedGPIO(now: { clock.now })
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("plugd-cs-\(UUID().uuidString.prefix(8))").path
        // Like /run/plugd and /var/lib/plugd: the socket is not in the state directory.
        runDir = dir + "-run"
        try FileManager.default.createDirectory(atPath: runDir, withIntermediateDirectories: true)
        socketPath = runDir + "/control.sock"
        let store = StateStore(fs: try PosixStateFileSystem(directory: dir))
        var state = try store.open().state
        state.registered = true
        try store.save(state)
        let events = EventBroadcaster(inner: LoggerEventSinkStub())
        let runtime = try PlugRuntime(
            backend: gpio, wiring: .named(chip: "gpiosim"), store: StateStore(fs: PosixStateFileSystem(directory: dir)),
            policy: .last, writeDelay: .zero, sink: events, now: clock.now)
        let inbox = LoopInbox()
        server = ControlServer(path: socketPath, submit: { inbox.post(.request($0)) }, events: events, maxClients: 8, timeout: timeout)
        try server.start()
        nonisolated(unsafe) let loopRuntime = runtime // from here on used by the loop's thread only
        Thread.detachNewThread { [self] in
            let signals = StopSignals() // this thread's: it blocks SIGTERM/SIGINT here only
            stopSignals.withLock { $0 = signals }
            started.signal()
            loopRuntime.run(inbox: inbox, stop: signals, clock: clock)
            finished.signal()
        }
        started.wait()
    }

    func stop() async {
        server.stop()
        stopSignals.withLock { $0 }?.request()
        finished.wait()
        try? FileManager.default.removeItem(atPath: dir)
        try? FileManager.default.removeItem(atPath: runDir)
    }

    /// Connects, sends `bytes` (and optionally closes the write side), returns the reply lines.
    func exchange(_ bytes: [UInt8], maxLines: Int = 1) -> [String] {
        let fd = UnixSocket.connect(to: socketPath)
        guard fd >= 0 else { return ["connect failed"] }
        defer { close(fd) }
        var tv = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.filter({ $0 == 0x0A }).count < maxLines {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    func request(_ json: String) -> ControlReply? {
        exchange(Array((json + "\n").utf8)).first.flatMap { try? ControlReply(line: Array($0.utf8)) }
    }
}

final class LoggerEventSinkStub: EventSink, Sendable {
    func record(_ event: PlugEvent) {}
}

@Suite(.serialized) struct ControlServerTests {
    @Test func statusAndRelayCommandsDriveTheRelayLine() async throws {
        let plug = try ServedPlug()
        let status = plug.request(#"{"command":"status"}"#)
        #expect(status?.ok == true, "\(String(describing: status))")
        #expect(status?.status?.relay == "off")
        #expect(status?.status?.mode == "normal")
        #expect(plug.request(#"{"command":"on"}"#)?.status?.relay == "on")
        #expect(plug.gpio.level(line: "relay"))
        #expect(plug.request(#"{"command":"toggle"}"#)?.status?.relay == "off")
        #expect(!plug.gpio.level(line: "relay"))
        let setup = plug.request(#"{"command":"setup","name":"kettle"}"#)
        #expect(setup?.status?.name == "kettle")
        #expect(plug.request(#"{"command":"reset"}"#)?.status?.mode == "setup")
        await plug.stop()
    }

    @Test(arguments: [
        ("not json\n", "malformed request"),
        ("{\"command\": 5}\n", "malformed request"),
        ("{\"command\":\"explode\"}\n", "unknown command \"explode\""),
        ("\n", "empty request"),
        ("{\"command\":\"setup\",\"name\":\"\"}\n", "a name must be 1 to 64 characters"),
        (String(repeating: "x", count: 5000) + "\n", "request too large"),
        (String(repeating: "y", count: 100_000), "request too large"),
        ("{\"command\":\"status\"", "timed out waiting for a request"),
    ])
    func badRequestsGetAnErrorReply(request: String, error: String) async throws {
        let plug = try ServedPlug()
        let lines = plug.exchange(Array(request.utf8))
        let reply = lines.first.flatMap { try? ControlReply(line: Array($0.utf8)) }
        #expect(reply?.ok == false)
        #expect(reply?.error?.contains(error) == true, "\(lines)")
        #expect(plug.request(#"{"command":"status"}"#)?.ok == true) // still serving
        await plug.stop()
    }

    @Test func eventsListsTheRecentEventsWithTheirTimes() async throws {
        let plug = try ServedPlug()
        _ = plug.request(#"{"command":"on"}"#)
        _ = plug.request(#"{"command":"off"}"#)
        let reply = plug.request(#"{"command":"events"}"#)
        #expect(reply?.ok == true)
        #expect(reply?.status?.relay == "off")
        let relay = (reply?.events ?? []).filter { $0.event == "relay" }
        #expect(relay.map { $0.fields["PLUG_RELAY"] } == ["on", "off"], "\(String(describing: reply))")
        #expect(relay.allSatisfy { ($0.at ?? 0) > 1_700_000_000_000 })
        #expect(plug.request(#"{"command":"status"}"#)?.events == nil)
        await plug.stop()
    }

    @Test func factoryResetRefusesFurtherCommandsUntilDone() async throws {
        let plug = try ServedPlug()
        #expect(plug.request(#"{"command":"factory-reset"}"#)?.status?.mode == "factory-reset")
        let refused = plug.request(#"{"command":"on"}"#)
        #expect(refused?.ok == false)
        #expect(refused?.error?.contains("factory reset is in progress") == true)
        await plug.stop()
    }

    @Test func manyConcurrentClientsAreAllAnswered() async throws {
        let plug = try ServedPlug()
        // Clients are other processes in real life: give each its own thread, not the
        // cooperative pool the run loop needs.
        let replies = Mutex<[ControlReply?]>([])
        let group = DispatchGroup()
        for i in 0..<64 {
            group.enter()
            Thread.detachNewThread {
                let r = plug.request(i % 2 == 0 ? #"{"command":"status"}"# : #"{"command":"toggle"}"#)
                replies.withLock { $0.append(r) }
                group.leave()
            }
        }
        await withCheckedContinuation { c in group.notify(queue: .global()) { c.resume() } }
        let all = replies.withLock { $0 }
        #expect(all.count == 64)
        #expect(all.allSatisfy { $0 != nil })
        // Beyond maxClients at once, a client is told to try again; nobody waits for a timeout.
        #expect(all.allSatisfy { $0?.ok == true || $0?.error == "too many clients; try again" })
        #expect(all.filter { $0?.ok == true }.count >= 8)
        #expect(plug.request(#"{"command":"status"}"#)?.ok == true)
        await plug.stop()
    }

    @Test func idleAndSlowClientsCannotLockOutAWellBehavedOne() async throws {
        // 8 slots; a silent client would be timed out only after 30 s.
        let plug = try ServedPlug(timeout: .seconds(30))
        // 200 connections that never send a request, and 50 that send half of one.
        var held: [Int32] = []
        for i in 0..<250 {
            let fd = UnixSocket.connect(to: plug.socketPath)
            #expect(fd >= 0)
            if i >= 200 { _ = Array(#"{"comm"#.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
            held.append(fd)
        }
        defer { held.forEach { close($0) } }
        try await Task.sleep(for: .milliseconds(300)) // they are idle past the grace period
        // A well-behaved client is served at once, again and again, while they all stay connected.
        for _ in 0..<20 {
            #expect(plug.request(#"{"command":"status"}"#)?.ok == true)
        }
        #expect(plug.server.dropped >= 1) // served by dropping an idle one, not by waiting for timeouts
        #expect(plug.server.activeClients <= plug.server.maxClients + 1) // threads stay bounded
        await plug.stop()
    }

    @Test func watchStreamsEvents() async throws {
        let plug = try ServedPlug()
        let watcher = Task.detached { plug.exchange(Array("{\"command\":\"watch\"}\n".utf8), maxLines: 2) }
        try await Task.sleep(for: .milliseconds(300))
        _ = plug.request(#"{"command":"on"}"#)
        let lines = await watcher.value
        #expect(lines.count == 2, "\(lines)")
        let events = lines.dropFirst().compactMap { try? ControlEventMessage(line: Array($0.utf8)) }
        #expect(events.first?.event == "relay")
        #expect(events.first?.fields["PLUG_RELAY"] == "on")
        await plug.stop()
    }

    @Test func socketIsGroupReadWriteOnlyAndRemovedAtStop() async throws {
        let plug = try ServedPlug()
        var st = stat()
        #expect(stat(plug.socketPath, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o660)
        await plug.stop()
        #expect(!FileManager.default.fileExists(atPath: plug.socketPath))
    }
}
