#if canImport(Glibc)
import Glibc
#endif
import CMosquitto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PlugCore
import PlugMQTT
import PlugPOSIX
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
///
/// It speaks MQTT 5 where the broker does (falling back to 3.1.1 where it does not), for three
/// things 3.1.1 cannot say: the broker is asked not to send packets over
/// `MQTTBridge.maxPacket` bytes (so one huge message never reaches plugd's memory), it says
/// why it closes a connection (another client took this identity), and it acknowledges or
/// refuses each publish (a denied topic is logged, not reported as published).
public final class MQTTClient: @unchecked Sendable {
    private let settings: MQTTSettings
    private let output: @Sendable (MQTTOutput) -> Void
    private let inbox = Mutex(Requests())
    private let wakeUp = WakePipe()
    private let finished = Semaphore()

    // Owned by the client thread.
    private var bridge: MQTTBridge
    private var handle: OpaquePointer?
    /// The client id the handle connects as (its last will is that identity's).
    private var handleClientID: String?
    private var connectingSince: ContinuousClock.Instant?
    private var retryAt: ContinuousClock.Instant
    private var backoff: ReconnectBackoff
    private var callbacks: [MQTTBridge.Input] = []
    /// Connect again at once (the protocol version changed), without a backoff.
    private var retryNow = false
    private var forgets: [Forget] = []
    /// MQTT 5, until a broker says it does not speak it.
    private var useV5 = true
    /// The reason code of a DISCONNECT the broker sent (MQTT 5), until the handle is dropped.
    private var brokerDisconnect: Int32?
    /// When the current connection was accepted.
    private var connectedSince: ContinuousClock.Instant?
    /// Backoff after the broker handed this identity to another client: longer than `backoff`.
    private var takeoverBackoff: ReconnectBackoff
    /// Messages published on this connection and not yet acknowledged: message id → topic.
    private var inFlight: [Int32: String] = [:]
    /// Log entries waiting for the acknowledgement of these message ids.
    private var pendingLogs: [(mids: Set<Int32>, event: PlugEvent)] = []
    /// Where `MonotonicInstant`s handed to the bridge start.
    private let epoch = ContinuousClock.now
    /// How long a connection attempt may take before it counts as failed.
    static let connectTimeout: Duration = .seconds(10)

    private struct Requests {
        var plug: PlugSnapshot?
        var presses: [String] = []
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

