extension Config {
    /// Where `key`'s value was given ("mkosi.conf:7", "command line (--console)"), nil for a
    /// default. For a list, the origin that named `path` when that can be told (an auto-detected
    /// `mkosi.extra`, a single assignment); otherwise every place that added to the list. Paths
    /// are relative to `cwd` where they are below it.
    public func location<T>(of key: SettingKey<T>, path: String? = nil, cwd: String) -> String? {
        let origins = origins(of: key).flatMap { o -> [Origin] in
            if case .promoted(let inner) = o { return inner }
            return [o]
        }.filter { $0 != .defaultValue && $0 != .mainImage }
        guard !origins.isEmpty else { return nil }
        if let path, let auto = origins.first(where: { if case .autoFile(let p) = $0 { return p == path } else { return false } }) {
            return Origin.describe([auto], cwd: cwd)
        }
        let named = origins.filter { if case .autoFile = $0 { return false } else { return true } }
        return Origin.describe(named.isEmpty ? origins : named, cwd: cwd)
    }
}
