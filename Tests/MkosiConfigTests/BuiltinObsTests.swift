import Foundation
@testable import MkosiConfig
import MkosiCore
import Testing

/// `Include=mkosi-obs`, the built-in configuration for builds in the Open Build Service.
@Suite struct BuiltinObsTests {
    /// Outside OBS the include is found and read, and its main-image part fails, as upstream's,
    /// on the OBS source directory it points `BuildSources=` at.
    @Test func includeIsReadAndNamesTheObsSourceDirectory() throws {
        try #require(!FileManager.default.fileExists(atPath: "/usr/src/packages/OTHER"))
        let project = try Project(["mkosi.conf": "[Include]\nInclude=mkosi-obs\n[Distribution]\nDistribution=debian\n"])
        let message = try #require(errorMessage { _ = try project.load() })
        #expect(message.contains("mkosi-obs/mkosi.conf.d/main.conf:"), "\(message)")
        #expect(message.contains("/usr/src/packages/OTHER does not exist"), "\(message)")
    }

    /// With OBS's directories present (here: the same configuration with its absolute paths
    /// moved into a scratch directory), the main image gets OBS's settings.
    @Test func mainImageGetsTheObsSettings() throws {
        let scratch = try Project()
        let packages = scratch.dir + "/packages"
        for file in BuiltinResourceFiles.files where file.path.hasPrefix("mkosi-obs/") {
            let text = file.contents.replacingOccurrences(of: "/usr/src/packages", with: packages)
            try scratch.write("resources/" + file.path, text, mode: Int(file.mode))
        }
        try scratch.write("packages/OTHER/.keep", "")
        try scratch.write("packages/SOURCES/_projectcert.crt", "")
        let project = try Project(["mkosi.conf": "[Include]\nInclude=mkosi-obs\n[Distribution]\nDistribution=debian\n"])
        let loaded = try ConfigLoader.load(["summary"], cwd: project.dir,
                                           resources: BuiltinResources(override: scratch.dir + "/resources"))
        let main = try #require(loaded.images.last)
        #expect(main["split_artifacts"].strings == ["pcrs", "roothash", "os-release", "repart-definitions"])
        #expect(main["compress_output"].string == "zstd")
        #expect(main["verity"].string == "defer")
        #expect(main["checksum"].bool == true)
        #expect(main["secure_boot"].bool == false)
        #expect(main["with_network"].bool == false)
        #expect(main["incremental"].string == "no")
        #expect(main["history"].bool == false)
        #expect(main["local_mirror"].string == "file:///.build.binaries/")
        #expect(main["verity_certificate"].string == packages + "/SOURCES/_projectcert.crt")
    }
}