    /// Why libmosquitto cannot be used: it is not installed, or too old.
    public struct LibraryUnavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Opens libmosquitto (`dlopen`), which plugd is not linked with so that a plug without
    /// `[mqtt]` never maps it and the TLS libraries it needs. Call it before the first client;
    /// calling it again after it succeeded does nothing.
    public static func loadLibrary(_ soname: String = PLUGD_MOSQUITTO_SONAME) throws(LibraryUnavailable) {
        var error = [CChar](repeating: 0, count: 512)
        guard plugd_mosquitto_load(soname, &error, error.count) else {
            throw LibraryUnavailable(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }

    /// - Parameters:
    ///   - plug: the plug now; later changes go to `update(_:)`; `loadLibrary()` must have succeeded.
    ///   - output: called on the client thread for commands, reachability and log entries.
    public init(settings: MQTTSettings, plug: PlugSnapshot, output: @escaping @Sendable (MQTTOutput) -> Void) {
        self.settings = settings
        self.output = output
        bridge = MQTTBridge(settings: settings, plug: plug)
        backoff = ReconnectBackoff(min: settings.reconnectMin, max: settings.reconnectMax)
        takeoverBackoff = ReconnectBackoff(min: max(settings.reconnectMin, .seconds(5)), max: max(settings.reconnectMax, .seconds(300)))
        retryAt = .now
        mosquitto_lib_init()
    }

    /// Starts the client thread: it connects at once and keeps reconnecting until `stop()`.
    public func start() {
        PlugThread.detach(name: "mqtt") { [self] in
            run()
            finished.signal()
        }
    }

    /// The plug changed: publish what differs (relay, discovery), or reconnect as a new device.
    public func update(_ plug: PlugSnapshot) {
        inbox.withLock { $0.plug = plug }
        wakeUp.wake()
    }

    /// The button was pressed (`single`, `double`, `triple`): published for Home Assistant's
    /// device triggers.
    public func pressed(_ kind: String) {
        inbox.withLock { $0.presses.append(kind) }
        wakeUp.wake()
    }

    /// Removes `plug` from Home Assistant and the broker (empty retained discovery configs, state
    /// and availability), waiting up to `timeout` for the broker to acknowledge. Returns whether
    /// it did; if not, the messages are still sent as soon as the broker is reachable again
    /// (while plugd runs).
    public func forget(_ plug: PlugSnapshot, timeout: Duration) -> Bool {
        let result = Mutex<Bool?>(nil)
        let answered = Semaphore()
        let forget = Forget(messages: MQTTBridge.forgetting(plug, settings: settings)) { ok in
            result.withLock { if $0 == nil { $0 = ok } }
            answered.signal()
        }
        inbox.withLock { $0.forgets.append(forget) }
        wakeUp.wake()
        _ = answered.wait(timeout: timeout)
        return result.withLock { $0 } ?? false
    }

    /// Says goodbye (retained `offline`, then a clean disconnect, so the last will is not
    /// needed) and ends the thread, waiting at most `timeout`.
    public func stop(timeout: Duration = .seconds(2)) {
        inbox.withLock { $0.stop = true }
        wakeUp.wake()
        _ = finished.wait(timeout: timeout)
    }

    // MARK: - The client thread

    private func run() {
        while true {
            wakeUp.drain()
            let requests = inbox.withLock { r in
                defer { r = Requests() }; return r
            }
            if let plug = requests.plug { perform(bridge.handle(.plug(plug))) }
            for kind in requests.presses { perform(bridge.handle(.pressed(kind))) }
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
        for f in forgets { f.done(false) } // not confirmed (done is answered once: the first wins)
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
        guard (try? Poll.wait(&fds, timeout: wakeAt.map { now.duration(to: $0) })) != nil else { return }
        guard let handle, fds.count == 2 else { return }
        let ready = fds[1].revents
        var rc = MOSQ_ERR_SUCCESS.rawValue
        if ready & Int16(POLLIN | POLLERR | POLLHUP) != 0 { rc = mosquitto_loop_read(handle, 1) }
        if rc == MOSQ_ERR_SUCCESS.rawValue, ready & Int16(POLLOUT) != 0 { rc = mosquitto_loop_write(handle, 1) }
        if rc == MOSQ_ERR_SUCCESS.rawValue { rc = mosquitto_loop_misc(handle) }
        let inputs = callbacks
        callbacks = []
        if retryNow {
            retryNow = false
            dropHandle()
            retryAt = .now
            return
        }
        for input in inputs { handleInput(input) }
        if rc != MOSQ_ERR_SUCCESS.rawValue, self.handle != nil {
            let takenOver = brokerDisconnect == Int32(MQTT_RC_SESSION_TAKEN_OVER.rawValue)
            if bridge.connected, takenOver || (brokerDisconnect == nil && rc == MOSQ_ERR_CONN_LOST.rawValue) {
                closedByBroker(takenOver: takenOver)
                return
            }
            let reason = brokerDisconnect.map { "the broker closed the connection: \(Self.reasonText($0))" } ?? describe(rc)
            failed(bridge.connected ? .connectionLost(reason: reason) : .connectFailed(reason: reason))
        }
    }

    /// The broker closed an established connection. If the bridge counts it as taken over by
    /// another client with this client id, retry after a backoff that grows to minutes, so two
    /// plugs with one identity do not take the connection from each other many times a second.
    private func closedByBroker(takenOver: Bool) {
        let lasted = connectedSince.map { $0.duration(to: .now) } ?? .zero
        dropHandle()
        perform(bridge.handle(.closedByBroker(after: lasted, takenOver: takenOver)))
        // The long backoff once the broker has said so, or a close without a reason has come
        // soon after a connect often enough to be a conflict, not a broker restarting.
        guard bridge.takeovers > 0, takenOver || bridge.takeovers >= MQTTBridge.takeoversReported else {
            retryAt = .now + backoff.nextDelay(random: Double.random(in: 0..<1))
            return
        }
        if bridge.takeovers == 1 { takeoverBackoff.reset() }
        retryAt = .now + takeoverBackoff.nextDelay(random: Double.random(in: 0..<1))
    }

    /// Now, as the bridge's instants.
    private var now: MonotonicInstant { .zero.advanced(by: epoch.duration(to: .now)) }

    private func handleInput(_ input: MQTTBridge.Input) {
        switch input {
        case .connected:
            connectingSince = nil
            connectedSince = .now
            backoff.reset()
            perform(bridge.handle(.connected))
            publishForgets()
        case .connectFailed, .connectionLost:
            failed(input)
        case .message, .plug, .pressed, .oversized, .closedByBroker:
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
        mosquitto_connect_v5_callback_set(h) { _, obj, rc, _, _ in
            MQTTClient.client(obj).connackReceived(rc)
        }
        mosquitto_disconnect_v5_callback_set(h) { _, obj, rc, _ in
            let client = MQTTClient.client(obj)
            // A DISCONNECT's reason code (0x04, or 0x80 and up); libmosquitto passes its own
            // error numbers (below 0x80) here too, for a connection that just ended.
            if client.useV5, rc == 4 || rc >= 0x80, client.brokerDisconnect == nil { client.brokerDisconnect = rc }
        }
        mosquitto_message_callback_set(h) { _, obj, message in
            guard let m = message?.pointee, let topic = m.topic else { return }
            let client = MQTTClient.client(obj)
            let topicName = String(cString: topic)
            // Commands are a few bytes: a long message is discarded before it is decoded.
            guard Int(m.payloadlen) <= MQTTBridge.maxPayload else {
                client.callbacks.append(.oversized(topic: topicName, bytes: Int(m.payloadlen)))
                return
            }
            let payload = m.payload.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(m.payloadlen)), as: UTF8.self) } ?? ""
            client.callbacks.append(.message(topic: topicName, payload: payload, retained: m.retain, at: client.now))
        }
        mosquitto_publish_v5_callback_set(h) { _, obj, mid, reason, _ in
            MQTTClient.client(obj).acknowledged(mid, reason: reason)
        }
        mosquitto_subscribe_callback_set(h) { _, obj, _, count, granted in
            guard let granted else { return }
            let client = MQTTClient.client(obj)
            // MQTT 5 puts a reason code of 0x80 or more where a subscription was refused.
            for (i, code) in UnsafeBufferPointer(start: granted, count: Int(count)).enumerated() where code >= 0x80 {
                let topic = client.bridge.topics.subscriptions.indices.contains(i) ? client.bridge.topics.subscriptions[i] : "?"
                client.output(
                    .log(
                        PlugEvent(
                            .mqttSubscribeRefused,
                            """
                            The MQTT broker \(client.settings.broker) refused the subscription to \(topic): \(MQTTClient.reasonText(code)); \
                            commands on it will not arrive (check the broker's ACL)
                            """, priority: .error, fields: [.topic: topic, .reason: MQTTClient.reasonText(code)])))
            }
        }
        let will = bridge.will
        var rc = mosquitto_int_option(h, MOSQ_OPT_PROTOCOL_VERSION, useV5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311)
        if rc == MOSQ_ERR_SUCCESS.rawValue { rc = mosquitto_int_option(h, MOSQ_OPT_TCP_NODELAY, 1) }
        if rc == MOSQ_ERR_SUCCESS.rawValue {
            rc = mosquitto_will_set(h, will.topic, Int32(will.payload.utf8.count), will.payload, will.qos, will.retain)
        }
        if rc == MOSQ_ERR_SUCCESS.rawValue, let user = settings.username {
            var password: String?
            if let file = settings.passwordFile {
                do {
                    password = try MQTTSettings.password(inFile: try SmallFile.read(file, limit: MQTTSettings.fileLimit)).get()
                } catch {
                    failed(.connectFailed(reason: "the password file \(file) \(error)"))
                    return
                }
            }
            rc = mosquitto_username_pw_set(h, user, password)
        }
        if rc == MOSQ_ERR_SUCCESS.rawValue, let ca = settings.caFile {
            rc = mosquitto_tls_set(h, ca, nil, nil, nil, nil)
        }
        if rc == MOSQ_ERR_SUCCESS.rawValue {
            var properties: OpaquePointer?
            if useV5 { rc = mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_MAXIMUM_PACKET_SIZE.rawValue), MQTTBridge.maxPacket) }
            if rc == MOSQ_ERR_SUCCESS.rawValue {
                rc = mosquitto_connect_bind_v5(h, settings.host, Int32(settings.port), Int32(settings.keepalive), nil, properties)
            }
            mosquitto_property_free_all(&properties)
        }
        if rc != MOSQ_ERR_SUCCESS.rawValue { failed(.connectFailed(reason: describe(rc))) }
    }

