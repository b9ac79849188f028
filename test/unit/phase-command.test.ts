// What each phase Command is registered with: secret outputs, logging, protection,
// and no secret ever inside its command text.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { resolveInfrastructure } from "../../sdk/infrastructure-resolve";
import { copyFixture, errorOf, tempDir } from "../support/fixture";
import { scriptsOf, COMMAND_TYPE, commandOf, programFailures, runProgram, runInfrastructure } from "../support/program";

const root = tempDir();
const repo = copyFixture(path.join(root, "repo"));
const KUBECONFIG = "apiVersion: v1\nkind: Config\n";

describe("phase Commands", () => {
    it("keep stdout, stderr and stdin (kubeconfig content) encrypted in the state, and stream what the script lets out", async () => {
        const engine = await runInfrastructure({
            namespace: "dev",
            workingDirectory: repo,
            kubeconfig: KUBECONFIG,
            phases: { provision: true },
        });
        for (const phase of ["config", "install", "provision"]) {
            const cmd = commandOf(engine, `geo-${phase}`);
            expect(cmd.additionalSecretOutputs).toEqual(["stdout", "stderr", "stdin"]);
            // The script's stderr: its stdout is the record, digests of the inputs, for the state only.
            expect(cmd.inputs.logging).toBe("stderr");
            expect(scriptsOf(cmd).create).toContain("\nkaptain_output stderr\n");
            expect(scriptsOf(cmd).delete).toContain("\nkaptain_output stderr\n");
            expect(cmd.protect).toBe(false);
        }
    });

    it("follow `logging` and `protect`", async () => {
        const engine = await runInfrastructure({
            namespace: "dev",
            workingDirectory: repo,
            kubeconfig: KUBECONFIG,
            logging: "steps",
            protect: true,
        });
        const commands = engine.resources.filter(r => r.type === COMMAND_TYPE);
        expect(commands.map(c => c.name)).toEqual(["geo-namespace-guard", "geo-config", "geo-install"]);
        for (const cmd of commands) {
            expect(cmd.protect).toBe(true);
        }
        for (const cmd of commands.slice(1)) {
            expect(scriptsOf(cmd).create).toContain("\nkaptain_output steps\n");
        }
    });

    it("reject an unknown `logging` before anything is registered", () => {
        const err = errorOf(() =>
            resolveInfrastructure({ namespace: "dev", workingDirectory: repo, logging: "verbose" as never }, root),
        );
        expect(pulumi.InputPropertyError.isInstance(err)).toBe(true);
        expect(err.message).toContain('`logging` must be one of all, stderr, steps, got "verbose"');
    });

    it.each([
        ["helmfile.extraArgs", { helmfile: { extraArgs: [pulumi.secret("--state-values-set=password=hunter2")] } }],
        ["phases.install.syncArgs", { phases: { install: { syncArgs: [pulumi.secret("--set=password=hunter2")] } } }],
        ["helmfile.kubeContext", { helmfile: { kubeContext: pulumi.secret("prod") } }],
    ])("refuse a secret in %s, pointing to `environment`", async (argument, extra) => {
        const failures = await programFailures(async () => {
            const { Infrastructure } = await import("../../sdk");
            new Infrastructure("geo", { namespace: "dev", workingDirectory: repo, kubeconfig: KUBECONFIG, ...extra });
        });
        const messages = failures.map(f => f.message).join("\n");
        expect(messages).toContain(`\`${argument}\` holds a secret`);
        // By the phase's Command only, not again by the component's outputs built from its scripts.
        expect(messages).not.toContain('serializing property "outputs"');
        for (const failure of failures) {
            expect(failure.message).toMatch(/^error serializing property "environment": (install|config) phase: /);
        }
        expect(messages).toContain("pass the secret through `environment`");
        expect(messages).not.toContain("hunter2");
    });
});

describe("warnings", () => {
    it("warn when namespaces/ exists without the namespace's folder, naming the folders there are", async () => {
        const engine = await runProgram(async () => {
            const { Infrastructure } = await import("../../sdk");
            new Infrastructure("typo", { namespace: "prdo", workingDirectory: repo, kubeconfig: KUBECONFIG });
        });
        expect(engine.warnings).toEqual([
            `namespace 'prdo' has no folder namespaces/prdo/ in ${repo}: deploying the repository root as it is, ` +
                "without the overrides a namespace folder holds (kaptain's rule; no hooks file runs). " +
                "Namespaces with a folder: dev, prod",
        ]);
    });

    it("say that the root's hooks file runs, when there is one", async () => {
        const withHooks = copyFixture(path.join(tempDir(), "root-hooks"));
        const { writeFileSync } = await import("node:fs");
        writeFileSync(path.join(withHooks, "hooks.sh"), "true\n");
        const engine = await runProgram(async () => {
            const { Infrastructure } = await import("../../sdk");
            new Infrastructure("typo", { namespace: "prdo", workingDirectory: withHooks, kubeconfig: KUBECONFIG });
        });
        expect(engine.warnings).toHaveLength(1);
        expect(engine.warnings[0]).toContain("(kaptain's rule; the root's ./hooks.sh runs)");
    });

    it("say nothing when the namespace has its folder, or the repository has no namespaces/", async () => {
        const flat = copyFixture(path.join(tempDir(), "flat"));
        const { rmSync } = await import("node:fs");
        rmSync(path.join(flat, "namespaces"), { recursive: true });
        const engine = await runProgram(async () => {
            const { Infrastructure } = await import("../../sdk");
            new Infrastructure("dev", { namespace: "dev", workingDirectory: repo, kubeconfig: KUBECONFIG });
            new Infrastructure("flat", { namespace: "flat", workingDirectory: flat, kubeconfig: KUBECONFIG });
        });
        expect(engine.warnings).toEqual([]);
    });
});
