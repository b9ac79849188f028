import { PhaseName } from "../phases";
import { shJoin, shQuote } from "./quote";

/**
 * How a phase deploys its releases: `apply` upgrades only the releases whose rendered
 * manifests differ from what is deployed (helmfile's diff, with the helm-diff plugin);
 * `sync` upgrades every selected release, as kaptain does.
 */
export type HelmfileStrategy = "apply" | "sync";

export const HELMFILE_STRATEGIES: readonly HelmfileStrategy[] = ["apply", "sync"];

/** Everything the helmfile command line of one phase depends on, resolved. */
export interface HelmfileInvocation {
    /** The helmfile binary: a name looked up on PATH, or a path. */
    readonly binary: string;
    /** `--environment`, when set. */
    readonly environment?: string;
    /** `--file`, relative to the namespace directory, when helmfile must not look for its own. */
    readonly file?: string;
    /** `--kube-context`, when set. */
    readonly kubeContext?: string;
    /** `--selector` values. */
    readonly selectors: readonly string[];
    /** `apply` (changed releases only) or `sync` (every release). */
    readonly strategy: HelmfileStrategy;
    /** `--concurrency N` on sync / apply; 0 passes no flag (helmfile's unlimited). */
    readonly concurrency: number;
    /** Global flags placed before the subcommand. */
    readonly extraArgs: readonly string[];
    /** Flags placed after the subcommand (`sync` or `apply`). */
    readonly syncArgs: readonly string[];
}

/** The binary and the flags that come before the selectors. */
function leadingArgs(h: HelmfileInvocation): string[] {
    return [
        h.binary,
        ...(h.environment !== undefined ? ["--environment", h.environment] : []),
        ...(h.file !== undefined ? ["--file", h.file] : []),
        ...(h.kubeContext !== undefined ? ["--kube-context", h.kubeContext] : []),
    ];
}

function globalArgs(h: HelmfileInvocation): string[] {
    return [...leadingArgs(h), ...h.selectors.flatMap(s => ["--selector", s]), ...h.extraArgs];
}

/**
 * `helmfile … sync` or `helmfile … apply` for a phase. `--concurrency` is a flag of the
 * subcommand in helmfile, so it goes after it. Install and provision pass `--skip-needs`:
 * their releases `need` config releases that this selector leaves out, and those were
 * deployed by the config phase just before. `apply` prints its diff: `--suppress-secrets`
 * keeps Secret values out of it.
 */
export function deployArgv(phase: PhaseName, h: HelmfileInvocation, options: DeployOptions = {}): string[] {
    return [
        ...globalArgs(h),
        h.strategy,
        ...(h.concurrency > 0 ? ["--concurrency", String(h.concurrency)] : []),
        ...(phase === "config" ? [] : ["--skip-needs"]),
        ...(h.strategy === "apply" ? ["--suppress-secrets"] : []),
        ...(options.hideNotes ? ["--hide-notes"] : []),
        ...h.syncArgs,
    ];
}

/**
 * The words of the create script's helmfile command that stand for its `--selector`
 * arguments: the array that `kaptain_select_releases` (helpers.sh) fills with the phase's
 * selectors, or, on an update where only some releases' own inputs changed, with the
 * phase's selectors narrowed to each of them (`--selector action=install,name=fleet-3`).
 */
export const SELECTORS_ARRAY = '"${KAPTAIN_SELECTORS[@]}"';

/**
 * {@link deployArgv} as the create script's command line, its selectors taken from
 * {@link SELECTORS_ARRAY} (`h.selectors` go to `kaptain_select_releases`).
 */
export function deployCommand(phase: PhaseName, h: HelmfileInvocation, options: DeployOptions = {}): string {
    const argv = deployArgv(phase, { ...h, selectors: [] }, options);
    const at = leadingArgs(h).length;
    return [shJoin(argv.slice(0, at)), SELECTORS_ARRAY, ...argv.slice(at).map(shQuote)].join(" ");
}

export interface DeployOptions {
    /**
     * `--hide-notes` (helmfile 0.169+, helm 3.16+): helmfile logs helm's whole output,
     * release notes included, on its stderr, which `logging: stderr` lets through.
     */
    readonly hideNotes?: boolean;
}

/**
 * `helmfile … diff` for a phase, kaptain's diff action: `--detailed-exitcode` (2 when
 * something would change), Secret values suppressed, the phase's `--skip-needs`.
 */
export function diffArgv(phase: PhaseName, h: HelmfileInvocation): string[] {
    return [
        ...globalArgs(h),
        "diff",
        "--detailed-exitcode",
        "--suppress-secrets",
        ...(h.concurrency > 0 ? ["--concurrency", String(h.concurrency)] : []),
        ...(phase === "config" ? [] : ["--skip-needs"]),
    ];
}

/** `helmfile … destroy` for a phase: kaptain's uninstall / unprovision. */
export function destroyArgv(h: HelmfileInvocation): string[] {
    return [...globalArgs(h), "destroy"];
}

/**
 * `helm list` of every release, names only, without its `--namespace` (the script adds the
 * namespace it names): what a delete that cannot run `helmfile destroy`, or a namespace
 * change that would orphan releases, names as left in the cluster.
 */
export function releasesArgv(h: Pick<HelmfileInvocation, "kubeContext">): string[] {
    return [
        "helm",
        ...(h.kubeContext !== undefined ? ["--kube-context", h.kubeContext] : []),
        "list",
        "--all",
        "--short",
    ];
}
