// One typed key per setting destination, so that the rest of mkosi reads `config[.buildScripts]`
// (a `[String]`) instead of a string-keyed value. The key names only the destination; its type
// says how the value decodes, and its default is the table's (`Settings.all`). The self-check in
// the tests verifies that every destination has exactly one key and that each decodes its
// setting's default.

extension SettingKey where T == Architecture {
    /// Architecture=
    public static var architecture: Self { Self("architecture") }
}

extension SettingKey where T == BiosBootloader {
    /// BiosBootloader=
    public static var biosBootloader: Self { Self("bios_bootloader") }
}

extension SettingKey where T == Bool {
    /// WithRecommends=
    public static var withRecommends: Self { Self("with_recommends") }
    /// WithDocs=
    public static var withDocs: Self { Self("with_docs") }
    /// MicrocodeHost=
    public static var microcodeHost: Self { Self("microcode_host") }
    /// KernelModulesIncludeHost=
    public static var kernelModulesIncludeHost: Self { Self("kernel_modules_include_host") }
    /// KernelModulesInitrd=
    public static var kernelModulesInitrd: Self { Self("kernel_modules_initrd") }
    /// KernelModulesInitrdIncludeHost=
    public static var kernelModulesInitrdIncludeHost: Self { Self("kernel_modules_initrd_include_host") }
    /// Autologin=
    public static var autologin: Self { Self("autologin") }
    /// MakeInitrd=
    public static var makeInitrd: Self { Self("make_initrd") }
    /// RepositoryKeyCheck=
    public static var repositoryKeyCheck: Self { Self("repository_key_check") }
    /// RepositoryKeyFetch=
    public static var repositoryKeyFetch: Self { Self("repository_key_fetch") }
    /// Overlay=
    public static var overlay: Self { Self("overlay") }
    /// Ephemeral=
    public static var ephemeral: Self { Self("ephemeral") }
    /// RuntimeBuildSources=
    public static var runtimeBuildSources: Self { Self("runtime_build_sources") }
    /// BindUser=
    public static var bindUser: Self { Self("bind_user") }
    /// CXL=
    public static var cxl: Self { Self("cxl") }
    /// Removable=
    public static var removable: Self { Self("removable") }
    /// SecureBoot=
    public static var secureBoot: Self { Self("secure_boot") }
    /// SecureBootAutoEnroll=
    public static var secureBootAutoEnroll: Self { Self("secure_boot_auto_enroll") }
    /// Checksum=
    public static var checksum: Self { Self("checksum") }
    /// Sign=
    public static var sign: Self { Self("sign") }
    /// ToolsTreeCertificates=
    public static var toolsTreeCertificates: Self { Self("tools_tree_certificates") }
    /// RepartOffline=
    public static var repartOffline: Self { Self("repart_offline") }
    /// History=
    public static var history: Self { Self("history") }
    /// WithTests=
    public static var withTests: Self { Self("with_tests") }
    /// WithNetwork=
    public static var withNetwork: Self { Self("with_network") }
    /// MakeScriptsExecutable=
    public static var makeScriptsExecutable: Self { Self("make_scripts_executable") }
    /// ForeignUIDRange=
    public static var foreignUIDRange: Self { Self("foreign_uid_range") }
}

extension SettingKey where T == Bootloader {
    /// Bootloader=
    public static var bootloader: Self { Self("bootloader") }
}

extension SettingKey where T == BuildSourcesEphemeral {
    /// BuildSourcesEphemeral=
    public static var buildSourcesEphemeral: Self { Self("build_sources_ephemeral") }
}

extension SettingKey where T == CacheOnly {
    /// CacheOnly=
    public static var cacheOnly: Self { Self("cacheonly") }
}

extension SettingKey where T == Compression {
    /// CompressOutput=
    public static var compressOutput: Self { Self("compress_output") }
}

