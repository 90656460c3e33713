import Foundation
@testable import MkosiCommands
import MkosiConfig
import MkosiCore
import Testing

/// The verbs' refusals say what the user can do: build first, wait for the other user, or
/// install what is missing.
@Suite struct CommandErrorKindTests {
    /// A scratch project with `conf` as its mkosi.conf; `body` gets its directory.
    func inProject(_ conf: String, _ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-errors-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try conf.write(toFile: dir + "/mkosi.conf", atomically: true, encoding: .utf8)
        try body(dir)
    }

    func code(_ body: () throws -> Void) -> MkosiError.Code? {
        do {
            try body()
        } catch let error as MkosiError {
            return error.code
        } catch {
            Issue.record("not a MkosiError: \(error)")
        }
        return nil
    }

    @Test func rerunningBuildScriptsBeforeABuildIsNotBuilt() throws {
        try inProject("[Distribution]\nDistribution=debian\n[Output]\nFormat=disk\n") { dir in
            let loaded = try ConfigLoader.load(["-R", "build"], cwd: dir, resources: BuiltinResources())
            #expect(code { try BuildCommand.checkCaches(loaded, outputExists: false) } == .notBuilt)
        }
    }

    @Test func anImageLockedByAnotherUserIsBusy() throws {
        try inProject("[Distribution]\nDistribution=debian\n[Output]\nFormat=disk\nOutputDirectory=out\n") { dir in
            let config = try #require(try ConfigLoader.load(["build"], cwd: dir, resources: BuiltinResources()).main)
            try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
            let image = Path.join(config.outputDirectoryOrDefault(cwd: dir), config.outputWithCompression)
            #expect(FileManager.default.createFile(atPath: image, contents: Data()))
            let held = try BuildCommand.lockImage(config, cwd: dir)
            #expect(held != nil)
            #expect(code { _ = try BuildCommand.lockImage(config, cwd: dir) } == .busy)
            held?.release()
            #expect(try BuildCommand.lockImage(config, cwd: dir) != nil)
        }
    }

    @Test func aKernelWithoutModulesIsMissing() throws {
        let options = try InitrdOptions.parse(.initrd, ["-k", "9.9"], kernelVersion: "r")
        #expect(code { _ = try InitrdPlan.make(options, host: InitrdHost(uid: 0, existing: []), staging: "/s", sandboxTree: "/t") }
                == .missingTool)
    }
}
