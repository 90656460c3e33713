import MkosiCore
import Testing

@Suite struct JSONTests {
    @Test func serializesLikePythonJsonDumps() {
        let doc = JSON.object([
            ("b", .array([.int(1), .string("x")])), ("a", .object([])), ("c", .array([])), ("d", .null),
            ("e", .bool(true)),
        ])
        #expect(doc.serialized() == """
        {
            "a": {},
            "b": [
                1,
                "x"
            ],
            "c": [],
            "d": null,
            "e": true
        }
        """)
    }

    @Test func escapesAsciiOnly() {
        #expect(JSON.string("a\"b\\c\nd\té").serialized() == #""a\"b\\c\nd\t\u00e9""#)
        #expect(JSON.string("\u{1F600}\u{7F}\u{01}").serialized() == #""\ud83d\ude00\u007f\u0001""#)
        #expect(JSON.string("/usr/lib").serialized() == #""/usr/lib""#)
    }

    @Test func parsesWhatItWrites() throws {
        let doc = JSON.object([("k", .array([.string("é\n"), .int(-3), .double(1.5), .null, .bool(false)]))])
        #expect(try JSON.parse(doc.serialized()) == doc)
        #expect(try JSON.parse(#"{"a": "\u00e9\ud83d\ude00"}"#)["a"] == .string("é\u{1F600}"))
        #expect(throws: MkosiError.self) { try JSON.parse("{\"a\": }") }
    }
}

@Suite struct ShellLexerTests {
    @Test(arguments: [
        ("a b", ["a", "b"]), ("a \"b c\" d", ["a", "b c", "d"]), ("x='y z'", ["x=y z"]), ("a#b", ["a#b"]),
        ("a\\ b", ["a b"]), ("", []), ("  ", []), ("a,b c", ["a,b", "c"]), ("\"\"", [""]),
        ("\"a\\\"b\"", ["a\"b"]), ("\"a\\nb\"", ["a\\nb"]), ("'a\\b'", ["a\\b"]), ("a\nb", ["a", "b"]),
    ])
    func splits(_ input: String, _ expected: [String]) throws {
        #expect(try ShellLexer.split(input) == expected)
    }

    @Test func unterminatedQuotesThrow() {
        #expect(throws: MkosiError.self) { try ShellLexer.split("\"open") }
        #expect(throws: MkosiError.self) { try ShellLexer.split("trailing\\") }
    }

    @Test func quoting() {
        #expect(ShellLexer.quote("plain-word") == "plain-word")
        #expect(ShellLexer.quote("two words") == "'two words'")
        #expect(ShellLexer.quote("it's") == "'it'\"'\"'s'")
    }
}

@Suite struct PathTests {
    @Test func normalizeAndJoin() {
        #expect(Path.normalize("a//b/./c/") == "a/b/c")
        #expect(Path.normalize("") == ".")
        #expect(Path.normalize("/a/../b") == "/a/../b")
        #expect(Path.join("/x", "y/z") == "/x/y/z")
        #expect(Path.join("/x", "/abs") == "/abs")
        #expect(Path.dirname("/a/b") == "/a" && Path.dirname("/a") == "/" && Path.dirname("a") == ".")
        #expect(Path.basename("/a/b.conf") == "b.conf" && Path.suffix("b.conf") == ".conf" && Path.suffix(".conf") == "")
        #expect(Path.relative("/a/b/c", to: "/a") == "b/c" && Path.relative("/ab", to: "/a") == nil)
    }

    @Test func resolveFollowsSymlinksAsFarAsTheyExist() {
        #expect(Path.resolve("/proc/self/../1/../missing/x", cwd: "/") == "/proc/missing/x")
        #expect(Path.resolve("rel", cwd: "/usr") == "/usr/rel")
    }

    @Test func expandVariablesAndUser() {
        let env: (String) -> String? = { ["A": "1", "B_C": "2"][$0] }
        #expect(Path.expandVariables("$A/${B_C}/$NOPE/${NOPE}/$", environment: env) == "1/2/$NOPE/${NOPE}/$")
        #expect(Path.expandUser("~/x").hasSuffix("/x") && !Path.expandUser("~/x").hasPrefix("~"))
        #expect(Path.expandUser("a/~") == "a/~")
    }

    @Test func fnmatchMatchesSlashesAndDots() {
        #expect(Glob.fnmatch("foo-*", "foo-bar/baz"))
        #expect(Glob.fnmatch("*", ".hidden"))
        #expect(!Glob.fnmatch("a?", "abc"))
        #expect(Glob.fnmatch("[!a]b", "cb"))
    }
}
