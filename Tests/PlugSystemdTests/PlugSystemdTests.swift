import Foundation
import Testing
import PlugCore
@testable import PlugSystemd

@Suite struct JournalFormattingTests {
    /// Every field plugd writes is a valid journal field name as it stands: capitals, digits
    /// and `_`, not starting with `_` (journald's trusted fields), at most 64 bytes.
    @Test func everyEventFieldIsAValidJournalFieldName() {
        for field in EventField.allCases {
            let name = field.rawValue
            #expect(!name.isEmpty && name.utf8.count <= 64 && !name.hasPrefix("_"), "\(name)")
            #expect(name.utf8.allSatisfy { (65...90).contains($0) || (48...57).contains($0) || $0 == 95 }, "\(name)")
        }
    }

    @Test func stderrLinesCarryThePriorityPrefixAndStayOneLine() {
        #expect(
            SystemLog.format(priority: 4, message: "Button stuck\nreally", fields: " PLUG_EVENT=stuck_button")
                == "<4>Button stuck really PLUG_EVENT=stuck_button\n")
        let log = SystemLog(identifier: "plugd", messageIDs: ["stuck_button": "b126dbd571ca478eb71a4b96ec80e0fc"], destination: .stderr)
        #expect(
            log.line(for: PlugEvent(.stuckButton, "Button held 30 s", priority: .warning, fields: [.holdMs: "30000"]))
                == "<4>Button held 30 s MESSAGE_ID=b126dbd571ca478eb71a4b96ec80e0fc PLUG_EVENT=stuck_button PLUG_HOLD_MS=30000\n")
        #expect(
            log.line(for: PlugEvent(.relay, "Relay on (button)", fields: [.source: "button"]))
                == "<6>Relay on (button) PLUG_EVENT=relay PLUG_SOURCE=button\n")
    }
}

@Suite struct JournalBoundsTests {
    @Test func everyMessageAndFieldIsBoundedInBytesAtACharacterBoundary() {
        let huge = String(repeating: "é", count: 1_000_000) // 2 MB
        let e = SystemLog.bounded(PlugEvent(.mqttCommand, huge, fields: [.payload: huge, .topic: "short"]))
        #expect(e.message.utf8.count <= SystemLog.messageLimit && e.message.hasSuffix("é…"))
        #expect(e.fields[.payload]!.utf8.count <= SystemLog.fieldLimit)
        #expect(e.fields[.topic] == "short")
        #expect(bounded("abc", 3) == "abc" && bounded("abcdef", 5) == "ab…")
    }
}

@Suite struct MessageCatalogTests {
    let catalog = try! String(
        contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../systemd/plugd.catalog").standardized.path, encoding: .utf8)

    @Test func everyMessageIDHasACatalogEntryAndEveryEntryIsUsed() {
        let entries = Set(catalog.split(separator: "\n").filter { $0.hasPrefix("-- ") }.map { String($0.dropFirst(3)) })
        #expect(entries == Set(MessageCatalog.ids.values))
        for id in MessageCatalog.ids.values {
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit), "\(id)")
        }
        #expect(Set(MessageCatalog.ids.values).count == MessageCatalog.ids.count) // no id used twice
    }

    /// `EventName` lists the events the code writes, no more: every case is used outside the
    /// table (a case left behind after its event went would be documented but never written).
    @Test func everyEventNameIsWrittenByTheCode() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources").standardized
        var code = ""
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        for case let file as URL in files where file.pathExtension == "swift" && file.lastPathComponent != "EventName.swift" {
            code += try String(contentsOf: file, encoding: .utf8)
        }
        for event in EventName.allCases {
            #expect(code.contains(".\(event)"), "EventName.\(event) is never written")
        }
    }
}

@Suite struct BoardIdentityTests {
    @Test func aDeviceTreeSerialIsReadUpToItsNulAndOnlyIfPrintable() {
        #expect(BoardIdentity.printable(Array("10000000abcdef01\0".utf8)) == "10000000abcdef01")
        #expect(BoardIdentity.printable([0, 0]) == nil)
        #expect(BoardIdentity.printable(Array("bad serial\0".utf8)) == nil)
        #expect(BoardIdentity.printable([0xff, 0xfe, 0]) == nil)
    }

    @Test func theConfiguredIdWinsAndEachSourceIsNamed() {
        #expect(BoardIdentity.current(configured: "plug-7") == "config:plug-7")
        // On this machine: a serial number if it has a device tree with one, else the machine
        // id, as plugd's application-specific id (never the machine id itself).
        let found = BoardIdentity.current()
        let machineID = (try? String(contentsOfFile: "/etc/machine-id", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let found, found.hasPrefix("machine-id:") {
            #expect(found.count == "machine-id:".count + 32)
            #expect(found != "machine-id:" + (machineID ?? ""))
            #expect(BoardIdentity.current() == found) // stable
        }
        for board in ["serial:1", "machine-id:ab", "config:x"] { #expect(PlugState.source(ofBoard: board) != "an unknown source") }
    }
}
