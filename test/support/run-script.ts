import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import { CapturedCommand } from "./program";
import { STUB_BIN } from "./fixture";

export interface ScriptRun {
    readonly status: number | null;
    /** The signal that ended the run, if one did. */
    readonly signal?: NodeJS.Signals | null;
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
 * The interpreter, its arguments, the directory, the environment and the standard input, as
 * the command provider sets them (no stdin, or an empty one: /dev/null).
 */
export function invocation(cmd: CapturedCommand, which: "create" | "update" | "delete", options: RunOptions) {
    const env: Record<string, string | undefined> = { ...process.env, ...options.env };
    if (options.stubHelmfile !== false) {
        env.PATH = `${STUB_BIN}:${env.PATH}`;
    }
    const [bin, ...args] = cmd.interpreter;
    return {
        bin,
        // No `update`: the command provider runs `create` again.
        args: [...args, cmd[which] ?? cmd.create],
        cwd: path.resolve(options.programDirectory, cmd.dir),
        env: { ...env, ...cmd.environment },
        stdin: cmd.stdin ?? "",
    };
}

/**
 * Runs one of a Command's scripts the way the command provider does: the interpreter
 * with the script as its last argument, in `dir` (relative to the program's directory),
 * with the process environment plus the Command's `environment`.
 */
export function runCaptured(
    cmd: CapturedCommand,
    which: "create" | "update" | "delete",
    options: RunOptions,
): ScriptRun {
    const { bin, args, cwd, env, stdin } = invocation(cmd, which, options);
    const result = spawnSync(bin, args, { cwd, env, input: stdin, encoding: "utf8", timeout: 60_000 });
    if (result.error) {
        throw result.error;
    }
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A run started by {@link spawnCaptured}: the process, its output so far, and its end. */
export interface StartedRun {
    readonly child: ChildProcess;
    /** What it printed on stderr so far. */
    stderr(): string;
    readonly result: Promise<ScriptRun>;
}

/** {@link runCaptured} without waiting, for a test that acts on the run while it goes. Killed after 60 s. */
export function spawnCaptured(
    cmd: CapturedCommand,
    which: "create" | "update" | "delete",
    options: RunOptions,
): StartedRun {
    const { bin, args, cwd, env, stdin } = invocation(cmd, which, options);
    const child = spawn(bin, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"], timeout: 60_000 });
    // A script that ends before it reads its input closes the pipe: not this run's error.
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", d => {
        stdout += d;
    });
    child.stderr.on("data", d => {
        stderr += d;
    });
    const result = new Promise<ScriptRun>((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
    });
    return { child, stderr: () => stderr, result };
}

/** {@link runCaptured} without waiting: for runs that must overlap. Killed after 60 s. */
export function startCaptured(
    cmd: CapturedCommand,
    which: "create" | "update" | "delete",
    options: RunOptions,
): Promise<ScriptRun> {
    return spawnCaptured(cmd, which, options).result;
}
