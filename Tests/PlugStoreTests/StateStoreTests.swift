import Foundation
import PlugCore
import Testing
@testable import PlugStore

/// A fresh temporary directory, removed when the closure returns.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plugd-test-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    return try body(dir.path)
}

@Suite struct StateStoreTests {
    @Test func newDirectoryGetsAFreshUnregisteredPlugSavedAtOnce() throws {
        try withTemporaryDirectory { dir in
            let store = StateStore(fs: try PosixStateFileSystem(directory: dir))
            let opened = try store.open()
            #expect(opened.created)
            #expect(!opened.state.registered)
            #expect(try store.open() == StateStore.Opened(state: opened.state, resetCompleted: false, setAside: nil, created: false))
        }
    }

    @Test func saveThenOpenRoundTripsOnARealDirectory() throws {
        try withTemporaryDirectory { dir in
            let fs = try PosixStateFileSystem(directory: dir)
            try StateStore(fs: fs).save(newState())
            #expect(try StateStore(fs: fs).open().state == newState())
            #expect(try fs.list() == [StateStore.stateFile])
            let text = String(decoding: try fs.read(StateStore.stateFile)!, as: UTF8.self)
            #expect(text.contains("\n  \"name\": \"desk lamp\",\n")) // one member per line, for an admin
        }
    }

    @Test(arguments: ["", "{", "not json at all", "{\"version\": 99}", "\u{0}\u{0}\u{0}"])
    func corruptFileIsMovedAsideAndDefaultsUsed(contents: String) throws {
        try withTemporaryDirectory { dir in
            let fs = try PosixStateFileSystem(directory: dir)
            try fs.write(StateStore.stateFile, Array(contents.utf8))
            let opened = try StateStore(fs: fs).open()
            #expect(opened.setAside == "state.json.corrupt-1")
            #expect(try fs.read("state.json.corrupt-1") == Array(contents.utf8)) // kept for inspection
            #expect(!opened.state.registered)
            // A second corrupt file does not overwrite the first one set aside.
            try fs.write(StateStore.stateFile, Array("again".utf8))
            #expect(try StateStore(fs: fs).open().setAside == "state.json.corrupt-2")
        }
    }

    @Test func factoryResetWipesEverythingAndMakesANewIdentity() throws {
        try withTemporaryDirectory { dir in
            let fs = try PosixStateFileSystem(directory: dir)
            let store = StateStore(fs: fs)
            try store.save(oldState())
            try fs.write("state.json.corrupt-1", [1, 2, 3])
            try fs.write("stray", [])
            let fresh = try store.factoryReset()
            #expect(fresh.identity != oldIdentity)
            #expect(try fs.list() == [StateStore.stateFile])
            #expect(try store.open().state == fresh)
        }
    }

    @Test func aStateIsBoundToItsBoardAndACopyOnAnotherBoardBecomesANewPlug() throws {
        try withTemporaryDirectory { dir in
            let fs = try PosixStateFileSystem(directory: dir)
            var old = newState()
            old.registered = true
            old.relayOn = true
            try StateStore(fs: fs).save(old) // written before plugd bound states to boards
            let bound = try StateStore(fs: fs, board: "serial:A").open()
            #expect(bound.bound && bound.cloned == nil && bound.state.board == "serial:A")
            #expect(bound.state.identity == old.identity && bound.state.registered)
            let again = try StateStore(fs: fs, board: "serial:A").open()
            #expect(!again.bound && again.cloned == nil && again.state == bound.state)
            // The card copied into board B.
            let copy = try StateStore(fs: fs, board: "serial:B").open()
            #expect(copy.cloned == bound.state)
            #expect(copy.state.identity != old.identity && copy.state.board == "serial:B")
            #expect(!copy.state.registered && copy.state.relayOn) // a new device; the appliance keeps its power
            #expect(try StateStore(fs: fs, board: "serial:B").open().cloned == nil) // once
            // No board known (simulator): nothing is bound or replaced.
            #expect(try StateStore(fs: fs).open().state == copy.state)
        }
    }

    @Test func aFactoryResetKeepsTheBoard() throws {
        try withTemporaryDirectory { dir in
            let store = StateStore(fs: try PosixStateFileSystem(directory: dir), board: "machine-id:1234")
            #expect(try store.open().state.board == "machine-id:1234")
            #expect(try store.factoryReset().board == "machine-id:1234")
        }
    }

    @Test func staleTempFileIsRemovedAtOpen() throws {
        try withTemporaryDirectory { dir in
            let fs = try PosixStateFileSystem(directory: dir)
            try StateStore(fs: fs).save(oldState())
            try fs.write(StateStore.tempFile, Array("half".utf8))
            #expect(try StateStore(fs: fs).open().state == oldState())
            #expect(try fs.list() == [StateStore.stateFile])
        }
    }

    @Test func unwritableDirectoryGivesAnErrorNamingThePath() throws {
        try withTemporaryDirectory { dir in
            let fs = try PosixStateFileSystem(directory: dir)
            try FileManager.default.removeItem(atPath: dir)
            #expect {
                try StateStore(fs: fs).save(oldState())
            } throws: { error in
                "\(error)".contains(dir)
            }
        }
    }
}
