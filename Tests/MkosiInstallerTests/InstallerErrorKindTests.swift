import Foundation
import MkosiConfig
import MkosiCore
import MkosiInstaller
import Testing

/// What the installers refuse says what to do: install the keys, allow fetching, or look at
/// what the mirror served.
@Suite struct InstallerErrorKindTests {
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

    @Test func aMissingKeyIsMissingAndFetchingWithoutADownloaderUnsupported() {
        let keys = RpmKeys(fetch: false, locate: { _ in nil })
        #expect(code { _ = try keys.find("RPM-GPG-KEY-x") } == .missingTool)
        #expect(code { _ = try keys.download("https://example.org/key") } == .unsupported)
        #expect(code { _ = try RpmKeys(fetch: true, tools: "/nonexistent", sandboxTree: nil).download("https://example.org/key") } == .unsupported)
    }

    /// distribution-gpg-keys' rawhide link naming no Fedora version is bad data from upstream.
    @Test func aRawhideLinkWithoutAVersionIsInvalidData() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-installer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "[Distribution]\nDistribution=fedora\nRelease=rawhide\nRepositoryKeyFetch=yes\n"
            .write(toFile: dir + "/mkosi.conf", atomically: true, encoding: .utf8)
        let config = try #require(try ConfigLoader.load(["build"], cwd: dir, resources: BuiltinResources()).main)
        let keys = RpmKeys(fetch: true, download: { _ in "not-a-key-name\n" }, locate: { _ in nil })
        #expect(code { _ = try DistributionDescription.of(.fedora).rpmRepositories(config, keys: keys) } == .invalidData)
    }
}