extension SettingKey where T == ConfigFeature {
    /// CleanPackageMetadata=
    public static var cleanPackageMetadata: Self { Self("clean_package_metadata") }
    /// Bootable=
    public static var bootable: Self { Self("bootable") }
    /// SELinuxRelabel=
    public static var selinuxRelabel: Self { Self("selinux_relabel") }
    /// ElTorito=
    public static var elTorito: Self { Self("el_torito") }
    /// KVM=
    public static var kvm: Self { Self("kvm") }
    /// VSock=
    public static var vsock: Self { Self("vsock") }
    /// TPM=
    public static var tpm: Self { Self("tpm") }
    /// Register=
    public static var register: Self { Self("register") }
    /// StorageTargetMode=
    public static var storageTargetMode: Self { Self("storage_target_mode") }
    /// SignExpectedPcr=
    public static var signExpectedPCR: Self { Self("sign_expected_pcr") }
    /// UseSubvolumes=
    public static var useSubvolumes: Self { Self("use_subvolumes") }
}

extension SettingKey where T == ConsoleMode {
    /// Console=
    public static var console: Self { Self("console") }
}

extension SettingKey where T == DiskType {
    /// DiskType=
    public static var diskType: Self { Self("disk_type") }
}

extension SettingKey where T == Distribution {
    /// Distribution=
    public static var distribution: Self { Self("distribution") }
    /// ToolsTreeDistribution=
    public static var toolsTreeDistribution: Self { Self("tools_tree_distribution") }
}

extension SettingKey where T == Firmware {
    /// Firmware=
    public static var firmware: Self { Self("firmware") }
}

extension SettingKey where T == Incremental {
    /// Incremental=
    public static var incremental: Self { Self("incremental") }
}

extension SettingKey where T == Int {
    /// CompressLevel=
    public static var compressLevel: Self { Self("compress_level") }
    /// CPUs=
    public static var cpus: Self { Self("cpus") }
    /// RAM=
    public static var ram: Self { Self("ram") }
    /// VSockCID=
    public static var vsockCID: Self { Self("vsock_cid") }
}

extension SettingKey where T == Int? {
    /// SourceDateEpoch=
    public static var sourceDateEpoch: Self { Self("source_date_epoch") }
    /// OutputSize=
    public static var outputSize: Self { Self("output_size") }
    /// OutputMode=
    public static var outputMode: Self { Self("output_mode") }
    /// SectorSize=
    public static var sectorSize: Self { Self("sector_size") }
    /// RuntimeSize=
    public static var runtimeSize: Self { Self("runtime_size") }
    /// MaxMem=
    public static var maxMem: Self { Self("maxmem") }
}

extension SettingKey where T == KeySource {
    /// SecureBootKeySource=
    public static var secureBootKeySource: Self { Self("secure_boot_key_source") }
    /// SecureBootCertificateSource=
    public static var secureBootCertificateSource: Self { Self("secure_boot_certificate_source") }
    /// VerityKeySource=
    public static var verityKeySource: Self { Self("verity_key_source") }
    /// VerityCertificateSource=
    public static var verityCertificateSource: Self { Self("verity_certificate_source") }
    /// SignExpectedPcrKeySource=
    public static var signExpectedPCRKeySource: Self { Self("sign_expected_pcr_key_source") }
    /// SignExpectedPcrCertificateSource=
    public static var signExpectedPCRCertificateSource: Self { Self("sign_expected_pcr_certificate_source") }
}

extension SettingKey where T == Network {
    /// RuntimeNetwork=
    public static var runtimeNetwork: Self { Self("runtime_network") }
}

extension SettingKey where T == OrderedDict {
    /// OciLabels=
    public static var ociLabels: Self { Self("oci_labels") }
    /// OciAnnotations=
    public static var ociAnnotations: Self { Self("oci_annotations") }
    /// Environment=
    public static var environment: Self { Self("environment") }
}

extension SettingKey where T == OutputFormat {
    /// Format=
    public static var outputFormat: Self { Self("output_format") }
}

extension SettingKey where T == RootPassword? {
    /// RootPassword=
    public static var rootPassword: Self { Self("root_password") }
}

