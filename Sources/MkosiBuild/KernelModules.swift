#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// Kernel modules: `KernelModules=`/`KernelModulesInclude=`/`KernelModulesExclude=` and
/// `FirmwareFiles=`/`FirmwareExclude=` filter what the image keeps; `depmod` keeps the module
/// indexes current (run with the image's own kmod when an index is missing, a module is
/// newer than `modules.dep`, or modules were excluded); and the kernel-modules initrd carries
/// the modules the initrd needs (`KernelModulesInitrdInclude=`/`Exclude=`, all by default)
/// with their dependencies. Overlay, tools and extension images are left alone, as upstream.
///
/// Selection follows upstream: regular expressions (`re:` entries from the `*Include=` and
/// `*Exclude=` settings) are searched in the module's path below `kernel/`; globs
/// (`KernelModules=`) match the path or the name, `-` negates and the last matching glob wins;
/// `default` stands for the modules of the built-in mkosi-initrd configuration. With an
/// exclude list, everything not excluded (or re-included) is kept; with only an include list,
/// only what it names; then modules the kept ones depend on (`modules.dep`, `modules.softdep`)
/// are added. Firmware is kept unless `FirmwareExclude=` (or a negated `FirmwareFiles=`
/// glob) removes it and no include names it.
enum KernelModules {
    static let indexes = ["modules.dep", "modules.dep.bin", "modules.symbols", "modules.symbols.bin"]

    static func kernelVersions(_ root: String) -> [String] {
        let modules = Path.join(root, "usr/lib/modules")
        return ((try? FS.listDirectory(modules)) ?? []).sorted().filter { version in
            // A directory holding nothing but "updates" is not a kernel.
            let entries = (try? FS.listDirectory(Path.join(modules, version))) ?? []
            return !entries.isEmpty && entries != ["updates"]
        }
    }

    static func depmod(_ context: BuildContext) throws {
        let config = context.config
        guard !config[.overlay], config.image != "tools",
              !config.format.isExtensionOrPortable else { return }
        let modules = Path.join(context.root, "usr/lib/modules")
        let versions = kernelVersions(context.root)
        let include = config[.kernelModulesInclude], exclude = config[.kernelModulesExclude]
        let host = config[.kernelModulesIncludeHost]
        var filtered = Set<String>()
        if !include.isEmpty || !exclude.isEmpty || host {
            for version in versions {
                let dir = Path.join(modules, version)
                let keep = try select(dir, include: include, exclude: exclude, architecture: config.architecture, host: host)
                var removed = 0
                for module in allModules(dir) where !keep.contains(module) {
                    unlink(Path.join(dir, module))
                    removed += 1
                }
                if removed > 0 {
                    Log.info("Removed \(removed) kernel modules of \(version) (KernelModules*=)")
                    filtered.insert(version)
                }
            }
        }
        try filterFirmware(context)
        let stale = versions.filter { filtered.contains($0) || needsDepmod(Path.join(modules, $0)) }
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

    static let moduleSuffixes = [".ko", ".ko.gz", ".ko.xz", ".ko.zst"]

    static func isModule(_ name: String) -> Bool { moduleSuffixes.contains { name.hasSuffix($0) } }

    /// Module files below a kernel's module directory, as paths relative to it.
    static func allModules(_ dir: String) -> [String] {
        var result: [String] = []
        func walk(_ rel: String) {
            for name in (try? FS.listDirectory(Path.join(dir, rel))) ?? [] {
                let child = rel.isEmpty ? name : rel + "/" + name
                guard let st = FS.lstat(Path.join(dir, child)) else { continue }
                if st.isDirectory { walk(child) } else if isModule(name) { result.append(child) }
            }
        }
        walk("")
        return result.sorted()
    }

    /// The module's name as modprobe knows it: base name without suffix, `-` as `_`.
    static func moduleName(_ path: String) -> String {
        var base = Path.basename(path)
        for suffix in moduleSuffixes.reversed() where base.hasSuffix(suffix) {
            base = String(base.dropLast(suffix.count))
            break
        }
        return base.replacingOccurrences(of: "-", with: "_")
    }

    /// The modules of the built-in mkosi-initrd configuration (`KernelModules=`), which the
    /// keyword `default` stands for.
    static func defaultInitrdModules(_ architecture: Architecture) -> [String] {
        let resources = BuiltinResources()
        var files = ["mkosi-initrd/mkosi.conf"]
        if architecture == .arm64 { files.append("mkosi-initrd/mkosi.conf.d/arm.conf") }
        var result: [String] = []
        for file in files {
            guard let text = try? FS.readText((try? resources.path(of: file)) ?? "") else { continue }
            var inList = false
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("KernelModules=") {
                    inList = true
                    let rest = line.dropFirst("KernelModules=".count).split(separator: " ").map(String.init)
                    result += rest
                } else if inList, let first = line.first, first == " " || first == "\t" {
                    result += line.split(separator: " ").map(String.init).filter { !$0.isEmpty && $0 != "\t" }
                        .map { $0.trimmed() }
                } else {
                    inList = false
                }
            }
        }
        return result
    }

