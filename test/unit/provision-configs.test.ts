import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveInfrastructure } from "../../sdk/infrastructure-resolve";
import { resolveProvisionConfigs } from "../../sdk/provision-configs";
import type { Engine } from "../../sdk/synth/engine";
import { isSecretInput } from "../../sdk/synth/engine";
import { componentModeRepo, copyFixture, errorOf, tempDir, writeTree } from "../support/fixture";
import { commandOf, outputValue, runProgram } from "../support/program";

const root = tempDir();
/** A kubeconfig file the component reads for its Kubernetes provider. */
const KUBECONFIG_FILE =
    writeTree(root, { "kube/config.yaml": "apiVersion: v1\nkind: Config\n" }) && path.join(root, "kube/config.yaml");
const SECRET_VALUE = "fixture-admin-password-0001";

describe("ProvisionConfigs resources", () => {
    let engine: Engine;
    const repo = componentModeRepo();

    beforeAll(async () => {
        engine = await runProgram(async () => {
            const { Infrastructure, ProvisionConfigs } = await import("../../sdk");
            new ProvisionConfigs("standalone", {
                namespace: "geo-dev",
                createNamespace: true,
                secret: pulumi.secret({ token: "literal-token-0003", port: 5432 }),
                configKeys: { domain: "example.test" },
                rcloneConfig: "[kaptain]\ntype = local",
            });
            new Infrastructure("geo", { namespace: "dev", workingDirectory: repo, kubeconfig: KUBECONFIG_FILE });
        });
    });

    it("names children ${name}-<role>, parented to the component", () => {
        const component = engine.find("kaptain:index:ProvisionConfigs", "standalone")!;
        expect(
            engine.resources
                .filter(r => r.parent === component.urn)
                .map(r => `${r.type} ${r.name}`)
                .sort(),
        ).toEqual([
            "kubernetes:core/v1:ConfigMap standalone-namespace-configmap",
            "kubernetes:core/v1:Namespace standalone-namespace",
            "kubernetes:core/v1:Secret standalone-namespace-secret",
            "kubernetes:core/v1:Secret standalone-rclone-config",
        ]);
    });

    it("creates the namespace first when asked, and puts every object in it", () => {
        const ns = engine.find("kubernetes:core/v1:Namespace", "standalone-namespace")!;
        expect((ns.inputs.metadata as { name: string }).name).toBe("geo-dev");
        for (const role of ["namespace-secret", "namespace-configmap", "rclone-config"]) {
            const r = engine.resources.find(x => x.name === `standalone-${role}`)!;
            expect(r.dependencies).toContain(ns.urn);
            expect((r.inputs.metadata as { namespace: string }).namespace).toBe("geo-dev");
        }
    });

    it("renders literal maps with the same rule, secrets kept secret", () => {
        const secret = engine.find("kubernetes:core/v1:Secret", "standalone-namespace-secret")!;
        expect(secret.inputs.stringData).toEqual({ token: "literal-token-0003", port: "5432" });
        expect(isSecretInput(secret, "stringData")).toBe(true);
        const rclone = engine.find("kubernetes:core/v1:Secret", "standalone-rclone-config")!;
        expect(isSecretInput(rclone, "stringData", "rclone.conf")).toBe(true);
        expect((rclone.inputs.stringData as Record<string, string>)["rclone.conf"]).toBe("[kaptain]\ntype = local\n");
        const everything = JSON.stringify(engine.resources.map(r => r.redactedInputs));
        expect(everything).not.toContain("literal-token-0003");
        expect(everything).not.toContain(SECRET_VALUE);
    });

    it("in an Infrastructure: found in the repository, created after the config phase and before install", () => {
        const pc = engine.find("kaptain:index:ProvisionConfigs", "geo-provision-configs")!;
        expect(pc.parent).toBe(engine.find("kaptain:index:Infrastructure", "geo")!.urn);
        const secret = engine.find("kubernetes:core/v1:Secret", "geo-provision-configs-namespace-secret")!;
        expect(isSecretInput(secret, "stringData")).toBe(true);
        expect(secret.inputs.stringData).toEqual({ adminPassword: SECRET_VALUE, apiToken: "fixture-token-0002" });
        expect(
            engine.find("kubernetes:core/v1:ConfigMap", "geo-provision-configs-namespace-configmap")!.inputs.data,
        ).toEqual({ domain: "example.test", replicas: "2" });
        expect(engine.find("kubernetes:core/v1:Secret", "geo-provision-configs-rclone-config")).toBeDefined();
        // The config phase's helmfile creates the namespace (as with kaptain) before the
        // objects go into it; install needs them.
        const config = commandOf(engine, "geo-config");
        const install = commandOf(engine, "geo-install");
        const children = engine.resources.filter(r => r.parent === pc.urn);
        expect(children).toHaveLength(3);
        for (const child of children) {
            expect(child.dependencies).toContain(config.urn);
            expect(install.dependencies).toContain(child.urn);
            expect(config.dependencies).not.toContain(child.urn);
        }
    });
});

