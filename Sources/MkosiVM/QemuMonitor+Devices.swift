import MkosiConfig

/// The pieces of qemu's command line that follow from settings alone, as upstream builds them.
/// Pure, so that each can be checked without starting anything.
extension QemuMonitor {
    /// `-m`: `RAM=`, and `MaxMem=` as `maxmem=` (memory hotplug) when set.
    static func memoryArgument(ram: Int, maxMem: Int) -> String {
        var memory = "\(ram >> 20)M"
        if maxMem > 0 { memory += ",maxmem=\(maxMem >> 20)M" }
        return memory
    }

    /// `-machine`: q35 (virt on arm64); SMM only for UEFI, on with Secure Boot; the memfd backend
    /// virtiofsd needs; `CXL=` where the machine has it; no HPET on x86.
    static func machineArgument(arm: Bool, uefi: Bool, secureBoot: Bool, sharedMemory: Bool, cxl: Bool) -> String {
        var machine = "type=\(arm ? "virt" : "q35")"
        if uefi && !arm { machine += secureBoot ? ",smm=on" : ",smm=off" }
        if sharedMemory { machine += ",memory-backend=mem" }
        if cxl { machine += ",cxl=on" }
        if !arm { machine += ",hpet=off" }
        return machine
    }

    /// The image's disk (`/work/image` in the sandbox) on the bus of `DiskType=`; `Removable=`
    /// puts it on virtio-scsi (unless it is a CD) as a removable device. Direct I/O only when the
    /// size is a multiple of the page size, flushes skipped for `Ephemeral=` copies.
    static func rootDiskArguments(diskType: DiskType, removable: Bool, size: UInt64, pageSize: UInt64,
                                         ephemeral: Bool) -> [String] {
        var type = diskType
        if removable && type != .virtioScsi && type != .scsiCD { type = .virtioScsi }
        var argv: [String] = []
        if type == .virtioScsi || type == .scsiCD { argv += ["-device", "virtio-scsi-pci,id=mkosi"] }
        let blockdev = ["driver=raw", "node-name=mkosi", "discard=unmap", "file.driver=file", "file.filename=/work/image",
                        "file.aio=threads", "cache.direct=\(size % pageSize == 0 ? "on" : "off")",
                        "cache.no-flush=\(ephemeral ? "on" : "off")"]
        var device: String
        switch type {
        case .virtioBlk: device = "virtio-blk-pci"
        case .virtioScsi: device = "scsi-hd" + (removable ? ",device_id=mkosi,removable=on" : "")
        case .nvme: device = "nvme,serial=mkosi"
        case .scsiCD: device = "scsi-cd" + (removable ? ",device_id=mkosi,removable=on" : "")
        }
        argv += ["-blockdev", blockdev.joined(separator: ","), "-device", device + ",drive=mkosi,bootindex=1"]
        return argv
    }

    /// One `-blockdev` per drive, as upstream: the drives' devices are left to `QemuArgs=`
    /// (`-device virtio-blk-pci,drive=ID`, …). `path` is where the drive's file is in the sandbox.
    static func driveArguments(_ drive: Drive, path: String) -> [String] {
        var arg = ["driver=raw", "node-name=\(drive.id)", "file.driver=file", "file.filename=\(path)", "file.aio=threads",
                   "file.locking=off", "cache.direct=on", "cache.no-flush=on"]
        if let options = drive.options, !options.isEmpty { arg.append(options) }
        return ["-blockdev", arg.joined(separator: ",")]
    }

    /// `-nic` for `RuntimeNetwork=`; with user networking optionally a TCP port on the host's
    /// 127.0.0.1 forwarded to the guest (for `mkosi ssh` where there is no vsock).
    static func nicArguments(_ network: Network, forward: (host: UInt16, guest: UInt16)?) -> [String] {
        switch network {
        case .none: return ["-nic", "none"]
        case .interface: return ["-nic", "tap,script=no,model=virtio-net-pci"]
        case .user:
            var nic = "user,model=virtio-net-pci"
            if let forward { nic += ",hostfwd=tcp:127.0.0.1:\(forward.host)-:\(forward.guest)" }
            return ["-nic", nic]
        }
    }
}
