import Foundation
import PlugCore
import PlugJSON
import PlugProtocol
import PlugStore
import Testing

@Suite struct JSONTests {
    @Test func valuesAreWrittenWithSortedKeysAndUnescapedSlashes() {
        let value: JSON = ["b": [1, true, nil, "x/y"], "a": ["c": "é\"\n\u{0}"]]
        #expect(value.text() == #"{"a":{"c":"é\"\n\u0000"},"b":[1,true,null,"x/y"]}"#)
    }

    @Test func whatIsWrittenIsReadBackTheSame() throws {
        let value: JSON = ["name": "kettle 🫖", "n": -42, "big": .int(Int64.max), "list": [[], [:], .double(0.5)], "nothing": nil]
        #expect(try JSON.parse(Array(value.text().utf8)) == value)
        #expect(try JSON.parse(Array(value.text(pretty: true).utf8)) == value)
    }

    @Test func prettyTextHasOneMemberPerLine() {
        #expect(JSON.object(["b": 1, "a": "x"]).text(pretty: true) == "{\n  \"a\": \"x\",\n  \"b\": 1\n}")
    }

    @Test func aBareValueAndSurroundingWhitespaceAreAccepted() throws {
        #expect(try JSON.parse(Array("42".utf8)) == 42)
        #expect(try JSON.parse(Array(" \n{\"a\":1}\r\n\t".utf8)) == ["a": 1])
    }

