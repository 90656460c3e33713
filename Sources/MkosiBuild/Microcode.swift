import Foundation
import MkosiConfig
import MkosiCore

/// The CPU microcode initrd of x86 images, as upstream makes it: an early cpio archive with
/// `kernel/x86/microcode/AuthenticAMD.bin` and `GenuineIntel.bin`, each the concatenation of the
/// image's `/usr/lib/firmware/amd-ucode/*` and `intel-ucode/*`; with `MicrocodeHost=` only the
/// file for the host's processor (from `/proc/cpuinfo`). Files a script put in
/// `$ARTIFACTDIR/io.mkosi.microcode/` are used instead. Every UKI and Type #1 entry of an x86
/// image gets it first (ukify's `--microcode` where ukify and the stub are systemd 256 or newer).
enum Microcode {
    /// The processor as `/proc/cpuinfo` describes it.
    struct CPU: Equatable {
        let vendor: String
        let family: Int
        let model: Int
        let stepping: Int
    }

    /// One file of the archive (`kernel/x86/microcode/<name>`) and what it is made of (paths
    /// relative to the image root, concatenated in this order).
    struct File: Equatable {
        let name: String
        let sources: [String]
    }

    /// Whether ukify gets the microcode as its own `.ucode` section (`--microcode`): when ukify
    /// and the stub are both systemd 256 or newer, as upstream; else it goes in as initrds.
    static func useSection(ukify: Int?, stub: Int?) -> Bool {
        (ukify ?? 0) >= 256 && (stub ?? 0) >= 256
    }

    /// The first processor of `cpuinfo` with a vendor, family, model and stepping.
    static func identify(_ cpuinfo: String) -> CPU? {
        for entry in cpuinfo.components(separatedBy: "\n\n") {
            var fields: [String: String] = [:]
            for line in entry.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let key = parts[0].trimmingCharacters(in: .whitespaces), value = parts[1].trimmingCharacters(in: .whitespaces)
                if !key.isEmpty && !value.isEmpty { fields[key] = value }
            }
            if let vendor = fields["vendor_id"], let family = fields["cpu family"].flatMap({ Int($0) }),
               let model = fields["model"].flatMap({ Int($0) }), let stepping = fields["stepping"].flatMap({ Int($0) }) {
                return CPU(vendor: vendor, family: family, model: model, stepping: stepping)
            }
        }
        return nil
    }

    /// The files of the archive for an image whose microcode directories hold `amd` and
    /// `intel` (file names; nil for a missing directory), or for `cpu` only (`MicrocodeHost=`).
    /// Empty when there is nothing to put in it.
    static func plan(amd: [String]?, intel: [String]?, cpu: CPU?, hostOnly: Bool) -> [File] {
        let amdDir = "usr/lib/firmware/amd-ucode", intelDir = "usr/lib/firmware/intel-ucode"
        guard amd != nil || intel != nil else { return [] }
        guard hostOnly else {
            var files: [File] = []
            if let amd { files.append(File(name: "AuthenticAMD.bin", sources: amd.sorted().map { "\(amdDir)/\($0)" })) }
            if let intel { files.append(File(name: "GenuineIntel.bin", sources: intel.sorted().map { "\(intelDir)/\($0)" })) }
            return files
        }
        guard let cpu else { return [] }
        func hex(_ n: Int) -> String { n < 16 ? "0" + String(n, radix: 16) : String(n, radix: 16) }
        let candidates: [String]
        switch cpu.vendor {
        case "AuthenticAMD":
            candidates = [cpu.family > 21 ? "microcode_amd_fam\(String(cpu.family, radix: 16))h.bin" : "microcode_amd.bin"]
                .filter { amd?.contains($0) == true }.map { "\(amdDir)/\($0)" }
        case "GenuineIntel":
            let base = "\(hex(cpu.family))-\(hex(cpu.model))-\(hex(cpu.stepping))"
            candidates = [base, base + ".initramfs"].filter { intel?.contains($0) == true }.map { "\(intelDir)/\($0)" }
        default:
            candidates = []
        }
        guard let first = candidates.first else { return [] }
        return [File(name: "\(cpu.vendor).bin", sources: [first])]
    }

    /// The microcode initrds of the image (none for other architectures): those in
    /// `$ARTIFACTDIR/io.mkosi.microcode/`, else `<workspace>/microcode.initrd`, made once.
    static func initrds(_ context: BuildContext) throws -> [String] {
        let config = context.config
        guard config.architecture.isX86 else { return [] }
        let artifacts = Path.join(context.artifacts, "io.mkosi.microcode")
        let provided = ((try? FS.listDirectory(artifacts)) ?? []).sorted()
        if !provided.isEmpty { return provided.map { Path.join(artifacts, $0) } }
        let output = context.workspace + "/microcode.initrd"
        if FS.exists(output) { return [output] }
        func regularFiles(_ dir: String) -> [String]? {
            let path = Path.join(context.root, dir)
            guard FS.isDirectory(path) else { return nil }
            return ((try? FS.listDirectory(path)) ?? []).filter { FS.isFile(Path.join(path, $0)) }
        }
        let amd = regularFiles("usr/lib/firmware/amd-ucode"), intel = regularFiles("usr/lib/firmware/intel-ucode")
        guard amd != nil || intel != nil else {
            Log.warningOnce("/usr/lib/firmware/{amd-ucode,intel-ucode} not found, not adding microcode")
            return []
        }
        let hostOnly = config[.microcodeHost]
        let cpu = hostOnly ? identify((try? FS.readText("/proc/cpuinfo")) ?? "") : nil
        let files = plan(amd: amd, intel: intel, cpu: cpu, hostOnly: hostOnly)
        guard !files.isEmpty else {
            Log.warningOnce("Unable to identify the host's CPU or find its microcode in the image (MicrocodeHost=): not adding microcode")
            return []
        }
        Log.info("Building the microcode initrd (\(files.map(\.name).joined(separator: ", ")))")
        let tree = context.workspace + "/microcode-root"
        FS.removeTree(tree)
        try FS.makeDirectories(tree + "/kernel/x86/microcode")
        for file in files {
            let target = tree + "/kernel/x86/microcode/" + file.name
            try HostCommand.run(["sh", "-c", "cat \"$@\" > \"$0\"", target] + file.sources.map { Path.join(context.root, $0) })
        }
        if let epoch = config[.sourceDateEpoch] {
            try HostCommand.run(["find", tree, "-exec", "touch", "--no-dereference", "--date=@\(epoch)", "{}", "+"])
        }
        var s = context.bareToolsSandbox()
        s.bind(context.workspace, "/work/ws")
        s.workingDirectory = "/work/ws/microcode-root"
        try context.run(["bash", "-e", "-o", "pipefail", "-c", "find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio --create --null --format=newc "
                            + "--reproducible --renumber-inodes --owner=0:0 --quiet > /work/ws/microcode.initrd.tmp"], in: s)
        try HostCommand.run(["mv", output + ".tmp", output])
        return [output]
    }
}
