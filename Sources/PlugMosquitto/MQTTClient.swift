#if canImport(Glibc)
import Glibc
#endif
import CMosquitto
import Foundation
import PlugCore
import PlugMQTT
import PlugPoll
import Synchronization

/// What the MQTT client tells the daemon.
public enum MQTTOutput: Sendable, Equatable {
    /// A command from MQTT for the plug.
    case command(PlugMachine.Command)
    /// The broker became reachable or unreachable (the LED shows it).
    case reachable(Bool)
    /// A journal entry.
    case log(PlugEvent)
}

/// plugd's MQTT client: libmosquitto driven from one thread of its own, which runs an
/// `MQTTBridge` and carries out its actions.
///
/// The thread sleeps in `poll()` on the broker's socket and a wake-up pipe, with a timeout of the
/// keepalive interval while connected (the pings) or the backoff delay while not, so MQTT adds
/// about two wake-ups a minute to an idle plug, not libmosquitto's own one a second
/// (`mosquitto_loop_start`). Host name lookup and TLS happen on this thread: a slow broker never
/// holds up the button. Everything else talks to the thread through `update`, `forget` and
/// `stop`; only the thread touches the libmosquitto handle.
public final class MQTTClient: @unchecked Sendable {
    private let settings: MQTTSettings
    private let output: @Sendable (MQTTOutput) -> Void
    private let inbox = Mutex(Requests())
    private let wakeUp = WakePipe()
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    // Owned by the client thread.
    private var bridge: MQTTBridge
    private var handle: OpaquePointer?
    /// The client id the handle connects as (its last will is that identity's).
    private var handleClientID: String?
    private var connectingSince: ContinuousClock.Instant?
    private var retryAt: ContinuousClock.Instant
    private var backoff: ReconnectBackoff
    private var callbacks: [MQTTBridge.Input] = []
    private var forgets: [Forget] = []
    /// How long a connection attempt may take before it counts as failed.
    static let connectTimeout: Duration = .seconds(10)

    private struct Requests {
        var plug: PlugSnapshot?
        var forgets: [Forget] = []
        var stop = false
    }

    /// Messages that remove a device; `done` is told whether the broker acknowledged them all.
    private final class Forget: @unchecked Sendable {
        let messages: [MQTTMessage]
        var waiting: Set<Int32> = []
        var published = false
        let done: @Sendable (Bool) -> Void
        init(messages: [MQTTMessage], done: @escaping @Sendable (Bool) -> Void) {
            self.messages = messages
            self.done = done
        }
    }

    /// - Parameters:
    ///   - plug: the plug now; later changes go to `update(_:)`.
    ///   - output: called on the client thread for commands, reachability and log entries.
    public init(settings: MQTTSettings, plug: PlugSnapshot, output: @escaping @Sendable (MQTTOutput) -> Void) {
        self.settings = settings
        self.output = output
        bridge = MQTTBridge(settings: settings, plug: plug)
        backoff = ReconnectBackoff(min: settings.reconnectMin, max: settings.reconnectMax)
        retryAt = .now
        mosquitto_lib_init()
    }

    /// Starts the client thread: it connects at once and keeps reconnecting until `stop()`.
    public func start() {
        let t = Thread { [self] in
            run()
            finished.signal()
        }
        t.name = "mqtt"
        thread = t
        t.start()
    }

    /// The plug changed: publish what differs (relay, discovery), or reconnect as a new device.
    public func update(_ plug: PlugSnapshot) {
        inbox.withLock { $0.plug = plug }
        wakeUp.wake()
    }

    /// Removes `plug` from Home Assistant and the broker (empty retained discovery configs, state
    /// and availability), waiting up to `timeout` for the broker to acknowledge. Returns whether
    /// it did; if not, the messages are still sent as soon as the broker is reachable again
    /// (while plugd runs).
    public func forget(_ plug: PlugSnapshot, timeout: Duration) -> Bool {
        let result = Mutex<Bool?>(nil)
        let answered = DispatchSemaphore(value: 0)
        let forget = Forget(messages: MQTTBridge.forgetting(plug, settings: settings)) { ok in
            result.withLock { if $0 == nil { $0 = ok } }
            answered.signal()
        }
        inbox.withLock { $0.forgets.append(forget) }
        wakeUp.wake()
        _ = answered.wait(timeout: .now() + .milliseconds(Int(timeout.milliseconds)))
        return result.withLock { $0 } ?? false
    }

    /// Says goodbye (retained `offline`, then a clean disconnect, so the last will is not
    /// needed) and ends the thread, waiting at most `timeout`.
    public func stop(timeout: Duration = .seconds(2)) {
        inbox.withLock { $0.stop = true }
        wakeUp.wake()
        _ = finished.wait(timeout: .now() + .milliseconds(Int(timeout.milliseconds)))
    }

