import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { readTree, tempDir } from "./fixture";
import { REPO_ROOT } from "./program";

export interface CliRun {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/**
 * A copy of the repository's example project in a temporary folder: Pulumi.yaml, the
 * stack files and examples/geo-platform, with sdk/ and node_modules/ linked back so the
 * program's imports resolve. `edit` may change anything before synth runs.
 */
export function exampleProject(edit: (dir: string) => void = () => undefined): string {
    const dir = tempDir("kaptain-project-");
    for (const file of fs.readdirSync(REPO_ROOT).filter(f => /^Pulumi(\..+)?\.yaml$/.test(f))) {
        fs.copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
    }
    fs.cpSync(path.join(REPO_ROOT, "examples"), path.join(dir, "examples"), { recursive: true });
    fs.symlinkSync(path.join(REPO_ROOT, "sdk"), path.join(dir, "sdk"));
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
    edit(dir);
    return dir;
}

/** Runs the `kaptain` CLI from source, as `npm run synth` does. */
export function kaptain(args: string[], cwd = REPO_ROOT, env: Record<string, string> = {}): CliRun {
    const result = spawnSync(process.execPath, [path.join(REPO_ROOT, "sdk/dev-cli.cjs"), ...args], {
        cwd,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, FORCE_COLOR: "0", ...env },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every file below `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
    return fs.existsSync(dir) ? Object.keys(readTree(dir)).sort() : [];
}

/**
 * A home directory holding the prod stack's kubeconfig (`~/.kube/prod.yaml`): the
 * program reads it to build the stack's Kubernetes provider, as `pulumi up` would.
 */
export function homeWithProdKubeconfig(): string {
    const home = tempDir("kaptain-home-");
    fs.mkdirSync(path.join(home, ".kube"));
    fs.writeFileSync(
        path.join(home, ".kube", "prod.yaml"),
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\n# prod-kubeconfig-token-0005\n",
    );
    return home;
}