extension SettingKey where T == SecureBootSignTool {
    /// SecureBootSignTool=
    public static var secureBootSignTool: Self { Self("secure_boot_sign_tool") }
}

extension SettingKey where T == ShimBootloader {
    /// ShimBootloader=
    public static var shimBootloader: Self { Self("shim_bootloader") }
}

extension SettingKey where T == SshMode {
    /// Ssh=
    public static var ssh: Self { Self("ssh") }
}

extension SettingKey where T == String {
    /// Release=
    public static var release: Self { Self("release") }
    /// Output=
    public static var output: Self { Self("output") }
    /// OutputExtension=
    public static var outputExtension: Self { Self("output_extension") }
    /// Seed=
    public static var seed: Self { Self("seed") }
    /// OpenPGPTool=
    public static var openPGPTool: Self { Self("openpgp_tool") }
    /// CacheKey=
    public static var cacheKey: Self { Self("cache_key") }
    /// BuildKey=
    public static var buildKey: Self { Self("build_key") }
}

extension SettingKey where T == String? {
    /// ToolsTreeRelease=
    public static var toolsTreeRelease: Self { Self("tools_tree_release") }
    /// UnifiedKernelImageFormat=
    public static var unifiedKernelImageFormat: Self { Self("unified_kernel_image_format") }
    /// Splash=
    public static var splash: Self { Self("splash") }
    /// Locale=
    public static var locale: Self { Self("locale") }
    /// LocaleMessages=
    public static var localeMessages: Self { Self("locale_messages") }
    /// Keymap=
    public static var keymap: Self { Self("keymap") }
    /// Timezone=
    public static var timezone: Self { Self("timezone") }
    /// Hostname=
    public static var hostname: Self { Self("hostname") }
    /// RootShell=
    public static var rootShell: Self { Self("root_shell") }
    /// MachineId=
    public static var machineID: Self { Self("machine_id") }
    /// MinimumVersion=
    public static var minimumVersion: Self { Self("minimum_version") }
    /// Mirror=
    public static var mirror: Self { Self("mirror") }
    /// Snapshot=
    public static var snapshot: Self { Self("snapshot") }
    /// LocalMirror=
    public static var localMirror: Self { Self("local_mirror") }
    /// OutputDirectory=
    public static var outputDirectory: Self { Self("output_dir") }
    /// ImageVersion=
    public static var imageVersion: Self { Self("image_version") }
    /// ImageId=
    public static var imageID: Self { Self("image_id") }
    /// ElToritoSystem=
    public static var elToritoSystem: Self { Self("el_torito_system") }
    /// ElToritoVolume=
    public static var elToritoVolume: Self { Self("el_torito_volume") }
    /// ElToritoPublisher=
    public static var elToritoPublisher: Self { Self("el_torito_publisher") }
    /// NSpawnSettings=
    public static var nspawnSettings: Self { Self("nspawn_settings") }
    /// SshKey=
    public static var sshKey: Self { Self("ssh_key") }
    /// SshCertificate=
    public static var sshCertificate: Self { Self("ssh_certificate") }
    /// Machine=
    public static var machine: Self { Self("machine") }
    /// ForwardJournal=
    public static var forwardJournal: Self { Self("forward_journal") }
    /// SysupdateDirectory=
    public static var sysupdateDirectory: Self { Self("sysupdate_dir") }
    /// FirmwareVariables=
    public static var firmwareVariables: Self { Self("firmware_variables") }
    /// Linux=
    public static var linux: Self { Self("linux") }
    /// SecureBootKey=
    public static var secureBootKey: Self { Self("secure_boot_key") }
    /// SecureBootCertificate=
    public static var secureBootCertificate: Self { Self("secure_boot_certificate") }
    /// VerityKey=
    public static var verityKey: Self { Self("verity_key") }
    /// VerityCertificate=
    public static var verityCertificate: Self { Self("verity_certificate") }
    /// SignExpectedPcrKey=
    public static var signExpectedPCRKey: Self { Self("sign_expected_pcr_key") }
    /// SignExpectedPcrCertificate=
    public static var signExpectedPCRCertificate: Self { Self("sign_expected_pcr_certificate") }
    /// Passphrase=
    public static var passphrase: Self { Self("passphrase") }
    /// Key=
    public static var key: Self { Self("key") }
    /// ToolsTree=
    public static var toolsTree: Self { Self("tools_tree") }
    /// ToolsTreeMirror=
    public static var toolsTreeMirror: Self { Self("tools_tree_mirror") }
    /// WorkspaceDirectory=
    public static var workspaceDirectory: Self { Self("workspace_dir") }
    /// CacheDirectory=
    public static var cacheDirectory: Self { Self("cache_dir") }
    /// PackageCacheDirectory=
    public static var packageCacheDirectory: Self { Self("package_cache_dir") }
    /// BuildDirectory=
    public static var buildDirectory: Self { Self("build_dir") }
    /// ProxyUrl=
    public static var proxyURL: Self { Self("proxy_url") }
    /// ProxyPeerCertificate=
    public static var proxyPeerCertificate: Self { Self("proxy_peer_certificate") }
    /// ProxyClientCertificate=
    public static var proxyClientCertificate: Self { Self("proxy_client_certificate") }
    /// ProxyClientKey=
    public static var proxyClientKey: Self { Self("proxy_client_key") }
}

