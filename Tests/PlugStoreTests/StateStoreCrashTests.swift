import Foundation
import PlugCore
import Testing
@testable import PlugStore

let oldIdentity = UUID(uuidString: "00000000-0000-0000-0000-0000000000A1")!

func oldState() -> PlugState {
    var s = PlugState.fresh(identity: oldIdentity)
    s.name = "lamp"; s.registered = true; s.relayOn = false
    return s
}

func newState() -> PlugState {
    var s = oldState()
    s.relayOn = true; s.name = "desk lamp"
    return s
}

/// A store on a disk holding `oldState()` (and a file set aside earlier, to show the wipe is whole).
func seededDisk() -> SimulatedDisk {
    let disk = SimulatedDisk()
    disk.seed(StateStore.stateFile, StateStore.encode(oldState()))
    disk.seed("state.json.corrupt-1", Array("{garbage".utf8))
    return disk
}

enum Recovery: CaseIterable { case powerCut, processRestart }

@Suite struct StateStoreCrashTests {
    /// How many mutating steps an uninterrupted operation takes.
    func stepCount(_ op: (StateStore) throws -> Void) throws -> Int {
        let disk = seededDisk()
        try op(StateStore(fs: disk))
        return disk.steps
    }

    @Test(arguments: Recovery.allCases)
    func crashAtEveryStepOfASaveLeavesOldOrNew(recovery: Recovery) throws {
        let total = try stepCount { try $0.save(newState()) }
        #expect(total == 4) // write temp, fsync, rename, fsync directory
        var outcomes: Set<String> = []
        for k in 0...total {
            let disk = seededDisk()
            disk.crashBeforeStep = k
            do { try StateStore(fs: disk).save(newState()) } catch is SimulatedCrash {}
            recovery == .powerCut ? disk.powerCut() : disk.processRestart()
            let opened = try StateStore(
                fs: disk,
                makeIdentity: {
                    Issue.record("identity made"); return UUID()
                }
            ).open()
            #expect(opened.setAside == nil, "torn state after crash before step \(k)")
            #expect(opened.state == oldState() || opened.state == newState(), "crash before step \(k)")
            outcomes.insert(opened.state == newState() ? "new" : "old")
            if k == total { #expect(opened.state == newState()) }
            #expect(try !disk.list().contains(StateStore.tempFile))
        }
        #expect(outcomes == ["old", "new"])
    }

    @Test(arguments: Recovery.allCases)
    func crashAtEveryStepOfAFactoryResetLeavesOldOrAFullyWipedNewPlug(recovery: Recovery) throws {
        let total = try stepCount { try $0.factoryReset() }
        var outcomes: Set<String> = []
        for k in 0...total {
            let disk = seededDisk()
            disk.crashBeforeStep = k
            do { try StateStore(fs: disk).factoryReset() } catch let e as FactoryResetError where e.cause is SimulatedCrash {}
            recovery == .powerCut ? disk.powerCut() : disk.processRestart()
            let fresh = UUID(uuidString: "00000000-0000-0000-0000-0000000000F\(k % 10)")!
            let opened = try StateStore(fs: disk, makeIdentity: { fresh }).open()
            let files = try disk.list()
            if opened.state == oldState() {
                outcomes.insert("old")
                #expect(files.contains("state.json.corrupt-1"), "old state but a partial wipe, crash before step \(k)")
            } else {
                outcomes.insert("reset")
                #expect(opened.state.identity != oldIdentity, "crash before step \(k)")
                #expect(!opened.state.registered)
                #expect(files == [StateStore.stateFile], "leftovers after reset, crash before step \(k): \(files)")
            }
        }
        #expect(outcomes == ["old", "reset"])
    }

    /// Found by the power-cut campaign on ext4 (integration/power-cut.py): the disk must never
    /// hold neither a state file nor the reset marker, or a start would find no plug at all
    /// rather than a reset to finish.
    @Test(arguments: Recovery.allCases)
    func everyStepOfAFactoryResetLeavesAStateOrTheMarker(recovery: Recovery) throws {
        let total = try stepCount { try $0.factoryReset() }
        for k in 0...total {
            let disk = seededDisk()
            disk.crashBeforeStep = k
            do { try StateStore(fs: disk).factoryReset() } catch let e as FactoryResetError where e.cause is SimulatedCrash {}
            recovery == .powerCut ? disk.powerCut() : disk.processRestart()
            let files = try disk.list()
            #expect(
                files.contains(StateStore.stateFile) || files.contains(StateStore.resetMarker),
                "crash before step \(k) of \(total) left \(files)")
        }
    }

    @Test func interruptedResetIsReportedAsCompletedAtOpen() throws {
        let disk = seededDisk()
        disk.crashBeforeStep = 4 // marker durable, nothing removed yet
        do { try StateStore(fs: disk).factoryReset() } catch let e as FactoryResetError where e.cause is SimulatedCrash {}
        disk.powerCut()
        let opened = try StateStore(fs: disk).open()
        #expect(opened.resetCompleted)
        #expect(try disk.list() == [StateStore.stateFile])
    }

    /// The model is strict enough to catch the classic mistake: renaming without fsync first.
    @Test func theDiskModelCatchesASaveWithoutFsync() throws {
        let disk = seededDisk()
        try disk.write(StateStore.tempFile, StateStore.encode(newState()))
        try disk.rename(StateStore.tempFile, to: StateStore.stateFile)
        try disk.syncDirectory()
        disk.powerCut()
        let opened = try StateStore(fs: disk).open()
        #expect(opened.setAside != nil) // the empty file is neither old nor new
    }
}
