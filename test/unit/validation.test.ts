import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { resolveInfrastructure } from "../../sdk/infrastructure-resolve";
import { invocationProblems } from "../../sdk/phase";
import { resolveProvisionConfigs } from "../../sdk/provision-configs";
import { componentModeRepo, copyFixture, errorOf, tempDir } from "../support/fixture";
import { runProgram } from "../support/program";

const root = tempDir();
const repo = copyFixture(path.join(root, "repo"));

describe("construction-time checks", () => {
    it.each([
        ["", "`namespace` is required"],
        ["Geo_Dev", "`namespace` must be a DNS-1123 label"],
        ["-dev", "`namespace` must be a DNS-1123 label"],
        ["a".repeat(64), "`namespace` must be a DNS-1123 label"],
    ])("rejects namespace %j", (namespace, message) => {
        const err = errorOf(() => resolveInfrastructure({ namespace, workingDirectory: repo }, root));
        expect(pulumi.InputPropertyError.isInstance(err)).toBe(true);
        expect(err.message).toContain(message);
        expect(err.propertyPath).toBe("namespace");
    });

    it("rejects a working directory that does not exist, naming it", () => {
        const err = errorOf(() => resolveInfrastructure({ namespace: "dev", workingDirectory: "nowhere" }, root));
        expect(err.message).toContain("`workingDirectory` is not a directory");
        expect(err.message).toContain(path.join(root, "nowhere"));
    });

    it("rejects a hooks file that does not exist", () => {
        const err = errorOf(() =>
            resolveInfrastructure({ namespace: "dev", workingDirectory: repo, hooks: "missing.sh" }, root),
        );
        expect(err.message).toContain('`hooks` names a file that does not exist: "missing.sh"');
    });

    it("names each folder it looked in once: a namespace without a folder looked in the repository only", () => {
        const inNamespace = errorOf(() =>
            resolveInfrastructure({ namespace: "dev", workingDirectory: repo, hooks: "missing.sh" }, root),
        );
        expect(inNamespace.message).toContain(`(looked in ${path.join(repo, "namespaces", "dev")} and ${repo})`);
        const atRoot = errorOf(() =>
            resolveInfrastructure({ namespace: "staging", workingDirectory: repo, hooks: "missing.sh" }, root),
        );
        expect(atRoot.message).toContain(`(looked in ${repo})`);
    });

    it("rejects a hooks file with CRLF line endings, naming the file and the first such line", () => {
        const crlf = copyFixture(path.join(tempDir(), "crlf"));
        const hooks = path.join(crlf, "namespaces", "dev", "hooks.sh");
        fs.writeFileSync(hooks, "HOOK=$1\ncase $HOOK in\r\n  make-config) embed_config app ;;\r\nesac\r\n");
        const err = errorOf(() => resolveInfrastructure({ namespace: "dev", workingDirectory: crlf }, root));
        expect(err.message).toContain(`${hooks} has Windows (CRLF) line endings, from line 2`);
    });

    it("rejects a hooks file that does not parse, with bash's reason, before anything deploys", () => {
        const broken = copyFixture(path.join(tempDir(), "broken"));
        const hooks = path.join(broken, "namespaces", "dev", "hooks.sh");
        fs.writeFileSync(hooks, 'HOOK=$1\nif [ "$HOOK" = make-config ]; then\n  embed_config app\n');
        const err = errorOf(() => resolveInfrastructure({ namespace: "dev", workingDirectory: broken }, root));
        expect(err.message).toContain(`${hooks} does not parse (\`bash -n\`): `);
        expect(err.message).toMatch(/syntax error/);
    });

    it("lists every problem at once", () => {
        const err = errorOf(() =>
            resolveInfrastructure(
                {
                    namespace: "dev",
                    workingDirectory: repo,
                    hooks: "missing.sh",
                    phases: { install: { selectors: [] }, deploy: true } as never,
                    environment: { KAPTAIN_NAMESPACE: "x", "not valid": "y" },
                },
                root,
            ),
        );
        expect(pulumi.InputPropertiesError.isInstance(err)).toBe(true);
        expect(err.errors!.map(e => e.propertyPath).sort()).toEqual([
            "environment.KAPTAIN_NAMESPACE",
            "environment.not valid",
            "hooks",
            "phases.deploy",
            "phases.install.selectors",
        ]);
    });

    it("rejects a lock wait that is not a whole number of seconds, naming the variable", () => {
        const err = errorOf(() =>
            resolveInfrastructure(
                { namespace: "dev", workingDirectory: repo, environment: { PULUMI_KAPTAIN_LOCK_TIMEOUT: "30m" } },
                root,
            ),
        );
        expect(err.propertyPath).toBe("environment.PULUMI_KAPTAIN_LOCK_TIMEOUT");
        expect(err.message).toContain('must be a whole number of seconds, got "30m"');
        expect(() =>
            resolveInfrastructure(
                { namespace: "dev", workingDirectory: repo, environment: { PULUMI_KAPTAIN_LOCK_TIMEOUT: "3600" } },
                root,
            ),
        ).not.toThrow();
    });

    it("uses the repository's top-level helmfile when the namespace folder has none", () => {
        const bare = copyFixture(path.join(tempDir(), "repo"));
        fs.rmSync(path.join(bare, "namespaces", "dev", "helmfile.yaml"));
        const { layout } = resolveInfrastructure({ namespace: "dev", workingDirectory: bare }, root);
        expect(layout.helmfileFile).toBe("../../helmfile.yaml");
    });

    it("fails when no helmfile can be found", () => {
        const empty = tempDir();
        const err = errorOf(() => resolveInfrastructure({ namespace: "dev", workingDirectory: empty }, root));
        expect(err.message).toContain("holds no helmfile.yaml");
    });

    it("resolves the namespace directory like kaptain: namespaces/<ns> when present, else the repository", () => {
        expect(resolveInfrastructure({ namespace: "dev", workingDirectory: repo }, root).layout).toMatchObject({
            namespaceDirectory: path.join(repo, "namespaces", "dev"),
            namespaceFromWorking: "./namespaces/dev",
            hooksFile: "./hooks.sh",
        });
        expect(resolveInfrastructure({ namespace: "staging", workingDirectory: repo }, root).layout).toMatchObject({
            namespaceDirectory: repo,
            namespaceFromWorking: ".",
            hooksFile: undefined,
        });
    });

    it.each([
        [{ helmfile: { strategy: "upgrade" } }, '`helmfile.strategy` must be one of apply, sync, got "upgrade"'],
        [
            { phases: { install: { strategy: "all" } } },
            '`phases.install.strategy` must be one of apply, sync, got "all"',
        ],
    ])("rejects the strategy of %j, naming the argument", (extra, message) => {
        const err = errorOf(() =>
            resolveInfrastructure({ namespace: "dev", workingDirectory: repo, ...(extra as object) }, root),
        );
        expect(err.message).toContain(message);
    });

    it("defaults to config and install, provision off", () => {
        const { phases } = resolveInfrastructure({ namespace: "dev", workingDirectory: repo }, root);
        expect(phases.map(p => p.name)).toEqual(["config", "install"]);
    });

    it("throws before registering any child", async () => {
        let thrown: unknown;
        const engine = await runProgram(async () => {
            const { Infrastructure } = await import("../../sdk");
            try {
                new Infrastructure("bad", { namespace: "Bad Name", workingDirectory: repo });
            } catch (err) {
                thrown = err;
            }
        });
        expect(pulumi.InputPropertyError.isInstance(thrown)).toBe(true);
        expect(engine.resources.filter(r => r.type === "command:local:Command")).toEqual([]);
    });
});