describe("modes next to a provision-configs chart", () => {
    const chartRepo = copyFixture(path.join(root, "chart-repo"));

    it("leaves a repository with its own provision-configs release to the chart", () => {
        const resolved = resolveInfrastructure({ namespace: "dev", workingDirectory: chartRepo }, root);
        expect(resolved.provisionConfigs).toBeUndefined();
    });

    it("refuses to let the component and the chart own the same objects", () => {
        const err = errorOf(() =>
            resolveInfrastructure(
                {
                    namespace: "dev",
                    workingDirectory: chartRepo,
                    provisionConfigs: { secretKey: "secret" },
                },
                root,
            ),
        );
        expect(err.message).toContain("`provisionConfigs` would create the namespace Secret");
        expect(err.message).toContain(path.join(chartRepo, "helmfile.yaml"));
    });

    it("allows both when told the chart no longer renders these objects", () => {
        const resolved = resolveInfrastructure(
            {
                namespace: "dev",
                workingDirectory: chartRepo,
                provisionConfigs: { allowChartRelease: true },
            },
            root,
        );
        expect(resolved.provisionConfigs?.secretFile).toBe("secret.yaml");
    });

    it("`false` turns the component off", () => {
        const resolved = resolveInfrastructure(
            { namespace: "dev", workingDirectory: componentModeRepo(), provisionConfigs: false },
            root,
        );
        expect(resolved.provisionConfigs).toBeUndefined();
    });

    it("explicit sources replace the ones found", () => {
        const resolved = resolveInfrastructure(
            {
                namespace: "dev",
                workingDirectory: componentModeRepo(),
                provisionConfigs: { secret: { a: "b" } },
            },
            root,
        );
        expect(resolved.provisionConfigs?.secretFile).toBeUndefined();
        expect(resolved.provisionConfigs?.rcloneConfigFile).toBe("namespaces/dev/rclone.conf");
    });
});

describe("bad input fails before anything is deployed", () => {
    const dir = writeTree(tempDir(), {
        "broken.yaml": "secret:\n  a: 1\n  b: [unclosed\n",
        "list.yaml": "secret:\n  - a\n  - b\n",
        "scalar.yaml": "secret: s3cr3t-value-0007\n",
        "badkey.yaml": 'secret:\n  "has space": x\n  ok: y\n',
        "top.yaml": "user: admin\npassword: p\n",
        "values.yaml.gotmpl": 'configKeys:\n  rev: {{ env "REV" }}\n',
        "nokeys.yaml": "other: 1\n",
        "namespaces/dev/secret.yaml": "secret:\n  from: namespace\n",
        "secret.yaml": "secret:\n  from: working\n",
    });
    const resolve = (args: object) =>
        resolveProvisionConfigs({ namespace: "dev", workingDirectory: dir, ...args }, root);

    it.each([
        [{ secretFile: "missing.yaml" }, '`secretFile` names a file that does not exist: "missing.yaml"'],
        [{ secretFile: "broken.yaml" }, `broken.yaml:4: is not valid YAML`],
        [{ secretFile: "list.yaml" }, "list.yaml: `secret` must be a mapping, found a list"],
        [{ secretFile: "scalar.yaml" }, "scalar.yaml: `secret` must be a mapping, found a string"],
        [{ secretFile: "badkey.yaml" }, '"has space" is not a valid Secret/ConfigMap key'],
        [{ configKeysFile: "values.yaml.gotmpl" }, "is a Go template"],
        [{ configKeysFile: "nokeys.yaml" }, "nokeys.yaml has no top-level `configKeys` key"],
        [{ secretFile: "top.yaml", secret: {} }, "`secretFile` and `secret` are exclusive"],
        [{ namespace: "Geo" }, "`namespace` must be a DNS-1123 label"],
    ])("%j", (args, message) => {
        const err = errorOf(() => resolve(args));
        expect(pulumi.InputPropertyError.isInstance(err) || pulumi.InputPropertiesError.isInstance(err)).toBe(true);
        expect(err.message).toContain(message);
        expect(err.message).not.toContain("s3cr3t-value-0007");
    });

    it("takes the whole file when it has no `secret` key", async () => {
        const resolved = resolve({ secretFile: "top.yaml" });
        expect(await outputValue(resolved.secret!)).toEqual({ value: { user: "admin", password: "p" }, secret: true });
    });

    it("resolves files in the namespace directory first, then the working directory", async () => {
        const resolved = resolve({ secretFile: "secret.yaml" });
        expect((await outputValue(resolved.secret!)).value).toEqual({ from: "namespace" });
    });
});

describe("providers", () => {
    it("hands the component's Kubernetes and command providers down to every child", async () => {
        const repo = componentModeRepo();
        const engine = await runProgram(async () => {
            const { Infrastructure } = await import("../../sdk");
            const k8s = await import("@pulumi/kubernetes");
            const command = await import("@pulumi/command");
            const cluster = new k8s.Provider("cluster", { kubeconfig: "apiVersion: v1\n" });
            const local = new command.Provider("local", {});
            new Infrastructure(
                "geo",
                { namespace: "dev", workingDirectory: repo, kubeconfig: KUBECONFIG_FILE },
                { providers: [cluster, local] },
            );
        });
        const clusterUrn = engine.find("pulumi:providers:kubernetes", "cluster")!.urn;
        const localUrn = engine.find("pulumi:providers:command", "local")!.urn;
        const k8sChildren = engine.resources.filter(r => r.type.startsWith("kubernetes:core"));
        expect(k8sChildren).toHaveLength(3);
        for (const r of k8sChildren) {
            expect(r.provider?.startsWith(`${clusterUrn}::`)).toBe(true);
        }
        for (const name of ["geo-config", "geo-install"]) {
            expect(commandOf(engine, name).provider?.startsWith(`${localUrn}::`)).toBe(true);
        }
    });
});
