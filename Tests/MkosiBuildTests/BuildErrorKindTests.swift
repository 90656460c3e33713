import Testing
@testable import MkosiBuild
import MkosiCore

struct BuildErrorKindTests {
    /// A `re:` entry that is no regular expression is the configuration's fault, and the
    /// compiler's complaint is kept as the cause.
    @Test func anInvalidModuleRegexIsAConfigErrorWithItsCause() throws {
        do {
            _ = try KernelModules.regexes(["virtio", "re:(unclosed"], "KernelModules=")
            Issue.record("an invalid regular expression was accepted")
        } catch let e as MkosiError {
            #expect(e.code == .config)
            #expect(e.message == "Invalid regular expression '(unclosed' in a KernelModules= setting")
            guard case .other(let text)? = e.cause else {
                Issue.record("the cause is \(String(describing: e.cause))")
                return
            }
            #expect(!text.isEmpty)
        }
    }
}