extension SettingKey where T == UnifiedKernelImage {
    /// UnifiedKernelImages=
    public static var unifiedKernelImages: Self { Self("unified_kernel_images") }
}

extension SettingKey where T == Verity {
    /// Verity=
    public static var verity: Self { Self("verity") }
}

extension SettingKey where T == VirtualMachineMonitor {
    /// VirtualMachineMonitor=
    public static var virtualMachineMonitor: Self { Self("vmm") }
}

extension SettingKey where T == [ArtifactOutput] {
    /// SplitArtifacts=
    public static var splitArtifacts: Self { Self("split_artifacts") }
}

extension SettingKey where T == [ConfigTree] {
    /// SkeletonTrees=
    public static var skeletonTrees: Self { Self("skeleton_trees") }
    /// ExtraTrees=
    public static var extraTrees: Self { Self("extra_trees") }
    /// RuntimeTrees=
    public static var runtimeTrees: Self { Self("runtime_trees") }
    /// ToolsTreeSandboxTrees=
    public static var toolsTreeSandboxTrees: Self { Self("tools_tree_sandbox_trees") }
    /// SandboxTrees=
    public static var sandboxTrees: Self { Self("sandbox_trees") }
    /// BuildSources=
    public static var buildSources: Self { Self("build_sources") }
}

extension SettingKey where T == [Credential] {
    /// Credentials=
    public static var credentials: Self { Self("credentials") }
}

extension SettingKey where T == [Drive] {
    /// Drives=
    public static var drives: Self { Self("drives") }
}

extension SettingKey where T == [InitrdProfile] {
    /// InitrdProfiles=
    public static var initrdProfiles: Self { Self("initrd_profiles") }
}

extension SettingKey where T == [ManifestFormat] {
    /// ManifestFormat=
    public static var manifestFormat: Self { Self("manifest_format") }
}