    private static func client(_ obj: UnsafeMutableRawPointer?) -> MQTTClient {
        Unmanaged<MQTTClient>.fromOpaque(obj!).takeUnretainedValue()
    }

    /// The broker's CONNACK: accepted, refused with a reason, or "I do not speak MQTT 5", after
    /// which plugd connects again at once with 3.1.1 (without the packet-size limit) and says so.
    private func connackReceived(_ rc: Int32) {
        if rc == 0 {
            callbacks.append(.connected)
            return
        }
        // MQTT 5's "unsupported protocol version", or 1: a 3.1.1 broker's "unacceptable protocol version".
        if useV5, rc == Int32(MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION.rawValue) || rc == 1 {
            useV5 = false
            retryNow = true
            output(
                .log(
                    PlugEvent(
                        .mqttProtocol,
                        """
                        The MQTT broker \(settings.broker) does not speak MQTT 5: using 3.1.1, in which plugd cannot ask it to hold back \
                        messages over \(MQTTBridge.maxPacket) bytes or learn why it closes a connection
                        """, priority: .notice, fields: [.broker: settings.broker])))
            return
        }
        let text = useV5 ? Self.reasonText(rc) : String(cString: mosquitto_connack_string(rc))
        callbacks.append(.connectFailed(reason: "the broker refused: \(text)"))
    }

