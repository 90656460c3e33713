@testable import MkosiCommands
import MkosiCore
import Testing

/// `mkosi-initrd` and `mkosi-addon`: their options, and the mkosi command line they make from
/// the options and the host's facts (upstream's, setting for setting).
@Suite struct InitrdCommandTests {
    let kver = "6.1.0-31-amd64"
    var modules: String { "/usr/lib/modules/\(kver)" }

    func host(uid: UInt32 = 0, _ extra: [String] = []) -> InitrdHost {
        InitrdHost(uid: uid, existing: Set([modules, modules + "/modules.dep", "/usr/lib/firmware", "/etc/apt"] + extra))
    }

    @Test func defaultsAndOptionSpellings() throws {
        let d = try InitrdOptions.parse(.initrd, [], kernelVersion: "running")
        #expect(d.output == "initrd" && d.format == "cpio" && d.kernelVersion == "running" && d.outputDirectory == nil)
        #expect(try InitrdOptions.parse(.addon, [], kernelVersion: "r").output == "mkosi-local.addon.efi")
        let o = try InitrdOptions.parse(.initrd, ["-k", kver, "-tuki", "--output=x.efi", "-O", "out", "-g", "--profile", "network",
                                                  "--profile=raid", "--kernel-image", "/boot/vmlinuz", "--debug", "-S"],
                                        kernelVersion: "r")
        #expect(o.kernelVersion == kver && o.format == "uki" && o.output == "x.efi" && o.outputDirectory == "out")
        #expect(o.generic && o.profiles == ["network", "raid"] && o.kernelImage == "/boot/vmlinuz" && o.debug && o.showSummary)
        #expect(try InitrdOptions.parse(.initrd, ["-D"], kernelVersion: "r").showDocumentation)
        #expect(try InitrdOptions.parse(.addon, ["--version"], kernelVersion: "r").version)
        #expect(try InitrdOptions.parse(.addon, ["-h"], kernelVersion: "r").help)
    }

    @Test func badOptionsAreUsageErrorsNamingThem() {
        let cases: [(InitrdOptions.Tool, [String], String)] = [
            (.initrd, ["--format", "disk"], "invalid choice: 'disk'"), (.initrd, ["--profile", "x"], "--profile"),
            (.initrd, ["--kernel-versio", "1"], "--kernel-versio"), (.initrd, ["-o"], "expected one argument"),
            (.addon, ["--generic"], "--generic"), (.addon, ["-t", "cpio"], "-t"), (.initrd, ["stray"], "stray"),
            (.initrd, ["--debug=yes"], "--debug"), (.initrd, ["-o", "a/b"], "a/b"),
        ]
        for (tool, argv, word) in cases {
            do {
                _ = try InitrdOptions.parse(tool, argv, kernelVersion: "r")
                Issue.record("\(argv) was accepted")
            } catch {
                #expect(error.code == .usage && error.message.contains(word), "\(error.message)")
            }
        }
    }

