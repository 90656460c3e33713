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
    static let allDestinations: [(key: String, dest: String, decodes: @Sendable (Value) -> Bool)] = [
        ("architecture", "architecture", { Architecture.decode($0) != nil }),
        ("biosBootloader", "bios_bootloader", { BiosBootloader.decode($0) != nil }),
        ("withRecommends", "with_recommends", { Bool.decode($0) != nil }),
        ("withDocs", "with_docs", { Bool.decode($0) != nil }),
        ("microcodeHost", "microcode_host", { Bool.decode($0) != nil }),
        ("kernelModulesIncludeHost", "kernel_modules_include_host", { Bool.decode($0) != nil }),
        ("kernelModulesInitrd", "kernel_modules_initrd", { Bool.decode($0) != nil }),
        ("kernelModulesInitrdIncludeHost", "kernel_modules_initrd_include_host", { Bool.decode($0) != nil }),
        ("autologin", "autologin", { Bool.decode($0) != nil }),
        ("makeInitrd", "make_initrd", { Bool.decode($0) != nil }),
        ("repositoryKeyCheck", "repository_key_check", { Bool.decode($0) != nil }),
        ("repositoryKeyFetch", "repository_key_fetch", { Bool.decode($0) != nil }),
        ("overlay", "overlay", { Bool.decode($0) != nil }),
        ("ephemeral", "ephemeral", { Bool.decode($0) != nil }),
        ("runtimeBuildSources", "runtime_build_sources", { Bool.decode($0) != nil }),
        ("bindUser", "bind_user", { Bool.decode($0) != nil }),
        ("cxl", "cxl", { Bool.decode($0) != nil }),
        ("removable", "removable", { Bool.decode($0) != nil }),
        ("secureBoot", "secure_boot", { Bool.decode($0) != nil }),
        ("secureBootAutoEnroll", "secure_boot_auto_enroll", { Bool.decode($0) != nil }),
        ("checksum", "checksum", { Bool.decode($0) != nil }),
        ("sign", "sign", { Bool.decode($0) != nil }),
        ("toolsTreeCertificates", "tools_tree_certificates", { Bool.decode($0) != nil }),
        ("repartOffline", "repart_offline", { Bool.decode($0) != nil }),
        ("history", "history", { Bool.decode($0) != nil }),
        ("withTests", "with_tests", { Bool.decode($0) != nil }),
        ("withNetwork", "with_network", { Bool.decode($0) != nil }),
        ("makeScriptsExecutable", "make_scripts_executable", { Bool.decode($0) != nil }),
        ("foreignUIDRange", "foreign_uid_range", { Bool.decode($0) != nil }),
        ("bootloader", "bootloader", { Bootloader.decode($0) != nil }),
        ("buildSourcesEphemeral", "build_sources_ephemeral", { BuildSourcesEphemeral.decode($0) != nil }),
        ("cacheOnly", "cacheonly", { CacheOnly.decode($0) != nil }),
        ("compressOutput", "compress_output", { Compression.decode($0) != nil }),
        ("cleanPackageMetadata", "clean_package_metadata", { ConfigFeature.decode($0) != nil }),
        ("bootable", "bootable", { ConfigFeature.decode($0) != nil }),
        ("selinuxRelabel", "selinux_relabel", { ConfigFeature.decode($0) != nil }),
        ("elTorito", "el_torito", { ConfigFeature.decode($0) != nil }),
        ("kvm", "kvm", { ConfigFeature.decode($0) != nil }),
        ("vsock", "vsock", { ConfigFeature.decode($0) != nil }),
        ("tpm", "tpm", { ConfigFeature.decode($0) != nil }),
        ("register", "register", { ConfigFeature.decode($0) != nil }),
        ("storageTargetMode", "storage_target_mode", { ConfigFeature.decode($0) != nil }),
        ("signExpectedPCR", "sign_expected_pcr", { ConfigFeature.decode($0) != nil }),
        ("useSubvolumes", "use_subvolumes", { ConfigFeature.decode($0) != nil }),
        ("console", "console", { ConsoleMode.decode($0) != nil }),
        ("diskType", "disk_type", { DiskType.decode($0) != nil }),
        ("distribution", "distribution", { Distribution.decode($0) != nil }),
        ("toolsTreeDistribution", "tools_tree_distribution", { Distribution.decode($0) != nil }),
        ("firmware", "firmware", { Firmware.decode($0) != nil }),
        ("incremental", "incremental", { Incremental.decode($0) != nil }),
        ("compressLevel", "compress_level", { Int.decode($0) != nil }),
        ("cpus", "cpus", { Int.decode($0) != nil }),
        ("ram", "ram", { Int.decode($0) != nil }),
        ("vsockCID", "vsock_cid", { Int.decode($0) != nil }),
        ("sourceDateEpoch", "source_date_epoch", { Optional<Int>.decode($0) != nil }),
        ("outputSize", "output_size", { Optional<Int>.decode($0) != nil }),
        ("outputMode", "output_mode", { Optional<Int>.decode($0) != nil }),
        ("sectorSize", "sector_size", { Optional<Int>.decode($0) != nil }),
        ("runtimeSize", "runtime_size", { Optional<Int>.decode($0) != nil }),
        ("maxMem", "maxmem", { Optional<Int>.decode($0) != nil }),
        ("secureBootKeySource", "secure_boot_key_source", { KeySource.decode($0) != nil }),
        ("secureBootCertificateSource", "secure_boot_certificate_source", { KeySource.decode($0) != nil }),
        ("verityKeySource", "verity_key_source", { KeySource.decode($0) != nil }),
        ("verityCertificateSource", "verity_certificate_source", { KeySource.decode($0) != nil }),
        ("signExpectedPCRKeySource", "sign_expected_pcr_key_source", { KeySource.decode($0) != nil }),
        ("signExpectedPCRCertificateSource", "sign_expected_pcr_certificate_source", { KeySource.decode($0) != nil }),
        ("runtimeNetwork", "runtime_network", { Network.decode($0) != nil }),
        ("ociLabels", "oci_labels", { OrderedDict.decode($0) != nil }),
        ("ociAnnotations", "oci_annotations", { OrderedDict.decode($0) != nil }),
        ("environment", "environment", { OrderedDict.decode($0) != nil }),
        ("outputFormat", "output_format", { OutputFormat.decode($0) != nil }),
        ("rootPassword", "root_password", { Optional<RootPassword>.decode($0) != nil }),
        ("secureBootSignTool", "secure_boot_sign_tool", { SecureBootSignTool.decode($0) != nil }),
        ("shimBootloader", "shim_bootloader", { ShimBootloader.decode($0) != nil }),
        ("ssh", "ssh", { SshMode.decode($0) != nil }),
        ("release", "release", { String.decode($0) != nil }),
        ("output", "output", { String.decode($0) != nil }),
        ("outputExtension", "output_extension", { String.decode($0) != nil }),
        ("seed", "seed", { String.decode($0) != nil }),
        ("openPGPTool", "openpgp_tool", { String.decode($0) != nil }),
        ("toolsTreeRelease", "tools_tree_release", { Optional<String>.decode($0) != nil }),
        ("cacheKey", "cache_key", { String.decode($0) != nil }),
        ("buildKey", "build_key", { String.decode($0) != nil }),
        ("unifiedKernelImageFormat", "unified_kernel_image_format", { Optional<String>.decode($0) != nil }),
        ("splash", "splash", { Optional<String>.decode($0) != nil }),
        ("locale", "locale", { Optional<String>.decode($0) != nil }),
        ("localeMessages", "locale_messages", { Optional<String>.decode($0) != nil }),
        ("keymap", "keymap", { Optional<String>.decode($0) != nil }),
        ("timezone", "timezone", { Optional<String>.decode($0) != nil }),
        ("hostname", "hostname", { Optional<String>.decode($0) != nil }),
        ("rootShell", "root_shell", { Optional<String>.decode($0) != nil }),
        ("machineID", "machine_id", { Optional<String>.decode($0) != nil }),
        ("minimumVersion", "minimum_version", { Optional<String>.decode($0) != nil }),
        ("mirror", "mirror", { Optional<String>.decode($0) != nil }),
        ("snapshot", "snapshot", { Optional<String>.decode($0) != nil }),
        ("localMirror", "local_mirror", { Optional<String>.decode($0) != nil }),
        ("outputDirectory", "output_dir", { Optional<String>.decode($0) != nil }),
        ("imageVersion", "image_version", { Optional<String>.decode($0) != nil }),
        ("imageID", "image_id", { Optional<String>.decode($0) != nil }),
        ("elToritoSystem", "el_torito_system", { Optional<String>.decode($0) != nil }),
        ("elToritoVolume", "el_torito_volume", { Optional<String>.decode($0) != nil }),
        ("elToritoPublisher", "el_torito_publisher", { Optional<String>.decode($0) != nil }),
        ("nspawnSettings", "nspawn_settings", { Optional<String>.decode($0) != nil }),
        ("sshKey", "ssh_key", { Optional<String>.decode($0) != nil }),
        ("sshCertificate", "ssh_certificate", { Optional<String>.decode($0) != nil }),
        ("machine", "machine", { Optional<String>.decode($0) != nil }),
        ("forwardJournal", "forward_journal", { Optional<String>.decode($0) != nil }),
        ("sysupdateDirectory", "sysupdate_dir", { Optional<String>.decode($0) != nil }),
        ("firmwareVariables", "firmware_variables", { Optional<String>.decode($0) != nil }),
        ("linux", "linux", { Optional<String>.decode($0) != nil }),
        ("secureBootKey", "secure_boot_key", { Optional<String>.decode($0) != nil }),
        ("secureBootCertificate", "secure_boot_certificate", { Optional<String>.decode($0) != nil }),
        ("verityKey", "verity_key", { Optional<String>.decode($0) != nil }),
        ("verityCertificate", "verity_certificate", { Optional<String>.decode($0) != nil }),
        ("signExpectedPCRKey", "sign_expected_pcr_key", { Optional<String>.decode($0) != nil }),
        ("signExpectedPCRCertificate", "sign_expected_pcr_certificate", { Optional<String>.decode($0) != nil }),
        ("passphrase", "passphrase", { Optional<String>.decode($0) != nil }),
        ("key", "key", { Optional<String>.decode($0) != nil }),
        ("toolsTree", "tools_tree", { Optional<String>.decode($0) != nil }),
        ("toolsTreeMirror", "tools_tree_mirror", { Optional<String>.decode($0) != nil }),
        ("workspaceDirectory", "workspace_dir", { Optional<String>.decode($0) != nil }),
        ("cacheDirectory", "cache_dir", { Optional<String>.decode($0) != nil }),
        ("packageCacheDirectory", "package_cache_dir", { Optional<String>.decode($0) != nil }),
        ("buildDirectory", "build_dir", { Optional<String>.decode($0) != nil }),
        ("proxyURL", "proxy_url", { Optional<String>.decode($0) != nil }),
        ("proxyPeerCertificate", "proxy_peer_certificate", { Optional<String>.decode($0) != nil }),
        ("proxyClientCertificate", "proxy_client_certificate", { Optional<String>.decode($0) != nil }),
        ("proxyClientKey", "proxy_client_key", { Optional<String>.decode($0) != nil }),
        ("unifiedKernelImages", "unified_kernel_images", { UnifiedKernelImage.decode($0) != nil }),
        ("verity", "verity", { Verity.decode($0) != nil }),
        ("virtualMachineMonitor", "vmm", { VirtualMachineMonitor.decode($0) != nil }),
        ("splitArtifacts", "split_artifacts", { [ArtifactOutput].decode($0) != nil }),
        ("skeletonTrees", "skeleton_trees", { [ConfigTree].decode($0) != nil }),
        ("extraTrees", "extra_trees", { [ConfigTree].decode($0) != nil }),
        ("runtimeTrees", "runtime_trees", { [ConfigTree].decode($0) != nil }),
        ("toolsTreeSandboxTrees", "tools_tree_sandbox_trees", { [ConfigTree].decode($0) != nil }),
        ("sandboxTrees", "sandbox_trees", { [ConfigTree].decode($0) != nil }),
        ("buildSources", "build_sources", { [ConfigTree].decode($0) != nil }),
        ("credentials", "credentials", { [Credential].decode($0) != nil }),
        ("drives", "drives", { [Drive].decode($0) != nil }),
        ("initrdProfiles", "initrd_profiles", { [InitrdProfile].decode($0) != nil }),
        ("manifestFormat", "manifest_format", { [ManifestFormat].decode($0) != nil }),
        ("packages", "packages", { [String].decode($0) != nil }),
        ("buildPackages", "build_packages", { [String].decode($0) != nil }),
        ("volatilePackages", "volatile_packages", { [String].decode($0) != nil }),
        ("packageDirectories", "package_directories", { [String].decode($0) != nil }),
        ("volatilePackageDirectories", "volatile_package_directories", { [String].decode($0) != nil }),
        ("baseTrees", "base_trees", { [String].decode($0) != nil }),
        ("removePackages", "remove_packages", { [String].decode($0) != nil }),
        ("removeFiles", "remove_files", { [String].decode($0) != nil }),
        ("syncScripts", "sync_scripts", { [String].decode($0) != nil }),
        ("prepareScripts", "prepare_scripts", { [String].decode($0) != nil }),
        ("buildScripts", "build_scripts", { [String].decode($0) != nil }),
        ("postInstallationScripts", "postinst_scripts", { [String].decode($0) != nil }),
        ("finalizeScripts", "finalize_scripts", { [String].decode($0) != nil }),
        ("postOutputScripts", "postoutput_scripts", { [String].decode($0) != nil }),
        ("initrds", "initrds", { [String].decode($0) != nil }),
        ("initrdPackages", "initrd_packages", { [String].decode($0) != nil }),
        ("initrdVolatilePackages", "initrd_volatile_packages", { [String].decode($0) != nil }),
        ("devicetrees", "devicetrees", { [String].decode($0) != nil }),
        ("kernelCommandLine", "kernel_command_line", { [String].decode($0) != nil }),
        ("kernelModulesInclude", "kernel_modules_include", { [String].decode($0) != nil }),
        ("kernelModulesExclude", "kernel_modules_exclude", { [String].decode($0) != nil }),
        ("kernelModulesInitrdInclude", "kernel_modules_initrd_include", { [String].decode($0) != nil }),
        ("kernelModulesInitrdExclude", "kernel_modules_initrd_exclude", { [String].decode($0) != nil }),
        ("firmwareInclude", "firmware_include", { [String].decode($0) != nil }),
        ("firmwareExclude", "firmware_exclude", { [String].decode($0) != nil }),
        ("include", "include", { [String].decode($0) != nil }),
        ("profiles", "profiles", { [String].decode($0) != nil }),
        ("dependencies", "dependencies", { [String].decode($0) != nil }),
        ("configureScripts", "configure_scripts", { [String].decode($0) != nil }),
        ("passEnvironment", "pass_environment", { [String].decode($0) != nil }),
        ("repositories", "repositories", { [String].decode($0) != nil }),
        ("repartDirectories", "repart_dirs", { [String].decode($0) != nil }),
        ("cleanScripts", "clean_scripts", { [String].decode($0) != nil }),
        ("kernelCommandLineExtra", "kernel_command_line_extra", { [String].decode($0) != nil }),
        ("qemuArgs", "qemu_args", { [String].decode($0) != nil }),
        ("toolsTreeRepositories", "tools_tree_repositories", { [String].decode($0) != nil }),
        ("toolsTreePackages", "tools_tree_packages", { [String].decode($0) != nil }),
        ("toolsTreePackageDirectories", "tools_tree_package_directories", { [String].decode($0) != nil }),
        ("extraSearchPaths", "extra_search_paths", { [String].decode($0) != nil }),
        ("environmentFiles", "environment_files", { [String].decode($0) != nil }),
        ("proxyExclude", "proxy_exclude", { [String].decode($0) != nil }),
        ("toolsTreeProfiles", "tools_tree_profiles", { [ToolsTreeProfile].decode($0) != nil }),
        ("unifiedKernelImageProfiles", "unified_kernel_image_profiles", { [UKIProfile].decode($0) != nil }),
    ]
}
