import CTOMLDocument

/// A value of a TOML document. Parsing is toml++'s (Debian's `libtomlplusplus-dev`, compiled
/// into plugd through the small C layer in `Sources/CTOMLDocument`); this is only its result,
/// in Swift. Dates and times are kept as their kind: no plugd key takes one.
indirect enum TOMLValue: Equatable, Sendable {
    case table(TOMLTable)
    case array([TOMLValue])
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case date, time, dateTime

    var table: TOMLTable? { if case .table(let t) = self { t } else { nil } }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var bool: Bool? { if case .boolean(let b) = self { b } else { nil } }
    /// An integer that fits an `Int` (on a 32-bit board, larger ones are not integers here).
    var int: Int? { if case .integer(let i) = self { Int(exactly: i) } else { nil } }
    /// A float only; an integer is not one (the reader decides where an integer will do).
    var double: Double? { if case .float(let d) = self { d } else { nil } }
}

/// A TOML table: its keys in toml++'s order (sorted), each with its value.
struct TOMLTable: Equatable, Sendable, Sequence {
    var entries: [(key: String, value: TOMLValue)] = []

    subscript(key: String) -> TOMLValue? { entries.first { $0.key == key }?.value }
    func makeIterator() -> IndexingIterator<[(key: String, value: TOMLValue)]> { entries.makeIterator() }

    static func == (a: TOMLTable, b: TOMLTable) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

/// A syntax error, as toml++ describes it, and where.
struct TOMLSyntaxError: Error, Equatable {
    var line: Int
    var column: Int
    var message: String
}

extension TOMLTable {
    /// Parses a whole document; throws `TOMLSyntaxError`.
    init(parsing text: String) throws {
        var text = text
        let parsed = text.withUTF8 { plug_toml_parse($0.baseAddress, $0.count) }
        guard let document = parsed else { throw TOMLSyntaxError(line: 0, column: 0, message: "out of memory") }
        defer { plug_toml_free(document) }
        if let error = document.pointee.error {
            throw TOMLSyntaxError(
                line: Int(document.pointee.error_line), column: Int(document.pointee.error_column),
                message: String(cString: error))
        }
        let nodes = UnsafeBufferPointer(start: document.pointee.nodes, count: document.pointee.count)
        self = TOMLTable(entries: Self.children(nodes, of: -1, from: 0).entries)
    }

    /// The values held by the node at `parent` (-1: the root table), which follow it from
    /// `from` on, with their keys (empty in an array); and the index after the last descendant.
    private static func children(_ nodes: UnsafeBufferPointer<plug_toml_node>, of parent: Int32, from: Int)
        -> (entries: [(key: String, value: TOMLValue)], end: Int)
    {
        var entries: [(key: String, value: TOMLValue)] = []
        var i = from
        while i < nodes.count, nodes[i].parent == parent {
            let (value, next) = value(nodes, at: i)
            entries.append((text(nodes[i].key, nodes[i].key_length), value))
            i = next
        }
        return (entries, i)
    }

    private static func value(_ nodes: UnsafeBufferPointer<plug_toml_node>, at i: Int) -> (TOMLValue, next: Int) {
        let n = nodes[i]
        switch n.kind {
        case PLUG_TOML_TABLE:
            let (entries, end) = children(nodes, of: Int32(i), from: i + 1)
            return (.table(TOMLTable(entries: entries)), end)
        case PLUG_TOML_ARRAY:
            let (entries, end) = children(nodes, of: Int32(i), from: i + 1)
            return (.array(entries.map(\.value)), end)
        case PLUG_TOML_STRING: return (.string(text(n.string, n.string_length)), i + 1)
        case PLUG_TOML_INTEGER: return (.integer(n.integer), i + 1)
        case PLUG_TOML_FLOAT: return (.float(n.floating), i + 1)
        case PLUG_TOML_BOOLEAN: return (.boolean(n.boolean), i + 1)
        case PLUG_TOML_DATE: return (.date, i + 1)
        case PLUG_TOML_TIME: return (.time, i + 1)
        default: return (.dateTime, i + 1)
        }
    }

    private static func text(_ p: UnsafePointer<CChar>?, _ count: Int) -> String {
        guard let p else { return "" }
        return p.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
    }
}
