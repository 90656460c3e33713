#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiDocs

/// `mkosi documentation [MANUAL]`: a manual, in the `--doc-format` asked for.
///
/// As upstream: `man` shows the man page with `man -l` (here rendered from the Markdown by
/// `ManPage`), `pandoc` renders it with pandoc first, `markdown` prints the Markdown through the
/// pager, `system` runs `man SECTION NAME` (the installed page), and `auto` takes the first of
/// man, pandoc, markdown, system that can work here. Added: `roff` prints the man page source.
/// `--no-pager` reaches `man` as `-P cat`.
enum DocumentationCommand {
    /// Upstream's short names for manuals.
    static let aliases = ["addon": "mkosi-addon", "initrd": "mkosi-initrd", "sandbox": "mkosi-sandbox", "news": "mkosi.news"]

    static func run(_ args: Args, resources: BuiltinResources) throws {
        guard args.cmdline.count <= 1 else {
            throw MkosiError.usage("documentation takes one manual name, not \(args.cmdline.count)")
        }
        let requested = args.cmdline.first ?? "mkosi"
        let name = aliases[requested] ?? requested
        let available = try manuals(resources)
        guard available.contains(name) else {
            throw MkosiError.usage("No manual named '\(requested)'", hint: "Available manuals: \(available.joined(separator: ", "))")
        }
        guard let format = DocFormat(rawValue: args.docFormat) else {
            throw MkosiError.usage("argument --doc-format: invalid choice: '\(args.docFormat)'")
        }
        let manual = Page(name: name, section: name == "mkosi.news" ? 7 : 1,
                          markdown: try Manual.markdown(named: name, resources: resources))
        let find = { (tool: String) in Pager.find(tool, path: Env.get("PATH")) }
        switch format {
        case .auto:
            // Upstream's order; `system` is never reached, markdown always works.
            if let man = find("man") {
                try showMan(manual, man: man, pager: args.pager)
            } else if let pandoc = find("pandoc"), let man = find("man") {
                try showPandoc(manual, pandoc: pandoc, man: man, pager: args.pager)
            } else {
                Pager.page(manual.markdown, enabled: args.pager)
            }
        case .man:
            try showMan(manual, man: try need("man", find, package: "man-db"), pager: args.pager)
        case .pandoc:
            try showPandoc(manual, pandoc: try need("pandoc", find, package: "pandoc"),
                           man: try need("man", find, package: "man-db"), pager: args.pager)
        case .markdown:
            Pager.page(manual.markdown, enabled: args.pager)
        case .system:
            let man = try need("man", find, package: "man-db")
            try HostCommand.run([man] + pagerOptions(args.pager) + [String(manual.section), name])
        case .roff:
            Terminal.writeStdout(manual.roff)
        }
    }

    /// A manual to show.
    struct Page {
        var name: String
        var section: Int
        var markdown: String

        var roff: String {
            ManPage.render(markdown: markdown, name: name, section: section, date: DocumentationCommand.date(),
                           source: "mkosi \(MkosiVersion.current)")
        }
    }

    /// The manuals there are: `docs/*.md` of the resources, sorted.
    static func manuals(_ resources: BuiltinResources) throws -> [String] {
        let dir = try resources.path(of: "docs")
        return (try? FS.listDirectory(dir))?.filter { $0.hasSuffix(".md") }.map { String($0.dropLast(3)) }.sorted() ?? []
    }

    /// The path of `tool`, or an error naming the `--doc-format` that needs it.
    static func need(_ tool: String, _ find: (String) -> String?, package: String) throws -> String {
        guard let path = find(tool) else {
            throw MkosiError.config("--doc-format needs \(tool), which is not installed",
                                    hint: "Install \(package), or use --doc-format=markdown")
        }
        return path
    }

    static func pagerOptions(_ pager: Bool) -> [String] { pager ? [] : ["-P", "cat"] }

    static func showMan(_ manual: Page, man: String, pager: Bool) throws {
        try withScratch { dir in
            let file = "\(dir)/\(manual.name).\(manual.section)"
            try FS.writeAtomically(file, manual.roff)
            try HostCommand.run([man] + pagerOptions(pager) + ["-l", file])
        }
    }

    static func showPandoc(_ manual: Page, pandoc: String, man: String, pager: Bool) throws {
        try withScratch { dir in
            let source = "\(dir)/\(manual.name).md", filter = "\(dir)/code-as-bold.lua", file = "\(dir)/\(manual.name).\(manual.section)"
            try FS.writeAtomically(source, manual.markdown)
            // Inline code in bold, as upstream's pages show it.
            try FS.writeAtomically(filter, "function Code(c)\n  return pandoc.Strong({pandoc.Str(c.text)})\nend\n")
            let roff = try HostCommand.capture([pandoc, "--from=markdown", "--to=man", "--standalone", "--lua-filter=\(filter)",
                                                "--metadata=title:\(manual.name.uppercased())",
                                                "--metadata=section:\(manual.section)", "--metadata=date:\(date())",
                                                "--metadata=footer:mkosi \(MkosiVersion.current)"]
                                                + (ManPage.hasTitle(manual.markdown) ? ["--shift-heading-level-by=-1"] : []) + [source])
            try FS.writeAtomically(file, roff.output)
            try HostCommand.run([man] + pagerOptions(pager) + ["-l", file])
        }
    }

    static func withScratch(_ body: (String) throws -> Void) throws {
        let dir = try FS.makeTemporaryDirectory(in: Env.get("TMPDIR").flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp",
                                                prefix: "mkosi-documentation")
        defer { _ = FS.removeTree(dir) }
        try body(dir)
    }

    /// The man page's date: `$SOURCE_DATE_EPOCH` when set (reproducible installs), else today (UTC).
    static func date() -> String {
        var t = time_t(Env.get("SOURCE_DATE_EPOCH").flatMap { Int($0) } ?? Int(time(nil)))
        var tm = tm()
        gmtime_r(&t, &tm)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))"
    }
}
