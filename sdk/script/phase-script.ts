import { DEFAULT_HELMFILES } from "../layout";
import { PHASES, PhaseName } from "../phases";
import { helpersSource } from "./helpers";
import { deployArgv, deployCommand, destroyArgv, diffArgv, HelmfileInvocation, releasesArgv } from "./helmfile";
import { CONTROL_CHARACTERS, shJoin, shQuote } from "./quote";

/**
 * What of the hooks' and helmfile's output a phase lets through to Pulumi's log and, on
 * failure, to the command provider's error message: `all`; `stderr` (helmfile's
 * progress and errors; stdout, where helm prints release notes, is dropped); `steps`
 * (only pulumi-kaptain's own step lines).
 */
export type PhaseLogging = "all" | "stderr" | "steps";

export const PHASE_LOGGING: readonly PhaseLogging[] = ["all", "stderr", "steps"];

/**
 * How long a phase waits for the repository's lock, in whole seconds (1800 when unset),
 * read by the script from its environment: the Infrastructure's `environment`, or the
 * shell running Pulumi. The script checks it too (kaptain_lock), for the shell's value.
 */
export const LOCK_TIMEOUT_VARIABLE = "PULUMI_KAPTAIN_LOCK_TIMEOUT";

/** Whether a value of {@link LOCK_TIMEOUT_VARIABLE} is one the script takes: empty, or digits. */
export function isLockTimeout(value: string): boolean {
    return /^[0-9]*$/.test(value);
}

/** What a phase script is generated from: plain, resolved values only. */
export interface PhaseScriptSpec {
    readonly phase: PhaseName;
    readonly namespace: string;
    /** The namespace directory relative to the working directory (the Command's `dir`): `./namespaces/<ns>` or `.`. */
    readonly namespaceFromWorking: string;
    /** hooks.sh relative to the namespace directory (`./hooks.sh`), when there is one. */
    readonly hooksFile?: string;
    readonly helmfile: HelmfileInvocation;
    /** Tools the hooks call, checked before anything runs. */
    readonly hookTools: readonly string[];
    /** What of the hooks' and helmfile's output leaves the script. */
    readonly logging: PhaseLogging;
}

/** The scripts of one phase's Command. `update` is `create`: apply and sync are idempotent. */
export interface PhaseScripts {
    /** Runs the phase: hooks, make-config, `helmfile sync`. */
    readonly create: string;
    /** The same script as `create`: apply and sync are idempotent. */
    readonly update: string;
    /** Undoes the phase: kaptain's uninstall / unprovision, `helmfile destroy`. */
    readonly delete: string;
}

/** The Command's interpreter: hooks are bash, sourced into the script's own shell. */
export const INTERPRETER: readonly string[] = ["bash", "-c"];

/**
 * The environment variables that carry a phase's scripts to the Command: its `create`
 * and `delete` are the short commands of {@link scriptLauncher}.
 */
export const SCRIPT_VARIABLES = { create: "KAPTAIN_SCRIPT_CREATE", delete: "KAPTAIN_SCRIPT_DELETE" } as const;

/**
 * The Command's `create` or `delete`: runs the script its environment carries, as the
 * same process (`exec`), so that the provider's signals reach it. `$0` names the phase
 * (or the namespace guard).
 */
export function scriptLauncher(operation: keyof typeof SCRIPT_VARIABLES, phase: PhaseName | "namespace-guard"): string {
    return `exec bash -c "$${SCRIPT_VARIABLES[operation]}" ${shQuote(`kaptain-${phase}`)}`;
}

/**
 * The scripts of a phase Command from its inputs: in its environment, or, in a plan or a
 * state written before the scripts moved there, in `create` and `delete` themselves.
 */
export function commandScripts(inputs: Record<string, unknown>): { create?: string; delete?: string } {
    const environment = (inputs.environment ?? {}) as Record<string, unknown>;
    const pick = (operation: keyof typeof SCRIPT_VARIABLES): string | undefined => {
        const value = environment[SCRIPT_VARIABLES[operation]] ?? inputs[operation];
        return typeof value === "string" ? value : undefined;
    };
    return { create: pick("create"), delete: pick("delete") };
}

export function renderPhaseScripts(spec: PhaseScriptSpec): PhaseScripts {
    const create = renderScript(spec, "create");
    return { create, update: create, delete: renderScript(spec, "delete") };
}

/**
 * kaptain's diff action for one phase: the `pre-diff` hook, make-config, `helmfile diff`
 * with the phase's selectors, `post-diff`. It changes nothing: `KAPTAIN_DRY_RUN=1` makes
 * `rclone_config` pack without uploading, and helm-diff's three-way merge compares with
 * the live objects, so a hand-made change shows. helmfile's output (stdout and stderr
 * merged, in order) is the script's stdout; exit status 0 whether or not anything differs.
 */
