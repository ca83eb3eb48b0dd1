import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import PlugCore
import PlugGPIO
import Testing
@testable import PlugConfig

/// The wiring guide, its config and its schematic must agree: a maker follows the drawing and
/// installs the config.
@Suite struct WiringDocsTests {
    static let wiring = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../wiring").standardized

    func text(_ name: String) throws -> String {
        try String(contentsOf: Self.wiring.appendingPathComponent(name), encoding: .utf8)
    }

    /// The README's pin table rows: config key → BCM offset, e.g. "relay.line" → 17.
    func pinTable() throws -> [String: UInt32] {
        var keys: [String: UInt32] = [:]
        for line in try text("README.md").split(separator: "\n") where line.hasPrefix("|") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let key = cells.last, key.hasPrefix("`"), key.contains(" = ") else { continue }
            let parts = key.trimmingCharacters(in: CharacterSet(charactersIn: "`")).components(separatedBy: " = ")
            if let offset = UInt32(parts[1]) { keys[parts[0]] = offset }
        }
        return keys
    }

    @Test func theConfigIsValidAndMatchesThePinTable() throws {
        let config = try PlugConfig.load(path: Self.wiring.appendingPathComponent("plugd.toml").path)
        let table = try pinTable()
        #expect(table.count == 5)
        let lines: [String: LineSpec] = [
            "relay.line": config.wiring.relay, "button.line": config.wiring.button,
            "led.red": config.wiring.red, "led.green": config.wiring.green,
            "led.blue": config.wiring.blue,
        ]
        for (key, offset) in table {
            #expect(lines[key]?.line == .offset(offset), "\(key)")
            #expect(lines[key]?.chip == "auto")
        }
        #expect(config.wiring.button.activeLow && config.wiring.buttonBias == .pullUp)
        #expect(!config.wiring.red.activeLow) // the drawing's LED is common cathode
    }

    @Test func theSchematicIsWellFormedAndShowsTheSameLines() throws {
        let svg = try text("schematic.svg")
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        for (_, offset) in try pinTable() {
            #expect(svg.contains("GPIO\(offset)<"), "GPIO\(offset) is not in the drawing")
        }
        #expect(try text("README.md").contains("(schematic.svg)"))
    }
}
