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
            throw TOMLSyntaxError(line: Int(document.pointee.error_line), column: Int(document.pointee.error_column),
                                  message: String(cString: error))
        }
        let nodes = UnsafeBufferPointer(start: document.pointee.nodes, count: document.pointee.count)
        self = Self.build(nodes, parent: -1, from: 0).table
    }

    /// The table whose values are the nodes with `parent`, starting the search at `from`
    /// (children always follow their parent), and the index after its last descendant.
    private static func build(_ nodes: UnsafeBufferPointer<plug_toml_node>, parent: Int32, from: Int) -> (table: TOMLTable, end: Int) {
        var table = TOMLTable()
        var i = from
        while i < nodes.count, nodes[i].parent == parent {
            let (value, next) = value(nodes, at: i)
            table.entries.append((text(nodes[i].key, nodes[i].key_length), value))
            i = next
        }
        return (table, i)
    }

    private static func value(_ nodes: UnsafeBufferPointer<plug_toml_node>, at i: Int) -> (TOMLValue, next: Int) {
        let n = nodes[i]
        switch n.kind {
        case PLUG_TOML_TABLE:
            let (t, end) = build(nodes, parent: Int32(i), from: i + 1)
            return (.table(t), end)
        case PLUG_TOML_ARRAY:
            var items: [TOMLValue] = []
            var j = i + 1
            while j < nodes.count, nodes[j].parent == Int32(i) {
                let (v, next) = value(nodes, at: j)
                items.append(v)
                j = next
            }
            return (.array(items), j)
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