    @Test(arguments: [
        "", "{\"a\":1", "{\"a\":1,}", "[1,]", "{'a':1}", "/* c */ {}", "{} {}", "{}x", "NaN", "{\"a\":01}",
        "\"\\ud800\"", "{\"a\":1,\"a\":2}", String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000),
    ])
    func malformedTextIsAnErrorSayingWhere(text: String) {
        #expect {
            _ = try JSON.parse(Array(text.utf8))
        } throws: { error in
            "\(error)".contains("(at byte ")
        }
    }

    @Test func invalidUTF8IsAnError() {
        #expect(throws: JSONError.self) { try JSON.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func aWrongMemberIsNamed() {
        #expect {
            _ = try ControlRequestMessage(line: Array(#"{"command":5}"#.utf8))
        } throws: { error in
            "\(error)" == "command: expected a string"
        }
        #expect {
            _ = try ControlEventMessage(line: Array(#"{"event":"a","message":"b","priority":1,"fields":{"X":2}}"#.utf8))
        } throws: { error in
            "\(error)" == "fields.X: expected a string"
        }
        #expect {
            _ = try ControlReply(line: Array(#"[]"#.utf8))
        } throws: { error in
            "\(error)" == "expected a JSON object"
        }
    }

    /// Every message reads back as itself, and what plugd writes is JSON that Foundation's
    /// independent parser reads to the same members.
    @Test func messagesRoundTripAndAgreeWithAnotherParser() throws {
        let status = PlugStatus(
            relay: "on", led: "white", ledPattern: "white solid", mode: "normal", name: "kettle/2", identity: "X",
            registered: true, fault: nil, buttonHeld: false, broker: "connected", relayPending: "off in 1.2 s",
            timer: "off in 29 min 58 s")
        let reply = ControlReply.success(status)
        #expect(try ControlReply(line: ControlProtocol.line(reply)) == reply)
        #expect(try ControlReply(line: ControlProtocol.line(ControlReply.failure("no"))) == .failure("no"))
        let event = ControlEventMessage(event: "relay", message: "Relay on", priority: 6, fields: ["PLUG_RELAY": "on"])
        #expect(try ControlEventMessage(line: ControlProtocol.line(event)) == event)
        let request = ControlRequestMessage(command: "setup", name: "kettle")
        #expect(try ControlRequestMessage(line: ControlProtocol.line(request)) == request)
        let timed = ControlRequestMessage(command: "on", seconds: 1800)
        #expect(try ControlRequestMessage(line: ControlProtocol.line(timed)) == timed)
        #expect(String(decoding: ControlProtocol.line(timed), as: UTF8.self) == "{\"command\":\"on\",\"seconds\":1800}\n")

        let line = ControlProtocol.line(reply)
        #expect(line.last == 0x0A && line.dropLast().allSatisfy { $0 != 0x0A })
        let other = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
        let otherStatus = other?["status"] as? [String: Any]
        #expect(other?["ok"] as? Bool == true && other?["error"] == nil)
        #expect(otherStatus?["name"] as? String == "kettle/2" && otherStatus?["relayPending"] as? String == "off in 1.2 s")
        #expect(otherStatus?["fault"] == nil && otherStatus?.count == 11)
    }

    /// A state file as earlier versions wrote it (Foundation's pretty JSON) reads as before, and
    /// the file written now holds the same members.
    @Test func stateFilesOfEarlierVersionsReadTheSame() throws {
        let old = """
            {
              "board" : "machine-id:abc",
              "identity" : "6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
              "name" : "kettle",
              "powerOnPolicy" : "off",
              "registered" : true,
              "relayOn" : true,
              "version" : 1
            }

            """
        let state = try #require(StateStore.decode(Array(old.utf8)))
        let expected = PlugState(
            version: 1, identity: UUID(uuidString: "6BA7B810-9DAD-11D1-80B4-00C04FD430C8")!, name: "kettle",
            registered: true, relayOn: true, powerOnPolicy: .off, board: "machine-id:abc")
        #expect(state == expected)
        let written = StateStore.encode(state)
        #expect(StateStore.decode(written) == state)
        let members = try JSONSerialization.jsonObject(with: Data(written)) as? [String: Any]
        #expect(members?.keys.sorted() == ["board", "identity", "name", "powerOnPolicy", "registered", "relayOn", "version"])
        #expect(members?["identity"] as? String == "6BA7B810-9DAD-11D1-80B4-00C04FD430C8")
        // No preference and no board: the members are left out, as before.
        let fresh = PlugState.fresh(identity: UUID())
        let freshMembers = try JSONSerialization.jsonObject(with: Data(StateStore.encode(fresh))) as? [String: Any]
        #expect(freshMembers?["powerOnPolicy"] == nil && freshMembers?["board"] == nil && freshMembers?.count == 5)
    }

    @Test func aCountdownIsKeptInTheStateFile() throws {
        var state = PlugState.fresh(identity: UUID())
        state.countdown = Countdown(level: false, due: MonotonicInstant(nanoseconds: 1_801_000_000_000), boot: "0123abcd")
        let written = StateStore.encode(state)
        #expect(StateStore.decode(written) == state)
        let members = try JSONSerialization.jsonObject(with: Data(written)) as? [String: Any]
        let countdown = members?["countdown"] as? [String: Any]
        #expect(countdown?["relayOn"] as? Bool == false && countdown?["boot"] as? String == "0123abcd")
        #expect((countdown?["dueNanoseconds"] as? NSNumber)?.int64Value == 1_801_000_000_000)
    }

    @Test(arguments: [
        #"{"version":1,"identity":"not-a-uuid","name":"a","registered":true,"relayOn":false}"#,
        #"{"version":1,"identity":"6BA7B810-9DAD-11D1-80B4-00C04FD430C8","name":"a","registered":"yes","relayOn":false}"#,
        #"{"version":1,"identity":"6BA7B810-9DAD-11D1-80B4-00C04FD430C8","name":"a","registered":true,"relayOn":false,"powerOnPolicy":"sometimes"}"#,
        #"{"version":2,"identity":"6BA7B810-9DAD-11D1-80B4-00C04FD430C8","name":"a","registered":true,"relayOn":false}"#,
        #"{"version":1,"identity":"6BA7B810-9DAD-11D1-80B4-00C04FD430C8","registered":true,"relayOn":false}"#,
        #"{"version":1,"identity":"6BA7B810-9DAD-11D1-80B4-00C04FD430C8","name":"a","registered":true,"relayOn":false,"countdown":{"relayOn":false,"boot":"x"}}"#,
    ])
    func badStateFilesAreRefused(text: String) {
        #expect(StateStore.decode(Array(text.utf8)) == nil)
    }
}
