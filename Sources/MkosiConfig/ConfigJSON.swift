import MkosiCore

extension Config {
    /// The image's JSON object, as in `--json summary` and `$MKOSI_CONFIG`: one key per setting
    /// (named as in configuration files), plus `Files`, `Image` and, with a build directory,
    /// `BuildSubdirectory`.
    public var json: JSON {
        var pairs: [(String, JSON)] = Settings.jsonDests.map { (Settings.setting($0).name, self[$0].json) }
        pairs.append(("Files", .array(files.map(JSON.string))))
        pairs.append(("Image", .string(image)))
        if let buildDir = self["build_dir"].string {
            pairs.append(("BuildSubdirectory", .string(buildSubdirectory(buildDir))))
        }
        return .object(pairs)
    }

    /// `BuildDirectory=` plus the expanded `BuildKey=` (or the directory itself for `-`).
    public func buildSubdirectory(_ buildDir: String) -> String {
        let key = expandKeySpecifiers(self["build_key"].string ?? "&d~&r~&a")
        return key == "-" ? buildDir : Path.join(buildDir, key)
    }

    /// Expands the delayed `&` specifiers of `CacheKey=` and `BuildKey=`.
    public func expandKeySpecifiers(_ text: String) -> String {
        let values: [Character: String] = [
            "&": "&", "d": distribution.rawValue, "r": release, "a": architecture.rawValue,
            "i": self["image_id"].string ?? "", "v": self["image_version"].string ?? "", "I": image,
        ]
        var out = ""
        var amp = false
        for c in text {
            if amp {
                amp = false
                if let v = values[c] {
                    out += v
                } else if c.isLetter {
                    Log.warning("Unknown specifier '&\(c)' found in \(text), ignoring")
                } else {
                    out += "&"
                    out.append(c)
                }
            } else if c == "&" {
                amp = true
            } else {
                out.append(c)
            }
        }
        if amp { out += "&" }
        return out
    }
}

extension LoadedConfiguration {
    /// `mkosi --json summary`: `{"Images": [...], "Tools": {...}|null}`, formatted as upstream.
    public var summaryJSON: String {
        JSON.object([("Images", .array(images.map(\.json))), ("Tools", tools?.json ?? .null)]).serialized() + "\n"
    }
}