    /// The `re:` entries of a list as compiled regular expressions.
    static func regexes(_ list: [String], _ settings: String) throws -> [Regex<AnyRegexOutput>] {
        try list.filter { $0.hasPrefix("re:") }.map { entry in
            do { return try Regex(String(entry.dropFirst(3))) } catch {
                throw MkosiError(.config, "Invalid regular expression '\(entry.dropFirst(3))' in a \(settings) setting",
                                 cause: MkosiError.cause(of: error))
            }
        }
    }

    /// Upstream's glob rules for modules: the last matching glob decides; `-` excludes.
    static func globsMatch(_ module: String, _ globs: [String]) -> Bool? {
        var name = module
        for suffix in moduleSuffixes.reversed() where name.hasSuffix(suffix) {
            name = String(name.dropLast(suffix.count))
            break
        }
        name = name.replacingOccurrences(of: "_", with: "-")
        for raw in globs.reversed() {
            var glob = raw, negated = false
            if glob.hasPrefix("-") {
                negated = true
                glob.removeFirst()
            }
            glob = normalizeGlob(glob)
            if glob.hasSuffix("/") { glob += "*" }
            let matched = (glob.hasPrefix("/") && (Glob.fnmatch("/kernel" + glob, "/" + name) || Glob.fnmatch(glob, "/" + name)))
                || (glob.contains("/") && Glob.fnmatch("*/" + glob, "/" + name))
                || Glob.fnmatch(glob, Path.basename(name))
            if matched { return !negated }
        }
        return nil
    }

    /// `_` as `-` outside of bracket expressions.
    static func normalizeGlob(_ glob: String) -> String {
        var out = "", inBracket = false
        for c in glob {
            if c == "[" { inBracket = true } else if c == "]" { inBracket = false }
            out.append(!inBracket && c == "_" ? "-" : c)
        }
        return out
    }

    /// The names of the modules loaded on the host, from the text of `/proc/modules`
    /// (underscores as dashes, as module file names may use either).
    static func loadedModules(_ procModules: String) -> [String] {
        procModules.split(separator: "\n").compactMap { $0.split(separator: " ").first.map { String($0).replacingOccurrences(of: "_", with: "-") } }
    }

    /// The include list with its specials expanded, as upstream: with `host`
    /// (`KernelModulesIncludeHost=`, `KernelModulesInitrdIncludeHost=`) the host's loaded modules
    /// first; `default` becomes the built-in initrd list and `host` the loaded modules (once);
    /// duplicates are dropped, keeping the first.
    static func expandInclude(_ include: [String], host: Bool, architecture: Architecture,
                              loaded: () -> [String] = { loadedModules((try? FS.readText("/proc/modules")) ?? "") }) -> [String] {
        var expanded: [String] = [], hostIncluded = false
        if host {
            expanded += loaded()
            hostIncluded = true
        }
        for entry in include {
            if entry == "default" {
                expanded += defaultInitrdModules(architecture)
            } else if entry == "host" {
                if !hostIncluded { expanded += loaded() }
                hostIncluded = true
            } else {
                expanded.append(entry)
            }
        }
        var seen = Set<String>()
        return expanded.filter { seen.insert($0).inserted }
    }

    /// The modules (paths relative to the kernel's module directory `dir`) to keep; `host` adds
    /// the modules loaded on the host (`expandInclude`).
    static func select(_ dir: String, include: [String], exclude: [String], architecture: Architecture,
                       host: Bool = false) throws -> Set<String> {
        let modules = allModules(dir)
        let expanded = expandInclude(include, host: host, architecture: architecture)
        let includeRegexes = try regexes(expanded, "KernelModules*="), excludeRegexes = try regexes(exclude, "KernelModules*=")
        let globs = expanded.filter { !$0.hasPrefix("re:") }
        func legacy(_ path: String) -> String {
            guard let slash = path.firstIndex(of: "/") else { return path }
            return String(path[path.index(after: slash)...])
        }
        func included(_ module: String) -> Bool {
            if let g = globsMatch(module, globs) { return g }
            return includeRegexes.contains { legacy(module).contains($0) }
        }
        var keep: Set<String>
        if !excludeRegexes.isEmpty {
            keep = Set(modules.filter { m in included(m) || !excludeRegexes.contains { legacy(m).contains($0) } })
        } else if !expanded.isEmpty {
            keep = Set(modules.filter(included))
        } else {
            keep = Set(modules)
        }
        return closeOverDependencies(dir, keep)
    }

