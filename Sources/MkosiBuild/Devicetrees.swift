import MkosiConfig
import MkosiCore

/// `Devicetrees=`: the device tree blobs of a kernel that go into its UKI (`.dtb`, or
/// `.dtbauto` sections when there are several) or, exactly one, its Type #1 entry
/// (`devicetree`), as upstream finds them.
enum Devicetrees {
    /// Where kernels keep their device trees, relative to the image root.
    static func directories(_ version: String) -> [String] {
        ["usr/lib/firmware/\(version)/device-tree", "usr/lib/linux-image-\(version)", "usr/lib/modules/\(version)/dtb"]
    }

    /// Upstream's glob rules (as for kernel modules, without their name normalisation): the
    /// last glob that matches `path` (relative to its directory) decides; `-` excludes; a glob
    /// ending in `/` matches everything below; a glob with `/` matches at a path element
    /// boundary, one without matches the file name.
    static func matches(_ path: String, _ globs: [String]) -> Bool {
        for raw in globs.reversed() {
            var glob = raw, negated = false
            if glob.hasPrefix("-") {
                negated = true
                glob.removeFirst()
            }
            if glob.hasSuffix("/") { glob += "*" }
            let matched = (glob.hasPrefix("/") && (Glob.fnmatch("/kernel" + glob, "/" + path) || Glob.fnmatch(glob, "/" + path)))
                || (glob.contains("/") && Glob.fnmatch("*/" + glob, "/" + path))
                || Glob.fnmatch(glob, Path.basename(path))
            if matched { return !negated }
        }
        return false
    }

    /// One found device tree: its path relative to the image root and to its directory.
    struct Blob: Equatable {
        let path: String
        let relative: String
    }

    /// The `*.dtb` files of kernel `version` in the image at `root` that `globs` select, sorted
    /// by path (a warning when none does).
    static func find(root: String, version: String, globs: [String]) -> [Blob] {
        guard !globs.isEmpty else { return [] }
        var found: [Blob] = []
        for dir in directories(version) {
            func walk(_ rel: String) {
                let path = rel.isEmpty ? Path.join(root, dir) : Path.join(root, dir + "/" + rel)
                for name in (try? FS.listDirectory(path)) ?? [] {
                    let child = rel.isEmpty ? name : rel + "/" + name
                    guard let st = FS.lstat(Path.join(path, name)) else { continue }
                    if st.isDirectory {
                        walk(child)
                    } else if name.hasSuffix(".dtb"), matches(child, globs) {
                        found.append(Blob(path: dir + "/" + child, relative: child))
                    }
                }
            }
            walk("")
        }
        if found.isEmpty { Log.warning("Devicetrees= patterns \(globs) matched no device tree of kernel \(version)") }
        return found.sorted { $0.path < $1.path }
    }
}
