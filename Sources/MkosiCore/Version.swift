/// A version string ordered by the UAPI Group Version Format Specification (systemd's
/// `strverscmp_improved`): `~` sorts before everything, `-` and `^` separate parts, numeric runs
/// compare as numbers, letter runs compare as strings.
public struct Version: Comparable, CustomStringConvertible, Sendable {
    public let text: String

    public init(_ text: String) { self.text = text }

    public var description: String { text }

    public static func == (a: Version, b: Version) -> Bool { compare(a.text, b.text) == 0 }
    public static func < (a: Version, b: Version) -> Bool { compare(a.text, b.text) < 0 }

    /// -1, 0 or 1 as `a` sorts before, equal to, or after `b`.
    public static func compare(_ a: String, _ b: String) -> Int {
        var x = Array(a.utf8)[...]
        var y = Array(b.utf8)[...]

        func isValid(_ c: UInt8) -> Bool {
            isDigit(c) || isLetter(c) || c == UInt8(ascii: "~") || c == UInt8(ascii: "-")
                || c == UInt8(ascii: "^") || c == UInt8(ascii: ".")
        }
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        func isLetter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        func dropInvalid(_ s: inout ArraySlice<UInt8>) {
            while let f = s.first, !isValid(f) { s.removeFirst() }
        }
        /// Handles a separator that must appear on both sides; returns the verdict if only one has it.
        func separator(_ c: UInt8, leftSmaller: Int) -> Int? {
            let xs = x.first == c, ys = y.first == c
            if xs && ys {
                x.removeFirst()
                y.removeFirst()
                return nil
            }
            if xs { return leftSmaller }
            if ys { return -leftSmaller }
            return nil
        }

        while true {
            dropInvalid(&x)
            dropInvalid(&y)
            if let r = separator(UInt8(ascii: "~"), leftSmaller: -1) { return r }
            if x.isEmpty && y.isEmpty { return 0 }
            if x.isEmpty { return -1 }
            if y.isEmpty { return 1 }
            if let r = separator(UInt8(ascii: "-"), leftSmaller: -1) { return r }
            if let r = separator(UInt8(ascii: "^"), leftSmaller: -1) { return r }
            if let r = separator(UInt8(ascii: "."), leftSmaller: -1) { return r }

            let xd = x.prefix(while: isDigit), yd = y.prefix(while: isDigit)
            if !xd.isEmpty || !yd.isEmpty {
                let xn = xd.drop(while: { $0 == 0x30 }), yn = yd.drop(while: { $0 == 0x30 })
                if xn.count != yn.count { return xn.count < yn.count ? -1 : 1 }
                if xn != yn { return xn.lexicographicallyPrecedes(yn) ? -1 : 1 }
                x = x.dropFirst(xd.count)
                y = y.dropFirst(yd.count)
                continue
            }
            let xl = x.prefix(while: isLetter), yl = y.prefix(while: isLetter)
            if xl != yl { return xl.lexicographicallyPrecedes(yl) ? -1 : 1 }
            x = x.dropFirst(xl.count)
            y = y.dropFirst(yl.count)
            if xl.isEmpty && yl.isEmpty {
                // Neither side made progress (cannot happen after the checks above, but never loop).
                return 0
            }
        }
    }
}
