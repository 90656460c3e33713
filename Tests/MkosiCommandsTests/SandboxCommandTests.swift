import MkosiCore
@testable import MkosiSandbox
import Testing

/// `mkosi-sandbox`'s command line: upstream's options, their order, refusals, and the helper's
/// arguments they become.
@Suite struct SandboxCommandTests {
    func parse(_ argv: [String], cwd: String = "/work") throws(MkosiError) -> SandboxInvocation {
        try SandboxCommand.parse(argv, cwd: cwd)
    }

    @Test func optionsBecomeOperationsAndTheCommandFollows() throws {
        let inv = try parse(["--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--dev", "/dev", "--tmpfs", "tmp",
                             "--setenv", "A", "1", "--unsetenv", "B", "--chdir", "sub/../x", "--become-root", "id", "-u"])
        #expect(inv.command == ["id", "-u"])
        #expect(inv.becomeRoot)
        #expect(inv.workingDirectory == "/work/x")
        #expect(inv.setenv == [.init(name: "A", value: "1")])
        #expect(inv.unsetenv == ["B"])
        // Sorted by destination; relative destinations made absolute against the directory.
        #expect(inv.operations == [.symlink(target: "usr/bin", path: "/bin"), .dev("/dev"),
                                   .bind(source: "/usr", target: "/usr", readOnly: true, required: true, relative: false),
                                   .tmpfs("/work/tmp")])
    }

    @Test func withoutACommandBashRunsAndDoubleDashEndsOptions() throws {
        #expect(try parse(["--bind", "/", "/"]).command == ["bash"])
        #expect(try parse(["--", "--tmpfs"]).command == ["--tmpfs"])
        #expect(try parse(["--same-dir", "--", "true"], cwd: "/srv").workingDirectory == "/srv")
    }

    @Test func bindsOverrideOtherOperationsOnTheSameDestinationAndRelativeBindsGoLast() throws {
        let inv = try parse(["--bind", "+/a", "/b", "--bind", "/x", "/tmp", "--tmpfs", "/tmp", "--dir", "/"])
        #expect(inv.operations == [.directory("/"), .tmpfs("/tmp"),
                                   .bind(source: "/x", target: "/tmp", readOnly: false, required: true, relative: false),
                                   .bind(source: "/a", target: "/b", readOnly: false, required: true, relative: true)])
    }

    @Test func bindsCoveredByAnotherBindAreDropped() throws {
        let inv = try parse(["--bind", "/", "/", "--bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--bind", "/usr", "/usr"])
        #expect(inv.operations == [.bind(source: "/", target: "/", readOnly: false, required: true, relative: false),
                                   .bind(source: "/etc", target: "/etc", readOnly: true, required: true, relative: false)])
    }

    @Test func overlayOptionsApplyToTheNextOverlayOnly() throws {
        let inv = try parse(["--overlay-lowerdir", "/l1", "--overlay-lowerdir", "/l2", "--overlay-upperdir", "tmpfs", "--overlay", "/o",
                             "--overlay-lowerdir", "/l3", "--overlay", "/p"])
        #expect(inv.operations == [.overlay(lower: ["/l1", "/l2"], upper: "tmpfs", work: "", target: "/o"),
                                   .overlay(lower: ["/l3"], upper: "", work: "", target: "/p")])
        #expect(throws: MkosiError.self) { try parse(["--overlay", "/o"]) }
    }

    @Test func helpVersionAndErrorsNameTheOption() throws {
        #expect(try parse(["--tmpfs", "/t", "--help"]).action == .help)
        #expect(try parse(["-h"]).action == .help)
        #expect(try parse(["--version"]).action == .version)
        for (argv, word) in [(["--bogus"], "--bogus"), (["--bind", "/a"], "--bind"), (["--bind-foreign", "/a", "/b"], "--bind-foreign"),
                             (["--map-foreign"], "--map-foreign"), (["--map-delegate", "1"], "--map-delegate"),
                             (["--ro-bind-nofollow", "/a", "/b"], "--ro-bind-nofollow")] {
            do {
                _ = try parse(argv)
                Issue.record("\(argv) was accepted")
            } catch {
                #expect(error.code == .usage && error.message.contains(word), "\(error.message)")
            }
        }
    }

    @Test func helperArgumentsAsRootAndAsARegularUser() throws {
        let inv = try parse(["--ro-bind", "/", "/", "--bind-try", "+/x", "/y", "--write", "hi", "/f", "--become-root",
                             "--suppress-chown", "--suppress-sync", "--unshare-net", "--unshare-ipc", "--pack-fds", "--debug",
                             "--setenv", "K", "V", "--", "true"])
        let asRoot = SandboxCommand.helperArguments(inv, privileged: true, singleUser: false)
        #expect(asRoot == ["--unshare-net", "--unshare-ipc", "--suppress-sync", "--pack-fds", "--debug",
                           "--ro-bind", "/", "/", "--write", "hi", "/f", "--bind-try", "+/x", "/y",
                           "--setenv", "K", "V", "--", "true"])
        let asUser = SandboxCommand.helperArguments(inv, privileged: false, singleUser: false)
        #expect(asUser.prefix(2) == ["--userns", "--unshare-net"] && asUser.contains("--suppress-chown"))
        var plain = inv
        plain.becomeRoot = false
        #expect(SandboxCommand.helperArguments(plain, privileged: false, singleUser: false).first == "--identity")
        #expect(SandboxCommand.helperArguments(inv, privileged: true, singleUser: true).contains("--suppress-chown"))
    }
}
