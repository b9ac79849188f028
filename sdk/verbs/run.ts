// Runs one of kaptain's verbs on a stack through the Pulumi Automation API.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { promisify } from "node:util";
import type { EngineEvent, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { CONFIG_NAMESPACE } from "../config";
import { PhasesArgs } from "../infrastructure-args";
import { PHASE_ORDER, PhaseName } from "../phases";
import { chooseStack, Project, readProject, readStackConfig, SynthError } from "../synth/project";
import {
    deployedPhases,
    describeRemoval,
    matchesTarget,
    phaseTarget,
    REMOVING_STEPS,
    runPhases,
    StateResource,
    Verb,
    VERB_DEFINITIONS,
    VerbError,
    verbTargets,
} from "./plan";
import { checkOneSdk, projectProgram } from "./program";
import { printReleaseLines } from "./releases";

export interface VerbOptions {
    readonly verb: Verb;
    readonly stack: string;
    readonly projectDirectory: string;
    /** Remove without asking. */
    readonly yes: boolean;
    readonly io?: VerbIO;
    /** The `kaptain` CLI's entry script, which `diff` runs again for its release lines. @default this process's */
    readonly cliEntry?: string;
}

/** Where a verb prints and asks; the process's by default. */
export interface VerbIO {
    readonly stdout: NodeJS.WritableStream;
    readonly stderr: NodeJS.WritableStream;
    readonly stdin: NodeJS.ReadableStream;
    /** A person can answer a question. */
    readonly interactive: boolean;
}

const PROCESS_IO: VerbIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    interactive: process.stdin.isTTY === true,
};

/** Resources that hold nothing in the cluster: the stack, providers, components. */
const BOOKKEEPING = /^pulumi:|^kaptain:index:/;

/** One step the engine reported: the resource and what it does to it. */
interface Step {
    readonly urn: string;
    readonly type: string;
    readonly op: string;
}

/**
 * Runs the verb: reads the project and the stack's state, previews the operation, asks
 * before removing anything (unless `yes`), then runs it, streaming what Pulumi prints.
 * Returns the exit status, the Pulumi CLI's for its own failures.
 */
export async function runVerb(options: VerbOptions): Promise<number> {
    const io = options.io ?? PROCESS_IO;
    const { verb } = options;
    const definition = VERB_DEFINITIONS[verb];
    const title = `kaptain ${verb} ${options.stack}`;

    const { project, stackFile } = loadProject(options.projectDirectory, options.stack);
    const pulumiCommand = await pulumiCli();
    checkOneSdk(project);
    process.chdir(project.directory); // as the Pulumi CLI runs a program

    // One workspace; the program it runs is set once the state says which phases are deployed.
    let program = projectProgram(project);
    const { LocalWorkspace } = automation();
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: options.stack, projectName: project.name, program: () => program() },
        { workDir: project.directory, pulumiCommand },
    );
    const deployed = deployedPhases(await stateResources(stack, pulumiCommand, project.directory));
    const phases = runPhases(verb, stackFile, deployed, options.stack);
    const targets = verbTargets(verb, options.stack, project.name, deployed);
    program = projectProgram(project, phases);

    io.stderr.write(`${title}: ${definition.summary}${describeScope(phases, verb, deployed)}\n`);
    const color = (io.stdout as { isTTY?: boolean }).isTTY ? ("always" as const) : ("never" as const);
    const print = (text: string) => io.stdout.write(text);
    const common = { onOutput: print, color, ...(targets !== undefined ? { target: targets } : {}) };

    try {
        if (definition.operation === "preview") {
            await stack.preview({ ...common, diff: true });
            return await printReleaseLines({
                project,
                stack: options.stack,
                pulumi: pulumiCommand.command,
                env: stack.workspace.envVars,
                cliEntry: options.cliEntry ?? process.argv[1],
                print,
                note: text => io.stderr.write(`${title}: ${text}`),
            });
        }
        const check = (steps: readonly Step[]) => checkPhasesSeen(options, project, phases, deployed, steps);
        if (!options.yes) {
            const steps = await stepsOf(async onEvent => {
                if (definition.operation === "destroy") {
                    await stack.destroy({ ...common, previewOnly: true, onEvent });
                } else {
                    await stack.preview({ ...common, onEvent });
                }
            });
            check(steps);
            if (steps.every(s => s.op === "same")) {
                io.stderr.write(`${title}: nothing to do\n`);
                return 0;
            }
            const removals = steps.filter(s => REMOVING_STEPS.has(s.op) && !BOOKKEEPING.test(s.type));
            if (removals.length > 0 && !(await confirmRemoval(title, removals, io))) {
                return 1;
            }
        }
        // With --yes there was no preview: the run's own steps show whether the program did as the verb asked.
        check(
            await stepsOf(async onEvent => {
                if (definition.operation === "destroy") {
                    await stack.destroy({ ...common, onEvent });
                } else {
                    await stack.up({ ...common, onEvent });
                }
            }),
        );
        io.stderr.write(`${title}: done\n`);
        return 0;
    } catch (err) {
        const code = pulumiExitCode(err);
        if (code === undefined) {
            throw err;
        }
        // Pulumi printed its errors with the operation's output.
        io.stderr.write(`${title}: pulumi failed (exit status ${code}); its errors are above\n`);
        return code;
    }
}