    /// `keep` plus every module they need (`modules.dep` and the `pre:`/`post:` soft
    /// dependencies of `modules.softdep`).
    static func closeOverDependencies(_ dir: String, _ keep: Set<String>) -> Set<String> {
        var deps: [String: [String]] = [:], byName: [String: String] = [:]
        for line in ((try? FS.readText(Path.join(dir, "modules.dep"))) ?? "").split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let module = String(line[..<colon])
            deps[module] = line[line.index(after: colon)...].split(separator: " ").map(String.init)
            byName[moduleName(module)] = module
        }
        for line in ((try? FS.readText(Path.join(dir, "modules.softdep"))) ?? "").split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count > 2, words[0] == "softdep", let module = byName[words[1].replacingOccurrences(of: "-", with: "_")] else { continue }
            deps[module, default: []] += words.dropFirst(2).filter { !$0.hasSuffix(":") }
                .compactMap { byName[$0.replacingOccurrences(of: "-", with: "_")] }
        }
        var result = keep, queue = Array(keep)
        while let module = queue.popLast() {
            for dep in deps[module] ?? [] where !result.contains(dep) && FS.lstat(Path.join(dir, dep)) != nil {
                result.insert(dep)
                queue.append(dep)
            }
        }
        return result
    }

    /// `FirmwareFiles=`/`FirmwareInclude=`/`FirmwareExclude=`: firmware files matched by an
    /// exclude (and by no include) are removed from `/usr/lib/firmware`.
    static func filterFirmware(_ context: BuildContext) throws {
        let include = context.config[.firmwareInclude], exclude = context.config[.firmwareExclude]
        let negated = include.filter { $0.hasPrefix("-") }
        guard !exclude.isEmpty || !negated.isEmpty else { return }
        let firmware = Path.join(context.root, "usr/lib/firmware")
        let excludeRegexes = try regexes(exclude, "Firmware*="), includeRegexes = try regexes(include, "Firmware*=")
        let globs = include.filter { !$0.hasPrefix("re:") }
        var removed = 0
        func walk(_ rel: String) {
            for name in (try? FS.listDirectory(Path.join(firmware, rel))) ?? [] {
                let child = rel.isEmpty ? name : rel + "/" + name
                guard let st = FS.lstat(Path.join(firmware, child)) else { continue }
                if st.isDirectory {
                    if !["amd-ucode", "intel-ucode"].contains(child) { walk(child) }
                    continue
                }
                var globDecision: Bool? = nil
                for raw in globs.reversed() {
                    let neg = raw.hasPrefix("-"), glob = neg ? String(raw.dropFirst()) : raw
                    if Glob.fnmatch(glob, child) || Glob.fnmatch(glob, Path.basename(child)) {
                        globDecision = !neg
                        break
                    }
                }
                let excluded = globDecision == false || excludeRegexes.contains { child.contains($0) }
                let included = globDecision == true || includeRegexes.contains { child.contains($0) }
                if excluded && !included {
                    unlink(Path.join(firmware, child))
                    removed += 1
                }
            }
        }
        walk("")
        if removed > 0 { Log.info("Removed \(removed) firmware files (Firmware*=)") }
    }

    /// The firmware files (relative to the image root) that `modules` (module files relative to
    /// the root) ask for with their `firmware:` fields, as upstream resolves them: each name as it
    /// is and its compressed variants (`NAME.*`; a name ending in `*` is a glob), of what the
    /// image has in `/usr/lib/firmware`, with the targets of symbolic links among them. Empty
    /// without firmware in the image (modinfo is not run then).
    static func firmwareNeeded(_ context: BuildContext, modules: [String]) throws -> Set<String> {
        let firmwareDir = Path.join(context.root, "usr/lib/firmware")
        guard !modules.isEmpty, !((try? FS.listDirectory(firmwareDir)) ?? []).isEmpty else { return [] }
        var s = context.toolsSandbox()
        s.workingDirectory = "/buildroot"
        let output = try context.capture(["modinfo", "-0", "-F", "firmware"] + modules.sorted().map { "/buildroot/" + $0 }, in: s)
        let names = Set(output.split(separator: "\0").map { String($0).trimmed() }.filter { !$0.isEmpty })
        return resolveFirmware(names, root: context.root)
    }

    /// `firmwareNeeded` for the firmware `names` modinfo printed, in the image at `root`.
    static func resolveFirmware(_ names: Set<String>, root: String) -> Set<String> {
        var found = Set<String>()
        for name in names {
            let rel = "usr/lib/firmware/" + name
            if FS.lstat(Path.join(root, rel)) != nil { found.insert(rel) }
            let pattern = Path.basename(rel) + (name.hasSuffix("*") ? "" : ".*")
            let dir = Path.dirname(rel)
            for entry in (try? FS.listDirectory(Path.join(root, dir))) ?? [] where Glob.fnmatch(pattern, entry) {
                found.insert(Path.join(dir, entry))
            }
        }
        // Links and what they point to (within the image), as many levels as there are.
        var todo = Array(found)
        while let rel = todo.popLast() {
            guard let target = FS.readlink(Path.join(root, rel)) else { continue }
            var parts: [Substring] = []
            let joined = target.hasPrefix("/") ? target : Path.dirname(rel) + "/" + target
            for part in joined.split(separator: "/") where part != "." {
                if part == ".." { _ = parts.popLast() } else { parts.append(part) }
            }
            let resolved = parts.joined(separator: "/")
            if resolved.hasPrefix("usr/lib/firmware/"), found.insert(resolved).inserted { todo.append(resolved) }
        }
        return found
    }

    /// The kernel-modules initrd of kernel `version`: a cpio archive (compressed with zstd)
    /// of the modules `KernelModulesInitrdInclude=`/`Exclude=` select (all by default) with
    /// their dependencies, the firmware they ask for (`firmwareNeeded`) and the module indexes. Made once per build, in the workspace.
    static func initrd(_ context: BuildContext, version: String) throws -> String {
        let output = context.workspace + "/kernel-modules-\(version).initrd"
        if FS.exists(output) { return output }
        let dir = Path.join(context.root, "usr/lib/modules/\(version)")
        let config = context.config
        let modules = try select(dir, include: config[.kernelModulesInitrdInclude],
                                 exclude: config[.kernelModulesInitrdExclude], architecture: config.architecture,
                                 host: config[.kernelModulesInitrdIncludeHost])
        var files = Set<String>(["usr/lib/modules", "usr/lib/modules/\(version)"])
        for module in modules {
            var path = "usr/lib/modules/\(version)/\(module)"
            files.insert(path)
            while true {
                path = Path.dirname(path)
                guard path.count > "usr/lib/modules/\(version)".count else { break }
                files.insert(path)
            }
        }
        for name in (try? FS.listDirectory(dir)) ?? [] where name.hasPrefix("modules.") {
            files.insert("usr/lib/modules/\(version)/\(name)")
        }
        let firmware = try firmwareNeeded(context, modules: modules.map { "usr/lib/modules/\(version)/\($0)" })
        for file in firmware {
            var path = file
            while path.count > "usr/lib/firmware".count {
                files.insert(path)
                path = Path.dirname(path)
            }
        }
        if !firmware.isEmpty { files.formUnion(["usr/lib", "usr/lib/firmware"]) }
        let list = context.workspace + "/kernel-modules-\(version).list"
        try FS.writeAtomically(list, files.sorted().joined(separator: "\n") + "\n")

        // With Incremental=, the archive is kept in the cache directory beside the image cache
        // and reused while every file in it is unchanged (same size and modification time).
        var saved: (initrd: String, fingerprint: String, value: String)? = nil
        if let base = IncrementalCache(config: config, args: context.args).sidePath(".kernel-modules-\(version)") {
            // Directories only by name: their times change with anything done inside them.
            let value = files.sorted().map { rel -> String in
                guard let st = FS.lstat(Path.join(context.root, rel)) else { return "\(rel) missing" }
                return st.isDirectory ? rel : "\(rel) \(st.size) \(st.mtimeNanoseconds)"
            }.joined(separator: "\n") + "\n"
            saved = (base + ".initrd", base + ".list", value)
            if (try? FS.readText(base + ".list")) == value, FS.exists(base + ".initrd") {
                if link(base + ".initrd", output) != 0 { try HostCommand.run(["cp", "--reflink=auto", base + ".initrd", output]) }
                Log.info("Reusing the kernel-modules initrd of \(version) (\(modules.count) modules)")
                return output
            }
        }
        var s = context.toolsSandbox()
        s.bind(context.workspace, "/work/ws")
        s.workingDirectory = "/buildroot"
        Log.info("Building the kernel-modules initrd of \(version) (\(modules.count) modules)")
        try context.run(["sh", "-e", "-o", "pipefail", "-c",
                         "cpio --create --format=newc --reproducible --renumber-inodes --owner=0:0 --quiet < \"$1\" "
                            + "| zstd -q -3 -T0 > \"$2\"", "sh", "/work/ws/\(Path.basename(list))", "/work/ws/\(Path.basename(output)).tmp"],
                        in: s)
        guard rename(output + ".tmp", output) == 0 else { throw FS.systemError("Cannot create \(output)") }
        if let saved {
            FS.removeTree(saved.fingerprint)
            FS.removeTree(saved.initrd)
            if link(output, saved.initrd) == 0 || (try? HostCommand.run(["cp", "--reflink=auto", output, saved.initrd])) != nil {
                try FS.writeAtomically(saved.fingerprint, saved.value)
            }
        }
        return output
    }
}
