import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../sdk/synth/engine";
import { isSecretInput } from "../../sdk/synth/engine";
import { copyFixture, tempDir } from "../support/fixture";
import { captured, scriptsOf, COMMAND_TYPE, commandOf, INFRA_TYPE, outputValue, runProgram } from "../support/program";

const KUBECONFIG_CONTENT =
    "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user: {token: kube-token-not-for-logs}\n";
const root = tempDir();
const repo = copyFixture(path.join(root, "repo"));
// Folders helmfile never reads for the dev namespace.
fs.mkdirSync(path.join(repo, ".git"), { recursive: true });
fs.writeFileSync(path.join(repo, ".git", "HEAD"), "ref: refs/heads/main\n");
fs.mkdirSync(path.join(repo, "node_modules", "x"), { recursive: true });
fs.writeFileSync(path.join(repo, "node_modules", "x", "index.js"), "");

let engine: Engine;

beforeAll(async () => {
    engine = await runProgram(async () => {
        const { Infrastructure } = await import("../../sdk");
        const { local } = await import("@pulumi/command");
        const cluster = new local.Command("cluster", { create: "true" });
        new Infrastructure(
            "geo",
            {
                namespace: "dev",
                workingDirectory: repo,
                kubeconfig: pulumi.secret(KUBECONFIG_CONTENT),
                helmfile: { environment: "dev", concurrency: 2 },
                phases: { config: true, install: { syncArgs: ["--wait"] }, provision: true },
                environment: { EXTRA: "value" },
            },
            { dependsOn: [cluster] },
        );
    });
});

describe("resource graph", () => {
    it("registers one component, its namespace guard and one Command per enabled phase, named after the component", () => {
        const infra = engine.find(INFRA_TYPE, "geo")!;
        expect(infra).toBeDefined();
        const children = engine.resources.filter(r => r.parent === infra.urn);
        // No Kubernetes provider: no native object here needs one (see cluster.test.ts).
        expect(children.map(r => `${r.type} ${r.name}`)).toEqual([
            `${COMMAND_TYPE} geo-namespace-guard`,
            `${COMMAND_TYPE} geo-config`,
            `${COMMAND_TYPE} geo-install`,
            `${COMMAND_TYPE} geo-provision`,
        ]);
    });

    it("orders namespace guard -> config -> install -> provision, all after the component's dependsOn", () => {
        const cluster = engine.find(COMMAND_TYPE, "cluster")!;
        const guard = commandOf(engine, "geo-namespace-guard");
        const config = commandOf(engine, "geo-config");
        const install = commandOf(engine, "geo-install");
        const provision = commandOf(engine, "geo-provision");
        expect(guard.dependencies).toEqual([cluster.urn]);
        expect(config.dependencies).toEqual([cluster.urn, guard.urn].sort());
        expect(install.dependencies).toEqual([cluster.urn, config.urn].sort());
        expect(provision.dependencies).toEqual([cluster.urn, install.urn].sort());
    });

    it("runs bash from the repository, relative to where the command provider runs, moving to the namespace folder", () => {
        // The mock engine's command provider runs in the program's directory, as under `pulumi up`.
        const install = captured(commandOf(engine, "geo-install"));
        expect(install.interpreter).toEqual(["bash", "-c"]);
        expect(install.dir).toBe(path.relative(process.cwd(), repo));
        // A removed namespace folder fails in the script, which can say what it leaves, not
        // in the provider's chdir.
        expect(scriptsOf(install).delete).toContain("\nkaptain_init uninstall dev ./namespaces/dev\n");
    });

    it("keeps one copy of each script, in the environment, and commands that only start it", () => {
        const install = captured(commandOf(engine, "geo-install"));
        // The provider runs `create` again on update; a copy would double the state.
        expect(install.update).toBeUndefined();
        // The provider quotes the command in every error: it must be short.
        expect(install.create).toBe('exec bash -c "$KAPTAIN_SCRIPT_CREATE" kaptain-install');
        expect(install.delete).toBe('exec bash -c "$KAPTAIN_SCRIPT_DELETE" kaptain-install');
        expect(scriptsOf(install).create).toContain("\nkaptain_init install dev ./namespaces/dev\n");
        expect(scriptsOf(install).delete).toContain("\nkaptain_init uninstall dev ./namespaces/dev\n");
    });

    it("starts with a namespace guard, which gets its previous stdout back and has no delete", () => {
        const guard = commandOf(engine, "geo-namespace-guard");
        expect(String(guard.inputs.addPreviousOutputInEnv)).toBe("true");
        expect(captured(guard).delete).toBeUndefined();
        // Only what it needs to list releases with the phases' kubeconfig, so it changes
        // with the namespace, not with every input file.
        expect(Object.keys(captured(guard).environment).sort()).toEqual([
            "KAPTAIN_KUBECONFIG",
            "KAPTAIN_SCRIPT_CREATE",
        ]);
        expect(captured(guard).stdin).toBe(KUBECONFIG_CONTENT);
        expect(isSecretInput(guard, "stdin")).toBe(true);
        expect(scriptsOf(guard).create).toContain("\nkaptain_namespace_guard helm list --all --short\n");
        // The phases get theirs back too: their stdout is the record an update compares with, and
        // their stderr is kept small enough to fit in a variable.
        expect(String(commandOf(engine, "geo-install").inputs.addPreviousOutputInEnv)).toBe("true");
    });

    it("puts no phase input in triggers", () => {
        for (const name of ["geo-config", "geo-install", "geo-provision"]) {
            expect(captured(commandOf(engine, name)).triggers).toBeUndefined();
        }
    });
});

