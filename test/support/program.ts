import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Engine, EngineOptions, RegisteredResource, startEngine } from "../../sdk/synth/engine";

export const COMMAND_TYPE = "command:local:Command";
export const INFRA_TYPE = "kaptain:index:Infrastructure";

/**
 * Runs `program` under Pulumi's mocks and returns what it registered. A fresh engine per
 * test file: vitest runs each file in its own process.
 */
/** Runs a program of one Infrastructure, `geo` unless named otherwise, and returns what it registered. */
export async function runInfrastructure(
    args: import("../../sdk").InfrastructureArgs,
    opts: import("@pulumi/pulumi").ComponentResourceOptions = {},
    name = "geo",
): Promise<Engine> {
    return runProgram(async () => {
        const { Infrastructure } = await import("../../sdk");
        new Infrastructure(name, args, opts);
    });
}

export async function runProgram(
    program: () => void | Promise<void>,
    options: { stack?: string; providerDirectory?: string; run?: EngineOptions["run"] } = {},
): Promise<Engine> {
    const engine = await startEngine({
        project: "kaptain-test",
        stack: options.stack ?? "dev",
        providerDirectory: options.providerDirectory,
        run: options.run,
    });
    await program();
    await engine.settle();
    return engine;
}

/** The Command inputs that the command provider would run. */
export interface CapturedCommand {
    /** Starts the create script that `environment` carries. */
    readonly create: string;
    /** Absent: the provider runs `create` again on update. */
    readonly update?: string;
    /** Starts the delete script that `environment` carries. */
    readonly delete: string;
    readonly dir: string;
    readonly interpreter: string[];
    readonly environment: Record<string, string>;
    /** What the provider writes to the script's standard input (the kubeconfig's content). */
    readonly stdin?: string;
    readonly triggers?: unknown;
}

/** The scripts a Command's environment carries: what its `create` and `delete` start. */
export function scriptsOf(resource: RegisteredResource | CapturedCommand): { create: string; delete: string } {
    const cmd = "inputs" in resource ? captured(resource) : resource;
    return { create: cmd.environment.KAPTAIN_SCRIPT_CREATE, delete: cmd.environment.KAPTAIN_SCRIPT_DELETE };
}

export function captured(resource: RegisteredResource): CapturedCommand {
    return resource.inputs as unknown as CapturedCommand;
}

export function commandOf(engine: Engine, name: string): RegisteredResource {
    const found = engine.find(COMMAND_TYPE, name);
    if (found === undefined) {
        throw new Error(`no Command named ${name}; registered: ${engine.resources.map(r => r.name).join(", ")}`);
    }
    return found;
}

export const REPO_ROOT = path.resolve(__dirname, "../..");

/**
 * Runs `program` under the mocks and returns the errors it raised, thrown or rejected
 * (a check inside `apply` rejects the resource's input, and that resource's
 * registration then never settles). The test runner's own unhandled-rejection
 * listeners are set aside meanwhile, and put back.
 */
export async function programFailures(
    program: () => void | Promise<void>,
    options: { run?: EngineOptions["run"] } = {},
): Promise<Error[]> {
    const failures: Error[] = [];
    let failed: () => void = () => undefined;
    const firstFailure = new Promise<void>(resolve => {
        failed = resolve;
    });
    const saved = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    const onFailure = (err: unknown) => {
        failures.push(err as Error);
        failed();
    };
    process.on("unhandledRejection", onFailure);
    try {
        const engine = await startEngine({ project: "kaptain-test", stack: "dev", run: options.run });
        await program();
        await Promise.race([engine.settle(), firstFailure]);
        // Let the other rejections of the same cause arrive.
        await new Promise(resolve => setTimeout(resolve, 50));
    } catch (err) {
        failures.push(err as Error);
    } finally {
        process.off("unhandledRejection", onFailure);
        for (const listener of saved) {
            process.on("unhandledRejection", listener);
        }
    }
    return failures;
}

/**
 * An Output's value and secrecy, for assertions made outside `apply` (an assertion that
 * fails inside `apply` shows up as a timeout, not as the failure).
 */
export function outputValue<T>(output: pulumi.Input<T>): Promise<{ value: T; secret: boolean }> {
    const o = pulumi.output(output);
    return new Promise(resolve =>
        o.apply(async v => {
            resolve({ value: v as T, secret: await (o as unknown as { isSecret: Promise<boolean> }).isSecret });
        }),
    );
}