    // MARK: - The client thread

    private func run() {
        while true {
            wakeUp.drain()
            let requests = inbox.withLock { r in defer { r = Requests() }; return r }
            if let plug = requests.plug { perform(bridge.handle(.plug(plug))) }
            // A new identity while still connecting: start again as the new device.
            if handle != nil, handleClientID != bridge.topics.deviceID {
                dropHandle()
                retryAt = .now
            }
            forgets += requests.forgets
            if requests.stop { break }
            if bridge.connected { publishForgets() }
            let now = ContinuousClock.now
            if handle == nil, retryAt <= now { attempt() }
            if let since = connectingSince, since + Self.connectTimeout <= now {
                failed(.connectFailed(reason: "no answer within \(Self.connectTimeout)"))
            }
            pollOnce()
        }
        sayGoodbye()
        for f in forgets { f.done(false) }   // not confirmed (done is answered once: the first wins)
    }

    /// One `poll()` on the wake pipe and the broker's socket, then whatever is ready.
    private func pollOnce() {
        let sock = handle.map { mosquitto_socket($0) } ?? -1
        var fds = [pollfd(fd: wakeUp.fd, events: Int16(POLLIN), revents: 0)]
        if let handle, sock >= 0 {
            let out = mosquitto_want_write(handle) ? Int16(POLLOUT) : 0
            fds.append(pollfd(fd: sock, events: Int16(POLLIN) | out, revents: 0))
        }
        let now = ContinuousClock.now
        var wakeAt: ContinuousClock.Instant?
        if handle == nil {
            wakeAt = retryAt
        } else if let since = connectingSince {
            wakeAt = since + Self.connectTimeout
        } else {
            wakeAt = now + .seconds(settings.keepalive)
        }
        guard poll(&fds, nfds_t(fds.count), pollTimeout(wakeAt.map { now.duration(to: $0) })) >= 0 || errno == EINTR else { return }
        guard let handle, fds.count == 2 else { return }
        let ready = fds[1].revents
        var rc = MOSQ_ERR_SUCCESS.rawValue
        if ready & Int16(POLLIN | POLLERR | POLLHUP) != 0 { rc = mosquitto_loop_read(handle, 1) }
        if rc == MOSQ_ERR_SUCCESS.rawValue, ready & Int16(POLLOUT) != 0 { rc = mosquitto_loop_write(handle, 1) }
        if rc == MOSQ_ERR_SUCCESS.rawValue { rc = mosquitto_loop_misc(handle) }
        let inputs = callbacks
        callbacks = []
        for input in inputs { handleInput(input) }
        if rc != MOSQ_ERR_SUCCESS.rawValue, self.handle != nil {
            let reason = Self.describe(rc)
            failed(bridge.connected ? .connectionLost(reason: reason) : .connectFailed(reason: reason))
        }
    }

    private func handleInput(_ input: MQTTBridge.Input) {
        switch input {
        case .connected:
            connectingSince = nil
            backoff.reset()
            perform(bridge.handle(.connected))
            publishForgets()
        case .connectFailed, .connectionLost:
            failed(input)
        case .message, .plug:
            perform(bridge.handle(input))
        }
    }

