import Foundation
import MkosiConfig
import Testing

/// The proxy certificates' mounts, curl and dnf options and git environment.
@Suite struct ProxyCertificatesTests {
    @Test func eachConfiguredFileIsMountedAndNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-proxycert-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["ca.crt", "client.crt"] {
            #expect(FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(), attributes: [.posixPermissions: 0o600]))
        }
        try "[Build]\nProxyPeerCertificate=ca.crt\nProxyClientCertificate=client.crt\n"
            .write(toFile: dir + "/mkosi.conf", atomically: true, encoding: .utf8)
        let config = try #require(try ConfigLoader.load(["summary"], cwd: dir, resources: BuiltinResources()).main)
        let c = ProxyCertificates(config, cwd: dir)
        #expect(c.mounts.map(\.source) == [dir + "/ca.crt", dir + "/client.crt", dir + "/client.crt"])
        #expect(c.mounts.map(\.target) == ["/proxy.cacert", "/proxy.clientcert", "/proxy.clientkey"])
        #expect(c.curlOptions == ["--proxy-cacert", "/proxy.cacert", "--proxy-cert", "/proxy.clientcert",
                                  "--proxy-key", "/proxy.clientkey"])
        #expect(c.dnfOptions == ["--setopt=proxy_sslcacert=/proxy.cacert", "--setopt=proxy_sslclientcert=/proxy.clientcert",
                                 "--setopt=proxy_sslclientkey=/proxy.clientkey"])
        #expect(c.gitEnvironment == ["GIT_PROXY_SSL_CAINFO": "/proxy.cacert", "GIT_PROXY_SSL_CERT": "/proxy.clientcert",
                                     "GIT_PROXY_SSL_KEY": "/proxy.clientkey"])
        for name in ["ProxyPeerCertificate", "ProxyClientCertificate", "ProxyClientKey"] {
            let support = try #require(Settings.all.first { $0.name == name }?.support)
            if case .honoured = support.status {} else { Issue.record("\(name) is not honoured in the table") }
        }
    }
}
