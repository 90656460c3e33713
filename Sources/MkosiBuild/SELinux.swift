import MkosiConfig
import MkosiCore

/// `SELinuxRelabel=`, as upstream: after the image's packages are settled, `setfiles` labels
/// every file of the image with the policy the image configures (`SELINUXTYPE=` of its
/// `/etc/selinux/config`), using that policy's `file_contexts` and newest binary policy.
/// `auto` relabels where it can (not `Format=directory` outputs) and ignores a missing policy
/// or a failing `setfiles`; `yes` makes each of those an error.
public enum SELinux {
    /// What relabelling needs, as paths inside the image.
    public struct Policy: Equatable, Sendable {
        public var name: String
        public var fileContexts: String
        public var binaryPolicy: String
    }

    /// Why an image is not relabelled.
    public enum Skip: Error, Equatable, Sendable {
        /// Not asked for (`no`, or `auto` for a directory).
        case notWanted
        /// Asked for, but the image lacks what it needs: the message says what.
        case missing(String)
    }

    /// The policy to relabel the image at `root` with, or why not; pure apart from reading the
    /// image's files.
    public static func policy(_ config: Config, root: String) -> Result<Policy, Skip> {
        let setting = config[.selinuxRelabel]
        if setting == .disabled || (setting == .auto && config.format == .directory) { return .failure(.notWanted) }
        guard let text = try? FS.readText(Path.join(root, "etc/selinux/config")) else {
            return .failure(.missing("could not find selinux config at /etc/selinux/config"))
        }
        guard let name = selinuxType(text), !name.isEmpty else {
            return .failure(.missing("no selinux policy is configured in /etc/selinux/config"))
        }
        let base = "etc/selinux/\(name)"
        let fileContexts = "\(base)/contexts/files/file_contexts"
        guard FS.exists(Path.join(root, fileContexts)) else {
            return .failure(.missing("SELinux file contexts not found in /\(fileContexts)"))
        }
        // policy.NN, where NN is the policy version: the newest one.
        let versions = ((try? FS.listDirectory(Path.join(root, "\(base)/policy"))) ?? []).compactMap { name -> (Int, String)? in
            guard let dot = name.lastIndex(of: "."), let v = Int(name[name.index(after: dot)...]),
                  name[name.index(after: dot)...].allSatisfy(\.isASCII) else { return nil }
            return (v, name)
        }
        guard let newest = versions.max(by: { $0.0 < $1.0 }) else {
            return .failure(.missing("SELinux binary policy not found in /\(base)/policy"))
        }
        return .success(Policy(name: name, fileContexts: "/" + fileContexts, binaryPolicy: "/\(base)/policy/\(newest.1)"))
    }

    /// The value of `SELINUXTYPE=` in an `/etc/selinux/config` (the last assignment, quotes
    /// removed), as the shell that upstream sources it with would see it.
    static func selinuxType(_ text: String) -> String? {
        var value: String?
        for line in text.split(separator: "\n") {
            let l = String(line).trimmed()
            guard l.hasPrefix("SELINUXTYPE=") else { continue }
            var v = String(l.dropFirst("SELINUXTYPE=".count))
            if let hash = v.firstIndex(of: "#"), v.first != "\"" && v.first != "'" { v = String(v[..<hash]) }
            v = v.trimmed()
            if v.count >= 2, let q = v.first, q == "\"" || q == "'", v.last == q { v = String(v.dropFirst().dropLast()) }
            value = v
        }
        return value
    }

    /// Relabels the image of `context` (see the type's contract).
    /// - Throws: with `SELinuxRelabel=yes`, when the image has no usable policy, the tools have
    ///   no `setfiles`, or `setfiles` fails.
    static func relabel(_ context: BuildContext) throws {
        let config = context.config
        let fatal = config[.selinuxRelabel] == .enabled
        let policy: Policy
        switch SELinux.policy(config, root: context.root) {
        case .success(let p): policy = p
        case .failure(.notWanted): return
        case .failure(.missing(let why)):
            if fatal {
                throw MkosiError(.config, "SELinux relabel is requested but \(why)",
                                 hint: "Install the SELinux policy in the image (e.g. Debian's selinux-policy-default), or set SELinuxRelabel=auto")
            }
            Log.debug("Not relabelling: \(why)")
            return
        }
        guard let setfiles = context.findTool("setfiles") else {
            if fatal {
                throw MkosiError(.missingTool, "SELinux relabel is requested but setfiles is not installed"
                                 + (config[.toolsTree].map { " in the tools tree \($0)" } ?? ""),
                                 hint: "Install policycoreutils in the tools")
            }
            Log.debug("Not relabelling: setfiles is not installed")
            return
        }
        Log.info("Relabeling files using \(policy.name) policy")
        let argv = [setfiles, "-mFr", "/buildroot", "-T0", "-c", "/buildroot" + policy.binaryPolicy,
                    "/buildroot" + policy.fileContexts, "/buildroot"]
        do {
            try context.run(argv, in: context.toolsSandbox())
        } catch let error as MkosiError where !fatal && !error.isInterruption {
            Log.warning("Relabelling with setfiles failed, continuing as SELinuxRelabel=auto asks: \(error.message)")
        }
    }
}
