import Foundation
@testable import MkosiDocs
import Testing

/// The Markdown → roff renderer, construct by construct.
@Suite struct ManPageTests {
    /// The page's body: what follows the header lines (up to `.ad l`).
    func body(_ markdown: String) -> String {
        let page = ManPage.render(markdown: markdown, name: "demo", date: "2026-01-02", source: "mkosi 1")
        let lines = page.split(separator: "\n", omittingEmptySubsequences: false)
        let start = lines.firstIndex(of: ".ad l")!
        return lines[(start + 1)...].joined(separator: "\n")
    }

    @Test func headerNamesThePageSectionDateAndSource() {
        let page = ManPage.render(markdown: "# demo — x\n", name: "mkosi-initrd", section: 1, date: "2026-01-02",
                                  source: "mkosi 27~devel")
        let lines = page.split(separator: "\n").map(String.init)
        #expect(lines.first == "'\\\" t")
        #expect(lines.first { $0.hasPrefix(".") && !$0.hasPrefix(".\\\"") }
            == #".TH "MKOSI\-INITRD" "1" "2026\-01\-02" "mkosi 27~devel" "mkosi Manual""#)
    }

    @Test func titleIsDroppedAndHeadingsBecomeSections() {
        #expect(body("# demo — the title\n\n## NAME\n\ntext\n\n### Sub `x`\n\n#### Deeper\n\nmore\n") == """
        .SH
        NAME
        .PP
        text
        .SS
        Sub x
        .PP
        \\f[B]Deeper\\f[R]
        .PP
        more

        """)
        // Several level-1 headings (upstream's layout): they are the sections.
        #expect(body("% demo(1)\n%\n%\n\n# NAME\n\nx\n\n# OPTIONS\n") == ".SH\nNAME\n.PP\nx\n.SH\nOPTIONS\n")
        #expect(ManPage.hasTitle("# t\n\n## A\n") && !ManPage.hasTitle("# A\n\n# B\n") && !ManPage.hasTitle("x\n\n# A\n"))
    }

    @Test func nameSectionIsOneWhatisLine() {
        #expect(body("## NAME\n\n**mkosi** — builds\nimages\n\nMore.\n") == ".SH\nNAME\n.PP\nmkosi \\- builds images\n.PP\nMore.\n")
    }

    @Test func inlineMarkup() {
        #expect(body("a **b** *c* _d_ `e-f` **g *h* i** snake_case_name 2 * 3 \\*lit\\* `` a`b ``\n")
            == ".PP\na \\f[B]b\\f[R] \\f[I]c\\f[R] \\f[I]d\\f[R] \\f[B]e\\-f\\f[R] \\f[B]g \\f[BI]h\\f[B] i\\f[R] snake_case_name 2 * 3 *lit* \\f[B]a`b\\f[R]\n")
        // Markup may span lines; an unclosed delimiter is literal.
        #expect(body("x **y\nz** w *\n") == ".PP\nx \\f[B]y\nz\\f[R] w *\n")
    }

    @Test func links() {
        #expect(body("see [the site](https://example.org/a-b) and [SPECIFIERS](#specifiers) and [https://x.org](https://x.org)\n")
            == ".PP\nsee the site <https://example.org/\\:a\\-b> and SPECIFIERS and https://x.org\n")
        // A bare URL can be broken after its path's slashes; trailing punctuation is not part of it.
        #expect(body("at https://a.org/b/c. Or <https://d.org/e>\n") == ".PP\nat https://a.org/\\:b/\\:c. Or <https://d.org/\\:e>\n")
    }

    @Test func escapesRoffSpecials() {
        #expect(body("a\\b c -d --e\n.starts a line\n'quoted'\nnon-ASCII: é — … ‘q’\n") == """
        .PP
        a\\eb c \\-d \\-\\-e
        \\&.starts a line
        \\&'quoted'
        non\\-ASCII: \\[u00E9] \\[em] ... \\[oq]q\\[cq]

        """)
    }

    @Test func definitionListEntries() {
        #expect(body("`--x=`, `-x`\n: Does\n  y.\n\n  Second paragraph.\n\n  - item\n\nAfter.\n") == """
        .TP
        \\f[B]\\-\\-x=\\f[R], \\f[B]\\-x\\f[R]
        Does
        y.
        .RS
        .PP
        Second paragraph.
        .IP \\(bu 2
        item
        .RE
        .PP
        After.

        """)
        // Upstream's layout: `:` and three spaces, four-space continuation; consecutive terms.
        #expect(body("`A=`\n:   one\n    two\n\n`B=`\n:   three\n") == ".TP\n\\f[B]A=\\f[R]\none\ntwo\n.TP\n\\f[B]B=\\f[R]\nthree\n")
    }

    @Test func bulletAndOrderedLists() {
        #expect(body("- a\n  b\n- c\n  - d\n\n1. x\n2. y\n") == """
        .IP \\(bu 2
        a
        b
        .IP \\(bu 2
        c
        .RS 2
        .IP \\(bu 2
        d
        .RE
        .IP "1." 3
        x
        .IP "2." 3
        y

        """)
    }

    @Test func fencedCodeIsUnfilledAndEscaped() {
        #expect(body("```sh\n.hidden \\n -x\n\n  'q'\n```\n") == """
        .PP
        .RS 4
        .nf
        \\&.hidden \\en \\-x

          'q'
        .fi
        .RE

        """)
    }

    @Test func narrowTableIsTbl() {
        #expect(body("| Verb | Works |\n|---|:-:|\n| `build` | yes |\n| a \\| b | no |\n| `c\\|d` | x |\n") == """
        .PP
        .ne 6v
        .TS
        lB lB
        l l.
        \\&Verb\t\\&Works
        _
        \\&\\f[B]build\\f[R]\t\\&yes
        \\&a | b\t\\&no
        \\&\\f[B]c|d\\f[R]\t\\&x
        .TE

        """)
    }

    @Test func wideTableIsOneEntryPerRow() {
        let long = String(repeating: "word ", count: 20).trimmingCharacters(in: .whitespaces)
        #expect(body("| Verb | Purpose | Works now |\n|---|---|---|\n| `build` | \(long) | no |\n| `x` | y | |\n") == """
        .TP
        \\f[B]build\\f[R]
        \(long)
        .br
        \\f[I]Works now:\\f[R] no
        .TP
        \\f[B]x\\f[R]
        y

        """)
    }

    @Test func commentsAreDropped() {
        #expect(body("a\n\n<!-- hidden\nstill -->\n\nb\n") == ".PP\na\n.PP\nb\n")
    }

    @Test func visibleWidthCountsGlyphsNotEscapes() {
        #expect(RoffWriter.visibleWidth("\\f[B]a\\-b\\f[R]\\[em]\\&c\\(bu") == 6)
    }
}
