import { PHASES, PhaseName } from "../phases";
import { helpersSource } from "./helpers";
import { destroyArgv, HelmfileInvocation, syncArgv } from "./helmfile";
import { shJoin, shQuote } from "./quote";

/**
 * What of the hooks' and helmfile's output a phase lets through to Pulumi's log and, on
 * failure, to the command provider's error message: `all`; `stderr` (helmfile's
 * progress and errors; stdout, where helm prints release notes, is dropped); `steps`
 * (only pulumi-kaptain's own step lines).
 */
export type PhaseLogging = "all" | "stderr" | "steps";

export const PHASE_LOGGING: readonly PhaseLogging[] = ["all", "stderr", "steps"];

/** What a phase script is generated from: plain, resolved values only. */
export interface PhaseScriptSpec {
    readonly phase: PhaseName;
    readonly namespace: string;
    /** The working directory relative to the namespace directory (the script's cwd). */
    readonly workingFromNamespace: string;
    /** hooks.sh relative to the namespace directory (`./hooks.sh`), when there is one. */
    readonly hooksFile?: string;
    readonly helmfile: HelmfileInvocation;
    /** Tools the hooks call, checked before anything runs. */
    readonly hookTools: readonly string[];
    /** What of the hooks' and helmfile's output leaves the script. */
    readonly logging: PhaseLogging;
}

/** The scripts of one phase's Command. `update` is `create`: a sync is idempotent. */
export interface PhaseScripts {
    readonly create: string;
    readonly update: string;
    readonly delete: string;
}

/** The Command's interpreter: hooks are bash, sourced into the script's own shell. */
export const INTERPRETER: readonly string[] = ["bash", "-c"];

export function renderPhaseScripts(spec: PhaseScriptSpec): PhaseScripts {
    const create = renderScript(spec, "create");
    return { create, update: create, delete: renderScript(spec, "delete") };
}

function renderScript(spec: PhaseScriptSpec, operation: "create" | "delete"): string {
    const action = operation === "create" ? spec.phase : PHASES[spec.phase].undo;
    const helmfileLine = operation === "create" ? syncArgv(spec.phase, spec.helmfile) : destroyArgv(spec.helmfile);
    const steps =
        operation === "create"
            ? [
                  ...hookStep(spec, `pre-${action}`, true),
                  ...hookStep(spec, "make-config", true),
                  "kaptain_copy_rclone_conf",
                  `kaptain_step ${shQuote("helmfile sync")}`,
                  helmfileCall(helmfileLine),
                  ...hookStep(spec, `post-${action}`, true),
              ]
            : [
                  // delete runs from state, maybe long after the repository changed: a hooks
                  // file removed since then must not block the uninstall.
                  ...hookStep(spec, `pre-${action}`, false),
                  `kaptain_step ${shQuote("helmfile destroy")}`,
                  helmfileCall(helmfileLine),
                  ...hookStep(spec, `post-${action}`, false),
              ];

    const preflight = [
        `kaptain_require helmfile ${shQuote(spec.helmfile.binary)}`,
        ...spec.hookTools.map(tool => `kaptain_require ${tool} ${tool}`),
        "kaptain_kubeconfig",
        "kaptain_preflight",
        "kaptain_lock",
        ...(operation === "create" ? ["kaptain_clean_embed"] : []),
    ];

    return [
        `# pulumi-kaptain: ${action} (${spec.phase} phase, ${operation === "create" ? "create/update" : "delete"}) ` +
            `of namespace ${spec.namespace}`,
        "# Runs with bash in the namespace directory; every step prints a `kaptain:` line, and",
        "# the trap removes provision-configs/.kaptain and the temporary folder, on failure too.",
        "set -eo pipefail",
        "",
        helpersSource().trimEnd(),
        "",
        `# --- ${action} ${"-".repeat(Math.max(3, 72 - action.length))}`,
        `kaptain_init ${shJoin([action, spec.namespace, spec.workingFromNamespace])}`,
        `kaptain_output ${spec.logging}`,
        ...preflight,
        "",
        ...steps,
        "kaptain_finish",
        "",
    ].join("\n");
}

/**
 * helmfile's status is checked explicitly: a hook may have turned errexit off, and a
 * failed sync must never let the post hook run or the phase pass.
 */
function helmfileCall(argv: readonly string[]): string {
    return `${shJoin(argv)} || exit`;
}

/**
 * Hooks are sourced at the top level of the script, as kaptain does, so that what they
 * set or `declare` stays global; `kaptain_after_hook` then restores errexit, the
 * working directory and the trap, and stops on a failed last command.
 */
function hookStep(spec: PhaseScriptSpec, hook: string, required: boolean): string[] {
    if (spec.hooksFile === undefined) {
        return [];
    }
    const file = shQuote(spec.hooksFile);
    const source = `source ${file} ${shQuote(hook)}`;
    return [
        `kaptain_step ${shQuote(`${hook} hook`)}`,
        required ? source : `if [ -f ${file} ]; then ${source}; fi`,
        'kaptain_after_hook "$?"',
    ];
}
