import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../sdk/synth/engine";
import { copyFixture, tempDir } from "../support/fixture";
import { commandOf, runProgram } from "../support/program";

/**
 * Each variant is a clone of the fixture, with its program directory above it (as when
 * Pulumi.yaml sits next to the repository), edited in one way. Comparing the install
 * Command's inputs against the untouched clone shows exactly what a change would update.
 */
const root = tempDir();
const variants: Record<string, (repo: string) => void> = {
    base: () => undefined,
    // Same commit, another path and machine: different mtimes and modes too.
    otherClone: repo => {
        const later = new Date(Date.now() + 3_600_000);
        fs.utimesSync(path.join(repo, "global.yaml"), later, later);
        fs.chmodSync(path.join(repo, "configs", "app", "a.conf"), 0o755);
    },
    commonConfig: repo => fs.appendFileSync(path.join(repo, "configs", "app", "a.conf"), "edited\n"),
    namespaceConfig: repo =>
        fs.appendFileSync(path.join(repo, "namespaces", "dev", "configs", "app", "a.conf"), "edited\n"),
    newConfigFile: repo => fs.writeFileSync(path.join(repo, "configs", "tiles", "new.json"), "{}\n"),
    secret: repo => fs.appendFileSync(path.join(repo, "secret.yaml"), "  more: value\n"),
    hooks: repo => fs.appendFileSync(path.join(repo, "namespaces", "dev", "hooks.sh"), "# a comment\n"),
    helmfile: repo => fs.appendFileSync(path.join(repo, "helmfile.yaml"), "# edited\n"),
    notRead: repo => {
        fs.mkdirSync(path.join(repo, ".git", "objects"), { recursive: true });
        fs.writeFileSync(path.join(repo, ".git", "objects", "ab"), "blob");
        fs.mkdirSync(path.join(repo, "node_modules", "pkg"), { recursive: true });
        fs.writeFileSync(path.join(repo, "node_modules", "pkg", "index.js"), "x");
        fs.appendFileSync(path.join(repo, "namespaces", "prod", "configs", "app", "a.conf"), "prod edit\n");
        fs.mkdirSync(path.join(repo, "namespaces", "dev", "provision-configs", ".kaptain"), { recursive: true });
        fs.writeFileSync(path.join(repo, "namespaces", "dev", "provision-configs", ".kaptain", "left"), "over");
    },
};

/** One program per variant: its own project directory, where its command provider runs. */
const engines: Record<string, Engine> = {};
const cwd = process.cwd();

beforeAll(async () => {
    for (const [name, edit] of Object.entries(variants)) {
        const programDir = path.join(root, name, "program dir");
        const repo = copyFixture(path.join(programDir, "infra"));
        fs.writeFileSync(path.join(programDir, "kubeconfig.yaml"), "apiVersion: v1\nkind: Config\n");
        edit(repo);
        engines[name] = await runProgram(
            async () => {
                const { Infrastructure } = await import("../../sdk");
                process.chdir(programDir);
                try {
                    new Infrastructure(name, {
                        namespace: "dev",
                        workingDirectory: "infra",
                        kubeconfig: "kubeconfig.yaml",
                    });
                } finally {
                    process.chdir(cwd);
                }
            },
            { providerDirectory: programDir },
        );
    }
});
afterAll(() => process.chdir(cwd));

/** The input keys (dotted paths) whose values differ between two resources. */
function changedInputs(a: string, b: string): string[] {
    const left = flatten(commandOf(engines[a], `${a}-install`).inputs);
    const right = flatten(commandOf(engines[b], `${b}-install`).inputs);
    return [...new Set([...Object.keys(left), ...Object.keys(right)])].filter(k => left[k] !== right[k]).sort();
}

function flatten(value: unknown, prefix = "", out: Record<string, string> = {}): Record<string, string> {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
    } else {
        out[prefix] = JSON.stringify(value);
    }
    return out;
}

describe("change detection", () => {
    it("gives identical inputs for the same repository cloned elsewhere (no paths, mtimes or modes)", () => {
        expect(changedInputs("base", "otherClone")).toEqual([]);
    });

    it.each([
        ["commonConfig", ["environment.KAPTAIN_INPUT_configs_app", "environment.KAPTAIN_SHARED"]],
        ["namespaceConfig", ["environment.KAPTAIN_INPUT_namespaces_dev_configs_app", "environment.KAPTAIN_SHARED"]],
        ["newConfigFile", ["environment.KAPTAIN_INPUT_configs_tiles", "environment.KAPTAIN_SHARED"]],
        ["secret", ["environment.KAPTAIN_INPUT_secret_yaml", "environment.KAPTAIN_SHARED"]],
        ["hooks", ["environment.KAPTAIN_INPUT_namespaces_dev_hooks_sh", "environment.KAPTAIN_SHARED"]],
        ["helmfile", ["environment.KAPTAIN_INPUT_helmfile_yaml", "environment.KAPTAIN_SHARED"]],
    ])("an edit in %s changes exactly %j", (variant, expected) => {
        expect(changedInputs("base", variant)).toEqual(expected);
    });

    it("ignores .git, node_modules, another namespace's folder and generated .kaptain files", () => {
        expect(changedInputs("base", "notRead")).toEqual([]);
    });

    it("names the folder that changed, so preview --diff says what changed", () => {
        const base = commandOf(engines.base, "base-install").inputs as { environment: Record<string, string> };
        const edited = commandOf(engines.newConfigFile, "newConfigFile-install").inputs as {
            environment: Record<string, string>;
        };
        expect(base.environment.KAPTAIN_INPUT_configs_tiles).toMatch(/^sha256:[0-9a-f]{16} files:2$/);
        expect(edited.environment.KAPTAIN_INPUT_configs_tiles).toMatch(/^sha256:[0-9a-f]{16} files:3$/);
    });

    it("rebases a relative kubeconfig path onto the namespace directory, keeping it relative", () => {
        const env = commandOf(engines.base, "base-install").inputs as { environment: Record<string, string> };
        expect(env.environment.KAPTAIN_KUBECONFIG).toBe("../../../kubeconfig.yaml");
    });
});
