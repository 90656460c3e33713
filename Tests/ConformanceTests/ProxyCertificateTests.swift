import Foundation
import TestSupport
import Testing

/// `ProxyPeerCertificate=`, `ProxyClientCertificate=` and `ProxyClientKey=` reach curl: through
/// an HTTPS proxy on 127.0.0.1 that demands a client certificate signed by its own CA,
/// `latest-snapshot` gets its answer only with the certificates configured.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")
                && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs openssl and curl"))
struct ProxyCertificateTests {
    let mkosi = Binary.locate()

    /// A proxy that answers every request it gets itself (nothing is forwarded).
    static let proxy = """
        import http.server, ssl, sys
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b'{"result": {"debian": ["20200101T000000Z", "20261208T010203Z"]}}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *a): pass
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain("server.crt", "server.key")
        ctx.load_verify_locations("ca.crt")
        ctx.verify_mode = ssl.CERT_REQUIRED
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        s.socket = ctx.wrap_socket(s.socket, server_side=True)
        print("listening", s.server_address[1], file=sys.stderr, flush=True)
        s.serve_forever()
        """

    func sh(_ script: String, in dir: String) throws {
        let r = try Shell.run(["sh", "-ec", script], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test func latestSnapshotThroughAProxyThatWantsAClientCertificate() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-proxy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let subj = "-subj /CN=mkosi-test"
        try sh("""
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \(subj)-ca 2>/dev/null
            for who in server client; do
                openssl req -newkey rsa:2048 -nodes -keyout $who.key -out $who.csr \(subj)-$who 2>/dev/null
                printf 'subjectAltName=IP:127.0.0.1\\n' >ext
                openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $who.crt -days 2 -extfile ext 2>/dev/null
            done
            chmod 600 client.key client.crt
            """, in: dir)
        try Self.proxy.write(toFile: dir + "/proxy.py", atomically: true, encoding: .utf8)
        let server = try Running(["/usr/bin/env", "python3", dir + "/proxy.py"], cwd: dir)
        // SIGKILL: the child may have inherited SIGTERM blocked.
        defer { kill(server.pid, SIGKILL); _ = server.wait() }
        #expect(server.waitFor("listening", timeout: 20))
        let port = try #require(server.stderr.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines))

        let common = ["-d", "debian", "--mirror=http://snapshot.invalid", "--proxy-url=https://127.0.0.1:\(port)",
                      "--proxy-peer-certificate=\(dir)/ca.crt"]
        let withCertificate = try Shell.run([mkosi] + common + ["--proxy-client-certificate=\(dir)/client.crt",
                                                                "--proxy-client-key=\(dir)/client.key", "latest-snapshot"], cwd: dir)
        #expect(withCertificate.status == 0, "\(withCertificate.stderr)")
        #expect(withCertificate.stdout == "20261208T010203Z\n")

        let without = try Shell.run([mkosi] + common + ["latest-snapshot"], cwd: dir)
        #expect(without.status != 0 && without.stderr.contains("Could not get the latest snapshot"), "\(without.stderr)")
    }
}