    /// Starts a connection attempt with a new handle (a new client id after a factory reset).
    private func attempt() {
        guard let h = mosquitto_new(bridge.topics.deviceID, true, Unmanaged.passUnretained(self).toOpaque()) else {
            failed(.connectFailed(reason: "out of memory"))
            return
        }
        handle = h
        handleClientID = bridge.topics.deviceID
        connectingSince = .now
        mosquitto_connect_callback_set(h) { _, obj, rc in
            let client = Unmanaged<MQTTClient>.fromOpaque(obj!).takeUnretainedValue()
            client.callbacks.append(rc == 0 ? .connected
                                    : .connectFailed(reason: "the broker refused: \(String(cString: mosquitto_connack_string(rc)))"))
        }
        mosquitto_message_callback_set(h) { _, obj, message in
            guard let obj, let m = message?.pointee, let topic = m.topic else { return }
            let client = Unmanaged<MQTTClient>.fromOpaque(obj).takeUnretainedValue()
            let payload = m.payload.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(m.payloadlen)), as: UTF8.self) } ?? ""
            client.callbacks.append(.message(topic: String(cString: topic), payload: payload, retained: m.retain))
        }
        mosquitto_publish_callback_set(h) { _, obj, mid in
            let client = Unmanaged<MQTTClient>.fromOpaque(obj!).takeUnretainedValue()
            client.acknowledged(mid)
        }
        let will = bridge.will
        var rc = mosquitto_will_set(h, will.topic, Int32(will.payload.utf8.count), will.payload, will.qos, will.retain)
        if rc == MOSQ_ERR_SUCCESS.rawValue, let user = settings.username {
            var password: String?
            if let file = settings.passwordFile {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    failed(.connectFailed(reason: "cannot read the password file \(file): \(String(cString: strerror(errno)))"))
                    return
                }
                password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
            }
            rc = mosquitto_username_pw_set(h, user, password)
        }
        if rc == MOSQ_ERR_SUCCESS.rawValue, let ca = settings.caFile {
            rc = mosquitto_tls_set(h, ca, nil, nil, nil, nil)
        }
        if rc == MOSQ_ERR_SUCCESS.rawValue {
            rc = mosquitto_connect_async(h, settings.host, Int32(settings.port), Int32(settings.keepalive))
        }
        if rc != MOSQ_ERR_SUCCESS.rawValue { failed(.connectFailed(reason: Self.describe(rc))) }
    }

    /// The connection failed or was lost: drop the handle, tell the bridge, retry after a backoff.
    private func failed(_ input: MQTTBridge.Input) {
        dropHandle()
        perform(bridge.handle(input))
        retryAt = .now + backoff.nextDelay(random: Double.random(in: 0..<1))
    }

    private func perform(_ actions: [MQTTBridge.Action]) {
        for action in actions {
            switch action {
            case .publish(let m): _ = publish(m)
            case .subscribe(let topics):
                for topic in topics where handle != nil { mosquitto_subscribe(handle, nil, topic, 1) }
            case .command(let c): output(.command(c))
            case .reachable(let r): output(.reachable(r))
            case .log(let e): output(.log(e))
            case .reconnect:
                disconnectCleanly()
                retryAt = .now
            }
        }
    }

    private func publish(_ m: MQTTMessage) -> Int32? {
        guard let handle else { return nil }
        var mid: Int32 = 0
        let rc = mosquitto_publish(handle, &mid, m.topic, Int32(m.payload.utf8.count), m.payload, m.qos, m.retain)
        return rc == MOSQ_ERR_SUCCESS.rawValue ? mid : nil
    }

    private func publishForgets() {
        for f in forgets where !f.published {
            let mids = f.messages.compactMap { publish($0) }
            guard mids.count == f.messages.count else { continue }
            f.published = true
            f.waiting = Set(mids)
        }
    }

    private func acknowledged(_ mid: Int32) {
        for f in forgets where f.waiting.remove(mid) != nil && f.waiting.isEmpty && f.published {
            f.done(true)
            output(.log(PlugEvent("mqtt_forgotten", "Removed from Home Assistant and the broker: \(f.messages.first?.topic ?? "")",
                                  priority: .notice, fields: ["PLUG_TOPIC": f.messages.first?.topic ?? ""])))
        }
        forgets.removeAll { $0.published && $0.waiting.isEmpty }
    }

    /// A clean disconnect: the broker drops the session without publishing the last will.
    private func disconnectCleanly(goodbye: MQTTMessage? = nil) {
        guard let h = handle else { return }
        if let goodbye { _ = publish(goodbye) }
        mosquitto_disconnect(h)
        // Send what is queued (the goodbye, DISCONNECT); libmosquitto closes the socket after it.
        let deadline = ContinuousClock.now + .seconds(1)
        while mosquitto_socket(h) >= 0, mosquitto_want_write(h), ContinuousClock.now < deadline {
            var fd = pollfd(fd: mosquitto_socket(h), events: Int16(POLLOUT), revents: 0)
            _ = poll(&fd, 1, 100)
            if mosquitto_loop_write(h, 1) != MOSQ_ERR_SUCCESS.rawValue { break }
        }
        dropHandle()
    }

    /// Forgets the connection: the handle, its pending callbacks, and which removal messages it
    /// carried (their acknowledgements cannot come now: they are sent again on the next one).
    private func dropHandle() {
        if let h = handle { mosquitto_destroy(h) }
        handle = nil
        handleClientID = nil
        connectingSince = nil
        callbacks = []
        for f in forgets where f.published { f.published = false; f.waiting = [] }
    }

    private func sayGoodbye() {
        let wasConnected = bridge.connected
        disconnectCleanly(goodbye: wasConnected ? bridge.goodbye : nil)
        if wasConnected {
            output(.log(PlugEvent("mqtt_disconnected", "Disconnected from the MQTT broker \(settings.broker) (stopping); availability offline",
                                  priority: .notice, fields: ["PLUG_BROKER": settings.broker, "PLUG_REASON": "stopping"])))
        }
    }

    static func describe(_ rc: Int32) -> String {
        let text = rc == MOSQ_ERR_ERRNO.rawValue ? String(cString: strerror(errno)) : String(cString: mosquitto_strerror(rc))
        return text.hasSuffix(".") ? String(text.dropLast()) : text
    }
}
