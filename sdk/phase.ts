import { createHash } from "node:crypto";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { LIVE_DIFF_VARIABLE, ReleaseChange } from "./live-diff";
import {
    ComponentLiveDiff,
    keepStoredLiveDiff,
    liveDiffVariable,
    logLiveChanges,
    runLiveDiff,
    underTestMocks,
} from "./live-diff-phase";
import { PhaseName } from "./phases";
import { HelmfileInvocation, HelmfileStrategy } from "./script/helmfile";
import { hasControlCharacter } from "./script/quote";
import {
    INTERPRETER,
    PhaseLogging,
    PhaseScripts,
    renderDiffScript,
    renderPhaseScripts,
    SCRIPT_VARIABLES,
    scriptLauncher,
} from "./script/phase-script";

/** One deployed phase: the Command that runs it and the scripts it carries. */
export interface Phase {
    /** Which phase this is. */
    readonly name: PhaseName;
    /** The `command:local:Command` that syncs the phase on create/update and destroys it on delete. */
    readonly command: command.local.Command;
    /** The generated scripts, as the Command received them. */
    readonly scripts: pulumi.Output<PhaseScripts>;
    /** kaptain's diff action for this phase: changes nothing, prints what would change. */
    readonly diffScript: pulumi.Output<string>;
    /**
     * With `liveDiff`: the releases the phase would change, as the live diff found them
     * during this preview or update (names and object counts only).
     */
    readonly liveChanges?: pulumi.Output<ReleaseChange[]>;
}

/** The resolved inputs of one phase's helmfile call; Inputs resolve inside the builder. */
export interface PhaseInvocationInputs {
    readonly binary: pulumi.Input<string>;
    readonly environment?: pulumi.Input<string>;
    readonly file?: string;
    readonly kubeContext?: pulumi.Input<string>;
    readonly selectors: readonly string[];
    readonly strategy: HelmfileStrategy;
    readonly concurrency: pulumi.Input<number>;
    readonly extraArgs: pulumi.Input<pulumi.Input<string>[]>;
    readonly syncArgs: pulumi.Input<pulumi.Input<string>[]>;
}

export interface PhaseCommandArgs {
    readonly phase: PhaseName;
    readonly namespace: string;
    /** The working directory, relative to the command provider's working directory. */
    readonly commandDirectory: pulumi.Input<string>;
    /** The namespace directory, relative to the working directory. */
    readonly namespaceFromWorking: string;
    readonly hooksFile?: string;
    readonly hookTools: readonly string[];
    readonly helmfile: PhaseInvocationInputs;
    /** The Command's environment: fingerprint, kubeconfig (secret), user variables. */
    readonly environment: Record<string, pulumi.Input<string>>;
    /** The Command's standard input: the kubeconfig's content (secret), when there is a kubeconfig. */
    readonly stdin?: pulumi.Input<string>;
    /** What of the hooks' and helmfile's output leaves the script. */
    readonly logging: PhaseLogging;
    /** With `liveDiff`: the component's name and the cluster the diff reaches, for its messages. */
    readonly liveDiff?: {
        /** The Infrastructure's name, for messages. */
        readonly name: string;
        readonly cluster: pulumi.Input<string>;
        /** The component's live diffs: their messages, and its one diff when the phases share it. */
        readonly component: ComponentLiveDiff;
        /**
         * One diff for the whole component (kaptain's own `diff`: its hooks once, one helmfile
         * run over every phase's selectors), of which this phase takes its releases' changes.
         * Undefined: the phase diffs its own selectors.
         */
        readonly combined?: { readonly selectors: readonly string[]; readonly releases: ReadonlySet<string> };
    };
}

/**
 * Checks the resolved helmfile values of a phase; returns the problems, each naming the
 * argument. Runs inside `apply`, where Inputs have become plain values.
 */
export function invocationProblems(phase: PhaseName, h: HelmfileInvocation): string[] {
    const problems: string[] = [];
    if (h.binary.trim() === "") {
        problems.push("`helmfile.binary` must not be empty");
    }
    if (!Number.isInteger(h.concurrency) || h.concurrency < 0) {
        problems.push(
            `\`phases.${phase}.concurrency\` / \`helmfile.concurrency\` must be a whole number >= 0 ` +
                `(0 = no --concurrency flag), got ${JSON.stringify(h.concurrency)}`,
        );
    }
    if (h.environment !== undefined && h.environment.trim() === "") {
        problems.push("`helmfile.environment` must not be empty when set");
    }
    // A newline or other control character has no place in a command-line argument, and
    // would break the script's readable plan.
    const words: Array<[string, string | undefined]> = [
        ["helmfile.binary", h.binary],
        ["helmfile.environment", h.environment],
        ["helmfile.kubeContext", h.kubeContext],
        ...h.extraArgs.map((a, i): [string, string] => [`helmfile.extraArgs[${i}]`, a]),
        ...h.syncArgs.map((a, i): [string, string] => [`phases.${phase}.syncArgs[${i}]`, a]),
        ...h.selectors.map((a, i): [string, string] => [`phases.${phase}.selectors[${i}]`, a]),
    ];
    for (const [argument, word] of words) {
        if (word !== undefined && hasControlCharacter(word)) {
            problems.push(`\`${argument}\` must not contain a newline or another control character`);
        }
    }
    return problems;
}

