import MkosiCore

/// `ProxyPeerCertificate=`, `ProxyClientCertificate=` and `ProxyClientKey=`, as upstream passes
/// them: bound into every tools sandbox at fixed paths (`/proxy.cacert`, `/proxy.clientcert`,
/// `/proxy.clientkey`), and named there to the programs that
/// talk to the proxy themselves (curl, dnf, git through its environment). apt, pacman, zypper
/// and apk have no options for them (upstream passes them none either). curl gets the peer
/// certificate bundle with `--proxy-cacert` (upstream's `--proxy-capath` wants a directory of
/// hashed certificates, which a bundle file is not).
public struct ProxyCertificates: Equatable, Sendable {
    /// The files (host path → path in the sandbox) the sandboxes bind read-only.
    public var mounts: [(source: String, target: String)]
    public var curlOptions: [String] = []
    public var dnfOptions: [String] = []
    public var gitEnvironment: [String: String] = [:]

    public static func == (a: Self, b: Self) -> Bool {
        a.mounts.map(\.source) == b.mounts.map(\.source) && a.mounts.map(\.target) == b.mounts.map(\.target)
            && a.curlOptions == b.curlOptions && a.dnfOptions == b.dnfOptions && a.gitEnvironment == b.gitEnvironment
    }

    /// The certificates of `config`; relative paths are taken from `cwd`.
    public init(_ config: Config, cwd: String = "/") {
        mounts = []
        let files: [(SettingKey<String?>, String, String, String, String)] = [
            (.proxyPeerCertificate, "/proxy.cacert", "--proxy-cacert", "proxy_sslcacert", "GIT_PROXY_SSL_CAINFO"),
            (.proxyClientCertificate, "/proxy.clientcert", "--proxy-cert", "proxy_sslclientcert", "GIT_PROXY_SSL_CERT"),
            (.proxyClientKey, "/proxy.clientkey", "--proxy-key", "proxy_sslclientkey", "GIT_PROXY_SSL_KEY"),
        ]
        for (key, target, curl, dnf, git) in files {
            guard let path = config[key], !path.isEmpty else { continue }
            mounts.append((Path.join(cwd, path), target))
            curlOptions += [curl, target]
            dnfOptions.append("--setopt=\(dnf)=\(target)")
            gitEnvironment[git] = target
        }
    }
}
