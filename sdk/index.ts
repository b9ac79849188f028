// Public API of pulumi-kaptain.
export { Infrastructure, InfrastructureArgs, HelmfileOptions, PhaseOptions, PhaseSetting, PhasesArgs,
    DEFAULT_PHASES, resolveInfrastructure, buildInfrastructure, phaseEnvironment, layoutWarnings } from "./infrastructure";
export { clusterProvider, isKubeconfigContent, kubeconfigForScript, readKubeconfig } from "./kubeconfig";
export { PhaseLogging } from "./script/phase-script";
export { Phase, createPhaseCommand, invocationProblems } from "./phase";
export { PhaseName, PHASE_ORDER, PHASES } from "./phases";
export { RepositoryLayout, resolveLayout, namespaceProblem } from "./layout";
export { FingerprintGroup, fingerprintRepository, fingerprintEntries, DEFAULT_EXCLUDES, DEFAULT_SECRET_FILES } from "./fingerprint";
export { renderPhaseScripts, PhaseScripts, PhaseScriptSpec, INTERPRETER } from "./script/phase-script";
export { HelmfileInvocation, syncArgv, destroyArgv } from "./script/helmfile";
export { shQuote, shJoin } from "./script/quote";
export { ProvisionConfigs, ProvisionConfigsArgs, ProvisionConfigsObjects, ResolvedProvisionConfigs, ValuesInput,
    resolveProvisionConfigs, buildProvisionConfigs, rcloneConfigText } from "./provision-configs";
export { helmString, toYaml, renderData, readValuesFile, ValuesFileError } from "./values";
export { InfrastructureProvisionConfigs, detectProvisionConfigs, provisionConfigsChartRelease } from "./infrastructure";
export { infrastructureArgsFromConfig, CONFIG_NAMESPACE, CONFIG_KEYS } from "./config";