describe("helmfile command lines", () => {
    it("passes environment, selectors, concurrency and per-phase sync args", () => {
        const install = scriptsOf(commandOf(engine, "geo-install"));
        // The create script takes its selectors from kaptain_select_releases: the phase's, or on an
        // update only the releases whose inputs changed.
        expect(install.create).toContain("\nkaptain_select_releases action=install\n");
        expect(install.create).toContain(
            '\nhelmfile --environment dev "${KAPTAIN_SELECTORS[@]}" apply --concurrency 2 --skip-needs --suppress-secrets --hide-notes --wait || exit\n',
        );
        expect(install.delete).toContain("\nhelmfile --environment dev --selector action=install destroy || exit\n");
        const config = scriptsOf(commandOf(engine, "geo-config"));
        expect(config.create).toContain("\nkaptain_select_releases action=config\n");
        expect(config.create).toContain(
            '\nhelmfile --environment dev "${KAPTAIN_SELECTORS[@]}" apply --concurrency 2 --suppress-secrets --hide-notes || exit\n',
        );
        expect(config.delete).toContain("\nhelmfile --environment dev --selector action=config destroy || exit\n");
    });
});

describe("environment and secrets", () => {
    it("hands the kubeconfig over as a secret, never in a command string", () => {
        const install = commandOf(engine, "geo-install");
        expect(isSecretInput(install, "environment", "KAPTAIN_KUBECONFIG")).toBe(true);
        const cmd = captured(install);
        for (const script of [cmd.create, cmd.delete, scriptsOf(cmd).create, scriptsOf(cmd).delete]) {
            expect(script).not.toContain("kube-token-not-for-logs");
        }
    });

    it("hands kubeconfig content over as the Command's stdin, a secret in its inputs and outputs", () => {
        const install = commandOf(engine, "geo-install");
        // An environment variable is capped at 128 KiB; standard input has no limit.
        expect(captured(install).stdin).toBe(KUBECONFIG_CONTENT);
        expect(captured(install).environment.KAPTAIN_KUBECONFIG).toBe("-");
        expect(isSecretInput(install, "stdin")).toBe(true);
        expect(install.additionalSecretOutputs).toContain("stdin");
    });

    it("keeps every file out of everything but a secret digest", () => {
        const install = commandOf(engine, "geo-install");
        const inputs = Object.keys(captured(install).environment).filter(k => k.startsWith("KAPTAIN_INPUT_"));
        expect(inputs).toContain("KAPTAIN_INPUT_secret_yaml");
        expect(inputs).toContain("KAPTAIN_INPUT_global_yaml");
        for (const key of inputs) {
            expect([key, isSecretInput(install, "environment", key)]).toEqual([key, true]);
        }
        const everything = JSON.stringify(engine.resources.map(r => r.redactedInputs));
        expect(everything).not.toContain("fixture-admin-password-0001");
        expect(everything).not.toContain("kube-token-not-for-logs");
    });

    it("passes the user's variables and a fingerprint entry per input group", () => {
        const env = captured(commandOf(engine, "geo-install")).environment;
        expect(env.EXTRA).toBe("value");
        expect(
            Object.keys(env)
                .filter(k => k.startsWith("KAPTAIN_INPUT_"))
                .sort(),
        ).toEqual([
            "KAPTAIN_INPUT_charts_seed_data",
            "KAPTAIN_INPUT_configs_app",
            "KAPTAIN_INPUT_configs_tiles",
            "KAPTAIN_INPUT_global_yaml",
            "KAPTAIN_INPUT_helmfile_yaml",
            "KAPTAIN_INPUT_namespaces_dev_configs_app",
            "KAPTAIN_INPUT_namespaces_dev_helmfile_yaml",
            "KAPTAIN_INPUT_namespaces_dev_hooks_sh",
            "KAPTAIN_INPUT_namespaces_dev_provision_configs_Chart_yaml",
            "KAPTAIN_INPUT_namespaces_dev_rclone_conf",
            "KAPTAIN_INPUT_secret_yaml",
        ]);
        // Each script inlines helpers.sh (about 45 KB): one variable may hold 128 KiB.
        for (const [key, value] of Object.entries(env)) {
            expect(Buffer.byteLength(value), key).toBeLessThan(64 * 1024);
        }
        expect(JSON.stringify(env).length).toBeLessThan(120_000);
    });
});

describe("outputs", () => {
    it("publish no digest of any file, only the groups and their file counts", async () => {
        const { Infrastructure } = await import("../../sdk");
        const infra = new Infrastructure("out", {
            namespace: "dev",
            workingDirectory: repo,
            kubeconfig: pulumi.secret(KUBECONFIG_CONTENT),
        });
        const groups = (await outputValue(infra.fingerprint)).value;
        expect(groups.find(g => g.group === "secret.yaml")).toEqual({
            group: "secret.yaml",
            digest: "[secret]",
            files: 1,
        });
        expect(groups.find(g => g.group === "configs/app")).toEqual({
            group: "configs/app",
            digest: "[secret]",
            files: 4,
        });
        expect(groups.every(g => g.digest === "[secret]")).toBe(true);
    });
});
