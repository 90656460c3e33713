import MkosiConfig
import MkosiCore
import MkosiVM

/// `mkosi ssh [-- COMMAND…]`: ssh as root into the running `mkosi vm` of this image, through the
/// `ProxyCommand` its state file names (vsock, or the port `vm` forwards from 127.0.0.1 where
/// there is no vsock), with the key `SshKey=` named when the VM started. Host keys are not
/// checked (the machine is new each boot), as upstream.
enum SshCommand {
    static func run(_ runtime: RuntimeContext, arguments: [String]) throws -> Int32 {
        let main = runtime.config
        let state = try VMState.load(machine: main[.machine] ?? main.image)
        guard let key = state.sshKey else {
            throw MkosiError.config("An SSH key must be configured when booting the image to use 'mkosi ssh'",
                                    hint: "Use 'mkosi genkey' to generate a new SSH key and certificate")
        }
        var s = try runtime.toolsSandbox()
        s.bind(key, readOnly: true)
        let argv = ["ssh", "-i", key, "-F", "none", "-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no",
                    "-o", "LogLevel=ERROR", "-o", "ProxyCommand=\(state.proxyCommand)", "root@mkosi"] + arguments
        var env = Dictionary(Env.all(), uniquingKeysWith: { _, last in last })
        env["SHELL"] = "/bin/bash"
        return try runtime.runInteractive(argv, in: s, environment: env)
    }
}
