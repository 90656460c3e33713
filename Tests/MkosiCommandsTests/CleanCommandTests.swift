import Foundation
@testable import MkosiBuild
@testable import MkosiCommands
import MkosiConfig
import MkosiCore
import Testing

/// `mkosi clean`, `-f clean`, `-w clean` and `-ff clean` remove what upstream's remove.
@Suite struct CleanCommandTests {
    static let conf = """
        [Distribution]
        Distribution=debian
        [Output]
        Format=directory
        OutputDirectory=out
        [Build]
        BuildDirectory=build
        CacheDirectory=cache
        Incremental=yes
        ToolsTree=default
        """

    /// The repository's `Resources/`, so that parallel tests do not materialise them at once.
    static let resources: BuiltinResources = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return BuiltinResources(override: url.appendingPathComponent("Resources").path)
    }()

    /// What is left after `mkosi ARGS clean` in a project with an output, a build directory with
    /// an object file, an incremental cache and a default tools tree.
    func leftAfter(_ args: [String]) throws -> Set<String> {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-clean-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        for sub in ["out", "build", "cache"] { try fm.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
        try Self.conf.write(toFile: dir + "/mkosi.conf", atomically: true, encoding: .utf8)
        let loaded = try ConfigLoader.load(args + ["clean"], cwd: dir, resources: Self.resources)
        let main = try #require(loaded.main)
        let tools = try #require(loaded.tools)
        let key = try #require(IncrementalCache(config: main, args: loaded.args).key)
        let things = [
            "output": Path.join(main.outputDirectoryOrDefault(cwd: dir), main.output) + "/usr",
            "build object": main.buildSubdirectory(dir + "/build") + "/obj/main.o",
            "image cache": dir + "/cache/\(key).cache/usr",
            "tools tree": ToolsTree.path(tools, cwd: dir) + "/usr",
        ]
        for path in things.values {
            try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            #expect(fm.createFile(atPath: path, contents: Data()))
        }
        try CleanCommand.run(loaded)
        #expect(fm.fileExists(atPath: main.buildSubdirectory(dir + "/build")), "the build directory itself stays")
        return Set(things.filter { fm.fileExists(atPath: $0.value) }.keys)
    }

    @Test func cleanRemovesTheOutputsOnly() throws {
        #expect(try leftAfter([]) == ["build object", "image cache", "tools tree"])
    }

    @Test func forcedCleanAlsoEmptiesTheBuildDirectoryAndRemovesCachesAndTheToolsTree() throws {
        #expect(try leftAfter(["-f"]) == [])
    }

    @Test func wipeCleanEmptiesTheBuildDirectory() throws {
        #expect(try leftAfter(["-w"]) == ["image cache", "tools tree"])
    }

    @Test func repositoryMetadataGoesWithTwoForcesForTheMainImageAndTheToolsTree() throws {
        func plan(_ force: Int, _ image: String) -> CleanCommand.Plan {
            var args = Args()
            args.force = force
            return CleanCommand.Plan(args: args, image: image)
        }
        #expect(!plan(1, "main").repositoryMetadata)
        #expect(plan(2, "main").repositoryMetadata)
        #expect(plan(2, "tools").repositoryMetadata)
        #expect(!plan(2, "sub").repositoryMetadata)
    }
}