/** The project, and `kaptain:phases` as the stack's file sets it; problems with either are the user's to fix. */
function loadProject(directory: string, stack: string): { project: Project; stackFile?: PhasesArgs } {
    try {
        const project = readProject(path.resolve(directory));
        chooseStack(project, stack);
        const text = readStackConfig(project, stack).config[`${CONFIG_NAMESPACE}:phases`];
        return { project, ...(text !== undefined ? { stackFile: parsePhases(text, stack) } : {}) };
    } catch (err) {
        if (err instanceof SynthError) {
            throw new VerbError(err.message);
        }
        throw err;
    }
}

function parsePhases(text: string, stack: string): PhasesArgs {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        value = text;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new VerbError(`Pulumi.${stack}.yaml: kaptain:phases must be a map of the phases, got ${text}`);
    }
    return value as PhasesArgs;
}

/** The Pulumi CLI on PATH, or an error that says so. */
async function pulumiCli(): Promise<PulumiCommand> {
    const onPath = (process.env.PATH ?? "").split(path.delimiter).some(dir => isExecutable(path.join(dir, "pulumi")));
    if (!onPath) {
        throw new VerbError(
            "the Pulumi CLI (`pulumi`) is not on PATH: kaptain's verbs run it. Install it " +
                "(https://www.pulumi.com/docs/install/) and run again; `kaptain synth` needs no CLI",
            1,
        );
    }
    const { PulumiCommand } = automation();
    return PulumiCommand.get();
}

/** The stack's resources, from `pulumi stack export` without decrypting its secrets. */
async function stateResources(stack: Stack, cli: PulumiCommand, workDir: string): Promise<StateResource[]> {
    const { stdout } = await promisify(execFile)(cli.command, ["stack", "export", "--stack", stack.name], {
        cwd: workDir,
        env: { ...process.env, ...stack.workspace.envVars },
        maxBuffer: 256 * 1024 * 1024,
    });
    const state = JSON.parse(stdout) as { deployment?: { resources?: StateResource[] } };
    return state.deployment?.resources ?? [];
}

/** The steps the engine reports while `operation` runs. */
async function stepsOf(operation: (onEvent: (event: EngineEvent) => void) => Promise<void>): Promise<Step[]> {
    const steps: Step[] = [];
    await operation(event => {
        const m = event.resourcePreEvent?.metadata;
        if (m !== undefined) {
            steps.push({ urn: m.urn, type: m.type, op: m.op });
        }
    });
    return steps;
}

