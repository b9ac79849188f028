// `kaptain diff`'s release lines: what each phase's helmfile diff finds against the
// stack's cluster, from `kaptain synth --live` (the one implementation of the live diff).
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { CONFIG_NAMESPACE } from "../config";
import { readKubeconfig } from "../kubeconfig";
import { Project, readStackConfig } from "../synth/project";

export interface ReleaseLinesOptions {
    readonly project: Project;
    readonly stack: string;
    /** The Pulumi CLI, to decrypt a kubeconfig stored as a secret. */
    readonly pulumi: string;
    /** The environment the Pulumi CLI runs with. */
    readonly env: Record<string, string>;
    /** The `kaptain` CLI's entry script, run again for `synth`. */
    readonly cliEntry: string;
    readonly print: (text: string) => void;
    readonly note: (text: string) => void;
}

/**
 * Runs `kaptain synth --live` in a child process (its plan goes to a private temporary
 * folder, not the project's out/) with the stack's kubeconfig, and prints its release
 * lines. Returns 0, or 1 when the live diff failed.
 */
export async function printReleaseLines(options: ReleaseLinesOptions): Promise<number> {
    let content: string | undefined;
    try {
        content = await stackKubeconfig(options);
    } catch (err) {
        options.note(`release lines failed: ${(err as Error).message}\n`);
        return 1;
    }
    if (content === undefined) {
        options.note(
            "no release lines: no kubeconfig for this stack (kaptain:kubeconfig, KUBECONFIG or ~/.kube/config)\n",
        );
        return 0;
    }
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "kaptain-diff-"));
    try {
        const kubeconfig = path.join(folder, "kubeconfig");
        fs.writeFileSync(kubeconfig, content, { mode: 0o600 });
        options.note(
            "release lines: each phase's kaptain diff (hooks in dry run, helmfile diff) against the cluster\n",
        );
        const run = await node(options.cliEntry, [
            "synth",
            ...["--project", options.project.directory, "--stack", options.stack],
            ...["--live", "--kubeconfig", kubeconfig, "--out", path.join(folder, "out")],
        ]);
        if (run.status !== 0) {
            options.note(run.stderr.replace(/^kaptain synth: /, "release lines failed: "));
            return 1;
        }
        const lines = run.stdout.split("\n");
        const start = lines.findIndex(l => l.startsWith("Live diff"));
        const end = lines.findIndex((l, i) => i > start && l.trim() === "");
        // synth's own header points at its live/ folder, which is gone with this temporary one.
        const body = lines.slice(start + 1, end < 0 ? undefined : end);
        options.print(`\nReleases each phase would change (helmfile diff against the cluster):\n${body.join("\n")}\n`);
        return 0;
    } finally {
        fs.rmSync(folder, { recursive: true, force: true });
    }
}

/** The kubeconfig's content the stack deploys with: its config (decrypted when secret), else the ambient one. */
async function stackKubeconfig(options: ReleaseLinesOptions): Promise<string | undefined> {
    const key = `${CONFIG_NAMESPACE}:kubeconfig`;
    const { config, secretKeys } = readStackConfig(options.project, options.stack);
    let value = config[key];
    if (secretKeys.includes(key)) {
        const { stdout } = await promisify(execFile)(
            options.pulumi,
            ["config", "get", key, "--stack", options.stack, "--non-interactive"],
            { cwd: options.project.directory, env: { ...process.env, ...options.env } },
        );
        value = stdout.replace(/\n$/, "");
    }
    if (value === undefined) {
        const ambient = [...(process.env.KUBECONFIG ?? "").split(path.delimiter), "~/.kube/config"].filter(Boolean)[0];
        const file = ambient.startsWith("~/") ? path.join(os.homedir(), ambient.slice(2)) : ambient;
        if (!fs.existsSync(file)) {
            return undefined;
        }
        value = path.resolve(file);
    }
    return readKubeconfig(value, options.project.directory);
}

function node(entry: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [entry, ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", d => (stdout += String(d)));
        child.stderr.on("data", d => (stderr += String(d)));
        child.on("error", reject);
        child.on("close", status => resolve({ status, stdout, stderr }));
    });
}
