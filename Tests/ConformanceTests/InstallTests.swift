import Foundation
import TestSupport
import Testing

/// `make install` (with the debug build as the binary, so that the suite needs no release build)
/// and the kernel-install plugins it installs.
@Suite struct InstallTests {
    let mkosi = Binary.locate()

    static var repository: String {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        return root.path
    }

    final class Scratch {
        let path: String
        init() throws {
            path = "/tmp/mkosi-install-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// `make install DESTDIR=<scratch> PREFIX=/usr` with the debug build; the scratch root and
    /// the make command line (for `uninstall`).
    func install() throws -> (Scratch, [String]) {
        let scratch = try Scratch()
        let make = ["make", "-C", Self.repository, "DESTDIR=\(scratch.path)", "PREFIX=/usr", "BIN=\(mkosi)"]
        let r = try Shell.run(make + ["install"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        return (scratch, make)
    }

    /// `man -l` renders the page without warnings.
    func expectManPageRenders(_ root: String, _ page: String) throws {
        let path = root + "/usr/share/man/man1/\(page).1"
        let man = try Shell.run(["man", "-l", path], environment: ["PATH": "/usr/bin:/bin", "MANPAGER": "cat", "MANWIDTH": "80"])
        #expect(man.status == 0 && man.stdout.contains("NAME") && man.stdout.contains(page), "\(page): \(man.stderr)")
        #expect(!man.stderr.contains("warning"), "\(page): \(man.stderr)")
    }

    /// Everything lands in its standard place under PREFIX; the binary is stripped, the man page
    /// renders, the completions load; `make uninstall` takes it all away again.
    @Test func makeInstallPutsEverythingInPlaceAndUninstallRemovesIt() throws {
        let (scratch, make) = try install()
        let root = scratch.path

        let bin = root + "/usr/bin/mkosi"
        #expect(FileManager.default.isExecutableFile(atPath: bin))
        let file = try Shell.run(["file", "-b", bin]).stdout
        #expect(file.contains("ELF") && file.contains(", stripped"), "\(file)")
        let version = try Shell.run([bin, "--version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("mkosi ") && version.stdout.contains(" (mkosi-swift, commit "),
                "\(version.stdout)\(version.stderr)")
        for companion in ["mkosi-initrd", "mkosi-sandbox", "mkosi-addon"] {
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/usr/bin/" + companion)) == "mkosi", "\(companion)")
        }

        let bash = root + "/usr/share/bash-completion/completions/mkosi"
        let loaded = try Shell.run(["bash", "-c", "source \"$1\" && complete -p mkosi", "bash", bash])
        #expect(loaded.status == 0 && loaded.stdout.contains("mkosi"), "\(loaded.stdout)\(loaded.stderr)")
        let zsh = try String(contentsOfFile: root + "/usr/share/zsh/site-functions/_mkosi", encoding: .utf8)
        #expect(zsh.hasPrefix("#compdef mkosi\n"))
        let fish = try String(contentsOfFile: root + "/usr/share/fish/vendor_completions.d/mkosi.fish", encoding: .utf8)
        #expect(fish.contains("complete -c mkosi "))

        try expectManPageRenders(root, "mkosi")

        for plugin in ["50-mkosi.install", "51-mkosi-addon.install"] {
            #expect(FileManager.default.isExecutableFile(atPath: root + "/usr/lib/kernel/install.d/" + plugin), "\(plugin)")
        }

        let u = try Shell.run(make + ["uninstall"])
        #expect(u.status == 0, "\(u.stderr)")
        let left = try Shell.run(["find", root, "-not", "-type", "d"]).stdout
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// The installed companions are the binary called by their names (helper H's dispatch on
    /// argv[0]) and have man pages (their manuals in Resources/docs).
    @Test func installedCompanionsRunAndHaveManPages() throws {
        let (scratch, _) = try install()
        for companion in ["mkosi-initrd", "mkosi-sandbox", "mkosi-addon"] {
            let help = try Shell.run([scratch.path + "/usr/bin/" + companion, "--help"])
            let usage = help.stdout.split(separator: "\n").first.map(String.init) ?? ""
            #expect(help.status == 0 && usage.contains("\(companion) ["), "\(companion): \(help.stdout.prefix(200))\(help.stderr)")
            try expectManPageRenders(scratch.path, companion)
        }
    }

    // MARK: kernel-install plugins

    /// A directory with stand-ins for mkosi-initrd and mkosi-addon that record their arguments
    /// (one per line) in `calls`, and fail when `fail` exists.
    final class FakeTools {
        let scratch: Scratch
        var dir: String { scratch.path }
        var calls: String { dir + "/calls" }
        var staging: String { dir + "/staging" }

        init() throws {
            scratch = try Scratch()
            try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            for tool in ["mkosi-initrd", "mkosi-addon"] {
                let script = "#!/bin/sh\n{ echo \(tool); printf '%s\\n' \"$@\"; } >>'\(calls)'\n[ ! -e '\(dir)/fail' ]\n"
                try script.write(toFile: dir + "/bin/" + tool, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir + "/bin/" + tool)
            }
        }

        /// The calls so far, each as the tool's name followed by its arguments.
        func recorded() -> [[String]] {
            guard let text = try? String(contentsOfFile: calls, encoding: .utf8) else { return [] }
            var result: [[String]] = []
            for line in text.split(separator: "\n").map(String.init) {
                if line == "mkosi-initrd" || line == "mkosi-addon" { result.append([line]) } else { result[result.count - 1].append(line) }
            }
            try? FileManager.default.removeItem(atPath: calls)
            return result
        }

        /// Runs `plugin` as kernel-install does, with kernel-install's variables: `layout`,
        /// `imageType`, the generators, verbosity; `prefix` runs it through another command
        /// (`unshare …`).
        func run(_ plugin: String, _ args: [String], layout: String? = "bls", imageType: String? = "pe",
                 initrdGenerator: String? = nil, ukiGenerator: String? = nil, verbose: Bool = false,
                 prefix: [String] = []) throws -> Shell.Result {
            var env = ["PATH": dir + "/bin:/usr/sbin:/usr/bin:/sbin:/bin", "KERNEL_INSTALL_STAGING_AREA": staging]
            env["KERNEL_INSTALL_LAYOUT"] = layout
            env["KERNEL_INSTALL_IMAGE_TYPE"] = imageType
            env["KERNEL_INSTALL_INITRD_GENERATOR"] = initrdGenerator
            env["KERNEL_INSTALL_UKI_GENERATOR"] = ukiGenerator
            if verbose { env["KERNEL_INSTALL_VERBOSE"] = "1" }
            let path = InstallTests.repository + "/kernel-install/" + plugin
            return try Shell.run(prefix + [path] + args, environment: env)
        }
    }

    static let kernelArgs = ["add", "6.12.0-1-amd64", "/boot/efi/abc/6.12.0-1-amd64", "/boot/vmlinuz-6.12.0-1-amd64"]

    /// 50-mkosi.install calls mkosi-initrd as upstream's does, only when kernel-install's
    /// configuration asks for mkosi, and passes its failure on.
    @Test func initrdPluginCallsMkosiInitrdWhenAskedTo() throws {
        let fake = try FakeTools()
        let plugin = "50-mkosi.install"
        let args = Self.kernelArgs

        var r = try fake.run(plugin, args, initrdGenerator: "mkosi-initrd", verbose: true)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(fake.recorded() == [["mkosi-initrd", "--kernel-version", "6.12.0-1-amd64", "--format", "cpio", "--output", "initrd",
                                     "--output-dir", fake.staging, "--kernel-image", "/boot/vmlinuz-6.12.0-1-amd64", "--debug"]])
        #expect(r.stderr.contains("Building initrd"), "\(r.stderr)")

        r = try fake.run(plugin, args, layout: "uki", ukiGenerator: "mkosi")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(fake.recorded() == [["mkosi-initrd", "--kernel-version", "6.12.0-1-amd64", "--format", "uki", "--output", "uki.efi",
                                     "--output-dir", fake.staging, "--kernel-image", "/boot/vmlinuz-6.12.0-1-amd64"]])
        #expect(r.stderr.isEmpty, "quiet unless kernel-install is verbose: \(r.stderr)")

        // The UKI layout with only initrd_generator=mkosi: an initrd, even with initrds given.
        r = try fake.run(plugin, args + ["/boot/extra.img"], layout: "uki", initrdGenerator: "mkosi")
        #expect(r.status == 0 && fake.recorded().first?.contains("initrd") == true, "\(r.stderr)")

        // Nothing to do: not asked for, not "add", a UKI already, initrds given.
        for (arguments, layout, type, generator) in [(args, "bls", "pe", nil), (args, "bls", "pe", "dracut"),
                                                     (["remove", "6.12.0-1-amd64"], "bls", "pe", "mkosi"),
                                                     (args, "uki", "uki", "mkosi"), (args + ["/boot/initrd.img"], "bls", "pe", "mkosi")] {
            r = try fake.run(plugin, arguments, layout: layout, imageType: type, initrdGenerator: generator, verbose: true)
            #expect(r.status == 0, "\(arguments) \(r.stderr)")
            #expect(fake.recorded().isEmpty, "\(arguments) \(layout) \(type) \(generator ?? "-")")
            #expect(r.stderr.contains("skipping"), "\(r.stderr)")
        }

        r = try fake.run(plugin, args, layout: nil, initrdGenerator: "mkosi")
        #expect(r.status == 1 && r.stderr.contains("$KERNEL_INSTALL_LAYOUT must be set"), "\(r.stderr)")
        #expect(fake.recorded().isEmpty)

        _ = FileManager.default.createFile(atPath: fake.dir + "/fail", contents: nil)
        r = try fake.run(plugin, args, initrdGenerator: "mkosi")
        #expect(r.status != 0, "a failing mkosi-initrd fails the plugin")
    }

    /// With the CPU's microcode installed, 50-mkosi.install adds an early microcode initrd
    /// (`microcode` in the staging area, picked up before `initrd`) holding it at the path the
    /// kernel's loader reads. Root: /proc/cpuinfo and /usr/lib/firmware are replaced in a mount
    /// namespace of the plugin's own.
    @Test(.enabled(if: getuid() == 0, "needs root for a mount namespace"))
    func initrdPluginAddsTheCPUsMicrocode() throws {
        let fake = try FakeTools()
        try "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 140\nmodel name\t: Some CPU: fast\nstepping\t: 1\n\nprocessor\t: 1\n"
            .write(toFile: fake.dir + "/cpuinfo", atomically: true, encoding: .utf8)
        let setup = "mount --bind \"$0/cpuinfo\" /proc/cpuinfo && mount -t tmpfs tmpfs /usr/lib/firmware && "
            + "mkdir /usr/lib/firmware/intel-ucode && echo microcode-bytes >/usr/lib/firmware/intel-ucode/06-8c-01 && exec \"$@\""
        let r = try fake.run("50-mkosi.install", Self.kernelArgs, initrdGenerator: "mkosi",
                             prefix: ["unshare", "--mount", "sh", "-c", setup, fake.dir])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(fake.recorded().count == 1)
        let list = try Shell.run(["sh", "-c", "cpio -i --list --verbose --quiet <\"$0\"", fake.staging + "/microcode"])
        #expect(list.stdout.contains("kernel/x86/microcode/GenuineIntel.bin"), "\(list.stdout)\(list.stderr)")
        #expect(list.stdout.contains("root"), "owned by root: \(list.stdout)")
        let content = try Shell.run(["sh", "-c", "cd \"$1\" && cpio -i --quiet --to-stdout kernel/x86/microcode/GenuineIntel.bin <\"$0\"",
                                     fake.staging + "/microcode", fake.dir])
        #expect(content.stdout == "microcode-bytes\n")
    }

    /// 51-mkosi-addon.install calls mkosi-addon only for a UKI being added with the UKI layout
    /// and only with local configuration in /etc/mkosi-addon or /run/mkosi-addon (root: /run
    /// is replaced in a mount namespace of the plugin's own).
    @Test(.enabled(if: getuid() == 0, "needs root for a mount namespace"))
    func addonPluginCallsMkosiAddonForAUKIWithLocalConfiguration() throws {
        let fake = try FakeTools()
        let plugin = "51-mkosi-addon.install"
        let withConfiguration = ["unshare", "--mount", "sh", "-c", "mount -t tmpfs tmpfs /run && mkdir /run/mkosi-addon && exec \"$@\"", "sh"]
        let withoutConfiguration = ["unshare", "--mount", "sh", "-c", "mount -t tmpfs tmpfs /run && exec \"$@\"", "sh"]

        var r = try fake.run(plugin, Self.kernelArgs, layout: "uki", imageType: "uki", verbose: true, prefix: withConfiguration)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(fake.recorded() == [["mkosi-addon", "--output", "mkosi-local.addon.efi", "--output-dir",
                                     fake.staging + "/uki.efi.extra.d", "--debug"]])

        for (layout, type, prefix) in [("bls", "uki", withConfiguration), ("uki", "pe", withConfiguration)] {
            r = try fake.run(plugin, Self.kernelArgs, layout: layout, imageType: type, verbose: true, prefix: prefix)
            #expect(r.status == 0 && r.stderr.contains("skipping"), "\(r.stderr)")
            #expect(fake.recorded().isEmpty, "\(layout) \(type)")
        }
        if !FileManager.default.fileExists(atPath: "/etc/mkosi-addon") {
            r = try fake.run(plugin, Self.kernelArgs, layout: "uki", imageType: "uki", verbose: true, prefix: withoutConfiguration)
            #expect(r.status == 0 && r.stderr.contains("No local configuration"), "\(r.stderr)")
            #expect(fake.recorded().isEmpty)
        }
    }
}
