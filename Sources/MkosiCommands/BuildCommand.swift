import MkosiBuild
import MkosiConfig
import MkosiCore

/// `mkosi build`: builds every image in order (subimages, then the main image). An existing
/// output is kept unless `-f` is given.
enum BuildCommand {
    static func run(_ loaded: LoadedConfiguration) throws {
        guard let main = loaded.main else { return }
        if loaded.tools != nil {
            throw MkosiError(.unsupported, "ToolsTree=default is not implemented yet",
                             hint: "Build without a tools tree (ToolsTree=) for now")
        }
        if Output.exists(main, cwd: loaded.cwd) && loaded.args.force == 0 {
            Log.info("Output path \(Path.join(main.outputDirectoryOrDefault(cwd: loaded.cwd), main.outputWithCompression)) exists already. (Use --force to rebuild.)")
            return
        }
        // Earlier outputs are replaced only once the new ones are complete, so a failed build
        // leaves them as they were (upstream removes them first with -f).
        for image in loaded.images {
            try Pipeline.build(image, args: loaded.args, cwd: loaded.cwd)
        }
        if main["history"].bool == true && History.wantsNew(loaded.args) {
            try History.write(loaded.commandLineSettings, to: History.directory(for: loaded.args, cwd: loaded.cwd))
        }
    }
}

/// `mkosi clean`: removes the outputs of every image and the saved history.
enum CleanCommand {
    static func run(_ loaded: LoadedConfiguration) throws {
        for image in loaded.images {
            Output.remove(image, cwd: loaded.cwd)
        }
        FS.removeTree(History.directory(for: loaded.args, cwd: loaded.cwd))
    }
}