export function renderDiffScript(spec: PhaseScriptSpec): string {
    return renderScript({ ...spec, logging: "all" }, "diff");
}

/** Text for a `#` comment: a control character is shown escaped, never ends the comment. */
function commentText(text: string): string {
    return text.replace(CONTROL_CHARACTERS, c => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** One step of a phase: the line of the plan at the top, and the script lines that do it. */
interface Step {
    readonly plan: string;
    readonly lines: readonly string[];
}

function renderScript(spec: PhaseScriptSpec, operation: "create" | "delete" | "diff"): string {
    // helmfile logs helm's whole output on stderr, release notes included: unless everything
    // is let through anyway, the deploy passes --hide-notes.
    const hidesNotes = operation === "create" && spec.logging !== "all";
    const action = operation === "create" ? spec.phase : operation === "diff" ? "diff" : PHASES[spec.phase].undo;
    const helmfileLine =
        operation === "create"
            ? deployArgv(spec.phase, spec.helmfile, { hideNotes: hidesNotes })
            : operation === "diff"
              ? diffArgv(spec.phase, spec.helmfile)
              : destroyArgv(spec.helmfile);
    // apply and diff compare with the cluster first: helm and its diff plugin must be there.
    const applies = operation === "diff" || (operation === "create" && spec.helmfile.strategy === "apply");
    // The tools make-config's helpers need (rclone_config: rclone, tar, gzip): the delete runs
    // no make-config, and an uninstall hook that calls one directly names its line if it fails.
    const hookTools = operation === "delete" ? [] : spec.hookTools;
    const tools = ["helmfile", ...(applies ? ["helm", "helm-diff"] : []), ...hookTools];
    // Run by the script itself: the checks and the lock. The other steps run in its child (see body).
    const parentSteps: Step[] = [
        {
            plan:
                `check that ${tools.join(", ")} ${tools.length > 1 ? "are" : "is"} on PATH, a kubeconfig is known ` +
                "and the namespace folder and its helmfile are there" +
                (operation === "delete" ? " (if not, name the releases that stay in the namespace)" : ""),
            lines: [
                `kaptain_require helmfile ${shQuote(spec.helmfile.binary)}`,
                ...(hidesNotes
                    ? [`kaptain_require_hide_notes ${shJoin([spec.helmfile.binary, spec.helmfile.strategy])}`]
                    : []),
                ...(applies ? ["kaptain_require helm helm", "kaptain_require_helm_diff"] : []),
                ...hookTools.map(tool => `kaptain_require ${tool} ${tool}`),
                "kaptain_kubeconfig",
                `kaptain_require_sources ${shJoin(spec.helmfile.file !== undefined ? [spec.helmfile.file] : DEFAULT_HELMFILES)}`,
                ...(operation === "delete"
                    ? [`kaptain_stranded ${shJoin([shJoin(helmfileLine), ...releasesArgv(spec.helmfile)])}`]
                    : []),
                "kaptain_preflight",
            ],
        },
        operation !== "delete"
            ? {
                  plan: "lock the repository; remove a stale provision-configs/.kaptain",
                  lines: ["kaptain_lock", "kaptain_clean_embed"],
              }
            : { plan: "lock the repository", lines: ["kaptain_lock"] },
    ];
    const childSteps: Step[] = [
        ...(operation === "diff"
            ? [
                  {
                      plan: "dry run: hooks pack but upload nothing; helm-diff compares with the live objects",
                      lines: ["export KAPTAIN_DRY_RUN=1", THREE_WAY_MERGE],
                  },
                  hookStep(spec, "pre-diff", true),
                  hookStep(spec, "make-config", true),
                  {
                      plan: "copy rclone.conf into provision-configs/.kaptain, if there is one",
                      lines: ["kaptain_copy_rclone_conf"],
                  },
                  {
                      plan: shJoin(helmfileLine),
                      lines: [
                          `kaptain_step ${shQuote("helmfile diff")}`,
                          // exit status 2 is "changes found", not a failure
                          `${shJoin(helmfileLine)} 2>&1 || kaptain_diff_status`,
                      ],
                  },
                  hookStep(spec, "post-diff", true),
              ]
            : operation === "create"
              ? [
                    hookStep(spec, `pre-${action}`, true),
                    hookStep(spec, "make-config", true),
                    {
                        plan: "copy rclone.conf into provision-configs/.kaptain, if there is one",
                        lines: ["kaptain_copy_rclone_conf"],
                    },
                    selectStep(spec.helmfile.selectors),
                    helmfileStep(
                        `helmfile ${spec.helmfile.strategy}`,
                        deployCommand(spec.phase, spec.helmfile, { hideNotes: hidesNotes }),
                    ),
                    hookStep(spec, `post-${action}`, true),
                ]
              : [
                    // delete runs from state, maybe long after the repository changed: a hooks
                    // file removed since then must not block the uninstall.
                    hookStep(spec, `pre-${action}`, false),
                    helmfileStep("helmfile destroy", shJoin(helmfileLine)),
                    hookStep(spec, `post-${action}`, false),
                ]
        ).filter((step): step is Step => step !== undefined),
    ];
    const steps = [...parentSteps, ...childSteps];

    const header = [
        `# pulumi-kaptain: ${action} (${spec.phase} phase, ${operation === "create" ? "create/update" : operation}) ` +
            `of namespace ${spec.namespace}`,
        "# Runs with bash from the repository (the Command's dir), in the namespace folder. The plan:",
        ...steps.map((step, i) => `#   ${i + 1}. ${commentText(step.plan)}`),
        "# Each step prints `kaptain: <action>: <step>` on stderr. From step " +
            `${parentSteps.length + 1}, the steps run in a`,
        "# child process group, so that no hook can end the script: the script waits for them,",
        "# stops what they left running, and on every exit removes provision-configs/.kaptain,",
        "# the lock's note and the temporary folder, and names the failed step.",
        "# The helpers follow; the steps themselves are at the end of the script, from line LINE.",
        "set -eo pipefail",
        "",
        helpersSource().trimEnd(),
        "",
        `# --- ${action}: the steps ${"-".repeat(Math.max(3, 60 - action.length))}`,
    ];
    const body = [
        `kaptain_init ${shJoin([action, spec.namespace, spec.namespaceFromWorking])}`,
        // The create script's stderr stays small enough to come back to its next run, and its
        // stdout is its record, which the next run compares with (kaptain_select_releases).
        ...(operation === "create" ? ["kaptain_relay_start", "kaptain_record_start"] : []),
        // The Command logs only stderr (a create's stdout is its record): the delete's output goes there.
        ...(operation === "delete" ? ["exec 1>&2"] : []),
        `kaptain_output ${spec.logging}`,
        ...parentSteps.flatMap(step => ["", ...step.lines]),
        "",
        "# The other steps, from `(` to `) </dev/null &`, run in a child with a process group of its own (kaptain_body).",
        "kaptain_body_start",
        "(",
        "kaptain_body",
        ...childSteps.flatMap(step => ["", ...step.lines]),
        "",
        "kaptain_finish",
        ") </dev/null &",
        'kaptain_body_wait "$!"',
        "",
    ];
    const firstStepLine = header.join("\n").split("\n").length + 1;
    return [...header, ...body].join("\n").replace("from line LINE.", `from line ${firstStepLine}.`);
}

/**
 * helm-diff compares with the live objects (three-way merge), so that apply and diff see
 * what was changed or deleted by hand, and apply puts it back. A user's own setting wins.
 */
const THREE_WAY_MERGE = 'export HELM_DIFF_THREE_WAY_MERGE="${HELM_DIFF_THREE_WAY_MERGE:-true}"';

/**
 * helmfile's status is checked explicitly: a hook may have turned errexit off, and a
 * failed sync must never let the post hook run or the phase pass.
 */
function helmfileStep(name: string, command: string): Step {
    return {
        plan: command,
        lines: [
            `kaptain_step ${shQuote(name)}`,
            ...(name === "helmfile apply" ? [THREE_WAY_MERGE] : []),
            `${command} || exit`,
        ],
    };
}

/**
 * On an update, helmfile deploys only the releases whose own inputs changed since the last
 * successful run, when nothing else did (`kaptain_select_releases` in helpers.sh compares
 * the record that run printed with this run's environment); otherwise the whole phase.
 */
function selectStep(selectors: readonly string[]): Step {
    const narrowed = selectors.map(s => `--selector ${shQuote(`${s},name=<release>`)}`).join(" ");
    const whole = selectors.map(s => `--selector ${shQuote(s)}`).join(" ");
    return {
        plan:
            "choose what helmfile deploys: on an update where only some releases' own inputs changed, " +
            `those (${narrowed}); else the whole phase (${whole})`,
        lines: [shJoin(["kaptain_select_releases", ...selectors])],
    };
}

/**
 * Hooks are sourced at the top level of the steps' shell (the script's child, which then
 * runs helmfile), as kaptain sources them in its own, so that what they set or `declare`
 * stays global; `kaptain_after_hook` then restores errexit, the working directory and
 * the traps, and stops on a failed last command.
 */
function hookStep(spec: PhaseScriptSpec, hook: string, required: boolean): Step | undefined {
    if (spec.hooksFile === undefined) {
        return undefined;
    }
    const file = shQuote(spec.hooksFile);
    const source = `source ${file} ${shQuote(hook)}`;
    return {
        plan: `source ${spec.hooksFile} ${hook}${required ? "" : " (if the file still exists)"}`,
        lines: [
            `kaptain_step ${shQuote(`${hook} hook`)}`,
            required ? source : `if [ -f ${file} ]; then ${source}; fi`,
            'kaptain_after_hook "$?"',
        ],
    };
}
