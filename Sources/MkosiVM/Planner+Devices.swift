import MkosiConfig
import MkosiCore

/// The decisions qemu and systemd-vmspawn share.
extension Planner {
    /// `KVM=`: yes requires `/dev/kvm`; auto uses it only where it can work (`RuntimeHost.kvm`).
    func kvm() throws -> Bool {
        switch config[.kvm] {
        case .enabled:
            guard host.kvmDevice else {
                throw refuse(.hostUnsupported, .kvm, "KVM=yes, but /dev/kvm cannot be opened", hint: "Use KVM=auto or KVM=no to emulate")
            }
            return true
        case .disabled: return false
        case .auto: return host.kvm
        }
    }

    /// The vCPUs (`RuntimeRules.vCPUs`), with a note when the default was raised for an emulated CPU.
    func cpus(kvm: Bool, into m: inout Machine) {
        let isDefault = config.origins(of: .cpus).allSatisfy { $0 == .defaultValue }
        m.cpus = RuntimeRules.vCPUs(config[.cpus], isDefault: isDefault, kvm: kvm, hostCPUs: host.cpus)
        if !kvm { m.notes.append("Emulating the CPU (TCG): no usable KVM on this machine") }
        if m.cpus != config[.cpus] && config[.cpus] != 0 {
            m.notes.append("Emulating \(m.cpus) CPUs: CPUs= is not set, and qemu runs each emulated CPU in a thread of its own")
        }
    }

    /// `VSock=`: a vhost-vsock device where `/dev/vhost-vsock` opens; yes insists on it.
    func vsock() throws -> Bool {
        guard config[.vsock] != .disabled else { return false }
        guard host.vhostVsock else {
            if config[.vsock] == .enabled {
                throw refuse(.hostUnsupported, .vsock, "VSock=yes, but /dev/vhost-vsock cannot be opened (\(host.vhostVsockError ?? "missing"))",
                             hint: "Load the vhost_vsock module, or use VSock=auto")
            }
            return false
        }
        return true
    }

    /// `TPM=` (`RuntimeRules.wantTPM`); yes without swtpm is refused.
    func tpm(uefi: Bool) throws -> Bool {
        let want = RuntimeRules.wantTPM(config[.tpm], uefi: uefi, available: host.tools.swtpm)
        if want && !host.tools.swtpm {
            var error = MkosiError.missingTool("TPM=yes, but swtpm", packages: "swtpm and swtpm-tools", toolsTree: toolsTree)
            error.location = config.location(of: .tpm, cwd: request.cwd)
            throw error
        }
        return want
    }

    /// `Register=`: machined must run for yes; auto registers where it does.
    func register(possible: Bool, what: String) throws -> Bool {
        switch config[.register] {
        case .disabled: return false
        case .auto: return possible
        case .enabled:
            guard possible else {
                throw refuse(.hostUnsupported, .register, "Register=yes, but \(what)",
                             hint: "Is systemd-container installed and new enough (v259 or newer)? Register=auto skips this where machined does not run")
            }
            return true
        }
    }

    /// `RuntimeNetwork=interface` makes a tap device, which needs root.
    func network() throws {
        if config[.runtimeNetwork] == .interface && !host.isRoot {
            throw refuse(.hostUnsupported, .runtimeNetwork, "RuntimeNetwork=interface requires root privileges",
                         hint: "Run mkosi as root, or use RuntimeNetwork=user")
        }
    }

    /// `FirmwareVariables=` resolved; whether Microsoft's keys are to be enrolled.
    func variables() throws -> (Machine.Variables, microsoft: Bool) {
        let setting = config[.firmwareVariables]
        let microsoft = setting == "microsoft" || setting == "microsoft-mok"
        switch setting {
        case nil, "microsoft": return (.template, microsoft)
        case "custom", "microsoft-mok":
            guard let certificate = config[.secureBootCertificate] else {
                throw refuse(.config, .firmwareVariables, "FirmwareVariables=\(setting!) needs a certificate to enrol (SecureBootCertificate=)",
                             hint: "Run mkosi genkey to generate a key/certificate pair")
            }
            return (.enrol(certificate: certificate, mok: setting == "microsoft-mok"), microsoft)
        case let path?:
            guard image.firmwareVariablesExist else { throw refuse(.config, .firmwareVariables, "Firmware variables file \(path) does not exist") }
            return (.file(path), false)
        }
    }

    /// `Console=`: gui needs a display; interactive and read-only run the monitor under
    /// systemd-pty-forward (tinted, titled, as upstream; read-only passes no input).
    func console(into m: inout Machine) throws {
        let console = config[.console]
        if console == .gui && !host.graphicalDisplay {
            throw refuse(.hostUnsupported, .console, "Console=gui needs a graphical display ($DISPLAY or $WAYLAND_DISPLAY), and there is none",
                         hint: "Use Console=native (the default) or Console=headless")
        }
        guard console == .interactive || console == .readOnly else { return }
        guard let forward = host.tools.ptyForward else {
            throw refuse(.missingTool, .console, "Console=\(console.rawValue) needs systemd-pty-forward (systemd 258 or newer), which is not installed\(toolsTree.map { " in the tools tree \($0)" } ?? "")",
                         hint: "Use a tools tree from Debian testing (ToolsTreeRelease=testing), or Console=native")
        }
        let environment = config[.environment]
        let tint = host.tintBackground && (environment["SYSTEMD_TINT_BACKGROUND"].map(RuntimeHost.isTrue) ?? true)
        let title = host.adjustTitle && (environment["SYSTEMD_ADJUST_TERMINAL_TITLE"].map(RuntimeHost.isTrue) ?? true)
        var argv = [forward]
        if tint { argv += ["--background", "48;2;12;51;19"] }
        if title { argv += ["--title", "Virtual Machine \(m.name)"] }
        if console == .readOnly { argv.append("--read-only") }
        m.ptyForward = argv.count > 1 ? argv : nil
    }

    /// `BindUser=`: the invoking user, who must have a name (and not be root).
    func bindUser() throws -> String? {
        guard config[.bindUser] else { return nil }
        guard let user = host.invokingUser, user != "root" else {
            throw refuse(.config, .bindUser, "BindUser=yes binds the invoking user, but mkosi runs as root without SUDO_USER",
                         hint: "Run mkosi through sudo as a regular user, or drop BindUser=")
        }
        return user
    }
}
