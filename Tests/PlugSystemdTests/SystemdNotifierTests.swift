#if canImport(Glibc)
import Glibc
#endif
import Testing
import PlugPOSIX
@testable import PlugSystemd

/// A datagram socket standing in for systemd's notification socket.
private final class NotifyReceiver {
    let fd: Int32
    let address: String

    init(_ address: String) throws {
        self.address = address
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if address.hasPrefix("/") { unlink(address) }
        // An abstract name is bound as systemd binds it, independently of UnixSocket: a NUL and
        // the name's bytes, no more.
        let bound = address.hasPrefix("@") ? Self.bindAbstract(fd, String(address.dropFirst())) : UnixSocket.withAddress(address) { bind(fd, $0, $1) }
        try #require(bound == 0, "bind \(address): \(Errno.current)")
    }

    static func bindAbstract(_ fd: Int32, _ name: String) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = [0] + Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
        }
    }

    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n < 0 ? nil : String(decoding: buffer[..<n], as: UTF8.self)
    }

    func close() {
        Glibc.close(fd)
        if address.hasPrefix("/") { unlink(address) }
    }
}

@Suite struct SystemdNotifierTests {
    let path = "/tmp/plugd-notify-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    @Test func messagesReachAPathSocketAsSystemdExpectsThem() throws {
        let receiver = try NotifyReceiver(path)
        defer { receiver.close() }
        let notifier = SystemdNotifier(notifySocket: path)
        notifier.ready(status: "relay off")
        notifier.status("relay on")
        notifier.watchdog()
        notifier.stopping()
        #expect(receiver.receive() == "READY=1\nSTATUS=relay off")
        #expect(receiver.receive() == "STATUS=relay on")
        #expect(receiver.receive() == "WATCHDOG=1")
        #expect(receiver.receive() == "STOPPING=1\nSTATUS=stopping")
    }

    @Test func anAbstractNameIsAddressedWithoutTrailingBytes() throws {
        let name = "@plugd-notify-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let receiver = try NotifyReceiver(name)
        defer { receiver.close() }
        SystemdNotifier(notifySocket: name).status("abstract")
        #expect(receiver.receive() == "STATUS=abstract")
    }

    @Test func theSocketIsOpenedOnceForManyMessages() throws {
        let receiver = try NotifyReceiver(path)
        defer { receiver.close() }
        let notifier = SystemdNotifier(notifySocket: path)
        for i in 0..<50 {
            notifier.status("press \(i)")
            #expect(receiver.receive() == "STATUS=press \(i)")
        }
        #expect(notifier.connects == 1)
    }

    @Test func aReceiverMadeAnewIsReachedAgain() throws {
        let first = try NotifyReceiver(path)
        let notifier = SystemdNotifier(notifySocket: path)
        notifier.status("before")
        #expect(first.receive() == "STATUS=before")
        first.close()
        let second = try NotifyReceiver(path)
        defer { second.close() }
        notifier.status("after")
        #expect(second.receive() == "STATUS=after")
        #expect(notifier.connects == 2)
    }

    @Test func noSocketIsANoOp() {
        let notifier = SystemdNotifier(notifySocket: nil)
        notifier.ready(status: "nobody listens")
        notifier.status("still nobody")
    }
}
