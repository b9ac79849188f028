// The public API of pulumi-kaptain: the components, their arguments and outputs, and
// the stack-config reader. Everything else is internal (tests import it from its module).
export { Infrastructure } from "./infrastructure";
export type {
    InfrastructureArgs,
    HelmfileOptions,
    PhaseOptions,
    PhaseSetting,
    PhasesArgs,
    InfrastructureProvisionConfigs,
} from "./infrastructure-args";
export type { PhaseCommands } from "./infrastructure-build";
export type { Phase } from "./phase";
export type { PhaseName } from "./phases";
export type { PhaseLogging } from "./script/phase-script";
export type { HelmfileStrategy } from "./script/helmfile";
export type { PhaseScripts } from "./script/phase-script";
export type { FingerprintGroup } from "./fingerprint";
export type { ReleaseChange } from "./live-diff";
export { ProvisionConfigs } from "./provision-configs";
export type { ProvisionConfigsArgs, ValuesInput } from "./provision-configs";
export { infrastructureArgsFromConfig, CONFIG_NAMESPACE } from "./config";
