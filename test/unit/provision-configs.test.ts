import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveInfrastructure } from "../../sdk/infrastructure-resolve";
import { resolveProvisionConfigs } from "../../sdk/provision-configs";
import type { Engine } from "../../sdk/synth/engine";
import { isSecretInput } from "../../sdk/synth/engine";
import { componentModeRepo, copyFixture, errorOf, tempDir, writeTree } from "../support/fixture";
import { commandOf, outputValue, programFailures, runProgram } from "../support/program";

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
        "values.yaml": "configKeys:\n  a: 1\n",
        "namespaces/dev/secret.yaml": "secret:\n  from: namespace\n",
        "secret.yaml": "secret:\n  from: working\n",
        // Forms Helm cannot read, or would render differently, or silently loses.
        "inf.yaml": "secret:\n  ok: 1\n  port: .inf\n",
        "tagged.yaml": "secret:\n  password: !!int s3cr3t-value-0007\n",
        "twice.yaml": "secret:\n  a: 1\n  b: 2\n  a: 3\n",
        "nested-merge.yaml": "secret:\n  n:\n    <<: 5\n",
        "twodocs.yaml": "secret:\n  a: 1\n---\nsecret:\n  b: 2\n",
        "tab.yaml": "secret:\n  list:\n  - \ttabbed\n",
        "vals.yaml": "secret:\n  user: admin\n  token: ref+vault://kv/app#s3cr3t-value-0007\n",
        "badmapkey.yaml": "secret:\n  ? {s3cr3t-value-0007: 1}\n  : x\n",
        // A backquote in the value: go-yaml's quote of it ends early, the rest must not show.
        "backquote.yaml": "secret:\n  k: !!int x` and then s3cr3t-value-0007 and more\n",
    });
    fs.writeFileSync(path.join(dir, "latin1.yaml"), Buffer.from("secret:\n  a: caf\xe9\n", "latin1"));
    const resolve = (args: object) =>
        resolveProvisionConfigs({ namespace: "dev", workingDirectory: dir, ...args }, root);

    it.each([
        [{ secretFile: "missing.yaml" }, '`secretFile` names a file that does not exist: "missing.yaml"'],
        [{ secretFile: "broken.yaml" }, "broken.yaml:3: is not valid YAML for Helm: did not find expected ',' or ']'"],
        [{ secretFile: "list.yaml" }, "list.yaml: `secret` must be a mapping, found a list"],
        [{ secretFile: "scalar.yaml" }, "scalar.yaml: `secret` must be a mapping, found a string value"],
        [{ secretFile: "badkey.yaml" }, '"has space" is not a valid Secret/ConfigMap key'],
        [{ configKeysFile: "values.yaml.gotmpl" }, "is a Go template"],
        [{ configKeysFile: "nokeys.yaml" }, "nokeys.yaml has no top-level `configKeys` key"],
        [{ secretFile: "top.yaml", secret: {} }, "`secretFile` and `secret` are exclusive"],
        [{ namespace: "Geo" }, "`namespace` must be a DNS-1123 label"],
        [{ secretFile: "inf.yaml" }, "inf.yaml is not valid YAML for Helm: json: unsupported value: +Inf"],
        [{ secretFile: "tagged.yaml" }, "tagged.yaml is not valid YAML for Helm: cannot decode !!str `…` as a !!int"],
        [{ secretFile: "twice.yaml" }, "twice.yaml:4: has a key written twice in one mapping"],
        [
            { secretFile: "nested-merge.yaml" },
            "nested-merge.yaml is not valid YAML for Helm: map merge requires map or sequence of maps as the value",
        ],
        [{ secretFile: "twodocs.yaml" }, "twodocs.yaml:3: holds several YAML documents; Helm reads only the first"],
        [
            { secretFile: "tab.yaml" },
            "tab.yaml:3: is not valid YAML for Helm: found character that cannot start any token",
        ],
        [{ secretFile: "latin1.yaml" }, "latin1.yaml is not valid YAML for Helm: incomplete UTF-8 octet sequence"],
        [
            { secretFile: "vals.yaml" },
            "vals.yaml:3: holds a `ref+` reference, which helmfile resolves and ProvisionConfigs does not",
        ],
        [
            { secretFile: "backquote.yaml" },
            "backquote.yaml is not valid YAML for Helm: a key or value cannot be read (Helm's message is left out: it quotes the file)",
        ],
        [
            { secretFile: "badmapkey.yaml" },
            "badmapkey.yaml is not valid YAML for Helm: a key or value cannot be read (Helm's message is left out: it quotes the file)",
        ],
    ])("%j", (args, message) => {
        const err = errorOf(() => resolve(args));
        expect(pulumi.InputPropertyError.isInstance(err) || pulumi.InputPropertiesError.isInstance(err)).toBe(true);
        expect(err.message).toContain(message);
        expect(err.message).not.toContain("s3cr3t-value-0007");
    });

    it.each([
        [{ pw: "s3cr3t-value-0007", n: { deep: [1, NaN] } }, "`secret`: `n.deep[1]` is NaN, which Helm cannot hold"],
        [{ pw: "s3cr3t-value-0007", gone: undefined }, "`secret`: `gone` is undefined, not data"],
        [{ pw: "s3cr3t-value-0007", big: Infinity }, "`secret`: `big` is Infinity, which Helm cannot hold"],
        [{ pw: "s3cr3t-value-0007", "bad key": 1 }, '`secret`: "bad key" is not a valid Secret/ConfigMap key'],
    ])("a map given in the program that JSON or Kubernetes cannot carry: %j", async (secret, message) => {
        const failures = await programFailures(async () => {
            const { ProvisionConfigs } = await import("../../sdk");
            new ProvisionConfigs("pc", { namespace: "dev", workingDirectory: dir, secret });
        });
        const messages = failures.map(f => f.message).join("\n");
        expect(messages).toContain(message);
        expect(messages).not.toContain("s3cr3t-value-0007");
    });

    it("a map given in the program reaches helm on stdin, never in its arguments", async () => {
        const log = path.join(tempDir(), "argv");
        const helm = path.join(tempDir(), "helm with space");
        fs.writeFileSync(helm, `#!/bin/sh\nprintf '%s\\n' "$@" >> '${log}'\nexec helm "$@"\n`, { mode: 0o755 });
        const resolved = resolve({ secret: { pw: "s3cr3t-value-0007", port: 5432 }, helmBinary: helm });
        expect(await outputValue(resolved.secret!)).toEqual({
            value: { pw: "s3cr3t-value-0007", port: "5432" },
            secret: true,
        });
        const argv = fs.readFileSync(log, "utf8");
        expect(argv).toContain("template");
        expect(argv).not.toContain("s3cr3t-value-0007");
    });

    it("helm missing: one error naming what needs it and how to do without, before anything is deployed", () => {
        const err = errorOf(() =>
            resolve({ secretFile: "top.yaml", configKeysFile: "values.yaml", helmBinary: "/nowhere/helm" }),
        );
        expect(err.message).toContain("`/nowhere/helm` was not found");
        expect(err.message).toContain("ProvisionConfigs renders `secretFile` and `configKeysFile` with Helm");
        expect(err.message).toContain("name it with `helmBinary`");
        expect(err.message).toContain("`provisionConfigs: false`");
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
