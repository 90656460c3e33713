import Foundation
@testable import MkosiConfig
import Testing

@Suite struct ResourcesTests {
    /// The resources compiled into the binary must be those in `Resources/`: run
    /// `scripts/embed-resources` after changing them.
    @Test func embeddedResourcesMatchTheResourcesDirectory() throws {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        let dir = root.appendingPathComponent("Resources").path
        var onDisk: [String: String] = [:]
        let walker = FileManager.default.enumerator(atPath: dir)
        while let rel = walker?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
                onDisk[rel] = try String(contentsOfFile: dir + "/" + rel, encoding: .utf8)
            }
        }
        let embedded = Dictionary(uniqueKeysWithValues: BuiltinResourceFiles.files.map { ($0.path, $0.contents) })
        #expect(Set(onDisk.keys) == Set(embedded.keys), "run scripts/embed-resources")
        for (path, text) in onDisk where embedded[path] != text {
            Issue.record("\(path) differs from the embedded copy; run scripts/embed-resources")
        }
    }

    @Test func materialisedResourcesAreComplete() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-res-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let resources = BuiltinResources(override: nil, cacheBase: home)
        let dir = try resources.path(of: "mkosi-initrd")
        #expect(FileManager.default.fileExists(atPath: dir + "/mkosi.conf"))
        let postinst = try resources.path(of: "mkosi-initrd/mkosi.profiles/network/mkosi.postinst")
        #expect(FileManager.default.isExecutableFile(atPath: postinst))
    }
}
