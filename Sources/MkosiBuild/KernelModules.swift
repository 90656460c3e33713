import MkosiConfig
import MkosiCore
import MkosiSandbox

/// Keeps the kernel module indexes of the image current: for every kernel directory under
/// `/usr/lib/modules`, `depmod` runs (with the image's own kmod) when an index is missing or a
/// module is newer than `modules.dep`, e.g. after extra trees or scripts added modules.
/// Overlay, tools and extension images are left alone, as upstream does.
///
/// Not done yet: filtering modules and firmware (`KernelModulesInclude=`/`Exclude=`,
/// `FirmwareInclude=`/`Exclude=`).
enum KernelModules {
    static let indexes = ["modules.dep", "modules.dep.bin", "modules.symbols", "modules.symbols.bin"]

    static func depmod(_ context: BuildContext) throws {
        let config = context.config
        guard config["overlay"].bool != true, config.image != "tools",
              !["sysext", "confext", "portable", "addon"].contains(config.format) else { return }
        let modules = Path.join(context.root, "usr/lib/modules")
        let versions = ((try? FS.listDirectory(modules)) ?? []).sorted().filter { version in
            // A directory holding nothing but "updates" is not a kernel.
            let entries = (try? FS.listDirectory(Path.join(modules, version))) ?? []
            return !entries.isEmpty && entries != ["updates"]
        }
        let stale = versions.filter { needsDepmod(Path.join(modules, $0)) }
        guard !stale.isEmpty else { return }

        guard ["usr/sbin/depmod", "usr/bin/depmod", "sbin/depmod"].contains(where: { FS.isExecutable(Path.join(context.root, $0)) }) else {
            Log.warning("depmod is not installed in the image (package kmod), module indexes of \(stale.joined(separator: ", ")) are left out of date")
            return
        }
        let s = context.imageSandbox()
        for version in stale {
            Log.info("Running depmod for \(version)")
            try context.run(["depmod", "--all", version], in: s, environment: context.baseEnvironment())
        }
        FS.removeTree(Path.join(context.root, "work"))
    }

    /// True when an index is missing or any module file is newer than `modules.dep`.
    static func needsDepmod(_ directory: String) -> Bool {
        guard indexes.allSatisfy({ FS.exists(Path.join(directory, $0)) }),
              let dep = FS.stat(Path.join(directory, "modules.dep")) else { return true }
        return newestModule(in: directory) > dep.mtimeNanoseconds
    }

    /// The newest modification time of a `*.ko*` file below `directory` (symlinks not followed).
    static func newestModule(in directory: String) -> Int64 {
        var newest = Int64.min
        for name in (try? FS.listDirectory(directory)) ?? [] {
            let path = Path.join(directory, name)
            guard let st = FS.lstat(path) else { continue }
            if st.isDirectory {
                newest = max(newest, newestModule(in: path))
            } else if st.isRegular && name.contains(".ko") {
                newest = max(newest, st.mtimeNanoseconds)
            }
        }
        return newest
    }
}