    /// An MQTT 5 reason code as libmosquitto words it.
    static func reasonText(_ code: Int32) -> String {
        clause(String(cString: mosquitto_reason_string(code)))
    }

    /// libmosquitto's text, without its closing full stop, to stand inside a sentence.
    static func clause(_ text: String) -> String {
        text.hasSuffix(".") ? String(text.dropLast()) : text
    }

    /// The connection failed or was lost: drop the handle, tell the bridge, retry after a backoff.
    private func failed(_ input: MQTTBridge.Input) {
        dropHandle()
        perform(bridge.handle(input))
        retryAt = .now + backoff.nextDelay(random: Double.random(in: 0..<1))
    }

    private func perform(_ actions: [MQTTBridge.Action]) {
        var published = Set<Int32>()
        for action in actions {
            switch action {
            case .publish(let m):
                if let mid = publish(m) { published.insert(mid) }
            case .subscribe(let topics):
                for topic in topics where handle != nil {
                    let rc = mosquitto_subscribe(handle, nil, topic, 1)
                    if rc != MOSQ_ERR_SUCCESS.rawValue, rc != MOSQ_ERR_NO_CONN.rawValue {
                        let reason = describe(rc)
                        output(
                            .log(
                                PlugEvent(
                                    .mqttSubscribeFailed, "Cannot subscribe to \(topic): \(reason); commands on it will not arrive",
                                    priority: .error, fields: [.topic: topic, .reason: reason])))
                    }
                }
            case .command(let c): output(.command(c))
            case .reachable(let r): output(.reachable(r))
            case .log(let e): output(.log(e))
            case .logWhenAcknowledged(let e):
                let waiting = published.intersection(inFlight.keys)
                if waiting.isEmpty { output(.log(e)) } else { pendingLogs.append((waiting, e)) }
            case .reconnect:
                disconnectCleanly()
                retryAt = .now
            }
        }
    }

