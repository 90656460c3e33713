import MkosiConfig
import MkosiCore

/// The pure decisions of kernel installation, as upstream makes them: whether the kernels
/// become UKIs or Type #1 boot loader entries, and which initrds go with them.
extension Boot {
    /// Whether the kernels of a bootable (EFI) image become UKIs (upstream's `want_uki`): always
    /// with `Bootloader=uki` or `UnifiedKernelImages=yes`/`signed`; with `auto` when the UKI
    /// stub (`stub`) and ukify (`ukify`) are there; never with `UnifiedKernelImages=no`. Otherwise
    /// the kernels get Type #1 entries.
    ///
    /// - Throws: `MkosiError(.config)` when UKIs are asked for explicitly and there is no stub.
    static func wantUKI(_ config: Config, stub: Bool, ukify: Bool) throws -> Bool {
        let explicit = config[.bootloader].isUKI || [.signed, .unsigned].contains(config[.unifiedKernelImages])
        if explicit {
            guard stub else {
                throw MkosiError(.config, "Unified kernel images were requested (\(config[.bootloader].isUKI ? "Bootloader=\(config[.bootloader].rawValue)" : "UnifiedKernelImages=\(config[.unifiedKernelImages].rawValue)")) but there is no UKI stub (linux*.efi.stub) in /usr/lib/systemd/boot/efi",
                                 hint: "Install systemd-boot's EFI binaries in the image, or set UnifiedKernelImages=auto to fall back to Type #1 entries")
            }
            return true
        }
        return config[.unifiedKernelImages] == .auto && stub && ukify
    }

    /// The directory where scripts may leave extra initrds (`$ARTIFACTDIR/io.mkosi.initrd`).
    static func artifactInitrds(_ artifacts: String) -> String { Path.join(artifacts, "io.mkosi.initrd") }

    /// The initrds of every kernel: `Initrds=` (with the default initrd), then the files scripts
    /// put in `$ARTIFACTDIR/io.mkosi.initrd/`, sorted by name (upstream's `finalize_initrds`).
    static func initrds(_ config: Config, artifacts: String) -> [String] {
        let dir = artifactInitrds(artifacts)
        let extra = ((try? FS.listDirectory(dir)) ?? []).sorted().map { Path.join(dir, $0) }
        return config.initrds + extra
    }
}
