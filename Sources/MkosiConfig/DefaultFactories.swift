import MkosiCore

/// Computed defaults. Each reads the final values of the settings it depends on, plus the image
/// name and invocation directory, and the host's environment where upstream does.
enum DefaultFactories {
    static func compute(_ f: DefaultFactory, context: ParseContext) throws -> Value {
        func v(_ dest: String) throws -> Value { try context.finalizeValue(dest) }
        for dep in f.dependencies { _ = try v(dep) }

        switch f {
        case .distribution:
            return .string(hostDistribution().distribution?.rawValue ?? "custom")
        case .release:
            let (hostDist, hostRelease) = hostDistributionAndRelease()
            let dist = Distribution(rawValue: try v("distribution").string ?? "") ?? .custom
            if dist == hostDist, let r = hostRelease, !r.isEmpty { return .string(r) }
            return .string(dist.defaultRelease)
        case .architecture:
            return .string(Architecture.native.rawValue)
        case .toolsTreeDistribution:
            if let env = Env.get("MKOSI_HOST_DISTRIBUTION"), let d = Distribution(rawValue: env) {
                return .string(d.defaultToolsTreeDistribution.rawValue)
            }
            guard let d = HostDistribution.current.distribution else { return .string("custom") }
            return .string(d.defaultToolsTreeDistribution.rawValue)
        case .toolsTreeRelease:
            guard let d = Distribution(rawValue: try v("tools_tree_distribution").string ?? "") else { return .null }
            return .string(d.defaultRelease)
        case .toolsTreeMirror:
            let mirror = try v("mirror")
            if let m = mirror.string, !m.isEmpty, try v("distribution") == v("tools_tree_distribution") {
                return .string(m)
            }
            return .null
        case .repositoryKeyFetch:
            let target = Distribution(rawValue: try v("distribution").string ?? "") ?? .custom
            let needsFetch = target == .arch || target == .postmarketos || target.isRPMDistribution
            let toolsTree = try v("tools_tree").string
            if toolsTree != "default" && toolsTree != "yes" {
                let detected = HostDistribution.detect(root: toolsTree ?? "/")
                if detected.id == "nixos" { return .bool(true) }
                return .bool(detected.distribution == .ubuntu && needsFetch)
            }
            return .bool(try v("tools_tree_distribution").string == "ubuntu" && needsFetch)
        case .output:
            var output = context.image != "main" ? context.image : (try v("image_id").string ?? "image")
            if let version = try v("image_version").string, !version.isEmpty { output += "_\(version)" }
            return .string(output)
        case .outputExtension:
            return .string(try format(context).defaultExtension)
        case .compression:
            switch try format(context) {
            case .tar, .cpio, .uki, .esp, .addon: return .string(Compression.zstd.rawValue)
            case .oci: return .string(Compression.gz.rawValue)
            default: return .string(Compression.none.rawValue)
            }
        case .sourceDateEpoch:
            // Upstream looks for `SOURCE_DATE_EPOCH=` among the names of `Environment=` (never
            // found, the names have no `=`): only the host's environment counts. So here.
            return try ValueParser.sourceDateEpoch.parse(Env.get("SOURCE_DATE_EPOCH"), old: nil, env: context.env)
        case .proxyURL:
            // Upstream splits the names of `Environment=` at `=`: a proxy variable set there
            // makes the default the empty string (no proxy); otherwise the host's environment.
            let names: Set<String> = ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"]
            if let env = try v("environment").dict, env.pairs.contains(where: { names.contains($0.0) }) { return .string("") }
            if let (_, value) = Env.all().first(where: { names.contains($0.0) }) { return .string(value) }
            return .null
        case .proxyExclude:
            let names: Set<String> = ["no_proxy", "NO_PROXY"]
            if let env = try v("environment").dict, env.pairs.contains(where: { names.contains($0.0) }) { return .list([.string("")]) }
            guard let (_, found) = Env.all().first(where: { names.contains($0.0) }) else { return .null }
            return .list(found.split(separator: ",", omittingEmptySubsequences: false).map { .string(String($0)) })
        case .proxyPeerCertificate:
            for p in ["/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt"] where FS.exists(p) {
                return .string(p)
            }
            return .null
        case .proxyClientKey:
            return try v("proxy_client_certificate")
        case .initrds:
            return try defaultInitrds(context)
        case .buildSources:
            guard let dir = context.directory else { return .list([]) }
            return .list([.tree(ConfigTree(source: dir, target: nil))])
        case .machine:
            guard let dir = context.directory else { return .null }
            return .string(Path.basename(dir))
        case .checksum:
            return .bool(try v("sign").bool ?? false)
        }
    }

    /// The final `Format=`.
    static func format(_ context: ParseContext) throws -> OutputFormat {
        OutputFormat(rawValue: try context.finalizeValue("output_format").string ?? "") ?? .disk
    }

    /// `[default]` when the image looks bootable and so needs the default initrd.
    static func defaultInitrds(_ context: ParseContext) throws -> Value {
        let format = try format(context)
        let bootable = ConfigFeature(rawValue: try context.finalizeValue("bootable").string ?? "") ?? .auto
        if format == .uki || format == .esp { return .list([]) }
        if bootable == .disabled { return .list([]) }
        if bootable == .auto {
            let overlay = try context.finalizeValue("overlay").bool ?? false
            if format == .cpio || format == .directory || format.isExtensionOrPortable || overlay {
                return .list([])
            }
            let dist = Distribution(rawValue: try context.finalizeValue("distribution").string ?? "") ?? .custom
            let packages = try context.finalizeValue("packages").strings + context.finalizeValue("volatile_packages").strings
            if !packages.contains(where: dist.isKernelPackage) { return .list([]) }
        }
        return .list([.string("default")])
    }

    /// The host distribution, honouring `$MKOSI_HOST_DISTRIBUTION`.
    static func hostDistribution() -> HostDistribution {
        if let env = Env.get("MKOSI_HOST_DISTRIBUTION"), let d = Distribution(rawValue: env) {
            return HostDistribution(distribution: d, id: nil, release: nil)
        }
        let host = HostDistribution.current
        if host.distribution == nil {
            Log.info("Distribution of your host can't be detected or isn't a supported target. Defaulting to Distribution=custom.")
        }
        return host
    }

    /// The host distribution and release; `$MKOSI_HOST_DISTRIBUTION` and `$MKOSI_HOST_RELEASE`
    /// are used only together.
    static func hostDistributionAndRelease() -> (Distribution?, String?) {
        if let env = Env.get("MKOSI_HOST_DISTRIBUTION"), let d = Distribution(rawValue: env),
           let r = Env.get("MKOSI_HOST_RELEASE"), !r.isEmpty {
            return (d, r)
        }
        let host = HostDistribution.current
        return (host.distribution, host.release)
    }
}
