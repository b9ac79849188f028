// One cluster: the native objects go where the phase scripts go.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { Engine, RegisteredResource } from "../../sdk/synth/engine";
import { isSecretInput } from "../../sdk/synth/engine";
import { componentModeRepo, tempDir, writeTree } from "../support/fixture";
import { commandOf, programFailures, runProgram, runInfrastructure, scriptsOf } from "../support/program";

const PROD_KUBECONFIG = "apiVersion: v1\nkind: Config\ncurrent-context: prod\n# prod-cluster-token-0004\n";
const root = tempDir();
const kubeconfigFile = path.join(writeTree(root, { "kube/prod.yaml": PROD_KUBECONFIG }), "kube/prod.yaml");

const repo = componentModeRepo();

function kubernetesObjects(engine: Engine): RegisteredResource[] {
    return engine.resources.filter(r => r.type.startsWith("kubernetes:"));
}

function providerRef(engine: Engine, name: string): string {
    const provider = engine.find("pulumi:providers:kubernetes", name);
    if (provider === undefined) {
        throw new Error(`no kubernetes provider ${name}`);
    }
    return `${provider.urn}::${name}-id`;
}

describe("the Kubernetes provider of the native objects", () => {
    it("is built from the phases' kubeconfig and context, kept secret, and every object uses it", async () => {
        const engine = await runInfrastructure({
            namespace: "dev",
            workingDirectory: repo,
            kubeconfig: kubeconfigFile,
            helmfile: { kubeContext: "prod" },
            createNamespace: true,
        });
        const provider = engine.find("pulumi:providers:kubernetes", "geo-kubernetes")!;
        expect(provider.parent).toBe(engine.find("kaptain:index:Infrastructure", "geo")!.urn);
        expect(provider.inputs.kubeconfig).toBe(PROD_KUBECONFIG);
        expect(isSecretInput(provider, "kubeconfig")).toBe(true);
        expect(provider.inputs.context).toBe("prod");
        // A stable identity: a rotated CA never replaces the provider and every object on
        // it, and neither does a rename of the component with `aliases`.
        expect(provider.inputs.clusterIdentifier).toBe("pulumi-kaptain");
        // A secret.yaml edit updates the Secret in place: never deleted, then re-created.
        expect(String(provider.inputs.enableSecretMutable)).toBe("true");
        expect(String(provider.inputs.enableConfigMapMutable)).toBe("true");
        const objects = kubernetesObjects(engine);
        expect(objects.map(r => r.name).sort()).toEqual([
            "geo-namespace",
            "geo-provision-configs-namespace-configmap",
            "geo-provision-configs-namespace-secret",
            "geo-provision-configs-rclone-config",
        ]);
        for (const r of objects) {
            expect(r.provider).toBe(providerRef(engine, "geo-kubernetes"));
        }
        // The scripts get the same kubeconfig and context.
        const install = commandOf(engine, "geo-install");
        expect(isSecretInput(install, "environment", "KAPTAIN_KUBECONFIG")).toBe(true);
        expect((install.inputs.environment as Record<string, string>).KAPTAIN_KUBECONFIG).toBe(kubeconfigFile);
        expect(scriptsOf(install).create).toContain("--kube-context prod");
        expect(JSON.stringify(engine.resources.map(r => r.redactedInputs))).not.toContain("prod-cluster-token-0004");
    });

    it("reads a ~/ path from the home directory, as the script does", async () => {
        const home = tempDir("kaptain-home-");
        writeTree(home, { ".kube/config.yaml": PROD_KUBECONFIG });
        const saved = process.env.HOME;
        process.env.HOME = home;
        try {
            const engine = await runInfrastructure({
                namespace: "dev",
                workingDirectory: repo,
                kubeconfig: "~/.kube/config.yaml",
            });
            expect(engine.find("pulumi:providers:kubernetes", "geo-kubernetes")!.inputs.kubeconfig).toBe(
                PROD_KUBECONFIG,
            );
        } finally {
            process.env.HOME = saved;
        }
    });

    it("is built from a context alone, the kubeconfig staying ambient", async () => {
        const engine = await runInfrastructure({
            namespace: "dev",
            workingDirectory: repo,
            helmfile: { kubeContext: "staging" },
        });
        const provider = engine.find("pulumi:providers:kubernetes", "geo-kubernetes")!;
        expect(provider.inputs.context).toBe("staging");
        expect(provider.inputs.kubeconfig).toBeUndefined();
        for (const r of kubernetesObjects(engine)) {
            expect(r.provider).toBe(providerRef(engine, "geo-kubernetes"));
        }
    });

    it("is not created without a kubeconfig or a context: objects and scripts both use the ambient kubeconfig", async () => {
        const engine = await runInfrastructure({ namespace: "dev", workingDirectory: repo });
        expect(engine.resources.filter(r => r.type === "pulumi:providers:kubernetes")).toEqual([]);
        expect(kubernetesObjects(engine).length).toBeGreaterThan(0);
        for (const r of kubernetesObjects(engine)) {
            expect(r.provider).toBeUndefined();
        }
    });

    it("is not created when no native object needs it: the provider writes its kubeconfig to a temporary file", async () => {
        const engine = await runInfrastructure({
            namespace: "dev",
            workingDirectory: repo,
            kubeconfig: kubeconfigFile,
            provisionConfigs: false,
        });
        expect(engine.resources.filter(r => r.type === "pulumi:providers:kubernetes")).toEqual([]);
        expect(kubernetesObjects(engine)).toEqual([]);
        // The scripts still get the kubeconfig.
        expect(isSecretInput(commandOf(engine, "geo-install"), "environment", "KAPTAIN_KUBECONFIG")).toBe(true);
    });

    it("gives way to a provider the user passes", async () => {
        const engine = await runProgram(async () => {
            const { Infrastructure } = await import("../../sdk");
            const k8s = await import("@pulumi/kubernetes");
            const mine = new k8s.Provider("mine", { kubeconfig: "apiVersion: v1\n" });
            new Infrastructure(
                "geo",
                { namespace: "dev", workingDirectory: repo, kubeconfig: kubeconfigFile, createNamespace: true },
                { providers: { kubernetes: mine } },
            );
        });
        expect(engine.find("pulumi:providers:kubernetes", "geo-kubernetes")).toBeUndefined();
        for (const r of kubernetesObjects(engine)) {
            expect(r.provider).toBe(providerRef(engine, "mine"));
        }
    });

    it("fails, naming `kubeconfig` and the file, when the kubeconfig file cannot be read", async () => {
        const missing = path.join(root, "kube", "missing.yaml");
        const failures = await programFailures(async () => {
            const { Infrastructure } = await import("../../sdk");
            new Infrastructure("geo", { namespace: "dev", workingDirectory: repo, kubeconfig: missing });
        });
        expect(failures.map(f => f.message).join("\n")).toContain(
            `\`kubeconfig\` names a file that cannot be read: ${missing} (ENOENT)`,
        );
    });
});