extension SettingKey where T == [String] {
    /// Packages=
    public static var packages: Self { Self("packages") }
    /// BuildPackages=
    public static var buildPackages: Self { Self("build_packages") }
    /// VolatilePackages=
    public static var volatilePackages: Self { Self("volatile_packages") }
    /// PackageDirectories=
    public static var packageDirectories: Self { Self("package_directories") }
    /// VolatilePackageDirectories=
    public static var volatilePackageDirectories: Self { Self("volatile_package_directories") }
    /// BaseTrees=
    public static var baseTrees: Self { Self("base_trees") }
    /// RemovePackages=
    public static var removePackages: Self { Self("remove_packages") }
    /// RemoveFiles=
    public static var removeFiles: Self { Self("remove_files") }
    /// SyncScripts=
    public static var syncScripts: Self { Self("sync_scripts") }
    /// PrepareScripts=
    public static var prepareScripts: Self { Self("prepare_scripts") }
    /// BuildScripts=
    public static var buildScripts: Self { Self("build_scripts") }
    /// PostInstallationScripts=
    public static var postInstallationScripts: Self { Self("postinst_scripts") }
    /// FinalizeScripts=
    public static var finalizeScripts: Self { Self("finalize_scripts") }
    /// PostOutputScripts=
    public static var postOutputScripts: Self { Self("postoutput_scripts") }
    /// Initrds=
    public static var initrds: Self { Self("initrds") }
    /// InitrdPackages=
    public static var initrdPackages: Self { Self("initrd_packages") }
    /// InitrdVolatilePackages=
    public static var initrdVolatilePackages: Self { Self("initrd_volatile_packages") }
    /// Devicetrees=
    public static var devicetrees: Self { Self("devicetrees") }
    /// KernelCommandLine=
    public static var kernelCommandLine: Self { Self("kernel_command_line") }
    /// KernelModulesInclude=
    public static var kernelModulesInclude: Self { Self("kernel_modules_include") }
    /// KernelModulesExclude=
    public static var kernelModulesExclude: Self { Self("kernel_modules_exclude") }
    /// KernelModulesInitrdInclude=
    public static var kernelModulesInitrdInclude: Self { Self("kernel_modules_initrd_include") }
    /// KernelModulesInitrdExclude=
    public static var kernelModulesInitrdExclude: Self { Self("kernel_modules_initrd_exclude") }
    /// FirmwareInclude=
    public static var firmwareInclude: Self { Self("firmware_include") }
    /// FirmwareExclude=
    public static var firmwareExclude: Self { Self("firmware_exclude") }
    /// Include=
    public static var include: Self { Self("include") }
    /// Profiles=
    public static var profiles: Self { Self("profiles") }
    /// Dependencies=
    public static var dependencies: Self { Self("dependencies") }
    /// ConfigureScripts=
    public static var configureScripts: Self { Self("configure_scripts") }
    /// PassEnvironment=
    public static var passEnvironment: Self { Self("pass_environment") }
    /// Repositories=
    public static var repositories: Self { Self("repositories") }
    /// RepartDirectories=
    public static var repartDirectories: Self { Self("repart_dirs") }
    /// CleanScripts=
    public static var cleanScripts: Self { Self("clean_scripts") }
    /// KernelCommandLineExtra=
    public static var kernelCommandLineExtra: Self { Self("kernel_command_line_extra") }
    /// QemuArgs=
    public static var qemuArgs: Self { Self("qemu_args") }
    /// ToolsTreeRepositories=
    public static var toolsTreeRepositories: Self { Self("tools_tree_repositories") }
    /// ToolsTreePackages=
    public static var toolsTreePackages: Self { Self("tools_tree_packages") }
    /// ToolsTreePackageDirectories=
    public static var toolsTreePackageDirectories: Self { Self("tools_tree_package_directories") }
    /// ExtraSearchPaths=
    public static var extraSearchPaths: Self { Self("extra_search_paths") }
    /// EnvironmentFiles=
    public static var environmentFiles: Self { Self("environment_files") }
    /// ProxyExclude=
    public static var proxyExclude: Self { Self("proxy_exclude") }
}

extension SettingKey where T == [ToolsTreeProfile] {
    /// ToolsTreeProfiles=
    public static var toolsTreeProfiles: Self { Self("tools_tree_profiles") }
}

extension SettingKey where T == [UKIProfile] {
    /// UnifiedKernelImageProfiles=
    public static var unifiedKernelImageProfiles: Self { Self("unified_kernel_image_profiles") }
}

