import Foundation
import MkosiConfig
import MkosiCore
import Testing
@testable import MkosiBuild

/// `SELinuxRelabel=`: which policy relabels an image, and when it is an error.
@Suite struct SELinuxTests {
    /// An image root with an `/etc/selinux/config` naming `default`, its file contexts and the
    /// binary policies `versions`.
    final class Root {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-selinux-\(UUID().uuidString)").path
        init(config: String? = "SELINUX=permissive\nSELINUXTYPE=default\n", contexts: Bool = true, versions: [String] = ["policy.33"]) throws {
            let fm = FileManager.default
            try fm.createDirectory(atPath: dir + "/etc/selinux/default/policy", withIntermediateDirectories: true)
            if let config { try config.write(toFile: dir + "/etc/selinux/config", atomically: true, encoding: .utf8) }
            if contexts {
                try fm.createDirectory(atPath: dir + "/etc/selinux/default/contexts/files", withIntermediateDirectories: true)
                #expect(fm.createFile(atPath: dir + "/etc/selinux/default/contexts/files/file_contexts", contents: Data()))
            }
            for v in versions { #expect(fm.createFile(atPath: dir + "/etc/selinux/default/policy/" + v, contents: Data())) }
        }
        deinit { try? FileManager.default.removeItem(atPath: dir) }
    }

    func config(_ relabel: String, format: String = "disk") throws -> Config {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-selinux-conf-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "[Distribution]\nDistribution=debian\n[Output]\nFormat=\(format)\n[Content]\nSELinuxRelabel=\(relabel)\n"
            .write(toFile: dir + "/mkosi.conf", atomically: true, encoding: .utf8)
        return try #require(try ConfigLoader.load(["build"], cwd: dir, resources: BuiltinResources()).main)
    }

    @Test func theConfiguredPolicyAndItsNewestBinaryAreUsed() throws {
        let root = try Root(versions: ["policy.31", "policy.33", "policy.old"])
        let policy = try SELinux.policy(try config("yes"), root: root.dir).get()
        #expect(policy == SELinux.Policy(name: "default", fileContexts: "/etc/selinux/default/contexts/files/file_contexts",
                                         binaryPolicy: "/etc/selinux/default/policy/policy.33"))
    }

    @Test func autoSkipsDirectoriesAndNoNeverRelabels() throws {
        let root = try Root()
        #expect(SELinux.policy(try config("auto", format: "directory"), root: root.dir) == .failure(.notWanted))
        #expect(SELinux.policy(try config("no"), root: root.dir) == .failure(.notWanted))
        #expect((try? SELinux.policy(try config("auto"), root: root.dir).get()) != nil)
        #expect((try? SELinux.policy(try config("yes", format: "directory"), root: root.dir).get()) != nil)
    }

    @Test func whatIsMissingIsSaid() throws {
        func missing(_ root: Root) throws -> String? {
            if case .failure(.missing(let why)) = SELinux.policy(try config("yes"), root: root.dir) { return why }
            return nil
        }
        #expect(try missing(Root(config: nil)) == "could not find selinux config at /etc/selinux/config")
        #expect(try missing(Root(config: "SELINUX=disabled\n")) == "no selinux policy is configured in /etc/selinux/config")
        #expect(try missing(Root(contexts: false))?.contains("file contexts not found") == true)
        #expect(try missing(Root(versions: [])) == "SELinux binary policy not found in /etc/selinux/default/policy")
    }

    @Test func selinuxTypeIsReadAsTheShellWould() {
        #expect(SELinux.selinuxType("# SELINUXTYPE=x\nSELINUXTYPE=\"targeted\"\n") == "targeted")
        #expect(SELinux.selinuxType("SELINUXTYPE=a\nSELINUXTYPE=default # the Debian policy\n") == "default")
        #expect(SELinux.selinuxType("SELINUX=enforcing\n") == nil)
    }

    /// `yes` needs setfiles in the tools, checked before any work.
    @Test func yesNeedsSetfilesBeforeAnyWork() throws {
        let needs = InputCheck.tools(try config("yes")).map(\.name)
        #expect(needs.contains("setfiles"))
        #expect(!InputCheck.tools(try config("auto")).map(\.name).contains("setfiles"))
    }
}