/**
 * Every helmfile argument becomes part of the command string, which the command
 * provider prints in its error messages and keeps in the state: a secret there would
 * make the whole script secret and still leak. Secrets belong in `environment`.
 */
function plainArgument<T>(argument: string, value: pulumi.Input<T>): pulumi.Output<Checked<pulumi.Unwrap<T>>> {
    const output = pulumi.output(value);
    return pulumi.all([output, pulumi.output(pulumi.isSecret(output))]).apply(([plain, secret]) =>
        secret
            ? {
                  problem:
                      `\`${argument}\` holds a secret, and helmfile's arguments are part of the ` +
                      "phase's command text, which the command provider shows in errors: pass the secret through " +
                      "`environment` and read it in the helmfile with `requiredEnv`",
              }
            : { value: plain },
    ) as pulumi.Output<Checked<pulumi.Unwrap<T>>>;
}

/** A resolved argument, or why it cannot be used. */
type Checked<T> =
    { readonly value: T; readonly problem?: undefined } | { readonly value?: undefined; readonly problem: string };

/** Creates the Command of one phase, child of `parent`, named `${name}-${phase}`. */
export function createPhaseCommand(
    name: string,
    args: PhaseCommandArgs,
    opts: pulumi.CustomResourceOptions & { parent: pulumi.Resource },
): Phase {
    const h = args.helmfile;
    const parent = opts.parent;
    // Problems are collected, not thrown, while rendering: only the Command's inputs throw
    // them, so that a bad argument is reported once, not again by every output built from it.
    const rendered = pulumi
        .all([
            plainArgument("helmfile.binary", h.binary),
            plainArgument("helmfile.environment", h.environment),
            plainArgument("helmfile.kubeContext", h.kubeContext),
            h.concurrency,
            plainArgument("helmfile.extraArgs", h.extraArgs),
            plainArgument(`phases.${args.phase}.syncArgs`, h.syncArgs),
        ])
        .apply(([binary, environment, kubeContext, concurrency, extraArgs, syncArgs]) => {
            const secretProblems = [binary, environment, kubeContext, extraArgs, syncArgs].flatMap(a =>
                a.problem !== undefined ? [a.problem] : [],
            );
            if (secretProblems.length > 0) {
                return { problems: secretProblems };
            }
            const invocation: HelmfileInvocation = {
                binary: binary.value!,
                environment: environment.value,
                kubeContext: kubeContext.value,
                concurrency,
                file: h.file,
                selectors: h.selectors,
                strategy: h.strategy,
                extraArgs: extraArgs.value ?? [],
                syncArgs: syncArgs.value ?? [],
            };
            const problems = invocationProblems(args.phase, invocation);
            if (problems.length > 0) {
                return { problems };
            }
            const spec = {
                phase: args.phase,
                namespace: args.namespace,
                namespaceFromWorking: args.namespaceFromWorking,
                hooksFile: args.hooksFile,
                hookTools: args.hookTools,
                helmfile: invocation,
                logging: args.logging,
            };
            const combined = args.liveDiff?.combined;
            // The config phase's diff passes no --skip-needs: every phase's releases are in it.
            const componentDiff =
                combined !== undefined
                    ? renderDiffScript({
                          ...spec,
                          phase: "config",
                          helmfile: { ...invocation, selectors: combined.selectors },
                      })
                    : "";
            return { scripts: { ...renderPhaseScripts(spec), diff: renderDiffScript(spec) }, componentDiff };
        });
    const scripts = rendered.apply(r => {
        if (r.scripts === undefined) {
            throw new pulumi.ResourceError(`${args.phase} phase: ${r.problems.join("; ")}`, parent);
        }
        return r.scripts;
    });
    // What the component's outputs show: nothing of a phase that cannot be rendered (its
    // Command reports why).
    const shown = rendered.apply(r => r.scripts ?? { create: "", update: "", delete: "", diff: "" });

    // `liveDiff`: the diff action runs now, against the cluster, and what it finds joins the
    // Command's inputs (see keepStoredLiveDiff for why that cannot flip back and forth).
    const liveArgs = args.liveDiff;
    const diffOf = (subject: string, script: pulumi.Input<string>) =>
        runLiveDiff(
            {
                component: liveArgs!.name,
                subject,
                name: subject === "its phases" ? "diff" : `${args.phase}-diff`,
                diffScript: script,
                directory: args.commandDirectory,
                environment: args.environment,
                stdin: args.stdin,
                cluster: liveArgs!.cluster,
            },
            parent,
            liveArgs!.component.reporter,
        );
    const live =
        liveArgs === undefined
            ? undefined
            : liveArgs.combined !== undefined
              ? liveArgs.component.share(
                    () =>
                        diffOf(
                            "its phases",
                            rendered.apply(r => r.componentDiff ?? ""),
                        ),
                    liveArgs.combined.releases,
                )
              : diffOf(`the ${args.phase} phase`, shown.diff);

    // Everything the phase depends on but its releases' own files and the live diff's
    // finding: when it changes, an update runs the whole phase (see the script's kaptain_select).
    const shared = sharedDigest({
        scripts: pulumi.all([scripts.create, scripts.delete]),
        dir: args.commandDirectory,
        stdin: args.stdin ?? "",
        environment: Object.fromEntries(
            Object.entries(args.environment).filter(([k]) => !k.startsWith(RELEASE_VARIABLE_PREFIX)),
        ),
    });
    const cmd = new command.local.Command(
        `${name}-${args.phase}`,
        {
            // The scripts travel in the environment and the commands only start them: the
            // command provider quotes its whole command in every error message, and a
            // failure should read as the step and its cause, not as 16 KB of script.
            // No `update`: the provider runs `create` again, and the state keeps one copy.
            create: scriptLauncher("create", args.phase),
            delete: scriptLauncher("delete", args.phase),
            dir: args.commandDirectory,
            interpreter: [...INTERPRETER],
            environment: {
                ...args.environment,
                [SCRIPT_VARIABLES.create]: scripts.create,
                [SCRIPT_VARIABLES.delete]: scripts.delete,
                [SHARED_VARIABLE]: shared,
                ...(live !== undefined ? { [LIVE_DIFF_VARIABLE]: liveDiffVariable(live) } : {}),
            },
            // The kubeconfig's content, when it is content: no size limit, unlike a variable.
            // A change is an update (only `triggers` replace), and the state keeps it secret.
            ...(args.stdin !== undefined ? { stdin: args.stdin } : {}),
            // The script itself decides what of its output leaves it (`logging`), on its
            // stderr, which the provider streams. Its stdout is the create script's record:
            // digests of the phase's inputs, kept encrypted in the state, never in the log.
            logging: "stderr",
            // An update runs only the releases whose inputs changed since the last successful
            // run: the create script prints a record of its inputs on its stdout (and nothing
            // else), which the provider hands to the next run in PULUMI_COMMAND_STDOUT. It
            // hands the stderr back too (PULUMI_COMMAND_STDERR), as one environment variable,
            // which Linux caps at 128 KiB: the script keeps its stderr under 100 KiB
            // (kaptain_relay_start in helpers.sh). A state written before that may hold a
            // larger one: see the changelog.
            addPreviousOutputInEnv: true,
            // Nothing goes in `triggers`: a trigger change replaces the Command, and a
            // replace runs `delete`, which is `helmfile destroy`.
        },
        {
            ...opts,
            // Hooks and helmfile may print values: the state keeps their output encrypted. The
            // provider echoes its inputs as outputs: `stdin` (kubeconfig content) stays secret
            // there too, whatever the provider does with an input's secrecy.
            additionalSecretOutputs: ["stdout", "stderr", "stdin"],
            // With `liveDiff`, what it found is ignored while it is nothing (keepStoredLiveDiff).
            // Without, always: turning it off then leaves the phases as they are, and so does
            // turning it on again while the cluster matches.
            ...(live !== undefined
                ? underTestMocks()
                    ? {}
                    : { transforms: [...(opts.transforms ?? []), keepStoredLiveDiff] }
                : { ignoreChanges: [...(opts.ignoreChanges ?? []), `environment.${LIVE_DIFF_VARIABLE}`] }),
        },
    );
    if (live !== undefined) {
        logLiveChanges(live, cmd);
    }

    return {
        name: args.phase,
        command: cmd,
        scripts: shown.apply(({ create, update, delete: del }) => ({ create, update, delete: del })),
        diffScript: shown.diff,
        ...(live !== undefined ? { liveChanges: live.changes } : {}),
    };
}

/** The Command's variables that carry a release's own files' digest (`KAPTAIN_RELEASE_fleet_3`). */
export const RELEASE_VARIABLE_PREFIX = "KAPTAIN_RELEASE_";

/** The Command's variable that carries the digest of everything else of the phase. */
export const SHARED_VARIABLE = "KAPTAIN_SHARED";

/**
 * sha256 over a phase's inputs (its scripts, dir, kubeconfig, variables: secrets among
 * them), a secret: compared with the previous run's by the script, never shown.
 */
function sharedDigest(inputs: Record<string, pulumi.Input<unknown>>): pulumi.Output<string> {
    return pulumi.secret(
        pulumi.output(inputs).apply(resolved => createHash("sha256").update(stableJson(resolved)).digest("hex")),
    );
}

/** JSON with object keys sorted: the same inputs give the same digest. */
function stableJson(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(stableJson).join(",")}]`;
    }
    if (typeof value === "object" && value !== null) {
        const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
    }
    return JSON.stringify(value ?? null);
}
