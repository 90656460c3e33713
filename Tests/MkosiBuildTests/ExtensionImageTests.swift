import Foundation
import MkosiConfig
import MkosiCore
import MkosiGPT
import Testing
@testable import MkosiBuild

/// Extension images, OCI layouts and the checks before a build, without building anything.
@Suite struct ExtensionImageTests {
    func config(_ conf: String, files: [String: String] = [:]) throws -> Config {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-ext-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try conf.write(toFile: dir + "/mkosi.conf", atomically: true, encoding: .utf8)
        for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        let loaded = try ConfigLoader.load(["build"], cwd: dir, resources: BuiltinResources())
        return try #require(loaded.main)
    }

    /// Upstream's mkosi/resources/repart/definitions, without their SPDX comment lines.
    @Test func builtInDefinitionsAreUpstreams() {
        let sysext = ExtensionImage.definitions(.sysext, signed: true)
        #expect(sysext.map(\.name) == ["10-root.conf", "20-root-verity.conf", "30-root-verity-sig.conf"])
        #expect(sysext[0].text == "[Partition]\nType=root\nFormat=erofs\nCopyFiles=/opt/\nCopyFiles=/usr/\nVerity=data\nVerityMatchKey=root\nMinimize=best\n")
        #expect(sysext[1].text == "[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\nMinimize=best\n")
        #expect(sysext[2].text == "[Partition]\nType=root-verity-sig\nVerity=signature\nVerityMatchKey=root\n")
        #expect(ExtensionImage.definitions(.confext, signed: false).map(\.text)
                == ["[Partition]\nType=root\nFormat=erofs\nCopyFiles=/etc/\nMinimize=best\n"])
        #expect(ExtensionImage.definitions(.portable, signed: true)[0].text.contains("CopyFiles=/\nVerity=data\n"))
        #expect(ExtensionImage.definitions(.sysext, signed: false).map(\.text)
                == ["[Partition]\nType=root\nFormat=erofs\nCopyFiles=/opt/\nCopyFiles=/usr/\nMinimize=best\n"])
    }

    /// `Verity=`: auto signs only with both a key and a certificate.
    @Test func signedWhenKeysArePresent() throws {
        #expect(!ExtensionImage.isSigned(try config("[Output]\nFormat=sysext\n")))
        #expect(!ExtensionImage.isSigned(try config("[Output]\nFormat=sysext\n[Validation]\nVerity=no\n")))
        #expect(ExtensionImage.isSigned(try config("[Output]\nFormat=sysext\n[Validation]\nVerity=hash\n")))
    }

    @Test func extensionReleaseFields() throws {
        let osRelease = EnvFile.parse("NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"13\"\nSYSEXT_LEVEL=1.0\n")
        let plain = try config("[Output]\nFormat=sysext\n")
        #expect(ExtensionImage.releaseText(plain, osRelease: osRelease, existing: [], environment: [])
                == "ID=debian\nSYSEXT_LEVEL=1.0\nVERSION_ID=13\nSYSEXT_SCOPE=initrd system portable\nARCHITECTURE=x86-64\n")
        let named = try config("[Output]\nFormat=confext\nImageId=foo\nImageVersion=2\n")
        #expect(ExtensionImage.releaseText(named, osRelease: [], existing: [("ID", "fedora"), ("EXTRA", "x y")],
                                           environment: [("CONFEXT_SCOPE", "system")])
                == "ID=fedora\nEXTRA=x y\nCONFEXT_ID=foo\nCONFEXT_VERSION_ID=2\nCONFEXT_SCOPE=system\nARCHITECTURE=x86-64\n")
        // Without an os-release, ID is `_any`.
        #expect(ExtensionImage.releaseText(plain, osRelease: [], existing: [], environment: []).hasPrefix("ID=_any\n"))
    }

    @Test func envFiles() {
        let parsed = EnvFile.parse("# comment\n\nA=1\nB=\"two words\"\nC='single $x'\nD=\"esc \\\"q\\\" \\$v\"\nA=3\n  E = spaced \n")
        #expect(parsed.map(\.key) == ["A", "B", "C", "D", "E"])
        #expect(parsed.map(\.value) == ["3", "two words", "single $x", "esc \"q\" $v", "spaced"])
    }

    @Test func ociNamesAndTimes() {
        #expect(OCIImage.ociArchitecture(.x86_64) == "amd64" && OCIImage.ociArchitecture(.arm64) == "arm64")
        #expect(OCIImage.ociArchitecture(.x86) == "386" && OCIImage.ociArchitecture(.alpha) == nil)
        #expect(OCIImage.creationTime(0) == "1970-01-01T00:00:00+00:00")
        #expect(OCIImage.creationTime(1_700_000_000) == "2023-11-14T22:13:20+00:00")
        let now = OCIImage.creationTime(nil)
        #expect(now.count == "2026-12-02T04:00:00.123456+00:00".count && now.hasSuffix("+00:00"), "\(now)")
        #expect(OCIImage.dumps(.object([("a", .array([.int(1), .string("b")])), ("c", .object([]))])) == "{\"a\": [1, \"b\"], \"c\": {}}")
    }

    /// The checks before any image is built name the setting and where it was set.
    @Test func inputChecks() throws {
        func failure(_ c: Config) -> String? {
            do {
                try InputCheck.verify(InputCheck.plan([c], cwd: "/", defaultToolsTree: false).filter { !$0.isTool }, facts: HostInputFacts())
                return nil
            } catch let e as MkosiError { return e.message } catch { return "\(error)" }
        }
        let overlay = try #require(failure(try config("[Output]\nFormat=sysext\nOverlay=yes\n")))
        #expect(overlay.contains("Overlay=yes") && overlay.contains("mkosi.conf:3") && overlay.contains("BaseTrees="), "\(overlay)")
        let portable = try #require(failure(try config("[Output]\nFormat=portable\nOverlay=yes\n[Content]\nBaseTrees=/\n")))
        #expect(portable.contains("cannot be used with Format=portable"), "\(portable)")
        let signed = try #require(failure(try config("[Output]\nFormat=sysext\n[Validation]\nVerity=signed\n")))
        #expect(signed.contains("no verity key"), "\(signed)")
        let secureBoot = try #require(failure(try config("[Validation]\nSecureBoot=yes\n")))
        #expect(secureBoot.contains("SecureBoot=yes") && secureBoot.contains("no private key"), "\(secureBoot)")
        #expect(failure(try config("[Output]\nFormat=sysext\n")) == nil)
        let missing = try #require(failure(try config("[Validation]\nSecureBoot=yes\nSecureBootKey=/nonexistent.key\nSecureBootCertificate=/nonexistent.crt\n")))
        #expect(missing.contains("/nonexistent.key") && missing.contains("does not exist"), "\(missing)")
    }
}

struct ProfileSectionTests {
    @Test func profileSectionQuotesNonAlphanumericValues() {
        let section = UKIProfiles.section(OrderedDict([("ID", "profile1"), ("TITLE", "Profile One")]))
        #expect(section == "ID=profile1\nTITLE=\"Profile One\"\n")
    }
}
