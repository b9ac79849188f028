import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { CapturedCommand } from "./program";
import { STUB_BIN } from "./fixture";

export interface ScriptRun {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

export interface RunOptions {
    /** The directory the program (and so the command provider) ran in. */
    readonly programDirectory: string;
    /** Variables of the provider's own process, on top of this process's. */
    readonly env?: Record<string, string | undefined>;
    /** Put the recording helmfile first on PATH. @default true */
    readonly stubHelmfile?: boolean;
}

/**
 * Runs one of a Command's scripts the way the command provider does: the interpreter
 * with the script as its last argument, in `dir` (relative to the program's directory),
 * with the process environment plus the Command's `environment`.
 */
export function runCaptured(cmd: CapturedCommand, which: "create" | "update" | "delete", options: RunOptions): ScriptRun {
    const env: Record<string, string | undefined> = { ...process.env, ...options.env };
    if (options.stubHelmfile !== false) {
        env.PATH = `${STUB_BIN}:${env.PATH}`;
    }
    const [bin, ...args] = cmd.interpreter;
    const result = spawnSync(bin, [...args, cmd[which]], {
        cwd: path.resolve(options.programDirectory, cmd.dir),
        env: { ...env, ...cmd.environment },
        encoding: "utf8",
        timeout: 60_000,
    });
    if (result.error) {
        throw result.error;
    }
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
