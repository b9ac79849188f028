// The arguments of an Infrastructure, as users write them (and `infrastructureArgsFromConfig` reads them).
import * as pulumi from "@pulumi/pulumi";
import { PhaseName } from "./phases";
import { ProvisionConfigsArgs } from "./provision-configs";
import { HelmfileStrategy } from "./script/helmfile";
import { PhaseLogging } from "./script/phase-script";

/** How helmfile is called. */
export interface HelmfileOptions {
    /**
     * The helmfile binary: a name looked up on PATH, or a path.
     * @default "helmfile"
     */
    readonly binary?: pulumi.Input<string>;
    /**
     * Helmfile environment (`--environment`).
     * @default none: helmfile's `default` environment
     */
    readonly environment?: pulumi.Input<string>;
    /**
     * How the phases deploy: `apply` upgrades only the releases whose rendered manifests
     * differ from the cluster (`helmfile apply`; needs the helm-diff plugin), `sync`
     * upgrades every selected release, as kaptain does.
     * @default "apply"
     */
    readonly strategy?: HelmfileStrategy;
    /**
     * `--concurrency` of `helmfile sync` / `apply`; 0 passes no flag. kaptain's `KAPTAIN_HELMFILE_CONCURRENCY`.
     * @default 4
     */
    readonly concurrency?: pulumi.Input<number>;
    /**
     * The helmfile state file, resolved against the namespace directory, then the working
     * directory. Plain: it is located when the program runs.
     * @default helmfile's own lookup in the namespace directory, else the working directory's helmfile.yaml
     */
    readonly file?: string;
    /**
     * `--kube-context`.
     * @default none: the kubeconfig's current context
     */
    readonly kubeContext?: pulumi.Input<string>;
    /**
     * More global flags, placed before the subcommand (for example `["--debug"]`).
     * @default []
     */
    readonly extraArgs?: pulumi.Input<pulumi.Input<string>[]>;
}

/** Options of one phase. */
export interface PhaseOptions {
    /**
     * How this phase deploys: `apply` (changed releases only) or `sync` (every release).
     * @default `helmfile.strategy`
     */
    readonly strategy?: HelmfileStrategy;
    /**
     * `--concurrency` for this phase's sync / apply.
     * @default `helmfile.concurrency`
     */
    readonly concurrency?: pulumi.Input<number>;
    /**
     * Flags placed after `sync` / `apply` (for example `["--wait"]`).
     * @default []
     */
    readonly syncArgs?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Label selectors of the releases the phase syncs and, on delete, destroys.
     * @default [`action=<phase>`]
     */
    readonly selectors?: readonly string[];
}

/** `true` runs the phase with defaults, `false` leaves it out (and deletes it if it was deployed). */
export type PhaseSetting = boolean | PhaseOptions;

/** Which phases run. */
export type PhasesArgs = { readonly [P in PhaseName]?: PhaseSetting };

