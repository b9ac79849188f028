import { PhaseName } from "../phases";

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
    /** `--concurrency N` on sync; 0 passes no flag (helmfile's unlimited). */
    readonly concurrency: number;
    /** Global flags placed before the subcommand. */
    readonly extraArgs: readonly string[];
    /** Flags placed after `sync`. */
    readonly syncArgs: readonly string[];
}

function globalArgs(h: HelmfileInvocation): string[] {
    return [
        h.binary,
        ...(h.environment !== undefined ? ["--environment", h.environment] : []),
        ...(h.file !== undefined ? ["--file", h.file] : []),
        ...(h.kubeContext !== undefined ? ["--kube-context", h.kubeContext] : []),
        ...h.selectors.flatMap(s => ["--selector", s]),
        ...h.extraArgs,
    ];
}

/**
 * `helmfile … sync` for a phase. `--concurrency` is a flag of `sync` in helmfile, so it
 * goes after the subcommand. Install and provision pass `--skip-needs`: their releases
 * `need` config releases that this selector leaves out, and those were synced by the
 * config phase just before.
 */
export function syncArgv(phase: PhaseName, h: HelmfileInvocation): string[] {
    return [
        ...globalArgs(h),
        "sync",
        ...(h.concurrency > 0 ? ["--concurrency", String(h.concurrency)] : []),
        ...(phase === "config" ? [] : ["--skip-needs"]),
        ...h.syncArgs,
    ];
}

/** `helmfile … destroy` for a phase: kaptain's uninstall / unprovision. */
export function destroyArgv(h: HelmfileInvocation): string[] {
    return [...globalArgs(h), "destroy"];
}
