import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
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
    /** The namespace directory, relative to the command provider's working directory. */
    readonly commandDirectory: pulumi.Input<string>;
    readonly workingFromNamespace: string;
    readonly hooksFile?: string;
    readonly hookTools: readonly string[];
    readonly helmfile: PhaseInvocationInputs;
    /** The Command's environment: fingerprint, kubeconfig (secret), user variables. */
    readonly environment: Record<string, pulumi.Input<string>>;
    /** What of the hooks' and helmfile's output leaves the script. */
    readonly logging: PhaseLogging;
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
function plainArgument<T>(
    argument: string,
    value: pulumi.Input<T>,
    resource: pulumi.Resource,
): pulumi.Output<pulumi.Unwrap<T>> {
    const output = pulumi.output(value);
    return pulumi.all([output, pulumi.output(pulumi.isSecret(output))]).apply(([plain, secret]) => {
        if (secret) {
            throw new pulumi.ResourceError(
                `\`${argument}\` holds a secret, and helmfile's arguments are part of the ` +
                    "phase's command text, which the command provider shows in errors: pass the secret through " +
                    "`environment` and read it in the helmfile with `requiredEnv`",
                resource,
            );
        }
        return plain;
    }) as pulumi.Output<pulumi.Unwrap<T>>;
}

/** Creates the Command of one phase, child of `parent`, named `${name}-${phase}`. */
export function createPhaseCommand(
    name: string,
    args: PhaseCommandArgs,
    opts: pulumi.CustomResourceOptions & { parent: pulumi.Resource },
): Phase {
    const h = args.helmfile;
    const parent = opts.parent;
    const scripts = pulumi
        .all([
            plainArgument("helmfile.binary", h.binary, parent),
            plainArgument("helmfile.environment", h.environment, parent),
            plainArgument("helmfile.kubeContext", h.kubeContext, parent),
            h.concurrency,
            plainArgument("helmfile.extraArgs", h.extraArgs, parent),
            plainArgument(`phases.${args.phase}.syncArgs`, h.syncArgs, parent),
        ])
        .apply(([binary, environment, kubeContext, concurrency, extraArgs, syncArgs]) => {
            const invocation: HelmfileInvocation = {
                binary,
                environment,
                kubeContext,
                concurrency,
                file: h.file,
                selectors: h.selectors,
                strategy: h.strategy,
                extraArgs: extraArgs ?? [],
                syncArgs: syncArgs ?? [],
            };
            const problems = invocationProblems(args.phase, invocation);
            if (problems.length > 0) {
                throw new pulumi.ResourceError(`${args.phase} phase: ${problems.join("; ")}`, parent);
            }
            const spec = {
                phase: args.phase,
                namespace: args.namespace,
                workingFromNamespace: args.workingFromNamespace,
                hooksFile: args.hooksFile,
                hookTools: args.hookTools,
                helmfile: invocation,
                logging: args.logging,
            };
            return { ...renderPhaseScripts(spec), diff: renderDiffScript(spec) };
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
            },
            // The script itself decides what of its output leaves it (`logging`); the
            // provider streams what does.
            logging: "stdoutAndStderr",
            // helmfile's output can be large; feeding it back as environment could exceed
            // the kernel's argument limit on the next update.
            addPreviousOutputInEnv: false,
            // Nothing goes in `triggers`: a trigger change replaces the Command, and a
            // replace runs `delete`, which is `helmfile destroy`.
        },
        {
            ...opts,
            // Hooks and helmfile may print values: the state keeps their output encrypted.
            additionalSecretOutputs: ["stdout", "stderr"],
        },
    );

    return {
        name: args.phase,
        command: cmd,
        scripts: scripts.apply(({ create, update, delete: del }) => ({ create, update, delete: del })),
        diffScript: scripts.diff,
    };
}