/** Which phases the run leaves as they are, when the verb names some. */
function describeScope(
    phases: Record<PhaseName, unknown> | undefined,
    verb: Verb,
    deployed: ReadonlySet<PhaseName>,
): string {
    const named = VERB_DEFINITIONS[verb].phases ?? {};
    const kept = PHASE_ORDER.filter(p => named[p] === undefined && deployed.has(p));
    if (phases === undefined || kept.length === 0) {
        return "";
    }
    return kept.length === 1
        ? `; the ${kept[0]} phase stays as deployed`
        : `; the ${kept.join(" and ")} phases stay as deployed`;
}

/**
 * A verb acts through `kaptain:phases`: a program that sets its phases in code (not from
 * the stack's config) would make `uninstall` remove nothing. Said plainly instead.
 */
function checkPhasesSeen(
    options: VerbOptions,
    project: Project,
    phases: Record<PhaseName, unknown> | undefined,
    deployed: ReadonlySet<PhaseName>,
    steps: readonly Step[],
): void {
    const named = VERB_DEFINITIONS[options.verb].phases;
    if (phases === undefined || named === undefined) {
        return;
    }
    for (const phase of PHASE_ORDER) {
        const target = phaseTarget(options.stack, project.name, phase);
        const seen = steps.filter(s => matchesTarget(target, s.urn));
        const missing =
            named[phase] === "on"
                ? seen.length === 0
                : named[phase] === "off" && deployed.has(phase) && !seen.some(s => s.op === "delete");
        if (missing) {
            throw new VerbError(
                `kaptain ${options.verb} ${options.stack}: the program ${named[phase] === "on" ? "registers no" : "still registers the"} ` +
                    `${phase} phase. The verbs work on programs that build their Infrastructure from stack config ` +
                    `(infrastructureArgsFromConfig(), as kaptain init writes ${path.relative(project.directory, project.main)})`,
            );
        }
    }
}

/** Lists what the operation removes and asks; refuses when no one can answer. */
async function confirmRemoval(title: string, removals: readonly Step[], io: VerbIO): Promise<boolean> {
    io.stderr.write(
        `\n${title} removes:\n${removals.map(s => `  ${describeRemoval(s.urn, s.type, s.op)}`).join("\n")}\n`,
    );
    if (!io.interactive) {
        throw new VerbError(
            `${title}: refusing to remove without confirmation: stdin is not a terminal. Run again with --yes to remove them`,
        );
    }
    const answer = await ask(`Remove them? [y/N] `, io);
    if (/^(y|yes)$/i.test(answer.trim())) {
        return true;
    }
    io.stderr.write(`${title}: confirmation declined, nothing changed\n`);
    return false;
}

/** One line from the input; empty when it ends first. */
export function ask(question: string, io: Pick<VerbIO, "stdin" | "stderr">): Promise<string> {
    const rl = readline.createInterface({ input: io.stdin, output: io.stderr, terminal: false });
    return new Promise(resolve => {
        let answered = false;
        rl.on("close", () => {
            if (!answered) resolve("");
        });
        rl.question(question, answer => {
            answered = true;
            rl.close();
            resolve(answer);
        });
    });
}

/** The Automation API, loaded when a verb runs (synth and init do without it). */
function automation(): typeof import("@pulumi/pulumi/automation") {
    return require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation");
}

interface CommandResultLike {
    readonly code?: unknown;
    readonly err?: { readonly commandResult?: CommandResultLike };
}

/**
 * The exit status of a failed Pulumi CLI run, or undefined for any other error. The
 * Automation API (3.248) wraps the CLI's failure in a second error with the status -2
 * ("unknown"); the CLI's own status is in the error it wraps. A CLI that did not run is 1.
 */
export function pulumiExitCode(err: unknown): number | undefined {
    const result = (err as { commandResult?: CommandResultLike } | undefined)?.commandResult;
    if (result === undefined) {
        return undefined;
    }
    const inner = result.err?.commandResult?.code;
    const code = typeof inner === "number" ? inner : result.code;
    return typeof code === "number" && code > 0 ? code : 1;
}

/** Whether `file` is a regular file this user may run. */
export function isExecutable(file: string): boolean {
    try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
    } catch {
        return false;
    }
}
