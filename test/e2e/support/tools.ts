/**
 * The pinned toolchain (test/e2e/toolchain/build.sh) and an environment for helm,
 * helmfile and kubectl that keeps their caches and config in a temporary folder.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "../../..");

export interface Toolchain {
    /** helmfile, helm, kubectl, etcd, kube-apiserver, kube-controller-manager, pulumi. */
    readonly binDir: string;
    /** HELM_PLUGINS: helm-diff, placed by hand. */
    readonly helmPlugins: string;
}

/** Builds the toolchain (seconds once cached) and says where it is. */
export function toolchain(): Toolchain {
    const out = execFileSync("bash", [path.join(REPO_ROOT, "test/e2e/toolchain/build.sh")], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        timeout: 90 * 60_000,
    });
    const binDir = out.trim().split("\n").pop()!;
    return { binDir, helmPlugins: path.join(path.dirname(binDir), "helm-plugins") };
}

export interface ToolEnvironment {
    /** The folder everything of the run lives in; removed by `remove`. */
    readonly dir: string;
    /** PATH with the toolchain first, helm's folders private, a runtime dir for the phases. */
    readonly env: Record<string, string>;
    remove(): void;
}

export function toolEnvironment(tools: Toolchain): ToolEnvironment {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaptain-e2e-"));
    const env: Record<string, string> = {
        PATH: `${tools.binDir}:${process.env.PATH}`,
        HELM_PLUGINS: tools.helmPlugins,
        HELM_CACHE_HOME: path.join(dir, "helm", "cache"),
        HELM_CONFIG_HOME: path.join(dir, "helm", "config"),
        HELM_DATA_HOME: path.join(dir, "helm", "data"),
        XDG_RUNTIME_DIR: path.join(dir, "run"),
    };
    fs.mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true });
    return { dir, env, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a tool of the toolchain; returns its stdout. */
export function tool(environment: ToolEnvironment, command: string, args: string[]): string {
    return execFileSync(command, args, {
        env: { ...process.env, ...environment.env },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
    });
}
