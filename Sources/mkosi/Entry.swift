#if canImport(Glibc)
import Glibc
#endif
import MkosiCommands
import MkosiSandbox

/// `mkosi`: the sandbox helper branch runs first (while the process has one thread), then the
/// companion commands when called by their name (`mkosi-initrd`, `mkosi-sandbox`,
/// `mkosi-addon`); everything else happens in `Mkosi.run`, which never throws.
@main
enum Entry {
    static func main() {
        // A parent may have left signals blocked (Foundation's Process does); Ctrl-C and SIGTERM
        // must reach mkosi so it can stop its children and clean up.
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        let args = Array(CommandLine.arguments.dropFirst())
        if args.first == SandboxHelper.flag {
            SandboxHelper.main(Array(args.dropFirst()))
        }
        if let name = Companions.named(CommandLine.arguments.first ?? "") { exit(Companions.run(name, args)) }
        if let status = Mkosi.enterBuildNamespace(args) { exit(status) }
        exit(Mkosi.run(args))
    }
}