describe("a kubeconfig that cannot be read", () => {
    it("is not printed when it may be content (one long line, such as base64)", async () => {
        const content = Buffer.from(PROD_KUBECONFIG.repeat(8)).toString("base64");
        const failures = await programFailures(async () => {
            const { Infrastructure } = await import("../../sdk");
            new Infrastructure("geo", { namespace: "dev", workingDirectory: repo, kubeconfig: content });
        });
        const messages = failures.map(f => f.message).join("\n");
        expect(messages).toContain("`kubeconfig` names a file that cannot be read: (the value is not shown");
        expect(messages).not.toContain(content.slice(0, 40));
    });
});

describe("the namespace", () => {
    it("is left to the config phase's helmfile by default, and the objects follow that phase", async () => {
        const engine = await runInfrastructure({ namespace: "dev", workingDirectory: repo });
        expect(engine.resources.filter(r => r.type === "kubernetes:core/v1:Namespace")).toEqual([]);
        const config = commandOf(engine, "geo-config");
        for (const r of kubernetesObjects(engine)) {
            expect(r.dependencies).toContain(config.urn);
        }
    });

    it("with createNamespace, comes first and stays in the cluster when Pulumi deletes it", async () => {
        const engine = await runInfrastructure({ namespace: "dev", workingDirectory: repo, createNamespace: true });
        const ns = engine.find("kubernetes:core/v1:Namespace", "geo-namespace")!;
        expect((ns.inputs.metadata as { name: string }).name).toBe("dev");
        expect(ns.retainOnDelete).toBe(true);
        expect(commandOf(engine, "geo-config").dependencies).toEqual([ns.urn]);
    });

    it("keeps the identity pulumi-kaptain 0.1.0 gave it, so an upgrade neither deletes nor re-creates it", async () => {
        const engine = await runInfrastructure({ namespace: "dev", workingDirectory: repo, createNamespace: true });
        const ns = engine.find("kubernetes:core/v1:Namespace", "geo-namespace")!;
        expect(JSON.stringify(ns.aliases)).toContain("geo-provision-configs-namespace");
        expect(JSON.stringify(ns.aliases)).toContain(
            "urn:pulumi:dev::kaptain-test::kaptain:index:Infrastructure$kaptain:index:ProvisionConfigs::geo-provision-configs",
        );
    });

    it("is deleted with the component only when deleteNamespace says so", async () => {
        const engine = await runProgram(async () => {
            const { Infrastructure, ProvisionConfigs } = await import("../../sdk");
            new Infrastructure("geo", {
                namespace: "dev",
                workingDirectory: repo,
                createNamespace: true,
                deleteNamespace: true,
            });
            new ProvisionConfigs("alone", { namespace: "alone", createNamespace: true, configKeys: { a: "b" } });
        });
        expect(engine.find("kubernetes:core/v1:Namespace", "geo-namespace")!.retainOnDelete).toBe(false);
        expect(engine.find("kubernetes:core/v1:Namespace", "alone-namespace")!.retainOnDelete).toBe(true);
    });

    it("cannot be deleted by a component that did not create it", async () => {
        const { resolveInfrastructure } = await import("../../sdk/infrastructure-resolve");
        expect(() =>
            resolveInfrastructure({ namespace: "dev", workingDirectory: repo, deleteNamespace: true }, root),
        ).toThrow("`deleteNamespace` needs `createNamespace: true`");
        expect(() =>
            resolveInfrastructure(
                {
                    namespace: "dev",
                    workingDirectory: repo,
                    provisionConfigs: { createNamespace: true } as never,
                },
                root,
            ),
        ).toThrow("`provisionConfigs.createNamespace` is an argument of the Infrastructure itself");
    });
});

describe("secrets reach the provider only as secrets", () => {
    it("keeps kubeconfig content given as a plain string secret too", async () => {
        const engine = await runInfrastructure({
            namespace: "dev",
            workingDirectory: repo,
            kubeconfig: PROD_KUBECONFIG,
        });
        const provider = engine.find("pulumi:providers:kubernetes", "geo-kubernetes")!;
        expect(isSecretInput(provider, "kubeconfig")).toBe(true);
    });
});
