#if canImport(Glibc)
import Glibc
#endif
import MkosiCore

/// The lines that end a build: what each image wrote, how big it is and how long it took, and
/// one line for the whole run.
public enum BuildSummary {
    /// Seconds on the monotonic clock.
    public static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// `1.2 GiB`, `340.0 KiB`, `12 B` (binary units, as `du -h` and systemd count).
    public static func formatSize(_ bytes: Int) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        guard bytes >= 1024 else { return "\(bytes) B" }
        var value = Double(bytes) / 1024, unit = 0
        while value >= 1023.95 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    /// The apparent size of `path`: a file's length, or the sum over a directory tree (symlinks
    /// not followed); nil if it does not exist.
    public static func size(of path: String) -> Int? {
        guard let st = FS.lstat(path) else { return nil }
        guard st.isDirectory else { return Int(st.size) }
        var total = 0
        var pending = [path]
        while let dir = pending.popLast() {
            for entry in (try? FS.listDirectory(dir)) ?? [] {
                let child = dir + "/" + entry
                guard let s = FS.lstat(child) else { continue }
                if s.isDirectory { pending.append(child) } else { total += Int(s.size) }
            }
        }
        return total
    }

    /// How an output is named in the log: relative to the working directory when it is below it.
    public static func displayPath(_ path: String, cwd: String) -> String {
        guard let rel = Path.relative(path, to: cwd), rel != "." else { return path }
        return rel
    }

    /// `Wrote hello.raw (1.2 GiB) in 2m 14s`: the end of one image's build.
    public static func wroteLine(_ output: String, size: Int?, seconds: Double) -> String {
        "Wrote \(output)\(size.map { " (\(formatSize($0)))" } ?? "") in \(Log.formatDuration(seconds))"
    }

    /// `Built 3 images in 5m 2s: hello.raw (1.2 GiB)`: the last line of a build.
    public static func finishedLine(images: Int, output: String?, size: Int?, seconds: Double) -> String {
        let what = images == 1 ? "1 image" : "\(images) images"
        let result = output.map { ": \($0)\(size.map { " (\(formatSize($0)))" } ?? "")" } ?? ""
        return "Built \(what) in \(Log.formatDuration(seconds))\(result)"
    }
}