extension SettingKeys {
    /// Every key's destination, for the table's self-check.
    static let allDestinations: [(key: String, dest: String, type: Any.Type)] = [
        ("architecture", "architecture", Architecture.self),
        ("biosBootloader", "bios_bootloader", BiosBootloader.self),
        ("withRecommends", "with_recommends", Bool.self),
        ("withDocs", "with_docs", Bool.self),
        ("microcodeHost", "microcode_host", Bool.self),
        ("kernelModulesIncludeHost", "kernel_modules_include_host", Bool.self),
        ("kernelModulesInitrd", "kernel_modules_initrd", Bool.self),
        ("kernelModulesInitrdIncludeHost", "kernel_modules_initrd_include_host", Bool.self),
        ("autologin", "autologin", Bool.self),
        ("makeInitrd", "make_initrd", Bool.self),
        ("repositoryKeyCheck", "repository_key_check", Bool.self),
        ("repositoryKeyFetch", "repository_key_fetch", Bool.self),
        ("overlay", "overlay", Bool.self),
        ("ephemeral", "ephemeral", Bool.self),
        ("runtimeBuildSources", "runtime_build_sources", Bool.self),
        ("bindUser", "bind_user", Bool.self),
        ("cxl", "cxl", Bool.self),
        ("removable", "removable", Bool.self),
        ("secureBoot", "secure_boot", Bool.self),
        ("secureBootAutoEnroll", "secure_boot_auto_enroll", Bool.self),
        ("checksum", "checksum", Bool.self),
        ("sign", "sign", Bool.self),
        ("toolsTreeCertificates", "tools_tree_certificates", Bool.self),
        ("repartOffline", "repart_offline", Bool.self),
        ("history", "history", Bool.self),
        ("withTests", "with_tests", Bool.self),
        ("withNetwork", "with_network", Bool.self),
        ("makeScriptsExecutable", "make_scripts_executable", Bool.self),
        ("foreignUIDRange", "foreign_uid_range", Bool.self),
        ("bootloader", "bootloader", Bootloader.self),
        ("buildSourcesEphemeral", "build_sources_ephemeral", BuildSourcesEphemeral.self),
        ("cacheOnly", "cacheonly", CacheOnly.self),
        ("compressOutput", "compress_output", Compression.self),
        ("cleanPackageMetadata", "clean_package_metadata", ConfigFeature.self),
        ("bootable", "bootable", ConfigFeature.self),
        ("selinuxRelabel", "selinux_relabel", ConfigFeature.self),
        ("elTorito", "el_torito", ConfigFeature.self),
        ("kvm", "kvm", ConfigFeature.self),
        ("vsock", "vsock", ConfigFeature.self),
        ("tpm", "tpm", ConfigFeature.self),
        ("register", "register", ConfigFeature.self),
        ("storageTargetMode", "storage_target_mode", ConfigFeature.self),
        ("signExpectedPCR", "sign_expected_pcr", ConfigFeature.self),
        ("useSubvolumes", "use_subvolumes", ConfigFeature.self),
        ("console", "console", ConsoleMode.self),
        ("diskType", "disk_type", DiskType.self),
        ("distribution", "distribution", Distribution.self),
        ("toolsTreeDistribution", "tools_tree_distribution", Distribution.self),
        ("firmware", "firmware", Firmware.self),
        ("incremental", "incremental", Incremental.self),
        ("compressLevel", "compress_level", Int.self),
        ("cpus", "cpus", Int.self),
        ("ram", "ram", Int.self),
        ("vsockCID", "vsock_cid", Int.self),
        ("sourceDateEpoch", "source_date_epoch", Optional<Int>.self),
        ("outputSize", "output_size", Optional<Int>.self),
        ("outputMode", "output_mode", Optional<Int>.self),
        ("sectorSize", "sector_size", Optional<Int>.self),
        ("runtimeSize", "runtime_size", Optional<Int>.self),
        ("maxMem", "maxmem", Optional<Int>.self),
        ("secureBootKeySource", "secure_boot_key_source", KeySource.self),
        ("secureBootCertificateSource", "secure_boot_certificate_source", KeySource.self),
        ("verityKeySource", "verity_key_source", KeySource.self),
        ("verityCertificateSource", "verity_certificate_source", KeySource.self),
        ("signExpectedPCRKeySource", "sign_expected_pcr_key_source", KeySource.self),
        ("signExpectedPCRCertificateSource", "sign_expected_pcr_certificate_source", KeySource.self),
        ("runtimeNetwork", "runtime_network", Network.self),
        ("ociLabels", "oci_labels", OrderedDict.self),
        ("ociAnnotations", "oci_annotations", OrderedDict.self),
        ("environment", "environment", OrderedDict.self),
        ("outputFormat", "output_format", OutputFormat.self),
        ("rootPassword", "root_password", Optional<RootPassword>.self),
        ("secureBootSignTool", "secure_boot_sign_tool", SecureBootSignTool.self),
        ("shimBootloader", "shim_bootloader", ShimBootloader.self),
        ("ssh", "ssh", SshMode.self),
        ("release", "release", String.self),
        ("output", "output", String.self),
        ("outputExtension", "output_extension", String.self),
        ("seed", "seed", String.self),
        ("openPGPTool", "openpgp_tool", String.self),
        ("toolsTreeRelease", "tools_tree_release", Optional<String>.self),
        ("cacheKey", "cache_key", String.self),
        ("buildKey", "build_key", String.self),
        ("unifiedKernelImageFormat", "unified_kernel_image_format", Optional<String>.self),
        ("splash", "splash", Optional<String>.self),
        ("locale", "locale", Optional<String>.self),
        ("localeMessages", "locale_messages", Optional<String>.self),
        ("keymap", "keymap", Optional<String>.self),
        ("timezone", "timezone", Optional<String>.self),
        ("hostname", "hostname", Optional<String>.self),
        ("rootShell", "root_shell", Optional<String>.self),
        ("machineID", "machine_id", Optional<String>.self),
        ("minimumVersion", "minimum_version", Optional<String>.self),
        ("mirror", "mirror", Optional<String>.self),
        ("snapshot", "snapshot", Optional<String>.self),
        ("localMirror", "local_mirror", Optional<String>.self),
        ("outputDirectory", "output_dir", Optional<String>.self),
        ("imageVersion", "image_version", Optional<String>.self),
        ("imageID", "image_id", Optional<String>.self),
        ("elToritoSystem", "el_torito_system", Optional<String>.self),
        ("elToritoVolume", "el_torito_volume", Optional<String>.self),
        ("elToritoPublisher", "el_torito_publisher", Optional<String>.self),
        ("nspawnSettings", "nspawn_settings", Optional<String>.self),
        ("sshKey", "ssh_key", Optional<String>.self),
        ("sshCertificate", "ssh_certificate", Optional<String>.self),
        ("machine", "machine", Optional<String>.self),
        ("forwardJournal", "forward_journal", Optional<String>.self),
        ("sysupdateDirectory", "sysupdate_dir", Optional<String>.self),
        ("firmwareVariables", "firmware_variables", Optional<String>.self),
        ("linux", "linux", Optional<String>.self),
        ("secureBootKey", "secure_boot_key", Optional<String>.self),
        ("secureBootCertificate", "secure_boot_certificate", Optional<String>.self),
        ("verityKey", "verity_key", Optional<String>.self),
        ("verityCertificate", "verity_certificate", Optional<String>.self),
        ("signExpectedPCRKey", "sign_expected_pcr_key", Optional<String>.self),
        ("signExpectedPCRCertificate", "sign_expected_pcr_certificate", Optional<String>.self),
        ("passphrase", "passphrase", Optional<String>.self),
        ("key", "key", Optional<String>.self),
        ("toolsTree", "tools_tree", Optional<String>.self),
        ("toolsTreeMirror", "tools_tree_mirror", Optional<String>.self),
        ("workspaceDirectory", "workspace_dir", Optional<String>.self),
        ("cacheDirectory", "cache_dir", Optional<String>.self),
        ("packageCacheDirectory", "package_cache_dir", Optional<String>.self),
        ("buildDirectory", "build_dir", Optional<String>.self),
        ("proxyURL", "proxy_url", Optional<String>.self),
        ("proxyPeerCertificate", "proxy_peer_certificate", Optional<String>.self),
        ("proxyClientCertificate", "proxy_client_certificate", Optional<String>.self),
        ("proxyClientKey", "proxy_client_key", Optional<String>.self),
        ("unifiedKernelImages", "unified_kernel_images", UnifiedKernelImage.self),
        ("verity", "verity", Verity.self),
        ("virtualMachineMonitor", "vmm", VirtualMachineMonitor.self),
        ("splitArtifacts", "split_artifacts", [ArtifactOutput].self),
        ("skeletonTrees", "skeleton_trees", [ConfigTree].self),
        ("extraTrees", "extra_trees", [ConfigTree].self),
        ("runtimeTrees", "runtime_trees", [ConfigTree].self),
        ("toolsTreeSandboxTrees", "tools_tree_sandbox_trees", [ConfigTree].self),
        ("sandboxTrees", "sandbox_trees", [ConfigTree].self),
        ("buildSources", "build_sources", [ConfigTree].self),
        ("credentials", "credentials", [Credential].self),
        ("drives", "drives", [Drive].self),
        ("initrdProfiles", "initrd_profiles", [InitrdProfile].self),
        ("manifestFormat", "manifest_format", [ManifestFormat].self),
        ("packages", "packages", [String].self),
        ("buildPackages", "build_packages", [String].self),
        ("volatilePackages", "volatile_packages", [String].self),
        ("packageDirectories", "package_directories", [String].self),
        ("volatilePackageDirectories", "volatile_package_directories", [String].self),
        ("baseTrees", "base_trees", [String].self),
        ("removePackages", "remove_packages", [String].self),
        ("removeFiles", "remove_files", [String].self),
        ("syncScripts", "sync_scripts", [String].self),
        ("prepareScripts", "prepare_scripts", [String].self),
        ("buildScripts", "build_scripts", [String].self),
        ("postInstallationScripts", "postinst_scripts", [String].self),
        ("finalizeScripts", "finalize_scripts", [String].self),
        ("postOutputScripts", "postoutput_scripts", [String].self),
        ("initrds", "initrds", [String].self),
        ("initrdPackages", "initrd_packages", [String].self),
        ("initrdVolatilePackages", "initrd_volatile_packages", [String].self),
        ("devicetrees", "devicetrees", [String].self),
        ("kernelCommandLine", "kernel_command_line", [String].self),
        ("kernelModulesInclude", "kernel_modules_include", [String].self),
        ("kernelModulesExclude", "kernel_modules_exclude", [String].self),
        ("kernelModulesInitrdInclude", "kernel_modules_initrd_include", [String].self),
        ("kernelModulesInitrdExclude", "kernel_modules_initrd_exclude", [String].self),
        ("firmwareInclude", "firmware_include", [String].self),
        ("firmwareExclude", "firmware_exclude", [String].self),
        ("include", "include", [String].self),
        ("profiles", "profiles", [String].self),
        ("dependencies", "dependencies", [String].self),
        ("configureScripts", "configure_scripts", [String].self),
        ("passEnvironment", "pass_environment", [String].self),
        ("repositories", "repositories", [String].self),
        ("repartDirectories", "repart_dirs", [String].self),
        ("cleanScripts", "clean_scripts", [String].self),
        ("kernelCommandLineExtra", "kernel_command_line_extra", [String].self),
        ("qemuArgs", "qemu_args", [String].self),
        ("toolsTreeRepositories", "tools_tree_repositories", [String].self),
        ("toolsTreePackages", "tools_tree_packages", [String].self),
        ("toolsTreePackageDirectories", "tools_tree_package_directories", [String].self),
        ("extraSearchPaths", "extra_search_paths", [String].self),
        ("environmentFiles", "environment_files", [String].self),
        ("proxyExclude", "proxy_exclude", [String].self),
        ("toolsTreeProfiles", "tools_tree_profiles", [ToolsTreeProfile].self),
        ("unifiedKernelImageProfiles", "unified_kernel_image_profiles", [UKIProfile].self),
    ]
}