describe("unknown keys (a typo TypeScript misses in JavaScript, a spread or a cast)", () => {
    const resolve = (extra: object) =>
        resolveInfrastructure({ namespace: "dev", workingDirectory: repo, ...(extra as object) }, root);

    it.each([
        [
            { phases: { install: { stratgy: "sync" } } },
            "phases.install.stratgy",
            "`phases.install.stratgy` is not an option of a phase (did you mean `strategy`?); " +
                "known: strategy, concurrency, syncArgs, selectors",
        ],
        [{ phases: { instal: true } }, "phases.instal", "`phases.instal` is not a phase (did you mean `install`?)"],
        [
            { kubeConfig: "~/.kube/prod" },
            "kubeConfig",
            "`kubeConfig` is not an argument of Infrastructure (did you mean `kubeconfig`?)",
        ],
        [
            { helmfile: { concurency: 2 } },
            "helmfile.concurency",
            "`helmfile.concurency` is not a helmfile option (did you mean `concurrency`?)",
        ],
        [
            { provisionConfigs: { secretfile: "secret.yaml" } },
            "provisionConfigs.secretfile",
            "`provisionConfigs.secretfile` is not an option of provisionConfigs (did you mean `secretFile`?)",
        ],
        [{ dryRun: true }, "dryRun", "`dryRun` is not an argument of Infrastructure; known: namespace, "],
    ])("%j is an error naming the key", (extra, propertyPath, message) => {
        const err = errorOf(() => resolve(extra));
        expect(pulumi.InputPropertyError.isInstance(err)).toBe(true);
        expect(err.propertyPath).toBe(propertyPath);
        expect(err.message).toContain(message);
    });

    it("lets the user's own maps through: environment, secret and configKeys take any key", () => {
        expect(() =>
            resolve({
                environment: { stratgy: "x" },
                provisionConfigs: {
                    allowChartRelease: true,
                    secret: { nmespace: "x" },
                    configKeys: { kubeConfig: "y" },
                },
            }),
        ).not.toThrow();
    });

    it("names an unknown key of ProvisionConfigs", () => {
        const err = errorOf(() =>
            resolveProvisionConfigs({ namespace: "dev", workingDirectory: repo, rcloneConfigfile: "x" } as never, root),
        );
        expect(pulumi.InputPropertyError.isInstance(err)).toBe(true);
        expect(err.message).toContain(
            "`rcloneConfigfile` is not an argument of ProvisionConfigs (did you mean `rcloneConfigFile`?)",
        );
    });

    it("fails a program before it registers anything, as preview and synth run it", async () => {
        let thrown: unknown;
        const engine = await runProgram(async () => {
            const { Infrastructure } = await import("../../sdk");
            try {
                new Infrastructure("typo", {
                    namespace: "dev",
                    workingDirectory: repo,
                    phases: { install: { stratgy: "sync" } },
                } as never);
            } catch (err) {
                thrown = err;
            }
        });
        expect((thrown as Error).message).toContain("`phases.install.stratgy` is not an option of a phase");
        expect(engine.resources.filter(r => r.type === "command:local:Command")).toEqual([]);
    });
});