    /// Publishes `m`; its message id, or `nil` (logged unless the connection is simply gone).
    private func publish(_ m: MQTTMessage) -> Int32? {
        guard let handle else { return nil }
        var mid: Int32 = 0
        let rc = mosquitto_publish(handle, &mid, m.topic, Int32(m.payload.utf8.count), m.payload, m.qos, m.retain)
        guard rc == MOSQ_ERR_SUCCESS.rawValue else {
            if rc != MOSQ_ERR_NO_CONN.rawValue {
                let reason = describe(rc)
                output(
                    .log(
                        PlugEvent(
                            .mqttPublishFailed, "Cannot publish to \(m.topic): \(reason)",
                            priority: .warning, fields: [.topic: m.topic, .reason: reason])))
            }
            return nil
        }
        inFlight[mid] = m.topic
        return mid
    }

    private func publishForgets() {
        for f in forgets where !f.published {
            let mids = f.messages.compactMap { publish($0) }
            guard mids.count == f.messages.count else { continue }
            f.published = true
            f.waiting = Set(mids)
        }
    }

    /// The broker acknowledged message `mid` (PUBACK), with an MQTT 5 reason code: 0x80 or
    /// more is a refusal (not authorised for that topic, quota, ...), logged with the topic.
    private func acknowledged(_ mid: Int32, reason: Int32) {
        let topic = inFlight.removeValue(forKey: mid)
        if reason >= 0x80 {
            let text = Self.reasonText(reason)
            output(
                .log(
                    PlugEvent(
                        .mqttPublishRefused, "The MQTT broker \(settings.broker) refused the message on \(topic ?? "?"): \(text)",
                        priority: .error, fields: [.topic: topic ?? "", .reason: text])))
            pendingLogs.removeAll { $0.mids.contains(mid) }
        }
        for i in pendingLogs.indices { pendingLogs[i].mids.remove(mid) }
        for entry in pendingLogs where entry.mids.isEmpty { output(.log(entry.event)) }
        pendingLogs.removeAll { $0.mids.isEmpty }
        guard reason < 0x80 else { return }
        for f in forgets where f.waiting.remove(mid) != nil && f.waiting.isEmpty && f.published {
            f.done(true)
            output(
                .log(
                    PlugEvent(
                        .mqttForgotten, "Removed from Home Assistant and the broker: \(f.messages.first?.topic ?? "")",
                        priority: .notice, fields: [.topic: f.messages.first?.topic ?? ""])))
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
            var fds = [pollfd(fd: mosquitto_socket(h), events: Int16(POLLOUT), revents: 0)]
            _ = try? Poll.wait(&fds, timeout: .milliseconds(100))
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
        connectedSince = nil
        brokerDisconnect = nil
        callbacks = []
        // Unacknowledged messages died with the connection; the next one publishes anew.
        inFlight = [:]
        pendingLogs = []
        for f in forgets where f.published { f.published = false; f.waiting = [] }
    }

    private func sayGoodbye() {
        let wasConnected = bridge.connected
        disconnectCleanly(goodbye: wasConnected ? bridge.goodbye : nil)
        if wasConnected {
            output(
                .log(
                    PlugEvent(
                        .mqttDisconnected, "Disconnected from the MQTT broker \(settings.broker) (stopping); availability offline",
                        priority: .notice, fields: [.broker: settings.broker, .reason: "stopping"])))
        }
    }

    /// A libmosquitto error in words; libmosquitto has none for its keepalive error.
    func describe(_ rc: Int32) -> String {
        if rc == MOSQ_ERR_KEEPALIVE.rawValue {
            return "the broker did not answer within the keepalive interval (\(settings.keepalive) s)"
        }
        let text = rc == MOSQ_ERR_ERRNO.rawValue ? Errno.current.description : String(cString: mosquitto_strerror(rc))
        return Self.clause(text)
    }
}
