import * as path from "node:path";
import { Engine, RegisteredResource, startEngine } from "../../sdk/synth/engine";

export const COMMAND_TYPE = "command:local:Command";
export const INFRA_TYPE = "kaptain:index:Infrastructure";

/**
 * Runs `program` under Pulumi's mocks and returns what it registered. A fresh engine per
 * test file: vitest runs each file in its own process.
 */
export async function runProgram(program: () => void | Promise<void>, options: { stack?: string } = {}): Promise<Engine> {
    const engine = await startEngine({ project: "kaptain-test", stack: options.stack ?? "dev" });
    await program();
    await engine.settle();
    return engine;
}

/** The Command inputs that the command provider would run. */
export interface CapturedCommand {
    readonly create: string;
    readonly update: string;
    readonly delete: string;
    readonly dir: string;
    readonly interpreter: string[];
    readonly environment: Record<string, string>;
    readonly triggers?: unknown;
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