describe("the namespace Secret's file moved away", () => {
    /** The component-mode repository with secret.yaml moved from the repository root to `to`, or deleted. */
    function withoutSecretYaml(to?: string): string {
        const moved = componentModeRepo();
        if (to !== undefined) {
            fs.renameSync(path.join(moved, "secret.yaml"), path.join(moved, to));
        } else {
            fs.rmSync(path.join(moved, "secret.yaml"));
        }
        return moved;
    }

    it("warns when a look-alike file sits where secret.yaml is looked for, saying what happens to the Secret", () => {
        const moved = withoutSecretYaml("namespaces/dev/secret.yml");
        const { warnings, provisionConfigs } = resolveInfrastructure(
            { namespace: "dev", workingDirectory: moved },
            root,
        );
        expect(provisionConfigs?.secretFile).toBeUndefined();
        expect(warnings).toEqual([
            `namespace 'dev': ${path.join(moved, "namespaces/dev/secret.yaml")} and ${path.join(moved, "secret.yaml")} ` +
                "do not exist (kaptain reads the namespace Secret from that name only), " +
                `but ${path.join(moved, "namespaces/dev/secret.yml")} does. ` +
                "So no namespace Secret is created: one deployed before is deleted by this update. " +
                "Put the file back as secret.yaml, or name it with `provisionConfigs.secretFile`",
        ]);
    });

    it("warns when the other namespaces' folders hold theirs, and ProvisionConfigs would be left out whole", () => {
        const moved = withoutSecretYaml("namespaces/prod/secret.yaml");
        fs.rmSync(path.join(moved, "namespaces/dev/rclone.conf"));
        fs.rmSync(path.join(moved, "configs/provision-configs/values.yaml"));
        const { warnings, provisionConfigs } = resolveInfrastructure(
            { namespace: "dev", workingDirectory: moved },
            root,
        );
        expect(provisionConfigs).toBeUndefined();
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain(
            `while other namespaces have theirs (${path.join(moved, "namespaces/prod/secret.yaml")})`,
        );
        expect(warnings[0]).toContain(
            "a namespace Secret, ConfigMap or rclone-config Secret deployed before is deleted",
        );
    });

    it("says nothing without such evidence, with the chart, or with the objects off", () => {
        const gone = withoutSecretYaml();
        expect(resolveInfrastructure({ namespace: "dev", workingDirectory: gone }, root).warnings).toEqual([]);
        const lookAlike = withoutSecretYaml("secrets.yml");
        expect(
            resolveInfrastructure({ namespace: "dev", workingDirectory: lookAlike, provisionConfigs: false }, root)
                .warnings,
        ).toEqual([]);
        const chart = copyFixture(path.join(tempDir(), "chart"));
        fs.renameSync(path.join(chart, "secret.yaml"), path.join(chart, "secret.yml"));
        expect(resolveInfrastructure({ namespace: "dev", workingDirectory: chart }, root).warnings).toEqual([]);
    });

    it("makes a missing explicit secretFile an error before any phase is registered", async () => {
        let thrown: Error | undefined;
        const engine = await runProgram(async () => {
            const { Infrastructure } = await import("../../sdk");
            try {
                new Infrastructure("geo", {
                    namespace: "dev",
                    workingDirectory: componentModeRepo(),
                    provisionConfigs: { secretFile: "secrets/dev.yaml" },
                });
            } catch (err) {
                thrown = err as Error;
            }
        });
        expect(pulumi.InputPropertyError.isInstance(thrown)).toBe(true);
        expect(thrown!.message).toContain(
            '`provisionConfigs.secretFile` names a file that does not exist: "secrets/dev.yaml"',
        );
        expect(engine.resources.filter(r => r.type !== "kaptain:index:Infrastructure")).toEqual([]);
    });
});

describe("checks on resolved values", () => {
    const ok = {
        binary: "helmfile",
        strategy: "sync" as const,
        selectors: ["action=install"],
        concurrency: 4,
        extraArgs: [],
        syncArgs: [],
    };

    it("accepts sane values", () => {
        expect(invocationProblems("install", ok)).toEqual([]);
    });

    it.each([
        [{ concurrency: -1 }, "concurrency"],
        [{ concurrency: 1.5 }, "concurrency"],
        [{ binary: " " }, "`helmfile.binary` must not be empty"],
        [{ environment: "" }, "`helmfile.environment` must not be empty"],
        [{ environment: "dev\nid >/tmp/pwned #" }, "`helmfile.environment` must not contain a newline"],
        [{ kubeContext: "prod\n" }, "`helmfile.kubeContext` must not contain a newline"],
        [{ extraArgs: ["--debug", "a\rb"] }, "`helmfile.extraArgs[1]` must not contain a newline"],
    ])("rejects %j", (patch, message) => {
        expect(invocationProblems("install", { ...ok, ...patch }).join("\n")).toContain(message);
    });
});
