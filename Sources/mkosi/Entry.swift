#if canImport(Glibc)
import Glibc
#endif
import MkosiCommands

/// `mkosi`: everything happens in `Mkosi.run`, which never throws.
@main
enum Entry {
    static func main() {
        let status = Mkosi.run(Array(CommandLine.arguments.dropFirst()))
        exit(status)
    }
}