    @Test func initrdMapsOntoUpstreamsMkosiCommandLine() throws {
        let o = try InitrdOptions.parse(.initrd, ["-k", kver], kernelVersion: "r")
        let plan = try InitrdPlan.make(o, host: host(), staging: "/s", sandboxTree: "/t")
        #expect(plan.arguments == [
            "--force", "--directory=", "--format=cpio", "--output=initrd", "--output-directory=/s",
            "--extra-tree=\(modules):\(modules)", "--extra-tree=/usr/lib/firmware:/usr/lib/firmware",
            "--remove-files=/usr/lib/firmware/*-ucode", "--build-sources=", "--include=mkosi-initrd", "--kernel-modules=host",
            "--package-cache-dir=/var", "--cache-only=metadata", "--output-mode=600", "--sandbox-tree=/t",
        ])
        #expect(plan.emptyFiles.contains("etc/apt/sources.list.d/mkosi.sources") && plan.copies == ["apt"])
        #expect(plan.finalize && plan.crypttab == nil)
    }

    @Test func initrdOptionsAndHostFilesAddTheirSettings() throws {
        let o = try InitrdOptions.parse(.initrd, ["-k", kver, "-g", "-t", "directory", "--profile", "network", "--profile", "lvm",
                                                  "--kernel-image", "/k", "--debug-shell", "-S"], kernelVersion: "r")
        let h = host(uid: 1000, ["/etc/systemd/network", "/etc/idmapd.conf", "/etc/mkosi-initrd", "/usr/lib/mkosi-initrd",
                                 "/etc/vconsole.conf", "/etc/cryptsetup-keys.d/root.key"])
        var withFiles = h
        withFiles.kernelCommandLine = "quiet rw\n"
        withFiles.crypttab = "# c\nroot /dev/sda2 none luks,x-initrd.attach\nhome /dev/sda3 none luks\n"
        withFiles.weakModules = ["/usr/lib/modules/other/extra/a.ko"]
        let a = try InitrdPlan.make(o, host: withFiles, staging: "/s", sandboxTree: "/t")
        #expect(!a.arguments.contains("--kernel-modules=host"), "--generic")
        #expect(a.arguments.contains("--format=directory"))
        #expect(a.arguments.contains("--extra-tree=/usr/lib/modules/other/extra/a.ko:/usr/lib/modules/other/extra/a.ko"))
        #expect(a.arguments.joined(separator: " ").contains("--profile network --extra-tree=/etc/systemd/network:/etc/systemd/network --profile lvm"))
        #expect(!a.arguments.contains("--extra-tree=/etc/idmapd.conf:/etc/idmapd.conf"), "only with the nfs profile")
        #expect(a.arguments.contains("--extra-tree=/k:\(modules)/vmlinuz") && a.arguments.contains("--debug-shell"))
        #expect(!a.arguments.contains("--package-cache-dir=/var") && !a.arguments.contains("--output-mode=600"), "not root")
        #expect(a.arguments.joined(separator: " ").contains("--include /usr/lib/mkosi-initrd --include /etc/mkosi-initrd"))
        #expect(a.crypttab == "# Automatically generated by mkosi-initrd\nroot /dev/sda2 none luks,x-initrd.attach")
        #expect(a.arguments.joined(separator: " ").contains(
            "--extra-tree /s/crypttab:/etc/crypttab --extra-tree /etc/cryptsetup-keys.d/root.key:/etc/cryptsetup-keys.d/root.key"))
        #expect(a.arguments.joined(separator: "|").contains("--kernel-command-line|quiet rw\n|--extra-tree=/etc/vconsole.conf:/etc/vconsole.conf|summary"))
        #expect(a.arguments.last == "summary" && !a.finalize)
    }

    @Test func initrdRefusesAKernelWithoutModules() throws {
        let o = try InitrdOptions.parse(.initrd, ["-k", "9.9"], kernelVersion: "r")
        #expect(throws: MkosiError.self) { try InitrdPlan.make(o, host: host(), staging: "/s", sandboxTree: "/t") }
        let missingDep = InitrdHost(uid: 0, existing: [modules])
        do {
            _ = try InitrdPlan.make(try InitrdOptions.parse(.initrd, ["-k", kver], kernelVersion: "r"), host: missingDep, staging: "/s", sandboxTree: "/t")
            Issue.record("a module directory without modules.dep was accepted")
        } catch {
            #expect(error.message == "Invalid kernel directory: \(modules)")
        }
    }

    @Test func addonMapsOntoUpstreamsMkosiCommandLine() throws {
        let o = try InitrdOptions.parse(.addon, ["--kernel-version", kver, "-o", "local.addon.efi", "--debug"], kernelVersion: "r")
        var h = InitrdHost(uid: 0, existing: ["/etc/mkosi-addon"], kernelCommandLine: "console=ttyS0")
        h.crypttab = "swap /dev/sdb none swap,x-initrd.attach\n"
        let plan = try InitrdPlan.make(o, host: h, staging: "/s", sandboxTree: "")
        #expect(plan.arguments == [
            "--force", "--directory", "", "--output", "local.addon.efi", "--output-directory", "/s", "--build-sources", "",
            "--include=mkosi-addon", "--extra-tree", "\(modules):\(modules)", "--debug", "--output-mode=600",
            "--include", "/etc/mkosi-addon", "--extra-tree", "/s/crypttab:/etc/crypttab", "--kernel-command-line", "console=ttyS0",
        ])
        #expect(plan.emptyFiles.isEmpty && plan.copies.isEmpty)
    }

    @Test func companionNamesComeFromTheProgramsBaseName() {
        #expect(Companions.named("/usr/bin/mkosi-initrd") == "mkosi-initrd")
        #expect(Companions.named("mkosi-sandbox") == "mkosi-sandbox")
        #expect(Companions.named("/x/mkosi-addon") == "mkosi-addon")
        #expect(Companions.named("/usr/bin/mkosi") == nil)
        #expect(Companions.named("mkosi-initrd2") == nil)
    }
}
