#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore

/// `Format=oci`: an OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/`)
/// with one layer, the image's root as a tar compressed per `CompressOutput=` (gzip by
/// default; only none, gz and zstd are valid OCI layer types), and upstream's image config:
/// `Cmd` is `/sbin/init` with `KernelCommandLine=`, `Labels` are `OciLabels=`, the manifest's
/// annotations are mkosi's version, `ImageVersion=` and `OciAnnotations=`, and the index names
/// the image by `ImageId=`.
enum OCIImage {
    static func make(_ context: BuildContext) throws {
        let config = context.config
        let suffix: String
        switch config.compression {
        case .none: suffix = ""
        case .gz: suffix = "+gzip"
        case .zstd: suffix = "+zstd"
        default:
            throw MkosiError.config("Compression \(config.compression.rawValue) is not supported for OCI layers (CompressOutput=)",
                                    hint: "Use CompressOutput=gz (the default for OCI), zstd or none")
        }
        guard let architecture = ociArchitecture(config.architecture) else {
            throw MkosiError.config("Architecture \(config.architecture.rawValue) is not supported by OCI")
        }
        let layout = Path.join(context.staging, config.outputWithFormat)
        let blobs = layout + "/blobs/sha256"
        try FS.makeDirectories(blobs)

        let layer = context.workspace + "/rootfs.layer"
        try Output.writeTar(context, to: layer)
        let diffID = try sha256(layer, context: context)
        var compressed = layer
        if config.compression != .none {
            try Output.compress(layer, config: config, context: context, directory: context.workspace)
            compressed = layer + "." + config.compression.fileExtension
        }
        let layerDigest = try sha256(compressed, context: context)
        guard rename(compressed, Path.join(blobs, layerDigest)) == 0 else { throw FS.systemError("Cannot move the OCI layer") }

        let created = creationTime(config[.sourceDateEpoch])
        var imageConfig: [(String, JSON)] = [("Cmd", .array((["/sbin/init"] + config[.kernelCommandLine]).map(JSON.string)))]
        let labels = config[.ociLabels].pairs
        if !labels.isEmpty { imageConfig.append(("Labels", .object(labels.map { ($0.0, .string($0.1)) }))) }
        let configBlob = JSON.object([
            ("created", .string(created)), ("architecture", .string(architecture)), ("os", .string("linux")),
            ("rootfs", .object([("type", .string("layers")), ("diff_ids", .array([.string("sha256:\(diffID)")]))])),
            ("config", .object(imageConfig)),
            ("history", .array([.object([("created", .string(created)), ("comment", .string("Created by mkosi"))])])),
        ])
        let (configDigest, configSize) = try writeBlob(configBlob, into: blobs, context: context)

        var annotations: [(String, JSON)] = [("io.systemd.mkosi.version", .string(MkosiVersion.current))]
        if let version = config[.imageVersion] { annotations.append(("org.opencontainers.image.version", .string(version))) }
        for (key, value) in config[.ociAnnotations].pairs {
            annotations.removeAll { $0.0 == key }
            annotations.append((key, .string(value)))
        }
        let layerSize = FS.stat(Path.join(blobs, layerDigest))?.size ?? 0
        let manifest = JSON.object([
            ("schemaVersion", .int(2)), ("mediaType", .string("application/vnd.oci.image.manifest.v1+json")),
            ("config", .object([("mediaType", .string("application/vnd.oci.image.config.v1+json")),
                                ("digest", .string("sha256:\(configDigest)")), ("size", .int(configSize))])),
            ("layers", .array([.object([("mediaType", .string("application/vnd.oci.image.layer.v1.tar\(suffix)")),
                                        ("digest", .string("sha256:\(layerDigest)")), ("size", .int(Int(layerSize)))])])),
            ("annotations", .object(annotations)),
        ])
        let (manifestDigest, manifestSize) = try writeBlob(manifest, into: blobs, context: context)
        var entry: [(String, JSON)] = [("mediaType", .string("application/vnd.oci.image.manifest.v1+json")),
                                       ("digest", .string("sha256:\(manifestDigest)")), ("size", .int(manifestSize))]
        if let id = config[.imageID] {
            entry.append(("annotations", .object([("org.opencontainers.image.ref.name", .string(id))])))
        }
        let index = JSON.object([("schemaVersion", .int(2)), ("mediaType", .string("application/vnd.oci.image.index.v1+json")),
                                 ("manifests", .array([.object(entry)]))])
        try FS.writeAtomically(layout + "/index.json", dumps(index))
        try FS.writeAtomically(layout + "/oci-layout", dumps(.object([("imageLayoutVersion", .string("1.0.0"))])))
    }

    /// Python's `json.dumps` default layout (`", "` and `": "` separators, one line), as upstream
    /// writes the blobs.
    static func dumps(_ value: JSON) -> String {
        value.serialized(indent: nil, sortKeys: false)
    }

    static func writeBlob(_ value: JSON, into blobs: String, context: BuildContext) throws -> (String, Int) {
        let text = dumps(value)
        let temporary = blobs + "/.blob"
        try FS.writeAtomically(temporary, text)
        let digest = try sha256(temporary, context: context)
        guard rename(temporary, Path.join(blobs, digest)) == 0 else { throw FS.systemError("Cannot write an OCI blob") }
        return (digest, text.utf8.count)
    }

    static func sha256(_ path: String, context: BuildContext) throws -> String {
        let out = try HostCommand.capture(["sha256sum", path]).output
        return String(out.prefix(while: { $0 != " " }))
    }

    /// `SourceDateEpoch=` or now, as Python's `datetime.isoformat()` in UTC.
    static func creationTime(_ epoch: Int?) -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = time_t(epoch ?? Int(ts.tv_sec))
        var tm = tm()
        gmtime_r(&seconds, &tm)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var text = "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))"
        if epoch == nil {
            let micro = String(ts.tv_nsec / 1000)
            text += "." + String(repeating: "0", count: 6 - micro.count) + micro
        }
        return text + "+00:00"
    }

    /// The architecture names of the OCI image specification.
    static func ociArchitecture(_ architecture: Architecture) -> String? {
        switch architecture {
        case .arm: "arm"
        case .arm64: "arm64"
        case .loongarch64: "loong64"
        case .mips64LE: "mips64le"
        case .mipsLE: "mipsle"
        case .ppc: "ppc"
        case .ppc64: "ppc64"
        case .ppc64LE: "ppc64le"
        case .riscv32: "riscv"
        case .riscv64: "riscv64"
        case .s390x: "s390x"
        case .x86: "386"
        case .x86_64: "amd64"
        default: nil
        }
    }
}
