#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox
import MkosiGPT
import MkosiVM

/// `mkosi burn DEVICE`: writes a disk or ESP image to a block device (or an image file) with
/// `systemd-repart --empty=force --copy-from=`, as upstream, so the partition table is made
/// anew for the medium's size; the disk keeps the image's GUID, so a medium of the image's size
/// ends up byte for byte the image. A device that is mounted (itself or one of its partitions) is
/// refused before anything is written.
enum BurnCommand {
    static func run(_ runtime: RuntimeContext, arguments: [String]) throws -> Int32 {
        let main = runtime.config
        guard main.format == .disk || main.format == .esp else {
            throw MkosiError(.unsupported, "\(main.format.rawValue) images cannot be burned to disk",
                             hint: "'burn' writes Format=disk and Format=esp images")
        }
        guard let target = arguments.first else {
            throw MkosiError.usage("Please specify a device to burn the image to", hint: "For example /dev/disk/by-id/usb-foobar")
        }
        guard arguments.count == 1 else { throw MkosiError.usage("Expected one device argument, got \(arguments.count)") }
        let image = try runtime.builtOutput()
        let device = Path.isAbsolute(target) ? target : Path.join(runtime.cwd, target)
        let status = FS.stat(device)
        if status?.isBlockDevice ?? false {
            try runtime.requireRoot("writes to the block device \(device)")
            if let mount = try mountedPartition(of: device) {
                throw MkosiError(.busy, "\(device) is in use: \(mount) is mounted",
                                 hint: "Unmount it first (nothing was written)")
            }
        } else if status == nil || !(status?.isRegular ?? false) {
            throw MkosiError.usage("\(device) is neither a block device nor an image file",
                             hint: "Name a block device (e.g. /dev/sdb) or an existing file to burn into")
        }
        var s = try runtime.toolsSandbox(devices: true)
        s.bind(image, "/work/image.raw", readOnly: true)
        s.bind(device, "/work/target")
        let argv = ["systemd-repart", "--no-pager", "--pretty=no", "--offline=yes", "--empty=force", "--dry-run=no",
                    "--definitions=/", "--copy-from=/work/image.raw", "/work/target"]
        Log.info("Burning 🔥🔥🔥 to medium…")
        try runtime.runner.run(argv, in: s,
                               display: Array(argv.dropLast(2)) + ["--copy-from=\(image)", device])
        // repart gives the medium a new disk GUID; it keeps the image's, as a copy would.
        try GPTHeader.setDiskGUID(device, try GPTHeader.diskGUID(image))
        Log.info("Burnt. 🔥🔥🔥")
        return 0
    }

    /// A mount whose source is `device` or one of its partitions (by device number, so
    /// symlinks like /dev/disk/by-id/… count), from /proc/self/mountinfo.
    static func mountedPartition(of device: String) throws -> String? {
        let name = Path.basename(Path.resolve(device, cwd: "/"))
        var numbers: Set<String> = []
        func number(_ sysfs: String) -> String? {
            (try? FS.readText(sysfs + "/dev")).map { $0.split(separator: "\n").first.map(String.init) ?? "" }
        }
        let block = "/sys/class/block/\(name)"
        if let n = number(block) { numbers.insert(n) }
        for entry in (try? FS.listDirectory(block)) ?? [] where entry.hasPrefix(name) {
            if let n = number(block + "/" + entry) { numbers.insert(n) }
        }
        for line in try FS.readText("/proc/self/mountinfo").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { continue }
            if numbers.contains(String(fields[2])) { return "\(fields[4])" }
        }
        return nil
    }
}