/** The arguments of an {@link Infrastructure}; `infrastructureArgsFromConfig` reads them from stack config. */
export interface InfrastructureArgs {
    /**
     * The Kubernetes namespace, a DNS-1123 label. Selects `namespaces/<namespace>` as the
     * namespace directory when that folder exists. Plain: it decides which files are read.
     */
    readonly namespace: string;
    /**
     * The Helmfile repository (kaptain's working directory), relative to the program's directory.
     * @default the program's directory (`process.cwd()`)
     */
    readonly workingDirectory?: string;
    /** How helmfile is called. @default {} */
    readonly helmfile?: HelmfileOptions;
    /**
     * The cluster's kubeconfig: a path, or the kubeconfig content (for example a cluster's
     * output). Always stored as a Pulumi secret and handed to the script through its
     * environment; content is written to a private temporary file for the run.
     * @default none: the environment's `KUBECONFIG` when Pulumi runs, else `~/.kube/config`
     */
    readonly kubeconfig?: pulumi.Input<string>;
    /**
     * The hooks file, resolved against the namespace directory, then the working
     * directory; `false` runs no hooks.
     * @default `hooks.sh` in the namespace directory when it exists
     */
    readonly hooks?: string | false;
    /** Which phases run, each `true`, `false` or its options. @default `{ config: true, install: true, provision: false }` (provision is optional in kaptain) */
    readonly phases?: PhasesArgs;
    /**
     * Extra environment variables for hooks and helmfile (for `requiredEnv` in templates).
     * Names starting with `KAPTAIN_` are reserved.
     * @default {}
     */
    readonly environment?: Record<string, pulumi.Input<string>>;
    /**
     * Relative paths (files or folders) of the repository that helmfile never reads, left
     * out of the change-detection fingerprint. `.git`, `node_modules` and other
     * namespaces' folders are always left out.
     * @default []
     */
    readonly fingerprintExclude?: readonly string[];
    /**
     * The namespace Secret, ConfigMap and rclone-config Secret as native objects, created
     * right after the config phase (whose helmfile creates the namespace) and before
     * install. Given fields override what is found in the repository;
     * `false` leaves them to the repository's own provision-configs chart.
     * @default on when the repository has a `secret.yaml`, an `rclone.conf` in the namespace
     * directory or `configKeys` in `configs/provision-configs/values.yaml`, and no
     * `provision-configs` release in its helmfile
     */
    readonly provisionConfigs?: InfrastructureProvisionConfigs | false;
    /**
     * Create the Namespace before the first phase, as a Pulumi resource. Off, the config
     * phase's helmfile creates it (helmfile's default, as with kaptain) and the
     * provision-configs objects follow that phase. Either way, deleting the component
     * leaves the Namespace in the cluster unless `deleteNamespace` is set.
     * @default false
     */
    readonly createNamespace?: boolean;
    /**
     * With `createNamespace`: delete the Namespace, and everything still in it, when the
     * component is deleted (`pulumi destroy`, `createNamespace` turned off, a rename
     * without `aliases`). Off, Pulumi only forgets it.
     * @default false
     */
    readonly deleteNamespace?: boolean;
    /**
     * Protect the phase Commands (Pulumi's `protect`): deleting one, which runs
     * `helmfile destroy`, then fails until protection is lifted. For production stacks.
     * @default false
     */
    readonly protect?: boolean;
    /**
     * What of the hooks' and helmfile's output a phase lets through to Pulumi's log and,
     * on failure, to its error message: `all`, `stderr` (helmfile's progress and errors;
     * helm's stdout, release notes included, is dropped) or `steps` (only the phase's
     * step lines). The output kept in the state is encrypted whatever this says.
     * @default "stderr"
     */
    readonly logging?: PhaseLogging;
    /**
     * Compare with the cluster during `pulumi preview` and `pulumi up`: each phase runs its
     * diff action (hooks in dry run, nothing uploaded, `helmfile diff` with Secret values
     * suppressed) and the preview names, under the phase, each release that would change.
     * A release that differs in the cluster while the repository did not change (drift:
     * a `helm upgrade --set` or a deleted object) makes its phase an update, shown as
     * `KAPTAIN_LIVE_DIFF`, and `up` puts it back. Costs one `helmfile diff` per phase per
     * preview, and needs the cluster then. `kaptain:liveDiff` in stack config.
     * @default false
     */
    readonly liveDiff?: boolean;
}

/** ProvisionConfigs options inside an Infrastructure: namespace and directories come from it. */
export type InfrastructureProvisionConfigs = Omit<
    ProvisionConfigsArgs,
    "namespace" | "workingDirectory" | "createNamespace" | "deleteNamespace"
> & {
    /**
     * Keep a `provision-configs` release in the helmfile next to the component. Only for a
     * chart that no longer renders the namespace Secret, ConfigMap or rclone-config Secret:
     * otherwise both would own the same objects.
     * @default false
     */
    readonly allowChartRelease?: boolean;
};
